/* Netgroups (Bitcoin Core's GetGroup), optional asmap, and keyed netgroups.
 *
 * A netgroup is a short byte string: a class byte then a prefix of the
 * address. Peers in one netgroup are presumed to be under one operator, so
 * outbound selection spreads across groups and inbound eviction protects
 * diverse groups. Deterministic and sans-IO; any thread, on const data. */
#ifndef CR_ADDR_NETGROUP_H
#define CR_ADDR_NETGROUP_H

#include <stddef.h>
#include <stdint.h>

#include "proto/netaddr.h"

#define CR_NETGROUP_MAX 17

/* Test-only: treat 127.0.0.0/8 as routable IPv4 so loopback tests can form
 * many /16 groups. Never set in production. */
#define CR_NETGROUP_LOOPBACK_ROUTABLE 0x1u

struct cr_asmap; /* a loaded Bitcoin Core asmap; see asmap.h */

/* Writes the group of a into out and returns its length (1..CR_NETGROUP_MAX).
 * With asmap non-NULL, an IPv4/IPv6 address (or IPv4 embedded in
 * 6to4/Teredo/mapped) that maps to a non-zero AS gets that AS as its group. */
size_t cr_netgroup(uint8_t out[CR_NETGROUP_MAX], const struct cr_netaddr *a,
		   const struct cr_asmap *asmap, unsigned flags);

/* 64-bit keyed netgroup: XXH3 of the group bytes with a 64-bit secret drawn
 * at start-up. Without the secret an attacker can neither predict nor grind
 * the value (see netgroup.c). */
uint64_t cr_netgroup_keyed(uint64_t secret, const uint8_t *group, size_t group_len);

#endif
