/* io_uring plumbing shared by the workers and the coordinator: ring setup
 * with the best flags the kernel takes, the probe of optional kernel
 * features, taking an SQE, and the one wait step of every event loop.
 * cr__ring_setup and cr__ring_probe run on the thread calling
 * cr_engine_start; cr__sqe and cr__ring_wait on the ring's own thread
 * (a worker or the coordinator; never the shared bell ring). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/internal.h"

/* SQEs that found the SQ full while the kernel refused to take it
 * (io_uring_submit: -EAGAIN, -ENOMEM, -EBUSY) wait here, in order, and
 * cr__ring_wait moves them into the SQ before it submits. The caller
 * inside a completion handler gets a place to prepare its operation and
 * goes on; nothing spins and nothing is lost. Per thread: each thread owns
 * one ring (a worker's or the coordinator's), and only that thread calls
 * cr__sqe and cr__ring_wait on it. */
struct sqe_spill {
	struct io_uring *ring;   /* the ring these are for */
	struct io_uring_sqe *v;
	unsigned n, cap;
};
static _Thread_local struct sqe_spill spill;

static struct io_uring_sqe *spill_take(struct io_uring *ring)
{
	if (spill.n == spill.cap) {
		unsigned cap = spill.cap ? 2 * spill.cap : 64;
		struct io_uring_sqe *v = realloc(spill.v, cap * sizeof(*v));
		if (!v)
			return NULL;
		spill.v = v;
		spill.cap = cap;
	}
	spill.ring = ring;
	struct io_uring_sqe *sqe = &spill.v[spill.n++];
	memset(sqe, 0, sizeof(*sqe));
	return sqe;
}

/* Moves spilled SQEs into the SQ, as many as fit; the rest stay in order. */
static void spill_flush(struct io_uring *ring)
{
	if (!spill.n || spill.ring != ring)
		return;
	unsigned i = 0;
	for (struct io_uring_sqe *sqe; i < spill.n && (sqe = io_uring_get_sqe(ring)); i++)
		memcpy(sqe, &spill.v[i], sizeof(*sqe));
	memmove(spill.v, spill.v + i, (spill.n - i) * sizeof(*spill.v));
	spill.n -= i;
	if (!spill.n) {
		free(spill.v);
		spill.v = NULL;
		spill.cap = 0;
	}
}

/* An SQE of the calling thread's own ring: from the SQ, after one submit
 * when it is full, else from the spill. Never NULL: when even the spill
 * cannot grow (no memory), it waits for the kernel with a growing sleep,
 * a bounded stall that is logged, rather than spinning or dropping. */
struct io_uring_sqe *cr__sqe(struct io_uring *ring)
{
	struct io_uring_sqe *sqe = spill.n && spill.ring == ring ? NULL : io_uring_get_sqe(ring);
	if (sqe)
		return sqe;
	if (!spill.n || spill.ring != ring) {
		/* the SQ is full: hand it to the kernel once */
		if (io_uring_submit(ring) >= 0 && (sqe = io_uring_get_sqe(ring)))
			return sqe;
	}
	for (unsigned ms = 1;; ms = ms < 100 ? 2 * ms : 100) {
		if ((sqe = spill_take(ring)))
			return sqe;
		struct timespec ts = {0, (long)ms * 1000000};
		nanosleep(&ts, NULL);
		if (io_uring_submit(ring) >= 0 && !spill.n && (sqe = io_uring_get_sqe(ring)))
			return sqe;
	}
}

unsigned cr__sqe_spilled(void)
{
	return spill.n;
}

/* Sets up a ring, with SINGLE_ISSUER | DEFER_TASKRUN where the kernel has
 * them (6.1+): completions then run only when this thread asks, which keeps
 * the data path free of task-work interrupts. Older kernels refuse the flag
 * with EINVAL: fall back to COOP_TASKRUN, then to plain. */
int cr__ring_setup(struct cr_engine *e, struct io_uring *ring, unsigned entries, bool single_issuer)
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
				cr__log(e, CR_LOG_WARN, CR_LOG_GENERAL, "io_uring: kernel refused SINGLE_ISSUER|DEFER_TASKRUN, "
				       "running with flags 0x%x", tries[i]);
			return 0;
		}
		if (ret != -EINVAL)
			break;
	}
	cr__log(e, CR_LOG_ERROR, CR_LOG_GENERAL, "io_uring setup failed: %s", strerror(-ret));
	return ret;
}

/* Kernel features beyond what every 6.1 ring has, probed once. */
void cr__ring_probe(struct cr_engine *e, struct io_uring *ring)
{
	struct io_uring_probe *pr = io_uring_get_probe_ring(ring);
	if (!pr)
		return;
	e->feat_fd_install = io_uring_opcode_supported(pr, CR_IORING_OP_FIXED_FD_INSTALL);
	/* REPORT_USAGE (6.2) predates FIXED_FD_INSTALL (6.8): use one as the
	 * witness of the other; a refused flag would fail the send visibly. */
	e->feat_zc_report = e->feat_fd_install && io_uring_opcode_supported(pr, IORING_OP_SEND_ZC);
	if (!io_uring_opcode_supported(pr, IORING_OP_SEND_ZC))
		e->cfg.zc_threshold_bytes = 0;
	if (!e->feat_fd_install)
		cr__log(e, CR_LOG_WARN, CR_LOG_GENERAL, "io_uring: no FIXED_FD_INSTALL (kernel < 6.8): "
			"inbound peer addresses unknown");
	io_uring_free_probe(pr);
}

/* Submits what is queued and sleeps until at least one completion is
 * there; the caller then walks them (io_uring_for_each_cqe). Returns 0 to
 * go on, or a negative error after which the loop must end (logged here,
 * naming who).
 *
 * Not errors, so the loop goes on: -EINTR (a signal), -ETIME (a wait
 * timeout), and the two "completions first" answers: -EBUSY (the CQ ring
 * overflowed: reap, then submit again) and -EAGAIN (the kernel could not
 * take more requests right now, e.g. out of request memory: completions
 * free some). For both, the completions already waiting are exactly what
 * resolves it, so the caller must walk them rather than stop; the worker
 * always did, the coordinator stopped on -EAGAIN, which left the engine
 * without a coordinator under memory pressure. */
int cr__ring_wait(struct cr_engine *e, struct io_uring *ring, const char *who)
{
	static _Thread_local unsigned backoff_ms;
	spill_flush(ring);
	int ret = io_uring_submit_and_wait(ring, 1);
	if ((ret == -EBUSY || ret == -EAGAIN) && !io_uring_cq_ready(ring)) {
		/* Refused with no completion to walk: the loop would come
		 * straight back here. Sleep, growing to 100 ms, and say so once
		 * per episode. */
		if (!backoff_ms)
			cr__log(e, CR_LOG_WARN, CR_LOG_GENERAL, "%s: io_uring_submit_and_wait: %s; backing off",
				who, strerror(-ret));
		backoff_ms = backoff_ms ? (backoff_ms < 100 ? 2 * backoff_ms : 100) : 1;
		struct timespec ts = {0, (long)backoff_ms * 1000000};
		nanosleep(&ts, NULL);
		return 0;
	}
	if (ret >= 0)
		backoff_ms = 0;
	if (ret >= 0 || ret == -EINTR || ret == -ETIME || ret == -EBUSY || ret == -EAGAIN)
		return 0;
	cr__log(e, CR_LOG_ERROR, CR_LOG_GENERAL, "%s: io_uring_submit_and_wait: %s", who, strerror(-ret));
	return ret;
}
