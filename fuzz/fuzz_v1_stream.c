/* libFuzzer target: the V1 decoder on arbitrary bytes in arbitrary chunks.
 *
 * Input: one configuration byte (chunking class, whether payloads go
 * through the direct-receive path, a small or the default payload limit),
 * then the stream. Invariants checked, beyond "no crash, no over-read":
 *  - every message yielded lies at the stream position it claims, and an
 *    accepted one re-encodes (cr_v1_encode_header) to exactly its bytes;
 *  - a rejected one has a wrong checksum or an invalid command, as stated;
 *  - feeding in chunks (and through decode_direct) yields exactly what one
 *    big buffer yields, and ends in the same fatal error if any. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/chain.h"
#include "proto/crypto.h"
#include "proto/err.h"
#include "proto/v1.h"

struct seen {
	size_t end;
	int reject;
	uint32_t len;
	char command[CR_COMMAND_MAX + 1];
};

struct run {
	struct seen *msgs;
	size_t n, cap;
	int err;
};

static void check_msg(const struct cr_msg *m, const uint8_t *stream, size_t end, const uint8_t *magic)
{
	size_t total = CR_V1_HEADER_SIZE + (size_t)m->len;
	if (end < total)
		abort();
	const uint8_t *hdr = stream + end - total;
	if (memcmp(m->payload, hdr + CR_V1_HEADER_SIZE, m->len) != 0)
		abort();
	uint8_t again[CR_V1_HEADER_SIZE], hash[32];
	cr_sha256d(hash, m->payload, m->len);
	bool sum_ok = memcmp(hash, hdr + 20, 4) == 0;
	bool cmd_ok = cr_v1_command_valid((const char *)hdr + 4);
	if (m->reject == 0) {
		if (!sum_ok || !cmd_ok)
			abort();
		cr_v1_encode_header(again, magic, m->command, m->payload, m->len);
		if (memcmp(again, hdr, CR_V1_HEADER_SIZE) != 0)
			abort();
	} else if (m->reject == CR_E_V1_CHECKSUM) {
		if (sum_ok)
			abort();
	} else if (m->reject == CR_E_V1_COMMAND) {
		if (!sum_ok || cmd_ok)
			abort();
	} else {
		abort();
	}
	if (m->command[0] == '\0' || strlen(m->command) > CR_COMMAND_MAX)
		abort();
}

static void record(struct run *r, const struct cr_msg *m, size_t end)
{
	if (r->n == r->cap)
		abort(); /* each message takes >= 24 bytes: cap cannot be hit */
	struct seen *s = &r->msgs[r->n++];
	s->end = end;
	s->reject = m->reject;
	s->len = m->len;
	/* Only up to the NUL: bytes after it are unspecified. */
	size_t cl = strnlen(m->command, CR_COMMAND_MAX);
	memset(s->command, 0, sizeof(s->command));
	memcpy(s->command, m->command, cl);
}

/* xorshift, seeded from the input, for chunk sizes. */
static uint64_t next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void feed(struct run *r, const uint8_t *in, size_t len, size_t max_chunk, bool direct,
		 uint32_t max_payload, uint64_t rng, const uint8_t *magic)
{
	struct cr_v1_decoder d;
	struct cr_msg m;
	size_t pos = 0;

	cr_v1_decoder_init(&d, magic, max_payload);
	while (pos < len) {
		size_t chunk = max_chunk ? 1 + next(&rng) % max_chunk : len - pos, want;
		if (chunk > len - pos)
			chunk = len - pos;
		uint8_t *p = direct && (next(&rng) & 1) ? cr_v1_decode_direct(&d, &want) : NULL;
		int n;
		if (p) {
			if (chunk > want)
				chunk = want;
			memcpy(p, in + pos, chunk);
			n = cr_v1_decode_commit(&d, &m, chunk);
		} else {
			/* Copy the chunk so the decoder cannot read past it
			 * unnoticed (ASan sees the exact allocation). */
			uint8_t *c = malloc(chunk);
			memcpy(c, in + pos, chunk);
			n = cr_v1_decode(&d, &m, c, chunk);
			if (n > 0) {
				pos += (size_t)n;
				if (m.command[0]) {
					check_msg(&m, in, pos, magic);
					record(r, &m, pos);
				}
			}
			free(c);
			if (n < 0)
				r->err = n;
			if (n <= 0)
				break;
			continue;
		}
		if (n < 0) {
			r->err = n;
			break;
		}
		if (n == 0)
			abort(); /* no progress with bytes available */
		pos += (size_t)n;
		if (m.command[0]) {
			check_msg(&m, in, pos, magic);
			record(r, &m, pos);
		}
	}
	if (!r->err && pos != len)
		abort();
	cr_v1_decoder_clear(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t chunks[8] = {1, 2, 7, 23, 25, 100, 1000, 65536};
	const uint8_t *magic = cr_chain_get(CR_CHAIN_MAIN)->magic;

	if (size < 1)
		return 0;
	uint8_t cfg = data[0];
	const uint8_t *in = data + 1;
	size_t len = size - 1;
	uint32_t max_payload = cfg & 0x10 ? 100 : 0;
	uint64_t rng = 0x9e3779b97f4a7c15ull ^ size;
	for (size_t i = 0; i < len && i < 32; i++)
		rng = (rng ^ in[i]) * 0x100000001b3ull;
	if (!rng)
		rng = 1;

	size_t cap = len / CR_V1_HEADER_SIZE + 1;
	struct run whole = {.msgs = calloc(cap, sizeof(struct seen)), .cap = cap};
	struct run part = {.msgs = calloc(cap, sizeof(struct seen)), .cap = cap};
	feed(&whole, in, len, 0, false, max_payload, rng, magic);
	feed(&part, in, len, chunks[cfg & 7], cfg & 8, max_payload, rng, magic);
	if (whole.n != part.n || whole.err != part.err ||
	    memcmp(whole.msgs, part.msgs, whole.n * sizeof(struct seen)) != 0)
		abort();
	free(whole.msgs);
	free(part.msgs);
	return 0;
}
