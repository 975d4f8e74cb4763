/* connring-load: a Bitcoin P2P load generator on its own io_uring loop.
 *
 *   connring-load --connect HOST:PORT [--connect HOST:PORT ...] --peers N
 *       [--transport v1|v2|mix] [--rate CONNS_PER_S] [--msg ping|inv|blob]
 *       [--msg-rate PER_PEER_PER_S] [--duration SECONDS] [--json] [--pid PID]
 *       [--chain NAME] [--inflight K] [--inv-k K] [--threads T] [--live-ms MS]
 *       [--src FIRST[-LAST]] [--max-connecting N] [--grace S]
 *
 * It connects N peers, spread over the targets (peer g to target g % T) and
 * over source addresses (127.0.0.2 and up by default, as many as keep each
 * (source, target) pair under 8,000 ports; --src chooses them), on as many
 * rings as the fd limit needs, completes the version/verack handshake on
 * each, holds them for the duration while sending the message mix, prints a
 * summary (one JSON object with --json) and exits 0 when every peer it was
 * asked for completed its handshake, 1 otherwise, 2 on bad usage. Loopback
 * only; bounded in peers (2,000,000) and time (3,600 s). */
#include <getopt.h>
#include <signal.h>
#include <unistd.h>

#include "bench/load/load_btc.h"
#include "bench/load/load_client.h"
#include "proto/err.h"

static void usage(const char *why)
{
	if (why)
		fprintf(stderr, "connring-load: %s\n", why);
	fprintf(stderr,
		"usage: connring-load --connect HOST:PORT [--connect HOST:PORT ...] --peers N\n"
		"         [--transport v1|v2|mix] [--rate CONNS_PER_S] [--msg ping|inv|blob]\n"
		"         [--msg-rate PER_PEER_PER_S] [--duration SECONDS] [--json] [--pid PID]\n"
		"         [--chain main|test|testnet4|signet|regtest] [--inflight K] [--inv-k K]\n"
		"         [--threads T] [--live-ms MS] [--src FIRST[-LAST]] [--max-connecting N] [--grace S]\n"
		"  --msg-rate 0 (default for ping) runs a closed loop: K pings in flight per peer.\n"
		"  --grace S: how long connecting may run past its schedule (default 20).\n"
		"  Peer g connects to target g %% T; --src picks the 127.x.y.z source addresses\n"
		"  (default 127.0.0.2 and up, one per 8,000 peers per target).\n"
		"  Loopback only; at most 2000000 peers and 3600 s.\n");
	exit(2);
}

static double num(const char *s, const char *what)
{
	char *end;
	double v = strtod(s, &end);
	if (!*s || *end || v < 0) {
		fprintf(stderr, "connring-load: bad %s '%s'\n", what, s);
		exit(2);
	}
	return v;
}

/* Fills o and a from argv; exits with usage (status 2) on anything wrong. */
static void parse_args(int argc, char **argv, struct load_opts *op, struct btc_arg *ap, bool *jsonp)
{
	struct load_opts o = *op;
	struct btc_arg a = *ap;
	bool json = false, msg_rate_set = false, src_set = false;
	static const struct option opts[] = {
		{"connect", 1, 0, 'c'}, {"peers", 1, 0, 'n'}, {"transport", 1, 0, 'T'},
		{"rate", 1, 0, 'r'}, {"msg", 1, 0, 'm'}, {"msg-rate", 1, 0, 'M'},
		{"duration", 1, 0, 'd'}, {"json", 0, 0, 'j'}, {"pid", 1, 0, 'p'},
		{"chain", 1, 0, 'C'}, {"inflight", 1, 0, 'k'}, {"inv-k", 1, 0, 'i'},
		{"threads", 1, 0, 't'}, {"live-ms", 1, 0, 'l'}, {"src", 1, 0, 's'},
		{"max-connecting", 1, 0, 'x'}, {"grace", 1, 0, 'g'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
	int ch;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': {
			const char *why = load_add_target(&o, optarg);
			if (why)
				usage(why);
			break;
		}
		case 's': {
			const char *why = load_parse_src(&o, optarg);
			if (why)
				usage(why);
			src_set = true;
			break;
		}
		case 'x': o.max_connecting = (unsigned)num(optarg, "--max-connecting"); break;
		case 'g': o.connect_grace_s = num(optarg, "--grace"); break;
		case 'n': o.peers = (unsigned)num(optarg, "--peers"); break;
		case 'T':
			if (strcmp(optarg, "v1") == 0) a.mode = BTC_V1;
			else if (strcmp(optarg, "v2") == 0) a.mode = BTC_V2;
			else if (strcmp(optarg, "mix") == 0) a.mode = BTC_MIX;
			else usage("--transport is v1, v2 or mix");
			break;
		case 'r': o.rate = num(optarg, "--rate"); break;
		case 'm':
			if (strcmp(optarg, "ping") == 0) o.msg = LOAD_PING;
			else if (strcmp(optarg, "inv") == 0) o.msg = LOAD_INV;
			else if (strcmp(optarg, "blob") == 0) o.msg = LOAD_BLOB;
			else usage("--msg is ping, inv or blob");
			break;
		case 'M': o.msg_rate = num(optarg, "--msg-rate"); msg_rate_set = true; break;
		case 'd': o.duration_s = num(optarg, "--duration"); break;
		case 'j': json = true; break;
		case 'p': o.rss_pid = (int)num(optarg, "--pid"); break;
		case 'C':
			if (!(a.chain = cr_chain_by_name(optarg)))
				usage("unknown --chain");
			break;
		case 'k': o.inflight = (unsigned)num(optarg, "--inflight"); break;
		case 'i': a.inv_k = (unsigned)num(optarg, "--inv-k"); break;
		case 't': o.threads = (unsigned)num(optarg, "--threads"); break;
		case 'l': o.live_ms = (unsigned)num(optarg, "--live-ms"); break;
		case 'h': usage(NULL); break;
		default: usage(NULL);
		}
	}
	if (optind < argc)
		usage("unexpected argument");
	if (!o.ndst)
		usage("--connect HOST:PORT is required");
	if (o.peers == 0 || o.peers > LOAD_MAX_PEERS)
		usage("--peers must be 1..2000000");
	if (o.max_connecting == 0 || o.max_connecting > 65536)
		usage("--max-connecting must be 1..65536");
	if (!src_set)
		load_default_sources(&o);
	if (o.connect_grace_s > 3600)
		usage("--grace must be at most 3600");
	if (o.duration_s <= 0 || o.duration_s > 3600)
		usage("--duration must be in (0, 3600]");
	if (o.inflight == 0 || o.inflight > 64)
		usage("--inflight must be 1..64");
	if (a.inv_k == 0 || a.inv_k > 50000)
		usage("--inv-k must be 1..50000 (Core's MAX_INV_SZ)");
	if (o.rss_pid < 0 || (o.rss_pid > 0 && load_rss_kib(o.rss_pid) < 0))
		usage("--pid: no such process");
	if (o.msg != LOAD_PING && !msg_rate_set)
		o.msg_rate = 1; /* only pings are answered: others need a rate */
	if (o.msg != LOAD_PING && o.msg_rate <= 0)
		usage("--msg inv|blob needs --msg-rate > 0 (nothing answers them)");
	if (o.msg == LOAD_BLOB && o.msg_rate * o.peers > 2000)
		usage("--msg blob: at most 2000 blobs per second in all (2 GiB/s)");
	a.dst = o.dst[0];
	*op = o;
	*ap = a;
	*jsonp = json;
}

int main(int argc, char **argv)
{
	struct load_opts o = {.max_connecting = 1024, .msg = LOAD_PING, .inflight = 1, .duration_s = 10,
			      .connect_grace_s = 20};
	struct btc_arg a = {.chain = cr_chain_get(CR_CHAIN_MAIN), .mode = BTC_V1, .inv_k = 16};
	bool json;
	parse_args(argc, argv, &o, &a, &json);
	struct load_proto proto;
	btc_proto_init(&proto, &a);
	o.proto = &proto;
	o.proto_arg = &a;
	signal(SIGPIPE, SIG_IGN);
	load_proto_strerror = cr_proto_strerror;
	struct load_result res;
	int r = load_run(&o, &res);
	if (r < 0) {
		fprintf(stderr, "connring-load: %s\n", strerror(-r));
		return 1;
	}
	load_print(&o, &res, "connring-load", json);
	return res.peers_established == o.peers ? 0 : 1;
}
