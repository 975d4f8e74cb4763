/* Address classes after Bitcoin Core's netaddress.cpp; see netclass.h.
 * Pure functions over const data; any thread. */
#include <string.h>

#include "addr/netclass.h"

static const uint8_t mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static bool has_prefix(const struct cr_netaddr *a, const uint8_t *p, size_t n)
{
	return a->len >= n && memcmp(a->addr, p, n) == 0;
}

static bool raw_ipv6(const struct cr_netaddr *a)
{
	return a->net == CR_NET_IPV6 && a->len == 16;
}

bool cr_addr_is_ipv4_mapped(const struct cr_netaddr *a)
{
	return raw_ipv6(a) && has_prefix(a, mapped_prefix, 12);
}

bool cr_addr_is_ipv4(const struct cr_netaddr *a)
{
	return (a->net == CR_NET_IPV4 && a->len == 4) || cr_addr_is_ipv4_mapped(a);
}

bool cr_addr_is_ipv6(const struct cr_netaddr *a)
{
	return raw_ipv6(a) && !cr_addr_is_ipv4_mapped(a);
}

/* The four IPv4 bytes of an IPv4 (or IPv4-mapped) address. */
static const uint8_t *v4(const struct cr_netaddr *a)
{
	return a->net == CR_NET_IPV4 ? a->addr : a->addr + 12;
}

bool cr_addr_is_rfc1918(const struct cr_netaddr *a)
{
	if (!cr_addr_is_ipv4(a))
		return false;
	const uint8_t *b = v4(a);
	return b[0] == 10 || (b[0] == 192 && b[1] == 168) ||
	       (b[0] == 172 && b[1] >= 16 && b[1] <= 31);
}

bool cr_addr_is_rfc2544(const struct cr_netaddr *a)
{
	const uint8_t *b = v4(a);
	return cr_addr_is_ipv4(a) && b[0] == 198 && (b[1] == 18 || b[1] == 19);
}

bool cr_addr_is_rfc3927(const struct cr_netaddr *a)
{
	const uint8_t *b = v4(a);
	return cr_addr_is_ipv4(a) && b[0] == 169 && b[1] == 254;
}

bool cr_addr_is_rfc6598(const struct cr_netaddr *a)
{
	const uint8_t *b = v4(a);
	return cr_addr_is_ipv4(a) && b[0] == 100 && b[1] >= 64 && b[1] <= 127;
}

bool cr_addr_is_rfc5737(const struct cr_netaddr *a)
{
	if (!cr_addr_is_ipv4(a))
		return false;
	const uint8_t *b = v4(a);
	return (b[0] == 192 && b[1] == 0 && b[2] == 2) ||
	       (b[0] == 198 && b[1] == 51 && b[2] == 100) ||
	       (b[0] == 203 && b[1] == 0 && b[2] == 113);
}

static bool v6_prefix(const struct cr_netaddr *a, const uint8_t *p, size_t n)
{
	return cr_addr_is_ipv6(a) && has_prefix(a, p, n);
}

bool cr_addr_is_rfc3849(const struct cr_netaddr *a)
{
	static const uint8_t p[] = {0x20, 0x01, 0x0d, 0xb8};
	return v6_prefix(a, p, sizeof(p));
}

bool cr_addr_is_rfc3964(const struct cr_netaddr *a)
{
	static const uint8_t p[] = {0x20, 0x02};
	return v6_prefix(a, p, sizeof(p));
}

bool cr_addr_is_rfc6052(const struct cr_netaddr *a)
{
	static const uint8_t p[] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
	return v6_prefix(a, p, sizeof(p));
}

bool cr_addr_is_rfc4380(const struct cr_netaddr *a)
{
	static const uint8_t p[] = {0x20, 0x01, 0, 0};
	return v6_prefix(a, p, sizeof(p));
}

bool cr_addr_is_rfc4862(const struct cr_netaddr *a)
{
	static const uint8_t p[] = {0xfe, 0x80, 0, 0, 0, 0, 0, 0};
	return v6_prefix(a, p, sizeof(p));
}

bool cr_addr_is_rfc4193(const struct cr_netaddr *a)
{
	return cr_addr_is_ipv6(a) && (a->addr[0] & 0xfe) == 0xfc;
}

bool cr_addr_is_rfc6145(const struct cr_netaddr *a)
{
	static const uint8_t p[] = {0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0};
	return v6_prefix(a, p, sizeof(p));
}

bool cr_addr_is_rfc4843(const struct cr_netaddr *a)
{
	return cr_addr_is_ipv6(a) && a->addr[0] == 0x20 && a->addr[1] == 0x01 &&
	       a->addr[2] == 0x00 && (a->addr[3] & 0xf0) == 0x10;
}

bool cr_addr_is_rfc7343(const struct cr_netaddr *a)
{
	return cr_addr_is_ipv6(a) && a->addr[0] == 0x20 && a->addr[1] == 0x01 &&
	       a->addr[2] == 0x00 && (a->addr[3] & 0xf0) == 0x20;
}

bool cr_addr_is_he_net(const struct cr_netaddr *a)
{
	static const uint8_t p[] = {0x20, 0x01, 0x04, 0x70};
	return v6_prefix(a, p, sizeof(p));
}

bool cr_addr_is_onioncat(const struct cr_netaddr *a)
{
	static const uint8_t p[] = {0xfd, 0x87, 0xd8, 0x7e, 0xeb, 0x43};
	return v6_prefix(a, p, sizeof(p));
}

bool cr_addr_is_internal(const struct cr_netaddr *a)
{
	static const uint8_t p[] = {0xfd, 0x6b, 0x88, 0xc0, 0x87, 0x24};
	return v6_prefix(a, p, sizeof(p));
}

bool cr_addr_is_local(const struct cr_netaddr *a)
{
	static const uint8_t lo6[16] = {[15] = 1};
	if (cr_addr_is_ipv4(a))
		return v4(a)[0] == 127 || v4(a)[0] == 0;
	return cr_addr_is_ipv6(a) && memcmp(a->addr, lo6, 16) == 0;
}

bool cr_addr_is_valid(const struct cr_netaddr *a)
{
	static const uint8_t none6[16];

	if (!a->len || a->len != cr_net_addr_len(a->net) || a->net == CR_NET_TORV2)
		return false;
	if (cr_addr_is_ipv4(a)) {
		const uint8_t *b = v4(a);
		uint32_t x = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
			     (uint32_t)b[2] << 8 | b[3];
		return x != 0 && x != 0xffffffffu; /* INADDR_ANY, INADDR_NONE */
	}
	if (a->net == CR_NET_CJDNS)
		return a->addr[0] == 0xfc;
	if (a->net == CR_NET_IPV6)
		return memcmp(a->addr, none6, 16) != 0 && !cr_addr_is_rfc3849(a) &&
		       !cr_addr_is_internal(a) && !cr_addr_is_onioncat(a);
	return true; /* TorV3, I2P: any 32 bytes */
}

bool cr_addr_is_routable(const struct cr_netaddr *a)
{
	if (!cr_addr_is_valid(a))
		return false;
	/* Core's list, split by family so each address only pays for the
	 * ranges that can apply to it. */
	if (cr_addr_is_ipv4(a))
		return !(cr_addr_is_rfc1918(a) || cr_addr_is_rfc2544(a) || cr_addr_is_rfc3927(a) ||
			 cr_addr_is_rfc6598(a) || cr_addr_is_rfc5737(a) || cr_addr_is_local(a));
	if (cr_addr_is_ipv6(a))
		return !(cr_addr_is_rfc4862(a) || cr_addr_is_rfc4193(a) || cr_addr_is_rfc4843(a) ||
			 cr_addr_is_rfc7343(a) || cr_addr_is_local(a) || cr_addr_is_internal(a));
	return true;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

bool cr_addr_linked_ipv4(const struct cr_netaddr *a, uint32_t *ipv4)
{
	return cr_addr_is_routable(a) && cr_addr_carried_ipv4(a, ipv4);
}

bool cr_addr_carried_ipv4(const struct cr_netaddr *a, uint32_t *ipv4)
{
	if (cr_addr_is_ipv4(a))
		*ipv4 = be32(v4(a));
	else if (cr_addr_is_rfc6052(a) || cr_addr_is_rfc6145(a))
		*ipv4 = be32(a->addr + 12);
	else if (cr_addr_is_rfc3964(a))
		*ipv4 = be32(a->addr + 2);
	else if (cr_addr_is_rfc4380(a)) /* Teredo stores the client IPv4 inverted */
		*ipv4 = ~be32(a->addr + 12);
	else
		return false;
	return true;
}

enum cr_netclass cr_addr_netclass(const struct cr_netaddr *a)
{
	uint32_t ip;
	/* Internal first: it is also unroutable, but has a class of its own. */
	if (cr_addr_is_internal(a))
		return CR_NETCLASS_INTERNAL;
	if (cr_addr_is_local(a) && a->len == cr_net_addr_len(a->net))
		return CR_NETCLASS_LOCAL;
	if (!cr_addr_is_routable(a))
		return CR_NETCLASS_UNROUTABLE;
	if (cr_addr_carried_ipv4(a, &ip))
		return CR_NETCLASS_IPV4;
	switch (a->net) {
	case CR_NET_IPV6: return CR_NETCLASS_IPV6;
	case CR_NET_TORV3: return CR_NETCLASS_ONION;
	case CR_NET_I2P: return CR_NETCLASS_I2P;
	case CR_NET_CJDNS: return CR_NETCLASS_CJDNS;
	default: return CR_NETCLASS_UNROUTABLE;
	}
}

void cr_addr_set_ipv4(struct cr_netaddr *a, uint32_t ipv4)
{
	memset(a, 0, sizeof(*a));
	a->net = CR_NET_IPV4;
	a->len = 4;
	for (int i = 0; i < 4; i++)
		a->addr[i] = (uint8_t)(ipv4 >> (24 - 8 * i));
}

void cr_addr_set_ipv6(struct cr_netaddr *a, const uint8_t ip[16])
{
	memset(a, 0, sizeof(*a));
	a->net = CR_NET_IPV6;
	a->len = 16;
	memcpy(a->addr, ip, 16);
}

bool cr_addr_equal(const struct cr_netaddr *a, const struct cr_netaddr *b)
{
	return a->net == b->net && a->len == b->len && a->len <= CR_NETADDR_MAX &&
	       memcmp(a->addr, b->addr, a->len) == 0;
}
