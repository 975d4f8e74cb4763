/* Netgroups after Bitcoin Core's NetGroupManager::GetGroup, and keyed
 * netgroups; see netgroup.h. Pure functions; any thread.
 *
 * Group bytes: a class byte (enum cr_netclass) followed by a prefix:
 *   asmap hit              CR_NETCLASS_IPV6, AS number (4 bytes, LE)  -- as Core,
 *                          so IPv4 and IPv6 space of one AS share a group
 *   local (127/8, 0/8, ::1) CR_NETCLASS_LOCAL
 *   other unroutable       CR_NETCLASS_UNROUTABLE
 *   internal               CR_NETCLASS_INTERNAL, the 10 name-hash bytes
 *   IPv4 or carried IPv4   CR_NETCLASS_IPV4, first two bytes (/16)
 *   Tor v3, I2P            class, first 4 bits (the low 4 bits set to 1)
 *   CJDNS                  class, first 12 bits (fc is constant, so 4 random)
 *   he.net 2001:470::/32   CR_NETCLASS_IPV6, /36
 *   other IPv6             CR_NETCLASS_IPV6, /32
 * Core puts loopback in its unroutable group; connring gives it a class of
 * its own so a test harness's loopback peers never mix with junk addresses.
 *
 * Why the keyed netgroup cannot be predicted or ground: the eviction policy
 * protects the peers whose keyed group value sorts highest. The value is
 * XXH3-64 of the group bytes seeded with a 64-bit secret that the engine
 * draws from getrandom() at start-up and never sends anywhere. Without the
 * seed every group maps to an unrelated, uniformly spread 64-bit number, so
 * an attacker cannot compute which /16 (or AS) would be protected and rent
 * addresses there. Grinding needs an oracle, and the only one is this node's
 * behaviour: one real connection and one eviction event per guess, visible
 * only as the relative order of a handful of groups; recovering a 64-bit
 * seed from such observations by offline search over 2^64 seeds is out of
 * reach. For the group lengths that occur (1..8 bytes, the common case)
 * XXH3 is a keyed bijection of (input, length), so two different groups of
 * equal length never collide under any seed: an attacker cannot find groups
 * that tie with a victim's. XXH3 is not a MAC, and this is not a secrecy
 * claim beyond that: it is the same argument Core makes for SipHash-keyed
 * CompareNetGroupKeyed, at a fraction of the cost. */
#include <string.h>
/* Inlined: the keys are a few bytes, where the call would cost more than
 * the hash. */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "addr/asmap.h"
#include "addr/netclass.h"
#include "addr/netgroup.h"

/* Appends nbits of src (whole bytes first) with the unused low bits of a
 * partial last byte set to 1, as Core does. */
static size_t put_bits(uint8_t *out, size_t n, const uint8_t *src, int nbits)
{
	int whole = nbits / 8, rest = nbits % 8;
	memcpy(out + n, src, (size_t)whole);
	n += (size_t)whole;
	if (rest)
		out[n++] = src[whole] | (uint8_t)((1u << (8 - rest)) - 1);
	return n;
}

static size_t group_ipv4(uint8_t *out, uint32_t ip)
{
	out[0] = CR_NETCLASS_IPV4;
	out[1] = (uint8_t)(ip >> 24);
	out[2] = (uint8_t)(ip >> 16);
	return 3;
}

size_t cr_netgroup(uint8_t out[CR_NETGROUP_MAX], const struct cr_netaddr *a,
		   const struct cr_asmap *asmap, unsigned flags)
{
	uint32_t ip;
	bool loop_v4 = (flags & CR_NETGROUP_LOOPBACK_ROUTABLE) && cr_addr_is_ipv4(a) &&
		       a->addr[a->net == CR_NET_IPV4 ? 0 : 12] == 127;
	uint32_t asn = cr_asmap_addr(asmap, a, flags);

	memset(out, 0, CR_NETGROUP_MAX);
	if (asn) {
		out[0] = CR_NETCLASS_IPV6;
		for (int i = 0; i < 4; i++)
			out[1 + i] = (uint8_t)(asn >> (8 * i));
		return 5;
	}
	if (loop_v4) {
		const uint8_t *p = a->net == CR_NET_IPV4 ? a->addr : a->addr + 12;
		return group_ipv4(out, (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16);
	}
	enum cr_netclass cls = cr_addr_netclass(a);
	out[0] = (uint8_t)cls;
	switch (cls) {
	case CR_NETCLASS_LOCAL:
	case CR_NETCLASS_UNROUTABLE:
		return 1;
	case CR_NETCLASS_INTERNAL:
		return put_bits(out, 1, a->addr + 6, 80);
	case CR_NETCLASS_IPV4:
		cr_addr_carried_ipv4(a, &ip);
		return group_ipv4(out, ip);
	case CR_NETCLASS_ONION:
	case CR_NETCLASS_I2P:
		return put_bits(out, 1, a->addr, 4);
	case CR_NETCLASS_CJDNS:
		return put_bits(out, 1, a->addr, 12);
	case CR_NETCLASS_IPV6:
		return put_bits(out, 1, a->addr, cr_addr_is_he_net(a) ? 36 : 32);
	}
	return 1;
}

uint64_t cr_netgroup_keyed(uint64_t secret, const uint8_t *group, size_t group_len)
{
	return XXH3_64bits_withSeed(group, group_len, secret);
}
