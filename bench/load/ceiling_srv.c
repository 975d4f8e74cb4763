/* The echo server of bench/ceiling; see ceiling_srv.h. Each ring thread
 * owns its connections, buffers and listeners; the controlling thread only
 * starts them, reads their relaxed counters and stops them with a MSG_RING
 * from a ring of its own. */
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench/load/ceiling_srv.h"
#include "bench/load/load_util.h"

enum { S_ACCEPT = 1, S_ACCEPT_RETRY, S_RECV, S_SEND, S_CLOSE, S_STOP };
#define SUD(op, idx) ((uint64_t)(op) << 56 | (uint32_t)(idx))
#define SUD_OP(ud) ((unsigned)((ud) >> 56))
#define SUD_IDX(ud) ((uint32_t)(ud))

#define BUFS 4096      /* the most buffers a ring grows to */
#define BUFS_START 256 /* what it starts with: idle connections touch no more */
#define BUF_SIZE 4096
#define SEND_IOV 32    /* buffers one sendmsg takes */
#define RING_ENTRIES 4096

#define SET(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define ADD(x, n) SET(x, (x) + (n))
#define GET(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

/* 16 bytes per connection. */
struct econn {
	int32_t head, tail; /* FIFO of received buffer ids to echo (-1 = none) */
	uint32_t off;       /* bytes of the head buffer already sent */
	uint8_t open, busy, closing, dirty;
	/* busy: a send in flight; closing: EOF or an error. A slot is closed
	 * only once its recv has ended too (recv_on clear), so no completion
	 * of an old connection can land on a new one in the same slot. */
	uint8_t recv_on, shut, pad[2];
};

/* A sendmsg in flight: its header and iovecs stay put until it completes. */
struct esend {
	struct msghdr mh;
	struct iovec iov[SEND_IOV];
	uint32_t next_free;
};

struct ering {
	struct esrv *srv;
	unsigned idx;
	struct io_uring ring;
	struct bu_bufring br;
	struct econn *c;
	unsigned slots;
	int32_t *next;   /* FIFO links, by buffer id */
	uint32_t *blen;  /* bytes held in each buffer */
	uint32_t *dirty; /* connections with bytes to echo and no send in flight */
	unsigned ndirty;
	struct esend *snd; /* one per buffer at most: a send holds at least one */
	uint32_t snd_free;
	int lfd[ESRV_MAX_PORTS];
	unsigned nl;
	int recycled;
	bool stop;
	pthread_t th;
	bool started;
	int ready; /* atomic: 1 once the ring is up, or a negative error */
	struct __kernel_timespec retry_ts;
	/* counters (this thread writes, anyone reads) */
	uint64_t accepted, echoed_bytes, sends, enobufs, accept_errors;
	unsigned open;
};

struct esrv {
	struct esrv_opts o;
	struct ering *r;
	unsigned n;
	struct io_uring ctl; /* the controlling thread's ring for the stop message */
};

static struct io_uring_sqe *sqe_get(struct ering *r)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);
	while (!sqe) {
		io_uring_submit(&r->ring);
		sqe = io_uring_get_sqe(&r->ring);
	}
	return sqe;
}

static void arm_accept(struct ering *r, unsigned li)
{
	struct io_uring_sqe *sqe = sqe_get(r);
	io_uring_prep_multishot_accept_direct(sqe, r->lfd[li], NULL, NULL, 0);
	io_uring_sqe_set_data64(sqe, SUD(S_ACCEPT, li));
}

static void arm_recv(struct ering *r, uint32_t ci)
{
	struct io_uring_sqe *sqe = sqe_get(r);
	io_uring_prep_recv_multishot(sqe, (int)ci, NULL, 0, 0);
	sqe->flags |= IOSQE_FIXED_FILE | IOSQE_BUFFER_SELECT;
	sqe->buf_group = r->br.bgid;
	io_uring_sqe_set_data64(sqe, SUD(S_RECV, ci));
	r->c[ci].recv_on = 1;
}

static void drop_queue(struct ering *r, struct econn *c)
{
	while (c->head >= 0) {
		int32_t b = c->head;
		c->head = r->next[b];
		bu_buf_recycle(&r->br, (unsigned)b, &r->recycled);
	}
	c->tail = -1;
	c->off = 0;
}

/* A connection ends once no send of it is in flight: its queue goes back
 * to the ring and the table slot is closed. */
static void maybe_close(struct ering *r, uint32_t ci)
{
	struct econn *c = &r->c[ci];
	if (!c->closing || c->busy || !c->open)
		return;
	if (c->recv_on) {
		/* a send failed with the recv still armed: end it first */
		if (!c->shut) {
			c->shut = 1;
			struct io_uring_sqe *sqe = sqe_get(r);
			io_uring_prep_shutdown(sqe, (int)ci, SHUT_RDWR);
			sqe->flags |= IOSQE_FIXED_FILE;
			io_uring_sqe_set_data64(sqe, SUD(S_CLOSE, ci));
		}
		return;
	}
	drop_queue(r, c);
	c->open = 0;
	struct io_uring_sqe *sqe = sqe_get(r);
	io_uring_prep_close_direct(sqe, ci);
	io_uring_sqe_set_data64(sqe, SUD(S_CLOSE, ci));
	SET(r->open, r->open - 1);
}

static void mark_dirty(struct ering *r, uint32_t ci)
{
	struct econn *c = &r->c[ci];
	if (c->dirty)
		return;
	c->dirty = 1;
	r->dirty[r->ndirty++] = ci;
}

static void on_accept(struct ering *r, unsigned li, const struct io_uring_cqe *cqe)
{
	if (cqe->res >= 0 && (unsigned)cqe->res < r->slots) {
		ADD(r->accepted, 1);
		SET(r->open, r->open + 1);
		r->c[cqe->res] = (struct econn){.open = 1, .head = -1, .tail = -1};
		arm_recv(r, (uint32_t)cqe->res);
	}
	if (cqe->res < 0) {
		/* A full table (-ENFILE) or the like: retry in 10 ms rather
		 * than spin on a re-armed accept. */
		ADD(r->accept_errors, 1);
		struct io_uring_sqe *sqe = sqe_get(r);
		io_uring_prep_timeout(sqe, &r->retry_ts, 0, 0);
		io_uring_sqe_set_data64(sqe, SUD(S_ACCEPT_RETRY, li));
	} else if (!(cqe->flags & IORING_CQE_F_MORE)) {
		arm_accept(r, li);
	}
}

static void on_recv(struct ering *r, uint32_t ci, const struct io_uring_cqe *cqe)
{
	struct econn *c = &r->c[ci];
	if (!(cqe->flags & IORING_CQE_F_MORE))
		c->recv_on = 0;
	if (cqe->flags & IORING_CQE_F_BUFFER) {
		int32_t bid = (int32_t)(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
		if (cqe->res > 0 && !c->closing) {
			r->blen[bid] = (uint32_t)cqe->res;
			r->next[bid] = -1;
			if (c->tail >= 0)
				r->next[c->tail] = bid;
			else
				c->head = bid;
			c->tail = bid;
			mark_dirty(r, ci);
		} else {
			bu_buf_recycle(&r->br, (unsigned)bid, &r->recycled);
		}
	}
	if (cqe->res == -ENOBUFS && !c->closing) {
		/* the ring ran dry: more buffers (up to BUFS), then re-arm */
		ADD(r->enobufs, 1);
		bu_bufring_grow(&r->br, &r->recycled);
		arm_recv(r, ci);
	} else if (cqe->res <= 0 || c->closing) {
		c->closing = 1;
		maybe_close(r, ci);
	} else if (!c->recv_on) {
		arm_recv(r, ci);
	}
}

/* One sendmsg over every queued buffer (up to SEND_IOV). */
static void flush(struct ering *r, uint32_t ci)
{
	struct econn *c = &r->c[ci];
	c->dirty = 0;
	if (c->busy || c->closing || c->head < 0 || r->snd_free == UINT32_MAX)
		return;
	uint32_t si = r->snd_free;
	struct esend *s = &r->snd[si];
	r->snd_free = s->next_free;
	unsigned n = 0;
	for (int32_t b = c->head; b >= 0 && n < SEND_IOV; b = r->next[b], n++) {
		uint32_t skip = n == 0 ? c->off : 0;
		s->iov[n].iov_base = bu_buf(&r->br, (unsigned)b) + skip;
		s->iov[n].iov_len = r->blen[b] - skip;
	}
	s->mh = (struct msghdr){.msg_iov = s->iov, .msg_iovlen = n};
	struct io_uring_sqe *sqe = sqe_get(r);
	io_uring_prep_sendmsg(sqe, (int)ci, &s->mh, MSG_NOSIGNAL);
	sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data64(sqe, SUD(S_SEND, ci) | ((uint64_t)si << 32)); /* si < BUFS < 2^24 */
	c->busy = 1;
	ADD(r->sends, 1);
}

static void on_send(struct ering *r, uint32_t ci, uint32_t si, int res)
{
	struct econn *c = &r->c[ci];
	r->snd[si].next_free = r->snd_free;
	r->snd_free = si;
	c->busy = 0;
	if (res < 0) {
		c->closing = 1;
	} else {
		ADD(r->echoed_bytes, (uint64_t)res);
		uint32_t left = (uint32_t)res;
		while (c->head >= 0 && left >= r->blen[c->head] - c->off) {
			int32_t b = c->head;
			left -= r->blen[b] - c->off;
			c->off = 0;
			c->head = r->next[b];
			bu_buf_recycle(&r->br, (unsigned)b, &r->recycled);
		}
		if (c->head < 0)
			c->tail = -1;
		else
			c->off += left;
		if (c->head >= 0)
			mark_dirty(r, ci);
	}
	maybe_close(r, ci);
}

static void handle(struct ering *r, const struct io_uring_cqe *cqe)
{
	uint64_t ud = cqe->user_data;
	uint32_t idx = SUD_IDX(ud);
	switch (SUD_OP(ud)) {
	case S_ACCEPT: on_accept(r, idx, cqe); break;
	case S_ACCEPT_RETRY: arm_accept(r, idx); break;
	case S_RECV: on_recv(r, idx, cqe); break;
	case S_SEND: on_send(r, idx, (uint32_t)(ud >> 32) & 0xffffff, cqe->res); break;
	case S_STOP: r->stop = true; break;
	default: break; /* close */
	}
}

static int ring_setup(struct ering *r);

static void *ring_main(void *arg)
{
	struct ering *r = arg;
	if (r->srv->o.pin) {
		long cores = sysconf(_SC_NPROCESSORS_ONLN);
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET((int)(r->idx % (unsigned)(cores > 0 ? cores : 1)), &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	/* The ring is made here: with single issuer it belongs to its creator. */
	int err = ring_setup(r);
	__atomic_store_n(&r->ready, err < 0 ? err : 1, __ATOMIC_RELEASE);
	if (err < 0)
		return NULL;
	for (unsigned i = 0; i < r->nl; i++)
		arm_accept(r, i);
	while (!r->stop) {
		/* As the engine's workers: sleep until a completion, no timer. */
		io_uring_submit_and_wait(&r->ring, 1);
		unsigned head, seen = 0;
		struct io_uring_cqe *cqe;
		io_uring_for_each_cqe(&r->ring, head, cqe) {
			seen++;
			handle(r, cqe);
		}
		io_uring_cq_advance(&r->ring, seen);
		/* After the batch: buffers back to the ring, then one send per
		 * connection that received something. */
		if (r->recycled) {
			io_uring_buf_ring_advance(r->br.br, r->recycled);
			r->recycled = 0;
		}
		unsigned nd = r->ndirty;
		r->ndirty = 0;
		for (unsigned i = 0; i < nd; i++)
			flush(r, r->dirty[i]);
	}
	return NULL;
}

static int ring_setup(struct ering *r)
{
	int e = bu_ring_init(&r->ring, RING_ENTRIES);
	if (e < 0)
		return e;
	if ((e = io_uring_register_files_sparse(&r->ring, r->slots)) < 0)
		return e;
	if ((e = bu_bufring_init(&r->ring, &r->br, 0, BUFS, BUFS_START, BUF_SIZE)) < 0)
		return e;
	r->c = calloc(r->slots, sizeof(*r->c));
	r->dirty = calloc(r->slots, sizeof(*r->dirty));
	r->next = calloc(BUFS, sizeof(*r->next));
	r->blen = calloc(BUFS, sizeof(*r->blen));
	r->snd = calloc(BUFS, sizeof(*r->snd));
	if (!r->c || !r->dirty || !r->next || !r->blen || !r->snd)
		return -ENOMEM;
	for (uint32_t i = 0; i < BUFS; i++)
		r->snd[i].next_free = i + 1 < BUFS ? i + 1 : UINT32_MAX;
	r->snd_free = 0;
	r->retry_ts.tv_nsec = 10000000;
	return 0;
}

static int listen_on(uint16_t *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(*port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 4096) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

unsigned esrv_threads(const struct esrv *s)
{
	return s->n;
}

void esrv_stats(const struct esrv *s, struct esrv_stats *st)
{
	memset(st, 0, sizeof(*st));
	for (unsigned i = 0; i < s->n; i++) {
		struct ering *r = &s->r[i];
		st->accepted += GET(r->accepted);
		st->echoed_bytes += GET(r->echoed_bytes);
		st->sends += GET(r->sends);
		st->enobufs += GET(r->enobufs);
		st->accept_errors += GET(r->accept_errors);
		st->open += GET(r->open);
	}
}

static void free_ring(struct ering *r)
{
	if (r->ring.ring_fd > 0)
		io_uring_queue_exit(&r->ring);
	for (unsigned i = 0; i < r->nl; i++)
		close(r->lfd[i]);
	bu_bufring_free(&r->br);
	free(r->c);
	free(r->dirty);
	free(r->next);
	free(r->blen);
	free(r->snd);
}

void esrv_stop(struct esrv *s)
{
	for (unsigned i = 0; i < s->n; i++) {
		struct ering *r = &s->r[i];
		/* a ring still setting up is waited for: it may yet run */
		while (r->started && __atomic_load_n(&r->ready, __ATOMIC_ACQUIRE) == 0)
			usleep(1000);
		if (__atomic_load_n(&r->ready, __ATOMIC_ACQUIRE) != 1)
			continue;
		struct io_uring_sqe *sqe = io_uring_get_sqe(&s->ctl);
		if (!sqe) {
			io_uring_submit(&s->ctl);
			sqe = io_uring_get_sqe(&s->ctl);
		}
		io_uring_prep_msg_ring(sqe, r->ring.ring_fd, 0, SUD(S_STOP, 0), 0);
		io_uring_sqe_set_data64(sqe, 0);
	}
	io_uring_submit(&s->ctl);
	for (unsigned i = 0; i < s->n; i++) {
		if (s->r[i].started)
			pthread_join(s->r[i].th, NULL);
		free_ring(&s->r[i]);
	}
	io_uring_queue_exit(&s->ctl);
	free(s->r);
	free(s);
}

int esrv_start(struct esrv_opts *o, struct esrv **out)
{
	unsigned nofile = bu_raise_nofile();
	unsigned slots = nofile > 256 ? nofile - 128 : nofile / 2;
	unsigned n = o->threads;
	if (!n) {
		long cores = sysconf(_SC_NPROCESSORS_ONLN);
		n = cores > 0 ? (unsigned)cores : 1;
		/* SO_REUSEPORT spreads connections evenly but not exactly: 10% slack */
		unsigned need = (unsigned)(((uint64_t)o->capacity * 11 / 10 + slots - 1) / slots);
		if (need > n)
			n = need;
	}
	if (o->nports == 0)
		o->ports[o->nports++] = 0;
	struct esrv *s = calloc(1, sizeof(*s));
	if (!s || !(s->r = calloc(n, sizeof(*s->r)))) {
		free(s);
		return -ENOMEM;
	}
	s->n = n;
	int e = io_uring_queue_init(8, &s->ctl, 0);
	if (e < 0) {
		fprintf(stderr, "ceiling: control ring: %s\n", strerror(-e));
		free(s->r);
		free(s);
		return e;
	}
	s->o = *o;
	for (unsigned i = 0; i < n && e >= 0; i++) {
		struct ering *r = &s->r[i];
		r->srv = s;
		r->idx = i;
		r->slots = slots;
		for (unsigned p = 0; p < o->nports && e >= 0; p++) {
			e = listen_on(&o->ports[p]);
			if (e >= 0)
				r->lfd[r->nl++] = e;
			else
				fprintf(stderr, "ceiling: listen on 127.0.0.1:%u: %s\n", o->ports[p], strerror(-e));
		}
	}
	s->o = *o;
	for (unsigned i = 0; i < n && e >= 0; i++)
		if (pthread_create(&s->r[i].th, NULL, ring_main, &s->r[i]) != 0)
			e = -EAGAIN;
		else
			s->r[i].started = true;
	for (unsigned i = 0; i < n && e >= 0; i++) {
		int st;
		while ((st = __atomic_load_n(&s->r[i].ready, __ATOMIC_ACQUIRE)) == 0)
			usleep(1000);
		if (st < 0) {
			fprintf(stderr, "ceiling: ring %u: %s\n", i, strerror(-st));
			e = st;
		}
	}
	if (e < 0) {
		esrv_stop(s);
		return e;
	}
	*out = s;
	return 0;
}
