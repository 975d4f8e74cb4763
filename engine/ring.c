/* io_uring plumbing shared by the workers and the coordinator: ring setup
 * with the best flags the kernel takes, the probe of optional kernel
 * features, taking an SQE, and the one wait step of every event loop.
 * cr__ring_setup and cr__ring_probe run on the thread calling
 * cr_engine_start; cr__sqe and cr__ring_wait on the ring's own thread. */
#include <errno.h>
#include <string.h>

#include "engine/internal.h"

/* An SQE, submitting first when the SQ is full (the CQ is sized 4x the SQ
 * so this does not overflow it in practice). */
struct io_uring_sqe *cr__sqe(struct io_uring *ring)
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
	int ret = io_uring_submit_and_wait(ring, 1);
	if (ret >= 0 || ret == -EINTR || ret == -ETIME || ret == -EBUSY || ret == -EAGAIN)
		return 0;
	cr__log(e, CR_LOG_ERROR, CR_LOG_GENERAL, "%s: io_uring_submit_and_wait: %s", who, strerror(-ret));
	return ret;
}
