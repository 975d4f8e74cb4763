/* The worker thread: one io_uring, one completion switch, and the work that
 * runs after each completion batch (buffers back to the ring, recv re-arms,
 * output flushes, freeing closed peers, the stop sequence). Commands from
 * other threads arrive through the mailbox, woken by a MSG_RING doorbell;
 * the thread sleeps in io_uring_submit_and_wait otherwise. Everything here
 * runs on the worker's own thread. */
#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "engine/internal.h"
#include "proto/err.h"

static void waiter_done(struct cr_waiter *wt, int ret)
{
	wt->ret = ret;
	atomic_store_explicit(&wt->done, 1, memory_order_release);
	syscall(SYS_futex, &wt->done, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void bcast(struct cr_worker *w, struct cr_cmd *c)
{
	if (c->nids == 0) {
		for (uint32_t i = 0; i < w->cap; i++) {
			struct cr_peer *p = &w->peers[i];
			if (p->state == PS_READY)
				cr_peer_send_shared(w, p, c->command, c->buf, true);
		}
		return;
	}
	for (size_t i = 0; i < c->nids; i++) {
		struct cr_peer *p = cr_peer_by_id(w, c->ids[i]);
		if (!p) {
			CR_STAT_ADD(w, stale_ids, 1);
			continue;
		}
		cr_peer_send_shared(w, p, c->command, c->buf, true);
	}
}

static void begin_stop(struct cr_worker *w)
{
	if (w->stopping)
		return;
	w->stopping = true;
	w->stop_deadline_us = cr_now_us() + (uint64_t)w->e->cfg.stop_flush_ms * 1000u;
	cr_listen_close(w);
}

/* Runs one command; frees it (a waiter belongs to its caller). */
void cr_worker_command(struct cr_worker *w, struct cr_cmd *c)
{
	CR_STAT_ADD(w, mailbox_msgs, 1);
	struct cr_peer *p = NULL;
	switch (c->kind) {
	case CMD_SEND:
		p = cr_peer_by_id(w, c->peer);
		if (p)
			cr_peer_send_shared(w, p, c->command, c->buf, true);
		else
			CR_STAT_ADD(w, stale_ids, 1);
		break;
	case CMD_BCAST:
		bcast(w, c);
		break;
	case CMD_DISCONNECT:
		p = cr_peer_by_id(w, c->peer);
		if (p)
			cr_peer_close(w, p, CR_CLOSE_LOCAL, NULL);
		else
			CR_STAT_ADD(w, stale_ids, 1);
		break;
	case CMD_RECV_DONE:
		p = cr_peer_by_id(w, c->peer);
		if (p)
			cr_recv_release(w, p, c->n);
		break;
	case CMD_INFO:
		p = cr_peer_by_id(w, c->peer);
		if (p)
			cr_peer_fill_info(w, p, c->waiter->info);
		waiter_done(c->waiter, p ? 0 : -ESTALE);
		break;
	case CMD_CONNECT:
		cr_connect_start(w, c); /* counts the peer before uncounting the placement */
		if (c->flags & CR_CONNECT_PLACED)
			atomic_fetch_sub_explicit(&w->placing, 1, memory_order_relaxed);
		break;
	case CMD_STOP:
		begin_stop(w);
		break;
	default:
		break;
	}
	if (c->buf)
		cr_sbuf_unref(w, c->buf);
	cr_cmd_free(c);
}

static void drain_mailbox(struct cr_worker *w)
{
	cr_mailbox_rearm(&w->mb);
	struct cr_cmd *c;
	while ((c = cr_mailbox_pop(&w->mb)))
		cr_worker_command(w, c);
}

static void peer_cqe(struct cr_worker *w, enum cr_op op, struct io_uring_cqe *cqe)
{
	uint32_t slot = cr_ud_idx(cqe->user_data), gen = cr_ud_gen(cqe->user_data);
	struct cr_peer *p = cr_peer_get(w, slot, gen);
	if (!p) {
		/* cannot happen while slots wait for their operations; still,
		 * never leak a buffer or a descriptor */
		if (op == OP_RECV && (cqe->flags & IORING_CQE_F_BUFFER))
			cr_buf_return(w, cqe->flags >> IORING_CQE_BUFFER_SHIFT);
		if (op == OP_PEERNAME && cqe->res >= 0)
			close(cqe->res);
		return;
	}
	switch (op) {
	case OP_RECV: cr_recv_complete(w, p, cqe->res, cqe->flags); break;
	case OP_SEND: cr_send_complete(w, p, cqe->res, cqe->flags); break;
	case OP_SOCKET: cr_socket_complete(w, p, cqe->res); break;
	case OP_CONNECT: cr_connect_complete(w, p, cqe->res); break;
	case OP_PEERNAME: cr_peername_complete(w, p, cqe->res); break;
	case OP_PEERNAME_CMD: cr_peername_cmd_complete(w, p, cqe->res); break;
	case OP_DIRECT_RECV: cr_recv_direct_complete(w, p, cqe->res); break;
	case OP_ABORT: cr_peer_op_done(w, p); break;
	default: break;
	}
}

static void handle_cqe(struct cr_worker *w, struct io_uring_cqe *cqe)
{
	enum cr_op op = cr_ud_op(cqe->user_data);
	switch (op) {
	case OP_ACCEPT:
		cr_accept_complete(w, cr_ud_idx(cqe->user_data), cqe->res, cqe->flags);
		break;
	case OP_ACCEPT_RETRY:
		cr_accept_retry(w, cr_ud_idx(cqe->user_data));
		break;
	case OP_SEND_ZC:
		cr_zc_notif(w, cr_ud_idx(cqe->user_data), cqe->res, cqe->flags);
		break;
	case OP_TICK:
		cr_wheel_tick(w);
		break;
	case OP_DOORBELL:
		drain_mailbox(w);
		break;
	case OP_RECV: case OP_SEND: case OP_SOCKET: case OP_CONNECT:
	case OP_PEERNAME: case OP_PEERNAME_CMD: case OP_DIRECT_RECV: case OP_ABORT:
		peer_cqe(w, op, cqe);
		break;
	default:
		break; /* cancel, shutdown, close, link timeouts: nothing to do */
	}
}

/* Stop: peers whose output is flushed close now, the rest at the deadline. */
static void stop_step(struct cr_worker *w)
{
	bool late = cr_now_us() >= w->stop_deadline_us;
	for (uint32_t i = 0; i < w->cap; i++) {
		struct cr_peer *p = &w->peers[i];
		if (p->state == PS_FREE || p->state == PS_CLOSING)
			continue;
		if (late || (!p->sq_head && !p->send_inflight) || p->state != PS_READY)
			cr_peer_close(w, p, CR_CLOSE_STOP, NULL);
	}
	cr_wheel_wake_soon(w); /* check the deadline even with no peer timers */
	if (atomic_load(&w->npeers) == 0 && !w->closing)
		w->done = true;
}

static void after_batch(struct cr_worker *w)
{
	if (w->br_added) {
		io_uring_buf_ring_advance(w->br, (int)w->br_added);
		w->br_added = 0;
	}
	cr_recv_rearm_all(w);
	while (w->dirty) {
		struct cr_peer *p = w->dirty;
		w->dirty = p->next_dirty;
		p->in_dirty = false;
		cr_peer_flush(w, p);
	}
	cr_reap_closing(w);
	if (w->stopping)
		stop_step(w);
}

static void pin(struct cr_worker *w)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	if (!w->e->cfg.pin_workers || cores < 1)
		return;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET((int)(w->idx % (unsigned)cores), &set);
	pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

void *cr_worker_main(void *arg)
{
	struct cr_worker *w = arg;
	cr_cur_worker = w;
	/* the ring was set up disabled by the starting thread: enabling it
	 * here makes this thread its single issuer */
	int en = cr_enable_rings(&w->ring);
	if (en < 0) {
		cr_log(w->e, CR_LOG_ERROR, "worker %u: io_uring_enable_rings: %s", w->idx, strerror(-en));
		return NULL;
	}
	pin(w);
	for (unsigned i = 0; i < w->nls; i++)
		cr_accept_arm(w, i);
	drain_mailbox(w);
	while (!w->done) {
		int ret = io_uring_submit_and_wait(&w->ring, 1);
		if (ret < 0 && ret != -EINTR && ret != -ETIME && ret != -EBUSY && ret != -EAGAIN) {
			cr_log(w->e, CR_LOG_ERROR, "worker %u: io_uring_submit_and_wait: %s", w->idx,
			       strerror(-ret));
			break;
		}
		unsigned head, n = 0;
		struct io_uring_cqe *cqe;
		io_uring_for_each_cqe(&w->ring, head, cqe) {
			handle_cqe(w, cqe);
			n++;
		}
		io_uring_cq_advance(&w->ring, n);
		after_batch(w);
	}
	io_uring_submit(&w->ring);
	return NULL;
}
