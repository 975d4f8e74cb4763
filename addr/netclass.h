/* Address classes: Bitcoin Core's IsRFC*, IsLocal, IsValid, IsRoutable and
 * GetNetClass over a BIP155 address.
 *
 * The address manager refuses unroutable addresses, netgroups put local and
 * unroutable ones in their own groups, and IPv4 carried inside IPv6
 * (6to4, Teredo, NAT64, SIIT, IPv4-mapped) is treated as the IPv4 it
 * carries. An IPv6 address with the IPv4-mapped prefix (::ffff:0:0/96) is
 * classified exactly like the IPv4 address it maps (Core converts those to
 * IPv4 when it reads them). Pure functions; any thread. */
#ifndef CR_ADDR_NETCLASS_H
#define CR_ADDR_NETCLASS_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/netaddr.h"

/* Core's Network values as used by GetNetClass (and so in netgroups), plus
 * LOCAL: connring gives loopback addresses their own group class. */
enum cr_netclass {
	CR_NETCLASS_UNROUTABLE = 0,
	CR_NETCLASS_IPV4 = 1,
	CR_NETCLASS_IPV6 = 2,
	CR_NETCLASS_ONION = 3,
	CR_NETCLASS_I2P = 4,
	CR_NETCLASS_CJDNS = 5,
	CR_NETCLASS_INTERNAL = 6,
	CR_NETCLASS_LOCAL = 7,
};

/* Plain network tests (after IPv4-mapped unwrapping for IPv4/IPv6). */
bool cr_addr_is_ipv4(const struct cr_netaddr *a);   /* incl. ::ffff:a.b.c.d */
bool cr_addr_is_ipv6(const struct cr_netaddr *a);   /* IPv6 and not mapped */
bool cr_addr_is_ipv4_mapped(const struct cr_netaddr *a); /* ::ffff:0:0/96 as IPv6 */

/* Core's special ranges. Each is false for networks it does not apply to. */
bool cr_addr_is_rfc1918(const struct cr_netaddr *a); /* 10/8, 172.16/12, 192.168/16 */
bool cr_addr_is_rfc2544(const struct cr_netaddr *a); /* 198.18/15 benchmarking */
bool cr_addr_is_rfc3927(const struct cr_netaddr *a); /* 169.254/16 link-local */
bool cr_addr_is_rfc6598(const struct cr_netaddr *a); /* 100.64/10 shared CGN */
bool cr_addr_is_rfc5737(const struct cr_netaddr *a); /* IPv4 documentation */
bool cr_addr_is_rfc3849(const struct cr_netaddr *a); /* 2001:db8::/32 documentation */
bool cr_addr_is_rfc3964(const struct cr_netaddr *a); /* 2002::/16 6to4 */
bool cr_addr_is_rfc6052(const struct cr_netaddr *a); /* 64:ff9b::/96 NAT64 */
bool cr_addr_is_rfc4380(const struct cr_netaddr *a); /* 2001::/32 Teredo */
bool cr_addr_is_rfc4862(const struct cr_netaddr *a); /* fe80::/64 autoconf */
bool cr_addr_is_rfc4193(const struct cr_netaddr *a); /* fc00::/7 unique local */
bool cr_addr_is_rfc6145(const struct cr_netaddr *a); /* ::ffff:0:0:0/96 SIIT */
bool cr_addr_is_rfc4843(const struct cr_netaddr *a); /* 2001:10::/28 ORCHID */
bool cr_addr_is_rfc7343(const struct cr_netaddr *a); /* 2001:20::/28 ORCHIDv2 */
bool cr_addr_is_he_net(const struct cr_netaddr *a);  /* 2001:470::/32 */
bool cr_addr_is_onioncat(const struct cr_netaddr *a); /* fd87:d87e:eb43::/48 (Tor v2 in IPv6) */

/* Loopback and "this network": 127/8, 0/8, ::1. */
bool cr_addr_is_local(const struct cr_netaddr *a);
/* Core's internal names: IPv6 fd6b:88c0:8724::/48 (never valid for peers). */
bool cr_addr_is_internal(const struct cr_netaddr *a);
/* Core's IsValid: known network with its BIP155 length; not ::, not
 * 0.0.0.0 or 255.255.255.255, not documentation IPv6, not internal, CJDNS
 * starts with 0xfc. connring also rejects Tor v2 (obsolete, BIP155 says
 * ignore) and OnionCat-in-IPv6. */
bool cr_addr_is_valid(const struct cr_netaddr *a);
/* Core's IsRoutable: valid and in none of the private/reserved ranges. */
bool cr_addr_is_routable(const struct cr_netaddr *a);

/* Core's HasLinkedIPv4/GetLinkedIPv4: when a is routable and is or carries
 * an IPv4 address (IPv4, mapped, RFC6145, RFC6052, 6to4, Teredo), writes
 * it to *ipv4 (host order) and returns true. */
bool cr_addr_linked_ipv4(const struct cr_netaddr *a, uint32_t *ipv4);

/* The IPv4 address a is or carries, whether or not a is routable (the
 * cheap part of cr_addr_linked_ipv4, for callers that already know). */
bool cr_addr_carried_ipv4(const struct cr_netaddr *a, uint32_t *ipv4);

/* Core's GetNetClass (LOCAL split out of UNROUTABLE). */
enum cr_netclass cr_addr_netclass(const struct cr_netaddr *a);

/* Builds an IPv4 / IPv6 address from raw bytes (network order). */
void cr_addr_set_ipv4(struct cr_netaddr *a, uint32_t ipv4);
void cr_addr_set_ipv6(struct cr_netaddr *a, const uint8_t ip[16]);

/* Equal network, length and bytes. */
bool cr_addr_equal(const struct cr_netaddr *a, const struct cr_netaddr *b);

#endif
