/* SipHash-2-4 (Aumasson and Bernstein, 2012), the keyed hash Bitcoin Core
 * uses wherever an attacker must not predict or grind a choice (address
 * relay destinations, the getaddr cache key, the connected-address set).
 * Incremental: write bytes or 64-bit words, then finalize; a hasher may be
 * copied to hash several messages that share a prefix. Pure; any thread
 * on its own hasher. */
#ifndef CR_POLICY_SIPHASH_H
#define CR_POLICY_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

struct cr_siphash {
	uint64_t v[4];
	uint64_t tail;  /* bytes not yet forming a whole word, little-endian */
	uint64_t count; /* bytes written */
};

void cr_siphash_init(struct cr_siphash *h, uint64_t k0, uint64_t k1);
void cr_siphash_write(struct cr_siphash *h, const void *data, size_t len);
/* Eight bytes, little-endian (Core's CSipHasher::Write(uint64_t)). */
void cr_siphash_write_u64(struct cr_siphash *h, uint64_t x);
/* The 64-bit result; h is left unchanged, so more may be written after. */
uint64_t cr_siphash_final(const struct cr_siphash *h);

/* One-shot. */
uint64_t cr_siphash(uint64_t k0, uint64_t k1, const void *data, size_t len);

#endif
