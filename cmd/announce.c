/* connringd's chain signals from announcements (see announce.h). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <connring/connring.h>

#include "addr/bloom.h"
#include "cmd/announce.h"
#include "proto/crypto.h"
#include "proto/wire.h"

#define INV_MAX 50000      /* MAX_INV_SZ */
#define HEADERS_MAX 2000   /* MAX_HEADERS_RESULTS */
#define MSG_TX 1u
#define MSG_BLOCK 2u
#define MSG_CMPCT_BLOCK 4u
#define MSG_WTX 5u
#define MSG_WITNESS_FLAG (1u << 30)

struct cr_announce {
	pthread_mutex_t mu;
	struct cr_bloom *blocks, *txs;
};

struct cr_announce *cr_announce_new(uint32_t tweak)
{
	struct cr_announce *a = calloc(1, sizeof *a);
	if (!a)
		return NULL;
	pthread_mutex_init(&a->mu, NULL);
	a->blocks = cr_bloom_new(8192, 0.000001, tweak);
	a->txs = cr_bloom_new(100000, 0.000001, tweak ^ 0x5a5a5a5au);
	if (!a->blocks || !a->txs) {
		cr_announce_free(a);
		return NULL;
	}
	return a;
}

void cr_announce_free(struct cr_announce *a)
{
	if (!a)
		return;
	cr_bloom_free(a->blocks);
	cr_bloom_free(a->txs);
	pthread_mutex_destroy(&a->mu);
	free(a);
}

/* Caller holds the mutex. True when hash was new (and is remembered now). */
static bool first_seen(struct cr_bloom *b, const uint8_t hash[32])
{
	if (cr_bloom_contains(b, hash, 32))
		return false;
	cr_bloom_insert(b, hash, 32);
	return true;
}

static unsigned on_inv(struct cr_announce *a, const uint8_t *p, size_t len)
{
	struct cr_reader r;
	cr_reader_init(&r, p, len);
	uint64_t n = cr_read_compact(&r, true);
	if (r.err || n > INV_MAX)
		return 0;
	unsigned got = 0;
	pthread_mutex_lock(&a->mu);
	for (uint64_t i = 0; i < n; i++) {
		uint32_t type = cr_read_u32le(&r) & ~MSG_WITNESS_FLAG;
		uint8_t hash[32];
		cr_read_hash(&r, hash);
		if (r.err)
			break;
		if ((type == MSG_BLOCK || type == MSG_CMPCT_BLOCK) && first_seen(a->blocks, hash))
			got |= CR_ANNOUNCE_BLOCK;
		else if ((type == MSG_TX || type == MSG_WTX) && first_seen(a->txs, hash))
			got |= CR_ANNOUNCE_TX;
	}
	pthread_mutex_unlock(&a->mu);
	return got;
}

/* headers: count, then per header 80 bytes and a transaction count (0). */
static unsigned on_headers(struct cr_announce *a, const uint8_t *p, size_t len)
{
	struct cr_reader r;
	cr_reader_init(&r, p, len);
	uint64_t n = cr_read_compact(&r, true);
	if (r.err || n > HEADERS_MAX)
		return 0;
	unsigned got = 0;
	for (uint64_t i = 0; i < n; i++) {
		const uint8_t *h = cr_read_view(&r, 80);
		cr_read_compact(&r, true);
		if (r.err)
			break;
		uint8_t hash[32];
		cr_sha256d(hash, h, 80);
		pthread_mutex_lock(&a->mu);
		if (first_seen(a->blocks, hash))
			got |= CR_ANNOUNCE_BLOCK;
		pthread_mutex_unlock(&a->mu);
	}
	return got;
}

unsigned cr_announce_message(struct cr_announce *a, const char *command, const uint8_t *payload,
			     size_t len)
{
	if (strcmp(command, "inv") == 0)
		return on_inv(a, payload, len);
	if (strcmp(command, "headers") == 0)
		return on_headers(a, payload, len);
	if (strcmp(command, "cmpctblock") == 0 && len >= 80) {
		/* BIP152: the block header comes first */
		uint8_t hash[32];
		cr_sha256d(hash, payload, 80);
		pthread_mutex_lock(&a->mu);
		bool fresh = first_seen(a->blocks, hash);
		pthread_mutex_unlock(&a->mu);
		return fresh ? CR_ANNOUNCE_BLOCK : 0;
	}
	return 0;
}
