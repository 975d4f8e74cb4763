/* Address classes after Bitcoin Core's netaddress.cpp; see netclass.h.
 * Pure functions over const data; any thread.
 *
 * Every predicate first takes a view of the address: IPv4 (native or
 * IPv4-mapped, 4 bytes), IPv6 (16 bytes, not mapped) or another network.
 * The range tests then work on raw bytes, so the composite questions
 * (valid, routable, class), which ask a dozen of them, decide the family
 * once instead of once per range. */
#include <string.h>

#include "addr/netclass.h"

enum fam { F_OTHER, F_V4, F_V6 };

struct view {
	enum fam f;
	const uint8_t *b; /* 4 bytes (F_V4) or 16 (F_V6) */
};

static const uint8_t mapped_prefix[12] = {[10] = 0xff, [11] = 0xff};

static struct view view_of(const struct cr_netaddr *a)
{
	if (a->net == CR_NET_IPV4 && a->len == 4)
		return (struct view){F_V4, a->addr};
	if (a->net == CR_NET_IPV6 && a->len == 16) {
		if (memcmp(a->addr, mapped_prefix, 12) == 0)
			return (struct view){F_V4, a->addr + 12};
		return (struct view){F_V6, a->addr};
	}
	return (struct view){F_OTHER, NULL};
}

/* IPv4 ranges over the 4 address bytes. */
static bool v4_1918(const uint8_t *b)
{
	return b[0] == 10 || (b[0] == 192 && b[1] == 168) ||
	       (b[0] == 172 && b[1] >= 16 && b[1] <= 31);
}
static bool v4_2544(const uint8_t *b) { return b[0] == 198 && (b[1] == 18 || b[1] == 19); }
static bool v4_3927(const uint8_t *b) { return b[0] == 169 && b[1] == 254; }
static bool v4_6598(const uint8_t *b) { return b[0] == 100 && b[1] >= 64 && b[1] <= 127; }
static bool v4_5737(const uint8_t *b)
{
	return (b[0] == 192 && b[1] == 0 && b[2] == 2) ||
	       (b[0] == 198 && b[1] == 51 && b[2] == 100) ||
	       (b[0] == 203 && b[1] == 0 && b[2] == 113);
}
static bool v4_local(const uint8_t *b) { return b[0] == 127 || b[0] == 0; }

/* IPv6 ranges over the 16 address bytes. */
static bool pfx(const uint8_t *b, const uint8_t *p, size_t n) { return memcmp(b, p, n) == 0; }
static bool v6_3849(const uint8_t *b) { return pfx(b, (const uint8_t[]){0x20, 0x01, 0x0d, 0xb8}, 4); }
static bool v6_3964(const uint8_t *b) { return b[0] == 0x20 && b[1] == 0x02; }
static bool v6_6052(const uint8_t *b)
{
	return pfx(b, (const uint8_t[]){0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0}, 12);
}
static bool v6_4380(const uint8_t *b) { return pfx(b, (const uint8_t[]){0x20, 0x01, 0, 0}, 4); }
static bool v6_4862(const uint8_t *b)
{
	return pfx(b, (const uint8_t[]){0xfe, 0x80, 0, 0, 0, 0, 0, 0}, 8);
}
static bool v6_4193(const uint8_t *b) { return (b[0] & 0xfe) == 0xfc; }
static bool v6_6145(const uint8_t *b)
{
	return pfx(b, (const uint8_t[]){0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0}, 12);
}
static bool v6_4843(const uint8_t *b)
{
	return b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x00 && (b[3] & 0xf0) == 0x10;
}
static bool v6_7343(const uint8_t *b)
{
	return b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x00 && (b[3] & 0xf0) == 0x20;
}
static bool v6_henet(const uint8_t *b) { return pfx(b, (const uint8_t[]){0x20, 0x01, 0x04, 0x70}, 4); }
static bool v6_onioncat(const uint8_t *b)
{
	return pfx(b, (const uint8_t[]){0xfd, 0x87, 0xd8, 0x7e, 0xeb, 0x43}, 6);
}
static bool v6_internal(const uint8_t *b)
{
	return pfx(b, (const uint8_t[]){0xfd, 0x6b, 0x88, 0xc0, 0x87, 0x24}, 6);
}
static bool v6_local(const uint8_t *b) { return pfx(b, (const uint8_t[16]){[15] = 1}, 16); }

#define V4_PRED(name, fn)                                        \
	bool name(const struct cr_netaddr *a)                    \
	{                                                        \
		struct view v = view_of(a);                      \
		return v.f == F_V4 && fn(v.b);                   \
	}
#define V6_PRED(name, fn)                                        \
	bool name(const struct cr_netaddr *a)                    \
	{                                                        \
		struct view v = view_of(a);                      \
		return v.f == F_V6 && fn(v.b);                   \
	}

V4_PRED(cr_addr_is_rfc1918, v4_1918)
V4_PRED(cr_addr_is_rfc2544, v4_2544)
V4_PRED(cr_addr_is_rfc3927, v4_3927)
V4_PRED(cr_addr_is_rfc6598, v4_6598)
V4_PRED(cr_addr_is_rfc5737, v4_5737)
V6_PRED(cr_addr_is_rfc3849, v6_3849)
V6_PRED(cr_addr_is_rfc3964, v6_3964)
V6_PRED(cr_addr_is_rfc6052, v6_6052)
V6_PRED(cr_addr_is_rfc4380, v6_4380)
V6_PRED(cr_addr_is_rfc4862, v6_4862)
V6_PRED(cr_addr_is_rfc4193, v6_4193)
V6_PRED(cr_addr_is_rfc6145, v6_6145)
V6_PRED(cr_addr_is_rfc4843, v6_4843)
V6_PRED(cr_addr_is_rfc7343, v6_7343)
V6_PRED(cr_addr_is_he_net, v6_henet)
V6_PRED(cr_addr_is_onioncat, v6_onioncat)
V6_PRED(cr_addr_is_internal, v6_internal)

bool cr_addr_is_ipv4(const struct cr_netaddr *a) { return view_of(a).f == F_V4; }
bool cr_addr_is_ipv6(const struct cr_netaddr *a) { return view_of(a).f == F_V6; }

bool cr_addr_is_ipv4_mapped(const struct cr_netaddr *a)
{
	return a->net == CR_NET_IPV6 && view_of(a).f == F_V4;
}

static bool local_v(struct view v)
{
	return (v.f == F_V4 && v4_local(v.b)) || (v.f == F_V6 && v6_local(v.b));
}

bool cr_addr_is_local(const struct cr_netaddr *a)
{
	return local_v(view_of(a));
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool valid_v(const struct cr_netaddr *a, struct view v)
{
	static const uint8_t none6[16];

	if (!a->len || a->len != cr_net_addr_len(a->net) || a->net == CR_NET_TORV2)
		return false;
	if (v.f == F_V4) {
		uint32_t x = be32(v.b);
		return x != 0 && x != 0xffffffffu; /* INADDR_ANY, INADDR_NONE */
	}
	if (v.f == F_V6)
		return memcmp(v.b, none6, 16) != 0 && !v6_3849(v.b) && !v6_internal(v.b) &&
		       !v6_onioncat(v.b);
	if (a->net == CR_NET_CJDNS)
		return a->addr[0] == 0xfc;
	return true; /* TorV3, I2P: any 32 bytes */
}

bool cr_addr_is_valid(const struct cr_netaddr *a)
{
	return valid_v(a, view_of(a));
}

/* Core's IsRoutable list, split by family: each address pays only for the
 * ranges that can apply to it. */
static bool routable_v(const struct cr_netaddr *a, struct view v)
{
	if (!valid_v(a, v))
		return false;
	if (v.f == F_V4)
		return !(v4_1918(v.b) || v4_2544(v.b) || v4_3927(v.b) || v4_6598(v.b) ||
			 v4_5737(v.b) || v4_local(v.b));
	if (v.f == F_V6)
		return !(v6_4862(v.b) || v6_4193(v.b) || v6_4843(v.b) || v6_7343(v.b) ||
			 v6_local(v.b) || v6_internal(v.b));
	return true;
}

bool cr_addr_is_routable(const struct cr_netaddr *a)
{
	return routable_v(a, view_of(a));
}

static bool carried_v(struct view v, uint32_t *ipv4)
{
	if (v.f == F_V4)
		*ipv4 = be32(v.b);
	else if (v.f != F_V6)
		return false;
	else if (v6_6052(v.b) || v6_6145(v.b))
		*ipv4 = be32(v.b + 12);
	else if (v6_3964(v.b))
		*ipv4 = be32(v.b + 2);
	else if (v6_4380(v.b)) /* Teredo stores the client IPv4 inverted */
		*ipv4 = ~be32(v.b + 12);
	else
		return false;
	return true;
}

bool cr_addr_carried_ipv4(const struct cr_netaddr *a, uint32_t *ipv4)
{
	return carried_v(view_of(a), ipv4);
}

bool cr_addr_linked_ipv4(const struct cr_netaddr *a, uint32_t *ipv4)
{
	struct view v = view_of(a);
	return routable_v(a, v) && carried_v(v, ipv4);
}

enum cr_netclass cr_addr_netclass(const struct cr_netaddr *a)
{
	struct view v = view_of(a);
	uint32_t ip;

	/* Internal first: it is also unroutable, but has a class of its own. */
	if (v.f == F_V6 && v6_internal(v.b))
		return CR_NETCLASS_INTERNAL;
	if (local_v(v))
		return CR_NETCLASS_LOCAL;
	if (!routable_v(a, v))
		return CR_NETCLASS_UNROUTABLE;
	if (carried_v(v, &ip))
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
