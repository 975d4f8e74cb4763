/* Tests for proto/v1: framing round trips, the drop-versus-disconnect split
 * (as Core), limits at n-1/n/n+1, views versus reassembly, the direct
 * receive path, buffer reuse and release, and chunking equivalence (one
 * byte at a time, random chunks, direct receive == one big buffer). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/chain.h"
#include "proto/crypto.h"
#include "proto/err.h"
#include "proto/v1.h"
#include "proto/wire.h"
#include "tests/check.h"

static uint64_t seed;
static const uint8_t *magic_main;

/* Appends one framed message to buf at *off. */
static void put_msg(uint8_t *buf, size_t *off, const char *cmd, const uint8_t *payload, uint32_t len)
{
	if (len)
		memcpy(buf + *off + CR_V1_HEADER_SIZE, payload, len);
	int n = cr_v1_encode(buf + *off, SIZE_MAX, magic_main, cmd, len);
	CHECK_EQ(n, CR_V1_HEADER_SIZE + (long long)len);
	*off += (size_t)n;
}

/* What a consumer saw: enough to compare two feeding strategies. */
struct seen {
	char command[CR_COMMAND_MAX + 1];
	int reject;
	uint32_t len;
	uint8_t hash[32];
	size_t end; /* stream offset just after the message */
};

struct run {
	struct seen msgs[512];
	size_t n;
	int err;        /* fatal error, or 0 */
	size_t err_at;  /* stream offset where it was returned */
};

static void record(struct run *r, const struct cr_msg *m, size_t end)
{
	CHECK(r->n < sizeof(r->msgs) / sizeof(r->msgs[0]));
	if (r->n >= sizeof(r->msgs) / sizeof(r->msgs[0]))
		return;
	struct seen *s = &r->msgs[r->n++];
	memcpy(s->command, m->command, sizeof(s->command));
	s->reject = m->reject;
	s->len = m->len;
	CHECK(m->payload != NULL);
	cr_sha256(s->hash, m->payload, m->len);
	s->end = end;
}

/* Feeds `in` in chunks: chunk sizes come from the rng (max_chunk 0 means
 * one buffer); with use_direct, payload bytes go through the direct path
 * whenever the decoder is mid-payload. */
static void feed(struct run *r, const uint8_t *in, size_t len, size_t max_chunk, bool use_direct,
		 uint64_t *rng)
{
	struct cr_v1_decoder d;
	struct cr_msg m;
	size_t pos = 0;

	memset(r, 0, sizeof(*r));
	cr_v1_decoder_init(&d, magic_main, 0);
	while (pos < len) {
		size_t chunk = max_chunk ? 1 + check_rand(rng) % max_chunk : len - pos;
		if (chunk > len - pos)
			chunk = len - pos;
		size_t want;
		uint8_t *direct = use_direct ? cr_v1_decode_direct(&d, &want) : NULL;
		int n;
		if (direct) {
			if (chunk > want)
				chunk = want;
			memcpy(direct, in + pos, chunk);
			n = cr_v1_decode_commit(&d, &m, chunk);
		} else {
			n = cr_v1_decode(&d, &m, in + pos, chunk);
		}
		if (n < 0) {
			r->err = n;
			r->err_at = pos;
			break;
		}
		CHECK(n > 0);
		if (n <= 0)
			break;
		pos += (size_t)n;
		if (m.command[0])
			record(r, &m, pos);
	}
	cr_v1_decoder_clear(&d);
}

static void check_same(const struct run *a, const struct run *b)
{
	CHECK_EQ(a->n, b->n);
	CHECK_EQ(a->err, b->err);
	for (size_t i = 0; i < a->n && i < b->n; i++) {
		CHECK(strcmp(a->msgs[i].command, b->msgs[i].command) == 0);
		CHECK_EQ(a->msgs[i].reject, b->msgs[i].reject);
		CHECK_EQ(a->msgs[i].len, b->msgs[i].len);
		CHECK_MEM(a->msgs[i].hash, b->msgs[i].hash, 32);
		CHECK_EQ(a->msgs[i].end, b->msgs[i].end);
	}
}

static void test_command_valid(void)
{
	static const struct {
		const char c[CR_COMMAND_MAX];
		bool ok;
	} cases[] = {
		{"version", true},
		{"sendaddrv2", true},
		{"abcdefghijkl", true},   /* 12 bytes, no NUL at all */
		{" ~", true},             /* the printable range's ends */
		{"", false},              /* all NUL */
		{"ver\0ack", false},      /* data after padding */
		{"ver\x1f", false},
		{"ver\x7f", false},
		{"ver\x80", false},
		{"\0\0\0\0\0\0\0\0\0\0\0x", false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_EQ(cr_v1_command_valid(cases[i].c), cases[i].ok);
}

static void test_encode_header_layout(void)
{
	/* Core's verack on mainnet: magic, "verack", length 0, SHA256d("")[0..4] = 5df6e0e2. */
	static const char *want = "f9beb4d976657261636b000000000000000000005df6e0e2";
	uint8_t hdr[CR_V1_HEADER_SIZE], exp[CR_V1_HEADER_SIZE];
	CHECK_EQ(check_unhex(exp, sizeof(exp), want), CR_V1_HEADER_SIZE);
	cr_v1_encode_header(hdr, magic_main, "verack", NULL, 0);
	CHECK_MEM(hdr, exp, CR_V1_HEADER_SIZE);

	uint8_t buf[CR_V1_HEADER_SIZE + 3] = {0};
	memcpy(buf + CR_V1_HEADER_SIZE, "abc", 3);
	CHECK_EQ(cr_v1_encode(buf, sizeof(buf), magic_main, "x", 3), CR_V1_HEADER_SIZE + 3);
	cr_v1_encode_header(hdr, magic_main, "x", (const uint8_t *)"abc", 3);
	CHECK_MEM(buf, hdr, CR_V1_HEADER_SIZE);
	CHECK_EQ(buf[16], 3);
}

static void test_encode_errors(void)
{
	uint8_t buf[64];
	/* Capacity at n-1 and n. */
	CHECK_EQ(cr_v1_encode(buf, CR_V1_HEADER_SIZE + 9, magic_main, "ping", 10), CR_E_OVERFLOW);
	CHECK_EQ(cr_v1_encode(buf, CR_V1_HEADER_SIZE + 10, magic_main, "ping", 10), CR_V1_HEADER_SIZE + 10);
	CHECK_EQ(cr_v1_encode(buf, 23, magic_main, "ping", 0), CR_E_OVERFLOW);
	/* Command length 12 and 13; empty; unprintable. */
	CHECK_EQ(cr_v1_encode(buf, sizeof(buf), magic_main, "abcdefghijkl", 0), CR_V1_HEADER_SIZE);
	CHECK_EQ(cr_v1_encode(buf, sizeof(buf), magic_main, "abcdefghijklm", 0), CR_E_V1_COMMAND);
	CHECK_EQ(cr_v1_encode(buf, sizeof(buf), magic_main, "", 0), CR_E_V1_COMMAND);
	CHECK_EQ(cr_v1_encode(buf, sizeof(buf), magic_main, "a\tb", 0), CR_E_V1_COMMAND);
	/* Payload limit at n and n+1 (the buffer is not touched for n+1). */
	CHECK_EQ(cr_v1_encode(buf, SIZE_MAX, magic_main, "block", CR_V1_MAX_PAYLOAD + 1), CR_E_V1_LENGTH);
	uint8_t *big = calloc(1, CR_V1_HEADER_SIZE + CR_V1_MAX_PAYLOAD);
	CHECK(big != NULL);
	if (big)
		CHECK_EQ(cr_v1_encode(big, CR_V1_HEADER_SIZE + CR_V1_MAX_PAYLOAD, magic_main, "block",
				      CR_V1_MAX_PAYLOAD), CR_V1_HEADER_SIZE + CR_V1_MAX_PAYLOAD);
	free(big);
}

static void test_decode_whole_is_view(void)
{
	uint8_t buf[256];
	size_t off = 0;
	struct cr_v1_decoder d;
	struct cr_msg m;

	put_msg(buf, &off, "ping", (const uint8_t *)"12345678", 8);
	put_msg(buf, &off, "verack", NULL, 0);
	cr_v1_decoder_init(&d, magic_main, 0);
	int n = cr_v1_decode(&d, &m, buf, off);
	CHECK_EQ(n, CR_V1_HEADER_SIZE + 8); /* stops after the first message */
	CHECK(strcmp(m.command, "ping") == 0);
	CHECK_EQ(m.reject, 0);
	CHECK_EQ(m.len, 8);
	CHECK(m.payload == buf + CR_V1_HEADER_SIZE); /* a view, no copy */
	int n2 = cr_v1_decode(&d, &m, buf + n, off - (size_t)n);
	CHECK_EQ(n2, CR_V1_HEADER_SIZE);
	CHECK(strcmp(m.command, "verack") == 0);
	CHECK(m.payload != NULL);
	CHECK_EQ(m.len, 0);
	CHECK(d.buf == NULL); /* nothing was allocated */
	CHECK_EQ(cr_v1_decode(&d, &m, buf, 0), 0);
	CHECK(m.command[0] == '\0');
	cr_v1_decoder_clear(&d);
}

/* A header split across inputs whose payload lies whole in the second. */
static void test_decode_split_header_view(void)
{
	uint8_t buf[64];
	size_t off = 0;
	struct cr_v1_decoder d;
	struct cr_msg m;

	put_msg(buf, &off, "pong", (const uint8_t *)"abcdefgh", 8);
	cr_v1_decoder_init(&d, magic_main, 0);
	CHECK_EQ(cr_v1_decode(&d, &m, buf, 10), 10);
	CHECK(m.command[0] == '\0');
	CHECK_EQ(cr_v1_decoder_pending(&d), 10);
	CHECK_EQ(cr_v1_decode(&d, &m, buf + 10, off - 10), (long long)off - 10);
	CHECK(strcmp(m.command, "pong") == 0);
	CHECK(m.payload == buf + CR_V1_HEADER_SIZE);
	CHECK(d.buf == NULL);
	CHECK_EQ(cr_v1_decoder_pending(&d), 0);
	cr_v1_decoder_clear(&d);
}

/* Core drops these messages and keeps the peer (V1Transport::
 * GetReceivedMessage sets reject_message); the stream goes on. */
static void test_decode_drop_not_disconnect(void)
{
	uint8_t buf[256];
	size_t off = 0, a, b;
	struct cr_v1_decoder d;
	struct cr_msg m;

	put_msg(buf, &off, "ping", (const uint8_t *)"12345678", 8);
	buf[20] ^= 1; /* checksum */
	a = off;
	put_msg(buf, &off, "inv", (const uint8_t *)"x", 1);
	buf[a + 4 + 3] = 0x01; /* "inv\x01": unprintable */
	b = off;
	put_msg(buf, &off, "getdata", (const uint8_t *)"y", 1);
	memcpy(buf + b + 4, "get\0data\0\0\0\0", 12); /* data after NUL padding */
	size_t c = off;
	put_msg(buf, &off, "pong", (const uint8_t *)"z", 1);
	memset(buf + c + 4, 0, 12); /* empty command, checksum also broken */
	buf[c + 20] ^= 0xff;
	put_msg(buf, &off, "verack", NULL, 0);

	struct run r;
	uint64_t rng = seed;
	feed(&r, buf, off, 0, false, &rng);
	CHECK_EQ(r.err, 0);
	CHECK_EQ(r.n, 5);
	CHECK(strcmp(r.msgs[0].command, "ping") == 0);
	CHECK_EQ(r.msgs[0].reject, CR_E_V1_CHECKSUM);
	CHECK(strcmp(r.msgs[1].command, "inv?") == 0);
	CHECK_EQ(r.msgs[1].reject, CR_E_V1_COMMAND);
	CHECK(strcmp(r.msgs[2].command, "get?data") == 0);
	CHECK_EQ(r.msgs[2].reject, CR_E_V1_COMMAND);
	CHECK(strcmp(r.msgs[3].command, "?") == 0);
	CHECK_EQ(r.msgs[3].reject, CR_E_V1_CHECKSUM); /* checksum is checked first */
	CHECK(strcmp(r.msgs[4].command, "verack") == 0);
	CHECK_EQ(r.msgs[4].reject, 0);

	/* A checksum-rejected message still hands out its payload. */
	cr_v1_decoder_init(&d, magic_main, 0);
	CHECK_EQ(cr_v1_decode(&d, &m, buf, off), CR_V1_HEADER_SIZE + 8);
	CHECK_EQ(m.len, 8);
	CHECK_MEM(m.payload, "12345678", 8);
	cr_v1_decoder_clear(&d);
}

/* Core disconnects on these (V1Transport::readHeader returns -1). */
static void test_decode_disconnect(void)
{
	uint8_t buf[64];
	size_t off = 0;
	struct cr_v1_decoder d;
	struct cr_msg m;

	put_msg(buf, &off, "ping", (const uint8_t *)"12345678", 8);
	/* Each other chain's magic is wrong for mainnet. */
	for (int id = CR_CHAIN_TESTNET3; id < CR_CHAIN_COUNT; id++) {
		uint8_t other[64];
		memcpy(other, buf, off);
		memcpy(other, cr_chain_get((enum cr_chain_id)id)->magic, 4);
		cr_v1_decoder_init(&d, magic_main, 0);
		CHECK_EQ(cr_v1_decode(&d, &m, other, off), CR_E_V1_MAGIC);
		CHECK(m.command[0] == '\0');
		/* Sticky, even for good input afterwards. */
		CHECK_EQ(cr_v1_decode(&d, &m, buf, off), CR_E_V1_MAGIC);
		size_t want;
		CHECK(cr_v1_decode_direct(&d, &want) == NULL);
		CHECK_EQ(cr_v1_decode_commit(&d, &m, 0), CR_E_V1_MAGIC);
		cr_v1_decoder_clear(&d);
		/* Its own chain accepts it. */
		cr_v1_decoder_init(&d, cr_chain_get((enum cr_chain_id)id)->magic, 0);
		CHECK_EQ(cr_v1_decode(&d, &m, other, off), (long long)off);
		CHECK_EQ(m.reject, 0);
		cr_v1_decoder_clear(&d);
	}
	/* One byte at a time: the error comes with the 24th header byte. */
	memcpy(buf, "\xf9\xbe\xb4\xda", 4);
	cr_v1_decoder_init(&d, magic_main, 0);
	for (int i = 0; i < CR_V1_HEADER_SIZE - 1; i++)
		CHECK_EQ(cr_v1_decode(&d, &m, buf + i, 1), 1);
	CHECK_EQ(cr_v1_decode(&d, &m, buf + 23, 1), CR_E_V1_MAGIC);
	cr_v1_decoder_clear(&d);
}

/* Declared length at n-1, n, n+1 of the limit, for the default limit and
 * a configured one. Only the header is fed: nothing is allocated. */
static void test_decode_length_limit(void)
{
	static const uint32_t limits[] = {0, 1000};
	for (size_t i = 0; i < 2; i++) {
		uint32_t lim = limits[i] ? limits[i] : CR_V1_MAX_PAYLOAD;
		for (uint32_t len = lim - 1; len <= lim + 1; len++) {
			uint8_t hdr[CR_V1_HEADER_SIZE];
			struct cr_v1_decoder d;
			struct cr_msg m;
			cr_v1_encode_header(hdr, magic_main, "block", NULL, 0);
			hdr[16] = (uint8_t)len;
			hdr[17] = (uint8_t)(len >> 8);
			hdr[18] = (uint8_t)(len >> 16);
			hdr[19] = (uint8_t)(len >> 24);
			cr_v1_decoder_init(&d, magic_main, limits[i]);
			int n = cr_v1_decode(&d, &m, hdr, sizeof(hdr));
			CHECK_EQ(n, len <= lim ? CR_V1_HEADER_SIZE : CR_E_V1_LENGTH);
			CHECK(d.buf == NULL || d.buf_cap <= 4096);
			cr_v1_decoder_clear(&d);
		}
	}
	/* A limit above Core's is clamped to it. */
	struct cr_v1_decoder d;
	cr_v1_decoder_init(&d, magic_main, CR_V1_MAX_PAYLOAD + 1);
	CHECK_EQ(d.max_payload, CR_V1_MAX_PAYLOAD);
	cr_v1_decoder_clear(&d);
}

/* A whole 4,000,000-byte message (the limit) decodes, split and whole. */
static void test_decode_max_message(void)
{
	size_t total = CR_V1_HEADER_SIZE + CR_V1_MAX_PAYLOAD;
	uint8_t *buf = malloc(total);
	CHECK(buf != NULL);
	if (!buf)
		return;
	for (size_t i = 0; i < CR_V1_MAX_PAYLOAD; i++)
		buf[CR_V1_HEADER_SIZE + i] = (uint8_t)(i * 7);
	CHECK_EQ(cr_v1_encode(buf, total, magic_main, "block", CR_V1_MAX_PAYLOAD), (long long)total);
	struct run whole, split;
	uint64_t rng = seed;
	feed(&whole, buf, total, 0, false, &rng);
	feed(&split, buf, total, 300000, false, &rng);
	CHECK_EQ(whole.n, 1);
	CHECK_EQ(whole.msgs[0].reject, 0);
	CHECK_EQ(whole.msgs[0].len, CR_V1_MAX_PAYLOAD);
	check_same(&whole, &split);
	free(buf);
}

/* A peer that declares a large payload and trickles it holds about twice
 * what it sent, never the declared length up front. */
static void test_reassembly_bounded(void)
{
	uint8_t hdr[CR_V1_HEADER_SIZE], chunk[1000];
	struct cr_v1_decoder d;
	struct cr_msg m;
	uint32_t len = 1000000;

	memset(chunk, 0x5a, sizeof(chunk));
	cr_v1_encode_header(hdr, magic_main, "tx", NULL, 0);
	cr_put_le32(hdr + 16, len);
	cr_v1_decoder_init(&d, magic_main, 0);
	CHECK_EQ(cr_v1_decode(&d, &m, hdr, sizeof(hdr)), CR_V1_HEADER_SIZE);
	CHECK(d.buf == NULL); /* header alone allocates nothing */
	size_t sent = 0;
	int bad = 0;
	while (sent < 200000) {
		CHECK_EQ(cr_v1_decode(&d, &m, chunk, sizeof(chunk)), sizeof(chunk));
		sent += sizeof(chunk);
		bad += d.buf_cap > 2 * sent && d.buf_cap > 4096;
		bad += d.buf_cap > len;
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(cr_v1_decoder_pending(&d), CR_V1_HEADER_SIZE + sent);
	/* Trim refuses while a partial payload is held. */
	cr_v1_decoder_trim(&d);
	CHECK(d.buf != NULL);
	cr_v1_decoder_clear(&d);
	CHECK(d.buf == NULL);
}

/* Split messages reuse one buffer (no malloc per message); one above the
 * keep size is released on the next call; trim releases a kept one. */
static void test_reassembly_reuse(void)
{
	static uint8_t buf[300000];
	static uint8_t payload[200000];
	size_t off = 0;
	struct cr_v1_decoder d;
	struct cr_msg m;

	memset(payload, 1, sizeof(payload));
	put_msg(buf, &off, "a", payload, 3000);
	put_msg(buf, &off, "b", payload, 2000);
	size_t big_at = off;
	put_msg(buf, &off, "c", payload, 200000);
	put_msg(buf, &off, "d", payload, 10);

	cr_v1_decoder_init(&d, magic_main, 0);
	CHECK_EQ(cr_v1_decode(&d, &m, buf, 100), 100);
	CHECK_EQ(cr_v1_decode(&d, &m, buf + 100, 3000), 3024 - 100);
	CHECK(strcmp(m.command, "a") == 0);
	CHECK(m.payload == d.buf);
	uint8_t *kept = d.buf;
	size_t pos = 3024;
	CHECK_EQ(cr_v1_decode(&d, &m, buf + pos, 30), 30);
	CHECK_EQ(cr_v1_decode(&d, &m, buf + pos + 30, 5000), 2024 - 30);
	CHECK(strcmp(m.command, "b") == 0);
	CHECK(d.buf == kept); /* same buffer, no new allocation */
	pos = big_at;
	CHECK_EQ(cr_v1_decode(&d, &m, buf + pos, 50), 50);
	CHECK_EQ(cr_v1_decode(&d, &m, buf + pos + 50, off), 200024 - 50);
	CHECK(strcmp(m.command, "c") == 0);
	CHECK_EQ(m.len, 200000);
	CHECK(d.buf_cap == 200000); /* never beyond the declared length */
	CHECK(d.release);
	pos = big_at + 200024;
	CHECK_EQ(cr_v1_decode(&d, &m, buf + pos, off - pos), 34);
	CHECK(strcmp(m.command, "d") == 0);
	CHECK(d.buf == NULL); /* the large buffer went on this call */
	/* A kept buffer goes with trim. */
	CHECK_EQ(cr_v1_decode(&d, &m, buf, 30), 30);
	CHECK_EQ(cr_v1_decode(&d, &m, buf + 30, 3000), 2994);
	CHECK(d.buf != NULL);
	cr_v1_decoder_trim(&d);
	CHECK(d.buf == NULL);
	cr_v1_decoder_clear(&d);
}

static void test_direct_receive(void)
{
	static uint8_t buf[50000];
	uint8_t payload[40000];
	size_t off = 0, want;
	struct cr_v1_decoder d;
	struct cr_msg m;

	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i ^ (i >> 8));
	put_msg(buf, &off, "headers", payload, sizeof(payload));
	cr_v1_decoder_init(&d, magic_main, 0);
	CHECK(cr_v1_decode_direct(&d, &want) == NULL); /* idle */
	CHECK_EQ(want, 0);
	CHECK_EQ(cr_v1_decode(&d, &m, buf, 10), 10);
	CHECK(cr_v1_decode_direct(&d, &want) == NULL); /* mid-header */
	CHECK_EQ(cr_v1_decode_commit(&d, &m, 1), CR_E_INVAL);
	CHECK_EQ(cr_v1_decode(&d, &m, buf + 10, 20), 20); /* header + 6 payload bytes */
	uint8_t *p = cr_v1_decode_direct(&d, &want);
	CHECK(p != NULL);
	/* The room grows with the bytes: 4 KiB first (6 bytes in it already),
	 * never the declared 40,000 on the header's word. */
	CHECK_EQ(want, 4096 - 6);
	CHECK_EQ(d.buf_cap, 4096);
	CHECK_EQ(cr_v1_decoder_declared(&d), CR_V1_HEADER_SIZE + sizeof(payload));
	if (!p)
		return;
	memcpy(p, buf + 30, 1000);
	CHECK_EQ(cr_v1_decode_commit(&d, &m, 1000), 1000);
	CHECK(m.command[0] == '\0');
	p = cr_v1_decode_direct(&d, &want);
	CHECK_EQ(want, 4096 - 1006);
	CHECK_EQ(cr_v1_decode_commit(&d, &m, want + 1), CR_E_INVAL); /* more than fits */
	/* Fill each room as it comes: it doubles, capped at the payload. */
	size_t got = 1006, rooms = 0;
	while (p && got < sizeof(payload)) {
		CHECK(d.buf_cap <= 2 * got + 4096); /* about twice what arrived */
		memcpy(p, buf + 24 + got, want);
		CHECK_EQ(cr_v1_decode_commit(&d, &m, want), (long long)want);
		got += want;
		rooms++;
		if (got < sizeof(payload))
			p = cr_v1_decode_direct(&d, &want);
	}
	CHECK_EQ(d.buf_cap, sizeof(payload)); /* never past the declared length */
	CHECK(rooms >= 3);
	CHECK(strcmp(m.command, "headers") == 0);
	CHECK_EQ(m.reject, 0);
	CHECK_EQ(m.len, sizeof(payload));
	CHECK_MEM(m.payload, payload, sizeof(payload));
	CHECK_EQ(cr_v1_decoder_declared(&d), 0);
	CHECK(cr_v1_decode_direct(&d, &want) == NULL);
	cr_v1_decoder_clear(&d);
}

/* A random stream of valid, dropped and empty messages, ending either
 * cleanly or in a fatal header; every feeding strategy sees the same. */
static void test_chunking_equivalence(void)
{
	size_t cap = 400000;
	uint8_t *buf = malloc(cap);
	uint8_t payload[20000];
	uint64_t rng = seed;
	int iters = getenv("CR_SANITIZE") ? 10 : 40;

	CHECK(buf != NULL);
	if (!buf)
		return;
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)check_rand(&rng);
	for (int it = 0; it < iters; it++) {
		size_t off = 0;
		int nmsg = 1 + (int)(check_rand(&rng) % 60);
		for (int i = 0; i < nmsg; i++) {
			uint32_t len = (uint32_t)(check_rand(&rng) % 4 == 0 ? check_rand(&rng) % sizeof(payload)
									 : check_rand(&rng) % 100);
			size_t at = off;
			put_msg(buf, &off, i % 3 ? "tx" : "inv", payload + check_rand(&rng) % 16, len % 19000);
			uint64_t t = check_rand(&rng) % 16;
			if (t == 0)
				buf[at + 20] ^= 0x40; /* dropped: checksum */
			else if (t == 1)
				buf[at + 4 + 2 + (check_rand(&rng) % 3)] = 0x07; /* dropped: command */
		}
		uint64_t end = check_rand(&rng) % 4;
		if (end == 0) {
			uint8_t bad[CR_V1_HEADER_SIZE] = {0xde, 0xad};
			memcpy(buf + off, bad, sizeof(bad)); /* fatal: magic */
			off += sizeof(bad);
		} else if (end == 1) {
			cr_v1_encode_header(buf + off, magic_main, "x", NULL, 0);
			cr_put_le32(buf + off + 16, CR_V1_MAX_PAYLOAD + 1); /* fatal: length */
			off += CR_V1_HEADER_SIZE;
		} else if (end == 2) {
			off -= check_rand(&rng) % 30; /* ends mid-message */
		}
		static struct run one, bytes, chunks, direct;
		feed(&one, buf, off, 0, false, &rng);
		if (it < 4) {
			feed(&bytes, buf, off, 1, false, &rng);
			check_same(&one, &bytes);
		}
		feed(&chunks, buf, off, 1 + check_rand(&rng) % 3000, false, &rng);
		check_same(&one, &chunks);
		feed(&direct, buf, off, 1 + check_rand(&rng) % 3000, true, &rng);
		check_same(&one, &direct);
		if (end < 2)
			CHECK(one.err != 0);
		else
			CHECK_EQ(one.err, 0);
	}
	free(buf);
}

int main(int argc, char **argv)
{
	seed = check_seed(argc, argv);
	magic_main = cr_chain_get(CR_CHAIN_MAIN)->magic;

	RUN(test_command_valid);
	RUN(test_encode_header_layout);
	RUN(test_encode_errors);
	RUN(test_decode_whole_is_view);
	RUN(test_decode_split_header_view);
	RUN(test_decode_drop_not_disconnect);
	RUN(test_decode_disconnect);
	RUN(test_decode_length_limit);
	RUN(test_decode_max_message);
	RUN(test_reassembly_bounded);
	RUN(test_reassembly_reuse);
	RUN(test_direct_receive);
	RUN(test_chunking_equivalence);
	return check_done();
}
