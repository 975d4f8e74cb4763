/* connringd: the connring daemon. Reads bitcoind-style options from the
 * command line and the config file (cmd/conf.c), runs the engine, logs
 * connects and disconnects with their reasons, prints a one-line stats
 * summary every -statsinterval seconds and on SIGUSR1 (and writes
 * -statsfile as JSON then), and stops cleanly on SIGINT/SIGTERM.
 *
 * Signals are blocked in every thread and read from a signalfd by the main
 * thread, so no work runs in a signal handler. Engine callbacks (logging)
 * run on engine threads; each writes one whole line per call. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <connring/connring.h>

#include "cmd/announce.h"
#include "cmd/conf.h"
#include "cmd/datadir.h"
#include "cmd/import.h"
#include "cmd/rpc_daemon.h"
#include "cmd/rpc_statsfile.h"
#include "proto/chain.h"
#include "proto/msg.h"
#include "proto/services.h"

/* Connect and disconnect lines (several per peer) go into stdio's buffers
 * and reach the file within LOG_FLUSH_MS: a write() per line costs a
 * connection storm more than the handshake itself. Every other line (start,
 * stop, stats, warnings, errors) is flushed at once, and exit flushes all. */
#define LOG_FLUSH_MS 100
#define LOG_BUF_BYTES (64 * 1024)

struct daemon {
	struct cr_dopts o;
	struct cr_config *cfg;
	FILE *logf;
	atomic_uint debug;     /* CR_LOG_* categories whose debug lines are shown (RPC "logging" changes it) */
	atomic_bool unflushed; /* buffered lines wait for the main thread */
	atomic_bool stop_requested; /* RPC "stop" */
	int wake_fd;           /* eventfd: the first buffered line or a stop wakes it */
	struct cr_engine *e;
	struct cr_announce *ann; /* chain signals from announcements (announce.h) */
	char datadir[CR_CONF_PATH_MAX]; /* the base directory (default ~/.connring) */
	char netdir[CR_CONF_PATH_MAX + 16]; /* with the chain's subfolder, as bitcoind */
	struct cr_rpc_node node;
	struct cr_control *ctl;
	struct cr_peersdat peers; /* -importpeers, read at start, imported once the engine runs */
};

/* "YYYY-MM-DDTHH:MM:SS" of sec, formatted once per second per thread. */
static const char *stamp_of(time_t sec)
{
	static _Thread_local time_t cached = (time_t)-1;
	static _Thread_local char stamp[32];
	if (sec != cached) {
		struct tm tm;
		gmtime_r(&sec, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
		cached = sec;
	}
	return stamp;
}

static void vlog_line(struct daemon *d, bool bulk, const char *fmt, va_list ap)
{
	char msg[1024];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	const char *stamp = stamp_of(ts.tv_sec);
	/* One fprintf per line: stdio locks the stream, lines never interleave. */
	fprintf(stderr, "%s.%03ldZ %s\n", stamp, ts.tv_nsec / 1000000, msg);
	if (d->logf)
		fprintf(d->logf, "%s.%03ldZ %s\n", stamp, ts.tv_nsec / 1000000, msg);
	if (bulk) {
		/* one wake-up per flush interval, not per line */
		if (!atomic_exchange(&d->unflushed, true) && d->wake_fd >= 0) {
			uint64_t one = 1;
			if (write(d->wake_fd, &one, sizeof(one)) < 0)
				fflush(stderr); /* cannot happen with an eventfd; never lose lines */
		}
		return;
	}
	fflush(stderr);
	if (d->logf)
		fflush(d->logf);
}

static void log_flush(struct daemon *d)
{
	atomic_store(&d->unflushed, false); /* a line after this wakes us again */
	fflush(stderr);
	if (d->logf)
		fflush(d->logf);
}

static void log_line(struct daemon *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog_line(d, false, fmt, ap);
	va_end(ap);
}

/* A connect/disconnect/debug line: buffered, flushed by the main thread. */
static void log_bulk(struct daemon *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog_line(d, true, fmt, ap);
	va_end(ap);
}

/* ---- engine callbacks (engine threads) ---- */

/* As bitcoind: a debug line shows when -debug names its category (or
 * all); lines of other levels always show. */
static bool debug_on(struct daemon *d, enum cr_log_category cat)
{
	unsigned mask = atomic_load_explicit(&d->debug, memory_order_relaxed);
	return cat == CR_LOG_GENERAL ? mask != 0 : (mask & cat) != 0;
}

static void on_log(void *user, enum cr_log_level level, enum cr_log_category cat, const char *text)
{
	struct daemon *d = user;
	static const char *names[] = {"error", "warning", "info", "debug"};
	if (level == CR_LOG_DEBUG && !debug_on(d, cat))
		return;
	if (level >= CR_LOG_INFO) /* per-peer lines */
		log_bulk(d, "%s: %s", names[level <= CR_LOG_DEBUG ? level : CR_LOG_DEBUG], text);
	else
		log_line(d, "%s: %s", names[level], text);
}

/* Per-peer lines: outbound peers at info (as Core's "New outbound peer
 * connected"), inbound ones and every disconnect under -debug=net only, so
 * logging never bounds the connection rate; the counts stay in the stats
 * line and -statsfile. */
static void on_peer_ready(void *user, uint64_t peer, const struct cr_peer_info *pi)
{
	if (pi->inbound && !debug_on(user, CR_LOG_NET))
		return;
	log_bulk(user, "connect: peer=%" PRIx64 " %s %s%s v%d version=%d services=%" PRIx64
		       " height=%d ua=\"%s\"",
		 peer, pi->addr_str, pi->inbound ? "inbound" : "outbound ",
		 pi->inbound ? "" : cr_conn_type_str(pi->conn_type),
		 pi->transport, pi->version, pi->services, pi->start_height, pi->user_agent);
}

static size_t on_message(void *user, uint64_t peer, const char *command, const uint8_t *payload,
			 size_t len)
{
	struct daemon *d = user;
	if (debug_on(d, CR_LOG_NET))
		log_bulk(d, "debug: peer=%" PRIx64 " received %s (%zu bytes)", peer, command, len);
	/* no chain here: a block hash first seen from this peer stands for
	 * its new block and for our tip moving (see -help) */
	unsigned got = d->ann ? cr_announce_message(d->ann, command, payload, len) : 0;
	if (got & CR_ANNOUNCE_BLOCK)
		cr_tip_updated(d->e, 0);
	if (got)
		cr_peer_announced(d->e, peer, got);
	return 0;
}

static void on_peer_closed(void *user, uint64_t peer, bool ready, enum cr_close_reason reason,
			   const char *text)
{
	if (!debug_on(user, CR_LOG_NET))
		return;
	log_bulk(user, "disconnect: peer=%" PRIx64 "%s reason=%s (%s)", peer,
		 ready ? "" : " (before handshake)", cr_close_reason_str(reason), text ? text : "");
}

/* ---- stats ---- */

static void stats_line(struct daemon *d, const char *why)
{
	struct cr_totals t;
	cr_engine_totals(d->e, &t, sizeof(t));
	log_line(d, "stats(%s): peers %" PRIu64 " (in %" PRIu64 ", out %" PRIu64 ", handshaked %" PRIu64
		    "), msgs sent %" PRIu64 " recv %" PRIu64 ", bytes sent %" PRIu64 " recv %" PRIu64
		    ", accepted %" PRIu64 " refused %" PRIu64 ", connects %" PRIu64 " failed %" PRIu64
		    ", v1 fallbacks %" PRIu64 ", recv enobufs %" PRIu64,
		 why, t.peers, t.inbound, t.outbound, t.handshaked, t.msgs_sent, t.msgs_recv, t.bytes_sent,
		 t.bytes_recv, t.accepted, t.accept_refused, t.connects, t.connect_failures, t.v1_fallbacks,
		 t.recv_enobufs);
	if (t.accept_refused || t.evictions || t.bans || t.misbehaved_discouraged || t.misbehaved_banned)
		log_line(d, "defence(%s): refused banned %" PRIu64 " flood-rate %" PRIu64 " flood-cap %" PRIu64
			    " discouraged %" PRIu64 " full %" PRIu64 " evict-wait %" PRIu64 " on_accept %" PRIu64
			    ", evicted %" PRIu64 ", bans %" PRIu64 " (closed %" PRIu64 "), misbehaved discouraged %"
			    PRIu64 " banned %" PRIu64 " kept %" PRIu64 "%s",
			 why, t.refused_banned, t.refused_flood_rate, t.refused_flood_cap, t.refused_discouraged,
			 t.refused_full, t.refused_evict_wait, t.refused_embedder, t.evictions, t.bans,
			 t.ban_disconnects, t.misbehaved_discouraged, t.misbehaved_banned, t.misbehaved_kept,
			 t.flooding ? ", flood detected" : "");
}

/* Totals and every peer as one JSON document (rpc_statsfile.c). */
static void stats_file(struct daemon *d)
{
	char err[512];
	if (d->o.statsfile[0] && cr_statsfile_write(d->e, d->o.statsfile, err, sizeof(err)) != 0)
		log_line(d, "warning: %s", err);
}

/* ---- control plane hooks (RPC connection threads) ---- */

static void request_stop(void *user)
{
	struct daemon *d = user;
	uint64_t one = 1;
	atomic_store(&d->stop_requested, true);
	if (write(d->wake_fd, &one, sizeof(one)) < 0)
		atomic_store(&d->stop_requested, true); /* an eventfd write cannot fail here */
}

static unsigned log_categories(void *user, unsigned enable, unsigned disable)
{
	struct daemon *d = user;
	unsigned old = atomic_load(&d->debug), now;
	do
		now = (old | enable) & ~disable & CR_LOG_ALL;
	while (!atomic_compare_exchange_weak(&d->debug, &old, now));
	return now;
}

static void control_log(void *user, const char *line)
{
	log_line(user, "%s", line);
}

/* ---- setup ---- */

static int read_conf(struct daemon *d, const char *path, bool must_exist)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		if (!must_exist && errno == ENOENT)
			return 0;
		fprintf(stderr, "connringd: error: cannot read config file %s: %s\n", path, strerror(errno));
		return -1;
	}
	struct cr_conf c;
	cr_conf_init(&c, &d->o);
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, f)) >= 0) {
		if (n > 0 && line[n - 1] == '\n')
			n--;
		if (cr_conf_line(&c, line, (size_t)n) < 0)
			break;
	}
	free(line);
	fclose(f);
	if (cr_conf_finish(&c) < 0) {
		fprintf(stderr, "connringd: error: %s: %s\n", path, c.msg);
		return -1;
	}
	return 0;
}

/* path resolved against dir as bitcoind resolves file options. */
static int in_dir(const char *dir, char *path, size_t cap)
{
	char tmp[CR_CONF_PATH_MAX + 32];
	if (cr_datadir_path(tmp, sizeof(tmp), dir, path) != 0 || strlen(tmp) >= cap) {
		fprintf(stderr, "connringd: error: %s/%s: path too long\n", dir, path);
		return -1;
	}
	memcpy(path, tmp, strlen(tmp) + 1);
	return 0;
}

/* bitcoind's layout: -datadir must exist; the default ~/.connring is
 * made at first start; every chain but main gets its subfolder. */
static int base_datadir(struct daemon *d)
{
	if (d->o.datadir[0]) {
		struct stat st;
		if (stat(d->o.datadir, &st) != 0 || !S_ISDIR(st.st_mode)) {
			fprintf(stderr, "connringd: error: -datadir=%s: not a directory\n", d->o.datadir);
			return -1;
		}
		snprintf(d->datadir, sizeof(d->datadir), "%s", d->o.datadir);
		return 0;
	}
	int r = cr_datadir_default(d->datadir, sizeof(d->datadir));
	if (r == 0)
		r = cr_datadir_ensure(d->datadir);
	if (r != 0) {
		fprintf(stderr, "connringd: error: default data directory %s: %s (see -datadir)\n",
			d->datadir[0] ? d->datadir : "~/.connring", strerror(-r));
		return -1;
	}
	return 0;
}

static int net_datadir(struct daemon *d)
{
	int r = cr_datadir_net(d->netdir, sizeof(d->netdir), d->datadir, d->o.eng.chain);
	if (r == 0)
		r = cr_datadir_ensure(d->netdir);
	if (r != 0) {
		fprintf(stderr, "connringd: error: data directory %s: %s\n", d->netdir, strerror(-r));
		return -1;
	}
	return 0;
}

/* Bans, the address manager and the anchors persist in the chain's data
 * folder (where bitcoind keeps banlist.json, peers.dat and anchors.dat),
 * in connring's crash-safe store format. */
static int data_file(struct daemon *d, const char *name, int (*set)(struct cr_config *, const char *))
{
	char path[sizeof(d->netdir) + 16];
	int r = cr_datadir_path(path, sizeof path, d->netdir, name);
	if (r == 0)
		r = set(d->cfg, path);
	if (r < 0)
		fprintf(stderr, "connringd: error: %s in %s: %s\n", name, d->netdir, cr_strerror(r));
	return r;
}

static int data_files(struct daemon *d)
{
	if (data_file(d, "banlist.dat", cr_config_set_banlist_path) < 0 ||
	    data_file(d, "peers.dat", cr_config_set_peers_path) < 0 ||
	    data_file(d, "anchors.dat", cr_config_set_anchors_path) < 0)
		return -1;
	return 0;
}

static int configure(struct daemon *d, int argc, char **argv)
{
	char err[CR_CONF_ERR_MAX];
	cr_dopts_init(&d->o);
	if (cr_dopts_cmdline(&d->o, argc, argv, err, sizeof(err)) < 0) {
		fprintf(stderr, "connringd: error: %s (see -help)\n", err);
		return -1;
	}
	if (d->o.help) {
		static char help[8192];
		cr_dopts_help(help, sizeof(help));
		fputs(help, stdout);
		fputs("\nChain signals: connringd holds no chain. The scheduler's stale-tip check and\n"
		      "extra-peer eviction and inbound eviction need to know when the tip moves and\n"
		      "which peer announced a new block or transaction; connringd takes a block hash\n"
		      "that no peer had announced before, first seen in an inv, headers or\n"
		      "cmpctblock from a peer, as both that peer's new block and a tip update, and a\n"
		      "transaction hash first seen in an inv as that peer's new transaction. Peers\n"
		      "can make hashes up: unlike Core, nothing is validated.\n",
		      stdout);
		return 1;
	}
	if (base_datadir(d) < 0)
		return -1;
	if (d->o.conf[0]) {
		if (in_dir(d->datadir, d->o.conf, sizeof(d->o.conf)) < 0 ||
		    read_conf(d, d->o.conf, true) < 0)
			return -1;
	} else {
		char path[CR_CONF_PATH_MAX] = "connring.conf";
		if (in_dir(d->datadir, path, sizeof(path)) < 0 || read_conf(d, path, false) < 0)
			return -1;
	}
	if (cr_dopts_finish(&d->o, err, sizeof(err)) < 0) {
		fprintf(stderr, "connringd: error: %s\n", err);
		return -1;
	}
	/* Files of a chain live in its folder, as bitcoind's debug.log. */
	if (net_datadir(d) < 0 || in_dir(d->netdir, d->o.logfile, sizeof(d->o.logfile)) < 0 ||
	    in_dir(d->netdir, d->o.statsfile, sizeof(d->o.statsfile)) < 0)
		return -1;
	if (d->o.logfile[0] && !(d->logf = fopen(d->o.logfile, "a"))) {
		fprintf(stderr, "connringd: error: -logfile=%s: %s\n", d->o.logfile, strerror(errno));
		return -1;
	}
	if (d->logf)
		setvbuf(d->logf, NULL, _IOFBF, LOG_BUF_BYTES);
	d->debug = cr_dopts_debug_mask(d->o.debug);
	if (!(d->cfg = cr_config_new())) {
		fprintf(stderr, "connringd: error: out of memory\n");
		return -1;
	}
	if (cr_dopts_apply(&d->o, d->cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "connringd: error: %s\n", err);
		return -1;
	}
	if (data_files(d) < 0)
		return -1;
	uint32_t tweak = 0; /* secret, so peers cannot craft colliding hashes */
	if (getrandom(&tweak, sizeof tweak, 0) != sizeof tweak)
		tweak = (uint32_t)time(NULL) ^ (uint32_t)getpid();
	d->ann = cr_announce_new(tweak);
	if (!d->ann) {
		fprintf(stderr, "connringd: error: out of memory\n");
		return -1;
	}
	cr_config_set_user(d->cfg, d);
	cr_config_set_on_log(d->cfg, on_log);
	cr_config_set_on_peer_ready(d->cfg, on_peer_ready);
	cr_config_set_on_message(d->cfg, on_message);
	cr_config_set_on_peer_closed(d->cfg, on_peer_closed);
	return 0;
}

/* The JSON-RPC and metrics servers, once the engine runs (Core fails to
 * start when its RPC server cannot bind; so does connringd). */
static int start_control(struct daemon *d)
{
	struct cr_rpc_node *n = &d->node;
	n->e = d->e;
	n->chain = d->o.eng.chain;
	n->started = (int64_t)time(NULL);
	snprintf(n->subversion, sizeof(n->subversion), "/connring:%s/", cr_version_string());
	n->protocol_version = CR_PROTOCOL_VERSION; /* connringd never changes the engine's default */
	/* as the engine's version message says (Core: NODE_P2P_V2 with
	 * -v2transport; connringd serves no blocks, so nothing else) */
	n->local_services = d->o.eng.v2transport ? CR_NODE_P2P_V2 : 0;
	n->local_relay = true;
	snprintf(n->proxy, sizeof(n->proxy), "%s", d->o.eng.proxy);
	n->request_stop = request_stop;
	n->log_categories = log_categories;
	n->user = d;
	static struct cr_control_opts co;
	const struct cr_dopts_rpc *r = &d->o.rpc;
	memset(&co, 0, sizeof(co));
	co.server = r->server;
	snprintf(co.netdir, sizeof(co.netdir), "%s", d->netdir);
	snprintf(co.cookiefile, sizeof(co.cookiefile), "%s", r->cookiefile);
	snprintf(co.user, sizeof(co.user), "%s", r->user);
	snprintf(co.password, sizeof(co.password), "%s", r->password);
	co.nauth = r->nauth;
	for (unsigned i = 0; i < r->nauth; i++)
		snprintf(co.auth[i], sizeof(co.auth[i]), "%s", r->auth[i]);
	co.nbind = r->nbind;
	for (unsigned i = 0; i < r->nbind; i++)
		snprintf(co.bind[i], sizeof(co.bind[i]), "%s", r->bind[i]);
	co.nallow = r->nallow;
	for (unsigned i = 0; i < r->nallow; i++)
		snprintf(co.allow[i], sizeof(co.allow[i]), "%s", r->allow[i]);
	co.port = r->port;
	co.timeout_s = r->timeout_s;
	snprintf(co.metricsbind, sizeof(co.metricsbind), "%s", r->metricsbind);
	char err[512];
	if (cr_control_start(&d->ctl, &co, n, control_log, d, err, sizeof(err)) != 0) {
		log_line(d, "error: %s", err);
		return -1;
	}
	if (cr_control_rpc_port(d->ctl))
		log_line(d, "rpc: JSON-RPC on port %u%s", cr_control_rpc_port(d->ctl),
			 r->password[0] ? "" : " (cookie auth)");
	if (cr_control_metrics_port(d->ctl))
		log_line(d, "metrics: Prometheus text at http://%s/metrics", r->metricsbind);
	return 0;
}

/* -importpeers/-importbans: the files are read and checked whole at
 * start; a corrupt or foreign file stops the start with the reason and
 * changes nothing. Bans are merged into the engine's ban store
 * (banlist.dat) before the engine loads it, so no connection is accepted
 * before they apply; addresses go into the coordinator's address manager
 * once the engine runs (import_peers). */
static int check_imports(struct daemon *d)
{
	const struct cr_dopts_rpc *r = &d->o.rpc;
	char why[512];
	if (r->importpeers[0] &&
	    cr_import_peers_read(r->importpeers, d->o.eng.chain, &d->peers, why, sizeof(why)) != 0) {
		log_line(d, "error: -importpeers=%s: %s", r->importpeers, why);
		return -1;
	}
	if (r->importbans[0]) {
		size_t added, skipped;
		char path[sizeof(d->netdir) + 16];
		if (cr_datadir_path(path, sizeof path, d->netdir, "banlist.dat") != 0 ||
		    cr_import_bans_apply(r->importbans, path, (int64_t)time(NULL), &added, &skipped, why,
					 sizeof(why)) != 0) {
			log_line(d, "error: -importbans=%s: %s", r->importbans, why);
			return -1;
		}
		log_line(d, "import: -importbans=%s: %zu bans added to %s (%zu skipped: expired, or dropped as "
			    "Core drops them)", r->importbans, added, path, skipped);
	}
	if (r->maxuploadtarget) {
		log_line(d, "error: -maxuploadtarget: not accounted by this engine yet");
		return -1;
	}
	return 0;
}

/* Descriptors connringd needs besides its peers' sockets: stdio, the log
 * file, each worker's ring, listeners and doorbell, the coordinator's, the
 * RPC and metrics servers and the files it writes. Below this a start
 * fails on "Too many open files" somewhere, or holds almost no peer. */
#define NOFILE_MIN 64

/* RLIMIT_NOFILE too low to run: said before anything fails on it (the
 * engine raises the soft limit to the hard one; the hard one is what
 * counts). */
static void check_nofile(struct daemon *d)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_max >= NOFILE_MIN)
		return;
	log_line(d, "warning: RLIMIT_NOFILE is %llu (hard limit %llu): connringd needs about %d "
		 "descriptors for its rings, listeners, servers and files plus one per peer; raise it "
		 "(ulimit -n, systemd LimitNOFILE=)", (unsigned long long)rl.rlim_cur,
		 (unsigned long long)rl.rlim_max, NOFILE_MIN);
}

static void log_start_error(struct daemon *d, const char *what, int r)
{
	struct rlimit rl;
	if ((r == -EMFILE || r == -ENFILE) && getrlimit(RLIMIT_NOFILE, &rl) == 0)
		log_line(d, "error: %s: %s (RLIMIT_NOFILE is %llu, hard limit %llu: raise it with "
			 "ulimit -n or systemd LimitNOFILE=)", what, cr_strerror(r),
			 (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
	else
		log_line(d, "error: %s: %s", what, cr_strerror(r));
}

/* Before cr_engine_start: the engine places them after loading peers.dat
 * and before the scheduler's first pass, and logs how many it placed
 * ("imported N of M addresses"). */
static int import_peers(struct daemon *d)
{
	const char *path = d->o.rpc.importpeers;
	if (!path[0])
		return 0;
	struct cr_addr_import *in = NULL;
	size_t n = cr_import_peers_entries(&d->peers, &in);
	int r = n && !in ? -ENOMEM : cr_import_addresses(d->e, in, n, NULL);
	if (r < 0)
		log_line(d, "error: -importpeers=%s: %s", path, cr_strerror(r));
	else
		log_line(d, "import: -importpeers=%s: %zu addresses read (%zu skipped as Core skips them), placed "
			    "before the first connection (the engine logs how many were new)", path, n,
			 d->peers.skipped);
	free(in);
	cr_peersdat_clear(&d->peers);
	return r;
}

static int run(struct daemon *d, int sfd)
{
	const struct cr_chain *chain = cr_chain_get(d->o.eng.chain);
	if (check_imports(d) < 0)
		return 1;
	check_nofile(d);
	int r = cr_engine_new(&d->e, d->cfg);
	if (r == 0 && import_peers(d) < 0) {
		cr_engine_free(d->e);
		return 1;
	}
	if (r == 0)
		r = cr_engine_start(d->e);
	if (r < 0) {
		log_start_error(d, "engine failed to start", r);
		cr_engine_free(d->e);
		return 1;
	}
	if (start_control(d) < 0) {
		cr_engine_stop(d->e);
		cr_engine_free(d->e);
		return 1;
	}
	log_line(d, "connringd %s started: chain=%s listen=%s port=%u workers=%u capacity=%zu peers v2transport=%d",
		 cr_version_string(), chain->name, d->o.eng.listen ? "yes" : "no", cr_engine_port(d->e),
		 cr_engine_workers(d->e), cr_engine_capacity(d->e), d->o.eng.v2transport);
	uint64_t interval_ms = (uint64_t)d->o.stats_interval_s * 1000;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	uint64_t next = (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000 + interval_ms;
	uint64_t flush_at = 0; /* when buffered lines are due in the file */
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		uint64_t ms = (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
		if (ms >= next) {
			stats_line(d, "periodic");
			stats_file(d);
			next = ms + interval_ms;
			continue;
		}
		struct pollfd p[2] = {{.fd = sfd, .events = POLLIN}, {.fd = d->wake_fd, .events = POLLIN}};
		uint64_t wait_ms = next - ms;
		if (flush_at && flush_at <= ms) {
			log_flush(d);
			flush_at = 0;
		}
		if (flush_at && flush_at - ms < wait_ms)
			wait_ms = flush_at - ms;
		int pr = poll(p, 2, (int)wait_ms);
		if (pr < 0 && errno != EINTR)
			break;
		if (pr > 0 && (p[1].revents & POLLIN)) {
			uint64_t n;
			if (read(d->wake_fd, &n, sizeof(n)) == sizeof(n) && !flush_at)
				flush_at = ms + LOG_FLUSH_MS; /* let lines gather */
		}
		if (atomic_load(&d->stop_requested)) {
			log_line(d, "shutdown: stop requested over RPC, stopping");
			break;
		}
		if (pr <= 0 || !(p[0].revents & POLLIN))
			continue;
		struct signalfd_siginfo si;
		if (read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		if (si.ssi_signo == SIGUSR1) {
			stats_line(d, "SIGUSR1");
			stats_file(d);
			continue;
		}
		log_line(d, "shutdown: %s received, stopping", strsignal((int)si.ssi_signo));
		break;
	}
	/* RPC first: its calls use the engine; the cookie goes with it. */
	cr_control_stop(d->ctl);
	d->ctl = NULL;
	stats_file(d); /* peers as they were, before the stop closes them */
	cr_engine_stop(d->e);
	stats_line(d, "final");
	cr_engine_free(d->e);
	cr_announce_free(d->ann);
	log_line(d, "connringd stopped");
	return 0;
}

int main(int argc, char **argv)
{
	static struct daemon d;
	static char errbuf[LOG_BUF_BYTES];
	d.wake_fd = -1;
	/* stderr is unbuffered by default: one write() per line */
	setvbuf(stderr, errbuf, _IOFBF, sizeof(errbuf));
	int r = configure(&d, argc, argv);
	if (r != 0)
		return r < 0 ? 1 : 0;
	/* Blocked before any thread exists, so every engine thread inherits the
	 * mask and the signals reach only the signalfd. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGPIPE);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0) {
		perror("connringd: sigprocmask");
		return 1;
	}
	sigdelset(&set, SIGPIPE);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0) {
		perror("connringd: signalfd");
		return 1;
	}
	d.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d.wake_fd < 0) {
		perror("connringd: eventfd");
		return 1;
	}
	r = run(&d, sfd);
	log_flush(&d);
	close(d.wake_fd);
	close(sfd);
	if (d.logf)
		fclose(d.logf);
	cr_config_free(d.cfg);
	return r;
}
