/* connringd's chain signals from announcements (cmd/announce.h): a block
 * or transaction hash counts once, the first time any peer announces it,
 * through inv (with and without the witness flag), headers (hash of each
 * 80-byte header) and cmpctblock; malformed or oversized messages count
 * nothing; memory stays fixed under a flood of fresh hashes. */
#include <stdlib.h>

#include <connring/connring.h>

#include "check.h"
#include "cmd/announce.h"
#include "proto/crypto.h"
#include "proto/wire.h"

static size_t inv(uint8_t *out, const uint32_t *types, uint8_t seeds[][32], size_t n)
{
	struct cr_writer w;
	cr_writer_init(&w, out, 9 + n * 36);
	cr_write_compact(&w, n);
	for (size_t i = 0; i < n; i++) {
		cr_write_u32le(&w, types[i]);
		cr_write_bytes(&w, seeds[i], 32);
	}
	return w.len;
}

static void test_announce_inv(void)
{
	struct cr_announce *a = cr_announce_new(7);
	uint8_t buf[200], h[3][32];
	memset(h, 0, sizeof h);
	h[0][0] = 1;
	h[1][0] = 2;
	h[2][0] = 3;
	uint32_t types[3] = {2, 1, 0x40000005}; /* block, tx, witness wtx */
	size_t len = inv(buf, types, h, 3);
	CHECK_EQ(cr_announce_message(a, "inv", buf, len), CR_ANNOUNCE_BLOCK | CR_ANNOUNCE_TX);
	/* the same hashes again, from anyone: nothing new */
	CHECK_EQ(cr_announce_message(a, "inv", buf, len), 0);
	/* a compact-block inv of a new hash */
	uint32_t t4 = 4;
	h[0][1] = 9;
	len = inv(buf, &t4, h, 1);
	CHECK_EQ(cr_announce_message(a, "inv", buf, len), CR_ANNOUNCE_BLOCK);
	/* unknown types and other messages count nothing */
	uint32_t t7 = 7;
	h[0][2] = 1;
	len = inv(buf, &t7, h, 1);
	CHECK_EQ(cr_announce_message(a, "inv", buf, len), 0);
	CHECK_EQ(cr_announce_message(a, "ping", buf, 8), 0);
	/* cut short: the entries before the cut still count, nothing breaks */
	h[0][3] = 1;
	len = inv(buf, types, h, 1);
	CHECK_EQ(cr_announce_message(a, "inv", buf, len - 1), 0);
	/* a count above 50,000 is refused without reading on */
	uint8_t big[9];
	struct cr_writer w;
	cr_writer_init(&w, big, sizeof big);
	cr_write_compact(&w, 50001);
	CHECK_EQ(cr_announce_message(a, "inv", big, w.len), 0);
	/* a flood of fresh transaction hashes: each counts once, memory fixed */
	unsigned counted = 0;
	for (unsigned i = 0; i < 300000; i++) {
		uint8_t x[1][32];
		memset(x, 0, sizeof x);
		memcpy(x[0], &i, sizeof i);
		x[0][31] = 0xee;
		uint32_t tx = 1;
		len = inv(buf, &tx, x, 1);
		counted += cr_announce_message(a, "inv", buf, len) == CR_ANNOUNCE_TX;
	}
	CHECK(counted > 299990);
	cr_announce_free(a);
}

static void test_announce_headers(void)
{
	struct cr_announce *a = cr_announce_new(8);
	uint8_t hdrs[2][80];
	memset(hdrs, 0, sizeof hdrs);
	hdrs[0][0] = 1;
	hdrs[1][0] = 2;
	uint8_t buf[1 + 2 * 81];
	struct cr_writer w;
	cr_writer_init(&w, buf, sizeof buf);
	cr_write_compact(&w, 2);
	for (int i = 0; i < 2; i++) {
		cr_write_bytes(&w, hdrs[i], 80);
		cr_write_compact(&w, 0);
	}
	CHECK_EQ(cr_announce_message(a, "headers", buf, w.len), CR_ANNOUNCE_BLOCK);
	CHECK_EQ(cr_announce_message(a, "headers", buf, w.len), 0);
	/* the same block as an inv (by its hash): already known */
	uint8_t h[1][32];
	cr_sha256d(h[0], hdrs[1], 80);
	uint32_t t2 = 2;
	uint8_t ib[64];
	size_t len = inv(ib, &t2, h, 1);
	CHECK_EQ(cr_announce_message(a, "inv", ib, len), 0);
	/* a compact block of a new header; then too short */
	uint8_t cb[100];
	memset(cb, 0, sizeof cb);
	cb[0] = 3;
	CHECK_EQ(cr_announce_message(a, "cmpctblock", cb, sizeof cb), CR_ANNOUNCE_BLOCK);
	CHECK_EQ(cr_announce_message(a, "cmpctblock", cb, sizeof cb), 0);
	CHECK_EQ(cr_announce_message(a, "cmpctblock", cb, 79), 0);
	/* more than 2,000 headers: refused */
	uint8_t big[9];
	cr_writer_init(&w, big, sizeof big);
	cr_write_compact(&w, 2001);
	CHECK_EQ(cr_announce_message(a, "headers", big, w.len), 0);
	cr_announce_free(a);
}

int main(void)
{
	RUN(test_announce_inv);
	RUN(test_announce_headers);
	return check_done();
}
