/* Proves the V2 hot path does not allocate per message: after a handshake
 * and one warm-up packet of the largest size, 20,000 packets of 0..60,000
 * bytes (short and long message types, decoys, rekeys every 224 packets,
 * whole and chunked reception) are framed and received while every malloc
 * realloc and calloc in the process is counted, libcrypto's included
 * (alloc_inject.h, armed to fail none). The count must stay 0. Under
 * AddressSanitizer (which owns malloc) the counting is skipped and only
 * delivery is checked. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "proto/v2.h"
#include "tests/check.h"

#include "tests/alloc_inject.h"

static void handshake(struct cr_v2 *a, struct cr_v2 *b)
{
	const uint8_t *o;
	struct cr_msg m;
	size_t n;

	for (int round = 0; round < 3; round++) {
		while ((n = cr_v2_pending(a, &o)) > 0) {
			CHECK_EQ(cr_v2_recv(b, &m, o, n), (long)n);
			cr_v2_pending_sent(a, n);
		}
		while ((n = cr_v2_pending(b, &o)) > 0) {
			CHECK_EQ(cr_v2_recv(a, &m, o, n), (long)n);
			cr_v2_pending_sent(b, n);
		}
	}
}

/* Frames one message (plus sometimes a decoy) and receives it in chunks;
 * returns the messages delivered. */
static long one(struct cr_v2 *a, struct cr_v2 *b, uint8_t *out, size_t cap, const uint8_t *pl,
		size_t len, int i)
{
	struct cr_msg m;
	long got = 0;
	int n = cr_v2_frame(a, out, cap, i % 2 ? "tx" : "version", pl, len);
	CHECK(n > 0);
	for (size_t off = 0; n > 0 && off < (size_t)n;) {
		size_t chunk = i % 3 == 0 ? (size_t)n - off : 1000;
		if (chunk > (size_t)n - off)
			chunk = (size_t)n - off;
		int k = cr_v2_recv(b, &m, out + off, chunk);
		CHECK(k >= 0);
		if (k < 0)
			break;
		off += (size_t)k;
		if (m.command[0]) {
			CHECK(m.len == len && memcmp(m.payload, pl, len) == 0);
			got++;
		}
	}
	if (i % 5 == 0) {
		n = cr_v2_frame_decoy(a, out, cap, 100);
		CHECK_EQ(cr_v2_recv(b, &m, out, (size_t)n), n);
		CHECK(m.command[0] == 0);
	}
	return got;
}

static void test_no_alloc_per_message(void)
{
	static uint8_t out[70000], pl[65536];
	static struct cr_v2_entropy ea, eb;
	uint8_t seed[32] = {1};
	struct cr_secp *secp = cr_secp_new(seed);
	struct cr_v2 a, b;
	long msgs = 0;
	const int count = getenv("CR_SANITIZE") ? 3000 : 20000;

	for (size_t i = 0; i < sizeof(pl); i++)
		pl[i] = (uint8_t)(i * 13);
	memset(ea.seckey, 0x11, 32);
	memset(eb.seckey, 0x22, 32);
	ea.garbage_len = 100;
	eb.garbage_len = 200;
	CHECK_EQ(cr_v2_init(&a, cr_chain_get(CR_CHAIN_MAIN), secp, true, &ea), 0);
	CHECK_EQ(cr_v2_init(&b, cr_chain_get(CR_CHAIN_MAIN), secp, false, &eb), 0);
	handshake(&a, &b);
	CHECK(cr_v2_ready(&a) && cr_v2_ready(&b));
	msgs += one(&a, &b, out, sizeof(out), pl, 60000, 1); /* warm-up: the largest */
#if INJECTING
	/* The counter sees allocations: starting a session makes some. */
	struct cr_v2 c;
	inject_arm(0, false);
	CHECK_EQ(cr_v2_init(&c, cr_chain_get(CR_CHAIN_MAIN), secp, true, &ea), 0);
	inject_disarm();
	cr_v2_clear(&c);
	CHECK(inject_calls > 0);
	inject_arm(0, false);
#endif
	for (int i = 0; i < count; i++)
		msgs += one(&a, &b, out, sizeof(out), pl, (size_t)(i * 7919) % 60000, i);
#if INJECTING
	inject_disarm();
	printf("  %d packets: %ld allocations\n", count, inject_calls);
	CHECK_EQ(inject_calls, 0);
#else
	printf("  allocation count skipped under AddressSanitizer\n");
#endif
	CHECK_EQ(msgs, count + 1);
	cr_v2_clear(&a);
	cr_v2_clear(&b);
	cr_secp_free(secp);
}

int main(void)
{
	RUN(test_no_alloc_per_message);
	return check_done();
}
