/* Tests of addr/netclass: a table of addresses from every network and
 * special range; for each, every class predicate is evaluated and the set
 * of those that hold must equal the expected set exactly, so a predicate
 * that fires where it should not is caught too. Then validity,
 * routability, linked IPv4 and GetNetClass. */
#include <stdio.h>
#include <string.h>

#include "addr/addrstr.h"
#include "addr/netclass.h"
#include "proto/err.h"
#include "check.h"

enum {
	M1918 = 1 << 0, M2544 = 1 << 1, M3927 = 1 << 2, M6598 = 1 << 3, M5737 = 1 << 4,
	M3849 = 1 << 5, M3964 = 1 << 6, M6052 = 1 << 7, M4380 = 1 << 8, M4862 = 1 << 9,
	M4193 = 1 << 10, M6145 = 1 << 11, M4843 = 1 << 12, M7343 = 1 << 13, MHE = 1 << 14,
	MLOCAL = 1 << 15, MINTERNAL = 1 << 16, MVALID = 1 << 17, MROUTE = 1 << 18,
	MV4 = 1 << 19, MV6 = 1 << 20, MMAPPED = 1 << 21, MONIONCAT = 1 << 22,
};

typedef bool (*pred)(const struct cr_netaddr *);
static const struct {
	pred f;
	unsigned bit;
	const char *name;
} preds[] = {
	{cr_addr_is_rfc1918, M1918, "rfc1918"},   {cr_addr_is_rfc2544, M2544, "rfc2544"},
	{cr_addr_is_rfc3927, M3927, "rfc3927"},   {cr_addr_is_rfc6598, M6598, "rfc6598"},
	{cr_addr_is_rfc5737, M5737, "rfc5737"},   {cr_addr_is_rfc3849, M3849, "rfc3849"},
	{cr_addr_is_rfc3964, M3964, "rfc3964"},   {cr_addr_is_rfc6052, M6052, "rfc6052"},
	{cr_addr_is_rfc4380, M4380, "rfc4380"},   {cr_addr_is_rfc4862, M4862, "rfc4862"},
	{cr_addr_is_rfc4193, M4193, "rfc4193"},   {cr_addr_is_rfc6145, M6145, "rfc6145"},
	{cr_addr_is_rfc4843, M4843, "rfc4843"},   {cr_addr_is_rfc7343, M7343, "rfc7343"},
	{cr_addr_is_he_net, MHE, "he_net"},       {cr_addr_is_local, MLOCAL, "local"},
	{cr_addr_is_internal, MINTERNAL, "internal"}, {cr_addr_is_valid, MVALID, "valid"},
	{cr_addr_is_routable, MROUTE, "routable"}, {cr_addr_is_ipv4, MV4, "ipv4"},
	{cr_addr_is_ipv6, MV6, "ipv6"}, {cr_addr_is_ipv4_mapped, MMAPPED, "mapped"},
	{cr_addr_is_onioncat, MONIONCAT, "onioncat"},
};

#define R (MVALID | MROUTE)

static const struct {
	const char *addr;
	unsigned want;
	enum cr_netclass cls;
} rows[] = {
	{"1.2.3.4", R | MV4, CR_NETCLASS_IPV4},
	{"8.8.8.8", R | MV4, CR_NETCLASS_IPV4},
	{"0.0.0.0", MV4 | MLOCAL, CR_NETCLASS_LOCAL},
	{"0.1.2.3", MVALID | MV4 | MLOCAL, CR_NETCLASS_LOCAL},
	{"255.255.255.255", MV4, CR_NETCLASS_UNROUTABLE},
	{"127.0.0.1", MVALID | MV4 | MLOCAL, CR_NETCLASS_LOCAL},
	{"127.255.0.1", MVALID | MV4 | MLOCAL, CR_NETCLASS_LOCAL},
	{"10.0.0.1", MVALID | MV4 | M1918, CR_NETCLASS_UNROUTABLE},
	{"10.255.255.255", MVALID | MV4 | M1918, CR_NETCLASS_UNROUTABLE},
	{"11.0.0.1", R | MV4, CR_NETCLASS_IPV4},
	{"172.16.0.1", MVALID | MV4 | M1918, CR_NETCLASS_UNROUTABLE},
	{"172.31.0.1", MVALID | MV4 | M1918, CR_NETCLASS_UNROUTABLE},
	{"172.32.0.1", R | MV4, CR_NETCLASS_IPV4},
	{"172.15.0.1", R | MV4, CR_NETCLASS_IPV4},
	{"192.168.0.1", MVALID | MV4 | M1918, CR_NETCLASS_UNROUTABLE},
	{"192.169.0.1", R | MV4, CR_NETCLASS_IPV4},
	{"198.18.0.1", MVALID | MV4 | M2544, CR_NETCLASS_UNROUTABLE},
	{"198.19.255.1", MVALID | MV4 | M2544, CR_NETCLASS_UNROUTABLE},
	{"198.20.0.1", R | MV4, CR_NETCLASS_IPV4},
	{"169.254.1.1", MVALID | MV4 | M3927, CR_NETCLASS_UNROUTABLE},
	{"169.253.1.1", R | MV4, CR_NETCLASS_IPV4},
	{"100.64.0.1", MVALID | MV4 | M6598, CR_NETCLASS_UNROUTABLE},
	{"100.127.0.1", MVALID | MV4 | M6598, CR_NETCLASS_UNROUTABLE},
	{"100.128.0.1", R | MV4, CR_NETCLASS_IPV4},
	{"192.0.2.1", MVALID | MV4 | M5737, CR_NETCLASS_UNROUTABLE},
	{"198.51.100.1", MVALID | MV4 | M5737, CR_NETCLASS_UNROUTABLE},
	{"203.0.113.1", MVALID | MV4 | M5737, CR_NETCLASS_UNROUTABLE},
	{"203.0.114.1", R | MV4, CR_NETCLASS_IPV4},
	{"::1", MVALID | MV6 | MLOCAL, CR_NETCLASS_LOCAL},
	{"::", MV6, CR_NETCLASS_UNROUTABLE},
	{"::2", R | MV6, CR_NETCLASS_IPV6},
	{"2001:db8::1", MV6 | M3849, CR_NETCLASS_UNROUTABLE},
	{"2001:db9::1", R | MV6, CR_NETCLASS_IPV6},
	{"2002:102:304::1", R | MV6 | M3964, CR_NETCLASS_IPV4},
	{"64:ff9b::102:304", R | MV6 | M6052, CR_NETCLASS_IPV4},
	{"2001::fefd:fcfb", R | MV6 | M4380, CR_NETCLASS_IPV4},
	{"fe80::1", MVALID | MV6 | M4862, CR_NETCLASS_UNROUTABLE},
	{"fe80:0:0:1::1", R | MV6, CR_NETCLASS_IPV6}, /* Core checks fe80::/64 only */
	{"fc00::1", MVALID | MV6 | M4193, CR_NETCLASS_UNROUTABLE},
	{"fdff::1", MVALID | MV6 | M4193, CR_NETCLASS_UNROUTABLE},
	{"fe00::1", R | MV6, CR_NETCLASS_IPV6},
	{"::ffff:0:102:304", R | MV6 | M6145, CR_NETCLASS_IPV4},
	{"2001:10::1", MVALID | MV6 | M4843, CR_NETCLASS_UNROUTABLE},
	{"2001:1f:ffff::1", MVALID | MV6 | M4843, CR_NETCLASS_UNROUTABLE},
	{"2001:20::1", MVALID | MV6 | M7343, CR_NETCLASS_UNROUTABLE},
	{"2001:2f::1", MVALID | MV6 | M7343, CR_NETCLASS_UNROUTABLE},
	{"2001:30::1", R | MV6, CR_NETCLASS_IPV6},
	{"2001:470::1", R | MV6 | MHE, CR_NETCLASS_IPV6},
	{"2001:471::1", R | MV6, CR_NETCLASS_IPV6},
	{"fd6b:88c0:8724::1", MV6 | M4193 | MINTERNAL, CR_NETCLASS_INTERNAL},
	{"fd87:d87e:eb43::1", MV6 | M4193 | MONIONCAT, CR_NETCLASS_UNROUTABLE},
	{"2a00:1450::1", R | MV6, CR_NETCLASS_IPV6},
};

static void test_netclass_table(void)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct cr_netaddr a;
		int rc = cr_addrstr_parse_host(&a, rows[i].addr, strlen(rows[i].addr), 0);
		CHECK_EQ(rc, 0);
		unsigned got = 0;
		for (size_t k = 0; k < sizeof(preds) / sizeof(preds[0]); k++)
			if (preds[k].f(&a))
				got |= preds[k].bit;
		check_count++;
		if (got != rows[i].want) {
			check_failures++;
			fprintf(stderr, "%s:", rows[i].addr);
			for (size_t k = 0; k < sizeof(preds) / sizeof(preds[0]); k++)
				if ((got ^ rows[i].want) & preds[k].bit)
					fprintf(stderr, " %s%s", got & preds[k].bit ? "+" : "-",
						preds[k].name);
			fprintf(stderr, "\n");
		}
		CHECK_EQ(cr_addr_netclass(&a), rows[i].cls);
	}
}

/* An IPv6 address with the mapped prefix is classified as its IPv4. */
static void test_netclass_mapped(void)
{
	uint8_t ip[16] = {[10] = 0xff, [11] = 0xff, [12] = 10, [13] = 1, [14] = 2, [15] = 3};
	struct cr_netaddr a;
	uint32_t v4 = 0;
	cr_addr_set_ipv6(&a, ip);
	CHECK(cr_addr_is_ipv4_mapped(&a) && cr_addr_is_ipv4(&a) && !cr_addr_is_ipv6(&a));
	CHECK(cr_addr_is_rfc1918(&a) && !cr_addr_is_routable(&a));
	ip[12] = 1;
	cr_addr_set_ipv6(&a, ip);
	CHECK(cr_addr_is_routable(&a));
	CHECK(cr_addr_linked_ipv4(&a, &v4) && v4 == 0x01010203);
	CHECK_EQ(cr_addr_netclass(&a), CR_NETCLASS_IPV4);
}

static void test_netclass_other_networks(void)
{
	struct cr_netaddr a;
	memset(&a, 0, sizeof(a));
	/* Tor v3 and I2P: any 32 bytes are valid and routable. */
	a.net = CR_NET_TORV3;
	a.len = 32;
	CHECK(cr_addr_is_valid(&a) && cr_addr_is_routable(&a));
	CHECK_EQ(cr_addr_netclass(&a), CR_NETCLASS_ONION);
	a.net = CR_NET_I2P;
	CHECK(cr_addr_is_valid(&a) && cr_addr_is_routable(&a));
	CHECK_EQ(cr_addr_netclass(&a), CR_NETCLASS_I2P);
	/* Wrong lengths, obsolete or unknown networks are invalid. */
	a.len = 31;
	CHECK(!cr_addr_is_valid(&a));
	a.net = CR_NET_TORV2;
	a.len = 10;
	CHECK(!cr_addr_is_valid(&a));
	a.net = 9;
	a.len = 0;
	CHECK(!cr_addr_is_valid(&a));
	CHECK_EQ(cr_addr_netclass(&a), CR_NETCLASS_UNROUTABLE);
	a.net = CR_NET_IPV4;
	a.len = 16;
	CHECK(!cr_addr_is_valid(&a) && !cr_addr_is_ipv4(&a));
	/* CJDNS: valid only with the fc prefix; never RFC4193 (that is IPv6). */
	a.net = CR_NET_CJDNS;
	a.len = 16;
	a.addr[0] = 0xfc;
	a.addr[15] = 1;
	CHECK(cr_addr_is_valid(&a) && cr_addr_is_routable(&a) && !cr_addr_is_rfc4193(&a));
	CHECK_EQ(cr_addr_netclass(&a), CR_NETCLASS_CJDNS);
	a.addr[0] = 0xfd;
	CHECK(!cr_addr_is_valid(&a));
	/* Linked IPv4 of the carriers (Core's GetLinkedIPv4 cases). */
	const char *carriers[] = {"1.2.3.4", "::ffff:0:102:304", "64:ff9b::102:304",
				  "2002:102:304::", "2001:0:9999::fefd:fcfb"};
	for (int i = 0; i < 5; i++) {
		uint32_t v4 = 0;
		CHECK_EQ(cr_addrstr_parse_host(&a, carriers[i], strlen(carriers[i]), 0), 0);
		CHECK(cr_addr_linked_ipv4(&a, &v4));
		CHECK_EQ(v4, 0x01020304);
	}
	uint32_t v4;
	CHECK_EQ(cr_addrstr_parse_host(&a, "10.0.0.1", 8, 0), 0);
	CHECK(!cr_addr_linked_ipv4(&a, &v4)); /* unroutable */
	CHECK_EQ(cr_addrstr_parse_host(&a, "2a00::1", 7, 0), 0);
	CHECK(!cr_addr_linked_ipv4(&a, &v4));
}

int main(void)
{
	RUN(test_netclass_table);
	RUN(test_netclass_mapped);
	RUN(test_netclass_other_networks);
	return check_done();
}
