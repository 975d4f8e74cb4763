/* bench/ceiling: what this machine can do with io_uring and no protocol.
 *
 * A raw echo server (one ring per thread, SO_REUSEPORT listeners, multishot
 * accept into direct descriptors, multishot recv from a provided-buffer
 * ring, each buffer echoed back as received and recycled once sent) and the
 * load client of connring-load (bench/load_client.c) speaking 32-byte
 * blocks, the size of a V1 ping, with the same load pattern. So a run prints
 * the ceiling beside connring's figures on the same machine and load.
 *
 *   ceiling --peers N [--inflight K] [--msg-rate PER_PEER_PER_S]
 *           [--rate CONNS_PER_S] [--duration SECONDS] [--server-threads T]
 *           [--threads T] [--live-ms MS] [--json]
 *
 * Loopback only; bounded by --duration; exits 0 when every peer connected. */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "bench/load/load_client.h"

#define RAW_BLOCK 32 /* bytes of a V1 ping: 24-byte header + 8-byte nonce */
#define SRV_BUFS 4096
#define SRV_BUF_SIZE 4096

/* ---- the raw protocol for the load client ---- */

struct raw_peer {
	uint8_t part[RAW_BLOCK];
	uint8_t have;
};

static int raw_start(void *tctx, void *ps, unsigned gi, struct load_sink *s)
{
	(void)tctx;
	(void)gi;
	memset(ps, 0, sizeof(struct raw_peer));
	load_ready(s); /* nothing to negotiate: the TCP connect is the handshake */
	return 0;
}

static int raw_recv(void *tctx, void *ps, const uint8_t *in, size_t len, struct load_sink *s)
{
	struct raw_peer *p = ps;
	(void)tctx;
	while (len) {
		size_t take = RAW_BLOCK - p->have;
		if (take > len)
			take = len;
		memcpy(p->part + p->have, in, take);
		p->have = (uint8_t)(p->have + take);
		in += take;
		len -= take;
		if (p->have == RAW_BLOCK) {
			uint64_t ts;
			memcpy(&ts, p->part, sizeof(ts));
			load_received(s, ts);
			p->have = 0;
		}
	}
	return 0;
}

static int raw_send(void *tctx, void *ps, enum load_msg kind, uint64_t now, struct load_sink *s)
{
	(void)tctx;
	(void)ps;
	(void)kind;
	uint8_t *o = load_out_reserve(s, RAW_BLOCK);
	if (!o)
		return -ENOMEM;
	memset(o, 0, RAW_BLOCK);
	memcpy(o, &now, sizeof(now));
	load_out_commit(s, RAW_BLOCK);
	return 0;
}

static const struct load_proto raw_proto = {
	.name = "raw",
	.peer_size = sizeof(struct raw_peer),
	.peer_start = raw_start,
	.peer_recv = raw_recv,
	.peer_send = raw_send,
};

/* ---- the echo server ---- */

enum { S_ACCEPT = 1, S_RECV, S_SEND, S_CLOSE };
#define SUD(op, a, b) ((uint64_t)(op) << 56 | (uint64_t)(b) << 32 | (uint32_t)(a))

struct sconn {
	bool open, busy, closing;
	int32_t head, tail; /* FIFO of buffer ids waiting to be echoed (-1 = none) */
	uint32_t off;       /* bytes of the head buffer already sent */
};

struct server {
	struct io_uring ring;
	struct bu_bufring br;
	struct sconn *c;
	int32_t *next;    /* FIFO links, by buffer id */
	uint32_t *blen;   /* bytes held in each buffer */
	unsigned slots;
	int lfd;
	int recycled;
	pthread_t th;
	uint64_t echoed, accepted, enobufs;
	int ready; /* atomic: 1 once the ring is up, or a negative error */
	uint64_t accept_again_ns; /* accept paused after an error (table full) */
	uint64_t accept_errors;
};

static volatile int srv_stop;

static void s_submit(struct server *s, int op, uint32_t idx, uint16_t bid, uint32_t off)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&s->ring);
	if (!sqe) {
		io_uring_submit(&s->ring);
		sqe = io_uring_get_sqe(&s->ring);
	}
	switch (op) {
	case S_ACCEPT:
		io_uring_prep_multishot_accept_direct(sqe, s->lfd, NULL, NULL, 0);
		break;
	case S_RECV:
		io_uring_prep_recv_multishot(sqe, (int)idx, NULL, 0, 0);
		sqe->flags |= IOSQE_FIXED_FILE | IOSQE_BUFFER_SELECT;
		sqe->buf_group = s->br.bgid;
		break;
	case S_SEND:
		io_uring_prep_send(sqe, (int)idx, bu_buf(&s->br, bid) + off, s->blen[bid] - off, MSG_NOSIGNAL);
		sqe->flags |= IOSQE_FIXED_FILE;
		break;
	default:
		io_uring_prep_close_direct(sqe, idx);
		break;
	}
	io_uring_sqe_set_data64(sqe, SUD(op, idx, bid));
}

/* Sends are issued one at a time per connection so bytes stay in order. */
static void s_pump(struct server *s, uint32_t idx)
{
	struct sconn *c = &s->c[idx];
	if (c->busy)
		return;
	if (c->head >= 0) {
		c->busy = true;
		s_submit(s, S_SEND, idx, (uint16_t)c->head, c->off);
	} else if (c->closing && c->open) {
		c->open = false;
		s_submit(s, S_CLOSE, idx, 0, 0);
	}
}

static void s_drop_queue(struct server *s, struct sconn *c)
{
	while (c->head >= 0) {
		int32_t b = c->head;
		c->head = s->next[b];
		bu_buf_recycle(&s->br, (unsigned)b, &s->recycled);
	}
	c->tail = -1;
}

static void s_on_recv(struct server *s, uint32_t idx, const struct io_uring_cqe *cqe)
{
	struct sconn *c = &s->c[idx];
	if (cqe->res > 0 && (cqe->flags & IORING_CQE_F_BUFFER)) {
		int32_t bid = (int32_t)(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
		s->blen[bid] = (uint32_t)cqe->res;
		s->next[bid] = -1;
		if (c->tail >= 0)
			s->next[c->tail] = bid;
		else
			c->head = bid;
		c->tail = bid;
		s_pump(s, idx);
	} else if (cqe->flags & IORING_CQE_F_BUFFER) {
		bu_buf_recycle(&s->br, cqe->flags >> IORING_CQE_BUFFER_SHIFT, &s->recycled);
	}
	if (cqe->res == -ENOBUFS) {
		s->enobufs++;
		s_submit(s, S_RECV, idx, 0, 0);
	} else if (cqe->res <= 0) {
		c->closing = true;
		s_pump(s, idx);
	} else if (!(cqe->flags & IORING_CQE_F_MORE)) {
		s_submit(s, S_RECV, idx, 0, 0);
	}
}

static void s_on_send(struct server *s, uint32_t idx, int res)
{
	struct sconn *c = &s->c[idx];
	c->busy = false;
	if (res < 0) {
		s_drop_queue(s, c);
		c->closing = true;
	} else if ((c->off += (uint32_t)res) == s->blen[c->head]) {
		int32_t b = c->head;
		c->head = s->next[b];
		if (c->head < 0)
			c->tail = -1;
		c->off = 0;
		s->echoed++;
		bu_buf_recycle(&s->br, (unsigned)b, &s->recycled);
	}
	s_pump(s, idx);
}

static int server_ring(struct server *s);

static void *server_main(void *arg)
{
	struct server *s = arg;
	/* The ring is made here: with single issuer it belongs to its creator. */
	int r = server_ring(s);
	__atomic_store_n(&s->ready, r < 0 ? r : 1, __ATOMIC_RELEASE);
	if (r < 0)
		return NULL;
	s_submit(s, S_ACCEPT, 0, 0, 0);
	while (!srv_stop) {
		if (s->accept_again_ns && bu_now_ns() >= s->accept_again_ns) {
			s->accept_again_ns = 0;
			s_submit(s, S_ACCEPT, 0, 0, 0);
		}
		struct __kernel_timespec ts = {.tv_sec = 0, .tv_nsec = 10000000};
		struct io_uring_cqe *cqe;
		io_uring_submit_and_wait_timeout(&s->ring, &cqe, 1, &ts, NULL);
		unsigned head, seen = 0;
		io_uring_for_each_cqe(&s->ring, head, cqe) {
			seen++;
			uint32_t idx = (uint32_t)cqe->user_data;
			switch (cqe->user_data >> 56) {
			case S_ACCEPT:
				if (cqe->res >= 0 && (unsigned)cqe->res < s->slots) {
					s->accepted++;
					s->c[cqe->res] = (struct sconn){.open = true, .head = -1, .tail = -1};
					s_submit(s, S_RECV, (uint32_t)cqe->res, 0, 0);
				}
				if (cqe->res < 0) {
					/* A full table (-ENFILE) or the like: back off 10 ms
					 * instead of spinning on re-armed accepts. */
					s->accept_errors++;
					s->accept_again_ns = bu_now_ns() + 10000000;
				} else if (!(cqe->flags & IORING_CQE_F_MORE)) {
					s_submit(s, S_ACCEPT, 0, 0, 0);
				}
				break;
			case S_RECV: s_on_recv(s, idx, cqe); break;
			case S_SEND: s_on_send(s, idx, cqe->res); break;
			default: break;
			}
		}
		if (s->recycled) {
			io_uring_buf_ring_advance(s->br.br, s->recycled);
			s->recycled = 0;
		}
		io_uring_cq_advance(&s->ring, seen);
	}
	return NULL;
}

static int server_init(struct server *s, uint16_t *port, unsigned slots)
{
	memset(s, 0, sizeof(*s));
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(s->lfd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(*port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	if (bind(s->lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s->lfd, 4096) < 0 ||
	    getsockname(s->lfd, (struct sockaddr *)&a, &len) < 0)
		return -errno;
	*port = ntohs(a.sin_port);
	s->slots = slots;
	return 0;
}

static int server_ring(struct server *s)
{
	int r = bu_ring_init(&s->ring, 4096);
	if (r < 0)
		return r;
	unsigned slots = s->slots;
	if ((r = io_uring_register_files_sparse(&s->ring, slots)) < 0)
		return r;
	if ((r = bu_bufring_init(&s->ring, &s->br, 0, SRV_BUFS, SRV_BUF_SIZE)) < 0)
		return r;
	s->c = calloc(slots, sizeof(*s->c));
	s->next = calloc(SRV_BUFS, sizeof(*s->next));
	s->blen = calloc(SRV_BUFS, sizeof(*s->blen));
	return s->c && s->next && s->blen ? 0 : -ENOMEM;
}

static void server_free(struct server *s)
{
	io_uring_queue_exit(&s->ring);
	close(s->lfd);
	bu_bufring_free(&s->br);
	free(s->c);
	free(s->next);
	free(s->blen);
}

/* Listeners on one port (SO_REUSEPORT), one ring thread each; returns once
 * every ring is up, or -1 after printing why. */
static int start_servers(struct server *srv, unsigned n, uint16_t *port)
{
	unsigned nofile = bu_raise_nofile();
	unsigned slots = nofile > 256 ? nofile - 128 : nofile / 2;
	for (unsigned i = 0; i < n; i++) {
		int r = server_init(&srv[i], port, slots);
		if (r < 0) {
			fprintf(stderr, "ceiling: server setup: %s\n", strerror(-r));
			return -1;
		}
	}
	for (unsigned i = 0; i < n; i++)
		pthread_create(&srv[i].th, NULL, server_main, &srv[i]);
	for (unsigned i = 0; i < n; i++) {
		int st;
		while ((st = __atomic_load_n(&srv[i].ready, __ATOMIC_ACQUIRE)) == 0)
			usleep(1000);
		if (st < 0) {
			fprintf(stderr, "ceiling: server ring: %s\n", strerror(-st));
			return -1;
		}
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: ceiling --peers N [--inflight K] [--msg-rate PER_PEER_PER_S] "
			"[--rate CONNS_PER_S] [--duration SECONDS] [--server-threads T] [--threads T] "
			"[--live-ms MS] [--json]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct load_opts o = {.peers = 0, .max_connecting = 512, .msg = LOAD_PING, .inflight = 1,
			      .duration_s = 5, .connect_grace_s = 20, .proto = &raw_proto};
	unsigned server_threads = (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
	bool json = false;
	static const struct option opts[] = {
		{"peers", 1, 0, 'n'}, {"inflight", 1, 0, 'k'}, {"msg-rate", 1, 0, 'm'},
		{"rate", 1, 0, 'r'}, {"duration", 1, 0, 'd'}, {"server-threads", 1, 0, 's'},
		{"threads", 1, 0, 't'}, {"live-ms", 1, 0, 'l'}, {"json", 0, 0, 'j'}, {0, 0, 0, 0}};
	int ch;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'n': o.peers = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'k': o.inflight = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'm': o.msg_rate = strtod(optarg, NULL); break;
		case 'r': o.rate = strtod(optarg, NULL); break;
		case 'd': o.duration_s = strtod(optarg, NULL); break;
		case 's': server_threads = (unsigned)strtoul(optarg, NULL, 10); break;
		case 't': o.threads = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'l': o.live_ms = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'j': json = true; break;
		default: usage();
		}
	}
	if (o.peers == 0 || o.peers > 1000000 || o.inflight == 0 || o.inflight > 64 ||
	    o.duration_s <= 0 || o.duration_s > 3600 || server_threads == 0 || server_threads > 64)
		usage();
	signal(SIGPIPE, SIG_IGN);
	struct server *srv = calloc(server_threads, sizeof(*srv));
	uint16_t port = 0;
	if (!srv || start_servers(srv, server_threads, &port) < 0)
		return 1;
	struct sockaddr_in *dst = (struct sockaddr_in *)&o.dst;
	dst->sin_family = AF_INET;
	dst->sin_port = htons(port);
	dst->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	o.dst_len = sizeof(*dst);
	struct load_result res;
	int r = load_run(&o, &res);
	srv_stop = 1;
	for (unsigned i = 0; i < server_threads; i++) {
		pthread_join(srv[i].th, NULL);
		server_free(&srv[i]);
	}
	free(srv);
	if (r < 0) {
		fprintf(stderr, "ceiling: %s\n", strerror(-r));
		return 1;
	}
	load_print(&o, &res, "ceiling", json);
	return res.peers_established == o.peers ? 0 : 1;
}
