/* Subnets: an address with a prefix length, as bans and whitelists use.
 *
 * Text forms: "1.2.3.0/24", "1.2.3.0/255.255.255.0", "2001:db8::/32",
 * "2001:db8::/ffff:ffff::", or a bare address (a single-address subnet).
 * Netmasks must be contiguous (Core rejects others too). Tor, I2P and CJDNS
 * subnets are single addresses unless a prefix is given (CJDNS, as IPv6
 * text, takes one). The network bytes are stored masked, so two equal
 * subnets compare equal byte for byte. Pure functions; any thread. */
#ifndef CR_ADDR_SUBNET_H
#define CR_ADDR_SUBNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/netaddr.h"

struct cr_subnet {
	struct cr_netaddr net; /* masked: bits past prefix are zero */
	uint8_t prefix;        /* 0 .. net.len * 8 */
};

/* Sets sn to a's network with the given prefix length. Returns 0, or
 * CR_E_ADDR_SUBNET when prefix exceeds the address length or a is not a
 * known network (an IPv4-mapped IPv6 address becomes IPv4, with prefix
 * counted in IPv4 bits); sn is zeroed then. */
int cr_subnet_init(struct cr_subnet *sn, const struct cr_netaddr *a, unsigned prefix);

/* The single-address subnet of a (IPv4-mapped becomes an IPv4 /32).
 * Returns 0 or CR_E_ADDR_SUBNET for a malformed address. */
int cr_subnet_from_addr(struct cr_subnet *sn, const struct cr_netaddr *a);

/* Parses the text forms above (flags as for cr_addrstr_parse_host).
 * Returns 0, CR_E_ADDR_PARSE, CR_E_ADDR_ONION or CR_E_ADDR_SUBNET. */
int cr_subnet_parse(struct cr_subnet *sn, const char *s, size_t len, unsigned flags);

/* True when a lies in sn (IPv4-mapped IPv6 addresses match IPv4 subnets). */
bool cr_subnet_contains(const struct cr_subnet *sn, const struct cr_netaddr *a);

/* True for a subnet of exactly one address. */
bool cr_subnet_is_single(const struct cr_subnet *sn);

/* "net/prefix" (a single address still shows its /32, /128, /256...).
 * Returns the length or CR_E_OVERFLOW / CR_E_INVAL. */
int cr_subnet_format(char *out, size_t cap, const struct cr_subnet *sn);

/* Equal network and prefix. */
bool cr_subnet_equal(const struct cr_subnet *a, const struct cr_subnet *b);

#endif
