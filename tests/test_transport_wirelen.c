/* cr_transport_last_wire_len(): after every yielded message it equals the
 * bytes the sender put on the wire for that message, whichever way they
 * were fed (whole, one byte at a time, split around a direct receive).
 * V1: header and payload, also after a V2 responder detected a V1 peer.
 * V2: a short id and a 12-byte command, including a command that has a
 * short id but was sent long (the sender's right under BIP324), with
 * decoys in between that must not be counted. The V2 sender is a bare
 * cr_v2 session so the test can also encrypt a packet by hand; the
 * receiver is the transport under test. Random: prints its seed, accepts
 * --seed N. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/bip324.h"
#include "proto/err.h"
#include "proto/transport.h"
#include "proto/v2.h"
#include "tests/check.h"

static uint64_t rng;
static struct cr_secp *secp;
static const struct cr_chain *mainnet;

static void rnd_bytes(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)check_rand(&rng);
}

static void entropy(struct cr_v2_entropy *e, uint16_t garbage_len)
{
	rnd_bytes(e->seckey, 32);
	rnd_bytes(e->ell_rnd, 32);
	e->garbage_len = garbage_len;
	rnd_bytes(e->garbage, garbage_len);
}

/* Feeds in (one byte at a time when bytewise) until the transport yields a
 * message; returns its command's first byte ('\0' when none came) and
 * leaves it in *m. Every byte of in must be consumed. */
static char feed(struct cr_transport *t, struct cr_msg *m, const uint8_t *in, size_t len,
		 bool bytewise)
{
	size_t off = 0;

	memset(m, 0, sizeof(*m));
	while (off < len) {
		size_t chunk = bytewise ? 1 : len - off;
		int n = cr_transport_recv(t, m, in + off, chunk);
		CHECK(n >= 0);
		if (n < 0)
			return '\0';
		off += (size_t)n;
		if (m->command[0]) {
			CHECK_EQ(off, len); /* one message per call of feed() */
			return m->command[0];
		}
		if (n == 0)
			break;
	}
	CHECK_EQ(off, len);
	return '\0';
}

/* A message that ends up yielded must report exactly wire bytes. */
static void expect_msg(struct cr_transport *t, const uint8_t *in, size_t len,
		       const char *cmd, size_t payload_len, bool bytewise)
{
	struct cr_msg m;

	CHECK(feed(t, &m, in, len, bytewise) != '\0');
	CHECK(strcmp(m.command, cmd) == 0);
	CHECK_EQ(m.len, payload_len);
	CHECK_EQ(cr_transport_last_wire_len(t), len);
}

/* Moves everything s wants to send into t, then t's pending bytes into s,
 * until both sides have keys and nothing is pending. */
static bool v2_handshake(struct cr_v2 *s, struct cr_transport *t)
{
	for (int round = 0; round < 8; round++) {
		const uint8_t *p;
		size_t n;
		struct cr_msg m;
		while ((n = cr_v2_pending(s, &p)) > 0) {
			CHECK(feed(t, &m, p, n, false) == '\0');
			cr_v2_pending_sent(s, n);
		}
		while ((n = cr_transport_pending(t, &p)) > 0) {
			uint8_t copy[8192];
			CHECK(n <= sizeof(copy));
			if (n > sizeof(copy))
				return false;
			memcpy(copy, p, n);
			cr_transport_pending_sent(t, n);
			CHECK_EQ(cr_v2_recv(s, &m, copy, n), (int)n);
			CHECK(!m.command[0]);
		}
		if (cr_v2_ready(s) && cr_transport_ready(t) && !cr_v2_pending(s, &p) &&
		    !cr_transport_pending(t, &p))
			return true;
	}
	return false;
}

/* Frames cmd with cr_v2_frame (short id when the command has one) into
 * out; returns the wire bytes. */
static size_t v2_frame(struct cr_v2 *s, uint8_t *out, size_t cap, const char *cmd,
		       const uint8_t *payload, size_t len)
{
	int n = cr_v2_frame(s, out, cap, cmd, payload, len);
	CHECK(n > 0);
	return n > 0 ? (size_t)n : 0;
}

/* Encrypts cmd in its long form (0x00 || 12-byte NUL-padded name) even
 * when it has a short id. */
static size_t v2_frame_long(struct cr_v2 *s, uint8_t *out, const char *cmd,
			    const uint8_t *payload, size_t len)
{
	uint8_t head[1 + CR_COMMAND_MAX] = {0};
	memcpy(head + 1, cmd, strlen(cmd));
	long n = cr_bip324_encrypt(&s->cipher, out, head, sizeof(head), payload, len, NULL, 0, false);
	CHECK(n > 0);
	return n > 0 ? (size_t)n : 0;
}

static size_t v2_decoy(struct cr_v2 *s, uint8_t *out, size_t cap, size_t len)
{
	int n = cr_v2_frame_decoy(s, out, cap, len);
	CHECK(n > 0);
	return n > 0 ? (size_t)n : 0;
}

/* Receives len bytes through the direct path, room by room as the
 * transport grows it (never more than about twice what arrived). Returns
 * true when the message completed with the last byte. */
static bool direct_all(struct cr_transport *t, struct cr_msg *m, const uint8_t *in, size_t len)
{
	size_t got = 0, want;
	while (got < len) {
		uint8_t *dst = cr_transport_recv_direct(t, &want);
		if (!dst || want == 0 || want > len - got)
			return false;
		if (cr_transport_buffer_bytes(t) > 2 * (got + 64) + 8192)
			return false;
		memcpy(dst, in + got, want);
		if (cr_transport_recv_commit(t, m, want) != (int)want)
			return false;
		got += want;
		if (got < len && m->command[0])
			return false;
	}
	return m->command[0] != '\0';
}

static void test_v2_short_and_long(void)
{
	static uint8_t out[200000], payload[150000];
	struct cr_v2_entropy ea, eb;
	struct cr_v2 s;
	struct cr_transport *t = malloc(cr_transport_size());
	struct cr_msg m;
	size_t n, d;

	rnd_bytes(payload, sizeof(payload));
	entropy(&ea, 17);
	entropy(&eb, 40);
	CHECK_EQ(cr_v2_init(&s, mainnet, secp, true, &ea), 0);
	CHECK_EQ(cr_transport_init_v2(t, mainnet, secp, false, &eb), 0);
	CHECK_EQ(cr_transport_last_wire_len(t), 0);
	if (!v2_handshake(&s, t)) {
		CHECK(!"v2 handshake");
		goto out;
	}
	CHECK_EQ(cr_transport_kind(t), CR_TRANSPORT_V2);
	for (int bytewise = 0; bytewise < 2; bytewise++) {
		/* short id: 3 + 1 + 1 + 8 + 16 */
		n = v2_frame(&s, out, sizeof(out), "ping", payload, 8);
		CHECK_EQ(n, 29);
		expect_msg(t, out, n, "ping", 8, bytewise);
		/* no short id: 3 + 1 + 13 + len + 16 */
		n = v2_frame(&s, out, sizeof(out), "version", payload, 102);
		CHECK_EQ(n, 3 + 1 + 13 + 102 + 16);
		expect_msg(t, out, n, "version", 102, bytewise);
		n = v2_frame(&s, out, sizeof(out), "verack", payload, 0);
		CHECK_EQ(n, 33);
		expect_msg(t, out, n, "verack", 0, bytewise);
		/* a short-id command sent long counts its 13 type bytes */
		n = v2_frame_long(&s, out, "ping", payload, 8);
		CHECK_EQ(n, 3 + 1 + 13 + 8 + 16);
		expect_msg(t, out, n, "ping", 8, bytewise);
		/* a decoy before a message is not the message's */
		d = v2_decoy(&s, out, sizeof(out), 500);
		CHECK(feed(t, &m, out, d, bytewise) == '\0');
		CHECK_EQ(cr_transport_last_wire_len(t), 41); /* still the long ping's */
		n = v2_frame(&s, out, sizeof(out), "pong", payload, 8);
		expect_msg(t, out, n, "pong", 8, bytewise);
		CHECK_EQ(cr_transport_last_wire_len(t), 29);
	}
	/* direct receive: length via recv, the rest via recv_direct/commit */
	n = v2_frame(&s, out, sizeof(out), "block", payload, sizeof(payload));
	CHECK_EQ(n, 3 + 1 + 1 + sizeof(payload) + 16);
	CHECK(feed(t, &m, out, 3, false) == '\0');
	CHECK_EQ(cr_transport_partial_bytes(t), n);
	CHECK(direct_all(t, &m, out + 3, n - 3));
	CHECK(strcmp(m.command, "block") == 0);
	CHECK_EQ(cr_transport_last_wire_len(t), n);
	CHECK_EQ(cr_transport_partial_bytes(t), 0);
out:
	cr_v2_clear(&s);
	cr_transport_clear(t);
	free(t);
}

static size_t v1_frame(uint8_t *out, const char *cmd, const uint8_t *payload, size_t len)
{
	cr_v1_encode_header(out, mainnet->magic, cmd, payload, (uint32_t)len);
	memcpy(out + CR_V1_HEADER_SIZE, payload, len);
	return CR_V1_HEADER_SIZE + len;
}

static void test_v1(void)
{
	static uint8_t out[100000], payload[90000];
	struct cr_transport *t = malloc(cr_transport_size());
	struct cr_v2_entropy e;
	size_t n;

	rnd_bytes(payload, sizeof(payload));
	CHECK_EQ(cr_transport_init_v1(t, mainnet), 0);
	for (int bytewise = 0; bytewise < 2; bytewise++) {
		n = v1_frame(out, "verack", payload, 0);
		expect_msg(t, out, n, "verack", 0, bytewise);
		n = v1_frame(out, "sendaddrv2", payload, 0);
		expect_msg(t, out, n, "sendaddrv2", 0, bytewise);
		n = v1_frame(out, "ping", payload, 8);
		expect_msg(t, out, n, "ping", 8, bytewise);
		CHECK_EQ(cr_transport_last_wire_len(t), 32);
	}
	/* direct receive of a large payload */
	n = v1_frame(out, "blob", payload, sizeof(payload));
	struct cr_msg m;
	CHECK(feed(t, &m, out, CR_V1_HEADER_SIZE, false) == '\0');
	CHECK_EQ(cr_transport_partial_bytes(t), n);
	CHECK(direct_all(t, &m, payload, sizeof(payload)));
	CHECK_EQ(cr_transport_last_wire_len(t), n);
	cr_transport_clear(t);

	/* a V2 responder that meets a V1 peer counts V1 sizes */
	entropy(&e, 0);
	CHECK_EQ(cr_transport_init_v2(t, mainnet, secp, false, &e), 0);
	n = v1_frame(out, "version", payload, 102);
	expect_msg(t, out, n, "version", 102, false);
	CHECK_EQ(cr_transport_kind(t), CR_TRANSPORT_V1);
	cr_transport_clear(t);
	free(t);
}

/* cr_transport_set_limit: the handshake's small limit refuses a larger
 * declared length at once (before any of its payload is held), on V1, on
 * V2, and on a V2 responder that turned V1; raising it lets the same
 * message through. */
static void test_limits(void)
{
	static uint8_t out[20000], payload[5000];
	struct cr_transport *t = malloc(cr_transport_size());
	struct cr_v2_entropy ea, eb;
	struct cr_v2 s;
	struct cr_msg m;
	size_t n;

	rnd_bytes(payload, sizeof(payload));
	/* V1: 1,000 allowed, 1,001 refused on the header alone */
	CHECK_EQ(cr_transport_init_v1(t, mainnet), 0);
	cr_transport_set_limit(t, 1000);
	n = v1_frame(out, "version", payload, 1000);
	expect_msg(t, out, n, "version", 1000, false);
	n = v1_frame(out, "addr", payload, 1001);
	CHECK_EQ(cr_transport_recv(t, &m, out, CR_V1_HEADER_SIZE), CR_E_V1_LENGTH);
	CHECK_EQ(cr_transport_buffer_bytes(t), 0);
	cr_transport_clear(t);
	CHECK_EQ(cr_transport_init_v1(t, mainnet), 0);
	cr_transport_set_limit(t, 1000);
	cr_transport_set_limit(t, 0); /* back to 4,000,000 */
	expect_msg(t, out, n, "addr", 1001, false);
	cr_transport_clear(t);
	/* a V2 responder that meets V1 keeps the limit */
	entropy(&eb, 0);
	CHECK_EQ(cr_transport_init_v2(t, mainnet, secp, false, &eb), 0);
	cr_transport_set_limit(t, 1000);
	n = v1_frame(out, "version", payload, 4000);
	CHECK_EQ(cr_transport_recv(t, &m, out, n), CR_E_V1_LENGTH);
	cr_transport_clear(t);
	/* V2: the packet's length is refused before its bytes are held */
	entropy(&ea, 5);
	entropy(&eb, 9);
	CHECK_EQ(cr_v2_init(&s, mainnet, secp, true, &ea), 0);
	CHECK_EQ(cr_transport_init_v2(t, mainnet, secp, false, &eb), 0);
	cr_transport_set_limit(t, 1000);
	if (v2_handshake(&s, t)) {
		n = v2_frame(&s, out, sizeof(out), "version", payload, 1000);
		expect_msg(t, out, n, "version", 1000, false);
		n = v2_frame(&s, out, sizeof(out), "addrv2", payload, 1013); /* contents 1 + 1013 */
		CHECK_EQ(cr_transport_recv(t, &m, out, 3), CR_E_V2_LENGTH);
		CHECK_EQ(cr_transport_buffer_bytes(t) <= 2048, 1);
	} else {
		CHECK(!"v2 handshake");
	}
	cr_v2_clear(&s);
	cr_transport_clear(t);
	free(t);
}

int main(int argc, char **argv)
{
	uint8_t seed32[32];

	rng = check_seed(argc, argv);
	rnd_bytes(seed32, 32);
	secp = cr_secp_new(seed32);
	mainnet = cr_chain_get(CR_CHAIN_MAIN);
	RUN(test_v1);
	RUN(test_v2_short_and_long);
	RUN(test_limits);
	cr_secp_free(secp);
	return check_done();
}
