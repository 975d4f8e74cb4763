/* connring-flood: an inbound connection flood from one netgroup, to measure
 * and test connringd's flood defence and eviction.
 *
 *   connring-flood --connect HOST:PORT --conns N [--from A.B] [--mode idle|v1|v2]
 *       [--concurrency K] [--rate CONNS_PER_S] [--hold-ms MS] [--duration S]
 *       [--chain NAME] [--json]
 *
 * It opens N connections, one after another (at most K open at once, at most
 * --rate new ones a second), all from source addresses inside one /16
 * (A.B.x.y, default 127.200: one netgroup for the node), and on each:
 *   idle  sends nothing (a slot holder)
 *   v1    sends version and verack at once (a peer that completes the V1
 *         handshake and then never answers)
 *   v2    sends 64 random bytes, which any BIP324 responder must decode as
 *         an ElligatorSwift key and answer with an ECDH: the costliest
 *         thing a connection can make a node do
 * It reads and discards what the node sends, keeps each connection until
 * the node closes it or --hold-ms passes, and prints (one JSON object with
 * --json) how many connected, how many the node answered (it admitted them),
 * how many the node closed before saying anything (refused at accept) and
 * how many it closed later (evicted or timed out). Loopback only; bounded in
 * connections, concurrency and time; exits 0 unless the run itself failed. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "proto/chain.h"
#include "proto/msg.h"
#include "proto/v1.h"

#define MAX_CONNS 200000
#define MAX_CONCURRENCY 15000
#define MAX_DURATION_S 600

enum mode { M_IDLE, M_V1, M_V2 };

struct conn {
	int fd;                 /* -1: free */
	unsigned serial;        /* which attempt holds the slot */
	int64_t opened_ns;
	uint64_t got;           /* bytes from the node */
	bool connected;
};

struct opts {
	struct sockaddr_in dst;
	unsigned conns, concurrency, hold_ms, duration_s;
	double rate;
	uint8_t from[2];
	enum mode mode;
	const struct cr_chain *chain;
	bool json;
};

struct counts {
	unsigned attempted, connect_failed, connected, answered, closed_silent, closed_after,
		held, max_open;
	uint64_t bytes_in;
};

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void usage(const char *why)
{
	if (why)
		fprintf(stderr, "connring-flood: %s\n", why);
	fprintf(stderr,
		"usage: connring-flood --connect HOST:PORT --conns N [--from A.B] [--mode idle|v1|v2]\n"
		"         [--concurrency K] [--rate CONNS_PER_S] [--hold-ms MS] [--duration S]\n"
		"         [--chain main|test|testnet4|signet|regtest] [--json]\n"
		"  Loopback only; at most %d connections, %d open at once, %d s.\n",
		MAX_CONNS, MAX_CONCURRENCY, MAX_DURATION_S);
	exit(2);
}

static unsigned number(const char *s, unsigned max, const char *what)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (!*s || *end || v > max) {
		fprintf(stderr, "connring-flood: bad %s '%s' (0..%u)\n", what, s, max);
		exit(2);
	}
	return (unsigned)v;
}

static void parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{"connect", 1, 0, 'c'}, {"conns", 1, 0, 'n'}, {"from", 1, 0, 'f'},
		{"mode", 1, 0, 'm'}, {"concurrency", 1, 0, 'k'}, {"rate", 1, 0, 'r'},
		{"hold-ms", 1, 0, 'H'}, {"duration", 1, 0, 'd'}, {"chain", 1, 0, 'C'},
		{"json", 0, 0, 'j'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
	memset(o, 0, sizeof *o);
	o->concurrency = 1000;
	o->hold_ms = 10000;
	o->duration_s = 60;
	o->from[0] = 127;
	o->from[1] = 200;
	o->mode = M_V1;
	o->chain = cr_chain_by_name("regtest");
	const char *connect = NULL;
	int ch;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'c': connect = optarg; break;
		case 'n': o->conns = number(optarg, MAX_CONNS, "--conns"); break;
		case 'k': o->concurrency = number(optarg, MAX_CONCURRENCY, "--concurrency"); break;
		case 'H': o->hold_ms = number(optarg, MAX_DURATION_S * 1000, "--hold-ms"); break;
		case 'd': o->duration_s = number(optarg, MAX_DURATION_S, "--duration"); break;
		case 'r': o->rate = strtod(optarg, NULL); break;
		case 'j': o->json = true; break;
		case 'C':
			if (!(o->chain = cr_chain_by_name(optarg)))
				usage("unknown --chain");
			break;
		case 'm':
			if (!strcmp(optarg, "idle")) o->mode = M_IDLE;
			else if (!strcmp(optarg, "v1")) o->mode = M_V1;
			else if (!strcmp(optarg, "v2")) o->mode = M_V2;
			else usage("--mode is idle, v1 or v2");
			break;
		case 'f': {
			unsigned a, b;
			if (sscanf(optarg, "%u.%u", &a, &b) != 2 || a != 127 || b > 255)
				usage("--from takes 127.B (loopback only)");
			o->from[0] = (uint8_t)a;
			o->from[1] = (uint8_t)b;
			break;
		}
		default: usage(NULL);
		}
	}
	if (!connect || !o->conns || !o->concurrency)
		usage("--connect, --conns and a non-zero --concurrency are required");
	char host[64];
	unsigned port;
	const char *colon = strrchr(connect, ':');
	if (!colon || (size_t)(colon - connect) >= sizeof host)
		usage("--connect takes IPV4:PORT");
	memcpy(host, connect, (size_t)(colon - connect));
	host[colon - connect] = 0;
	port = number(colon + 1, 65535, "port");
	o->dst.sin_family = AF_INET;
	o->dst.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &o->dst.sin_addr) != 1 || ((uint8_t *)&o->dst.sin_addr)[0] != 127)
		usage("--connect must be a 127.x.x.x address (loopback only)");
	if (o->rate < 0 || o->rate > 1e6)
		usage("--rate out of range");
}

/* What a connection sends first. */
static size_t hello(const struct opts *o, uint8_t *buf, size_t cap)
{
	if (o->mode == M_IDLE)
		return 0;
	if (o->mode == M_V2) {
		if (getrandom(buf, 64, 0) != 64)
			return 0;
		return 64;
	}
	struct cr_version v;
	memset(&v, 0, sizeof v);
	v.version = 70016;
	v.timestamp = (int64_t)time(NULL);
	v.addr_recv.ip[10] = v.addr_recv.ip[11] = 0xff;
	memcpy(v.addr_recv.ip + 12, &o->dst.sin_addr, 4);
	v.addr_recv.port = ntohs(o->dst.sin_port);
	if (getrandom(&v.nonce, sizeof v.nonce, 0) != sizeof v.nonce)
		return 0;
	static const char ua[] = "/connring-flood/";
	v.user_agent_len = sizeof ua - 1;
	memcpy(v.user_agent, ua, sizeof ua);
	v.relay = true;
	int n = cr_msg_version_encode(buf + CR_V1_HEADER_SIZE, cap - CR_V1_HEADER_SIZE, &v);
	if (n < 0)
		return 0;
	int m = cr_v1_encode(buf, cap, o->chain->magic, "version", (uint32_t)n);
	if (m < 0 || (size_t)m + CR_V1_HEADER_SIZE > cap)
		return 0;
	int k = cr_v1_encode(buf + m, cap - (size_t)m, o->chain->magic, "verack", 0);
	return k < 0 ? 0 : (size_t)(m + k);
}

static int open_one(const struct opts *o, unsigned i, struct conn *c)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct sockaddr_in src = { .sin_family = AF_INET };
	uint8_t *b = (uint8_t *)&src.sin_addr;
	b[0] = o->from[0];
	b[1] = o->from[1];
	b[2] = (uint8_t)(1 + (i / 250) % 250);
	b[3] = (uint8_t)(1 + i % 250);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	/* close with RST: no TIME_WAIT pile-up over a long flood */
	struct linger lg = { 1, 0 };
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	if (bind(fd, (struct sockaddr *)&src, sizeof src) < 0 ||
	    (connect(fd, (const struct sockaddr *)&o->dst, sizeof o->dst) < 0 && errno != EINPROGRESS)) {
		int err = -errno;
		close(fd);
		return err;
	}
	c->fd = fd;
	c->opened_ns = now_ns();
	c->got = 0;
	c->connected = false;
	return 0;
}

static unsigned open_now;

static void finish(struct conn *c, struct counts *n, bool by_node)
{
	open_now--;
	if (by_node) {
		if (c->got)
			n->closed_after++;
		else
			n->closed_silent++;
	} else {
		n->held++;
	}
	if (c->got)
		n->answered++;
	close(c->fd);
	c->fd = -1;
}

static void on_event(const struct opts *o, struct conn *c, uint32_t ev, struct counts *n)
{
	if (!c->connected && (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
		int err = 0;
		socklen_t len = sizeof err;
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err) {
			n->connect_failed++;
			close(c->fd);
			c->fd = -1;
			open_now--;
			return;
		}
		c->connected = true;
		n->connected++;
		uint8_t buf[512];
		size_t len2 = hello(o, buf, sizeof buf);
		if (len2 && send(c->fd, buf, len2, MSG_NOSIGNAL) < 0 && errno != EAGAIN) {
			finish(c, n, true);
			return;
		}
	}
	if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
		uint8_t buf[4096];
		for (;;) {
			ssize_t r = recv(c->fd, buf, sizeof buf, 0);
			if (r > 0) {
				c->got += (uint64_t)r;
				n->bytes_in += (uint64_t)r;
				continue;
			}
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				return;
			finish(c, n, true); /* EOF or reset: the node closed it */
			return;
		}
	}
}

static void report(const struct opts *o, const struct counts *n, double secs)
{
	static const char *const modes[] = { "idle", "v1", "v2" };
	if (o->json) {
		printf("{\"mode\":\"%s\",\"attempted\":%u,\"connect_failed\":%u,\"connected\":%u,"
		       "\"answered\":%u,\"closed_silent\":%u,\"closed_after_answer\":%u,\"held\":%u,"
		       "\"max_open\":%u,\"bytes_in\":%llu,\"seconds\":%.2f}\n",
		       modes[o->mode], n->attempted, n->connect_failed, n->connected, n->answered,
		       n->closed_silent, n->closed_after, n->held, n->max_open,
		       (unsigned long long)n->bytes_in, secs);
		return;
	}
	printf("connring-flood %s from %u.%u/16: %u attempted, %u connected (%u failed), "
	       "%u answered by the node, %u closed by it unanswered, %u closed after an answer, "
	       "%u held to the end; at most %u open; %.1f s\n",
	       modes[o->mode], o->from[0], o->from[1], n->attempted, n->connected, n->connect_failed,
	       n->answered, n->closed_silent, n->closed_after, n->held, n->max_open, secs);
}

int main(int argc, char **argv)
{
	struct opts o;
	parse(argc, argv, &o);
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < o.concurrency + 64) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur < o.concurrency + 64)
			o.concurrency = (unsigned)rl.rlim_cur - 64;
	}
	struct conn *cs = calloc(o.concurrency, sizeof *cs);
	/* open order, for the hold: (slot, serial) pairs; an entry whose slot
	 * was closed (and maybe reused) since is skipped when it comes up */
	struct qe {
		unsigned slot, serial;
	} *order = calloc((size_t)o.conns + 1, sizeof *order);
	struct epoll_event *evs = calloc(1024, sizeof *evs);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (!cs || !order || !evs || ep < 0) {
		fprintf(stderr, "connring-flood: out of memory\n");
		return 1;
	}
	for (unsigned i = 0; i < o.concurrency; i++)
		cs[i].fd = -1;
	struct counts n = { 0 };
	size_t head = 0, tail = 0; /* order[head..tail) */
	const int64_t start = now_ns(), end = start + (int64_t)o.duration_s * 1000000000;
	const int64_t hold = (int64_t)o.hold_ms * 1000000;
	unsigned next_free = 0;
	while (now_ns() < end) {
		int64_t t = now_ns();
		/* open more, within the concurrency and the rate */
		while (n.attempted < o.conns && open_now < o.concurrency &&
		       (o.rate <= 0 || n.attempted < (double)(t - start) / 1e9 * o.rate + 1)) {
			while (cs[next_free].fd >= 0)
				next_free = (next_free + 1) % o.concurrency;
			struct conn *c = &cs[next_free];
			n.attempted++;
			int rc = open_one(&o, n.attempted, c);
			c->serial = n.attempted;
			if (rc < 0) {
				n.connect_failed++;
				if (rc == -EMFILE || rc == -ENFILE || rc == -EADDRNOTAVAIL)
					break;
				continue;
			}
			struct epoll_event ev = { EPOLLIN | EPOLLOUT | EPOLLRDHUP, { .u32 = next_free } };
			epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
			order[tail++] = (struct qe){ next_free, c->serial };
			open_now++;
			if (open_now > n.max_open)
				n.max_open = open_now;
		}
		/* expire the oldest ones past the hold */
		while (head < tail) {
			struct conn *c = &cs[order[head].slot];
			bool live = c->fd >= 0 && c->serial == order[head].serial;
			if (live && t - c->opened_ns < hold)
				break;
			if (live)
				finish(c, &n, false);
			head++;
		}
		if (n.attempted >= o.conns && !open_now)
			break;
		int k = epoll_wait(ep, evs, 1024, 5);
		for (int i = 0; i < k; i++) {
			struct conn *c = &cs[evs[i].data.u32];
			if (c->fd < 0)
				continue;
			on_event(&o, c, evs[i].events, &n);
			if (c->connected && c->fd >= 0) {
				struct epoll_event ev = { EPOLLIN | EPOLLRDHUP, { .u32 = evs[i].data.u32 } };
				epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
			}
		}
	}
	for (unsigned i = 0; i < o.concurrency; i++)
		if (cs[i].fd >= 0)
			finish(&cs[i], &n, false);
	report(&o, &n, (double)(now_ns() - start) / 1e9);
	close(ep);
	free(cs);
	free(order);
	free(evs);
	return 0;
}
