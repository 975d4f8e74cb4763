/* A decoder of Bitcoin Core's peers.dat (src/addrman.cpp Serialize, as
 * written by every Core since 0.21's format 3 and read back to format 0),
 * so an operator can bring a bitcoind's address knowledge to connring.
 *
 * File: the chain's 4 magic bytes, the address manager, and SHA256d of all
 * that before it. The address manager: format byte (0..4), lowest
 * compatible format + 32, the 32-byte bucket key, nNew and nTried (int32),
 * the new-bucket count (xor 2^30 from format 1), nNew then nTried entries,
 * per new bucket a count and entry indexes, and from format 2 the asmap
 * checksum. An entry is a CAddress in disk form (a version word whose high
 * bits say V1 or, from format 3, BIP155 encoding; time; services; address;
 * big-endian port), the source address, last success (int64) and attempts
 * (int32).
 *
 * The whole file is checked before anything is returned: magic, checksum,
 * every length against what is left, Core's count limits, a zero key
 * (Core's consistency check -16), formats from the future, trailing bytes.
 * Entries Core would drop on load (unknown networks, Tor v2, IPv6 ranges
 * embedding another network, invalid tried entries) are counted in
 * `skipped`, not returned. Bucket positions are not returned: connring's
 * address manager hashes with its own key (see addrman.h), so entries are
 * re-bucketed on import, as Core does when the asmap changes.
 *
 * Deliberate differences from Core: a file with bytes after the checksum is
 * refused (Core ignores them); the per-bucket counts are bounded by what is
 * left in the file (Core reads until end of file).
 *
 * Sans-IO and deterministic: bytes in, entries out; any thread. */
#ifndef CR_ADDR_PEERSDAT_H
#define CR_ADDR_PEERSDAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/netaddr.h"

#define CR_PEERSDAT_FORMAT_MAX 4        /* Core's V4_MULTIPORT */
#define CR_PEERSDAT_INCOMPAT_BASE 32
#define CR_PEERSDAT_NEW_MAX (1024 * 64) /* Core's nNew limit */
#define CR_PEERSDAT_TRIED_MAX (256 * 64)

struct cr_peersdat_entry {
	struct cr_peeraddr addr;     /* time = last seen; services */
	struct cr_netaddr source;    /* who told the bitcoind (net 0 when unusable) */
	int64_t last_success;
	int32_t attempts;
	bool tried;
};

struct cr_peersdat {
	uint8_t format;              /* 0..4 */
	uint8_t lowest_compatible;
	uint8_t key[32];
	bool has_asmap_checksum;     /* format >= 2 */
	uint8_t asmap_checksum[32];
	uint32_t nnew, ntried;       /* as the file declares */
	uint32_t nbuckets;           /* new-bucket count in the file (1024 for Core) */
	size_t n;                    /* entries returned */
	size_t skipped;              /* entries Core would drop too */
	struct cr_peersdat_entry *entries; /* malloc'd; cr_peersdat_clear frees */
};

/* Decodes a whole peers.dat of len bytes for the chain whose magic is
 * given. Returns 0 and fills *out, or a negative CR_E_* with why filled
 * and *out empty: CR_E_STORE_MAGIC (another chain or not a peers.dat),
 * CR_E_STORE_CHECKSUM, CR_E_STORE_TRUNCATED, CR_E_STORE_VERSION (a format
 * from the future), CR_E_STORE_TOOLARGE (trailing bytes),
 * CR_E_ADDRMAN_CORRUPT (bad counts, bad entry, zero key) or CR_E_NOMEM. */
int cr_peersdat_decode(struct cr_peersdat *out, const uint8_t *file, size_t len,
		       const uint8_t magic[4], char *why, size_t why_len);

void cr_peersdat_clear(struct cr_peersdat *p);

#endif
