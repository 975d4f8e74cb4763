/* Helpers shared by the address manager tests and fuzz targets: building
 * addresses and running the consistency check. Header-only, tests/fuzz only. */
#ifndef CR_TESTS_ADDRMAN_UTIL_H
#define CR_TESTS_ADDRMAN_UTIL_H

#include <string.h>

#include "addr/addrman.h"

static const uint8_t am_test_key[32] = {
	0x6b, 0x65, 0x79, 0x21, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
	0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
	0x19, 0x1a, 0x1b, 0x1c,
};

static inline struct cr_netaddr am_ip4(unsigned a, unsigned b, unsigned c, unsigned d)
{
	struct cr_netaddr n;
	memset(&n, 0, sizeof(n));
	n.net = CR_NET_IPV4;
	n.len = 4;
	n.addr[0] = (uint8_t)a;
	n.addr[1] = (uint8_t)b;
	n.addr[2] = (uint8_t)c;
	n.addr[3] = (uint8_t)d;
	return n;
}

/* 2001:db8 is documentation space (unroutable); use 2a01:xxxx. */
static inline struct cr_netaddr am_ip6(unsigned g, unsigned host)
{
	struct cr_netaddr n;
	memset(&n, 0, sizeof(n));
	n.net = CR_NET_IPV6;
	n.len = 16;
	n.addr[0] = 0x2a;
	n.addr[1] = 0x01;
	n.addr[2] = (uint8_t)(g >> 8);
	n.addr[3] = (uint8_t)g;
	n.addr[14] = (uint8_t)(host >> 8);
	n.addr[15] = (uint8_t)host;
	return n;
}

static inline struct cr_netaddr am_tor(unsigned i)
{
	struct cr_netaddr n;
	memset(&n, 0, sizeof(n));
	n.net = CR_NET_TORV3;
	n.len = 32;
	for (int k = 0; k < 32; k++)
		n.addr[k] = (uint8_t)(i * 37 + (unsigned)k * 11 + (i >> 8));
	return n;
}

static inline struct cr_peeraddr am_pa(struct cr_netaddr na, uint16_t port, int64_t time)
{
	struct cr_peeraddr p;
	memset(&p, 0, sizeof(p));
	p.na = na;
	p.port = port;
	p.time = (uint32_t)time;
	p.services = 1;
	return p;
}

#endif
