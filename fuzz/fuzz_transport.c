/* The transport interface end to end, both roles, every pairing the engine
 * meets: V1 to V1, V2 initiator to V2 responder, a V1 initiator to a V2
 * responder (which must detect it and turn V1), and a V2 initiator to a
 * V1-only responder (which must fail, so the initiator's eof asks for a V1
 * retry). The fuzzer picks the pairing, both garbages, who sends which
 * message of which size (up to 300 KB, so large payloads are split across
 * many receives), how the bytes are cut, whether each receive goes through
 * cr_transport_recv or the direct path (recv_direct + recv_commit, as the
 * engine does for large payloads), and when each side trims its buffers.
 *
 * Invariants: no error in a pairing that can talk; every message arrives
 * once, in order, byte-exact, unrejected, with cr_transport_last_wire_len()
 * equal to the bytes its sender put on the wire for it; a receive never
 * consumes more than it was given and always progresses; the direct path
 * hands out at most the bytes the message still needs and commit accepts
 * exactly what was written; a responder sends nothing before it decided and
 * nothing of its own once it turned V1; a V1-only responder refuses a V2
 * key and the V2 initiator's eof then says CR_E_V2_V1FALLBACK. */
#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

enum pairing { V1_V1, V2_V2, V1_TO_V2, V2_TO_V1 };

#define MAX_MSGS 48
#define WIRE_CAP (3u << 20) /* per direction; sends stop before it */
#define PAYLOAD_MAX 300000u

struct side {
	struct cr_transport *t;
	uint8_t *wire;          /* everything sent toward the peer */
	size_t len, done;       /* bytes written, bytes the peer consumed */
	char cmds[MAX_MSGS][13];
	uint32_t sizes[MAX_MSGS];
	uint8_t seeds[MAX_MSGS];
	size_t wire_lens[MAX_MSGS]; /* bytes on the wire for each message */
	int sent, got;          /* messages sent; messages the peer received */
	int err;                /* the peer's receive error */
	bool v1_only;           /* began as a V1 transport */
};

static struct cr_secp *secp;
static _Alignas(16) uint8_t tmem[2][4096];
static struct side sides[2];
/* Payload with seed s is pattern + s: distinct per seed, never refilled. */
static uint8_t *pattern;

static const char *const cmds[] = {"version", "verack", "ping", "pong", "inv", "tx",
				   "addrv2", "sendaddrv2", "cfcheckpt", "abcdefghijkl",
				   "a", "block"};

static void fill(uint8_t *p, uint32_t len, uint8_t seed)
{
	for (uint32_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 7 + (i >> 8));
}

static const uint8_t *payload_of(uint8_t seed)
{
	return pattern + seed;
}

static void put(struct side *s, const uint8_t *p, size_t n)
{
	assert(s->len + n <= WIRE_CAP);
	memcpy(s->wire + s->len, p, n);
	s->len += n;
}

/* The transport's own bytes (key, garbage, terminator, version packet). */
static void flush(struct side *s)
{
	const uint8_t *p;
	size_t n;
	while ((n = cr_transport_pending(s->t, &p)) > 0) {
		/* A responder still detecting, or one that turned V1, has
		 * nothing of its own to say. */
		assert(cr_transport_kind(s->t) == CR_TRANSPORT_V2);
		put(s, p, n);
		cr_transport_pending_sent(s->t, n);
	}
}

static uint32_t pick_len(struct fdp *f)
{
	switch (take(f, 15)) {
	case 0: return 0;
	case 1: case 2: case 3: case 4: case 5: case 6: return take(f, 80);
	case 7: case 8: case 9: case 10: return take(f, 5000);
	case 11: case 12: case 13: case 14: return take(f, 70000);
	default: return take(f, PAYLOAD_MAX);
	}
}

static void send_one(struct side *s, struct fdp *f, bool first_is_version)
{
	bool follows;
	uint32_t len = pick_len(f);
	const char *cmd = cmds[take(f, sizeof(cmds) / sizeof(cmds[0]) - 1)];
	uint8_t seed = (uint8_t)take(f, 255);

	if (!cr_transport_ready(s->t) || s->sent == MAX_MSGS)
		return;
	if (first_is_version && s->sent == 0)
		cmd = "version"; /* what a V1 initiator always sends first */
	size_t room = cr_transport_frame_size(s->t, cmd, len);
	if (s->len + room + len + 64 > WIRE_CAP)
		return;
	flush(s);
	size_t start = s->len;
	const uint8_t *payload = payload_of(seed);
	int n = cr_transport_frame(s->t, s->wire + s->len, WIRE_CAP - s->len, cmd, payload, len,
				   &follows);
	assert(n > 0 && (size_t)n == room);
	s->len += (size_t)n;
	if (follows) {
		assert(cr_transport_kind(s->t) == CR_TRANSPORT_V1 && n == CR_V1_HEADER_SIZE);
		put(s, payload, len);
	}
	s->wire_lens[s->sent] = s->len - start;
	strcpy(s->cmds[s->sent], cmd);
	s->sizes[s->sent] = len;
	s->seeds[s->sent] = seed;
	s->sent++;
}

static void got_message(struct side *from, struct side *to, const struct cr_msg *m)
{
	int i = from->got++;
	assert(i < from->sent);
	assert(m->reject == 0 && strcmp(m->command, from->cmds[i]) == 0);
	assert(m->len == from->sizes[i]);
	assert(m->len == 0 || memcmp(m->payload, payload_of(from->seeds[i]), m->len) == 0);
	assert(cr_transport_last_wire_len(to->t) == from->wire_lens[i]);
}

/* Delivers up to max bytes of from's wire to `to`, through the plain or
 * the direct path as the fuzzer says. Returns false once `to` failed. */
static bool deliver(struct side *from, struct side *to, size_t max, struct fdp *f)
{
	while (max && from->done < from->len && !from->err) {
		size_t avail = from->len - from->done;
		size_t n = avail < max ? avail : max;
		struct cr_msg m;
		size_t dwant;
		uint8_t *dst = cr_transport_recv_direct(to->t, &dwant);
		int r;

		if (dst) {
			assert(dwant > 0 && dwant <= CR_V1_MAX_PAYLOAD + 64);
		} else {
			assert(dwant == 0);
		}
		if (dst && take(f, 1)) {
			size_t k = n < dwant ? n : dwant;
			k = 1 + take(f, (unsigned)(k - 1));
			memcpy(dst, from->wire + from->done, k);
			r = cr_transport_recv_commit(to->t, &m, k);
			if (r >= 0)
				assert((size_t)r == k);
		} else {
			r = cr_transport_recv(to->t, &m, from->wire + from->done, n);
			if (r >= 0)
				assert((size_t)r <= n && (r > 0 || m.command[0]));
		}
		if (r < 0) {
			assert(cr_proto_strerror(r)[0]);
			from->err = r;
			return false;
		}
		from->done += (size_t)r;
		max -= (size_t)r;
		if (m.command[0])
			got_message(from, to, &m);
		flush(to);
	}
	return true;
}

static void init_side(struct side *s, struct fdp *f, bool v1, bool initiator, int k)
{
	static struct cr_v2_entropy ent;

	s->len = s->done = 0;
	s->sent = s->got = s->err = 0;
	s->v1_only = v1;
	s->t = (struct cr_transport *)tmem[k];
	if (v1) {
		assert(cr_transport_init_v1(s->t, cr_chain_get(CR_CHAIN_REGTEST)) == 0);
		return;
	}
	memset(&ent, 0, sizeof(ent));
	memset(ent.seckey, 0x41 + k, 32);
	ent.ell_rnd[0] = (uint8_t)take(f, 255);
	ent.garbage_len = (uint16_t)take(f, CR_V2_GARBAGE_MAX);
	fill(ent.garbage, ent.garbage_len, (uint8_t)(k + 9));
	assert(cr_transport_init_v2(s->t, cr_chain_get(CR_CHAIN_REGTEST), secp, initiator, &ent) == 0);
	if (!initiator)
		assert(cr_transport_kind(s->t) == CR_TRANSPORT_DETECTING && !cr_transport_ready(s->t));
	flush(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fdp f = {data, size};

	if (!secp) {
		uint8_t seed[32] = {3};
		secp = cr_secp_new(seed);
		pattern = malloc(PAYLOAD_MAX + 256);
		sides[0].wire = malloc(WIRE_CAP);
		sides[1].wire = malloc(WIRE_CAP);
		assert(secp && pattern && sides[0].wire && sides[1].wire);
		fill(pattern, PAYLOAD_MAX + 256, 0);
	}
	enum pairing pair = (enum pairing)take(&f, 3);
	/* sides[0] initiates, sides[1] responds. */
	init_side(&sides[0], &f, pair == V1_V1 || pair == V1_TO_V2, true, 0);
	init_side(&sides[1], &f, pair == V1_V1 || pair == V2_TO_V1, false, 1);

	for (int step = 0; step < 120 && f.n; step++) {
		unsigned op = take(&f, 7), k = op & 1;
		switch (op >> 1) {
		case 0:
		case 1:
			/* A V1-only responder facing a V2 key waits for the
			 * initiator's version (as Core does): it sends nothing. */
			if (!(pair == V2_TO_V1 && k == 1))
				send_one(&sides[k], &f, pair == V1_TO_V2 && k == 0);
			break;
		case 2:
			deliver(&sides[k], &sides[!k], 1 + take(&f, 70000), &f);
			break;
		default:
			cr_transport_trim(sides[k].t);
			break;
		}
	}
	for (int round = 0; round < 3; round++) {
		deliver(&sides[0], &sides[1], SIZE_MAX, &f);
		deliver(&sides[1], &sides[0], SIZE_MAX, &f);
	}

	if (pair == V2_TO_V1) {
		/* The V1 decoder sees no magic where the V2 key is: refused as
		 * soon as the header could be read; then the peer's close asks
		 * the initiator to retry with V1. */
		struct side *i = &sides[0];
		if (i->done >= CR_V1_HEADER_SIZE || i->len >= CR_V1_HEADER_SIZE)
			assert(i->err != 0);
		assert(sides[1].sent == 0 && !cr_transport_ready(i->t));
		assert(cr_transport_eof(i->t) == CR_E_V2_V1FALLBACK);
	} else {
		for (int k = 0; k < 2; k++) {
			struct side *s = &sides[k];
			if (s->err)
				fprintf(stderr, "side %d: unexpected error %s\n", k, cr_proto_strerror(s->err));
			assert(s->err == 0 && s->got == s->sent && s->done == s->len);
		}
		if (pair == V1_TO_V2 && sides[0].len >= CR_V2_V1_PREFIX_LEN)
			assert(cr_transport_kind(sides[1].t) == CR_TRANSPORT_V1);
		if (pair == V2_V2) {
			assert(cr_transport_kind(sides[1].t) == CR_TRANSPORT_V2);
			const uint8_t *a = cr_transport_session_id(sides[0].t);
			const uint8_t *b = cr_transport_session_id(sides[1].t);
			/* Everything was delivered both ways: both hold keys. */
			assert(a && b && memcmp(a, b, 32) == 0);
			assert(cr_transport_eof(sides[0].t) == 0);
		}
	}
	cr_transport_clear(sides[0].t);
	cr_transport_clear(sides[1].t);
	return 0;
}
