/* getpeerinfo: one object per live peer with Core's field names and types.
 *
 * Fields about chain sync and transaction relay that Core fills from its
 * validation state carry the values Core itself reports when it knows
 * nothing (connring keeps no chain and relays no addresses yet): synced_*
 * and presynced_headers -1, inflight [], last_transaction/last_block 0,
 * addr_relay_enabled false with 0 processed. timeoffset is 0 (connring
 * does not keep the peer's version timestamp). The id is connring's 64-bit
 * peer id (worker, slot, generation), not a small counter as Core's.
 * Byte counts per message list only Core's message types; every other
 * command's bytes go under "*other*", as Core does for unknown ones.
 * Run on RPC connection threads. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr/addrstr.h"
#include "cmd/rpc.h"
#include "cmd/rpc_net.h"
#include "cmd/rpc_node.h"

/* Core's allNetMessageTypes (protocol.cpp). */
static const char *const known_types[] = {
	"version", "verack", "addr", "addrv2", "sendaddrv2", "inv", "getdata", "merkleblock",
	"getblocks", "getheaders", "tx", "headers", "block", "getaddr", "mempool", "ping", "pong",
	"notfound", "filterload", "filteradd", "filterclear", "sendheaders", "feefilter",
	"sendcmpct", "cmpctblock", "getblocktxn", "blocktxn", "getcfilters", "cfilter",
	"getcfheaders", "cfheaders", "getcfcheckpt", "cfcheckpt", "wtxidrelay", "sendtxrcncl",
};

static bool known_type(const char *cmd)
{
	for (size_t i = 0; i < sizeof(known_types) / sizeof(known_types[0]); i++)
		if (strcmp(cmd, known_types[i]) == 0)
			return true;
	return false;
}

static void add_bytes(json_t *o, const char *key, uint64_t n)
{
	if (!n)
		return;
	json_t *old = json_object_get(o, key);
	uint64_t sum = n + (old ? (uint64_t)json_integer_value(old) : 0);
	json_object_set_new(o, key, json_integer((json_int_t)sum));
}

/* Core's ConnectionTypeAsString names. */
static const char *conn_type_name(const struct cr_peer_info *pi)
{
	return cr_conn_type_str((enum cr_conn_type)pi->conn_type);
}

json_t *cr_rpc_peer_json(const struct cr_peer_info *pi)
{
	struct cr_netaddr na = {0};
	uint16_t port;
	cr_addrstr_parse(&na, &port, pi->addr_str, strlen(pi->addr_str), 0, 0);
	char services[17], subver[CR_UA_MAX + 1], session[65] = "";
	snprintf(services, sizeof(services), "%016" PRIx64, pi->services);
	/* Core's cleanSubVer: a peer's user agent can carry no quote, control
	 * byte or invalid UTF-8 into the reply. */
	cr_rpc_sanitize(subver, pi->user_agent, sizeof(pi->user_agent));
	if (pi->transport == 2)
		for (int i = 0; i < 32; i++)
			snprintf(session + 2 * i, 3, "%02x", pi->session_id[i]);
	json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:o,s:b,s:I,s:I,s:i,s:i,s:I,s:I,s:I,s:i}",
			      "id", (json_int_t)pi->id, "addr", pi->addr_str, "network",
			      cr_rpc_network_name(&na), "services", services, "servicesnames",
			      cr_rpc_services_names(pi->services), "relaytxes", pi->relay, "lastsend",
			      (json_int_t)(pi->last_send_us / 1000000), "lastrecv",
			      (json_int_t)(pi->last_recv_us / 1000000), "last_transaction", 0, "last_block", 0,
			      "bytessent", (json_int_t)pi->bytes_sent, "bytesrecv", (json_int_t)pi->bytes_recv,
			      "conntime", (json_int_t)(pi->connected_us / 1000000), "timeoffset", 0);
	if (!o)
		return NULL;
	if (pi->ping_last_us > 0)
		json_object_set_new(o, "pingtime", json_real((double)pi->ping_last_us / 1e6));
	if (pi->ping_min_us >= 0)
		json_object_set_new(o, "minping", json_real((double)pi->ping_min_us / 1e6));
	json_t *rest = json_pack(
		"{s:i,s:s,s:b,s:b,s:b,s:i,s:i,s:i,s:i,s:[],s:b,s:i,s:i,s:[],s:f}", "version",
		(int)pi->version, "subver", subver, "inbound", pi->inbound, "bip152_hb_to", 0,
		"bip152_hb_from", 0, "startingheight", (int)pi->start_height, "presynced_headers", -1,
		"synced_headers", -1, "synced_blocks", -1, "inflight", "addr_relay_enabled", 0,
		"addr_processed", 0, "addr_rate_limited", 0, "permissions", "minfeefilter", 0.0);
	json_object_update(o, rest);
	json_decref(rest);
	json_t *sent = json_object(), *recv = json_object();
	for (unsigned i = 0; i < pi->nmsg_stats && i < CR_MSG_STATS_MAX; i++) {
		const struct cr_msg_stats *s = &pi->msg_stats[i];
		bool known = known_type(s->command);
		add_bytes(sent, known ? s->command : "*other*", s->bytes_sent);
		add_bytes(recv, known ? s->command : "*other*", s->bytes_recv);
	}
	json_object_set_new(o, "bytessent_per_msg", sent);
	json_object_set_new(o, "bytesrecv_per_msg", recv);
	json_object_set_new(o, "connection_type", json_string(conn_type_name(pi)));
	json_object_set_new(o, "transport_protocol_type",
			    json_string(pi->transport == 2 ? "v2" : pi->transport == 1 ? "v1" : "detecting"));
	json_object_set_new(o, "session_id", json_string(session));
	return o;
}

/* getpeerinfo's array written one peer at a time while the reply goes
 * out: each peer an object built and dumped (json_dumpb) alone, so the
 * reply never exists as one tree or one string, and the bytes are
 * identical to dumping the whole array in one go (compact form: "[", the
 * objects separated by ",", "]"). The snapshot was taken before the first
 * byte; writing to the client touches only this stream. */
struct peer_stream {
	struct cr_rpc_stream base;
	struct cr_peer_info *pi;
	size_t np, next;   /* peers in the snapshot; the next one to write */
	char *buf;         /* the text not yet handed out: buf[off, len) */
	size_t len, off, cap;
	bool opened, any, closed;
};

static void peer_stream_free(struct cr_rpc_stream *base)
{
	struct peer_stream *ps = (struct peer_stream *)base;
	free(ps->pi);
	free(ps->buf);
	free(ps);
}

static int reserve(struct peer_stream *ps, size_t need)
{
	if (need <= ps->cap)
		return 0;
	size_t cap = ps->cap ? ps->cap : 4096;
	while (cap < need)
		cap *= 2;
	char *b = realloc(ps->buf, cap);
	if (!b)
		return -1;
	ps->buf = b;
	ps->cap = cap;
	return 0;
}

/* Puts the next piece of text into buf[0, len): "[", one peer (after a
 * "," but for the first), or "]". 0, 1 at the end, -1 out of memory. */
static int refill(struct peer_stream *ps)
{
	ps->off = ps->len = 0;
	/* room for a typical peer's text, so most are dumped once */
	if (reserve(ps, 8192) != 0)
		return -1;
	if (!ps->opened) {
		ps->opened = true;
		ps->buf[ps->len++] = '[';
		return 0;
	}
	/* Core lists peers once their version is processed. */
	while (ps->next < ps->np && !ps->pi[ps->next].handshaked)
		ps->next++;
	if (ps->next == ps->np) {
		if (ps->closed)
			return 1;
		ps->closed = true;
		ps->buf[ps->len++] = ']';
		return 0;
	}
	json_t *o = cr_rpc_peer_json(&ps->pi[ps->next++]);
	if (!o)
		return 0; /* as the array form: a peer that cannot be built is left out */
	if (ps->any)
		ps->buf[ps->len++] = ',';
	ps->any = true;
	/* One dump into the room there is; only a peer larger than any
	 * before is dumped a second time (json_dumpb says the size it needs). */
	size_t need = json_dumpb(o, ps->buf + ps->len, ps->cap - ps->len, CR_RPC_DUMP_FLAGS);
	if (need > ps->cap - ps->len) {
		if (reserve(ps, ps->len + need) != 0) {
			json_decref(o);
			return -1;
		}
		need = json_dumpb(o, ps->buf + ps->len, ps->cap - ps->len, CR_RPC_DUMP_FLAGS);
	}
	json_decref(o);
	if (need == 0)
		return -1; /* jansson could not dump it */
	ps->len += need;
	return 0;
}

static long peer_stream_next(struct cr_rpc_stream *base, char *buf, size_t cap)
{
	struct peer_stream *ps = (struct peer_stream *)base;
	size_t n = 0;
	while (n < cap) {
		if (ps->off == ps->len) {
			int r = refill(ps);
			if (r < 0)
				return -1;
			if (r > 0)
				break;
			continue;
		}
		size_t k = ps->len - ps->off < cap - n ? ps->len - ps->off : cap - n;
		memcpy(buf + n, ps->buf + ps->off, k);
		ps->off += k;
		n += k;
	}
	return (long)n;
}

json_t *cr_rpc_m_getpeerinfo(struct cr_rpc_call *c)
{
	struct cr_rpc_node *n = c->node;
	struct cr_peer_info *pi;
	size_t np;
	if (cr_rpc_collect_peers(n->e, &pi, &np) != 0)
		return cr_rpc_fail(c, CR_RPC_OUT_OF_MEMORY, "Out of memory");
	if (c->can_stream) {
		struct peer_stream *ps = calloc(1, sizeof(*ps));
		if (!ps) {
			free(pi);
			return cr_rpc_fail(c, CR_RPC_OUT_OF_MEMORY, "Out of memory");
		}
		ps->base.next = peer_stream_next;
		ps->base.free = peer_stream_free;
		ps->pi = pi;
		ps->np = np;
		c->stream = &ps->base;
		return json_null();
	}
	/* In a batch the reply is one tree anyway. */
	json_t *a = json_array();
	for (size_t i = 0; i < np; i++) {
		if (!pi[i].handshaked)
			continue;
		json_t *o = cr_rpc_peer_json(&pi[i]);
		if (o)
			json_array_append_new(a, o);
	}
	free(pi);
	return a;
}

/* getpeertable (connring's own): every live peer as one compact row, for
 * connring-top and scripts that watch tens of thousands of peers, where
 * getpeerinfo's objects would be ten times the bytes. */
static const char *const table_columns[] = {
	"id", "addr", "network", "connection_type", "transport_protocol_type", "conntime",
	"bytessent", "bytesrecv", "msgssent", "msgsrecv", "pingtime", "subver",
};

json_t *cr_rpc_m_getpeertable(struct cr_rpc_call *c)
{
	struct cr_rpc_node *n = c->node;
	struct cr_peer_info *pi;
	size_t np;
	if (cr_rpc_collect_peers(n->e, &pi, &np) != 0)
		return cr_rpc_fail(c, CR_RPC_OUT_OF_MEMORY, "Out of memory");
	json_t *cols = json_array(), *rows = json_array();
	for (size_t i = 0; i < sizeof(table_columns) / sizeof(table_columns[0]); i++)
		json_array_append_new(cols, json_string(table_columns[i]));
	for (size_t i = 0; i < np; i++) {
		struct cr_netaddr na = {0};
		uint16_t port;
		cr_addrstr_parse(&na, &port, pi[i].addr_str, strlen(pi[i].addr_str), 0, 0);
		char subver[CR_UA_MAX + 1];
		cr_rpc_sanitize(subver, pi[i].user_agent, sizeof(pi[i].user_agent));
		json_t *ping = pi[i].ping_last_us > 0 ? json_real((double)pi[i].ping_last_us / 1e6) : json_null();
		json_array_append_new(
			rows, json_pack("[I,s,s,s,s,I,I,I,I,I,o,s]", (json_int_t)pi[i].id, pi[i].addr_str,
					cr_rpc_network_name(&na), conn_type_name(&pi[i]),
					pi[i].transport == 2 ? "v2" : pi[i].transport == 1 ? "v1" : "detecting",
					(json_int_t)(pi[i].connected_us / 1000000), (json_int_t)pi[i].bytes_sent,
					(json_int_t)pi[i].bytes_recv, (json_int_t)pi[i].msgs_sent,
					(json_int_t)pi[i].msgs_recv, ping, subver));
	}
	free(pi);
	return json_pack("{s:I,s:o,s:o}", "time", (json_int_t)time(NULL), "columns", cols, "rows", rows);
}
