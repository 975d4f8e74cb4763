/* The io_uring client loop of the bench/ load tools; see load_client.h.
 * One ring per thread, each owning a contiguous range of peers; the main
 * thread only starts, watches (live line, RSS) and merges. Counters a
 * thread owns are written with relaxed atomic stores so the main thread may
 * read them while it runs. */
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench/load/load_client.h"

enum { ST_IDLE, ST_CONNECTING, ST_HANDSHAKE, ST_READY, ST_DEAD };
enum { OP_CONNECT = 1, OP_RECV, OP_SEND, OP_CLOSE };

#define UD(op, idx) ((uint64_t)(op) << 32 | (uint32_t)(idx))
#define OUT_BLOCK (8u << 20) /* stop queueing to a peer this far behind */
#define RING_ENTRIES 4096
#define BUFS 4096
#define BUF_SIZE 4096

#define SET(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define INC(x) SET(x, (x) + 1)
#define GET(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

struct obuf {
	uint8_t *p;
	uint32_t len, off, cap;
};

struct lpeer {
	uint8_t state;
	bool send_busy;
	uint32_t inflight; /* closed loop: timed messages awaiting replies */
	uint64_t t0_ns;
	struct obuf fill, wire; /* filled by hooks / owned by the kernel's send */
	void *ps;
};

struct shared {
	const struct load_opts *o;
	unsigned nthreads;
	unsigned connected_threads; /* atomic */
	uint64_t hold_start_ns;     /* atomic; 0 until every ring finished connecting */
	uint64_t t_begin_ns;
	unsigned finished;          /* atomic */
};

struct lthread {
	struct shared *sh;
	unsigned index, first, n;
	struct io_uring ring;
	struct bu_bufring br;
	struct lpeer *peers;
	uint8_t *psmem;
	void *tctx;
	pthread_t th;
	int err;
	/* progress (owned by this thread, read by main) */
	unsigned started, connecting, ready, dead;
	uint64_t last_ready_ns;
	uint64_t msgs_sent, msgs_recv, errors, enobufs, send_blocked;
	uint64_t hold_sent0, hold_recv0;
	uint64_t sched_sent;
	unsigned rr;
	bool holding, done_connecting, stopping;
	uint64_t hold_end_ns;
	int first_err;
	int pending_closes;
	struct bu_hist hs_us, rtt_us;
};

static struct io_uring_sqe *sqe_get(struct lthread *t)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&t->ring);
	if (!sqe) {
		io_uring_submit(&t->ring);
		sqe = io_uring_get_sqe(&t->ring);
	}
	return sqe;
}

/* ---- output buffers ---- */

uint8_t *load_out_reserve(struct load_sink *s, size_t n)
{
	struct obuf *b = &s->thr->peers[s->peer].fill;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 512;
		while (cap < b->len + n)
			cap *= 2;
		uint8_t *p = realloc(b->p, cap);
		if (!p)
			return NULL;
		b->p = p;
		b->cap = (uint32_t)cap;
	}
	return b->p + b->len;
}

void load_out_commit(struct load_sink *s, size_t n)
{
	s->thr->peers[s->peer].fill.len += (uint32_t)n;
}

/* The kernel owns wire while a send is in flight; hooks fill the other
 * buffer, which is swapped in when the send completes. */
static void flush(struct lthread *t, uint32_t idx)
{
	struct lpeer *p = &t->peers[idx];
	if (p->send_busy || p->state == ST_DEAD)
		return;
	if (p->wire.off == p->wire.len) {
		if (!p->fill.len)
			return;
		struct obuf tmp = p->wire;
		p->wire = p->fill;
		p->fill = tmp;
		p->fill.len = p->fill.off = 0;
		/* A 1 MiB blob buffer is not kept around by an idle peer. */
		if (p->fill.cap > 65536) {
			free(p->fill.p);
			p->fill.p = NULL;
			p->fill.cap = 0;
		}
	}
	struct io_uring_sqe *sqe = sqe_get(t);
	io_uring_prep_send(sqe, (int)idx, p->wire.p + p->wire.off, p->wire.len - p->wire.off,
			   MSG_NOSIGNAL);
	sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data64(sqe, UD(OP_SEND, idx));
	p->send_busy = true;
}

/* ---- peer lifecycle ---- */

/* err: 0 for a normal close, else why (-errno, a protocol's negative code,
 * or LOAD_ERR_EOF); the first one is kept for the summary. */

static void kill_peer(struct lthread *t, uint32_t idx, int err)
{
	bool is_error = err != 0;
	if (is_error && !t->first_err && t->peers[idx].state != ST_DEAD)
		t->first_err = err;
	struct lpeer *p = &t->peers[idx];
	if (p->state == ST_DEAD || p->state == ST_IDLE)
		return;
	if (p->state == ST_READY)
		SET(t->ready, t->ready - 1);
	if (p->state == ST_CONNECTING)
		t->connecting--;
	p->state = ST_DEAD;
	INC(t->dead);
	if (is_error)
		INC(t->errors);
	/* Shutdown ends the multishot recv; close frees the table slot. */
	struct io_uring_sqe *sqe = sqe_get(t);
	io_uring_prep_shutdown(sqe, (int)idx, SHUT_RDWR);
	sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data64(sqe, 0);
	sqe = sqe_get(t);
	io_uring_prep_close_direct(sqe, idx);
	io_uring_sqe_set_data64(sqe, UD(OP_CLOSE, idx));
	t->pending_closes++;
}

static int open_socket(struct lthread *t, uint32_t idx)
{
	const struct load_opts *o = t->sh->o;
	int fam = o->dst.ss_family;
	int fd = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (fam == AF_INET) {
		/* Spread over 127.0.0.2.. so no source address runs out of
		 * ports; the port is picked at connect time (4-tuple unique). */
		unsigned g = t->first + idx;
		struct sockaddr_in src = {.sin_family = AF_INET};
		src.sin_addr.s_addr = htonl(0x7f000000u | (2 + (g / 8000) % 250));
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0) {
			int e = -errno;
			close(fd);
			return e;
		}
	}
	int r = io_uring_register_files_update(&t->ring, idx, &fd, 1);
	close(fd); /* the table holds its own reference */
	return r < 0 ? r : 0;
}

static void start_peer(struct lthread *t, uint32_t idx, uint64_t now)
{
	struct lpeer *p = &t->peers[idx];
	const struct load_opts *o = t->sh->o;
	INC(t->started);
	p->t0_ns = now;
	int r = open_socket(t, idx);
	if (r < 0) {
		p->state = ST_DEAD;
		INC(t->dead);
		INC(t->errors);
		if (!t->first_err)
			t->first_err = r;
		return;
	}
	p->state = ST_CONNECTING;
	t->connecting++;
	struct io_uring_sqe *sqe = sqe_get(t);
	io_uring_prep_connect(sqe, (int)idx, (const struct sockaddr *)&o->dst, o->dst_len);
	sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data64(sqe, UD(OP_CONNECT, idx));
}

static void arm_recv(struct lthread *t, uint32_t idx)
{
	struct io_uring_sqe *sqe = sqe_get(t);
	io_uring_prep_recv_multishot(sqe, (int)idx, NULL, 0, 0);
	sqe->flags |= IOSQE_FIXED_FILE | IOSQE_BUFFER_SELECT;
	sqe->buf_group = t->br.bgid;
	io_uring_sqe_set_data64(sqe, UD(OP_RECV, idx));
}

void load_ready(struct load_sink *s)
{
	struct lthread *t = s->thr;
	struct lpeer *p = &t->peers[s->peer];
	if (p->state != ST_HANDSHAKE)
		return;
	p->state = ST_READY;
	uint64_t now = bu_now_ns();
	bu_hist_add(&t->hs_us, (now - p->t0_ns) / 1000);
	SET(t->last_ready_ns, now);
	SET(t->ready, t->ready + 1);
}

static int send_one(struct lthread *t, uint32_t idx, uint64_t now)
{
	struct lpeer *p = &t->peers[idx];
	const struct load_opts *o = t->sh->o;
	if (p->fill.len > OUT_BLOCK) {
		INC(t->send_blocked);
		return 0;
	}
	struct load_sink s = {t, idx};
	int r = o->proto->peer_send(t->tctx, p->ps, o->msg, now, &s);
	if (r < 0) {
		kill_peer(t, idx, r);
		return r;
	}
	INC(t->msgs_sent);
	if (o->msg == LOAD_PING)
		p->inflight++;
	flush(t, idx);
	return 1;
}

void load_received(struct load_sink *s, uint64_t sent_ns)
{
	struct lthread *t = s->thr;
	struct lpeer *p = &t->peers[s->peer];
	INC(t->msgs_recv);
	if (!sent_ns || !t->holding)
		return;
	uint64_t now = bu_now_ns();
	bu_hist_add(&t->rtt_us, now > sent_ns ? (now - sent_ns) / 1000 : 0);
	if (p->inflight)
		p->inflight--;
	/* Closed loop: the reply releases the next message. */
	if (t->sh->o->msg_rate <= 0 && p->state == ST_READY)
		send_one(t, s->peer, now);
}

/* ---- completions ---- */

static void on_connect(struct lthread *t, uint32_t idx, int res)
{
	struct lpeer *p = &t->peers[idx];
	const struct load_opts *o = t->sh->o;
	if (p->state != ST_CONNECTING)
		return;
	t->connecting--;
	if (res < 0) {
		p->state = ST_HANDSHAKE; /* so kill_peer counts it once */
		kill_peer(t, idx, res);
		return;
	}
	p->state = ST_HANDSHAKE;
	arm_recv(t, idx);
	struct load_sink s = {t, idx};
	int r = o->proto->peer_start(t->tctx, p->ps, t->first + idx, &s);
	if (r < 0) {
		kill_peer(t, idx, r);
		return;
	}
	flush(t, idx);
}

static void on_recv(struct lthread *t, uint32_t idx, const struct io_uring_cqe *cqe, int *recycled)
{
	struct lpeer *p = &t->peers[idx];
	const struct load_opts *o = t->sh->o;
	int res = cqe->res;
	if (cqe->flags & IORING_CQE_F_BUFFER) {
		unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
		if (res > 0 && p->state != ST_DEAD) {
			struct load_sink s = {t, idx};
			int r = o->proto->peer_recv(t->tctx, p->ps, bu_buf(&t->br, bid), (size_t)res, &s);
			if (r < 0)
				kill_peer(t, idx, r);
			else
				flush(t, idx);
		}
		bu_buf_recycle(&t->br, bid, recycled);
	}
	if (p->state == ST_DEAD)
		return;
	if (res == -ENOBUFS) {
		INC(t->enobufs); /* ring ran dry: re-arm, never a peer error */
		arm_recv(t, idx);
		return;
	}
	if (res <= 0) {
		/* A peer lost before the end is an error. */
		kill_peer(t, idx, t->stopping ? 0 : res == 0 ? LOAD_ERR_EOF : res);
		return;
	}
	if (!(cqe->flags & IORING_CQE_F_MORE))
		arm_recv(t, idx);
}

static void on_send(struct lthread *t, uint32_t idx, int res)
{
	struct lpeer *p = &t->peers[idx];
	p->send_busy = false;
	if (p->state == ST_DEAD)
		return;
	if (res < 0) {
		kill_peer(t, idx, res);
		return;
	}
	p->wire.off += (uint32_t)res;
	if (p->wire.off == p->wire.len)
		p->wire.off = p->wire.len = 0;
	flush(t, idx);
}

static void reap(struct lthread *t)
{
	struct io_uring_cqe *cqe;
	unsigned head, seen = 0;
	int recycled = 0;
	io_uring_for_each_cqe(&t->ring, head, cqe) {
		seen++;
		uint64_t ud = cqe->user_data;
		uint32_t idx = (uint32_t)ud;
		switch (ud >> 32) {
		case OP_CONNECT: on_connect(t, idx, cqe->res); break;
		case OP_RECV: on_recv(t, idx, cqe, &recycled); break;
		case OP_SEND: on_send(t, idx, cqe->res); break;
		case OP_CLOSE: t->pending_closes--; break;
		default: break;
		}
	}
	if (recycled)
		io_uring_buf_ring_advance(t->br.br, recycled);
	io_uring_cq_advance(&t->ring, seen);
}

/* ---- phases ---- */

static void connect_phase(struct lthread *t, uint64_t now)
{
	const struct load_opts *o = t->sh->o;
	struct shared *sh = t->sh;
	uint64_t allowed = t->n;
	if (o->rate > 0) {
		/* This ring's share of the global rate. */
		double per = o->rate * t->n / o->peers;
		allowed = (uint64_t)(per * (double)(now - sh->t_begin_ns) / 1e9) + 1;
		if (allowed > t->n)
			allowed = t->n;
	}
	while (t->started < allowed && t->connecting < o->max_connecting)
		start_peer(t, t->started, now);
	double sched_s = o->rate > 0 ? o->peers / o->rate : 0;
	bool late = now - sh->t_begin_ns > (uint64_t)((sched_s + o->connect_grace_s) * 1e9);
	unsigned resolved = GET(t->ready) + GET(t->dead);
	if (resolved >= t->n || late) {
		t->done_connecting = true;
		__atomic_fetch_add(&sh->connected_threads, 1, __ATOMIC_ACQ_REL);
	}
}

static void hold_begin(struct lthread *t, uint64_t now)
{
	const struct load_opts *o = t->sh->o;
	t->holding = true;
	t->hold_sent0 = t->msgs_sent;
	t->hold_recv0 = t->msgs_recv;
	if (o->msg_rate > 0)
		return;
	/* Closed loop: inflight messages per peer, each reply sends the next.
	 * Only pings are answered, so only they can run a closed loop. */
	for (uint32_t i = 0; i < t->n; i++)
		for (unsigned k = 0; k < o->inflight && t->peers[i].state == ST_READY; k++)
			send_one(t, i, now);
}

/* Fixed rate: the sends due so far, spread round robin over ready peers. */
static void rate_sends(struct lthread *t, uint64_t now, uint64_t hold_start)
{
	const struct load_opts *o = t->sh->o;
	unsigned ready = GET(t->ready);
	if (!ready)
		return;
	uint64_t due = (uint64_t)(o->msg_rate * ready * (double)(now - hold_start) / 1e9);
	for (unsigned guard = 0; t->sched_sent < due && guard < 4 * t->n; guard++) {
		uint32_t i = t->rr++ % t->n;
		if (t->peers[i].state != ST_READY)
			continue;
		send_one(t, i, now);
		t->sched_sent++;
	}
	if (t->sched_sent < due)
		t->sched_sent = due; /* peers gone: do not build up a burst */
}

static int thread_setup(struct lthread *t);

static void *thread_main(void *arg)
{
	struct lthread *t = arg;
	struct shared *sh = t->sh;
	const struct load_opts *o = sh->o;
	uint64_t hold_start = 0;
	/* The ring is made here: with single issuer it belongs to its creator. */
	t->err = thread_setup(t);
	if (t->err) {
		__atomic_fetch_add(&sh->connected_threads, 1, __ATOMIC_ACQ_REL);
		__atomic_fetch_add(&sh->finished, 1, __ATOMIC_ACQ_REL);
		return NULL;
	}
	for (;;) {
		uint64_t now = bu_now_ns();
		if (!t->done_connecting)
			connect_phase(t, now);
		if (t->done_connecting && !hold_start) {
			if (GET(sh->connected_threads) == sh->nthreads) {
				uint64_t zero = 0;
				__atomic_compare_exchange_n(&sh->hold_start_ns, &zero, now, false,
							    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
				hold_start = __atomic_load_n(&sh->hold_start_ns, __ATOMIC_ACQUIRE);
				hold_begin(t, now);
			}
		}
		if (hold_start) {
			/* Nothing left to hold (e.g. nothing listens): end now. */
			if (now >= hold_start + (uint64_t)(o->duration_s * 1e9) || !t->ready)
				break;
			if (o->msg_rate > 0)
				rate_sends(t, now, hold_start);
		}
		struct __kernel_timespec ts = {.tv_sec = 0, .tv_nsec = 1000000};
		struct io_uring_cqe *cqe;
		int r = io_uring_submit_and_wait_timeout(&t->ring, &cqe, 1, &ts, NULL);
		if (r < 0 && r != -ETIME && r != -EINTR) {
			t->err = r;
			break;
		}
		reap(t);
	}
	t->holding = false;
	t->stopping = true;
	t->hold_end_ns = bu_now_ns();
	SET(t->hold_sent0, t->msgs_sent - t->hold_sent0); /* now: counts in the window */
	SET(t->hold_recv0, t->msgs_recv - t->hold_recv0);
	__atomic_fetch_add(&sh->finished, 1, __ATOMIC_ACQ_REL);
	/* Close everything and wait (bounded) for the closes. */
	for (uint32_t i = 0; i < t->n; i++)
		if (t->peers[i].state != ST_IDLE && t->peers[i].state != ST_DEAD)
			kill_peer(t, i, 0);
	uint64_t end = bu_now_ns() + 2000000000ull;
	while (t->pending_closes > 0 && bu_now_ns() < end) {
		struct __kernel_timespec ts = {.tv_sec = 0, .tv_nsec = 10000000};
		struct io_uring_cqe *cqe;
		io_uring_submit_and_wait_timeout(&t->ring, &cqe, 1, &ts, NULL);
		reap(t);
	}
	return NULL;
}

/* ---- setup, watch, merge ---- */

static int thread_setup(struct lthread *t)
{
	const struct load_opts *o = t->sh->o;
	int r = bu_ring_init(&t->ring, RING_ENTRIES);
	if (r < 0)
		return r;
	r = io_uring_register_files_sparse(&t->ring, t->n);
	if (r < 0)
		return r;
	r = bu_bufring_init(&t->ring, &t->br, 0, BUFS, BUF_SIZE);
	if (r < 0)
		return r;
	t->peers = calloc(t->n, sizeof(*t->peers));
	t->psmem = calloc(t->n, o->proto->peer_size ? o->proto->peer_size : 1);
	if (!t->peers || !t->psmem)
		return -ENOMEM;
	for (uint32_t i = 0; i < t->n; i++)
		t->peers[i].ps = t->psmem + (size_t)i * o->proto->peer_size;
	t->tctx = o->proto->thread_init ? o->proto->thread_init(o->proto_arg, t->index) : NULL;
	return 0;
}

static void thread_free(struct lthread *t)
{
	const struct load_opts *o = t->sh->o;
	if (t->peers) {
		for (uint32_t i = 0; i < t->n; i++) {
			if (t->peers[i].state != ST_IDLE && o->proto->peer_clear)
				o->proto->peer_clear(t->peers[i].ps);
			free(t->peers[i].fill.p);
			free(t->peers[i].wire.p);
		}
	}
	if (o->proto->thread_free && t->tctx)
		o->proto->thread_free(t->tctx);
	if (t->ring.ring_fd > 0)
		io_uring_queue_exit(&t->ring);
	t->ring.ring_fd = 0;
	bu_bufring_free(&t->br);
	free(t->peers);
	free(t->psmem);
}

static void live_line(struct lthread *th, unsigned n, uint64_t *last_recv, uint64_t *last_ns)
{
	unsigned ready = 0, dead = 0;
	uint64_t sent = 0, recv = 0, errors = 0;
	for (unsigned i = 0; i < n; i++) {
		ready += GET(th[i].ready);
		dead += GET(th[i].dead);
		sent += GET(th[i].msgs_sent);
		recv += GET(th[i].msgs_recv);
		errors += GET(th[i].errors);
	}
	uint64_t now = bu_now_ns();
	double dt = (double)(now - *last_ns) / 1e9;
	fprintf(stderr, "load: peers %u ready, %u closed, msgs sent %lu recv %lu, %.0f recv/s, errors %lu\n",
		ready, dead, (unsigned long)sent, (unsigned long)recv,
		dt > 0 ? (double)(recv - *last_recv) / dt : 0.0, (unsigned long)errors);
	*last_recv = recv;
	*last_ns = now;
}

static void merge(struct lthread *th, unsigned n, struct load_result *res, uint64_t t_begin)
{
	uint64_t last_ready = 0;
	for (unsigned i = 0; i < n; i++) {
		struct lthread *t = &th[i];
		res->peers_established += (unsigned)t->hs_us.count;
		res->msgs_sent += t->hold_sent0;
		res->msgs_recv += t->hold_recv0;
		res->errors += t->errors;
		res->enobufs += t->enobufs;
		res->send_blocked += t->send_blocked;
		if (!res->first_error)
			res->first_error = t->first_err;
		bu_hist_merge(&res->handshake_us, &t->hs_us);
		bu_hist_merge(&res->rtt_us, &t->rtt_us);
		if (t->last_ready_ns > last_ready)
			last_ready = t->last_ready_ns;
	}
	res->connect_s = last_ready > t_begin ? (double)(last_ready - t_begin) / 1e9 : 0;
}

int load_run(const struct load_opts *o, struct load_result *res)
{
	memset(res, 0, sizeof(*res));
	res->peers_requested = o->peers;
	res->rss_before_kib = res->rss_hold_kib = -1;
	unsigned nofile = bu_raise_nofile();
	/* A ring's fixed-file table is capped by RLIMIT_NOFILE; keep room for
	 * the process's own descriptors. */
	unsigned per = nofile > 256 ? nofile - 128 : nofile / 2;
	unsigned n = o->threads ? o->threads : (o->peers + per - 1) / per;
	if (n == 0)
		n = 1;
	if ((o->peers + n - 1) / n > per) {
		fprintf(stderr, "load: %u peers need at least %u rings (fd limit %u)\n", o->peers,
			(o->peers + per - 1) / per, nofile);
		return -EMFILE;
	}
	struct shared sh = {.o = o, .nthreads = n};
	struct lthread *th = calloc(n, sizeof(*th));
	if (!th)
		return -ENOMEM;
	int err = 0;
	for (unsigned i = 0, first = 0; i < n; i++) {
		th[i].sh = &sh;
		th[i].index = i;
		th[i].first = first;
		th[i].n = o->peers / n + (i < o->peers % n);
		first += th[i].n;
	}
	if (o->rss_pid > 0)
		res->rss_before_kib = load_rss_kib(o->rss_pid);
	sh.t_begin_ns = bu_now_ns();
	unsigned started = 0;
	for (unsigned i = 0; i < n && !err; i++, started++)
		if (pthread_create(&th[i].th, NULL, thread_main, &th[i]) != 0)
			err = -EAGAIN;
	/* Watch: live line, and RSS half way through the hold. */
	uint64_t last_recv = 0, last_ns = bu_now_ns(), next_live = last_ns + o->live_ms * 1000000ull;
	bool rss_done = o->rss_pid <= 0;
	while (!err && GET(sh.finished) < n) {
		usleep(10000);
		uint64_t now = bu_now_ns();
		uint64_t hs = __atomic_load_n(&sh.hold_start_ns, __ATOMIC_ACQUIRE);
		if (!rss_done && hs && now >= hs + (uint64_t)(o->duration_s * 0.5e9)) {
			res->rss_hold_kib = load_rss_kib(o->rss_pid);
			rss_done = true;
		}
		if (o->live_ms && now >= next_live) {
			live_line(th, n, &last_recv, &last_ns);
			next_live = now + o->live_ms * 1000000ull;
		}
	}
	for (unsigned i = 0; i < started; i++) {
		pthread_join(th[i].th, NULL);
		if (th[i].err && !err)
			err = th[i].err;
	}
	uint64_t hs = __atomic_load_n(&sh.hold_start_ns, __ATOMIC_ACQUIRE);
	uint64_t hold_end = 0;
	for (unsigned i = 0; i < n; i++)
		if (th[i].hold_end_ns > hold_end)
			hold_end = th[i].hold_end_ns;
	res->hold_s = hs && hold_end > hs ? (double)(hold_end - hs) / 1e9 : 0;
	res->threads = n;
	merge(th, n, res, sh.t_begin_ns);
	for (unsigned i = 0; i < n; i++)
		thread_free(&th[i]);
	free(th);
	return err;
}
