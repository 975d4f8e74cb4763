/* connringd's option table, setter and config-file parser; see conf.h.
 * No I/O and no globals beyond the constant table; any thread. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr/netperm.h"
#include "cmd/conf.h"
#include "proto/chain.h"

enum kind { K_BOOL, K_UINT, K_STR, K_LIST, K_CHAIN, K_NET, K_RPC, K_SCHED };

struct opt {
	const char *name;
	enum kind kind;
	unsigned long min, max; /* K_UINT range; K_STR/K_LIST: max length */
	const char *help;
};

/* Index order matters for cr_dopts.origin, and the chain options come
 * first in this order (OPT_CHAIN... below). */
static const struct opt table[] = {
	{"chain", K_CHAIN, 0, 0, "=<chain>  main, test, testnet4, signet or regtest (default main)"},
	{"regtest", K_NET, 0, 0, "  same as -chain=regtest"},
	{"testnet", K_NET, 0, 0, "  same as -chain=test"},
	{"testnet4", K_NET, 0, 0, "  same as -chain=testnet4"},
	{"signet", K_NET, 0, 0, "  same as -chain=signet"},
	{"bind", K_LIST, 0, 63, "=<addr>[:<port>]  listen on this numeric address (repeatable; default all)"},
	{"port", K_UINT, 1, 65535, "=<port>  listen port (default: the chain's)"},
	{"listen", K_BOOL, 0, 1, "=<0|1>  accept inbound peers (default 1)"},
	{"connect", K_LIST, 0, 127, "=<host>[:<port>]  keep a connection to this peer (repeatable)"},
	{"addnode", K_LIST, 0, 127, "=<host>[:<port>]  add a peer to keep connected (repeatable)"},
	{"maxconnections", K_UINT, 1, 1000000, "=<n>  peers in all (default 125)"},
	{"workers", K_UINT, 0, CR_WORKERS_MAX, "=<n>  io_uring worker threads, at most 64 (default: one per core)"},
	{"v2transport", K_BOOL, 0, 1, "=<0|1>  BIP324 encrypted transport (default 1)"},
	{"proxy", K_STR, 0, 127, "=<ip>:<port>  connect outbound through this SOCKS5 proxy"},
	{"datadir", K_STR, 0, CR_CONF_PATH_MAX - 1, "=<dir>  data directory (default ~/.connring, made at first start; a chain subfolder for all but main)"},
	{"conf", K_STR, 0, CR_CONF_PATH_MAX - 1, "=<file>  config file (default <datadir>/connring.conf)"},
	{"debug", K_STR, 0, 127, "[=<cat>]  debug logging: net, proxy, addrman, rpc or all, comma-separated (bare -debug = all)"},
	{"logfile", K_STR, 0, CR_CONF_PATH_MAX - 1, "=<file>  also log here (relative to -datadir)"},
	{"pinginterval", K_UINT, 1, 86400, "=<s>  seconds between pings (default 120; for tests)"},
	{"peertimeout", K_UINT, 1, 86400, "=<s>  a peer that has not completed the version handshake this long after connecting is disconnected (default 60)"},
	{"maxreceivetotal", K_UINT, 8, 1048576, "=<MiB>  receive memory all peers' large messages may hold (default: memory/16, 64..8192)"},
	{"maxsendtotal", K_UINT, 8, 1048576, "=<MiB>  send memory above which slow peers are skipped (default: memory/16, 64..8192)"},
	{"statsinterval", K_UINT, 1, 86400, "=<s>  seconds between stats lines (default 60)"},
	{"statsfile", K_STR, 0, CR_CONF_PATH_MAX - 1, "=<file>  write JSON stats here on SIGUSR1 and at exit"},
	{"whitebind", K_LIST, 0, 127, "=<[perms@]addr:port>  listen here; its peers get perms (Core's names: noban, addr, relay, ...; repeatable)"},
	{"whitelist", K_LIST, 0, 127, "=<[perms@]subnet>  peers from here get perms; in/out say which direction (default in; repeatable)"},
	{"whitelistrelay", K_BOOL, 0, 1, "=<0|1>  implicit whitelist permissions include relay (default 1)"},
	{"whitelistforcerelay", K_BOOL, 0, 1, "=<0|1>  implicit whitelist permissions include forcerelay (default 0)"},
	{"bantime", K_UINT, 1, 4294967295ul, "=<s>  default ban duration in seconds (default 86400)"},
	{"banscore", K_UINT, 0, 1000000, "=<n>  0: discourage any misbehaving peer (Core); n: btcd's decaying ban score, ban past n (default 0)"},
	{"floodguard", K_BOOL, 0, 1, "=<0|1>  rate-limit new inbound connections per netgroup (default 1)"},
	{"floodrate", K_UINT, 1, 6000000, "=<n>  new inbound connections per minute per netgroup (default 60)"},
	{"floodburst", K_UINT, 1, 1000000, "=<n>  ... at once before the rate applies (default 10)"},
	{"floodgroupcap", K_UINT, 0, 1000000, "=<n>  inbound peers per netgroup while a flood is detected (default 8; 0 = no cap)"},
	{"floodhold", K_UINT, 1, 86400, "=<s>  a flood counts as detected this long after its last sign (default 60)"},
	{"externalip", K_STR, 0, 63, "=<ip>[:<port>]  our own public address, advertised to peers every 24 h on average (numeric; port default: -port; one address, the last given)"},
	{"routable127", K_BOOL, 0, 1, "=<0|1>  test only: 127.0.0.0/8 counts as routable IPv4 (distinct /16 netgroups)"},
	{"dnsseed", K_BOOL, 0, 1, "=<0|1>  ask the chain's DNS seeds for addresses when few are known (default 1; 0 with -connect)"},
	{"forcednsseed", K_BOOL, 0, 1, "=<0|1>  ask the DNS seeds even when addresses are known (default 0)"},
	{"fixedseeds", K_BOOL, 0, 1, "=<0|1>  fall back to the chain's fixed seed addresses (default 1)"},
	{"seednode", K_LIST, 0, 127, "=<host>[:<port>]  connect, ask for addresses, disconnect (repeatable)"},
	{"onlynet", K_SCHED, 0, 0, "=<net>  automatic connections only to ipv4, ipv6, onion, i2p or cjdns (repeatable)"},
	{"asmap", K_STR, 0, CR_CONF_PATH_MAX - 1, "=<file>  group peers by AS number with this asmap (Core's format)"},
	{"dnsseedname", K_LIST, 0, 253, "=<name>  test only: a DNS seed name replacing the chain's (repeatable)"},
	{"dnsserver", K_STR, 0, 63, "=<ip>:<port>  test only: the one DNS server asked (default: the system's)"},
	{"feelerinterval", K_UINT, 1, 86400000, "=<ms>  test only: average time between feelers (default 120000)"},
	{"extrapeerinterval", K_UINT, 1, 86400000, "=<ms>  test only: average time between extra block-relay-only and network peers (default 300000)"},
	{"staletipcheck", K_UINT, 1, 86400000, "=<ms>  test only: stale-tip check interval (default 600000)"},
	{"staletip", K_UINT, 1, 86400000, "=<ms>  test only: no new block this long makes the tip stale (default 1800000); connringd takes a block hash no peer announced before as both the tip update and that peer's block announcement"},
	{"addrsaveinterval", K_UINT, 1, 86400000, "=<ms>  test only: how often peers.dat is saved (default 900000)"},
	{"localaddrinterval", K_UINT, 1, 86400000, "=<ms>  test only: average time between advertisements of -externalip to one peer (default 86400000)"},
	{"addrsendinterval", K_UINT, 1, 86400000, "=<ms>  test only: average time between addr messages to one peer (default 30000)"},
	{"server", K_BOOL, 0, 1, "=<0|1>  accept JSON-RPC commands (default 1)"},
	{"rpcbind", K_RPC, 0, 79, "=<addr>[:<port>]  JSON-RPC listen address, only with -rpcallowip (repeatable; default 127.0.0.1 and ::1)"},
	{"rpcport", K_UINT, 1, 65535, "=<port>  JSON-RPC port (default: the chain's bitcoind port 8332, 18332, 48332, 38332, 18443)"},
	{"rpcallowip", K_RPC, 0, 63, "=<ip>[/<mask>]  allow JSON-RPC from this address or subnet (repeatable; loopback always)"},
	{"rpcuser", K_RPC, 0, 255, "=<user>  JSON-RPC user name"},
	{"rpcpassword", K_RPC, 0, 255, "=<pw>  JSON-RPC password (default: a cookie file in the data directory)"},
	{"rpcauth", K_RPC, 0, 591, "=<user>:<salt>$<hash>  JSON-RPC user with a salted HMAC-SHA256 password, as share/rpcauth (repeatable)"},
	{"rpccookiefile", K_RPC, 0, CR_CONF_PATH_MAX - 1, "=<file>  cookie file (default .cookie in the chain's data directory)"},
	{"rpcservertimeout", K_UINT, 1, 3600, "=<s>  close an idle or stalled JSON-RPC connection after this (default 30)"},
	{"metricsbind", K_RPC, 0, 79, "=<addr>:<port>  serve Prometheus metrics at /metrics here (default off)"},
	{"importpeers", K_RPC, 0, CR_CONF_PATH_MAX - 1, "=<file>  load a bitcoind peers.dat into the address manager at start"},
	{"importbans", K_RPC, 0, CR_CONF_PATH_MAX - 1, "=<file>  load a bitcoind banlist.json into the ban list at start"},
	{"maxuploadtarget", K_RPC, 0, 31, "=<n>[k|K|m|M|g|G|t|T]  keep bytes sent under n per 24 h (default 0 = no limit; unit M)"},
	{"help", K_BOOL, 0, 1, "  this text"},
};
#define NOPTS (sizeof(table) / sizeof(table[0]))
_Static_assert(NOPTS <= CR_DOPTS_MAX, "raise CR_DOPTS_MAX in conf.h");

static int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

void cr_dopts_init(struct cr_dopts *o)
{
	memset(o, 0, sizeof(*o));
	o->eng.chain = CR_CHAIN_MAIN;
	o->eng.listen = true;
	o->eng.v2transport = true;
	o->eng.max_connections = CR_DEFAULT_MAX_CONNECTIONS;
	o->eng.whitelist_relay = true;
	o->eng.ban_time_s = 24 * 60 * 60;
	o->eng.flood_defence = true;
	o->eng.flood_rate_per_min = 60;
	o->eng.flood_burst = 10;
	o->eng.flood_group_cap = 8;
	o->eng.flood_hold_s = 60;
	o->stats_interval_s = 60;
	o->rpc.server = true;
	cr_dopts_sched_init(&o->sched);
}

static const struct opt *find(const char *name, size_t *index)
{
	for (size_t i = 0; i < NOPTS; i++)
		if (strcmp(table[i].name, name) == 0) {
			*index = i;
			return &table[i];
		}
	return NULL;
}

static int parse_bool(const char *name, const char *v, bool *out, char *err, size_t len)
{
	if (!v || strcmp(v, "1") == 0)
		*out = true;
	else if (strcmp(v, "0") == 0)
		*out = false;
	else
		return fail(err, len, "-%s=%s: expected 0 or 1", name, v);
	return 0;
}

static int parse_uint(const struct opt *t, const char *v, unsigned long *out, char *err, size_t len)
{
	char *end;
	if (!v || !*v)
		return fail(err, len, "-%s needs a number", t->name);
	errno = 0;
	unsigned long n = strtoul(v, &end, 10);
	if (*end || v[0] == '-' || v[0] == '+' || errno || n < t->min || n > t->max)
		return fail(err, len, "-%s=%s: expected a whole number in %lu..%lu", t->name, v, t->min,
			    t->max);
	*out = n;
	return 0;
}

/* "ip", "ip:port", "[v6]", "[v6]:port" with a numeric address. */
static bool numeric_hostport(const char *s, bool port_required)
{
	char host[64];
	const char *port = NULL;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || (size_t)(close - s - 1) >= sizeof(host))
			return false;
		memcpy(host, s + 1, (size_t)(close - s - 1));
		host[close - s - 1] = '\0';
		if (close[1] == ':')
			port = close + 2;
		else if (close[1])
			return false;
	} else {
		const char *colon = strchr(s, ':');
		if (colon && strchr(colon + 1, ':'))
			colon = NULL; /* a bare IPv6 address */
		size_t hl = colon ? (size_t)(colon - s) : strlen(s);
		if (hl >= sizeof(host))
			return false;
		memcpy(host, s, hl);
		host[hl] = '\0';
		if (colon)
			port = colon + 1;
	}
	uint8_t buf[16];
	if (inet_pton(AF_INET, host, buf) != 1 && inet_pton(AF_INET6, host, buf) != 1)
		return false;
	if (!port)
		return !port_required;
	char *end;
	long p = strtol(port, &end, 10);
	return *port && !*end && p >= 1 && p <= 65535;
}

/* A peer: host name or address, optional port; no spaces or controls. */
static bool peer_ok(const char *s)
{
	if (!*s)
		return false;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '#' || *p == '/')
			return false;
	return true;
}

/* -whitebind / -whitelist: checked with Core's parser and messages. */
static int set_perm_list(struct cr_dopts *o, const char *name, const char *v, char *err, size_t len)
{
	bool wb = strcmp(name, "whitebind") == 0;
	unsigned *n = wb ? &o->eng.nwhitebind : &o->eng.nwhitelist;
	unsigned cap = wb ? CR_DOPTS_WHITEBIND_MAX : CR_DOPTS_WHITELIST_MAX;
	char *slot0 = wb ? o->eng.whitebind[0] : o->eng.whitelist[0];
	if (!v || strcmp(v, "0") == 0) {
		*n = 0;
		return 0;
	}
	if (strlen(v) >= 128)
		return fail(err, len, "-%s=%.64s...: longer than 127 characters", name, v);
	char why[160];
	int r;
	if (wb) {
		struct cr_whitebind b;
		r = cr_whitebind_parse(&b, v, strlen(v), why, sizeof why);
	} else {
		struct cr_whitelist l;
		r = cr_whitelist_parse(&l, v, strlen(v), why, sizeof why);
	}
	if (r < 0)
		return fail(err, len, "%s", why);
	if (*n >= cap)
		return fail(err, len, "-%s: more than %u entries", name, cap);
	memcpy(slot0 + (size_t)(*n)++ * 128, v, strlen(v) + 1);
	return 0;
}

static int set_list(struct cr_dopts *o, const char *name, const char *v, char *err, size_t len)
{
	if (strcmp(name, "whitebind") == 0 || strcmp(name, "whitelist") == 0)
		return set_perm_list(o, name, v, err, len);
	bool bind = strcmp(name, "bind") == 0, addnode = strcmp(name, "addnode") == 0;
	unsigned *n = bind ? &o->eng.nbind : addnode ? &o->eng.naddnode : &o->eng.nconnect;
	unsigned cap = bind ? CR_DOPTS_BIND_MAX : CR_DOPTS_MANUAL_MAX;
	size_t width = bind ? sizeof(o->eng.bind[0]) : sizeof(o->eng.connect[0]);
	char *slot0 = bind ? o->eng.bind[0] : addnode ? o->eng.addnode[0] : o->eng.connect[0];
	if (strcmp(name, "seednode") == 0 || strcmp(name, "dnsseedname") == 0) {
		bool seednode = name[1] == 'e';
		n = seednode ? &o->sched.nseednode : &o->sched.nseedname;
		cap = CR_DOPTS_SEED_MAX;
		width = seednode ? sizeof(o->sched.seednode[0]) : sizeof(o->sched.seedname[0]);
		slot0 = seednode ? o->sched.seednode[0] : o->sched.seedname[0];
	}
	if (!v || strcmp(v, "0") == 0) { /* -noconnect, -connect=0: none */
		*n = 0;
		return 0;
	}
	if (strlen(v) >= width)
		return fail(err, len, "-%s=%s: longer than %zu characters", name, v, width - 1);
	if (bind ? !numeric_hostport(v, false) : !peer_ok(v))
		return fail(err, len, "-%s=%s: expected %s", name, v,
			    bind ? "a numeric address with an optional port" : "host[:port]");
	if (*n >= cap)
		return fail(err, len, "-%s: more than %u entries", name, cap);
	memcpy(slot0 + (size_t)(*n)++ * width, v, strlen(v) + 1);
	return 0;
}

static int set_str(struct cr_dopts *o, const struct opt *t, const char *v, char *err, size_t len)
{
	const char *name = t->name;
	if (strcmp(name, "debug") == 0) {
		if (!v || strcmp(v, "1") == 0)
			v = "all";
		else if (strcmp(v, "0") == 0)
			v = "";
		for (const char *p = v; *p; p++)
			if (!((*p >= 'a' && *p <= 'z') || *p == ','))
				return fail(err, len, "-debug=%s: expected categories such as net or all", v);
		if (*v && !cr_dopts_debug_mask(v))
			return fail(err, len, "-debug=%s: expected categories such as net, proxy or all", v);
	}
	bool clearable = strcmp(name, "asmap") == 0 || strcmp(name, "dnsserver") == 0;
	if (clearable && v && strcmp(v, "0") == 0)
		v = ""; /* -noasmap, -nodnsserver: none */
	else if (!v || !*v) {
		if (strcmp(name, "debug") != 0 && strcmp(name, "proxy") != 0)
			return fail(err, len, "-%s needs a value", name);
		v = "";
	}
	if (strlen(v) > t->max)
		return fail(err, len, "-%s: longer than %lu characters", name, t->max);
	if (strcmp(name, "proxy") == 0 && *v && !numeric_hostport(v, true))
		return fail(err, len, "-proxy=%s: expected a numeric ip:port", v);
	char *dst = strcmp(name, "proxy") == 0     ? o->eng.proxy
		    : strcmp(name, "datadir") == 0 ? o->datadir
		    : strcmp(name, "conf") == 0    ? o->conf
		    : strcmp(name, "logfile") == 0 ? o->logfile
		    : strcmp(name, "statsfile") == 0 ? o->statsfile
		    : strcmp(name, "asmap") == 0 ? o->sched.asmap
		    : strcmp(name, "dnsserver") == 0 ? o->sched.dnsserver
		    : strcmp(name, "externalip") == 0 ? o->eng.external_ip
						     : o->debug;
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

/* -onlynet=<net>, repeatable: the networks add up; -noonlynet: all. */
static int set_onlynet(struct cr_dopts_sched *s, const char *v, char *err, size_t len)
{
	static const struct { const char *name; unsigned bit; } nets[] = {
		{ "ipv4", CR_ONLYNET_IPV4 }, { "ipv6", CR_ONLYNET_IPV6 }, { "onion", CR_ONLYNET_ONION },
		{ "i2p", CR_ONLYNET_I2P },   { "cjdns", CR_ONLYNET_CJDNS },
	};
	if (!v || strcmp(v, "0") == 0) {
		s->onlynet = 0;
		return 0;
	}
	for (size_t i = 0; i < sizeof nets / sizeof nets[0]; i++)
		if (strcmp(v, nets[i].name) == 0) {
			s->onlynet |= nets[i].bit;
			return 0;
		}
	return fail(err, len, "-onlynet=%s: expected ipv4, ipv6, onion, i2p or cjdns", v);
}

/* Core's -maxuploadtarget: a number with an optional unit, k/m/g/t in
 * powers of 1000 and K/M/G/T in powers of 1024; no unit means M. */
static int parse_upload_target(const char *v, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);
	if (!*v || v[0] == '-' || errno || end == v || (end[0] && end[1]))
		return -1;
	static const char units[] = "kmgtKMGT";
	const char *u = *end ? strchr(units, *end) : "M";
	if (!u)
		return -1;
	int idx = (int)(u - units);
	uint64_t base = idx < 4 ? 1000 : 1024, mult = 1;
	for (int i = 0; i <= idx % 4; i++)
		mult *= base;
	if (n > UINT64_MAX / mult)
		return -1;
	*out = n * mult;
	return 0;
}

/* The control plane's strings and lists. */
static int set_rpc(struct cr_dopts *o, const struct opt *t, const char *v, char *err, size_t len)
{
	const char *name = t->name;
	struct cr_dopts_rpc *r = &o->rpc;
	bool clear = !v || strcmp(v, "0") == 0; /* -norpcbind, -metricsbind=0: none */
	if (!clear && strlen(v) > t->max)
		return fail(err, len, "-%s: longer than %lu characters", name, t->max);
	if (strcmp(name, "maxuploadtarget") == 0) {
		if (clear)
			r->maxuploadtarget = 0;
		else if (parse_upload_target(v, &r->maxuploadtarget) < 0)
			return fail(err, len, "-maxuploadtarget=%s: expected a number with an optional unit k, K, m, M, g, G, t or T", v);
		return 0;
	}
	unsigned *n = NULL, cap = 0;
	size_t width = 0;
	char *slot0 = NULL;
	if (strcmp(name, "rpcbind") == 0) {
		n = &r->nbind, cap = CR_DOPTS_RPCBIND_MAX, width = sizeof(r->bind[0]), slot0 = r->bind[0];
		if (!clear && !numeric_hostport(v, false))
			return fail(err, len, "-rpcbind=%s: expected a numeric address with an optional port", v);
	} else if (strcmp(name, "rpcallowip") == 0) {
		n = &r->nallow, cap = CR_DOPTS_RPCALLOW_MAX, width = sizeof(r->allow[0]), slot0 = r->allow[0];
	} else if (strcmp(name, "rpcauth") == 0) {
		n = &r->nauth, cap = CR_DOPTS_RPCAUTH_MAX, width = sizeof(r->auth[0]), slot0 = r->auth[0];
	}
	if (n) {
		if (clear) {
			*n = 0;
			return 0;
		}
		if (*n >= cap)
			return fail(err, len, "-%s: more than %u entries", name, cap);
		memcpy(slot0 + (size_t)(*n)++ * width, v, strlen(v) + 1);
		return 0;
	}
	if (strcmp(name, "metricsbind") == 0 && !clear && !numeric_hostport(v, true))
		return fail(err, len, "-metricsbind=%s: expected a numeric address with a port", v);
	char *dst = strcmp(name, "rpcuser") == 0       ? r->user
		    : strcmp(name, "rpcpassword") == 0 ? r->password
		    : strcmp(name, "rpccookiefile") == 0 ? r->cookiefile
		    : strcmp(name, "metricsbind") == 0 ? r->metricsbind
		    : strcmp(name, "importpeers") == 0 ? r->importpeers
						       : r->importbans;
	if (clear)
		dst[0] = '\0';
	else
		memcpy(dst, v, strlen(v) + 1);
	return 0;
}

/* Index of the chain options in table[] (and net_flag[] for the others). */
enum { OPT_CHAIN = 0, OPT_REGTEST, OPT_TESTNET, OPT_TESTNET4, OPT_SIGNET };
static const enum cr_chain_id net_chain[4] = {CR_CHAIN_REGTEST, CR_CHAIN_TESTNET3,
					      CR_CHAIN_TESTNET4, CR_CHAIN_SIGNET};

/* eng.chain from the chain options as given. Returns 0, or -EINVAL with
 * bitcoind's reason when more than one selects a chain (then eng.chain is
 * left as it was). */
static int resolve_chain(struct cr_dopts *o, char *err, size_t len)
{
	unsigned n = 0;
	enum cr_chain_id id = CR_CHAIN_MAIN;
	char names[96] = "";
	if (o->origin[OPT_CHAIN] != CR_DOPT_UNSET) {
		id = o->chain_arg;
		n++;
		snprintf(names, sizeof(names), "-chain=%s", cr_chain_get(id)->name);
	}
	for (unsigned i = 0; i < 4; i++)
		if (o->origin[OPT_REGTEST + i] != CR_DOPT_UNSET && o->net_flag[i]) {
			id = net_chain[i];
			size_t u = strlen(names);
			snprintf(names + u, sizeof(names) - u, "%s-%s", n ? " and " : "",
				 table[OPT_REGTEST + i].name);
			n++;
		}
	if (n > 1)
		return fail(err, len, "%s: invalid combination of -regtest, -signet, -testnet, "
			    "-testnet4 and -chain (can use at most one, whether on the command line "
			    "or in the config file)", names);
	o->eng.chain = id;
	return 0;
}

/* One of the chain options. Inside a [section] the chain is settled: a
 * line that agrees with it is accepted, one that would change it refused. */
static int set_chain(struct cr_dopts *o, const struct opt *t, const char *v, char *err, size_t len)
{
	size_t idx = (size_t)(t - table);
	enum cr_chain_id want;
	bool on = true;
	if (idx == OPT_CHAIN) {
		const struct cr_chain *c = cr_chain_by_name(v ? v : "");
		if (!c)
			return fail(err, len, "-%s=%s: expected main, test, testnet4, signet or regtest",
				    t->name, v ? v : "");
		want = c->id;
	} else {
		int r = parse_bool(t->name, v, &on, err, len);
		if (r < 0)
			return r;
		want = net_chain[idx - OPT_REGTEST];
	}
	if (o->chain_fixed) {
		if (on && want != o->eng.chain)
			return fail(err, len, "-%s: the chain cannot change after a [section]", t->name);
		return 0;
	}
	if (idx == OPT_CHAIN)
		o->chain_arg = want;
	else
		o->net_flag[idx - OPT_REGTEST] = on;
	return 0;
}

static int apply(struct cr_dopts *o, const struct opt *t, const char *v, char *err, size_t len)
{
	const char *name = t->name;
	unsigned long n = 0;
	bool b = false;
	int r;
	switch (t->kind) {
	case K_BOOL:
		if ((r = parse_bool(name, v, &b, err, len)) < 0)
			return r;
		if (strcmp(name, "listen") == 0) o->eng.listen = b;
		else if (strcmp(name, "v2transport") == 0) o->eng.v2transport = b;
		else if (strcmp(name, "whitelistrelay") == 0) o->eng.whitelist_relay = b;
		else if (strcmp(name, "whitelistforcerelay") == 0) o->eng.whitelist_forcerelay = b;
		else if (strcmp(name, "floodguard") == 0) o->eng.flood_defence = b;
		else if (strcmp(name, "routable127") == 0) o->eng.routable127 = b;
		else if (strcmp(name, "server") == 0) o->rpc.server = b;
		else if (strcmp(name, "dnsseed") == 0) o->sched.dnsseed = b;
		else if (strcmp(name, "forcednsseed") == 0) o->sched.forcednsseed = b;
		else if (strcmp(name, "fixedseeds") == 0) o->sched.fixedseeds = b;
		else o->help = b;
		return 0;
	case K_NET:
	case K_CHAIN:
		return set_chain(o, t, v, err, len);
	case K_UINT:
		if ((r = parse_uint(t, v, &n, err, len)) < 0)
			return r;
		if (strcmp(name, "port") == 0) o->eng.port = (uint16_t)n;
		else if (strcmp(name, "maxconnections") == 0) o->eng.max_connections = (unsigned)n;
		else if (strcmp(name, "workers") == 0) o->eng.workers = (unsigned)n;
		else if (strcmp(name, "pinginterval") == 0) o->eng.ping_interval_ms = (unsigned)n * 1000;
		else if (strcmp(name, "peertimeout") == 0) o->eng.handshake_timeout_ms = (unsigned)n * 1000;
		else if (strcmp(name, "bantime") == 0) o->eng.ban_time_s = (unsigned)n;
		else if (strcmp(name, "banscore") == 0) o->eng.ban_score = (unsigned)n;
		else if (strcmp(name, "floodrate") == 0) o->eng.flood_rate_per_min = (unsigned)n;
		else if (strcmp(name, "floodburst") == 0) o->eng.flood_burst = (unsigned)n;
		else if (strcmp(name, "floodgroupcap") == 0) o->eng.flood_group_cap = (unsigned)n;
		else if (strcmp(name, "floodhold") == 0) o->eng.flood_hold_s = (unsigned)n;
		else if (strcmp(name, "maxreceivetotal") == 0) o->eng.recv_budget_mib = (unsigned)n;
		else if (strcmp(name, "maxsendtotal") == 0) o->eng.send_budget_mib = (unsigned)n;
		else if (strcmp(name, "rpcport") == 0) o->rpc.port = (unsigned)n;
		else if (strcmp(name, "rpcservertimeout") == 0) o->rpc.timeout_s = (unsigned)n;
		else if (strcmp(name, "feelerinterval") == 0) o->sched.feeler_ms = (unsigned)n;
		else if (strcmp(name, "extrapeerinterval") == 0) o->sched.extra_peer_ms = (unsigned)n;
		else if (strcmp(name, "staletipcheck") == 0) o->sched.stale_check_ms = (unsigned)n;
		else if (strcmp(name, "staletip") == 0) o->sched.stale_tip_ms = (unsigned)n;
		else if (strcmp(name, "addrsaveinterval") == 0) o->sched.save_ms = (unsigned)n;
		else if (strcmp(name, "localaddrinterval") == 0) o->sched.local_addr_ms = (unsigned)n;
		else if (strcmp(name, "addrsendinterval") == 0) o->sched.addr_send_ms = (unsigned)n;
		else o->stats_interval_s = (unsigned)n;
		return 0;
	case K_LIST:
		return set_list(o, name, v, err, len);
	case K_RPC:
		return set_rpc(o, t, v, err, len);
	case K_SCHED: /* -onlynet */
		return set_onlynet(&o->sched, v, err, len);
	default:
		return set_str(o, t, v, err, len);
	}
}

int cr_dopts_set(struct cr_dopts *o, const char *name, const char *value, bool from_cmdline,
		 char *err, size_t err_len)
{
	size_t i;
	const struct opt *t = find(name, &i);
	bool negated = false;
	if (!t && strncmp(name, "no", 2) == 0 && (t = find(name + 2, &i)) != NULL) {
		/* bitcoind: -noX means -X=0, and -noX=0 means -X=1. */
		bool b;
		if (parse_bool(name, value, &b, err, err_len) < 0)
			return -EINVAL;
		value = b ? "0" : "1";
		negated = true;
	}
	if (!t)
		return fail(err, err_len, "unknown option -%s", name);
	if (negated && t->kind != K_BOOL && t->kind != K_NET && t->kind != K_LIST && t->kind != K_RPC &&
	    t->kind != K_SCHED && strcmp(t->name, "debug") != 0 && strcmp(t->name, "asmap") != 0 &&
	    strcmp(t->name, "dnsserver") != 0)
		return fail(err, err_len, "-no%s: -%s is not a yes/no option", t->name, t->name);
	if (!from_cmdline && o->origin[i] == CR_DOPT_CMDLINE)
		return 0; /* the command line wins */
	int r = apply(o, t, value, err, err_len);
	if (r == 0)
		o->origin[i] = from_cmdline ? CR_DOPT_CMDLINE : CR_DOPT_FILE;
	if (r == 0 && (t->kind == K_CHAIN || t->kind == K_NET) && !o->chain_fixed) {
		/* eng.chain follows as far as it is settled; a conflict is
		 * reported at the first [section] or by cr_dopts_finish. */
		char ignored[8];
		resolve_chain(o, ignored, sizeof(ignored));
	}
	return r;
}

int cr_dopts_cmdline(struct cr_dopts *o, int argc, char **argv, char *err, size_t err_len)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "-?") == 0) {
			o->help = true;
			continue;
		}
		if (a[0] != '-' || !a[1])
			return fail(err, err_len, "unexpected argument '%s' (options look like -name=value)", a);
		a += a[1] == '-' ? 2 : 1; /* bitcoind accepts --name too */
		char name[64];
		const char *eq = strchr(a, '=');
		size_t nl = eq ? (size_t)(eq - a) : strlen(a);
		if (nl == 0 || nl >= sizeof(name))
			return fail(err, err_len, "bad option '%s'", argv[i]);
		memcpy(name, a, nl);
		name[nl] = '\0';
		if (cr_dopts_set(o, name, eq ? eq + 1 : NULL, true, err, err_len) < 0)
			return -EINVAL;
	}
	return 0;
}

int cr_dopts_finish(struct cr_dopts *o, char *err, size_t err_len)
{
	if (!o->chain_fixed && resolve_chain(o, err, err_len) < 0)
		return -EINVAL;
	const struct cr_chain *c = cr_chain_get(o->eng.chain);
	/* Manual peers without a port get the chain's. */
	for (unsigned list = 0; list < 2; list++) {
		unsigned n = list ? o->eng.naddnode : o->eng.nconnect;
		for (unsigned i = 0; i < n; i++) {
			char *s = list ? o->eng.addnode[i] : o->eng.connect[i];
			const char *close = strchr(s, ']');
			const char *colon = strrchr(close ? close : s, ':');
			bool bare_v6 = !close && colon && strchr(s, ':') != colon;
			if (colon && !bare_v6)
				continue;
			char tmp[128];
			int w = bare_v6 ? snprintf(tmp, sizeof(tmp), "[%s]:%u", s, c->default_port)
					: snprintf(tmp, sizeof(tmp), "%s:%u", s, c->default_port);
			if (w < 0 || (size_t)w >= sizeof(tmp))
				return fail(err, err_len, "-%s=%s: too long with its port",
					    list ? "addnode" : "connect", s);
			memcpy(s, tmp, (size_t)w + 1);
		}
	}
	if (!o->eng.listen && o->eng.nwhitebind) /* Core refuses it too */
		return fail(err, err_len, "Cannot set -bind or -whitebind together with -listen=0");
	if (o->eng.max_connections && o->eng.nconnect + o->eng.naddnode > o->eng.max_connections)
		return fail(err, err_len, "-maxconnections=%u is below the %u manual peers",
			    o->eng.max_connections, o->eng.nconnect + o->eng.naddnode);
	return 0;
}

unsigned cr_dopts_debug_mask(const char *list)
{
	unsigned mask = 0;
	char name[32];
	while (*list) {
		size_t n = strcspn(list, ",");
		if (n == 0 || n >= sizeof(name))
			return 0;
		memcpy(name, list, n);
		name[n] = '\0';
		unsigned cat = cr_log_category_by_name(name);
		if (!cat)
			return 0;
		mask |= cat;
		list += n + (list[n] == ',');
	}
	return mask;
}

static bool is_set(const struct cr_dopts *o, const char *name)
{
	size_t i;
	return find(name, &i) && o->origin[i] != CR_DOPT_UNSET;
}

static int apply_list(struct cr_config *cfg, int (*add)(struct cr_config *, const char *),
		      const char *name, unsigned n, const char (*v)[128], char *err, size_t len)
{
	for (unsigned i = 0; i < n; i++) {
		int r = add(cfg, v[i]);
		if (r < 0)
			return fail(err, len, "-%s=%s: %s", name, v[i], cr_strerror(r));
	}
	return 0;
}

int cr_dopts_apply(const struct cr_dopts *o, struct cr_config *cfg, char *err, size_t len)
{
	const struct cr_dopts_engine *g = &o->eng;
	int r = cr_config_set_chain(cfg, g->chain);
	const char *name = "chain";
#define APPLY(opt, call)                         \
	if (!r && is_set(o, opt)) {              \
		name = opt;                      \
		r = (call);                      \
	}
	APPLY("port", cr_config_set_port(cfg, g->port));
	APPLY("listen", cr_config_set_listen(cfg, g->listen));
	APPLY("maxconnections", cr_config_set_max_connections(cfg, g->max_connections));
	APPLY("workers", cr_config_set_workers(cfg, g->workers));
	APPLY("v2transport", cr_config_set_v2transport(cfg, g->v2transport));
	APPLY("proxy", cr_config_set_proxy(cfg, g->proxy));
	APPLY("pinginterval", cr_config_set_ping_interval_ms(cfg, g->ping_interval_ms));
	APPLY("peertimeout", cr_config_set_handshake_timeout_ms(cfg, g->handshake_timeout_ms));
	APPLY("whitelistrelay", cr_config_set_whitelist_relay(cfg, g->whitelist_relay));
	APPLY("whitelistforcerelay", cr_config_set_whitelist_forcerelay(cfg, g->whitelist_forcerelay));
	APPLY("bantime", cr_config_set_ban_time_s(cfg, g->ban_time_s));
	APPLY("banscore", cr_config_set_ban_score_threshold(cfg, g->ban_score));
	APPLY("floodguard", cr_config_set_flood_defence(cfg, g->flood_defence));
	APPLY("floodrate", cr_config_set_flood_rate(cfg, g->flood_rate_per_min / 60.0));
	APPLY("floodburst", cr_config_set_flood_burst(cfg, g->flood_burst));
	APPLY("floodgroupcap", cr_config_set_flood_group_cap(cfg, g->flood_group_cap));
	APPLY("floodhold", cr_config_set_flood_hold_s(cfg, g->flood_hold_s));
	APPLY("routable127", cr_config_set_routable127(cfg, g->routable127));
	APPLY("externalip", cr_config_set_external_ip(cfg, g->external_ip));
	APPLY("maxreceivetotal", cr_config_set_recv_budget_bytes(cfg, (size_t)g->recv_budget_mib << 20));
	APPLY("maxsendtotal", cr_config_set_send_budget_bytes(cfg, (size_t)g->send_budget_mib << 20));
#undef APPLY
	if (r < 0)
		return fail(err, len, "-%s: %s", name, cr_strerror(r));
	for (unsigned i = 0; i < g->nbind; i++) {
		r = cr_config_add_bind(cfg, g->bind[i]);
		if (r < 0)
			return fail(err, len, "-bind=%s: %s", g->bind[i], cr_strerror(r));
	}
	if ((r = apply_list(cfg, cr_config_add_connect, "connect", g->nconnect, g->connect, err, len)) < 0 ||
	    (r = apply_list(cfg, cr_config_add_whitebind, "whitebind", g->nwhitebind, g->whitebind, err, len)) < 0 ||
	    (r = apply_list(cfg, cr_config_add_whitelist, "whitelist", g->nwhitelist, g->whitelist, err, len)) < 0)
		return r;
	if ((r = apply_list(cfg, cr_config_add_addnode, "addnode", g->naddnode, g->addnode, err, len)) < 0)
		return r;
	return cr_dopts_sched_apply(&o->sched, g->nconnect > 0, cfg, err, len);
}

void cr_dopts_help(char *out, size_t out_len)
{
	size_t used = 0;
	int w = snprintf(out, out_len, "Usage: connringd [options]\n"
				      "Options (also name=value lines in the config file):\n");
	for (size_t i = 0; w >= 0 && i < NOPTS; i++) {
		used += (size_t)w;
		if (used >= out_len)
			return;
		w = snprintf(out + used, out_len - used, "  -%s%s\n", table[i].name, table[i].help);
	}
}

/* ---- the config file ---- */

static int conf_fail(struct cr_conf *c, const char *fmt, ...)
{
	char reason[CR_CONF_ERR_MAX - 32];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	snprintf(c->msg, sizeof(c->msg), "line %u: %s", c->line, reason);
	c->err = -EINVAL;
	return c->err;
}

void cr_conf_init(struct cr_conf *c, struct cr_dopts *o)
{
	memset(c, 0, sizeof(*c));
	c->o = o;
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t';
}

static int conf_section(struct cr_conf *c, const char *s, size_t n)
{
	if (n < 3 || s[n - 1] != ']')
		return conf_fail(c, "section header must look like [regtest]");
	char name[16];
	if (n - 2 >= sizeof(name))
		return conf_fail(c, "unknown section [%.*s]", (int)(n - 2 < 32 ? n - 2 : 32), s + 1);
	memcpy(name, s + 1, n - 2);
	name[n - 2] = '\0';
	const struct cr_chain *ch = cr_chain_by_name(name);
	if (!ch || strcmp(name, "testnet3") == 0)
		return conf_fail(c, "unknown section [%s]: expected main, test, testnet4, signet or regtest", name);
	memcpy(c->section, name, strlen(name) + 1);
	if (!c->o->chain_fixed) {
		/* Every chain option is in by now (the command line, the
		 * file's top level): settle the chain that picks the sections. */
		char reason[CR_CONF_ERR_MAX - 32];
		if (resolve_chain(c->o, reason, sizeof(reason)) < 0)
			return conf_fail(c, "%s", reason);
	}
	c->o->chain_fixed = true; /* a later chain= would change which sections apply */
	return 0;
}

int cr_conf_line(struct cr_conf *c, const char *line, size_t len)
{
	if (c->err)
		return c->err;
	c->line++;
	if (len > CR_CONF_LINE_MAX)
		return conf_fail(c, "longer than %d characters", CR_CONF_LINE_MAX);
	if (memchr(line, '\0', len))
		return conf_fail(c, "contains a NUL byte");
	char buf[CR_CONF_LINE_MAX + 1];
	memcpy(buf, line, len);
	buf[len] = '\0';
	char *s = buf, *end = buf + len;
	if (end > s && end[-1] == '\r')
		*--end = '\0';
	while (is_space(*s))
		s++;
	while (end > s && is_space(end[-1]))
		*--end = '\0';
	if (!*s || *s == '#')
		return 0;
	if (*s == '[')
		return conf_section(c, s, (size_t)(end - s));
	char *eq = strchr(s, '=');
	if (!eq)
		return conf_fail(c, "'%.64s' is not name=value (for a negated option write no%.64s=1)", s, s);
	char *name_end = eq;
	while (name_end > s && is_space(name_end[-1]))
		name_end--;
	*name_end = '\0';
	char *value = eq + 1;
	while (is_space(*value))
		value++;
	if (*s == '-')
		return conf_fail(c, "write options without the leading '-' in the config file");
	if (strchr(value, '#'))
		return conf_fail(c, "'#' in a value: comments go on their own line");
	if (!*s)
		return conf_fail(c, "missing option name before '='");
	if (strcmp(s, "conf") == 0)
		return conf_fail(c, "conf= cannot be set inside the config file");
	char *dot = strchr(s, '.');
	if (dot)
		return conf_fail(c, "'%.64s': network.option names are not supported, use a [section]", s);
	/* Lines of another chain's section are checked but not applied. */
	struct cr_dopts scratch, *target = c->o;
	if (c->section[0] && cr_chain_by_name(c->section)->id != c->o->eng.chain) {
		scratch = *c->o;
		memset(scratch.origin, 0, sizeof(scratch.origin));
		target = &scratch;
	}
	char reason[CR_CONF_ERR_MAX - 32];
	if (cr_dopts_set(target, s, value, false, reason, sizeof(reason)) < 0)
		return conf_fail(c, "%s", reason);
	return 0;
}

int cr_conf_finish(struct cr_conf *c)
{
	return c->err;
}
