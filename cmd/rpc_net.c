/* Core's "network" methods that stand on the engine's public API:
 * getconnectioncount, getnettotals, getnetworkinfo, disconnectnode,
 * addnode, getaddednodeinfo, ping, setnetworkactive (the address-manager
 * methods are in rpc_addrman.c, the ban methods in rpc_bans.c). getpeerinfo lives in rpc_peers.c. Run on RPC connection
 * threads. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "addr/addrstr.h"
#include "addr/netclass.h"
#include "cmd/rpc.h"
#include "cmd/rpc_net.h"
#include "cmd/rpc_node.h"

const char *cr_rpc_network_name(const struct cr_netaddr *a)
{
	switch (cr_addr_netclass(a)) {
	case CR_NETCLASS_IPV4: return "ipv4";
	case CR_NETCLASS_IPV6: return "ipv6";
	case CR_NETCLASS_ONION: return "onion";
	case CR_NETCLASS_I2P: return "i2p";
	case CR_NETCLASS_CJDNS: return "cjdns";
	case CR_NETCLASS_INTERNAL: return "internal";
	default: return "not_publicly_routable";
	}
}

json_t *cr_rpc_services_names(uint64_t services)
{
	static const struct { int bit; const char *name; } known[] = {
		{0, "NETWORK"}, {2, "BLOOM"}, {3, "WITNESS"}, {6, "COMPACT_FILTERS"},
		{10, "NETWORK_LIMITED"}, {11, "P2P_V2"},
	};
	json_t *a = json_array();
	for (int bit = 0; bit < 64; bit++) {
		if (!(services >> bit & 1))
			continue;
		const char *name = NULL;
		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (known[i].bit == bit)
				name = known[i].name;
		char unknown[24];
		if (!name) {
			snprintf(unknown, sizeof(unknown), "UNKNOWN[2^%d]", bit);
			name = unknown;
		}
		json_array_append_new(a, json_string(name));
	}
	return a;
}

int cr_rpc_collect_peers(struct cr_engine *e, struct cr_peer_info **out, size_t *n)
{
	struct cr_totals t;
	cr_engine_totals(e, &t, sizeof(t));
	/* room for peers that arrive while the workers answer */
	size_t cap = t.peers + t.peers / 8 + 256;
	struct cr_peer_info *pi = malloc(cap * sizeof(*pi));
	if (!pi)
		return -1;
	long got = cr_engine_peer_infos(e, pi, cap, sizeof(*pi));
	if (got < 0) {
		free(pi);
		return -1;
	}
	*out = pi;
	*n = (size_t)got;
	return 0;
}

static struct cr_rpc_node *node_of(struct cr_rpc_call *c)
{
	return c->node;
}

struct cr_engine *cr_rpc_engine(struct cr_rpc_call *c)
{
	return node_of(c)->e;
}

json_t *cr_rpc_engine_fail(struct cr_rpc_call *c, int r, const char *msg)
{
	if (r == -ENOMEM)
		return cr_rpc_fail(c, CR_RPC_OUT_OF_MEMORY, "Out of memory");
	return cr_rpc_fail(c, CR_RPC_CLIENT_P2P_DISABLED, "%s", msg);
}

static json_t *m_getconnectioncount(struct cr_rpc_call *c)
{
	struct cr_totals t;
	cr_engine_totals(node_of(c)->e, &t, sizeof t);
	return json_integer((json_int_t)t.peers);
}

static json_t *m_getnettotals(struct cr_rpc_call *c)
{
	struct cr_totals t;
	cr_engine_totals(node_of(c)->e, &t, sizeof t);
	struct timeval tv;
	gettimeofday(&tv, NULL);
	/* No -maxuploadtarget is accounted yet: Core's answer for "no target"
	 * (target 0, never reached, historical blocks served). */
	json_t *up = json_pack("{s:i,s:i,s:b,s:b,s:i,s:i}", "timeframe", 86400, "target", 0,
			       "target_reached", 0, "serve_historical_blocks", 1, "bytes_left_in_cycle", 0,
			       "time_left_in_cycle", 0);
	return json_pack("{s:I,s:I,s:I,s:o}", "totalbytesrecv", (json_int_t)t.bytes_recv,
			 "totalbytessent", (json_int_t)t.bytes_sent, "timemillis",
			 (json_int_t)tv.tv_sec * 1000 + tv.tv_usec / 1000, "uploadtarget", up);
}

static json_t *networks_info(const struct cr_rpc_node *n)
{
	static const char *const nets[] = {"ipv4", "ipv6", "onion", "i2p", "cjdns"};
	json_t *a = json_array();
	for (size_t i = 0; i < sizeof(nets) / sizeof(nets[0]); i++) {
		/* connring reaches IPv4 and IPv6 directly, and other networks
		 * only through a proxy that can (onion through Tor's SOCKS5). */
		bool clear = i < 2;
		bool reachable = clear || (i == 2 && n->proxy[0]);
		json_array_append_new(a, json_pack("{s:s,s:b,s:b,s:s,s:b}", "name", nets[i], "limited",
						   !reachable, "reachable", reachable, "proxy",
						   n->proxy[0] && (clear || i == 2) ? n->proxy : "",
						   "proxy_randomize_credentials", 0));
	}
	return a;
}

static json_t *m_getnetworkinfo(struct cr_rpc_call *c)
{
	struct cr_rpc_node *n = node_of(c);
	struct cr_totals t;
	cr_engine_totals(n->e, &t, sizeof t);
	unsigned maj = 0, min = 0, pat = 0;
	sscanf(CR_VERSION, "%u.%u.%u", &maj, &min, &pat);
	char services[17];
	snprintf(services, sizeof(services), "%016" PRIx64, n->local_services);
	return json_pack("{s:i,s:s,s:i,s:s,s:o,s:b,s:i,s:I,s:I,s:I,s:b,s:o,s:[],s:[]}",
			 "version", (int)(maj * 10000 + min * 100 + pat), "subversion", n->subversion,
			 "protocolversion", n->protocol_version, "localservices", services,
			 "localservicesnames", cr_rpc_services_names(n->local_services), "localrelay",
			 n->local_relay, "timeoffset", 0, "connections", (json_int_t)t.peers,
			 "connections_in", (json_int_t)t.inbound, "connections_out", (json_int_t)t.outbound,
			 "networkactive", cr_network_active(n->e), "networks", networks_info(n), "localaddresses", "warnings");
}

/* Core's DisconnectNode(string): the peer whose address text is exactly
 * the argument, else every peer on that IP. */
static int disconnect_by_address(struct cr_rpc_node *n, const char *text)
{
	struct cr_peer_info *pi;
	size_t np;
	if (cr_rpc_collect_peers(n->e, &pi, &np) != 0)
		return -1;
	int done = 0;
	for (size_t i = 0; i < np && !done; i++)
		if (strcmp(pi[i].addr_str, text) == 0 && cr_disconnect(n->e, pi[i].id) == 0)
			done = 1;
	struct cr_netaddr want;
	if (!done && cr_addrstr_parse_host(&want, text, strlen(text), 0) == 0) {
		for (size_t i = 0; i < np; i++) {
			struct cr_netaddr a;
			uint16_t port;
			if (cr_addrstr_parse(&a, &port, pi[i].addr_str, strlen(pi[i].addr_str), 0, 0) == 0 &&
			    cr_addr_equal(&a, &want) && cr_disconnect(n->e, pi[i].id) == 0)
				done = 1;
		}
	}
	free(pi);
	return done;
}

static json_t *m_disconnectnode(struct cr_rpc_call *c)
{
	struct cr_rpc_node *n = node_of(c);
	const char *addr = cr_rpc_str(c, 0, NULL);
	int ok;
	if (addr && !cr_rpc_has(c, 1)) {
		ok = disconnect_by_address(n, addr);
	} else if (cr_rpc_has(c, 1) && (!addr || !addr[0])) {
		int64_t id;
		if (!cr_rpc_int(c, 1, 0, INT64_MIN, INT64_MAX, &id))
			return NULL;
		ok = cr_disconnect(n->e, (uint64_t)id) == 0;
	} else {
		return cr_rpc_fail(c, CR_RPC_INVALID_PARAMS, "Only one of address and nodeid should be provided.");
	}
	if (ok < 0)
		return cr_rpc_fail(c, CR_RPC_OUT_OF_MEMORY, "Out of memory");
	if (!ok)
		return cr_rpc_fail(c, CR_RPC_CLIENT_NODE_NOT_CONNECTED, "Node not found in connected nodes");
	return json_null();
}

static json_t *net_error(struct cr_rpc_call *c, int r)
{
	return r >= 0 ? json_null() : cr_rpc_engine_fail(c, r, CR_RPC_MSG_P2P_DISABLED);
}

static json_t *m_addnode(struct cr_rpc_call *c)
{
	struct cr_rpc_node *n = node_of(c);
	const char *node = cr_rpc_str(c, 0, "");
	const char *cmd = cr_rpc_str(c, 1, "");
	if (strcmp(cmd, "onetry") != 0 && strcmp(cmd, "add") != 0 && strcmp(cmd, "remove") != 0)
		return cr_rpc_help_fail(c, "addnode: bad command");
	if (strcmp(cmd, "onetry") == 0) {
		/* Core: OpenNetworkConnection, whatever the outcome. */
		cr_connect(n->e, node, 0);
		return json_null();
	}
	int r = strcmp(cmd, "add") == 0 ? cr_addnode(n->e, node) : cr_removenode(n->e, node);
	if (r == -EEXIST)
		return cr_rpc_fail(c, CR_RPC_CLIENT_NODE_ALREADY_ADDED, "Error: Node already added");
	if (r == -ENOENT)
		return cr_rpc_fail(c, CR_RPC_CLIENT_NODE_NOT_ADDED,
				   "Error: Node could not be removed. It has not been added previously.");
	if (r == CR_E_BAD_ADDRESS) /* Core would resolve a name; connring needs a proxy for that */
		return cr_rpc_fail(c, CR_RPC_CLIENT_INVALID_IP_OR_SUBNET,
				   "Error: %s is not a numeric address[:port] (names need -proxy)", node);
	if (r == -ENOSPC)
		return cr_rpc_fail(c, CR_RPC_CLIENT_NODE_CAPACITY_REACHED, "Error: %d nodes added already",
				   CR_ADDED_NODES_MAX);
	return net_error(c, r);
}

static json_t *m_getaddednodeinfo(struct cr_rpc_call *c)
{
	struct cr_engine *e = node_of(c)->e;
	const char *want = cr_rpc_str(c, 0, NULL);
	struct cr_added_node *a = NULL;
	size_t cap = CR_ADDED_NODES_MAX;
	if (!(a = calloc(cap, sizeof *a)))
		return cr_rpc_fail(c, CR_RPC_OUT_OF_MEMORY, "Out of memory");
	int n = cr_added_nodes(e, a, cap);
	if (n < 0) {
		free(a);
		return net_error(c, n);
	}
	if ((size_t)n > cap)
		n = (int)cap;
	json_t *out = json_array();
	for (int i = 0; i < n; i++) {
		if (want && strcmp(want, a[i].addednode) != 0)
			continue;
		json_t *addrs = json_array();
		if (a[i].connected)
			json_array_append_new(addrs, json_pack("{s:s,s:s}", "address", a[i].address, "connected",
							       "outbound"));
		json_array_append_new(out, json_pack("{s:s,s:b,s:o}", "addednode", a[i].addednode, "connected",
						     a[i].connected, "addresses", addrs));
	}
	free(a);
	if (want && json_array_size(out) == 0) {
		json_decref(out);
		return cr_rpc_fail(c, CR_RPC_CLIENT_NODE_NOT_ADDED, "Error: Node has not been added.");
	}
	return out;
}

static json_t *m_ping(struct cr_rpc_call *c)
{
	int r = cr_ping_peers(node_of(c)->e);
	return r < 0 ? net_error(c, r) : json_null();
}

static json_t *m_setnetworkactive(struct cr_rpc_call *c)
{
	struct cr_engine *e = node_of(c)->e;
	int r = cr_set_network_active(e, cr_rpc_bool(c, 0, true));
	return r < 0 ? net_error(c, r) : json_boolean(cr_network_active(e));
}

extern json_t *cr_rpc_m_getpeerinfo(struct cr_rpc_call *c);
extern json_t *cr_rpc_m_getpeertable(struct cr_rpc_call *c);
extern json_t *cr_rpc_m_setban(struct cr_rpc_call *c);
extern json_t *cr_rpc_m_getnodeaddresses(struct cr_rpc_call *c);
extern json_t *cr_rpc_m_addpeeraddress(struct cr_rpc_call *c);
extern json_t *cr_rpc_m_getaddrmaninfo(struct cr_rpc_call *c);
extern json_t *cr_rpc_m_listbanned(struct cr_rpc_call *c);
extern json_t *cr_rpc_m_clearbanned(struct cr_rpc_call *c);

#define NOARGS {{0}}

const struct cr_rpc_method cr_rpc_net_methods[] = {
	{"getconnectioncount", "network", "Returns the number of connections to other nodes.", NOARGS,
	 "n    (numeric) The connection count", m_getconnectioncount},
	{"getpeerinfo", "network", "Returns data about each connected network peer as a json array of objects.",
	 NOARGS, "[{\"id\": n, \"addr\": \"host:port\", ...}, ...]", cr_rpc_m_getpeerinfo},
	{"getnettotals", "network",
	 "Returns information about network traffic, including bytes in, bytes out,\nand current system time.",
	 NOARGS, "{\"totalbytesrecv\": n, \"totalbytessent\": n, \"timemillis\": n, \"uploadtarget\": {...}}",
	 m_getnettotals},
	{"getnetworkinfo", "network", "Returns an object containing various state info regarding P2P networking.",
	 NOARGS, "{\"version\": n, \"subversion\": \"str\", \"connections\": n, ...}", m_getnetworkinfo},
	{"disconnectnode", "network",
	 "Immediately disconnects from the specified peer node.\n\nStrictly one out of 'address' and "
	 "'nodeid' can be provided to identify the node.",
	 {{"address", CR_RPC_T_STR, false, "The IP address/port of the node (default: fall back to nodeid)"},
	  {"nodeid", CR_RPC_T_NUM, false, "The node ID (see getpeerinfo for node IDs)"}},
	 NULL, m_disconnectnode},
	{"addnode", "network",
	 "Attempts to add or remove a node from the addnode list.\nOr try a connection to a node once.",
	 {{"node", CR_RPC_T_STR, true, "The node (see getpeerinfo for nodes)"},
	  {"command", CR_RPC_T_STR, true, "'add', 'remove' or 'onetry'"}},
	 NULL, m_addnode},
	{"getaddednodeinfo", "network", "Returns information about the given added node, or all added nodes.",
	 {{"node", CR_RPC_T_STR, false, "If provided, return information about this specific node"}},
	 "[{\"addednode\": \"str\", \"connected\": bool, \"addresses\": [...]}, ...]", m_getaddednodeinfo},
	{"ping", "network", "Requests that a ping be sent to all other nodes, to measure ping time.", NOARGS,
	 NULL, m_ping},
	{"setnetworkactive", "network", "Disable/enable all p2p network activity.",
	 {{"state", CR_RPC_T_BOOL, true, "true to enable networking, false to disable"}},
	 "true|false    (boolean) The value that was passed in", m_setnetworkactive},
	{"setban", "network", "Attempts to add or remove an IP/Subnet from the banned list.",
	 {{"subnet", CR_RPC_T_STR, true, "The IP/Subnet with an optional netmask (default /32 = single IP)"},
	  {"command", CR_RPC_T_STR, true, "'add' or 'remove'"},
	  {"bantime", CR_RPC_T_NUM, false, "seconds (or until when, with absolute); 0 = 24 h"},
	  {"absolute", CR_RPC_T_BOOL, false, "bantime is an absolute UNIX time (default false)"}},
	 NULL, cr_rpc_m_setban},
	{"listbanned", "network", "List all manually banned IPs/Subnets.", NOARGS,
	 "[{\"address\": \"str\", \"ban_created\": n, \"banned_until\": n, \"ban_duration\": n,\n"
	 "  \"time_remaining\": n}, ...]",
	 cr_rpc_m_listbanned},
	{"clearbanned", "network", "Clear all banned IPs.", NOARGS, NULL, cr_rpc_m_clearbanned},
	{"getnodeaddresses", "network", "Return known addresses, after filtering for quality and recency.",
	 {{"count", CR_RPC_T_NUM, false, "The maximum number of addresses to return (default 1, 0 = all)"},
	  {"network", CR_RPC_T_STR, false, "Only addresses of this network (default all)"}},
	 "[{\"time\": n, \"services\": n, \"address\": \"str\", \"port\": n, \"network\": \"str\"}, ...]",
	 cr_rpc_m_getnodeaddresses},
	{"addpeeraddress", "network", "Add the address of a potential peer to the address manager.",
	 {{"address", CR_RPC_T_STR, true, "The IP address of the peer"},
	  {"port", CR_RPC_T_NUM, true, "The port of the peer"},
	  {"tried", CR_RPC_T_BOOL, false, "Attempt to add the peer to the tried table (default false)"}},
	 "{\"success\": bool}", cr_rpc_m_addpeeraddress},
	{"getaddrmaninfo", "network", "Provides information about the node's address manager.", NOARGS,
	 "{\"ipv4\": {\"new\": n, \"tried\": n, \"total\": n}, ..., \"all_networks\": {...}}", cr_rpc_m_getaddrmaninfo},
	{"getpeertable", "connring",
	 "Returns every live peer (handshake done or not) as one compact row: connring's own, for\n"
	 "watching tens of thousands of peers (connring-top).", NOARGS,
	 "{\"time\": n, \"columns\": [\"id\", \"addr\", ...], \"rows\": [[...], ...]}", cr_rpc_m_getpeertable},
	{0},
};
