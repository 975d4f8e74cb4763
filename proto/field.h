/* Arithmetic in the secp256k1 base field, integers mod p = 2^256 - 2^32 - 977.
 *
 * ElligatorSwift needs field operations that Debian's libsecp256k1 0.2.0
 * does not export, so they live here. An element is four 64-bit limbs, least
 * significant first, holding any value below 2^256 ("weakly reduced": it may
 * be >= p); cr_fe_normalize() brings it below p, and everything that compares
 * or serializes normalizes first. Functions without a _var suffix run in
 * constant time (no branch or memory index depends on the values); _var ones
 * are variable-time and must only see public data. Pure functions on caller
 * memory: any thread may call them. */
#ifndef CR_PROTO_FIELD_H
#define CR_PROTO_FIELD_H

#include <stdbool.h>
#include <stdint.h>

struct cr_fe {
	uint64_t n[4];
};

/* r = the 32-byte big-endian integer b, reduced mod p. */
void cr_fe_set_b32_mod(struct cr_fe *r, const uint8_t b[32]);
/* r = b when b < p and returns true; otherwise returns false (r zeroed). */
bool cr_fe_set_b32_limit(struct cr_fe *r, const uint8_t b[32]);
/* b = a mod p, 32 bytes big-endian. */
void cr_fe_get_b32(uint8_t b[32], const struct cr_fe *a);
void cr_fe_set_int(struct cr_fe *r, uint64_t v);

/* Reduces r below p in place. */
void cr_fe_normalize(struct cr_fe *r);
bool cr_fe_is_zero(const struct cr_fe *a);
bool cr_fe_equal(const struct cr_fe *a, const struct cr_fe *b);
/* Parity of a mod p. */
bool cr_fe_is_odd(const struct cr_fe *a);

/* r = a + b, a - b, -a, a * b, a^2, a * k, a / 2 (all mod p). Outputs may
 * alias inputs. */
void cr_fe_add(struct cr_fe *r, const struct cr_fe *a, const struct cr_fe *b);
void cr_fe_sub(struct cr_fe *r, const struct cr_fe *a, const struct cr_fe *b);
void cr_fe_neg(struct cr_fe *r, const struct cr_fe *a);
void cr_fe_mul(struct cr_fe *r, const struct cr_fe *a, const struct cr_fe *b);
void cr_fe_sqr(struct cr_fe *r, const struct cr_fe *a);
void cr_fe_mul_int(struct cr_fe *r, const struct cr_fe *a, uint32_t k);
void cr_fe_half(struct cr_fe *r, const struct cr_fe *a);

/* r = a when flag, else r unchanged, without a branch. */
void cr_fe_cmov(struct cr_fe *r, const struct cr_fe *a, bool flag);

/* r = a^((p-3)/4). The building block of inversion and square roots:
 * a^((p+1)/4) = a * r, a^(p-2) = a * r^4, a^((p-1)/2) = a * r^2. */
void cr_fe_pow_pm3d4(struct cr_fe *r, const struct cr_fe *a);

/* r = 1/a (0 maps to 0). */
void cr_fe_inv(struct cr_fe *r, const struct cr_fe *a);
/* r = a^((p+1)/4), the square root of a that is itself a square, and returns
 * true when a is a square (0 included); otherwise r is the root of -a and the
 * return is false. */
bool cr_fe_sqrt(struct cr_fe *r, const struct cr_fe *a);
/* Whether a is a square mod p (0 counts as a square). */
bool cr_fe_is_square(const struct cr_fe *a);

/* Variable-time square test for public data, about three times faster than
 * cr_fe_is_square: the Jacobi symbol by batches of binary-GCD steps. */
bool cr_fe_is_square_var(const struct cr_fe *a);

#endif
