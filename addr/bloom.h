/* A rolling bloom filter with Bitcoin Core's CRollingBloomFilter semantics.
 *
 * Holds about the last n_elements insertions (between n and 1.5 n) with at
 * most fp_rate false positives: three generations of n/2 entries share one
 * bit array with two bits per position (the generation that set it), and
 * starting a new generation wipes the oldest. Fixed memory, allocated once
 * (about 540 kB for Core's 50,000 / 1e-6). Hashes are MurmurHash3 with a
 * caller-chosen 32-bit tweak, so a filter is deterministic given its
 * tweak; pass a secret random tweak in production so peers cannot craft
 * colliding keys. One thread per filter. */
#ifndef CR_ADDR_BLOOM_H
#define CR_ADDR_BLOOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cr_bloom;

/* n_elements in 1..10,000,000, fp_rate in (0, 1). NULL on bad arguments or
 * out of memory. */
struct cr_bloom *cr_bloom_new(uint32_t n_elements, double fp_rate, uint32_t tweak);
void cr_bloom_free(struct cr_bloom *b);

void cr_bloom_insert(struct cr_bloom *b, const uint8_t *key, size_t len);
bool cr_bloom_contains(const struct cr_bloom *b, const uint8_t *key, size_t len);

/* Forgets everything and takes a new tweak. */
void cr_bloom_reset(struct cr_bloom *b, uint32_t tweak);

/* Number of hash functions and of bit positions (for tests and sizing). */
unsigned cr_bloom_hash_funcs(const struct cr_bloom *b);
size_t cr_bloom_bits(const struct cr_bloom *b);

/* MurmurHash3 x86_32, as Core uses it for bloom filters. */
uint32_t cr_murmur3_32(uint32_t seed, const uint8_t *data, size_t len);

#endif
