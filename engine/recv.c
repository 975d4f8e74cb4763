/* Input: one multishot recv per peer drawing from the worker's shared
 * provided-buffer ring, so an idle peer holds no receive buffer. Bytes are
 * parsed in place by the peer's transport (only a message split across
 * receives is copied, by the transport, into its reassembly buffer) and the
 * buffer goes straight back to the ring. A recv that ends (no F_MORE: the
 * ring ran dry with -ENOBUFS, or the kernel stopped it) is re-armed after
 * the completion batch, once the batch's buffers are back in the ring.
 * A large V1 payload, once its header is parsed, is received straight into
 * its final buffer: the multishot recv is cancelled, plain recvs
 * (MSG_WAITALL) fill the payload, and the multishot recv is re-armed after.
 * Flow control as Core: while the bytes the application keeps unprocessed
 * exceed recv_flood_bytes, the recv is cancelled and not re-armed. Owner
 * worker thread only. */
#include <errno.h>
#include <string.h>

#include "engine/internal.h"
#include "proto/err.h"

void cr_recv_arm(struct cr_worker *w, struct cr_peer *p)
{
	if (p->recv_armed || p->recv_paused || p->direct_pending || p->fd < 0 || p->state == PS_CLOSING ||
	    p->state == PS_CONNECTING || w->done)
		return;
	struct io_uring_sqe *sqe = cr_sqe(&w->ring);
	io_uring_prep_recv_multishot(sqe, p->fd, NULL, 0, 0);
	sqe->flags |= IOSQE_FIXED_FILE | IOSQE_BUFFER_SELECT;
	sqe->buf_group = 0;
	io_uring_sqe_set_data64(sqe, cr_ud(OP_RECV, p->slot, p->gen));
	p->recv_armed = true;
}

static void queue_rearm(struct cr_worker *w, struct cr_peer *p)
{
	if (p->rearm_queued)
		return;
	p->rearm_queued = true;
	p->next_rearm = w->rearm;
	w->rearm = p;
}

/* After the batch: buffers are published, so the re-armed recvs find some. */
void cr_recv_rearm_all(struct cr_worker *w)
{
	struct cr_peer *p = w->rearm;
	w->rearm = NULL;
	while (p) {
		struct cr_peer *next = p->next_rearm;
		p->rearm_queued = false;
		cr_recv_arm(w, p);
		p = next;
	}
}

/* One message out of the transport: statistics, then the node layer.
 * Returns < 0 when the peer was closed. */
static int deliver(struct cr_worker *w, struct cr_peer *p, const struct cr_msg *m, bool copied)
{
	/* exact: a V2 command name may be sent in 1 or 13 bytes */
	size_t wl = cr_transport_last_wire_len(p->t);
	struct cr_cmd_row *r = cr_peer_row(p, m->command);
	r->msgs_recv++;
	r->bytes_recv += wl;
	p->msgs_recv++;
	CR_STAT_ADD(w, msgs_recv, 1);
	if (copied)
		CR_STAT_ADD(w, recv_copied_bytes, m->len - (p->direct_got < m->len ? p->direct_got : m->len));
	p->direct_got = 0;
	if (m->reject) {
		/* Core drops these silently (bad checksum, bad command) */
		cr_log(w->e, CR_LOG_DEBUG, "peer=%llx: dropped %s: %s",
		       (unsigned long long)cr_peer_id(w, p), m->command, cr_strerror(m->reject));
		return 0;
	}
	return cr_node_message(w, p, m, wl);
}

/* Hands received bytes to the transport, message by message. */
void cr_recv_feed(struct cr_worker *w, struct cr_peer *p, const uint8_t *in, size_t len)
{
	const uint8_t *start = in, *end = in + len;
	while (len > 0 && (p->state == PS_OPEN || p->state == PS_READY)) {
		struct cr_msg m;
		int n = cr_transport_recv(p->t, &m, in, len);
		if (n < 0) {
			cr_peer_close(w, p, CR_CLOSE_PROTOCOL, cr_strerror(n));
			return;
		}
		in += n;
		len -= (size_t)n;
		if (m.command[0]) {
			/* a payload outside this input was reassembled (copied) */
			bool copied = m.len && (m.payload < start || m.payload >= end);
			if (deliver(w, p, &m, copied) < 0)
				return;
		} else if (n == 0) {
			break; /* cannot happen with len > 0; never spin */
		}
	}
	if (p->state == PS_OPEN || p->state == PS_READY) {
		cr_pump_transport(w, p);
		cr_node_progress(w, p);
	}
}

/* Payloads at least this large are received directly. */
static size_t direct_min(const struct cr_worker *w)
{
	size_t m = 2 * (size_t)w->buf_size;
	return m < 32768 ? 32768 : m;
}

static void start_direct(struct cr_worker *w, struct cr_peer *p)
{
	size_t want;
	uint8_t *dst = cr_transport_recv_direct(p->t, &want);
	if (!dst || !want) {
		p->direct_pending = false;
		queue_rearm(w, p);
		return;
	}
	struct io_uring_sqe *sqe = cr_sqe(&w->ring);
	io_uring_prep_recv(sqe, p->fd, dst, want, MSG_WAITALL);
	sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data64(sqe, cr_ud(OP_DIRECT_RECV, p->slot, p->gen));
	p->direct_armed = true;
	p->ops++;
}

/* After input: a V1 peer in the middle of a large payload switches to
 * direct receive once its multishot recv has stopped. */
static void maybe_direct(struct cr_worker *w, struct cr_peer *p)
{
	if (p->direct_pending || p->recv_paused || p->state == PS_CLOSING ||
	    cr_transport_kind(p->t) != CR_TRANSPORT_V1)
		return;
	size_t want;
	if (!cr_transport_recv_direct(p->t, &want) || want < direct_min(w))
		return;
	p->direct_pending = true;
	if (p->recv_armed) {
		struct io_uring_sqe *sqe = cr_sqe(&w->ring);
		io_uring_prep_cancel64(sqe, cr_ud(OP_RECV, p->slot, p->gen), 0);
		sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
		io_uring_sqe_set_data64(sqe, cr_ud(OP_CANCEL, 0, 0));
	} else {
		start_direct(w, p);
	}
}

static void pause_recv(struct cr_worker *w, struct cr_peer *p)
{
	if (p->recv_paused)
		return;
	p->recv_paused = true;
	CR_STAT_ADD(w, recv_pauses, 1);
	if (p->recv_armed) {
		struct io_uring_sqe *sqe = cr_sqe(&w->ring);
		io_uring_prep_cancel64(sqe, cr_ud(OP_RECV, p->slot, p->gen), 0);
		sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
		io_uring_sqe_set_data64(sqe, cr_ud(OP_CANCEL, 0, 0));
	}
}

void cr_recv_complete(struct cr_worker *w, struct cr_peer *p, int res, uint32_t flags)
{
	bool more = flags & IORING_CQE_F_MORE;
	if (!more)
		p->recv_armed = false;
	if (res > 0 && (flags & IORING_CQE_F_BUFFER)) {
		unsigned bid = flags >> IORING_CQE_BUFFER_SHIFT;
		const uint8_t *data = w->bufs + (size_t)bid * w->buf_size;
		p->bytes_recv += (uint64_t)res;
		p->last_recv_us = cr_now_us();
		CR_STAT_ADD(w, bytes_recv, (uint64_t)res);
		if (p->state == PS_PROXY)
			cr_proxy_recv(w, p, data, (size_t)res);
		else
			cr_recv_feed(w, p, data, (size_t)res);
		cr_buf_return(w, bid);
	} else if (res == -ENOBUFS) {
		/* the ring ran dry: not the peer's fault, try again shortly */
		CR_STAT_ADD(w, recv_enobufs, 1);
	} else if (res == 0) {
		if (p->state == PS_CLOSING)
			return;
		if (!p->inbound && p->t_init && cr_transport_eof(p->t) == CR_E_V2_V1FALLBACK) {
			cr_peer_close(w, p, CR_CLOSE_V1_RETRY, "peer closed during V2 key exchange");
			cr_connect_retry_v1(w, p);
			return;
		}
		cr_peer_close(w, p, CR_CLOSE_EOF, NULL);
		return;
	} else if (res == -ECONNRESET && !p->inbound && p->state == PS_OPEN && p->t_init &&
		   cr_transport_eof(p->t) == CR_E_V2_V1FALLBACK) {
		/* a V1-only node may reset rather than close on our V2 key */
		cr_peer_close(w, p, CR_CLOSE_V1_RETRY, "peer reset during V2 key exchange");
		cr_connect_retry_v1(w, p);
		return;
	} else if (res < 0 && res != -ECANCELED) {
		cr_peer_close(w, p, CR_CLOSE_SOCKET, strerror(-res));
		return;
	}
	if (p->state == PS_CLOSING)
		return;
	if (p->held_bytes > w->e->cfg.recv_flood_bytes)
		pause_recv(w, p);
	if (p->state == PS_OPEN || p->state == PS_READY)
		maybe_direct(w, p);
	if (!more && p->direct_pending && !p->direct_armed)
		start_direct(w, p);
	else if (!more && !p->recv_paused && !p->direct_pending)
		queue_rearm(w, p);
}

/* The application released n bytes it kept (cr_recv_done). */
void cr_recv_release(struct cr_worker *w, struct cr_peer *p, size_t n)
{
	p->held_bytes = n > p->held_bytes ? 0 : p->held_bytes - n;
	if (p->recv_paused && p->held_bytes <= w->e->cfg.recv_flood_bytes) {
		p->recv_paused = false;
		if (!p->recv_armed)
			queue_rearm(w, p);
	}
}

void cr_recv_direct_complete(struct cr_worker *w, struct cr_peer *p, int res)
{
	cr_peer_op_done(w, p);
	p->direct_armed = false;
	if (p->state == PS_CLOSING)
		return;
	if (res <= 0) {
		if (res == 0)
			cr_peer_close(w, p, CR_CLOSE_EOF, NULL);
		else
			cr_peer_close(w, p, CR_CLOSE_SOCKET, strerror(-res));
		return;
	}
	p->bytes_recv += (uint64_t)res;
	p->last_recv_us = cr_now_us();
	p->direct_got += (uint32_t)res;
	CR_STAT_ADD(w, bytes_recv, (uint64_t)res);
	CR_STAT_ADD(w, recv_direct_bytes, (uint64_t)res);
	struct cr_msg m;
	int n = cr_transport_recv_commit(p->t, &m, (size_t)res);
	if (n < 0) {
		cr_peer_close(w, p, CR_CLOSE_PROTOCOL, cr_strerror(n));
		return;
	}
	if (m.command[0] && deliver(w, p, &m, true) < 0)
		return;
	cr_pump_transport(w, p);
	if (p->state == PS_CLOSING)
		return;
	if (p->held_bytes > w->e->cfg.recv_flood_bytes) {
		p->direct_pending = false;
		pause_recv(w, p);
		return;
	}
	start_direct(w, p); /* the rest of this payload, or back to multishot */
}
