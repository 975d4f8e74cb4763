/* The set of addresses we are connected to, counted (several inbound peers
 * may share one address), for Core's AlreadyConnectedToAddress: the
 * scheduler must not pick an address any peer already has, inbound or
 * outbound, and must answer that in O(1) with 100,000 peers.
 *
 * Keys are SipHash-2-4 of the address (IPv4-mapped IPv6 folded to IPv4)
 * under a secret drawn at start-up, so a peer cannot choose addresses that
 * collide; a false "connected" needs a 64-bit collision (about 1 in 3e9
 * with 100,000 peers) and only skips one candidate. Open addressing with
 * linear probing and backward-shift deletion; the table doubles at half
 * load. One thread (the coordinator). */
#ifndef CR_POLICY_IPSET_H
#define CR_POLICY_IPSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/netaddr.h"

struct cr_ipset {
	uint64_t k0, k1;
	uint64_t *keys;   /* 0 = empty slot */
	uint32_t *counts;
	size_t cap;       /* power of two */
	size_t n;         /* distinct addresses */
};

/* Returns 0 or -ENOMEM. */
int cr_ipset_init(struct cr_ipset *s, uint64_t k0, uint64_t k1);
void cr_ipset_clear(struct cr_ipset *s);

/* Counts one more peer at a. Returns 0 or -ENOMEM (then a is not counted). */
int cr_ipset_add(struct cr_ipset *s, const struct cr_netaddr *a);
/* One peer at a fewer (no-op when a is absent). */
void cr_ipset_remove(struct cr_ipset *s, const struct cr_netaddr *a);
/* Peers at a (0 when none). */
uint32_t cr_ipset_count(const struct cr_ipset *s, const struct cr_netaddr *a);

static inline bool cr_ipset_contains(const struct cr_ipset *s, const struct cr_netaddr *a)
{
	return cr_ipset_count(s, a) != 0;
}

#endif
