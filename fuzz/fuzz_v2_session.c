/* Two V2 endpoints (initiator and responder) driven by the fuzzer, after
 * Bitcoin Core's p2p_transport_bidirectional_v2: the fuzzer picks both
 * garbages, which side sends what (messages with short or long commands,
 * payload sizes, decoys), how the bytes are cut into chunks, and optionally
 * one bit to flip in flight. Invariants: without a flip every message
 * arrives once, in order, byte-exact, and nothing fails; with a flip, no
 * message whose packet held the flipped bit is ever yielded, messages
 * before it still arrive intact, and a receiver that has consumed the
 * whole corrupted packet has failed with a reason (when only one direction
 * was corrupted: a flipped key bit in the other direction leaves this
 * receiver searching for a terminator instead). */
#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/bip324.h"
#include "proto/err.h"
#include "proto/transport.h"
#include "proto/v2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fdp {
	const uint8_t *p;
	size_t n;
};

static unsigned take(struct fdp *f, unsigned max) /* 0..max */
{
	unsigned v = 0;
	for (unsigned m = max; m; m >>= 8) {
		v = v << 8 | (f->n ? *f->p : 0);
		if (f->n) {
			f->p++;
			f->n--;
		}
	}
	return max ? v % (max + 1) : 0;
}

#define MAX_MSGS 64
#define WIRE_MAX (2 * (4200 + MAX_MSGS * (3000 + 40)))

struct side {
	struct cr_transport *t;
	uint8_t wire[WIRE_MAX]; /* everything sent toward the peer */
	size_t len, done;       /* bytes written, bytes the peer consumed */
	size_t ends[MAX_MSGS];  /* wire offset where each message's packet ends */
	size_t pk_start[2 * MAX_MSGS], pk_end[2 * MAX_MSGS]; /* every packet framed */
	int packets, decoys;
	char cmds[MAX_MSGS][13];
	uint32_t sizes[MAX_MSGS];
	uint8_t seeds[MAX_MSGS];
	int sent, got;          /* messages sent; messages the peer received */
	size_t flip;            /* offset of the flipped byte, or SIZE_MAX */
	size_t flip_end;        /* end of the packet holding it, or SIZE_MAX */
	int err;                /* the peer's receive error */
};

static struct cr_secp *secp;
static _Alignas(16) uint8_t tmem[2][4096];
static struct side sides[2];
static uint8_t payload[3000];

static const char *const cmds[] = {"inv", "tx", "ping", "version", "verack", "addrv2",
				   "sendaddrv2", "cfcheckpt", "abcdefghijkl", "a"};

static void fill(uint8_t *p, uint32_t len, uint8_t seed)
{
	for (uint32_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

static void flush(struct side *s)
{
	const uint8_t *p;
	size_t n;
	while ((n = cr_transport_pending(s->t, &p)) > 0) {
		assert(s->len + n <= WIRE_MAX);
		memcpy(s->wire + s->len, p, n);
		s->len += n;
		cr_transport_pending_sent(s->t, n);
	}
}

static void send_one(struct side *s, struct fdp *f, bool decoy)
{
	uint32_t len = take(f, sizeof(payload) - 1);
	bool follows;
	int n;

	if (!cr_transport_ready(s->t) || s->sent == MAX_MSGS || s->flip != SIZE_MAX)
		return;
	flush(s);
	s->pk_start[s->packets] = s->len;
	if (decoy) {
		if (s->decoys == MAX_MSGS)
			return;
		n = cr_transport_frame_decoy(s->t, s->wire + s->len, WIRE_MAX - s->len, len);
		assert(n == (int)(len + CR_BIP324_OVERHEAD));
		s->len += (size_t)n;
		s->pk_end[s->packets++] = s->len;
		s->decoys++;
		return;
	}
	const char *cmd = cmds[take(f, sizeof(cmds) / sizeof(cmds[0]) - 1)];
	uint8_t seed = (uint8_t)take(f, 255);
	fill(payload, len, seed);
	n = cr_transport_frame(s->t, s->wire + s->len, WIRE_MAX - s->len, cmd, payload, len,
			       &follows);
	assert(n > 0 && !follows && (size_t)n == cr_transport_frame_size(s->t, cmd, len));
	s->len += (size_t)n;
	s->pk_end[s->packets++] = s->len;
	s->ends[s->sent] = s->len;
	strcpy(s->cmds[s->sent], cmd);
	s->sizes[s->sent] = len;
	s->seeds[s->sent] = seed;
	s->sent++;
}

/* Delivers up to max bytes of from's wire to `to`. */
static void deliver(struct side *from, struct side *to, size_t max)
{
	static uint8_t want[sizeof(payload)];
	while (max && from->done < from->len && !from->err) {
		size_t n = from->len - from->done < max ? from->len - from->done : max;
		struct cr_msg m;
		int r = cr_transport_recv(to->t, &m, from->wire + from->done, n);
		if (r < 0) {
			/* Only corruption fails, and a flip in one direction's
			 * handshake (a key) breaks the other direction too. */
			bool flipped = sides[0].flip != SIZE_MAX || sides[1].flip != SIZE_MAX;
			if (!flipped)
				fprintf(stderr, "unexpected error %d: %s\n", r, cr_proto_strerror(r));
			assert(flipped);
			assert(cr_proto_strerror(r)[0]);
			from->err = r;
			return;
		}
		assert((size_t)r <= n && (r > 0 || m.command[0]));
		from->done += (size_t)r;
		max -= (size_t)r;
		if (m.command[0]) {
			int i = from->got++;
			assert(i < from->sent);
			/* Never a message whose packet held the flipped bit. */
			assert(from->ends[i] <= from->flip);
			assert(m.reject == 0 && strcmp(m.command, from->cmds[i]) == 0);
			assert(m.len == from->sizes[i]);
			fill(want, m.len, from->seeds[i]);
			assert(memcmp(m.payload, want, m.len) == 0);
		}
		flush(to);
	}
}

/* Flips one bit of what from has sent but the peer has not yet read. */
static void flip_bit(struct side *s, struct fdp *f)
{
	if (s->flip != SIZE_MAX || s->done == s->len)
		return;
	size_t at = s->done + take(f, (unsigned)(s->len - s->done - 1));
	s->wire[at] ^= (uint8_t)(1u << take(f, 7));
	s->flip = at;
	s->flip_end = SIZE_MAX;
	/* A flip past the length bytes of an application packet must fail
	 * that packet by its end; a flipped length may instead make the
	 * receiver wait, and a flip in the handshake may need 4111 bytes of
	 * search before it shows: those only must not yield anything. */
	for (int i = 0; i < s->packets; i++)
		if (at >= s->pk_start[i] + CR_BIP324_LENGTH_LEN && at < s->pk_end[i])
			s->flip_end = s->pk_end[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fdp f = {data, size};
	struct cr_v2_entropy ent;

	if (!secp) {
		uint8_t seed[32] = {2};
		secp = cr_secp_new(seed);
	}
	for (int k = 0; k < 2; k++) {
		struct side *s = &sides[k];
		memset(s, 0, offsetof(struct side, wire));
		s->len = s->done = 0;
		s->sent = s->got = s->err = s->packets = s->decoys = 0;
		s->flip = s->flip_end = SIZE_MAX;
		s->t = (struct cr_transport *)tmem[k];
		memset(&ent, 0, sizeof(ent));
		memset(ent.seckey, 0x31 + k, 32);
		ent.ell_rnd[0] = (uint8_t)take(&f, 255);
		ent.garbage_len = (uint16_t)take(&f, CR_V2_GARBAGE_MAX);
		fill(ent.garbage, ent.garbage_len, (uint8_t)k);
		assert(cr_transport_init_v2(s->t, cr_chain_get(CR_CHAIN_MAIN), secp, k == 0, &ent) == 0);
		flush(s);
	}
	for (int step = 0; step < 200 && f.n; step++) {
		unsigned op = take(&f, 7), k = op & 1;
		switch (op >> 1) {
		case 0:
			send_one(&sides[k], &f, false);
			break;
		case 1:
			send_one(&sides[k], &f, take(&f, 3) == 0);
			break;
		case 2:
			deliver(&sides[k], &sides[!k], 1 + take(&f, 5000));
			break;
		default:
			if (take(&f, 15) == 0)
				flip_bit(&sides[k], &f);
			else
				cr_transport_trim(sides[k].t);
			break;
		}
	}
	for (int round = 0; round < 4; round++) {
		deliver(&sides[0], &sides[1], SIZE_MAX);
		deliver(&sides[1], &sides[0], SIZE_MAX);
	}
	bool flipped = sides[0].flip != SIZE_MAX || sides[1].flip != SIZE_MAX;
	for (int k = 0; k < 2; k++) {
		struct side *s = &sides[k];
		if (!flipped) {
			assert(s->err == 0 && s->got == s->sent && s->done == s->len);
		} else if (sides[!k].flip == SIZE_MAX && s->flip_end != SIZE_MAX &&
			   s->done >= s->flip_end) {
			/* (A flip in the other direction's key changes the shared
			 * secret: then this direction's receiver may still be
			 * searching for a terminator it will never see.) */
			assert(s->err != 0);
		}
		cr_transport_clear(s->t);
	}
	return 0;
}
