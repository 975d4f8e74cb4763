/* ElligatorSwift (BIP324) over our field code, and x-only ECDH through
 * libsecp256k1 (see ellswift.h).
 *
 * The maps work on fractions so that a decode costs square tests plus one
 * exponentiation: a candidate x = n/d lies on the curve iff (n^3 + 7d^3) * d
 * is a square, and one power a^((p-3)/4) then yields both 1/d and y. Public
 * data only in the maps (the encoded key is sent in the clear); the secret
 * key only ever reaches libsecp256k1. No globals; any thread with its own
 * struct cr_secp. */
#include "proto/ellswift.h"

#include <secp256k1.h>
#include <secp256k1_ecdh.h>
#include <stdlib.h>
#include <string.h>

#include "proto/crypto.h"
#include "proto/err.h"
#include "proto/field.h"

struct cr_secp {
	secp256k1_context *ctx;
	struct cr_cipher_ws *ws; /* the thread's BIP324 cipher contexts */
};

/* BIP324: c = sqrt(-3) mod p, the root that is itself a square; and the
 * derived constants (1 - c)/2 and (1 + c)/2. The vectors exercise all three. */
static const struct cr_fe SQRT_M3 = { { 0x7d8d27ae1cd5f852ULL, 0xc61f6d15da14ecd4ULL,
					0x233770c2a797962cULL, 0x0a2d2ba93507f1dfULL } };
static const struct cr_fe K_1MC_2 = { { 0xc1396c28719501efULL, 0x9cf0497512f58995ULL,
					0x6e64479eac3434e9ULL, 0x7ae96a2b657c0710ULL } };
static const struct cr_fe K_1PC_2 = { { 0x3ec693d68e6afa41ULL, 0x630fb68aed0a766aULL,
					0x919bb86153cbcb16ULL, 0x851695d49a83f8efULL } };

/* Attempts before the encoder gives up; each succeeds with probability about
 * 1/4, so reaching this bound has probability below 2^-1000. */
#define ENCODE_MAX_TRIES 4096

struct cr_secp *cr_secp_new(const uint8_t seed32[32])
{
	struct cr_secp *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
	s->ws = cr_cipher_ws_new();
	/* Blinding of key generation; fails only on a broken context. */
	if (!s->ctx || !s->ws || !secp256k1_context_randomize(s->ctx, seed32)) {
		cr_secp_free(s);
		return NULL;
	}
	return s;
}

void cr_secp_free(struct cr_secp *s)
{
	if (!s)
		return;
	if (s->ctx)
		secp256k1_context_destroy(s->ctx);
	cr_cipher_ws_free(s->ws);
	free(s);
}

struct cr_cipher_ws *cr_secp_cipher_ws(const struct cr_secp *s)
{
	return s->ws;
}

/* g(x) = x^3 + 7, for x = n/d scaled to (n^3 + 7 d^3). */
static void curve_num(struct cr_fe *r, const struct cr_fe *n, const struct cr_fe *d)
{
	struct cr_fe n3, d3;
	cr_fe_sqr(&n3, n);
	cr_fe_mul(&n3, &n3, n);
	cr_fe_sqr(&d3, d);
	cr_fe_mul(&d3, &d3, d);
	cr_fe_mul_int(&d3, &d3, 7);
	cr_fe_add(r, &n3, &d3);
}

/* Whether n/d (d != 0) is the x of a curve point. */
static bool frac_on_curve_var(const struct cr_fe *n, const struct cr_fe *d)
{
	struct cr_fe a;
	curve_num(&a, n, d);
	cr_fe_mul(&a, &a, d);
	return cr_fe_is_square_var(&a);
}

/* XSwiftEC(u, t) as a fraction xn/xd, following BIP324's candidate order. */
static void xswiftec_frac_var(struct cr_fe *xn, struct cr_fe *xd, const struct cr_fe *u_in,
			      const struct cr_fe *t_in)
{
	struct cr_fe u = *u_in, t = *t_in, g, t2, s, xnum, ynum, tmp;
	/* BIP324: u = 0 and t = 0 become 1; u^3 + t^2 + 7 = 0 doubles t. */
	if (cr_fe_is_zero(&u))
		cr_fe_set_int(&u, 1);
	if (cr_fe_is_zero(&t))
		cr_fe_set_int(&t, 1);
	cr_fe_sqr(&g, &u);
	cr_fe_mul(&g, &g, &u);
	cr_fe_set_int(&tmp, 7);
	cr_fe_add(&g, &g, &tmp); /* g = u^3 + 7 */
	cr_fe_sqr(&t2, &t);
	cr_fe_add(&s, &g, &t2);
	if (cr_fe_is_zero(&s)) {
		cr_fe_add(&t, &t, &t);
		cr_fe_sqr(&t2, &t);
		cr_fe_add(&s, &g, &t2);
	}
	/* X = xnum / (2t) with xnum = g - t^2; Y = (X + t)/(c u) = ynum / (2 t c u)
	 * with ynum = g + t^2 = s, nonzero after the remap. Then
	 * X/Y = xnum c u / ynum, and the candidates are
	 *   x1 = u + 4 Y^2     = (u yd^2 + 4 s^2) / yd^2   with yd = 2 t c u
	 *   x2 = (-X/Y - u)/2  = -u (c xnum + s) / (2 s)
	 *   x3 = ( X/Y - u)/2  =  u (c xnum - s) / (2 s)
	 * All denominators are nonzero, so only the final x needs a division. */
	cr_fe_sub(&xnum, &g, &t2);
	ynum = s;
	struct cr_fe yd, yd2, cx;
	cr_fe_mul(&yd, &t, &u);
	cr_fe_mul(&yd, &yd, &SQRT_M3);
	cr_fe_add(&yd, &yd, &yd); /* 2 t c u */
	cr_fe_sqr(&yd2, &yd);
	cr_fe_mul(xn, &u, &yd2);
	cr_fe_sqr(&tmp, &ynum);
	cr_fe_mul_int(&tmp, &tmp, 4);
	cr_fe_add(xn, xn, &tmp);
	*xd = yd2;
	if (frac_on_curve_var(xn, xd))
		return;
	cr_fe_mul(&cx, &xnum, &SQRT_M3);
	cr_fe_add(&tmp, &cx, &ynum);
	cr_fe_mul(xn, &tmp, &u);
	cr_fe_neg(xn, xn);
	cr_fe_add(xd, &ynum, &ynum);
	if (frac_on_curve_var(xn, xd))
		return;
	/* BIP324 guarantees one of the three is valid. */
	cr_fe_sub(&tmp, &cx, &ynum);
	cr_fe_mul(xn, &tmp, &u);
}

/* From x = n/d on the curve: x and the y that is a square root of x^3 + 7.
 * With a = (n^3 + 7 d^3) d (a nonzero square) and A = a^((p-3)/4):
 * A^2 = 1/a, so 1/d = (n^3 + 7d^3) A^2, and y = a A / d^2. */
static void frac_to_xy(struct cr_fe *x, struct cr_fe *y, const struct cr_fe *n,
		       const struct cr_fe *d)
{
	struct cr_fe num, a, A, dinv, t;
	curve_num(&num, n, d);
	cr_fe_mul(&a, &num, d);
	cr_fe_pow_pm3d4(&A, &a);
	cr_fe_sqr(&t, &A);
	cr_fe_mul(&dinv, &t, &num);
	cr_fe_mul(x, n, &dinv);
	if (y) {
		cr_fe_mul(&t, &a, &A);
		cr_fe_sqr(&dinv, &dinv);
		cr_fe_mul(y, &t, &dinv);
	}
}

void cr_xswiftec_var(uint8_t x32[32], const uint8_t u32[32], const uint8_t t32[32])
{
	struct cr_fe u, t, n, d, x;
	cr_fe_set_b32_mod(&u, u32);
	cr_fe_set_b32_mod(&t, t32);
	xswiftec_frac_var(&n, &d, &u, &t);
	frac_to_xy(&x, NULL, &n, &d);
	cr_fe_get_b32(x32, &x);
}

void cr_ellswift_decode_var(uint8_t x32[32], const uint8_t ell64[64])
{
	cr_xswiftec_var(x32, ell64, ell64 + 32);
}

/* sqrt(n/d) = n d (n d^3)^((p-3)/4) for d != 0, one exponentiation; false
 * when n/d is not a square. */
static bool sqrt_frac(struct cr_fe *r, const struct cr_fe *n, const struct cr_fe *d)
{
	struct cr_fe nd, q, chk;
	cr_fe_mul(&nd, n, d);
	cr_fe_sqr(&q, d);
	cr_fe_mul(&q, &q, &nd);
	cr_fe_pow_pm3d4(&q, &q);
	cr_fe_mul(r, &q, &nd);
	cr_fe_sqr(&chk, r);
	cr_fe_mul(&chk, &chk, d);
	return cr_fe_equal(&chk, n);
}

/* XSwiftECInv, cases with c & 2 = 0: v = x, s = -(u^3 + 7)/(u^2 + uv + v^2);
 * w = sqrt(s). g = u^3 + 7. Cheap square tests go before the root. */
static bool inv_cases_0145(struct cr_fe *v, struct cr_fe *w, const struct cr_fe *x,
			   const struct cr_fe *u, const struct cr_fe *g)
{
	struct cr_fe m, den, tmp, seven;
	/* If -x-u is on the curve, this (u, x) pair is served by the other
	 * cases. */
	cr_fe_add(&m, x, u);
	cr_fe_neg(&m, &m);
	cr_fe_sqr(&tmp, &m);
	cr_fe_mul(&tmp, &tmp, &m);
	cr_fe_set_int(&seven, 7);
	cr_fe_add(&tmp, &tmp, &seven);
	if (cr_fe_is_square_var(&tmp))
		return false;
	*v = *x;
	cr_fe_add(&den, u, v);
	cr_fe_mul(&den, &den, u);
	cr_fe_sqr(&tmp, v);
	cr_fe_add(&den, &den, &tmp);
	if (cr_fe_is_zero(&den))
		return false; /* only when x is not on the curve */
	/* s = -g/den is a square iff -g * den is. */
	cr_fe_neg(&tmp, g);
	cr_fe_mul(&m, &tmp, &den);
	return cr_fe_is_square_var(&m) && sqrt_frac(w, &tmp, &den);
}

/* XSwiftECInv, cases with c & 2 = 2: s = x - u, r = sqrt(-s(4g + 3u^2 s)),
 * v = (r/s - u)/2, w = sqrt(s). */
static bool inv_cases_2367(struct cr_fe *v, struct cr_fe *w, const struct cr_fe *x,
			   const struct cr_fe *u, const struct cr_fe *g, int c)
{
	struct cr_fe s, q, r, S, tmp;
	cr_fe_sub(&s, x, u);
	if (cr_fe_is_zero(&s) || !cr_fe_is_square_var(&s))
		return false;
	cr_fe_sqr(&q, u);
	cr_fe_mul(&q, &q, &s);
	cr_fe_mul_int(&q, &q, 3);
	cr_fe_mul_int(&tmp, g, 4);
	cr_fe_add(&q, &q, &tmp);
	cr_fe_mul(&q, &q, &s);
	cr_fe_neg(&q, &q);
	if (!cr_fe_is_square_var(&q) || !cr_fe_sqrt(&r, &q))
		return false;
	if ((c & 1) && cr_fe_is_zero(&r))
		return false;
	/* w = sqrt(s) and 1/s = S^2 from one power S = s^((p-3)/4), s being a
	 * nonzero square. */
	cr_fe_pow_pm3d4(&S, &s);
	cr_fe_mul(w, &S, &s);
	cr_fe_sqr(&S, &S);
	cr_fe_mul(v, &r, &S);
	cr_fe_sub(v, v, u);
	cr_fe_half(v, v);
	return true;
}

/* XSwiftECInv(x, u, c) on field elements (BIP324, case c in 0..7). */
static bool xswiftec_inv_var(struct cr_fe *t, const struct cr_fe *x, const struct cr_fe *u,
			     int c)
{
	struct cr_fe g, v, w, tmp;
	cr_fe_sqr(&g, u);
	cr_fe_mul(&g, &g, u);
	cr_fe_set_int(&tmp, 7);
	cr_fe_add(&g, &g, &tmp); /* u^3 + 7 */
	if (!((c & 2) ? inv_cases_2367(&v, &w, x, u, &g, c) : inv_cases_0145(&v, &w, x, u, &g)))
		return false;
	/* t = +-w (u (1 -+ c)/2 + v), chosen by bits 0 and 2 of the case. */
	cr_fe_mul(&tmp, u, (c & 1) ? &K_1PC_2 : &K_1MC_2);
	cr_fe_add(&tmp, &tmp, &v);
	cr_fe_mul(t, &tmp, &w);
	int sel = c & 5;
	if (sel == 0 || sel == 5)
		cr_fe_neg(t, t);
	return true;
}

bool cr_xswiftec_inv_var(uint8_t t32[32], const uint8_t x32[32], const uint8_t u32[32], int c)
{
	struct cr_fe x, u, t;
	cr_fe_set_b32_mod(&x, x32);
	cr_fe_set_b32_mod(&u, u32);
	/* BIP324 draws u from 1..p-1: XSwiftEC maps u = 0 to 1, so a t found
	 * for u = 0 would not decode back. */
	if (c < 0 || c > 7 || cr_fe_is_zero(&u) || !xswiftec_inv_var(&t, &x, &u, c)) {
		memset(t32, 0, 32);
		return false;
	}
	cr_fe_get_b32(t32, &t);
	return true;
}

/* Deterministic stream for the encoder: block i is
 * SHA256(tagged-hash prefix || rnd32 || x32 || be32(i)). */
static void stream_block(const struct cr_sha256 *base, uint32_t i, uint8_t out[32])
{
	struct cr_sha256 h = *base;
	uint8_t be[4] = { (uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };
	cr_sha256_update(&h, be, sizeof(be));
	cr_sha256_final(&h, out);
}

/* XElligatorSwift(x): draws u and a case until XSwiftECInv succeeds. */
static int xelligatorswift(uint8_t ell64[64], const uint8_t x32[32], const uint8_t rnd32[32])
{
	struct cr_sha256 base;
	struct cr_fe x, u, t;
	uint8_t cases[32];
	uint32_t ctr = 0;

	cr_tagged_hash_init(&base, "connring/ellswift_encode");
	cr_sha256_update(&base, rnd32, 32);
	cr_sha256_update(&base, x32, 32);
	cr_fe_set_b32_mod(&x, x32);
	for (int i = 0; i < ENCODE_MAX_TRIES; i++) {
		/* One block of case bits serves 64 attempts (a nibble each). */
		if (i % 64 == 0)
			stream_block(&base, ctr++, cases);
		int c = (cases[(i % 64) / 2] >> (4 * (i & 1))) & 7;
		stream_block(&base, ctr++, ell64);
		cr_fe_set_b32_mod(&u, ell64);
		if (cr_fe_is_zero(&u))
			continue; /* BIP324: u in 1..p-1 */
		if (xswiftec_inv_var(&t, &x, &u, c)) {
			/* u keeps its raw 32 bytes (decoding reduces mod p). */
			cr_fe_get_b32(ell64 + 32, &t);
			return 0;
		}
	}
	memset(ell64, 0, 64);
	return CR_E_V2_KEY;
}

int cr_ellswift_create(const struct cr_secp *s, uint8_t ell64[64],
		       const uint8_t seckey32[32], const uint8_t rnd32[32])
{
	secp256k1_pubkey pk;
	uint8_t ser[33];
	size_t len = sizeof(ser);
	if (!secp256k1_ec_pubkey_create(s->ctx, &pk, seckey32)) {
		memset(ell64, 0, 64);
		return CR_E_V2_KEY;
	}
	secp256k1_ec_pubkey_serialize(s->ctx, ser, &len, &pk, SECP256K1_EC_COMPRESSED);
	return xelligatorswift(ell64, ser + 1, rnd32);
}

/* ECDH "hash" that hands back the bare x coordinate. */
static int ecdh_copy_x(unsigned char *out, const unsigned char *x32, const unsigned char *y32,
		       void *data)
{
	(void)y32;
	(void)data;
	memcpy(out, x32, 32);
	return 1;
}

int cr_ellswift_xonly_ecdh(const struct cr_secp *s, uint8_t x32[32],
			   const uint8_t ell_theirs64[64], const uint8_t seckey32[32])
{
	struct cr_fe u, t, n, d, x, y;
	uint8_t pub[65];
	secp256k1_pubkey pk;

	cr_fe_set_b32_mod(&u, ell_theirs64);
	cr_fe_set_b32_mod(&t, ell_theirs64 + 32);
	xswiftec_frac_var(&n, &d, &u, &t);
	frac_to_xy(&x, &y, &n, &d);
	pub[0] = 0x04;
	cr_fe_get_b32(pub + 1, &x);
	cr_fe_get_b32(pub + 33, &y);
	/* Either y works: x(k * P) = x(k * -P). Parsing re-checks the point. */
	if (!secp256k1_ec_pubkey_parse(s->ctx, &pk, pub, sizeof(pub)) ||
	    !secp256k1_ecdh(s->ctx, x32, &pk, seckey32, ecdh_copy_x, NULL)) {
		memset(x32, 0, 32);
		return CR_E_V2_KEY;
	}
	return 0;
}

int cr_ellswift_xdh(const struct cr_secp *s, uint8_t secret32[32],
		    const uint8_t ell_ours64[64], const uint8_t ell_theirs64[64],
		    const uint8_t seckey32[32], bool initiating)
{
	uint8_t shared_x[32];
	struct cr_sha256 h;

	int ret = cr_ellswift_xonly_ecdh(s, shared_x, ell_theirs64, seckey32);
	if (ret) {
		memset(secret32, 0, 32);
		return ret;
	}
	/* BIP324: the initiator's encoding comes first. */
	cr_tagged_hash_init(&h, "bip324_ellswift_xonly_ecdh");
	cr_sha256_update(&h, initiating ? ell_ours64 : ell_theirs64, 64);
	cr_sha256_update(&h, initiating ? ell_theirs64 : ell_ours64, 64);
	cr_sha256_update(&h, shared_x, 32);
	cr_sha256_final(&h, secret32);
	cr_wipe(&h, sizeof(h));
	cr_wipe(shared_x, sizeof(shared_x));
	return 0;
}
