/* A deterministic, seedable random number generator for addr/ policy code.
 *
 * addr/ never draws its own randomness: callers pass a struct cr_rng seeded
 * from the OS (engine) or from a fixed seed (tests), so every decision can
 * be replayed. xoshiro256** — fast and statistically sound; NOT for secrets
 * (keys that must stay secret, like the addrman and netgroup keys, are drawn
 * by the engine from getrandom and passed in). One thread per object. */
#ifndef CR_ADDR_RNG_H
#define CR_ADDR_RNG_H

#include <stdint.h>

struct cr_rng {
	uint64_t s[4];
};

static inline uint64_t cr_rng_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* Seeds from a 64-bit value through splitmix64 (never all-zero state). */
static inline void cr_rng_seed(struct cr_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++) {
		uint64_t z = (seed += 0x9e3779b97f4a7c15ull);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		r->s[i] = z ^ (z >> 31);
	}
}

static inline uint64_t cr_rng_u64(struct cr_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = cr_rng_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = cr_rng_rotl(s[3], 45);
	return result;
}

/* Uniform in [0, n) without modulo bias (Lemire's method); n > 0. */
static inline uint64_t cr_rng_below(struct cr_rng *r, uint64_t n)
{
	unsigned __int128 m = (unsigned __int128)cr_rng_u64(r) * n;
	uint64_t low = (uint64_t)m;
	if (low < n) {
		uint64_t threshold = -n % n;
		while (low < threshold) {
			m = (unsigned __int128)cr_rng_u64(r) * n;
			low = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}

/* A uniform number of `bits` bits (0..64). */
static inline uint64_t cr_rng_bits(struct cr_rng *r, int bits)
{
	return bits == 0 ? 0 : cr_rng_u64(r) >> (64 - bits);
}

#endif
