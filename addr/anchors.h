/* Anchors: the block-relay-only peers of the last run (at most 2), saved at
 * shutdown and tried first at the next start, as Core's anchors.dat, so an
 * attacker who restarts us (or waits for a restart) does not get a fresh
 * chance to eclipse our block-relay connections. Stored with addr/store.
 * Blocking file I/O on the coordinator thread. */
#ifndef CR_ADDR_ANCHORS_H
#define CR_ADDR_ANCHORS_H

#include <stddef.h>
#include <stdint.h>

#include "proto/netaddr.h"

#define CR_ANCHORS_MAX 2
#define CR_ANCHORS_MAGIC 0x6e616372u /* "rcan" */
#define CR_ANCHORS_VERSION 1u

/* Body: count u8 (<= CR_ANCHORS_MAX), then per peer net u8, len u8,
 * address, port u16, time u32, services u64 (little-endian). encode writes
 * at most CR_ANCHORS_BODY_MAX bytes and returns the length, or CR_E_INVAL
 * (n above the limit or a malformed address). decode returns 0 or
 * CR_E_STORE_BODY (unknown network, length not its network's, count above
 * the limit, short or trailing bytes); out[0..*n) valid on success, *n = 0
 * on failure. */
#define CR_ANCHORS_BODY_MAX (1 + CR_ANCHORS_MAX * (2 + CR_NETADDR_MAX + 14))
int cr_anchors_encode(uint8_t *out, const struct cr_peeraddr *a, size_t n);
int cr_anchors_decode(struct cr_peeraddr out[CR_ANCHORS_MAX], size_t *n,
		      const uint8_t *body, size_t len);

/* Saves n (<= 2) anchors atomically. Returns 0 or -errno/CR_E_*. */
int cr_anchors_save(const char *path, const struct cr_peeraddr *a, size_t n);

/* Loads anchors: 0 with *n set; -ENOENT when there is no file (*n = 0); a
 * negative CR_E_STORE_* when the file is bad (moved aside, reason in why).
 * Like Core, the caller should delete the file once read, so a crash
 * before the next clean shutdown does not bring back stale anchors. */
int cr_anchors_load(const char *path, struct cr_peeraddr out[CR_ANCHORS_MAX], size_t *n,
		    char *why, size_t why_len);

#endif
