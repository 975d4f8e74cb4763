/* The BIP155 network address: a network id and its raw address bytes.
 *
 * This is a wire format, so it lives in proto/. addr/ builds classes,
 * netgroups and string forms on top of it; proto/msg encodes it in addr and
 * addrv2 messages. Pure data; any thread. */
#ifndef CR_PROTO_NETADDR_H
#define CR_PROTO_NETADDR_H

#include <stdbool.h>
#include <stdint.h>

/* BIP155 network ids. */
enum cr_net {
	CR_NET_IPV4 = 1,  /* 4 bytes */
	CR_NET_IPV6 = 2,  /* 16 bytes */
	CR_NET_TORV2 = 3, /* 10 bytes; obsolete, parsed and ignored */
	CR_NET_TORV3 = 4, /* 32 bytes: ed25519 public key */
	CR_NET_I2P = 5,   /* 32 bytes: SHA256 of the destination */
	CR_NET_CJDNS = 6, /* 16 bytes, first byte 0xfc */
};

#define CR_NETADDR_MAX 32 /* longest address of a known network */

struct cr_netaddr {
	uint8_t net;                   /* enum cr_net */
	uint8_t len;                   /* bytes used in addr */
	uint8_t addr[CR_NETADDR_MAX];  /* network byte order; unused bytes zero */
};

/* An address as gossiped: what addr/addrv2 entries carry. */
struct cr_peeraddr {
	struct cr_netaddr na;
	uint16_t port;     /* host byte order */
	uint32_t time;     /* last seen, seconds since the epoch */
	uint64_t services; /* service bits */
};

/* The address length BIP155 fixes for a known network id, or 0 for an
 * unknown one (unknown ids are skipped by decoders, not fatal). */
static inline uint8_t cr_net_addr_len(uint8_t net)
{
	switch (net) {
	case CR_NET_IPV4: return 4;
	case CR_NET_IPV6: return 16;
	case CR_NET_TORV2: return 10;
	case CR_NET_TORV3: return 32;
	case CR_NET_I2P: return 32;
	case CR_NET_CJDNS: return 16;
	default: return 0;
	}
}

#endif
