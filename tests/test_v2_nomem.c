/* Allocation failure in the BIP324 (V2) session (issue 10's fault
 * injection): with tests/alloc_inject.h interposing the allocator
 * (libcrypto's allocations included), an initiator and a responder start,
 * run the handshake and exchange messages (small ones whole, large ones
 * split and reassembled) while the Nth allocation fails, for every N from
 * 1 to the number a clean run makes. Each run must end either complete
 * (the same messages as a clean run) or with a negative error from
 * cr_v2_init, cr_v2_recv or cr_v2_frame (the caller disconnects); never a
 * crash, never a wrong message delivered, and after cr_v2_clear no block
 * left. Skipped under AddressSanitizer, which owns malloc. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "alloc_inject.h"
#include "check.h"
#include "proto/chain.h"
#include "proto/ellswift.h"
#include "proto/err.h"
#include "proto/v2.h"

#if INJECTING
#define NMSG 5
static const uint32_t lens[NMSG] = {8, 3000, 70000, 200000, 16};
static const char *const cmds[NMSG] = {"ping", "tx", "block", "block", "pong"};
static uint8_t payload[200000];
static uint8_t wire[200000 + 64];

struct run {
	struct cr_v2 a, b;
	bool a_init, b_init;
	int delivered;
	int err; /* first negative return, 0 when the run completed */
};

/* Moves what `from` has pending into `to`; returns 0 or an error. */
static int pump(struct cr_v2 *from, struct cr_v2 *to)
{
	const uint8_t *o;
	size_t n;
	struct cr_msg m;
	for (int guard = 0; guard < 64 && (n = cr_v2_pending(from, &o)) > 0; guard++) {
		int r = cr_v2_recv(to, &m, o, n);
		if (r < 0)
			return r;
		cr_v2_pending_sent(from, (size_t)r);
		if (m.command[0])
			return CR_E_INVAL; /* no application message in a handshake */
	}
	return 0;
}

/* One whole scenario; fills r. */
static void scenario(struct run *r, const struct cr_secp *secp)
{
	static struct cr_v2_entropy ea, eb;
	memset(ea.seckey, 0x11, 32);
	memset(eb.seckey, 0x22, 32);
	ea.garbage_len = 100;
	eb.garbage_len = 4095;
	const struct cr_chain *chain = cr_chain_get(CR_CHAIN_REGTEST);
	memset(r, 0, sizeof *r);
	if ((r->err = cr_v2_init(&r->a, chain, secp, true, &ea)) < 0)
		return;
	r->a_init = true;
	if ((r->err = cr_v2_init(&r->b, chain, secp, false, &eb)) < 0)
		return;
	r->b_init = true;
	/* both sides may be ready while one still has its version packet to
	 * send: pump until nothing is pending */
	for (int round = 0; round < 4; round++) {
		if ((r->err = pump(&r->a, &r->b)) < 0 || (r->err = pump(&r->b, &r->a)) < 0)
			return;
	}
	if (!cr_v2_ready(&r->a) || !cr_v2_ready(&r->b)) {
		r->err = CR_E_V2_STATE;
		return;
	}
	for (int i = 0; i < NMSG; i++) {
		int n = cr_v2_frame(&r->a, wire, sizeof wire, cmds[i], payload, lens[i]);
		if (n < 0) {
			r->err = n;
			return;
		}
		for (size_t off = 0; off < (size_t)n;) {
			size_t chunk = (size_t)n - off < 1000 ? (size_t)n - off : 1000;
			struct cr_msg m;
			int k = cr_v2_recv(&r->b, &m, wire + off, chunk);
			if (k < 0) {
				r->err = k;
				return;
			}
			off += (size_t)k;
			if (m.command[0]) {
				bool ok = r->delivered == i && m.reject == 0 && strcmp(m.command, cmds[i]) == 0 &&
					  m.len == lens[i] && memcmp(m.payload, payload, lens[i]) == 0;
				CHECK(ok);
				if (!ok) {
					r->err = -1;
					return;
				}
				r->delivered++;
			}
		}
	}
}

static void finish(struct run *r)
{
	if (r->a_init)
		cr_v2_clear(&r->a);
	if (r->b_init)
		cr_v2_clear(&r->b);
}
#endif

static void test_v2_nomem_sweep(void)
{
#if INJECTING
	for (size_t i = 0; i < sizeof payload; i++)
		payload[i] = (uint8_t)(i * 31 + 7);
	uint8_t seed[32] = {9};
	struct cr_secp *secp = cr_secp_new(seed);
	CHECK(secp != NULL);
	struct run r;
	scenario(&r, secp); /* warm-up: libcrypto's one-time set-up */
	finish(&r);
	CHECK_EQ(r.err, 0);
	long base = inject_live;
	inject_arm(0, false);
	scenario(&r, secp);
	inject_disarm();
	long clean = inject_calls;
	finish(&r);
	CHECK_EQ(r.err, 0);
	CHECK_EQ(r.delivered, NMSG);
	CHECK_EQ(inject_live, base);
	CHECK(clean >= 2);
	long failed = 0, completed = 0, leaks = 0, nomem = 0;
	for (long n = 1; n <= clean + 1; n++) {
		inject_arm(n, false);
		scenario(&r, secp);
		inject_disarm();
		finish(&r);
		if (r.err < 0) {
			failed++;
			nomem += r.err == CR_E_NOMEM;
		} else {
			CHECK_EQ(r.delivered, NMSG);
			completed++;
		}
		if (inject_live != base) {
			leaks++;
			printf("failing allocation %ld of %ld: error %d, %ld blocks left\n", n, clean, r.err,
			       inject_live - base);
			base = inject_live; /* report each once */
		}
	}
	printf("%ld allocations in a clean run (handshake, 5 messages up to 200,000 bytes in 1,000-byte "
	       "pieces); with each failing in turn: %ld clean errors (%ld CR_E_NOMEM), %ld completed, "
	       "%ld leaked\n", clean, failed, nomem, completed, leaks);
	CHECK(failed >= 1);
	CHECK_EQ(leaks, 0);
	cr_secp_free(secp);
#endif
}

int main(void)
{
#if !INJECTING
	check_skip("allocation failure injection interposes malloc, which AddressSanitizer owns");
#endif
	RUN(test_v2_nomem_sweep);
	return check_done();
}
