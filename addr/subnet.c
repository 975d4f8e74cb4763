/* Subnets: parse, mask, contains, format; see subnet.h. Any thread. */
#include <stdio.h>
#include <string.h>

#include "addr/addrstr.h"
#include "addr/netclass.h"
#include "addr/subnet.h"
#include "addr/err.h"

/* The address as its own network: IPv4-mapped becomes IPv4. */
static void normalize(struct cr_netaddr *out, const struct cr_netaddr *a)
{
	*out = *a;
	if (cr_addr_is_ipv4_mapped(a)) {
		memset(out, 0, sizeof(*out));
		out->net = CR_NET_IPV4;
		out->len = 4;
		memcpy(out->addr, a->addr + 12, 4);
	}
}

static void mask_bytes(uint8_t *b, unsigned len, unsigned prefix)
{
	for (unsigned i = 0; i < len; i++) {
		unsigned keep = prefix >= 8 * (i + 1) ? 8 : prefix > 8 * i ? prefix - 8 * i : 0;
		b[i] &= (uint8_t)(0xff00u >> keep);
	}
}

int cr_subnet_init(struct cr_subnet *sn, const struct cr_netaddr *a, unsigned prefix)
{
	memset(sn, 0, sizeof(*sn));
	if (a->len != cr_net_addr_len(a->net) || a->len == 0)
		return CR_E_ADDR_SUBNET;
	normalize(&sn->net, a);
	if (prefix > sn->net.len * 8u ||
	    (sn->net.net != CR_NET_IPV4 && sn->net.net != CR_NET_IPV6 &&
	     sn->net.net != CR_NET_CJDNS && prefix != sn->net.len * 8u) ||
	    (sn->net.net == CR_NET_CJDNS && (prefix < 8 || sn->net.addr[0] != 0xfc))) {
		/* Tor and I2P addresses are keys, not routing prefixes. A CJDNS
		 * prefix shorter than fc00::/8 would reach outside CJDNS (and
		 * mask its network address into one that is not CJDNS); a
		 * "CJDNS" address outside fc00::/8 would format as IPv6 text. */
		memset(sn, 0, sizeof(*sn));
		return CR_E_ADDR_SUBNET;
	}
	memset(sn->net.addr + sn->net.len, 0, CR_NETADDR_MAX - sn->net.len);
	mask_bytes(sn->net.addr, sn->net.len, prefix);
	sn->prefix = (uint8_t)(prefix == 256 ? 255 : prefix);
	/* Tor/I2P are 256 bits: a uint8_t cannot hold 256, so single-address
	 * subnets of those networks store 255 and compare all 32 bytes. */
	return 0;
}

int cr_subnet_from_addr(struct cr_subnet *sn, const struct cr_netaddr *a)
{
	return cr_subnet_init(sn, a, cr_addr_is_ipv4_mapped(a) ? 32u : a->len * 8u);
}

static unsigned full_bits(const struct cr_subnet *sn)
{
	return sn->net.len * 8u;
}

static unsigned prefix_bits(const struct cr_subnet *sn)
{
	return sn->prefix == 255 && full_bits(sn) == 256 ? 256 : sn->prefix;
}

bool cr_subnet_is_single(const struct cr_subnet *sn)
{
	return sn->net.len && prefix_bits(sn) == full_bits(sn);
}

bool cr_subnet_contains(const struct cr_subnet *sn, const struct cr_netaddr *a)
{
	struct cr_netaddr n;
	unsigned p = prefix_bits(sn);

	normalize(&n, a);
	if (n.net != sn->net.net || n.len != sn->net.len || !sn->net.len)
		return false;
	unsigned whole = p / 8, rest = p % 8;
	if (memcmp(n.addr, sn->net.addr, whole))
		return false;
	return !rest || ((n.addr[whole] ^ sn->net.addr[whole]) & (0xff00u >> rest)) == 0;
}

/* A netmask in address form -> prefix length; -1 when not contiguous. */
static int mask_prefix(const struct cr_netaddr *m)
{
	int p = 0;
	unsigned i = 0;
	for (; i < m->len && m->addr[i] == 0xff; i++)
		p += 8;
	if (i < m->len) {
		uint8_t b = m->addr[i];
		while (b & 0x80) {
			b = (uint8_t)(b << 1);
			p++;
		}
		if (b)
			return -1;
		for (i++; i < m->len; i++)
			if (m->addr[i])
				return -1;
	}
	return p;
}

int cr_subnet_parse(struct cr_subnet *sn, const char *s, size_t len, unsigned flags)
{
	struct cr_netaddr a, m;
	const char *slash = memchr(s, '/', len);
	size_t alen = slash ? (size_t)(slash - s) : len;
	int rc, prefix;

	memset(sn, 0, sizeof(*sn));
	rc = cr_addrstr_parse_host(&a, s, alen, flags);
	if (rc)
		return rc;
	if (!slash)
		return cr_subnet_from_addr(sn, &a);
	const char *p = slash + 1;
	size_t plen = len - alen - 1;
	size_t ndig = 0;
	while (ndig < plen && p[ndig] >= '0' && p[ndig] <= '9')
		ndig++;
	if (plen >= 1 && plen <= 3 && ndig == plen) {
		prefix = 0;
		for (size_t i = 0; i < plen; i++)
			prefix = prefix * 10 + (p[i] - '0');
		if (plen > 1 && p[0] == '0')
			return CR_E_ADDR_SUBNET;
	} else {
		/* A netmask of the same family. The CJDNS flag is dropped so an
		 * fc.. mask reads as IPv6, and the family compared by length. */
		rc = cr_addrstr_parse_host(&m, p, plen, 0);
		if (rc)
			return CR_E_ADDR_SUBNET;
		if (m.len != a.len || (prefix = mask_prefix(&m)) < 0)
			return CR_E_ADDR_SUBNET;
	}
	rc = cr_subnet_init(sn, &a, (unsigned)prefix);
	if (!rc && (flags & CR_ADDRSTR_CJDNS) && sn->net.net == CR_NET_IPV6 &&
	    sn->net.addr[0] == 0xfc) {
		/* With the CJDNS flag the network is what its masked text reads
		 * as: "ffc1::/6" masks to fc00::, which formats as "fc00::/6",
		 * which this flag reads as a CJDNS /6 and refuses. Decide here
		 * the way that text would be decided, so parse and format agree
		 * in both directions. */
		memset(sn, 0, sizeof(*sn));
		return CR_E_ADDR_SUBNET;
	}
	return rc;
}

int cr_subnet_format(char *out, size_t cap, const struct cr_subnet *sn)
{
	char host[CR_ADDRSTR_MAX], buf[CR_ADDRSTR_MAX + 8];
	int n = cr_addrstr_format_host(host, sizeof(host), &sn->net);
	if (cap)
		out[0] = 0; /* an empty string on every failure */
	if (n < 0)
		return n;
	n = snprintf(buf, sizeof(buf), "%s/%u", host, prefix_bits(sn));
	if ((size_t)n + 1 > cap)
		return CR_E_OVERFLOW;
	memcpy(out, buf, (size_t)n + 1);
	return n;
}

bool cr_subnet_equal(const struct cr_subnet *a, const struct cr_subnet *b)
{
	return a->prefix == b->prefix && cr_addr_equal(&a->net, &b->net);
}
