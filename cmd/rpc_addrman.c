/* Core's address-manager methods on the engine's address manager (owned
 * by the coordinator, reached through cr_node_addresses,
 * cr_add_peer_address, cr_addrman_sizes): getnodeaddresses,
 * addpeeraddress, getaddrmaninfo, with Core's arguments, result fields and
 * errors (src/rpc/net.cpp). Run on RPC connection threads. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <connring/connring.h>

#include "addr/addrman.h"
#include "addr/addrstr.h"
#include "addr/netclass.h"
#include "cmd/rpc.h"
#include "cmd/rpc_net.h"

/* Core's networks by name, as BIP155 ids (GetNetworkNames). */
static const struct { const char *name; unsigned net; } nets[] = {
	{"ipv4", 1}, {"ipv6", 2}, {"onion", 4}, {"i2p", 5}, {"cjdns", 6},
};
#define NNETS (sizeof nets / sizeof nets[0])

static json_t *am_error(struct cr_rpc_call *c, int r)
{
	return cr_rpc_engine_fail(c, r, CR_RPC_MSG_NO_ADDRMAN);
}

static void to_netaddr(struct cr_netaddr *na, const struct cr_addr_entry *a)
{
	memset(na, 0, sizeof *na);
	na->net = a->net;
	na->len = a->len <= sizeof na->addr ? a->len : sizeof na->addr;
	memcpy(na->addr, a->addr, na->len);
}

json_t *cr_rpc_m_getnodeaddresses(struct cr_rpc_call *c);
json_t *cr_rpc_m_getnodeaddresses(struct cr_rpc_call *c)
{
	struct cr_engine *e = cr_rpc_engine(c);
	int64_t count;
	if (!cr_rpc_int(c, 0, 1, INT32_MIN, INT32_MAX, &count))
		return NULL;
	if (count < 0)
		return cr_rpc_fail(c, CR_RPC_INVALID_PARAMETER, "Address count out of range");
	unsigned net = 0;
	const char *want = cr_rpc_str(c, 1, NULL);
	if (want) {
		for (size_t i = 0; i < NNETS && !net; i++)
			if (strcmp(want, nets[i].name) == 0)
				net = nets[i].net;
		if (!net)
			return cr_rpc_fail(c, CR_RPC_INVALID_PARAMETER, "Network not recognized: %s", want);
	}
	/* count 0: all of them; never more than the address manager holds */
	size_t cap = CR_ADDRMAN_MAX_ENTRIES;
	if (count > 0 && (uint64_t)count < cap)
		cap = (size_t)count;
	struct cr_addr_entry *a = malloc(cap * sizeof *a);
	if (!a)
		return cr_rpc_fail(c, CR_RPC_OUT_OF_MEMORY, "Out of memory");
	int n = cr_node_addresses(e, a, cap, net);
	if (n < 0) {
		free(a);
		return am_error(c, n);
	}
	json_t *out = json_array();
	for (int i = 0; i < n; i++) {
		struct cr_netaddr na;
		char host[128];
		to_netaddr(&na, &a[i]);
		if (cr_addrstr_format_host(host, sizeof host, &na) < 0)
			continue;
		json_array_append_new(out, json_pack("{s:I,s:I,s:s,s:i,s:s}", "time", (json_int_t)a[i].time,
						     "services", (json_int_t)a[i].services, "address", host,
						     "port", (int)a[i].port, "network", cr_rpc_network_name(&na)));
	}
	free(a);
	return out;
}

json_t *cr_rpc_m_addpeeraddress(struct cr_rpc_call *c);
json_t *cr_rpc_m_addpeeraddress(struct cr_rpc_call *c)
{
	const char *text = cr_rpc_str(c, 0, "");
	int64_t port;
	if (!cr_rpc_int(c, 1, 0, 0, 65535, &port))
		return NULL;
	bool tried = cr_rpc_bool(c, 2, false);
	struct cr_netaddr na;
	/* Core: LookupHost without name lookup; an address that does not
	 * parse is not an error, only success false */
	if (cr_addrstr_parse_host(&na, text, strlen(text), 0) != 0)
		return json_pack("{s:b}", "success", false);
	struct cr_addr_entry a = {
		.net = na.net, .len = na.len, .port = (uint16_t)port,
		.services = 1u | 8u, /* Core: NODE_NETWORK | NODE_WITNESS */
	};
	memcpy(a.addr, na.addr, na.len);
	int r = cr_add_peer_address(cr_rpc_engine(c), &a, tried);
	if (r < 0 && r != CR_E_BAD_ADDRESS)
		return am_error(c, r);
	if (r == 1)
		return json_pack("{s:b}", "success", true);
	/* Core: "error" (before "success") when Add or Good failed */
	return json_pack("{s:s,s:b}", "error", r == 2 ? "failed-adding-to-tried" : "failed-adding-to-new", "success",
			 false);
}

json_t *cr_rpc_m_getaddrmaninfo(struct cr_rpc_call *c);
json_t *cr_rpc_m_getaddrmaninfo(struct cr_rpc_call *c)
{
	struct cr_addrman_sizes s;
	int r = cr_addrman_sizes(cr_rpc_engine(c), &s);
	if (r < 0)
		return am_error(c, r);
	json_t *out = json_object();
	uint64_t all_new = 0, all_tried = 0;
	for (size_t i = 0; i < NNETS; i++) {
		uint64_t n = s.new_count[nets[i].net], t = s.tried_count[nets[i].net];
		json_object_set_new(out, nets[i].name, json_pack("{s:I,s:I,s:I}", "new", (json_int_t)n, "tried",
								 (json_int_t)t, "total", (json_int_t)(n + t)));
	}
	for (unsigned i = 0; i < CR_ADDR_NETS; i++) {
		all_new += s.new_count[i];
		all_tried += s.tried_count[i];
	}
	json_object_set_new(out, "all_networks", json_pack("{s:I,s:I,s:I}", "new", (json_int_t)all_new, "tried",
							   (json_int_t)all_tried, "total",
							   (json_int_t)(all_new + all_tried)));
	return out;
}
