/* Fuzzes address text: any string either fails with a clean CR_E_* (and a
 * zeroed result) or yields a valid-length address whose formatting parses
 * back to the same address and port, and formats to the same text again.
 * The first byte picks the CJDNS flag; subnet parsing gets the same input
 * and must round-trip through its own formatting as well (text -> subnet
 * -> text), and a subnet built from a parsed address with a prefix taken
 * from the input must format to text that parses back to it (subnet ->
 * text -> subnet), read with the CJDNS flag exactly when it is CJDNS. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr/addrstr.h"
#include "addr/netclass.h"
#include "addr/netgroup.h"
#include "addr/subnet.h"
#include "proto/err.h"

static void check_addr(const char *s, size_t len, unsigned flags)
{
	static const struct cr_netaddr zero;
	struct cr_netaddr a, b;
	uint16_t port, port2;
	char out[CR_ADDRSTR_MAX + 16], out2[CR_ADDRSTR_MAX + 16];

	int rc = cr_addrstr_parse(&a, &port, s, len, 8333, flags);
	if (rc) {
		if (rc > -1500 || rc < -1599 || memcmp(&a, &zero, sizeof(a)) || port)
			abort();
		return;
	}
	if (!a.len || a.len != cr_net_addr_len(a.net) || port == 0)
		abort();
	int n = cr_addrstr_format(out, sizeof(out), &a, port);
	if (n <= 0 || (size_t)n >= sizeof(out))
		abort();
	if (cr_addrstr_parse(&b, &port2, out, (size_t)n, 1, flags) ||
	    !cr_addr_equal(&a, &b) || port != port2)
		abort();
	if (cr_addrstr_format(out2, sizeof(out2), &b, port2) != n || strcmp(out, out2))
		abort();
	/* Everything downstream takes any parsed address. */
	uint8_t g[CR_NETGROUP_MAX];
	size_t gl = cr_netgroup(g, &a, NULL, 0);
	if (gl < 1 || gl > CR_NETGROUP_MAX)
		abort();
	(void)cr_addr_is_routable(&a);

	/* The other direction: a subnet made from an address, not from text. */
	struct cr_subnet sn, sn2;
	unsigned prefix = (unsigned)(len ? (uint8_t)s[len - 1] : 0) % (a.len * 8u + 1);
	if (cr_subnet_init(&sn, &a, prefix))
		return;
	n = cr_subnet_format(out, sizeof(out), &sn);
	unsigned f = sn.net.net == CR_NET_CJDNS ? CR_ADDRSTR_CJDNS : 0;
	if (n <= 0 || cr_subnet_parse(&sn2, out, (size_t)n, f) || !cr_subnet_equal(&sn, &sn2))
		abort();
}

static void check_subnet(const char *s, size_t len, unsigned flags)
{
	struct cr_subnet sn, sn2;
	char out[CR_ADDRSTR_MAX + 16];
	if (cr_subnet_parse(&sn, s, len, flags))
		return;
	if (!cr_subnet_contains(&sn, &sn.net))
		abort(); /* a subnet contains its own network address */
	int n = cr_subnet_format(out, sizeof(out), &sn);
	if (n <= 0 || cr_subnet_parse(&sn2, out, (size_t)n, flags) || !cr_subnet_equal(&sn, &sn2))
		abort();
	char out2[CR_ADDRSTR_MAX + 16];
	if (cr_subnet_format(out2, sizeof(out2), &sn2) != n || strcmp(out, out2))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 200)
		return 0;
	unsigned flags = data[0] & 1 ? CR_ADDRSTR_CJDNS : 0;
	/* A copy of exactly size - 1 bytes: the parser must honour len. */
	char *s = malloc(size - 1 ? size - 1 : 1);
	memcpy(s, data + 1, size - 1);
	check_addr(s, size - 1, flags);
	check_subnet(s, size - 1, flags);
	free(s);
	return 0;
}
