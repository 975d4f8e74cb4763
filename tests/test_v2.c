/* The V2 session and the transport interface: two in-memory endpoints
 * (initiator and responder) doing real handshakes (ellswift, ECDH, HKDF)
 * with random garbage and random chunking, then thousands of messages of
 * random sizes across many rekey epochs with decoys mixed in; tampering
 * with any bit; V1 detection at a V2 responder; wrong-network magic;
 * garbage of 0 and 4095 bytes; a missing terminator (n-1 / n); the packet
 * length limit (n / n+1); the initiator's V1 fallback; messages Core drops.
 * Random: prints its seed, accepts --seed N. CR_SANITIZE=1 runs fewer
 * messages (still across several rekeys). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "proto/bip324.h"
#include "proto/err.h"
#include "proto/transport.h"
#include "proto/v2.h"
#include "proto/v2_internal.h"
#include "tests/check.h"

static uint64_t rng;
static struct cr_secp *secp;
static const struct cr_chain *mainnet;

static uint32_t rnd(uint32_t n) /* 0 .. n-1 */
{
	return n ? (uint32_t)(check_rand(&rng) % n) : 0;
}

static void rnd_bytes(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)check_rand(&rng);
}

static void entropy(struct cr_v2_entropy *e, int garbage_len)
{
	rnd_bytes(e->seckey, 32);
	rnd_bytes(e->ell_rnd, 32);
	e->garbage_len = (uint16_t)(garbage_len >= 0 ? garbage_len : (int)rnd(CR_V2_GARBAGE_MAX + 1));
	rnd_bytes(e->garbage, e->garbage_len);
}

/* ---- a byte stream and an endpoint that checks what arrives in order ---- */

struct stream {
	uint8_t *p;
	size_t off, len, cap;
};

static uint8_t *stream_room(struct stream *s, size_t n)
{
	if (s->len + n > s->cap) {
		s->cap = (s->len + n) * 2;
		s->p = realloc(s->p, s->cap);
	}
	return s->p + s->len;
}

static void stream_put(struct stream *s, const void *p, size_t n)
{
	memcpy(stream_room(s, n), p, n);
	s->len += n;
}

struct expect {
	char cmd[13];
	uint8_t *payload;
	uint32_t len;
};

struct end {
	struct cr_transport *t;
	struct stream wire;   /* bytes toward the peer, not yet delivered */
	struct expect *q;     /* messages sent, not yet received by the peer */
	size_t q_head, q_len, q_cap;
	long received;        /* messages this end received and verified */
	int err;              /* first error from recv */
};

static void end_init_v2(struct end *e, bool initiator, int garbage_len)
{
	struct cr_v2_entropy ent;
	memset(e, 0, sizeof(*e));
	e->t = malloc(cr_transport_size());
	entropy(&ent, garbage_len);
	CHECK_EQ(cr_transport_init_v2(e->t, mainnet, secp, initiator, &ent), 0);
}

static void end_free(struct end *e)
{
	cr_transport_clear(e->t);
	free(e->t);
	for (size_t i = e->q_head; i < e->q_len; i++)
		free(e->q[i].payload);
	free(e->q);
	free(e->wire.p);
}

/* Moves handshake bytes to the wire, in random partial sends. */
static void flush_pending(struct end *e)
{
	const uint8_t *p;
	size_t n;
	while ((n = cr_transport_pending(e->t, &p)) > 0) {
		size_t k = 1 + rnd((uint32_t)n);
		stream_put(&e->wire, p, k);
		cr_transport_pending_sent(e->t, k);
	}
}

static void send_msg(struct end *e, const char *cmd, const uint8_t *payload, uint32_t len)
{
	size_t cap = cr_transport_frame_size(e->t, cmd, len);
	bool follows;
	int n;

	flush_pending(e);
	n = cr_transport_frame(e->t, stream_room(&e->wire, cap), cap, cmd, payload, len, &follows);
	CHECK(n > 0);
	if (n <= 0)
		return;
	e->wire.len += (size_t)n;
	if (follows)
		stream_put(&e->wire, payload, len);
	if (e->q_len == e->q_cap) {
		e->q_cap = e->q_cap ? e->q_cap * 2 : 64;
		e->q = realloc(e->q, e->q_cap * sizeof(*e->q));
	}
	struct expect *x = &e->q[e->q_len++];
	snprintf(x->cmd, sizeof(x->cmd), "%s", cmd);
	x->payload = malloc(len ? len : 1);
	memcpy(x->payload, payload, len);
	x->len = len;
}

static void send_decoy(struct end *e, uint32_t len)
{
	size_t cap = len + CR_BIP324_OVERHEAD;
	int n;
	flush_pending(e);
	n = cr_transport_frame_decoy(e->t, stream_room(&e->wire, cap), cap, len);
	CHECK_EQ(n, (long)cap);
	if (n > 0)
		e->wire.len += (size_t)n;
}

static void verify(struct end *from, struct end *to, const struct cr_msg *m)
{
	CHECK(from->q_head < from->q_len);
	if (from->q_head >= from->q_len)
		return;
	struct expect *x = &from->q[from->q_head++];
	CHECK_EQ(m->reject, 0);
	CHECK(strcmp(m->command, x->cmd) == 0);
	CHECK_EQ(m->len, x->len);
	if (m->len == x->len)
		CHECK_MEM(m->payload, x->payload, x->len);
	free(x->payload);
	x->payload = NULL;
	to->received++;
}

/* Delivers up to max bytes of from's wire to `to` in random chunks. */
static int deliver(struct end *from, struct end *to, size_t max)
{
	struct stream *w = &from->wire;
	size_t avail = w->len - w->off;
	if (max > avail)
		max = avail;
	while (max && !to->err) {
		size_t chunk = rnd(4) == 0 ? max : 1 + rnd((uint32_t)(max < 3000 ? max : 3000));
		const uint8_t *p = w->p + w->off;
		size_t left = chunk;
		while (left) {
			struct cr_msg m;
			int n = cr_transport_recv(to->t, &m, p, left);
			if (n < 0) {
				to->err = n;
				return n;
			}
			if (m.command[0])
				verify(from, to, &m);
			CHECK(n > 0 || m.command[0]);
			p += n;
			left -= (size_t)n;
		}
		w->off += chunk;
		max -= chunk;
		if (w->off == w->len)
			w->off = w->len = 0; /* all delivered: reuse from the start */
		flush_pending(to); /* answers may appear after any recv */
	}
	return to->err;
}

static int exchange_all(struct end *a, struct end *b)
{
	for (int round = 0; round < 8; round++) {
		flush_pending(a);
		flush_pending(b);
		if (deliver(a, b, SIZE_MAX) || deliver(b, a, SIZE_MAX))
			return a->err ? a->err : b->err;
	}
	return 0;
}

static bool handshake(struct end *i, struct end *r, int gi, int gr)
{
	end_init_v2(i, true, gi);
	end_init_v2(r, false, gr);
	CHECK_EQ(cr_transport_kind(r->t), CR_TRANSPORT_DETECTING);
	CHECK_EQ(exchange_all(i, r), 0);
	CHECK(cr_transport_ready(i->t) && cr_transport_ready(r->t));
	CHECK_EQ(cr_transport_kind(i->t), CR_TRANSPORT_V2);
	CHECK_EQ(cr_transport_kind(r->t), CR_TRANSPORT_V2);
	const uint8_t *si = cr_transport_session_id(i->t), *sr = cr_transport_session_id(r->t);
	CHECK(si && sr);
	if (!si || !sr)
		return false;
	CHECK_MEM(si, sr, 32);
	return cr_transport_ready(i->t) && cr_transport_ready(r->t);
}

static const char *const commands[] = {
	"inv", "tx", "ping", "pong", "headers", "getdata", "addrv2", "cmpctblock",
	"version", "verack", "sendaddrv2", "wtxidrelay", "getaddr", "x", "abcdefghijkl",
};

static uint32_t random_size(void)
{
	switch (rnd(20)) {
	case 0:
		return rnd(200000);
	case 1:
		return rnd(64) == 0 ? 1000000 + rnd(100000) : rnd(20000);
	default:
		return rnd(600);
	}
}

/* The main exercise: random garbage, chunking, sizes, decoys, both ways. */
static void test_session_many_messages(void)
{
	bool quick = getenv("CR_SANITIZE") != NULL;
	long total = quick ? 2400 : 12000;
	struct end a, b;
	uint8_t *payload = malloc(1200000);
	long sent_ab = 0, sent_ba = 0;

	if (!handshake(&a, &b, -1, -1))
		goto out;
	for (long k = 0; k < total; k++) {
		bool ab = rnd(2);
		struct end *from = ab ? &a : &b, *to = ab ? &b : &a;
		if (rnd(10) == 0)
			send_decoy(from, rnd(5) == 0 ? rnd(5000) : rnd(40));
		uint32_t len = random_size();
		rnd_bytes(payload, len < 64 ? len : 64);
		payload[len / 2] = (uint8_t)k;
		send_msg(from, commands[rnd(sizeof(commands) / sizeof(commands[0]))], payload, len);
		*(ab ? &sent_ab : &sent_ba) += 1;
		if (rnd(3) == 0 && deliver(from, to, rnd(200000)))
			break;
	}
	CHECK_EQ(exchange_all(&a, &b), 0);
	CHECK_EQ(b.received, sent_ab);
	CHECK_EQ(a.received, sent_ba);
	CHECK_EQ(a.q_head, a.q_len);
	CHECK_EQ(b.q_head, b.q_len);
	/* Every direction went through several rekey epochs. */
	CHECK(sent_ab > 3 * CR_BIP324_REKEY_INTERVAL && sent_ba > 3 * CR_BIP324_REKEY_INTERVAL);
	printf("  %ld + %ld messages\n", sent_ab, sent_ba);
out:
	end_free(&a);
	end_free(&b);
	free(payload);
}

/* One byte at a time, both ways, from the first byte. */
static void bytewise_all(struct end *a, struct end *b)
{
	flush_pending(a);
	flush_pending(b);
	while (a->wire.len > a->wire.off || b->wire.len > b->wire.off) {
		if (deliver(a, b, 1) || deliver(b, a, 1))
			return;
	}
}

static void test_session_bytewise(void)
{
	struct end a, b;
	uint8_t payload[300];

	end_init_v2(&a, true, 17);
	end_init_v2(&b, false, 1);
	bytewise_all(&a, &b);
	CHECK(cr_transport_ready(a.t) && cr_transport_ready(b.t));
	CHECK(!a.err && !b.err);
	if (cr_transport_ready(a.t) && cr_transport_ready(b.t)) {
		for (int round = 0; round < 4; round++) {
			rnd_bytes(payload, sizeof(payload));
			send_msg(&a, "ping", payload, 8);
			send_msg(&b, "version", payload, sizeof(payload));
			send_decoy(&b, 3);
			send_msg(&b, "verack", payload, 0);
		}
		bytewise_all(&a, &b);
	}
	CHECK_EQ(b.received, 4);
	CHECK_EQ(a.received, 8);
	end_free(&a);
	end_free(&b);
}

static void test_garbage_extremes(void)
{
	static const int sizes[][2] = {{0, 0}, {CR_V2_GARBAGE_MAX, CR_V2_GARBAGE_MAX},
				       {0, CR_V2_GARBAGE_MAX}, {CR_V2_GARBAGE_MAX, 0}};
	for (size_t k = 0; k < 4; k++) {
		struct end a, b;
		uint8_t p[40] = {1};
		if (handshake(&a, &b, sizes[k][0], sizes[k][1])) {
			send_msg(&a, "tx", p, sizeof(p));
			send_msg(&b, "block", p, 1);
			CHECK_EQ(exchange_all(&a, &b), 0);
			CHECK_EQ(a.received + b.received, 2);
		}
		end_free(&a);
		end_free(&b);
	}
}

/* ---- tampering ---- */

/* Flips one bit of what `from` sent after the handshake (a packet) and
 * checks the receiver fails with a reason. Filler makes a grown length
 * complete, so every flip must end in an error. */
static void tamper_packet(size_t bit, int *errs, int *cases)
{
	struct end a, b;
	uint8_t payload[20];

	memset(payload, 0x33, sizeof(payload));
	if (!handshake(&a, &b, (int)rnd(100), (int)rnd(100)))
		goto out;
	size_t start = a.wire.len;
	send_msg(&a, "inv", payload, sizeof(payload)); /* 3 + 1 + 1 + 20 + 16 bytes */
	size_t n = a.wire.len - start;
	CHECK(bit < n * 8);
	a.wire.p[start + bit / 8] ^= (uint8_t)(1u << (bit % 8));
	while (a.q_len > a.q_head) /* nothing is expected to arrive */
		free(a.q[--a.q_len].payload);
	static uint8_t zeros[CR_V2_MAX_CONTENTS + 64];
	stream_put(&a.wire, zeros, sizeof(zeros));
	deliver(&a, &b, SIZE_MAX);
	(*cases)++;
	if (b.err == CR_E_V2_AUTH || b.err == CR_E_V2_LENGTH)
		(*errs)++;
	else
		fprintf(stderr, "bit %zu: err %d\n", bit, b.err);
	CHECK(strlen(cr_proto_strerror(b.err)) > 0);
out:
	end_free(&a);
	end_free(&b);
}

static void test_tamper_packet_bits(void)
{
	int errs = 0, cases = 0;
	size_t bits = (3 + 1 + 1 + 20 + 16) * 8;
	for (size_t bit = 0; bit < bits; bit++)
		tamper_packet(bit, &errs, &cases);
	CHECK_EQ(errs, cases);
	CHECK_EQ(cases, (long)bits);
}

/* Flipping any bit of the initiator's garbage (the responder's AAD) makes
 * the version packet fail; a flipped terminator is never found. */
static void test_tamper_garbage(void)
{
	int auth = 0, noterm = 0, cases = 0;
	const int glen = 24;

	for (int bit = 0; bit < (glen + CR_BIP324_TERM_LEN) * 8; bit++) {
		struct end a, b;

		end_init_v2(&a, true, glen);
		end_init_v2(&b, false, 5);
		flush_pending(&a);
		/* a.wire holds key(64) || garbage(glen): flip a garbage bit or,
		 * past it, a terminator bit once it is queued. */
		if (bit < glen * 8)
			a.wire.p[64 + bit / 8] ^= (uint8_t)(1u << (bit % 8));
		deliver(&a, &b, SIZE_MAX);
		flush_pending(&b);
		/* a queues its terminator when b's key arrives, right here. */
		size_t term_at = a.wire.len;
		deliver(&b, &a, SIZE_MAX);
		flush_pending(&a);
		if (bit >= glen * 8) {
			int tb = bit - glen * 8;
			a.wire.p[term_at + tb / 8] ^= (uint8_t)(1u << (tb % 8));
			/* Filler so the search runs out of its 4095 + 16 bytes. */
			uint8_t fill[CR_V2_GARBAGE_SEARCH];
			memset(fill, 0x5c, sizeof(fill));
			stream_put(&a.wire, fill, sizeof(fill));
		}
		deliver(&a, &b, SIZE_MAX);
		cases++;
		auth += b.err == CR_E_V2_AUTH;
		noterm += b.err == CR_E_V2_NOTERM;
		end_free(&a);
		end_free(&b);
	}
	CHECK_EQ(auth, glen * 8);
	CHECK_EQ(noterm, CR_BIP324_TERM_LEN * 8);
	CHECK_EQ(auth + noterm, cases);
}

/* A flipped key bit gives another shared secret: no terminator is found. */
static void test_tamper_key(void)
{
	struct end a, b;
	uint8_t fill[CR_V2_GARBAGE_SEARCH];

	end_init_v2(&a, true, 10);
	end_init_v2(&b, false, 10);
	flush_pending(&a);
	a.wire.p[20] ^= 0x10;
	deliver(&a, &b, SIZE_MAX);
	flush_pending(&b);
	deliver(&b, &a, SIZE_MAX);
	flush_pending(&a);
	memset(fill, 0, sizeof(fill));
	stream_put(&a.wire, fill, sizeof(fill));
	deliver(&a, &b, SIZE_MAX);
	CHECK_EQ(b.err, CR_E_V2_NOTERM);
	end_free(&a);
	end_free(&b);
}

/* ---- terminator search bound ---- */

static void test_terminator_missing(void)
{
	for (int extra = -1; extra <= 0; extra++) {
		struct end a, b;
		const uint8_t *p;
		uint8_t junk[CR_V2_GARBAGE_SEARCH + 1];
		struct cr_msg m;

		end_init_v2(&a, true, 0);
		end_init_v2(&b, false, 0);
		CHECK_EQ(cr_transport_pending(a.t, &p), 64);
		CHECK_EQ(cr_transport_recv(b.t, &m, p, 64), 64);
		CHECK(cr_transport_ready(b.t));
		rnd_bytes(junk, sizeof(junk));
		size_t n = CR_V2_GARBAGE_SEARCH + (size_t)extra; /* 4110, then 4111 */
		/* In two pieces, so the bound holds across calls too. */
		CHECK_EQ(cr_transport_recv(b.t, &m, junk, 1000), 1000);
		int r = cr_transport_recv(b.t, &m, junk + 1000, n - 1000);
		if (extra < 0) {
			CHECK_EQ(r, (long)(n - 1000));
		} else {
			CHECK_EQ(r, CR_E_V2_NOTERM);
			/* Sticky. */
			CHECK_EQ(cr_transport_recv(b.t, &m, junk, 1), CR_E_V2_NOTERM);
		}
		end_free(&a);
		end_free(&b);
	}
}

/* ---- V1 detection, wrong network, fallback ---- */

static size_t v1_message(uint8_t *out, const uint8_t magic[4], const char *cmd,
			 const uint8_t *payload, uint32_t len)
{
	cr_v1_encode_header(out, magic, cmd, payload, len);
	memcpy(out + CR_V1_HEADER_SIZE, payload, len);
	return CR_V1_HEADER_SIZE + len;
}

static void test_v1_detection(void)
{
	uint8_t wire[400], payload[110];
	size_t n;

	rnd_bytes(payload, sizeof(payload));
	n = v1_message(wire, mainnet->magic, "version", payload, sizeof(payload));
	n += v1_message(wire + n, mainnet->magic, "verack", payload, 0);
	for (int bytewise = 0; bytewise < 2; bytewise++) {
		struct end r;
		struct cr_msg m;
		const uint8_t *p;
		int got = 0;
		size_t off = 0;

		end_init_v2(&r, false, 100);
		while (off < n) {
			size_t chunk = bytewise ? 1 : n - off;
			int k = cr_transport_recv(r.t, &m, wire + off, chunk);
			CHECK(k >= 0);
			if (k < 0)
				break;
			if (off < 16) /* undecided: the responder has said nothing */
				CHECK_EQ(cr_transport_pending(r.t, &p), 0);
			off += (size_t)k;
			if (m.command[0]) {
				CHECK_EQ(m.reject, 0);
				if (got == 0) {
					CHECK(strcmp(m.command, "version") == 0);
					CHECK_EQ(m.len, sizeof(payload));
					CHECK_MEM(m.payload, payload, sizeof(payload));
				} else {
					CHECK(strcmp(m.command, "verack") == 0);
					CHECK_EQ(m.len, 0);
				}
				got++;
			}
		}
		CHECK_EQ(got, 2);
		CHECK_EQ(cr_transport_kind(r.t), CR_TRANSPORT_V1);
		CHECK(cr_transport_ready(r.t));
		CHECK(cr_transport_session_id(r.t) == NULL);
		CHECK_EQ(cr_transport_pending(r.t, &p), 0);
		/* It now frames V1. */
		uint8_t hdr[CR_V1_HEADER_SIZE];
		bool follows;
		CHECK_EQ(cr_transport_frame(r.t, hdr, sizeof(hdr), "verack", NULL, 0, &follows), 24);
		CHECK(follows);
		CHECK_MEM(hdr, wire + CR_V1_HEADER_SIZE + sizeof(payload), 24);
		end_free(&r);
	}
}

/* 15 bytes of the V1 prefix then a different 16th: V2, key sent only then. */
static void test_v1_prefix_near_miss(void)
{
	struct end r;
	struct cr_msg m;
	const uint8_t *p;
	uint8_t pre[16];

	memcpy(pre, mainnet->magic, 4);
	memcpy(pre + 4, "version\0\0\0\0\0", 12);
	pre[15] = 1;
	end_init_v2(&r, false, 33);
	CHECK_EQ(cr_transport_recv(r.t, &m, pre, 15), 15);
	CHECK_EQ(cr_transport_pending(r.t, &p), 0);
	CHECK_EQ(cr_transport_kind(r.t), CR_TRANSPORT_DETECTING);
	CHECK_EQ(cr_transport_recv(r.t, &m, pre + 15, 1), 1);
	CHECK_EQ(cr_transport_pending(r.t, &p), 64 + 33);
	CHECK_EQ(cr_transport_kind(r.t), CR_TRANSPORT_V2);
	CHECK(!cr_transport_ready(r.t));
	end_free(&r);
}

static void test_wrong_network(void)
{
	uint8_t wire[200], payload[100] = {0};
	const struct cr_chain *testnet = cr_chain_get(CR_CHAIN_TESTNET3);
	size_t n = v1_message(wire, testnet->magic, "version", payload, sizeof(payload));
	struct end r;
	struct cr_msg m;

	end_init_v2(&r, false, 0);
	CHECK_EQ(cr_transport_recv(r.t, &m, wire, 15), 15); /* not yet */
	CHECK_EQ(cr_transport_recv(r.t, &m, wire + 15, n - 15), CR_E_V2_MAGIC);
	CHECK(strstr(cr_proto_strerror(CR_E_V2_MAGIC), "network") != NULL);
	end_free(&r);

	/* Bytewise too, and with a magic no chain uses. */
	memcpy(wire, "\x01\x02\x03\x04", 4);
	end_init_v2(&r, false, 0);
	int err = 0;
	for (size_t i = 0; i < n && !err; i++) {
		int k = cr_transport_recv(r.t, &m, wire + i, 1);
		if (k < 0)
			err = k;
		else
			CHECK(i < 15);
	}
	CHECK_EQ(err, CR_E_V2_MAGIC);
	end_free(&r);
}

static void test_initiator_fallback(void)
{
	struct end i, r;
	struct cr_msg m;
	uint8_t one = 0x42;

	end_init_v2(&i, true, 50);
	flush_pending(&i);
	CHECK_EQ(cr_transport_eof(i.t), CR_E_V2_V1FALLBACK);
	CHECK(strstr(cr_proto_strerror(CR_E_V2_V1FALLBACK), "v1") != NULL);
	CHECK_EQ(cr_transport_recv(i.t, &m, &one, 1), 1);
	CHECK_EQ(cr_transport_eof(i.t), 0); /* it spoke: not a V1 peer */
	end_free(&i);

	end_init_v2(&r, false, 0);
	CHECK_EQ(cr_transport_eof(r.t), 0);
	end_free(&r);
	if (handshake(&i, &r, 3, 3))
		CHECK_EQ(cr_transport_eof(i.t), 0);
	end_free(&i);
	end_free(&r);
}

/* ---- crafted packets through struct cr_v2 directly ---- */

struct pair {
	struct cr_v2 a, b; /* initiator, responder */
};

/* Drives a handshake between two raw sessions (all bytes at once). */
static bool pair_up(struct pair *p)
{
	struct cr_v2_entropy ea, eb;
	const uint8_t *out;
	struct cr_msg m;
	size_t n;

	entropy(&ea, 9);
	entropy(&eb, 0);
	if (cr_v2_init(&p->a, mainnet, secp, true, &ea) || cr_v2_init(&p->b, mainnet, secp, false, &eb))
		return false;
	for (int round = 0; round < 3; round++) {
		while ((n = cr_v2_pending(&p->a, &out)) > 0) {
			CHECK_EQ(cr_v2_recv(&p->b, &m, out, n), (long)n);
			cr_v2_pending_sent(&p->a, n);
		}
		while ((n = cr_v2_pending(&p->b, &out)) > 0) {
			CHECK_EQ(cr_v2_recv(&p->a, &m, out, n), (long)n);
			cr_v2_pending_sent(&p->b, n);
		}
	}
	return cr_v2_ready(&p->a) && cr_v2_ready(&p->b) && p->a.hs == NULL && p->b.hs == NULL;
}

static void pair_clear(struct pair *p)
{
	cr_v2_clear(&p->a);
	cr_v2_clear(&p->b);
}

/* Sends raw contents from a to b; returns b's recv result, message in m. */
static int raw_packet(struct pair *p, struct cr_msg *m, const uint8_t *contents, size_t len,
		      bool ignore)
{
	uint8_t *buf = malloc(len + CR_BIP324_OVERHEAD);
	long n = cr_bip324_encrypt(&p->a.cipher, buf, NULL, 0, contents, len, NULL, 0, ignore);
	int r = (int)n;
	if (n > 0)
		r = cr_v2_recv(&p->b, m, buf, (size_t)n);
	free(buf);
	return r;
}

static void test_rejected_messages(void)
{
	struct pair p;
	struct cr_msg m;
	uint8_t c[40] = {0};

	CHECK(pair_up(&p));
	c[0] = 29; /* proposed by a later BIP, not in BIP324's table */
	CHECK_EQ(raw_packet(&p, &m, c, 5, false), 5 + CR_BIP324_OVERHEAD);
	CHECK_EQ(m.reject, CR_E_V2_SHORTID);
	CHECK(strcmp(m.command, "shortid:29") == 0);
	CHECK_EQ(m.len, 4);
	c[0] = 0; /* long form, too short */
	memcpy(c + 1, "ping", 4);
	CHECK_EQ(raw_packet(&p, &m, c, 12, false), 12 + CR_BIP324_OVERHEAD);
	CHECK_EQ(m.reject, CR_E_V2_COMMAND);
	CHECK(m.command[0] != '\0');
	/* long form with a byte after the NUL padding */
	c[12] = 'x';
	CHECK_EQ(raw_packet(&p, &m, c, 20, false), 20 + CR_BIP324_OVERHEAD);
	CHECK_EQ(m.reject, CR_E_V2_COMMAND);
	CHECK(strcmp(m.command, "ping") == 0);
	/* long form, well-formed, equal to its short id form */
	c[12] = 0;
	CHECK_EQ(raw_packet(&p, &m, c, 21, false), 21 + CR_BIP324_OVERHEAD);
	CHECK_EQ(m.reject, 0);
	CHECK(strcmp(m.command, "ping") == 0);
	CHECK_EQ(m.len, 8);
	/* non-printable command byte */
	c[2] = 0x7f;
	CHECK_EQ(raw_packet(&p, &m, c, 21, false), 21 + CR_BIP324_OVERHEAD);
	CHECK_EQ(m.reject, CR_E_V2_COMMAND);
	CHECK(strcmp(m.command, "p?ng") == 0);
	/* empty contents */
	CHECK_EQ(raw_packet(&p, &m, c, 0, false), CR_BIP324_OVERHEAD);
	CHECK_EQ(m.reject, CR_E_V2_EMPTY);
	/* decoy: consumed, no message */
	CHECK_EQ(raw_packet(&p, &m, c, 30, true), 30 + CR_BIP324_OVERHEAD);
	CHECK_EQ(m.command[0], 0);
	/* every short id maps both ways */
	for (unsigned id = 1; id <= CR_V2_SHORTID_MAX; id++) {
		c[0] = (uint8_t)id;
		CHECK_EQ(raw_packet(&p, &m, c, 1, false), 1 + CR_BIP324_OVERHEAD);
		CHECK_EQ(m.reject, 0);
		CHECK_EQ(cr_v2_command_shortid(m.command), id);
	}
	CHECK(cr_v2_shortid_command(0) == NULL && cr_v2_shortid_command(29) == NULL);
	pair_clear(&p);
}

/* The contents limit: CR_V2_MAX_CONTENTS passes, one more ends the session
 * as soon as the length is decrypted. Also the sender's limits. */
static void test_length_limit(void)
{
	size_t max = CR_V2_MAX_CONTENTS;
	uint8_t *big = calloc(1, max + 1 + CR_BIP324_OVERHEAD);
	struct pair p;
	struct cr_msg m;

	CHECK(pair_up(&p));
	/* n: a decoy of exactly the limit is accepted (and dropped). */
	CHECK_EQ(raw_packet(&p, &m, big, max, true), (long)(max + CR_BIP324_OVERHEAD));
	CHECK_EQ(m.command[0], 0);
	/* n: a message with a 12-byte command and a 4,000,000-byte payload. */
	uint8_t *payload = malloc(CR_V1_MAX_PAYLOAD);
	rnd_bytes(payload, CR_V1_MAX_PAYLOAD);
	int n = cr_v2_frame(&p.a, big, max + CR_BIP324_OVERHEAD, "blockish", payload,
			    CR_V1_MAX_PAYLOAD);
	CHECK_EQ(n, (long)(max + CR_BIP324_OVERHEAD));
	CHECK_EQ(cr_v2_recv(&p.b, &m, big, (size_t)n), n);
	CHECK(strcmp(m.command, "blockish") == 0);
	CHECK_EQ(m.len, CR_V1_MAX_PAYLOAD);
	if (m.len == CR_V1_MAX_PAYLOAD)
		CHECK_MEM(m.payload, payload, CR_V1_MAX_PAYLOAD);
	free(payload);
	/* A large packet's buffer grows with the bytes that arrived, not with
	 * the length the peer declared. */
	uint8_t *block = calloc(1, 3000000);
	n = cr_v2_frame(&p.a, big, max + CR_BIP324_OVERHEAD, "block", block, 3000000);
	free(block);
	CHECK(n > 3000000);
	CHECK_EQ(cr_v2_recv(&p.b, &m, big, 100), 100);
	CHECK(p.b.buf_cap <= 4096);
	CHECK_EQ(cr_v2_recv(&p.b, &m, big + 100, 100000), 100000);
	CHECK(p.b.buf_cap <= 2 * 100097 && p.b.buf_cap >= 100097); /* ciphertext after the length */
	CHECK_EQ(cr_v2_recv(&p.b, &m, big + 100100, (size_t)n - 100100), n - 100100);
	CHECK(strcmp(m.command, "block") == 0 && m.len == 3000000);
	CHECK(p.b.buf_cap == (size_t)n - 3); /* never more than the packet */
	/* n + 1: refused on the length alone (3 bytes suffice). */
	memset(big, 0, max + 1);
	long k = cr_bip324_encrypt(&p.a.cipher, big, NULL, 0, big, max + 1, NULL, 0, false);
	CHECK_EQ(k, (long)(max + 1 + CR_BIP324_OVERHEAD));
	CHECK_EQ(cr_v2_recv(&p.b, &m, big, 3), CR_E_V2_LENGTH);
	CHECK_EQ(cr_v2_recv(&p.b, &m, big + 3, 1), CR_E_V2_LENGTH);
	/* Sender side. */
	uint8_t small[64];
	CHECK_EQ(cr_v2_frame(&p.a, big, max + 64, "tx", big, CR_V1_MAX_PAYLOAD + 1), CR_E_TOOLARGE);
	CHECK_EQ(cr_v2_frame(&p.a, small, sizeof(small), "tx", big, 100), CR_E_OVERFLOW);
	CHECK_EQ(cr_v2_frame(&p.a, small, sizeof(small), "", big, 1), CR_E_V1_COMMAND);
	CHECK_EQ(cr_v2_frame(&p.a, small, sizeof(small), "thirteen_char", big, 1), CR_E_V1_COMMAND);
	CHECK_EQ(cr_v2_frame(&p.a, small, sizeof(small), "bad\x01", big, 1), CR_E_V1_COMMAND);
	CHECK_EQ(cr_v2_frame_decoy(&p.a, small, sizeof(small), 100), CR_E_OVERFLOW);
	pair_clear(&p);
	free(big);
}

/* Trimming between a packet's length and its end keeps the buffer (found
 * by fuzz_v2_responder); trimming between packets frees it. */
static void test_trim(void)
{
	struct pair p;
	struct cr_msg m;
	uint8_t out[200], payload[100];

	CHECK(pair_up(&p));
	rnd_bytes(payload, sizeof(payload));
	for (size_t cut = 1; cut < 121; cut += 7) {
		int n = cr_v2_frame(&p.a, out, sizeof(out), "tx", payload, sizeof(payload));
		CHECK_EQ(n, 1 + sizeof(payload) + CR_BIP324_OVERHEAD);
		CHECK_EQ(cr_v2_recv(&p.b, &m, out, cut), (long)cut);
		cr_v2_trim(&p.b);
		CHECK_EQ(cr_v2_recv(&p.b, &m, out + cut, (size_t)n - cut), n - (long)cut);
		CHECK(strcmp(m.command, "tx") == 0 && m.len == sizeof(payload));
		CHECK_MEM(m.payload, payload, sizeof(payload));
		cr_v2_trim(&p.b);
		CHECK(p.b.buf == NULL);
	}
	pair_clear(&p);
}

/* A large message received straight into the transport's buffer through
 * recv_direct/commit, after its first bytes came through recv (V2 and V1). */
static void direct_receive(struct end *from, struct end *to, uint32_t len)
{
	uint8_t *payload = malloc(len);
	struct cr_msg m;
	size_t want;

	rnd_bytes(payload, len);
	CHECK(cr_transport_recv_direct(to->t, &want) == NULL && want == 0);
	send_msg(from, "block", payload, len);
	struct stream *w = &from->wire;
	size_t first = 30; /* the length/header and a little payload */
	CHECK_EQ(cr_transport_recv(to->t, &m, w->p + w->off, first), (long)first);
	w->off += first;
	int msgs = 0;
	while (w->off < w->len) {
		uint8_t *dst = cr_transport_recv_direct(to->t, &want);
		/* room that grows with the bytes: never past the message, never
		 * much more than twice what arrived */
		CHECK(dst != NULL && want > 0 && want <= w->len - w->off);
		CHECK(cr_transport_buffer_bytes(to->t) <= 2 * w->off + 8192);
		if (!dst)
			break;
		size_t n = 1 + rnd(70000);
		if (n > want)
			n = want;
		memcpy(dst, w->p + w->off, n);
		CHECK_EQ(cr_transport_recv_commit(to->t, &m, n), (long)n);
		w->off += n;
		if (m.command[0]) {
			msgs++;
			CHECK(strcmp(m.command, "block") == 0 && m.len == len);
			if (m.len == len)
				CHECK_MEM(m.payload, payload, len);
		}
	}
	CHECK_EQ(msgs, 1);
	w->off = w->len = 0;
	from->q_head = from->q_len;
	free(from->q[from->q_len - 1].payload);
	CHECK(cr_transport_recv_direct(to->t, &want) == NULL);
	/* Committing more than asked for is refused. */
	CHECK(cr_transport_recv_commit(to->t, &m, 1) < 0);
	free(payload);
}

static void test_direct_receive(void)
{
	struct end a, b, v1a, v1b;

	if (handshake(&a, &b, 10, 20)) {
		direct_receive(&a, &b, 300000);
	}
	end_free(&a);
	end_free(&b);
	memset(&v1a, 0, sizeof(v1a));
	memset(&v1b, 0, sizeof(v1b));
	v1a.t = malloc(cr_transport_size());
	v1b.t = malloc(cr_transport_size());
	CHECK_EQ(cr_transport_init_v1(v1a.t, mainnet), 0);
	CHECK_EQ(cr_transport_init_v1(v1b.t, mainnet), 0);
	direct_receive(&v1a, &v1b, 250000);
	end_free(&v1a);
	end_free(&v1b);
}

/* The V1 side of the transport: header-only framing, its refusals, and the
 * calls that only make sense for V2. */
static void test_transport_v1(void)
{
	struct cr_transport *t = malloc(cr_transport_size());
	uint8_t hdr[CR_V1_HEADER_SIZE], payload[10] = {1, 2, 3}, want[CR_V1_HEADER_SIZE];
	const uint8_t *p;
	bool follows;

	CHECK_EQ(cr_transport_init_v1(t, mainnet), 0);
	CHECK_EQ(cr_transport_kind(t), CR_TRANSPORT_V1);
	CHECK(cr_transport_ready(t) && cr_transport_session_id(t) == NULL);
	CHECK_EQ(cr_transport_pending(t, &p), 0);
	CHECK_EQ(cr_transport_frame_size(t, "tx", 10), CR_V1_HEADER_SIZE);
	CHECK_EQ(cr_transport_frame(t, hdr, sizeof(hdr), "tx", payload, 10, &follows), 24);
	CHECK(follows);
	cr_v1_encode_header(want, mainnet->magic, "tx", payload, 10);
	CHECK_MEM(hdr, want, 24);
	CHECK_EQ(cr_transport_frame(t, hdr, 23, "tx", payload, 10, &follows), CR_E_OVERFLOW);
	CHECK_EQ(cr_transport_frame(t, hdr, 24, "", payload, 10, &follows), CR_E_V1_COMMAND);
	CHECK_EQ(cr_transport_frame(t, hdr, 24, "waytoolongcmd", payload, 10, &follows), CR_E_V1_COMMAND);
	CHECK_EQ(cr_transport_frame(t, hdr, 24, "t\x7f", payload, 10, &follows), CR_E_V1_COMMAND);
	CHECK_EQ(cr_transport_frame(t, hdr, 24, "tx", payload, CR_V1_MAX_PAYLOAD + 1, &follows),
		 CR_E_TOOLARGE);
	CHECK_EQ(cr_transport_frame_decoy(t, hdr, 24, 1), CR_E_V2_STATE);
	CHECK_EQ(cr_transport_eof(t), 0);
	cr_transport_clear(t);
	free(t);
}

/* Framing is refused before the keys exist; entropy is validated. */
static void test_states(void)
{
	struct cr_v2_entropy e;
	struct cr_v2 s;
	uint8_t out[100];

	entropy(&e, 1);
	CHECK_EQ(cr_v2_init(&s, mainnet, secp, true, &e), 0);
	CHECK(!cr_v2_ready(&s));
	CHECK(cr_v2_session_id(&s) == NULL);
	CHECK_EQ(cr_v2_frame(&s, out, sizeof(out), "ping", out, 8), CR_E_V2_STATE);
	CHECK_EQ(cr_v2_frame_decoy(&s, out, sizeof(out), 8), CR_E_V2_STATE);
	cr_v2_clear(&s);
	e.garbage_len = CR_V2_GARBAGE_MAX + 1;
	CHECK_EQ(cr_v2_init(&s, mainnet, secp, true, &e), CR_E_INVAL);
	/* An invalid secret key (zero) is refused when it is used. */
	entropy(&e, 0);
	memset(e.seckey, 0, 32);
	CHECK_EQ(cr_v2_init(&s, mainnet, secp, true, &e), CR_E_V2_KEY);
}

int main(int argc, char **argv)
{
	uint8_t seed32[32];

	rng = check_seed(argc, argv);
	rnd_bytes(seed32, 32);
	secp = cr_secp_new(seed32);
	mainnet = cr_chain_get(CR_CHAIN_MAIN);
	RUN(test_states);
	RUN(test_session_bytewise);
	RUN(test_session_many_messages);
	RUN(test_garbage_extremes);
	RUN(test_tamper_packet_bits);
	RUN(test_tamper_garbage);
	RUN(test_tamper_key);
	RUN(test_terminator_missing);
	RUN(test_v1_detection);
	RUN(test_v1_prefix_near_miss);
	RUN(test_wrong_network);
	RUN(test_initiator_fallback);
	RUN(test_rejected_messages);
	RUN(test_length_limit);
	RUN(test_trim);
	RUN(test_direct_receive);
	RUN(test_transport_v1);
	cr_secp_free(secp);
	return check_done();
}
