/* Rolling bloom filter after Core's CRollingBloomFilter; see bloom.h.
 * One thread per filter; no allocation after cr_bloom_new. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "addr/bloom.h"

struct cr_bloom {
	unsigned n_hash;
	uint32_t tweak;
	uint32_t per_generation;  /* entries in one generation: (n + 1) / 2 */
	uint32_t this_generation; /* entries so far in the current one */
	uint32_t generation;      /* 1, 2 or 3 */
	size_t words;             /* uint64_t words in data, always even */
	uint64_t data[];          /* pairs: bit p is bit (p & 63) of data[2(p>>6)] and [2(p>>6)+1] */
};

static uint32_t rotl32(uint32_t x, int r)
{
	return (x << r) | (x >> (32 - r));
}

uint32_t cr_murmur3_32(uint32_t seed, const uint8_t *data, size_t len)
{
	const uint32_t c1 = 0xcc9e2d51, c2 = 0x1b873593;
	uint32_t h = seed, k;
	size_t nblocks = len / 4;

	for (size_t i = 0; i < nblocks; i++) {
		const uint8_t *p = data + 4 * i;
		k = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
		k = rotl32(k * c1, 15) * c2;
		h = rotl32(h ^ k, 13) * 5 + 0xe6546b64;
	}
	const uint8_t *tail = data + nblocks * 4;
	k = 0;
	switch (len & 3) {
	case 3: k ^= (uint32_t)tail[2] << 16; /* fall through */
	case 2: k ^= (uint32_t)tail[1] << 8;  /* fall through */
	case 1:
		k ^= tail[0];
		h ^= rotl32(k * c1, 15) * c2;
	}
	h ^= (uint32_t)len;
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

struct cr_bloom *cr_bloom_new(uint32_t n_elements, double fp_rate, uint32_t tweak)
{
	if (n_elements == 0 || n_elements > 10000000 || !(fp_rate > 0 && fp_rate < 1))
		return NULL;
	double log_fp = log(fp_rate);
	/* Optimal k = log(fp) / log(0.5), kept within 1..50 as Core does. */
	long k = lround(log_fp / log(0.5));
	k = k < 1 ? 1 : k > 50 ? 50 : k;
	uint32_t per_gen = (n_elements + 1) / 2;
	double max_elems = (double)per_gen * 3;
	/* fp = (1 - exp(-k n / m))^k solved for m with n = 3 generations. */
	double bits = ceil(-1.0 * (double)k * max_elems / log(1.0 - exp(log_fp / (double)k)));
	size_t words = (((size_t)bits + 63) / 64) * 2;
	struct cr_bloom *b = calloc(1, sizeof(*b) + words * sizeof(uint64_t));
	if (!b)
		return NULL;
	b->n_hash = (unsigned)k;
	b->per_generation = per_gen;
	b->words = words;
	cr_bloom_reset(b, tweak);
	return b;
}

void cr_bloom_free(struct cr_bloom *b)
{
	free(b);
}

void cr_bloom_reset(struct cr_bloom *b, uint32_t tweak)
{
	b->tweak = tweak;
	b->this_generation = 0;
	b->generation = 1;
	memset(b->data, 0, b->words * sizeof(uint64_t));
}

static uint32_t bloom_hash(const struct cr_bloom *b, unsigned n, const uint8_t *key, size_t len)
{
	return cr_murmur3_32(n * 0xfba4c795u + b->tweak, key, len);
}

/* Lemire's multiply-shift in place of h % n; h is uniform over 32 bits. */
static size_t fast_mod(uint32_t h, size_t n)
{
	return (size_t)(((uint64_t)h * (uint64_t)n) >> 32);
}

void cr_bloom_insert(struct cr_bloom *b, const uint8_t *key, size_t len)
{
	if (b->this_generation == b->per_generation) {
		b->this_generation = 0;
		if (++b->generation == 4)
			b->generation = 1;
		uint64_t m1 = 0 - (uint64_t)(b->generation & 1);
		uint64_t m2 = 0 - (uint64_t)(b->generation >> 1);
		/* Clear positions whose 2-bit generation equals the new one:
		 * those belong to the oldest generation being recycled. */
		for (size_t p = 0; p < b->words; p += 2) {
			uint64_t p1 = b->data[p], p2 = b->data[p + 1];
			uint64_t keep = (p1 ^ m1) | (p2 ^ m2);
			b->data[p] = p1 & keep;
			b->data[p + 1] = p2 & keep;
		}
	}
	b->this_generation++;
	for (unsigned n = 0; n < b->n_hash; n++) {
		uint32_t h = bloom_hash(b, n, key, len);
		int bit = h & 63;
		/* fast_mod uses the high bits of h, bit the low ones. */
		size_t pos = fast_mod(h, b->words);
		uint64_t one = (uint64_t)1 << bit;
		b->data[pos & ~(size_t)1] = (b->data[pos & ~(size_t)1] & ~one) |
					    ((uint64_t)(b->generation & 1) << bit);
		b->data[pos | 1] = (b->data[pos | 1] & ~one) | ((uint64_t)(b->generation >> 1) << bit);
	}
}

bool cr_bloom_contains(const struct cr_bloom *b, const uint8_t *key, size_t len)
{
	for (unsigned n = 0; n < b->n_hash; n++) {
		uint32_t h = bloom_hash(b, n, key, len);
		int bit = h & 63;
		size_t pos = fast_mod(h, b->words);
		if (!(((b->data[pos & ~(size_t)1] | b->data[pos | 1]) >> bit) & 1))
			return false;
	}
	return true;
}

unsigned cr_bloom_hash_funcs(const struct cr_bloom *b)
{
	return b->n_hash;
}

size_t cr_bloom_bits(const struct cr_bloom *b)
{
	return b->words / 2 * 64;
}
