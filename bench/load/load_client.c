/* One ring of the bench/ load tools' client (see load_client.h): its
 * peers' connects, output buffers, completions and load phases, on the
 * ring's own thread (load_ring_main). Counters the thread owns are written
 * with relaxed atomic stores so the main thread (load_run.c) may read them
 * while it runs. A ring thread sleeps until a completion or its next due
 * time (a connect slot, a scheduled message), so fifty rings holding a
 * million idle peers cost next to no CPU. */
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench/load/load_ring.h"

static struct io_uring_sqe *sqe_get(struct lthread *t)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&t->ring);
	if (!sqe) {
		io_uring_submit(&t->ring);
		sqe = io_uring_get_sqe(&t->ring);
	}
	return sqe;
}

static void *peer_ps(const struct lthread *t, uint32_t idx)
{
	return t->psmem + (size_t)idx * t->sh->o->proto->peer_size;
}

/* ---- output buffers ---- */

static void obuf_release(struct lthread *t, struct obuf *b)
{
	if (b->cap == OBUF_SMALL && t->nobuf_free < OBUF_FREE_MAX) {
		memcpy(b->p, &t->obuf_free, sizeof(t->obuf_free));
		t->obuf_free = b->p;
		t->nobuf_free++;
	} else {
		free(b->p);
	}
	*b = (struct obuf){0};
}

uint8_t *load_out_reserve(struct load_sink *s, size_t n)
{
	struct lthread *t = s->thr;
	struct obuf *b = &t->peers[s->peer].fill;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : OBUF_SMALL;
		while (cap < b->len + n)
			cap *= 2;
		uint8_t *p;
		if (!b->cap && cap == OBUF_SMALL && t->obuf_free) {
			p = t->obuf_free;
			memcpy(&t->obuf_free, p, sizeof(t->obuf_free));
			t->nobuf_free--;
		} else if (b->cap == OBUF_SMALL) {
			/* a pooled buffer outgrown: move, never realloc pool memory in place */
			if (!(p = malloc(cap)))
				return NULL;
			memcpy(p, b->p, b->len);
			uint32_t len = b->len;
			obuf_release(t, b);
			b->len = len;
		} else if (!(p = realloc(b->p, cap))) {
			return NULL;
		}
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
		/* The drained wire buffer goes back to the pool: an idle
		 * peer holds no output memory. */
		if (p->wire.cap)
			obuf_release(t, &p->wire);
		p->wire = p->fill;
		p->fill = (struct obuf){0};
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
	/* Cancelling the multishot recv (found by its user_data in the
	 * kernel's hash: no io-wq thread, unlike a shutdown) drops its hold on
	 * the socket; the close then frees the table slot and the socket goes
	 * (FIN) at once. A slot is never reused, so a late completion of this
	 * peer cannot land on another. */
	struct io_uring_sqe *sqe = sqe_get(t);
	io_uring_prep_cancel64(sqe, UD(OP_RECV, idx), 0);
	io_uring_sqe_set_data64(sqe, 0);
	sqe = sqe_get(t);
	io_uring_prep_close_direct(sqe, idx);
	io_uring_sqe_set_data64(sqe, UD(OP_CLOSE, idx));
	t->pending_closes++;
}

static int open_socket(struct lthread *t, uint32_t idx)
{
	const struct load_opts *o = t->sh->o;
	unsigned g = t->first + idx;
	int fam = o->dst[g % o->ndst].ss_family;
	int fd = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (fam == AF_INET && o->nsrc) {
		/* The source address is fixed here and the port picked at
		 * connect time (IP_BIND_ADDRESS_NO_PORT), so each (source,
		 * target) pair has the whole ephemeral range to itself. */
		struct sockaddr_in src = {.sin_family = AF_INET};
		src.sin_addr.s_addr = htonl(o->src_first + (g / o->ndst) % o->nsrc);
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
	unsigned d = (t->first + idx) % o->ndst;
	struct io_uring_sqe *sqe = sqe_get(t);
	io_uring_prep_connect(sqe, (int)idx, (const struct sockaddr *)&o->dst[d], o->dst_len[d]);
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
	int r = o->proto->peer_send(t->tctx, peer_ps(t, idx), o->msg, now, &s);
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
	int r = o->proto->peer_start(t->tctx, peer_ps(t, idx), t->first + idx, &s);
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
			int r = o->proto->peer_recv(t->tctx, peer_ps(t, idx), bu_buf(&t->br, bid), (size_t)res, &s);
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
		/* ring ran dry: more buffers, re-arm; never a peer error */
		INC(t->enobufs);
		bu_bufring_grow(&t->br, recycled);
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
	if (p->wire.off == p->wire.len) {
		p->wire.off = p->wire.len = 0;
		obuf_release(t, &p->wire);
	}
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
	while (t->started < allowed && t->connecting < sh->max_connecting)
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

/* How long the ring may sleep: until the next connect its rate allows or
 * the next message its schedule has due, at most WAIT_MAX_NS (phase changes
 * and the end of the hold are noticed that fast); completions wake it
 * earlier. */
static uint64_t wait_ns(const struct lthread *t, uint64_t now, uint64_t hold_start)
{
	const struct load_opts *o = t->sh->o;
	uint64_t due = now + WAIT_MAX_NS;
	if (!t->done_connecting && o->rate > 0 && t->started < t->n &&
	    t->connecting < t->sh->max_connecting) {
		double per = o->rate * t->n / o->peers;
		uint64_t at = t->sh->t_begin_ns + (uint64_t)((double)t->started / per * 1e9);
		if (at < due)
			due = at;
	}
	unsigned ready = GET(t->ready);
	if (hold_start && o->msg_rate > 0 && ready) {
		uint64_t at = hold_start + (uint64_t)((double)(t->sched_sent + 1) / (o->msg_rate * ready) * 1e9);
		if (at < due)
			due = at;
	}
	if (hold_start && hold_start + (uint64_t)(o->duration_s * 1e9) < due)
		due = hold_start + (uint64_t)(o->duration_s * 1e9);
	return due > now + 20000 ? due - now : 20000;
}

static int thread_setup(struct lthread *t);

void *load_ring_main(void *arg)
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
		if (GET(sh->abort))
			break;
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
		uint64_t w = wait_ns(t, bu_now_ns(), hold_start);
		struct __kernel_timespec ts = {.tv_sec = (long long)(w / 1000000000u),
					       .tv_nsec = (long long)(w % 1000000000u)};
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
	uint64_t end = bu_now_ns() + 5000000000ull;
	while (t->pending_closes > 0 && bu_now_ns() < end) {
		struct __kernel_timespec ts = {.tv_sec = 0, .tv_nsec = 10000000};
		struct io_uring_cqe *cqe;
		io_uring_submit_and_wait_timeout(&t->ring, &cqe, 1, &ts, NULL);
		reap(t);
	}
	return NULL;
}

/* ---- setup and teardown ---- */

static int thread_setup(struct lthread *t)
{
	const struct load_opts *o = t->sh->o;
	int r = bu_ring_init(&t->ring, RING_ENTRIES);
	if (r < 0)
		return r;
	r = io_uring_register_files_sparse(&t->ring, t->n);
	if (r < 0)
		return r;
	r = bu_bufring_init(&t->ring, &t->br, 0, BUFS, BUFS_START, BUF_SIZE);
	if (r < 0)
		return r;
	t->peers = calloc(t->n, sizeof(*t->peers));
	t->psmem = calloc(t->n, o->proto->peer_size ? o->proto->peer_size : 1);
	if (!t->peers || !t->psmem)
		return -ENOMEM;
	t->tctx = o->proto->thread_init ? o->proto->thread_init(o->proto_arg, t->index) : NULL;
	return 0;
}

void load_ring_free(struct lthread *t)
{
	const struct load_opts *o = t->sh->o;
	if (t->peers) {
		for (uint32_t i = 0; i < t->n; i++) {
			if (t->peers[i].state != ST_IDLE && o->proto->peer_clear)
				o->proto->peer_clear(peer_ps(t, i));
			free(t->peers[i].fill.p);
			free(t->peers[i].wire.p);
		}
	}
	while (t->obuf_free) {
		uint8_t *b = t->obuf_free;
		memcpy(&t->obuf_free, b, sizeof(t->obuf_free));
		free(b);
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
