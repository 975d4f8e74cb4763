/* secp256k1 field arithmetic on 4x64-bit limbs (see field.h).
 *
 * Reduction uses 2^256 = C (mod p) with C = 2^32 + 977 = 0x1000003D1: the
 * high half of a product is multiplied by C and added to the low half, twice.
 * Carries and borrows are folded with masks, never branches, so every
 * function without _var is constant time. Pure computation on caller
 * memory; any thread. */
#include "proto/field.h"

#include <string.h>

typedef unsigned __int128 u128;

#define FE_C 0x1000003D1ULL

static const struct cr_fe FE_P = { { 0xFFFFFFFEFFFFFC2FULL, 0xFFFFFFFFFFFFFFFFULL,
				     0xFFFFFFFFFFFFFFFFULL, 0xFFFFFFFFFFFFFFFFULL } };

static uint64_t load_be64(const uint8_t *b)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | b[i];
	return v;
}

static void store_be64(uint8_t *b, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		b[i] = (uint8_t)v;
		v >>= 8;
	}
}

/* r += k * C where k is a small carry; returns the carry out of 2^256. */
static uint64_t add_small(uint64_t r[4], uint64_t k)
{
	u128 d = (u128)r[0] + (u128)k * FE_C;
	r[0] = (uint64_t)d;
	d = (d >> 64) + r[1];
	r[1] = (uint64_t)d;
	d = (d >> 64) + r[2];
	r[2] = (uint64_t)d;
	d = (d >> 64) + r[3];
	r[3] = (uint64_t)d;
	return (uint64_t)(d >> 64);
}

/* r -= k * C with k in {0, 1}; returns the borrow (0 or 1). */
static uint64_t sub_small(uint64_t r[4], uint64_t k)
{
	u128 d = (u128)r[0] - (u128)(k * FE_C);
	r[0] = (uint64_t)d;
	uint64_t b = (uint64_t)(d >> 64) & 1;
	for (int i = 1; i < 4; i++) {
		d = (u128)r[i] - b;
		r[i] = (uint64_t)d;
		b = (uint64_t)(d >> 64) & 1;
	}
	return b;
}

void cr_fe_set_int(struct cr_fe *r, uint64_t v)
{
	r->n[0] = v;
	r->n[1] = r->n[2] = r->n[3] = 0;
}

void cr_fe_normalize(struct cr_fe *r)
{
	/* a >= p exactly when a + C carries out of 2^256, and then a + C - 2^256
	 * is a - p. One step suffices because a < 2^256 < 2p. */
	uint64_t t[4] = { r->n[0], r->n[1], r->n[2], r->n[3] };
	uint64_t mask = 0 - add_small(t, 1);
	for (int i = 0; i < 4; i++)
		r->n[i] = (t[i] & mask) | (r->n[i] & ~mask);
}

void cr_fe_set_b32_mod(struct cr_fe *r, const uint8_t b[32])
{
	for (int i = 0; i < 4; i++)
		r->n[i] = load_be64(b + 8 * (3 - i));
	cr_fe_normalize(r);
}

bool cr_fe_set_b32_limit(struct cr_fe *r, const uint8_t b[32])
{
	uint64_t t[4];
	for (int i = 0; i < 4; i++)
		t[i] = load_be64(b + 8 * (3 - i));
	memcpy(r->n, t, sizeof(t));
	if (add_small(t, 1)) {
		memset(r, 0, sizeof(*r));
		return false;
	}
	return true;
}

void cr_fe_get_b32(uint8_t b[32], const struct cr_fe *a)
{
	struct cr_fe t = *a;
	cr_fe_normalize(&t);
	for (int i = 0; i < 4; i++)
		store_be64(b + 8 * (3 - i), t.n[i]);
}

bool cr_fe_is_zero(const struct cr_fe *a)
{
	struct cr_fe t = *a;
	cr_fe_normalize(&t);
	return (t.n[0] | t.n[1] | t.n[2] | t.n[3]) == 0;
}

bool cr_fe_equal(const struct cr_fe *a, const struct cr_fe *b)
{
	struct cr_fe t;
	cr_fe_sub(&t, a, b);
	return cr_fe_is_zero(&t);
}

bool cr_fe_is_odd(const struct cr_fe *a)
{
	struct cr_fe t = *a;
	cr_fe_normalize(&t);
	return t.n[0] & 1;
}

void cr_fe_add(struct cr_fe *r, const struct cr_fe *a, const struct cr_fe *b)
{
	uint64_t t[4];
	u128 d = 0;
	for (int i = 0; i < 4; i++) {
		d += (u128)a->n[i] + b->n[i];
		t[i] = (uint64_t)d;
		d >>= 64;
	}
	/* A carry is worth C; folding it can carry once more only when the sum
	 * was close to 2^257, and then the second fold lands far below 2^256. */
	uint64_t k = add_small(t, (uint64_t)d);
	add_small(t, k);
	memcpy(r->n, t, sizeof(t));
}

void cr_fe_sub(struct cr_fe *r, const struct cr_fe *a, const struct cr_fe *b)
{
	uint64_t t[4], bw = 0;
	for (int i = 0; i < 4; i++) {
		u128 d = (u128)a->n[i] - b->n[i] - bw;
		t[i] = (uint64_t)d;
		bw = (uint64_t)(d >> 64) & 1;
	}
	/* A borrow added 2^256 = C too much; remove C, and once more if that
	 * borrows again (the value was below C). */
	uint64_t k = sub_small(t, bw);
	sub_small(t, k);
	memcpy(r->n, t, sizeof(t));
}

void cr_fe_neg(struct cr_fe *r, const struct cr_fe *a)
{
	static const struct cr_fe zero = { { 0, 0, 0, 0 } };
	cr_fe_sub(r, &zero, a);
}

/* r = t mod p (weakly) for a 512-bit t. */
static void reduce512(uint64_t r[4], const uint64_t t[8])
{
	u128 d = 0;
	for (int i = 0; i < 4; i++) {
		d += (u128)t[4 + i] * FE_C + t[i];
		r[i] = (uint64_t)d;
		d >>= 64;
	}
	/* d < 2^34 now; d * C < 2^67. If folding it wraps, the result is below
	 * 2^67 and the last fold of C cannot wrap again. */
	uint64_t k = add_small(r, (uint64_t)d);
	add_small(r, k);
}

void cr_fe_mul(struct cr_fe *r, const struct cr_fe *a, const struct cr_fe *b)
{
	uint64_t t[8] = { 0 };
	for (int i = 0; i < 4; i++) {
		u128 d = 0;
		for (int j = 0; j < 4; j++) {
			d += (u128)a->n[i] * b->n[j] + t[i + j];
			t[i + j] = (uint64_t)d;
			d >>= 64;
		}
		t[i + 4] = (uint64_t)d;
	}
	reduce512(r->n, t);
}

void cr_fe_sqr(struct cr_fe *r, const struct cr_fe *a)
{
	const uint64_t *x = a->n;
	uint64_t t[8] = { 0 };
	/* Off-diagonal products once, doubled, then the squares added. */
	for (int i = 0; i < 3; i++) {
		u128 d = 0;
		for (int j = i + 1; j < 4; j++) {
			d += (u128)x[i] * x[j] + t[i + j];
			t[i + j] = (uint64_t)d;
			d >>= 64;
		}
		t[i + 4] = (uint64_t)d;
	}
	uint64_t top = 0;
	for (int i = 0; i < 8; i++) {
		uint64_t v = t[i];
		t[i] = (v << 1) | top;
		top = v >> 63;
	}
	u128 d = 0;
	for (int i = 0; i < 4; i++) {
		u128 s = (u128)x[i] * x[i];
		d += (u128)t[2 * i] + (uint64_t)s;
		t[2 * i] = (uint64_t)d;
		d >>= 64;
		d += (u128)t[2 * i + 1] + (uint64_t)(s >> 64);
		t[2 * i + 1] = (uint64_t)d;
		d >>= 64;
	}
	reduce512(r->n, t);
}

void cr_fe_mul_int(struct cr_fe *r, const struct cr_fe *a, uint32_t k)
{
	uint64_t t[4];
	u128 d = 0;
	for (int i = 0; i < 4; i++) {
		d += (u128)a->n[i] * k;
		t[i] = (uint64_t)d;
		d >>= 64;
	}
	uint64_t c = add_small(t, (uint64_t)d);
	add_small(t, c);
	memcpy(r->n, t, sizeof(t));
}

void cr_fe_half(struct cr_fe *r, const struct cr_fe *a)
{
	/* For odd a, a + p is even and (a + p) / 2 = a / 2 mod p. */
	struct cr_fe t = *a;
	cr_fe_normalize(&t);
	uint64_t mask = 0 - (t.n[0] & 1);
	u128 d = 0;
	for (int i = 0; i < 4; i++) {
		d += (u128)t.n[i] + (FE_P.n[i] & mask);
		t.n[i] = (uint64_t)d;
		d >>= 64;
	}
	uint64_t top = (uint64_t)d;
	for (int i = 0; i < 3; i++)
		r->n[i] = (t.n[i] >> 1) | (t.n[i + 1] << 63);
	r->n[3] = (t.n[3] >> 1) | (top << 63);
}

void cr_fe_cmov(struct cr_fe *r, const struct cr_fe *a, bool flag)
{
	uint64_t mask = 0 - (uint64_t)flag;
	for (int i = 0; i < 4; i++)
		r->n[i] = (a->n[i] & mask) | (r->n[i] & ~mask);
}

static void sqr_n(struct cr_fe *r, const struct cr_fe *a, int n)
{
	*r = *a;
	for (int i = 0; i < n; i++)
		cr_fe_sqr(r, r);
}

void cr_fe_pow_pm3d4(struct cr_fe *r, const struct cr_fe *a)
{
	/* (p-3)/4 in binary is 223 ones, 0, 22 ones, 0000, 1011. Build runs of
	 * ones x_k = a^(2^k - 1) and stitch them: 253 squarings, 13 products. */
	struct cr_fe x2, x3, x6, x9, x11, x22, x44, x88, x176, x220, x223, t;
	cr_fe_sqr(&x2, a);
	cr_fe_mul(&x2, &x2, a);
	cr_fe_sqr(&x3, &x2);
	cr_fe_mul(&x3, &x3, a);
	sqr_n(&x6, &x3, 3);
	cr_fe_mul(&x6, &x6, &x3);
	sqr_n(&x9, &x6, 3);
	cr_fe_mul(&x9, &x9, &x3);
	sqr_n(&x11, &x9, 2);
	cr_fe_mul(&x11, &x11, &x2);
	sqr_n(&x22, &x11, 11);
	cr_fe_mul(&x22, &x22, &x11);
	sqr_n(&x44, &x22, 22);
	cr_fe_mul(&x44, &x44, &x22);
	sqr_n(&x88, &x44, 44);
	cr_fe_mul(&x88, &x88, &x44);
	sqr_n(&x176, &x88, 88);
	cr_fe_mul(&x176, &x176, &x88);
	sqr_n(&x220, &x176, 44);
	cr_fe_mul(&x220, &x220, &x44);
	sqr_n(&x223, &x220, 3);
	cr_fe_mul(&x223, &x223, &x3);
	sqr_n(&t, &x223, 23);
	cr_fe_mul(&t, &t, &x22);
	sqr_n(&t, &t, 5);
	cr_fe_mul(&t, &t, a);
	sqr_n(&t, &t, 2);
	cr_fe_mul(&t, &t, a);
	cr_fe_sqr(&t, &t);
	cr_fe_mul(r, &t, a);
}

void cr_fe_inv(struct cr_fe *r, const struct cr_fe *a)
{
	struct cr_fe t;
	cr_fe_pow_pm3d4(&t, a);
	cr_fe_sqr(&t, &t);
	cr_fe_sqr(&t, &t);
	cr_fe_mul(r, &t, a);
}

bool cr_fe_sqrt(struct cr_fe *r, const struct cr_fe *a)
{
	struct cr_fe t, chk;
	cr_fe_pow_pm3d4(&t, a);
	cr_fe_mul(&t, &t, a);
	cr_fe_sqr(&chk, &t);
	bool ok = cr_fe_equal(&chk, a);
	*r = t;
	return ok;
}

bool cr_fe_is_square(const struct cr_fe *a)
{
	/* Euler's criterion: a^((p-1)/2) is 1 for squares, p-1 otherwise. */
	struct cr_fe t, one;
	cr_fe_pow_pm3d4(&t, a);
	cr_fe_sqr(&t, &t);
	cr_fe_mul(&t, &t, a);
	cr_fe_set_int(&one, 1);
	return cr_fe_equal(&t, &one) || cr_fe_is_zero(a);
}

void cr_fe_inv_var(struct cr_fe *r, const struct cr_fe *a)
{
	cr_fe_inv(r, a);
}

bool cr_fe_is_square_var(const struct cr_fe *a)
{
	return cr_fe_is_square(a);
}
