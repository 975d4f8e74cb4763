/* Address text parsing and formatting; see addrstr.h. Pure functions on the
 * caller's buffers; any thread. Every parser is bounded by CR_ADDRSTR_MAX
 * and never reads past len. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "addr/addrstr.h"
#include "proto/crypto.h"
#include "addr/err.h"

static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";

int cr_base32_encode(char *out, size_t cap, const uint8_t *in, size_t len)
{
	size_t n = (len * 8 + 4) / 5, o = 0;
	uint32_t acc = 0;
	int bits = 0;

	if (n + 1 > cap)
		return CR_E_OVERFLOW;
	for (size_t i = 0; i < len; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = b32[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits)
		out[o++] = b32[(acc << (5 - bits)) & 31];
	out[o] = 0;
	return (int)o;
}

static int b32_val(char c)
{
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

int cr_base32_decode(uint8_t *out, size_t out_len, const char *s, size_t len)
{
	uint32_t acc = 0;
	size_t o = 0;
	int bits = 0;

	if (len != (out_len * 8 + 4) / 5)
		return CR_E_ADDR_PARSE;
	for (size_t i = 0; i < len; i++) {
		int v = b32_val(s[i]);
		if (v < 0)
			return CR_E_ADDR_PARSE;
		acc = (acc << 5) | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			out[o++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	/* Canonical form only: leftover bits zero, so text <-> bytes is 1:1. */
	if (acc & ((1u << bits) - 1))
		return CR_E_ADDR_PARSE;
	return 0;
}

/* Strict dotted quad: four 1..3 digit parts, each <= 255, no leading zero. */
static bool parse_ipv4(uint8_t out[4], const char *s, size_t n)
{
	size_t i = 0;
	for (int part = 0; part < 4; part++) {
		size_t start = i;
		unsigned v = 0;
		while (i < n && s[i] >= '0' && s[i] <= '9' && i - start < 3)
			v = v * 10 + (unsigned)(s[i++] - '0');
		if (i == start || v > 255 || (s[start] == '0' && i - start > 1))
			return false;
		out[part] = (uint8_t)v;
		if (part < 3) {
			if (i >= n || s[i] != '.')
				return false;
			i++;
		}
	}
	return i == n;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Writes ng groups to 16 bytes, the "::" at group index gap (or none when
 * gap < 0) standing for as many zero groups as are missing. */
static void expand_groups(uint8_t out[16], const uint16_t *g, int ng, int gap)
{
	int tail = gap < 0 ? 0 : ng - gap;
	memset(out, 0, 16);
	for (int k = 0; k < ng - tail; k++) {
		out[2 * k] = (uint8_t)(g[k] >> 8);
		out[2 * k + 1] = (uint8_t)g[k];
	}
	for (int k = 0; k < tail; k++) {
		int d = 8 - tail + k;
		out[2 * d] = (uint8_t)(g[gap + k] >> 8);
		out[2 * d + 1] = (uint8_t)g[gap + k];
	}
}

/* RFC 4291 section 2.2 text: 8 groups, one "::" for one or more zero
 * groups, and optionally a dotted quad as the last 32 bits. */
static bool parse_ipv6(uint8_t out[16], const char *s, size_t n)
{
	uint16_t g[8];
	int ng = 0, gap = -1; /* gap: index in g where "::" stands */
	size_t i = 0;

	if (n < 2 || n > 45)
		return false;
	if (s[0] == ':') {
		if (s[1] != ':')
			return false;
		gap = 0;
		i = 2;
		if (i == n)
			goto done;
	}
	for (;;) {
		size_t j = i;
		bool dot = false;
		while (j < n && s[j] != ':')
			dot |= s[j++] == '.';
		if (j == i)
			return false; /* empty group, e.g. ":::" */
		if (dot) {
			uint8_t q[4];
			if (j != n || ng > 6 || !parse_ipv4(q, s + i, j - i))
				return false;
			g[ng++] = (uint16_t)(q[0] << 8 | q[1]);
			g[ng++] = (uint16_t)(q[2] << 8 | q[3]);
			break;
		}
		if (j - i > 4 || ng == 8)
			return false;
		unsigned v = 0;
		for (size_t k = i; k < j; k++) {
			int h = hexval(s[k]);
			if (h < 0)
				return false;
			v = v << 4 | (unsigned)h;
		}
		g[ng++] = (uint16_t)v;
		if (j == n)
			break;
		if (j + 1 < n && s[j + 1] == ':') {
			if (gap >= 0)
				return false; /* a second "::" */
			gap = ng;
			i = j + 2;
			if (i == n)
				break;
		} else {
			i = j + 1;
			if (i == n)
				return false; /* trailing single colon */
		}
	}
done:
	if (gap < 0 ? ng != 8 : ng > 7)
		return false;
	expand_groups(out, g, ng, gap);
	return true;
}

static bool ends_with(const char *s, size_t n, const char *suf)
{
	size_t m = strlen(suf);
	if (n < m)
		return false;
	for (size_t i = 0; i < m; i++) {
		char c = s[n - m + i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != suf[i])
			return false;
	}
	return true;
}

/* Tor rend-spec-v3: onion = base32(pubkey | checksum[2] | version), with
 * checksum = SHA3-256(".onion checksum" | pubkey | version)[:2], version 3. */
static int onion_checksum(uint8_t out[2], const uint8_t pub[32])
{
	uint8_t buf[15 + 32 + 1], h[32];
	memcpy(buf, ".onion checksum", 15);
	memcpy(buf + 15, pub, 32);
	buf[47] = 3;
	int rc = cr_sha3_256(h, buf, sizeof(buf));
	memcpy(out, h, 2);
	return rc;
}

static int parse_onion(struct cr_netaddr *a, const char *s, size_t n)
{
	uint8_t raw[35], sum[2];
	if (n != 56 || cr_base32_decode(raw, sizeof(raw), s, n))
		return CR_E_ADDR_PARSE; /* Tor v2 (16 chars) is obsolete */
	if (raw[34] != 3 || onion_checksum(sum, raw) || memcmp(sum, raw + 32, 2))
		return CR_E_ADDR_ONION;
	a->net = CR_NET_TORV3;
	a->len = 32;
	memcpy(a->addr, raw, 32);
	return 0;
}

int cr_addrstr_parse_host(struct cr_netaddr *a, const char *s, size_t len, unsigned flags)
{
	int rc = CR_E_ADDR_PARSE;

	memset(a, 0, sizeof(*a));
	if (len >= CR_ADDRSTR_MAX)
		return CR_E_ADDR_PARSE;
	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		s++;
		len -= 2;
		if (!memchr(s, ':', len))
			return CR_E_ADDR_PARSE; /* brackets only around IPv6 */
	}
	if (ends_with(s, len, ".onion")) {
		rc = parse_onion(a, s, len - 6);
	} else if (ends_with(s, len, ".b32.i2p")) {
		if (!cr_base32_decode(a->addr, 32, s, len - 8)) {
			a->net = CR_NET_I2P;
			a->len = 32;
			rc = 0;
		}
	} else if (parse_ipv4(a->addr, s, len)) {
		a->net = CR_NET_IPV4;
		a->len = 4;
		rc = 0;
	} else if (parse_ipv6(a->addr, s, len)) {
		static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};
		rc = 0;
		if (memcmp(a->addr, mapped, 12) == 0) {
			memmove(a->addr, a->addr + 12, 4);
			memset(a->addr + 4, 0, 12);
			a->net = CR_NET_IPV4;
			a->len = 4;
		} else {
			a->net = (flags & CR_ADDRSTR_CJDNS) && a->addr[0] == 0xfc ? CR_NET_CJDNS
										 : CR_NET_IPV6;
			a->len = 16;
		}
	}
	if (rc)
		memset(a, 0, sizeof(*a));
	return rc;
}

static int parse_port(uint16_t *port, const char *s, size_t n, unsigned flags)
{
	unsigned v = 0;
	if (n == 0 || n > 5)
		return CR_E_ADDR_PORT;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return CR_E_ADDR_PORT;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if ((v == 0 && !(flags & CR_ADDRSTR_PORT0)) || v > 65535)
		return CR_E_ADDR_PORT;
	*port = (uint16_t)v;
	return 0;
}

int cr_addrstr_split(size_t *host_len, uint16_t *port, const char *s, size_t len,
		     uint16_t default_port, unsigned flags)
{
	const char *colon = NULL;
	int rc = 0;

	*host_len = len;
	*port = default_port;
	if (len && s[0] == '[') {
		const char *close = memchr(s, ']', len);
		*host_len = close ? (size_t)(close - s) + 1 : 0;
		if (!close || (*host_len < len && s[*host_len] != ':'))
			rc = CR_E_ADDR_PARSE;
		else if (*host_len < len)
			colon = s + *host_len;
	} else {
		/* One colon separates a port; more means a bare IPv6 host. */
		const char *c = memchr(s, ':', len);
		if (c && !memchr(c + 1, ':', len - (size_t)(c - s) - 1)) {
			colon = c;
			*host_len = (size_t)(c - s);
		}
	}
	if (!rc && colon)
		rc = parse_port(port, colon + 1, len - (size_t)(colon - s) - 1, flags);
	if (!rc && *host_len == 0)
		rc = CR_E_ADDR_PARSE;
	if (rc) {
		*host_len = 0;
		*port = 0;
	}
	return rc;
}

int cr_addrstr_parse(struct cr_netaddr *a, uint16_t *port, const char *s, size_t len,
		     uint16_t default_port, unsigned flags)
{
	size_t host_len = 0;
	int rc = len >= CR_ADDRSTR_MAX ? CR_E_ADDR_PARSE
				       : cr_addrstr_split(&host_len, port, s, len, default_port, flags);
	if (!rc)
		rc = cr_addrstr_parse_host(a, s, host_len, flags);
	else
		memset(a, 0, sizeof(*a));
	if (rc)
		*port = 0;
	return rc;
}

/* RFC 5952: lowercase, no leading zeros, the longest run (first on a tie)
 * of two or more zero groups as "::", mapped IPv4 as a dotted quad. */
static int format_ipv6(char *out, size_t cap, const uint8_t ip[16])
{
	static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};
	char buf[48];
	int n = 0, best = -1, best_len = 1, run_start = -1;
	uint16_t g[8];

	if (memcmp(ip, mapped, 12) == 0) {
		n = snprintf(buf, sizeof(buf), "::ffff:%u.%u.%u.%u", ip[12], ip[13], ip[14], ip[15]);
		goto out;
	}
	for (int k = 0; k < 8; k++) {
		g[k] = (uint16_t)(ip[2 * k] << 8 | ip[2 * k + 1]);
		if (g[k] == 0) {
			if (run_start < 0)
				run_start = k;
			if (k - run_start + 1 > best_len) {
				best = run_start;
				best_len = k - run_start + 1;
			}
		} else {
			run_start = -1;
		}
	}
	for (int k = 0; k < 8; k++) {
		if (k == best) {
			n += snprintf(buf + n, sizeof(buf) - (size_t)n, "::");
			k += best_len - 1;
			continue;
		}
		if (k && k != best + best_len)
			buf[n++] = ':';
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%x", g[k]);
	}
	buf[n] = 0;
out:
	if ((size_t)n + 1 > cap)
		return CR_E_OVERFLOW;
	memcpy(out, buf, (size_t)n + 1);
	return n;
}

int cr_addrstr_format_host(char *out, size_t cap, const struct cr_netaddr *a)
{
	char buf[CR_ADDRSTR_MAX];
	int n;

	if (cap)
		out[0] = 0; /* an empty string on every failure */
	if (a->len != cr_net_addr_len(a->net))
		return CR_E_INVAL;
	switch (a->net) {
	case CR_NET_IPV4:
		n = snprintf(buf, sizeof(buf), "%u.%u.%u.%u", a->addr[0], a->addr[1],
			     a->addr[2], a->addr[3]);
		break;
	case CR_NET_IPV6:
	case CR_NET_CJDNS:
		n = format_ipv6(buf, sizeof(buf), a->addr);
		break;
	case CR_NET_TORV3: {
		uint8_t raw[35];
		memcpy(raw, a->addr, 32);
		if (onion_checksum(raw + 32, a->addr))
			return CR_E_CRYPTO;
		raw[34] = 3;
		n = cr_base32_encode(buf, sizeof(buf), raw, 35);
		memcpy(buf + n, ".onion", 7);
		n += 6;
		break;
	}
	case CR_NET_TORV2: /* obsolete; formatted for logs only */
		n = cr_base32_encode(buf, sizeof(buf), a->addr, 10);
		memcpy(buf + n, ".onion", 7);
		n += 6;
		break;
	case CR_NET_I2P:
		n = cr_base32_encode(buf, sizeof(buf), a->addr, 32);
		memcpy(buf + n, ".b32.i2p", 9);
		n += 8;
		break;
	default:
		return CR_E_INVAL;
	}
	if ((size_t)n + 1 > cap)
		return CR_E_OVERFLOW;
	memcpy(out, buf, (size_t)n + 1);
	return n;
}

int cr_addrstr_format(char *out, size_t cap, const struct cr_netaddr *a, uint16_t port)
{
	char host[CR_ADDRSTR_MAX], buf[CR_ADDRSTR_MAX + 16];
	int n = cr_addrstr_format_host(host, sizeof(host), a);
	if (cap)
		out[0] = 0;
	if (n < 0)
		return n;
	if (a->net == CR_NET_IPV6 || a->net == CR_NET_CJDNS)
		n = snprintf(buf, sizeof(buf), "[%s]:%u", host, port);
	else
		n = snprintf(buf, sizeof(buf), "%s:%u", host, port);
	if ((size_t)n + 1 > cap)
		return CR_E_OVERFLOW;
	memcpy(out, buf, (size_t)n + 1);
	return n;
}
