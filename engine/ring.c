/* Ring setup and feature probing, the per-worker provided-buffer ring and
 * peer slab, and small helpers (clocks, randomness, logging) used by every
 * engine file. Setup and teardown run on the thread calling cr_engine_start
 * or cr_engine_stop, before the worker thread starts or after it ended. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>

#include "engine/internal.h"
#include "proto/err.h"

_Thread_local struct cr_worker *cr_cur_worker;
_Thread_local struct cr_coord *cr_cur_coord;

uint64_t cr_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t cr_wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void cr_random(void *out, size_t len)
{
	uint8_t *p = out;
	while (len) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			abort(); /* no entropy source: nothing safe to do */
		}
		p += n;
		len -= (size_t)n;
	}
}

/* Kernel randomness drawn 512 bytes at a time: one getrandom() serves
 * several handshakes (nonces, V2 keys, garbage). Used bytes are wiped. */
void cr_wrandom(struct cr_worker *w, void *out, size_t len)
{
	if (len > sizeof w->rnd) {
		cr_random(out, len);
		return;
	}
	if (w->rnd_left < len) {
		cr_random(w->rnd, sizeof w->rnd);
		w->rnd_left = sizeof w->rnd;
	}
	uint8_t *p = w->rnd + (sizeof w->rnd - w->rnd_left);
	memcpy(out, p, len);
	explicit_bzero(p, len);
	w->rnd_left -= (unsigned)len;
}

void cr_log(struct cr_engine *e, enum cr_log_level lvl, const char *fmt, ...)
{
	if (!e->cfg.on_log)
		return;
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	e->cfg.on_log(e->cfg.user, lvl, line);
}

/* An SQE, submitting first when the SQ is full (the CQ is sized 4x the SQ
 * so this does not overflow it in practice). */
struct io_uring_sqe *cr_sqe(struct io_uring *ring)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	while (!sqe) {
		io_uring_submit(ring);
		sqe = io_uring_get_sqe(ring);
	}
	return sqe;
}

/* Sets up a ring, with SINGLE_ISSUER | DEFER_TASKRUN where the kernel has
 * them (6.1+): completions then run only when this thread asks, which keeps
 * the data path free of task-work interrupts. Older kernels refuse the flag
 * with EINVAL: fall back to COOP_TASKRUN, then to plain. */
int cr_ring_setup(struct cr_engine *e, struct io_uring *ring, unsigned entries, bool single_issuer)
{
	struct io_uring_params p;
	static const unsigned tries[] = {
		IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
		IORING_SETUP_COOP_TASKRUN,
		0,
	};
	int ret = -EINVAL;
	for (size_t i = single_issuer ? 0 : 1; i < sizeof tries / sizeof tries[0]; i++) {
		memset(&p, 0, sizeof p);
		p.flags = tries[i] | IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL;
		/* A single-issuer ring belongs to the thread that enables it:
		 * set up here, enabled by the worker or coordinator thread. */
		if (single_issuer)
			p.flags |= IORING_SETUP_R_DISABLED;
		p.cq_entries = entries * 4;
		ret = io_uring_queue_init_params(entries, ring, &p);
		if (ret == 0) {
			if (single_issuer && i == 0)
				e->feat_defer = true;
			else if (single_issuer)
				cr_log(e, CR_LOG_WARN, "io_uring: kernel refused SINGLE_ISSUER|DEFER_TASKRUN, "
				       "running with flags 0x%x", tries[i]);
			return 0;
		}
		if (ret != -EINVAL)
			break;
	}
	cr_log(e, CR_LOG_ERROR, "io_uring setup failed: %s", strerror(-ret));
	return ret;
}

/* The fixed-file table is capped by RLIMIT_NOFILE (the kernel checks the
 * table size against it), so raise the soft limit to the hard one first. */
static unsigned file_table_cap(struct cr_engine *e)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		rl.rlim_cur = 1024;
	unsigned cap = rl.rlim_cur > (1u << CR_SLOT_BITS) - 1 ? (1u << CR_SLOT_BITS) - 1
							    : (unsigned)rl.rlim_cur;
	if (e->cfg.max_peers_per_worker && e->cfg.max_peers_per_worker < cap)
		cap = e->cfg.max_peers_per_worker;
	return cap;
}

static int setup_bufs(struct cr_worker *w)
{
	struct cr_engine *e = w->e;
	w->nbufs = e->cfg.recv_buf_count;
	w->buf_size = e->cfg.recv_buf_size;
	w->buf_mask = (unsigned)io_uring_buf_ring_mask(w->nbufs);
	size_t ring_bytes = w->nbufs * sizeof(struct io_uring_buf);
	if (posix_memalign((void **)&w->br, 4096, ring_bytes))
		return -ENOMEM;
	w->bufs = malloc((size_t)w->nbufs * w->buf_size);
	if (!w->bufs)
		return -ENOMEM;
	io_uring_buf_ring_init(w->br);
	struct io_uring_buf_reg reg = {
		.ring_addr = (uint64_t)(uintptr_t)w->br,
		.ring_entries = w->nbufs,
		.bgid = 0,
	};
	int ret = io_uring_register_buf_ring(&w->ring, &reg, 0);
	if (ret) {
		cr_log(e, CR_LOG_ERROR, "io_uring_register_buf_ring: %s", strerror(-ret));
		return ret;
	}
	for (unsigned i = 0; i < w->nbufs; i++)
		io_uring_buf_ring_add(w->br, w->bufs + (size_t)i * w->buf_size, w->buf_size,
				      (unsigned short)i, (int)w->buf_mask, (int)i);
	io_uring_buf_ring_advance(w->br, (int)w->nbufs);
	return 0;
}

/* Hands a provided buffer back to the kernel. Buffers are published in a
 * batch (cr_buf_publish in the worker loop) so one store covers many. */
void cr_buf_return(struct cr_worker *w, unsigned bid)
{
	io_uring_buf_ring_add(w->br, w->bufs + (size_t)bid * w->buf_size, w->buf_size,
			      (unsigned short)bid, (int)w->buf_mask, (int)w->br_added);
	w->br_added++;
}

static int setup_slab(struct cr_worker *w)
{
	w->tsize = (cr_transport_size() + 63) & ~(size_t)63;
	w->peers = calloc(w->cap, sizeof *w->peers);
	w->tmem = calloc(w->cap, w->tsize);
	w->pub = calloc(w->cap, sizeof *w->pub);
	w->free_slots = malloc(w->cap * sizeof *w->free_slots);
	w->zc = calloc(CR_ZC_MAX, sizeof *w->zc);
	if (!w->peers || !w->tmem || !w->pub || !w->free_slots || !w->zc)
		return -ENOMEM;
	/* Hand out low slots first: fewer pages of the slab get touched. */
	for (uint32_t i = 0; i < w->cap; i++) {
		w->free_slots[i] = w->cap - 1 - i;
		w->peers[i].slot = i;
		w->peers[i].fd = -1;
		w->peers[i].gen = 0;
	}
	w->nfree = w->cap;
	for (uint32_t i = 0; i < CR_ZC_MAX; i++)
		w->zc[i].next_free = i + 1;
	w->zc_free = 0;
	return 0;
}

int cr_worker_setup(struct cr_worker *w)
{
	struct cr_engine *e = w->e;
	int ret = cr_ring_setup(e, &w->ring, e->cfg.ring_entries, true);
	if (ret)
		return ret;
	w->ring_ok = true;
	w->cap = file_table_cap(e);
	ret = io_uring_register_files_sparse(&w->ring, w->cap);
	if (ret) {
		cr_log(e, CR_LOG_ERROR, "io_uring_register_files_sparse(%u): %s", w->cap, strerror(-ret));
		return ret;
	}
	ret = setup_bufs(w);
	if (ret)
		return ret;
	ret = setup_slab(w);
	if (ret)
		return ret;
	cr_mailbox_init(&w->mb, w->ring.ring_fd);
	/* no doorbell until the thread enabled the ring; it drains first */
	atomic_store(&w->mb.rung, 1);
	cr_wheel_init(&w->wheel);
	uint8_t seed[32];
	cr_random(seed, sizeof seed);
	w->secp = cr_secp_new(seed);
	if (!w->secp)
		return -ENOMEM;
	return 0;
}

void cr_worker_teardown(struct cr_worker *w)
{
	if (w->peers) {
		for (uint32_t i = 0; i < w->cap; i++)
			if (w->peers[i].t && w->peers[i].t_init)
				cr_transport_clear(w->peers[i].t);
	}
	cr_pools_free(w);
	explicit_bzero(w->rnd, sizeof w->rnd);
	w->rnd_left = 0;
	if (w->ring_ok) {
		io_uring_queue_exit(&w->ring);
		w->ring_ok = false;
	}
	for (unsigned i = 0; i < w->nls; i++)
		if (w->ls[i].fd >= 0)
			close(w->ls[i].fd);
	w->nls = 0;
	if (w->secp)
		cr_secp_free(w->secp);
	free(w->br);
	free(w->bufs);
	free(w->peers);
	free(w->tmem);
	free(w->pub);
	free(w->free_slots);
	free(w->zc);
	w->secp = NULL;
	w->br = NULL;
	w->bufs = NULL;
	w->peers = NULL;
	w->tmem = NULL;
	w->pub = NULL;
	w->free_slots = NULL;
	w->zc = NULL;
}
