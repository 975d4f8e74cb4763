/* Socket addresses (struct sockaddr_storage, what the kernel takes) to and
 * from text, through addr/'s parser and formatter so the engine reads and
 * writes addresses exactly as the rest of connring does. Pure functions;
 * any thread. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "addr/addrstr.h"
#include "engine/internal.h"

/* Parses a numeric "ip", "ip:port", "[v6]" or "[v6]:port" (addr/addrstr
 * rules; flags CR_ADDRSTR_*). Returns 0, or CR_E_BAD_ADDRESS for text addr/
 * cannot parse or an address of a network without sockets here (Tor, I2P,
 * CJDNS: only a proxy reaches those); *out is zeroed on failure. */
int cr__sockaddr_parse(struct sockaddr_storage *out, const char *s, uint16_t default_port,
		       unsigned flags)
{
	struct cr_netaddr na;
	uint16_t port;
	memset(out, 0, sizeof *out);
	if (!s || cr_addrstr_parse(&na, &port, s, strlen(s), default_port, flags) < 0)
		return CR_E_BAD_ADDRESS;
	if (na.net == CR_NET_IPV4) {
		struct sockaddr_in *a = (struct sockaddr_in *)out;
		a->sin_family = AF_INET;
		memcpy(&a->sin_addr, na.addr, 4);
		a->sin_port = htons(port);
		return 0;
	}
	if (na.net == CR_NET_IPV6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)out;
		a->sin6_family = AF_INET6;
		memcpy(&a->sin6_addr, na.addr, 16);
		a->sin6_port = htons(port);
		return 0;
	}
	return CR_E_BAD_ADDRESS;
}

/* "1.2.3.4:8333" or "[::1]:8333"; "?" for an unknown family (an inbound
 * peer whose address could not be read). An IPv4-mapped IPv6 socket
 * address keeps its IPv6 form, as the kernel reported it. */
void cr__sockaddr_str(const struct sockaddr_storage *ss, char *out, size_t cap)
{
	struct cr_netaddr na = { 0 };
	if (ss->ss_family == AF_INET) {
		na.net = CR_NET_IPV4;
		na.len = 4;
		memcpy(na.addr, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		na.net = CR_NET_IPV6;
		na.len = 16;
		memcpy(na.addr, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
	}
	if (!na.net || cr_addrstr_format(out, cap, &na, cr__sockaddr_port(ss)) < 0)
		snprintf(out, cap, "?");
}

uint16_t cr__sockaddr_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return 0;
}

void cr__sockaddr_set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

socklen_t cr__sockaddr_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

/* The BIP155 address of a socket address (IPv4-mapped IPv6 as IPv4, as
 * Core stores it) and its port. Returns false (out zeroed) for a family
 * other than IPv4/IPv6, e.g. a proxy target known only by name. */
bool cr__sockaddr_to_netaddr(const struct sockaddr_storage *ss, struct cr_netaddr *out,
			     uint16_t *port)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	memset(out, 0, sizeof *out);
	*port = 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
		out->net = CR_NET_IPV4;
		out->len = 4;
		memcpy(out->addr, &a->sin_addr, 4);
		*port = ntohs(a->sin_port);
		return true;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
		const uint8_t *b = (const uint8_t *)&a->sin6_addr;
		*port = ntohs(a->sin6_port);
		if (memcmp(b, mapped, 12) == 0) {
			out->net = CR_NET_IPV4;
			out->len = 4;
			memcpy(out->addr, b + 12, 4);
		} else {
			out->net = CR_NET_IPV6;
			out->len = 16;
			memcpy(out->addr, b, 16);
		}
		return true;
	}
	return false;
}

/* The socket address of an IPv4/IPv6 BIP155 address. Returns false for
 * other networks (out zeroed). */
bool cr__netaddr_to_sockaddr(const struct cr_netaddr *a, uint16_t port, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof *out);
	if (a->net == CR_NET_IPV4) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)out;
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, a->addr, 4);
		s4->sin_port = htons(port);
		return true;
	}
	if (a->net == CR_NET_IPV6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)out;
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, a->addr, 16);
		s6->sin6_port = htons(port);
		return true;
	}
	return false;
}
