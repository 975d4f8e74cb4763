/* bench/ceiling: what this machine can do with io_uring and no protocol.
 *
 * The echo server of ceiling_srv.c (the least work a server could do: no
 * protocol, no copy, received buffers sent back with one batched sendmsg
 * per connection and completion batch) and the load client of
 * connring-load (load_client.c) with the same load pattern. --transport
 * says what the client speaks (ceiling_proto.c): raw 32-byte blocks (the
 * size of a V1 ping), or v1 / v2 pings framed and sealed exactly as
 * connring-load does, whose echo the client reads as the reply. So a
 * ceiling run and a connringd run differ only in the server, and the ratio
 * of the two is the server's share of what this machine can do.
 *
 *   ceiling --peers N [client options]          server and client in one process
 *   ceiling --serve [--ports K] [--server-threads T] [--duration S] [--pin]
 *                                               server alone (prints its port)
 *   ceiling --connect HOST:PORT [--connect ...] --peers N [--pid PID] [client options]
 *                                               client alone, against a --serve
 *   client options: [--transport raw|v1|v2] [--inflight K] [--msg-rate PER_PEER_PER_S]
 *       [--rate CONNS_PER_S] [--duration SECONDS] [--threads T] [--live-ms MS]
 *       [--src FIRST[-LAST]] [--max-connecting N] [--grace S] [--chain NAME] [--json]
 *
 * Run apart (--serve, then --connect with --pid), the server is measured as
 * connringd is: RSS, CPU per message, in its own process. Loopback only;
 * bounded by --duration; the client exits 0 when every peer connected, the
 * server when it stopped cleanly (SIGTERM, SIGINT or --duration). */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "bench/load/ceiling_proto.h"
#include "bench/load/ceiling_srv.h"
#include "bench/load/load_client.h"
#include "proto/chain.h"
#include "proto/err.h"

static void usage(const char *why)
{
	if (why)
		fprintf(stderr, "ceiling: %s\n", why);
	fprintf(stderr,
		"usage: ceiling --peers N [client options]\n"
		"       ceiling --serve [--ports K] [--server-threads T] [--duration S] [--pin]\n"
		"       ceiling --connect HOST:PORT [--connect ...] --peers N [--pid PID] [client options]\n"
		"  client options: [--transport raw|v1|v2] [--inflight K] [--msg-rate PER_PEER_PER_S]\n"
		"       [--rate CONNS_PER_S] [--duration SECONDS] [--threads T] [--live-ms MS]\n"
		"       [--src FIRST[-LAST]] [--max-connecting N] [--grace S] [--chain NAME] [--json]\n");
	exit(2);
}

static double num(const char *s, const char *what)
{
	char *end;
	double v = strtod(s, &end);
	if (!*s || *end || v < 0) {
		fprintf(stderr, "ceiling: bad %s '%s'\n", what, s);
		exit(2);
	}
	return v;
}

/* --serve: listens until SIGTERM/SIGINT or the duration, then prints its
 * counters (one JSON object with --json). */
static int serve(struct esrv_opts *so, double duration_s, bool json)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL); /* ring threads inherit the mask */
	int sfd = signalfd(-1, &set, SFD_CLOEXEC);
	struct esrv *srv;
	if (sfd < 0 || esrv_start(so, &srv) < 0)
		return 1;
	printf("ceiling: listening on");
	for (unsigned i = 0; i < so->nports; i++)
		printf(" 127.0.0.1:%u", so->ports[i]);
	printf(" with %u ring(s)\n", esrv_threads(srv));
	fflush(stdout);
	struct pollfd pfd = {.fd = sfd, .events = POLLIN};
	int ms = duration_s > 0 ? (int)(duration_s * 1000) : -1;
	poll(&pfd, 1, ms);
	struct esrv_stats st;
	esrv_stats(srv, &st);
	esrv_stop(srv);
	close(sfd);
	if (json)
		printf("{\"tool\":\"ceiling-serve\",\"rings\":%u,\"accepted\":%lu,\"echoed_bytes\":%lu,"
		       "\"sends\":%lu,\"recv_enobufs\":%lu,\"accept_errors\":%lu}\n",
		       esrv_threads(srv), (unsigned long)st.accepted, (unsigned long)st.echoed_bytes,
		       (unsigned long)st.sends, (unsigned long)st.enobufs, (unsigned long)st.accept_errors);
	else
		printf("ceiling: served %lu connections, echoed %lu bytes in %lu sends\n",
		       (unsigned long)st.accepted, (unsigned long)st.echoed_bytes, (unsigned long)st.sends);
	return 0;
}

int main(int argc, char **argv)
{
	struct load_opts o = {.peers = 0, .max_connecting = 1024, .msg = LOAD_PING, .inflight = 1,
			      .duration_s = 5, .connect_grace_s = 20};
	struct load_proto proto;
	ceiling_proto_init(&proto, "raw");
	const struct cr_chain *chain = cr_chain_get(CR_CHAIN_MAIN);
	struct esrv_opts so = {0};
	bool json = false, serve_only = false, src_set = false;
	unsigned nports = 1;
	static const struct option opts[] = {
		{"peers", 1, 0, 'n'}, {"inflight", 1, 0, 'k'}, {"msg-rate", 1, 0, 'm'},
		{"rate", 1, 0, 'r'}, {"duration", 1, 0, 'd'}, {"server-threads", 1, 0, 's'},
		{"threads", 1, 0, 't'}, {"live-ms", 1, 0, 'l'}, {"json", 0, 0, 'j'},
		{"serve", 0, 0, 'S'}, {"connect", 1, 0, 'c'}, {"ports", 1, 0, 'P'},
		{"pin", 0, 0, 'p'}, {"pid", 1, 0, 'i'}, {"src", 1, 0, 'a'},
		{"max-connecting", 1, 0, 'x'}, {"grace", 1, 0, 'g'}, {"transport", 1, 0, 'T'}, {"chain", 1, 0, 'C'},
		{"help", 0, 0, 'h'}, {0, 0, 0, 0}};
	int ch;
	const char *why;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'n': o.peers = (unsigned)num(optarg, "--peers"); break;
		case 'k': o.inflight = (unsigned)num(optarg, "--inflight"); break;
		case 'm': o.msg_rate = num(optarg, "--msg-rate"); break;
		case 'r': o.rate = num(optarg, "--rate"); break;
		case 'd': o.duration_s = num(optarg, "--duration"); break;
		case 's': so.threads = (unsigned)num(optarg, "--server-threads"); break;
		case 't': o.threads = (unsigned)num(optarg, "--threads"); break;
		case 'l': o.live_ms = (unsigned)num(optarg, "--live-ms"); break;
		case 'j': json = true; break;
		case 'S': serve_only = true; break;
		case 'c':
			if ((why = load_add_target(&o, optarg)))
				usage(why);
			break;
		case 'P': nports = (unsigned)num(optarg, "--ports"); break;
		case 'p': so.pin = true; break;
		case 'i': o.rss_pid = (int)num(optarg, "--pid"); break;
		case 'a':
			if ((why = load_parse_src(&o, optarg)))
				usage(why);
			src_set = true;
			break;
		case 'x': o.max_connecting = (unsigned)num(optarg, "--max-connecting"); break;
		case 'g': o.connect_grace_s = num(optarg, "--grace"); break;
		case 'T':
			if (ceiling_proto_init(&proto, optarg) < 0)
				usage("--transport is raw, v1 or v2");
			break;
		case 'C':
			if (!(chain = cr_chain_by_name(optarg)))
				usage("unknown --chain");
			break;
		default: usage(NULL);
		}
	}
	if (optind < argc)
		usage("unexpected argument");
	if (o.duration_s <= 0 || o.duration_s > 3600 || so.threads > 256 || nports == 0 ||
	    nports > ESRV_MAX_PORTS)
		usage("--duration is (0, 3600], --server-threads at most 256, --ports 1..64");
	signal(SIGPIPE, SIG_IGN);
	load_proto_strerror = cr_proto_strerror;
	so.nports = nports; /* ports 0: the first ring picks each, the others share it */
	if (serve_only) {
		if (o.ndst)
			usage("--serve takes no --connect");
		so.capacity = o.peers;
		return serve(&so, o.duration_s, json);
	}
	if (o.peers == 0 || o.peers > LOAD_MAX_PEERS || o.inflight == 0 || o.inflight > 64 ||
	    o.max_connecting == 0 || o.max_connecting > 65536)
		usage("--peers is 1..2000000, --inflight 1..64, --max-connecting 1..65536");
	if (o.rss_pid < 0 || (o.rss_pid > 0 && load_rss_kib(o.rss_pid) < 0))
		usage("--pid: no such process");
	struct esrv *srv = NULL;
	if (!o.ndst) {
		so.capacity = o.peers;
		if (esrv_start(&so, &srv) < 0)
			return 1;
		for (unsigned i = 0; i < so.nports; i++) {
			char hp[32];
			snprintf(hp, sizeof(hp), "127.0.0.1:%u", so.ports[i]);
			load_add_target(&o, hp);
		}
	}
	if (!src_set)
		load_default_sources(&o);
	o.proto = &proto;
	o.proto_arg = chain;
	struct load_result res;
	int r = load_run(&o, &res);
	if (srv)
		esrv_stop(srv);
	if (r < 0) {
		fprintf(stderr, "ceiling: %s\n", strerror(-r));
		return 1;
	}
	load_print(&o, &res, "ceiling", json);
	return res.peers_established == o.peers ? 0 : 1;
}
