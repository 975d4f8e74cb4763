/* SipHash-2-4 from the paper's description: four 64-bit lanes, two
 * compression rounds per 8-byte word, four finalisation rounds, the length
 * in the top byte of the last word. Pure; any thread. */
#include <string.h>

#include "engine/policy/siphash.h"

static inline uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static inline void round2(uint64_t v[4], int n)
{
	for (int i = 0; i < n; i++) {
		v[0] += v[1];
		v[1] = rotl(v[1], 13);
		v[1] ^= v[0];
		v[0] = rotl(v[0], 32);
		v[2] += v[3];
		v[3] = rotl(v[3], 16);
		v[3] ^= v[2];
		v[0] += v[3];
		v[3] = rotl(v[3], 21);
		v[3] ^= v[0];
		v[2] += v[1];
		v[1] = rotl(v[1], 17);
		v[1] ^= v[2];
		v[2] = rotl(v[2], 32);
	}
}

static inline void compress(uint64_t v[4], uint64_t m)
{
	v[3] ^= m;
	round2(v, 2);
	v[0] ^= m;
}

void cr_siphash_init(struct cr_siphash *h, uint64_t k0, uint64_t k1)
{
	h->v[0] = k0 ^ 0x736f6d6570736575ull; /* "somepseudorandomlygeneratedbytes" */
	h->v[1] = k1 ^ 0x646f72616e646f6dull;
	h->v[2] = k0 ^ 0x6c7967656e657261ull;
	h->v[3] = k1 ^ 0x7465646279746573ull;
	h->tail = 0;
	h->count = 0;
}

void cr_siphash_write(struct cr_siphash *h, const void *data, size_t len)
{
	const uint8_t *p = data;
	for (size_t i = 0; i < len; i++) {
		h->tail |= (uint64_t)p[i] << (8 * (h->count & 7));
		h->count++;
		if ((h->count & 7) == 0) {
			compress(h->v, h->tail);
			h->tail = 0;
		}
	}
}

void cr_siphash_write_u64(struct cr_siphash *h, uint64_t x)
{
	if ((h->count & 7) == 0) {
		compress(h->v, x);
		h->count += 8;
		return;
	}
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(x >> (8 * i));
	cr_siphash_write(h, b, 8);
}

uint64_t cr_siphash_final(const struct cr_siphash *h)
{
	uint64_t v[4];
	memcpy(v, h->v, sizeof v);
	uint64_t b = h->tail | (h->count << 56);
	compress(v, b);
	v[2] ^= 0xff;
	round2(v, 4);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

uint64_t cr_siphash(uint64_t k0, uint64_t k1, const void *data, size_t len)
{
	struct cr_siphash h;
	cr_siphash_init(&h, k0, k1);
	cr_siphash_write(&h, data, len);
	return cr_siphash_final(&h);
}
