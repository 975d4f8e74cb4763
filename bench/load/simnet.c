/* simnet: a simulated Bitcoin network on loopback, for system tests of the
 * open-connections scheduler and address discovery (issue 8).
 *
 *   simnet --nodes 300 --groups 60 --unreachable 0.1 --chain regtest
 *          [--port P] [--getaddr N] [--v2-share F] [--seed S]
 *          [--dns-hosts FILE --seed-name NAME [--seed-count K]]
 *          [--ready-file FILE] [--duration S]
 *
 * Fake node i lives at 127.(20 + i % groups).(i / groups).1 (so with
 * CR_NETGROUP_LOOPBACK_ROUTABLE each of the first `groups` nodes is in a
 * /16 of its own), on the chain's port unless --port. A share of them
 * (--unreachable) does not listen: they are only gossiped, so connection
 * attempts to them fail as to dead addresses do. Every listening node
 * speaks V1 and V2 (transport responder with V1 detection), completes
 * version/verack, answers getaddr with --getaddr addresses of other fake
 * nodes and ignores the rest. With --dns-hosts, a hosts file for dnsmasq
 * maps NAME and x9.NAME to K nodes (mostly reachable), so a real DNS
 * server can act as the DNS seed. Commands on standard input, one per
 * line: "block [N]" makes N (default all) handshaked connections announce
 * one new random block hash in an inv; "stats" prints a JSON line;
 * "quit" ends. It stops by itself after --duration seconds (default 120)
 * and prints the JSON statistics line at exit. Single-threaded, epoll;
 * binds only 127.0.0.0/8. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench/load/simnet.h"

#define MAX_CONNS 4096

static struct sim_conn conns[MAX_CONNS];
static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void usage(void)
{
	fprintf(stderr, "usage: simnet [--nodes N] [--groups G] [--unreachable F] [--chain NAME]\n"
			"              [--port P] [--getaddr N] [--v2-share F] [--seed S]\n"
			"              [--dns-hosts FILE --seed-name NAME [--seed-count K]]\n"
			"              [--ready-file FILE] [--duration S]\n");
	exit(2);
}

static void node_text(const struct sim_node *n, char *out, size_t cap)
{
	snprintf(out, cap, "%u.%u.%u.%u", n->addr.addr[0], n->addr.addr[1], n->addr.addr[2],
		 n->addr.addr[3]);
}

static int listen_on(const struct sim_node *n)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(n->port)};
	memcpy(&sa.sin_addr, n->addr.addr, 4);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 128) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int write_hosts(struct sim *s, const char *path, const char *name, unsigned count)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	/* mostly reachable nodes, and one dead one per ten, as a real seed's
	 * list has */
	unsigned written = 0;
	for (unsigned i = 0; i < s->nnodes && written < count; i++) {
		const struct sim_node *n = &s->nodes[i];
		if (!n->reachable && written % 10 != 9)
			continue;
		char ip[32];
		node_text(n, ip, sizeof ip);
		fprintf(f, "%s %s x9.%s\n", ip, name, name);
		written++;
	}
	return fclose(f) == 0 ? 0 : -1;
}

static void print_stats(struct sim *s)
{
	unsigned conns_n = 0, hs = 0, ga = 0, touched = 0;
	for (unsigned i = 0; i < s->nnodes; i++) {
		conns_n += s->nodes[i].conns;
		hs += s->nodes[i].handshakes;
		ga += s->nodes[i].getaddrs;
		touched += s->nodes[i].conns > 0;
	}
	printf("{\"nodes\":%u,\"connections\":%u,\"handshakes\":%u,\"getaddr_answers\":%u,"
	       "\"nodes_contacted\":%u,\"blocks_announced\":%u}\n",
	       s->nnodes, conns_n, hs, ga, touched, s->blocks_announced);
	fflush(stdout);
}

static void close_conn(int ep, struct sim_conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	sim_conn_free(c);
}

static void flush_conn(int ep, struct sim_conn *c)
{
	while (c->out_len) {
		ssize_t n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			close_conn(ep, c);
			return;
		}
		memmove(c->out, c->out + n, c->out_len - (size_t)n);
		c->out_len -= (size_t)n;
	}
	struct epoll_event ev = {.events = EPOLLIN | (c->out_len ? EPOLLOUT : 0u),
				 .data.u64 = (uint64_t)(c - conns) + 1u};
	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void accept_on(struct sim *s, int ep, unsigned node)
{
	for (;;) {
		int fd = accept4(s->nodes[node].lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		struct sim_conn *c = NULL;
		for (unsigned i = 0; i < MAX_CONNS && !c; i++)
			if (conns[i].fd < 0)
				c = &conns[i];
		if (!c || (c->fd = fd, c->node = node, sim_conn_start(s, c) < 0)) {
			if (c)
				sim_conn_free(c);
			close(fd);
			continue;
		}
		node_text(&s->nodes[node], c->peer, sizeof c->peer);
		s->nodes[node].conns++;
		struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)(c - conns) + 1u};
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	}
}

static void announce_block(struct sim *s, int ep, unsigned limit)
{
	uint8_t inv[1 + 36];
	inv[0] = 1;
	inv[1] = 2; /* MSG_BLOCK, little-endian u32 */
	inv[2] = inv[3] = inv[4] = 0;
	for (int i = 0; i < 32; i++)
		inv[5 + i] = (uint8_t)sim_rand(s);
	unsigned sent = 0;
	for (unsigned i = 0; i < MAX_CONNS && sent < limit; i++) {
		struct sim_conn *c = &conns[i];
		if (c->fd < 0 || !c->ready)
			continue;
		if (sim_conn_send(s, c, "inv", inv, sizeof inv) == 0) {
			sent++;
			flush_conn(ep, c);
		}
	}
	s->blocks_announced++;
	printf("block announced to %u\n", sent);
	fflush(stdout);
}

static void on_command(struct sim *s, int ep, char *line)
{
	unsigned n = MAX_CONNS;
	if (!strncmp(line, "block", 5)) {
		if (sscanf(line + 5, "%u", &n) != 1)
			n = MAX_CONNS;
		announce_block(s, ep, n);
	} else if (!strncmp(line, "stats", 5)) {
		print_stats(s);
	} else if (!strncmp(line, "quit", 4)) {
		stop_flag = 1;
	}
}

static void read_stdin(struct sim *s, int ep)
{
	static char buf[4096];
	static size_t len;
	ssize_t n = read(0, buf + len, sizeof buf - 1 - len);
	if (n <= 0) {
		epoll_ctl(ep, EPOLL_CTL_DEL, 0, NULL); /* EOF: no more commands */
		return;
	}
	len += (size_t)n;
	buf[len] = '\0';
	char *nl;
	while ((nl = strchr(buf, '\n'))) {
		*nl = '\0';
		on_command(s, ep, buf);
		len -= (size_t)(nl + 1 - buf);
		memmove(buf, nl + 1, len + 1);
	}
	if (len == sizeof buf - 1)
		len = 0; /* an overlong line: dropped */
}

static void on_conn_event(struct sim *s, int ep, struct sim_conn *c, uint32_t events)
{
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		uint8_t buf[65536];
		ssize_t n = recv(c->fd, buf, sizeof buf, 0);
		if (n == 0 || (n < 0 && errno != EAGAIN) ||
		    (n > 0 && sim_conn_recv(s, c, buf, (size_t)n) < 0)) {
			close_conn(ep, c);
			return;
		}
	}
	flush_conn(ep, c);
}

int main(int argc, char **argv)
{
	unsigned nnodes = 300, groups = 60, seed_count = 25, duration = 120;
	double unreachable = 0.1, v2_share = 0.5;
	const char *chain = "regtest", *hosts = NULL, *seed_name = NULL, *ready = NULL;
	int port = 0;
	struct sim s;
	memset(&s, 0, sizeof s);
	s.getaddr_count = 25;
	s.rng = 0x5eed;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			usage();
		i++;
		if (!strcmp(a, "--nodes")) nnodes = (unsigned)atoi(v);
		else if (!strcmp(a, "--groups")) groups = (unsigned)atoi(v);
		else if (!strcmp(a, "--unreachable")) unreachable = atof(v);
		else if (!strcmp(a, "--chain")) chain = v;
		else if (!strcmp(a, "--port")) port = atoi(v);
		else if (!strcmp(a, "--getaddr")) s.getaddr_count = (unsigned)atoi(v);
		else if (!strcmp(a, "--v2-share")) v2_share = atof(v);
		else if (!strcmp(a, "--seed")) s.rng = strtoull(v, NULL, 0) | 1;
		else if (!strcmp(a, "--dns-hosts")) hosts = v;
		else if (!strcmp(a, "--seed-name")) seed_name = v;
		else if (!strcmp(a, "--seed-count")) seed_count = (unsigned)atoi(v);
		else if (!strcmp(a, "--ready-file")) ready = v;
		else if (!strcmp(a, "--duration")) duration = (unsigned)atoi(v);
		else usage();
	}
	s.chain = cr_chain_by_name(chain);
	if (!s.chain || nnodes == 0 || nnodes > 60000 || groups == 0 || groups > 200 ||
	    port < 0 || port > 65535 || (hosts && !seed_name))
		usage();
	uint8_t seed32[32];
	if (getrandom(seed32, sizeof seed32, 0) != sizeof seed32 || !(s.secp = cr_secp_new(seed32)))
		return 1;
	s.nnodes = nnodes;
	s.nodes = calloc(nnodes, sizeof *s.nodes);
	if (!s.nodes)
		return 1;
	for (unsigned i = 0; i < MAX_CONNS; i++)
		conns[i].fd = -1;
	int ep = epoll_create1(EPOLL_CLOEXEC);
	unsigned listening = 0;
	for (unsigned i = 0; i < nnodes; i++) {
		struct sim_node *n = &s.nodes[i];
		n->addr.net = CR_NET_IPV4;
		n->addr.len = 4;
		n->addr.addr[0] = 127;
		n->addr.addr[1] = (uint8_t)(20 + i % groups);
		n->addr.addr[2] = (uint8_t)(i / groups);
		n->addr.addr[3] = 1;
		n->port = port ? (uint16_t)port : s.chain->default_port;
		n->reachable = (double)(sim_rand(&s) % 10000) >= unreachable * 10000;
		n->v2_bit = (double)(sim_rand(&s) % 10000) < v2_share * 10000;
		n->lfd = -1;
		if (!n->reachable)
			continue;
		n->lfd = listen_on(n);
		if (n->lfd < 0) {
			perror("simnet: bind");
			return 1;
		}
		struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)MAX_CONNS + 1 + i};
		epoll_ctl(ep, EPOLL_CTL_ADD, n->lfd, &ev);
		listening++;
	}
	if (hosts && write_hosts(&s, hosts, seed_name, seed_count) < 0) {
		perror("simnet: hosts file");
		return 1;
	}
	struct epoll_event in_ev = {.events = EPOLLIN, .data.u64 = 0};
	fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
	epoll_ctl(ep, EPOLL_CTL_ADD, 0, &in_ev);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	printf("simnet: %u nodes (%u listening) in %u groups on port %u\n", nnodes, listening,
	       groups, s.nodes[0].port);
	fflush(stdout);
	if (ready) {
		FILE *f = fopen(ready, "w");
		if (f)
			fclose(f);
	}
	int64_t end = now_ms() + (int64_t)duration * 1000;
	while (!stop_flag && now_ms() < end) {
		struct epoll_event evs[64];
		int n = epoll_wait(ep, evs, 64, 200);
		for (int k = 0; k < n; k++) {
			uint64_t d = evs[k].data.u64;
			if (d == 0)
				read_stdin(&s, ep);
			else if (d <= MAX_CONNS)
				on_conn_event(&s, ep, &conns[d - 1], evs[k].events);
			else
				accept_on(&s, ep, (unsigned)(d - MAX_CONNS - 1));
		}
	}
	print_stats(&s);
	for (unsigned i = 0; i < MAX_CONNS; i++)
		if (conns[i].fd >= 0)
			close_conn(ep, &conns[i]);
	for (unsigned i = 0; i < nnodes; i++)
		if (s.nodes[i].lfd >= 0)
			close(s.nodes[i].lfd);
	free(s.nodes);
	cr_secp_free(s.secp);
	return 0;
}
