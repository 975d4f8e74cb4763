/* fuzz_ellswift: any 64 bytes decode to a valid x (x^3 + 7 is a square, and
 * libsecp256k1 accepts 02 || x), and encoding a key drawn from the input
 * decodes back to that key's x; every XSwiftECInv solution for the decoded
 * x maps back to it. Input: 64 bytes to decode, then optionally 32 bytes of
 * secret key and 32 bytes of encoder randomness (also used as u). */
#include <secp256k1.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/ellswift.h"
#include "proto/err.h"
#include "proto/field.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t ell[64] = { 0 }, x[32], ser[33];
	memcpy(ell, data, size < 64 ? size : 64);
	cr_ellswift_decode_var(x, ell);

	struct cr_fe fx, g, seven;
	cr_fe_set_b32_mod(&fx, x);
	cr_fe_sqr(&g, &fx);
	cr_fe_mul(&g, &g, &fx);
	cr_fe_set_int(&seven, 7);
	cr_fe_add(&g, &g, &seven);
	if (!cr_fe_is_square(&g))
		abort();
	secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
	secp256k1_pubkey pk;
	ser[0] = 2;
	memcpy(ser + 1, x, 32);
	if (!secp256k1_ec_pubkey_parse(ctx, &pk, ser, sizeof(ser)))
		abort();

	/* Inverting: t = XSwiftECInv(x, u, c) gives XSwiftEC(u, t) = x. */
	if (size >= 96) {
		uint8_t t[32], back[32];
		const uint8_t *u = data + 64;
		for (int c = 0; c < 8; c++) {
			if (!cr_xswiftec_inv_var(t, x, u, c))
				continue;
			cr_xswiftec_var(back, u, t);
			if (memcmp(back, x, 32) != 0)
				abort();
		}
	}

	if (size >= 128) {
		const uint8_t *key = data + 64, *rnd = data + 96;
		struct cr_secp *s = cr_secp_new(rnd);
		uint8_t enc[64], back[32];
		size_t len = sizeof(ser);
		if (!s)
			abort();
		int rc = cr_ellswift_create(s, enc, key, rnd);
		int valid = secp256k1_ec_seckey_verify(ctx, key);
		if ((rc == 0) != valid)
			abort();
		if (rc == 0) {
			if (!secp256k1_ec_pubkey_create(ctx, &pk, key))
				abort();
			secp256k1_ec_pubkey_serialize(ctx, ser, &len, &pk, SECP256K1_EC_COMPRESSED);
			cr_ellswift_decode_var(back, enc);
			if (memcmp(back, ser + 1, 32) != 0)
				abort();
			/* ECDH against the fuzzed encoding never fails for a valid key. */
			if (cr_ellswift_xonly_ecdh(s, back, ell, key) != 0)
				abort();
		} else if (rc != CR_E_V2_KEY) {
			abort();
		}
		cr_secp_free(s);
	}
	secp256k1_context_destroy(ctx);
	return 0;
}
