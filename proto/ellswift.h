/* ElligatorSwift encoding of secp256k1 public keys and BIP324's x-only ECDH.
 *
 * The field maps (XSwiftEC and its inverse) are our own code over a 4x64-bit
 * field implementation, because Debian's libsecp256k1 0.2.0 predates its
 * ellswift module; key generation and ECDH use libsecp256k1. Functions named
 * _var run in variable time and must only see public data. No globals: a
 * caller owns a struct cr_secp per thread. */
#ifndef CR_PROTO_ELLSWIFT_H
#define CR_PROTO_ELLSWIFT_H

#include <stdbool.h>
#include <stdint.h>

/* A libsecp256k1 context for signing-class operations (key generation,
 * ECDH), randomized with seed32. NULL on allocation failure. */
struct cr_secp;
struct cr_secp *cr_secp_new(const uint8_t seed32[32]);
void cr_secp_free(struct cr_secp *s);
/* The thread's libcrypto cipher workspace (proto/crypto.h), created with
 * the context: every BIP324 session of that thread encrypts through it, so
 * a session holds no libcrypto context of its own. */
struct cr_cipher_ws;
struct cr_cipher_ws *cr_secp_cipher_ws(const struct cr_secp *s);

/* XSwiftEC(u, t) -> x, all 32-byte big-endian field elements (u and t are
 * reduced mod p first, and 0 maps to 1 as in BIP324). Public inputs. */
void cr_xswiftec_var(uint8_t x32[32], const uint8_t u32[32], const uint8_t t32[32]);

/* XSwiftECInv(x, u, c) for case c in 0..7: writes t and returns true, or
 * returns false when that case has no solution (t zeroed). u = 0 mod p is
 * outside BIP324's domain (1..p-1) and returns false. */
bool cr_xswiftec_inv_var(uint8_t t32[32], const uint8_t x32[32], const uint8_t u32[32], int c);

/* Decodes any 64 bytes (u || t) to the x coordinate of a curve point. */
void cr_ellswift_decode_var(uint8_t x32[32], const uint8_t ell64[64]);

/* Encodes the public key of seckey as 64 uniformly looking bytes, using
 * rnd32 as the caller's fresh randomness. Returns 0, or CR_E_V2_KEY if the
 * secret key is invalid (ell64 zeroed). */
int cr_ellswift_create(const struct cr_secp *s, uint8_t ell64[64],
		       const uint8_t seckey32[32], const uint8_t rnd32[32]);

/* x-only ECDH: x(seckey * P) where P is either point with x =
 * decode(ell_theirs64). Returns 0 or CR_E_V2_KEY (x32 zeroed). */
int cr_ellswift_xonly_ecdh(const struct cr_secp *s, uint8_t x32[32],
			   const uint8_t ell_theirs64[64], const uint8_t seckey32[32]);

/* BIP324 shared secret: tagged hash "bip324_ellswift_xonly_ecdh" over
 * ell_a64 || ell_b64 || x(seckey * decode(theirs)), where ell_a is the
 * initiator's encoding and ell_b the responder's. `initiating` says which of
 * the two is ours. Returns 0 or CR_E_V2_KEY (secret zeroed). */
int cr_ellswift_xdh(const struct cr_secp *s, uint8_t secret32[32],
		    const uint8_t ell_ours64[64], const uint8_t ell_theirs64[64],
		    const uint8_t seckey32[32], bool initiating);

#endif
