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

/* Payloads at least this large (and at least two provided buffers) are
 * received straight into place. */
#define DIRECT_MIN_BYTES 32768
#include "proto/err.h"

void cr__recv_arm(struct cr_worker *w, struct cr_peer *p)
{
	if ((p->flags & (PF_RECV_ARMED | PF_RECV_PAUSED | PF_DIRECT_PENDING)) || p->fd < 0 ||
	    p->state == PS_CLOSING || p->state == PS_CONNECTING || w->done)
		return;
	struct io_uring_sqe *sqe = cr__sqe(&w->ring);
	io_uring_prep_recv_multishot(sqe, p->fd, NULL, 0, 0);
	sqe->flags |= IOSQE_FIXED_FILE | IOSQE_BUFFER_SELECT;
	sqe->buf_group = 0;
	io_uring_sqe_set_data64(sqe, cr__ud(OP_RECV, p->slot, p->gen));
	p->flags |= PF_RECV_ARMED;
}

static void queue_rearm(struct cr_worker *w, struct cr_peer *p)
{
	if (p->flags & PF_REARM_QUEUED)
		return;
	p->flags |= PF_REARM_QUEUED;
	p->next_rearm = w->rearm;
	w->rearm = p;
}

/* After the batch: buffers are published, so the re-armed recvs find some. */
void cr__recv_rearm_all(struct cr_worker *w)
{
	struct cr_peer *p = w->rearm;
	w->rearm = NULL;
	while (p) {
		struct cr_peer *next = p->next_rearm;
		p->flags &= ~PF_REARM_QUEUED;
		cr__recv_arm(w, p);
		p = next;
	}
}

/* One message out of the transport: statistics, then the node layer.
 * Returns < 0 when the peer was closed. */
static int deliver(struct cr_worker *w, struct cr_peer *p, const struct cr_msg *m, bool copied)
{
	/* exact: a V2 command name may be sent in 1 or 13 bytes */
	size_t wl = cr_transport_last_wire_len(p->t);
	struct cr_msg_row *r = cr__peer_row(p, m->command);
	r->msgs_recv++;
	r->bytes_recv += wl;
	p->msgs_recv++;
	CR_STAT_ADD(w, msgs_recv, 1);
	if (copied)
		CR_STAT_ADD(w, recv_copied_bytes, m->len - (p->direct_got < m->len ? p->direct_got : m->len));
	p->direct_got = 0;
	if (m->reject) {
		/* Core drops these silently (bad checksum, bad command) */
		cr__log(w->e, CR_LOG_DEBUG, CR_LOG_NET, "peer=%llx: dropped %s: %s",
		       (unsigned long long)cr__peer_id(w, p), m->command, cr_strerror(m->reject));
		return 0;
	}
	return cr__node_message(w, p, m, wl);
}

/* Hands received bytes to the transport, message by message. */
void cr__recv_feed(struct cr_worker *w, struct cr_peer *p, const uint8_t *in, size_t len)
{
	const uint8_t *start = in, *end = in + len;
	while (len > 0 && (p->state == PS_OPEN || p->state == PS_READY)) {
		struct cr_msg m;
		int n = cr_transport_recv(p->t, &m, in, len);
		if (n < 0) {
			cr__peer_close(w, p, CR_CLOSE_PROTOCOL, cr_strerror(n));
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
		cr__sendq_pump_transport(w, p);
		cr__node_progress(w, p);
	}
}

/* Payloads at least this large are received directly. */
static size_t direct_min(const struct cr_worker *w)
{
	size_t m = 2 * (size_t)w->buf_size;
	return m < DIRECT_MIN_BYTES ? DIRECT_MIN_BYTES : m;
}

static void start_direct(struct cr_worker *w, struct cr_peer *p)
{
	size_t want;
	uint8_t *dst = cr_transport_recv_direct(p->t, &want);
	if (!dst || !want) {
		p->flags &= ~PF_DIRECT_PENDING;
		queue_rearm(w, p);
		return;
	}
	struct io_uring_sqe *sqe = cr__sqe(&w->ring);
	io_uring_prep_recv(sqe, p->fd, dst, want, MSG_WAITALL);
	sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data64(sqe, cr__ud(OP_DIRECT_RECV, p->slot, p->gen));
	p->flags |= PF_DIRECT_ARMED;
	p->ops++;
}

/* After input: a V1 peer in the middle of a large payload switches to
 * direct receive once its multishot recv has stopped. */
static void maybe_direct(struct cr_worker *w, struct cr_peer *p)
{
	if ((p->flags & (PF_DIRECT_PENDING | PF_RECV_PAUSED)) || p->state == PS_CLOSING ||
	    cr_transport_kind(p->t) != CR_TRANSPORT_V1)
		return;
	size_t want;
	if (!cr_transport_recv_direct(p->t, &want) || want < direct_min(w))
		return;
	p->flags |= PF_DIRECT_PENDING;
	if (p->flags & PF_RECV_ARMED) {
		struct io_uring_sqe *sqe = cr__sqe(&w->ring);
		io_uring_prep_cancel64(sqe, cr__ud(OP_RECV, p->slot, p->gen), 0);
		sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
		io_uring_sqe_set_data64(sqe, cr__ud(OP_CANCEL, 0, 0));
	} else {
		start_direct(w, p);
	}
}

static void pause_recv(struct cr_worker *w, struct cr_peer *p)
{
	if (p->flags & PF_RECV_PAUSED)
		return;
	p->flags |= PF_RECV_PAUSED;
	CR_STAT_ADD(w, recv_pauses, 1);
	if (p->flags & PF_RECV_ARMED) {
		struct io_uring_sqe *sqe = cr__sqe(&w->ring);
		io_uring_prep_cancel64(sqe, cr__ud(OP_RECV, p->slot, p->gen), 0);
		sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
		io_uring_sqe_set_data64(sqe, cr__ud(OP_CANCEL, 0, 0));
	}
}

void cr__recv_complete(struct cr_worker *w, struct cr_peer *p, int res, uint32_t flags)
{
	bool more = flags & IORING_CQE_F_MORE;
	if (!more)
		p->flags &= ~PF_RECV_ARMED;
	if (res > 0 && (flags & IORING_CQE_F_BUFFER)) {
		unsigned bid = flags >> IORING_CQE_BUFFER_SHIFT;
		const uint8_t *data = w->bufs + (size_t)bid * w->buf_size;
		p->bytes_recv += (uint64_t)res;
		p->last_recv_us = cr__now_us();
		CR_STAT_ADD(w, bytes_recv, (uint64_t)res);
		if (p->state == PS_PROXY)
			cr__proxy_recv(w, p, data, (size_t)res);
		else
			cr__recv_feed(w, p, data, (size_t)res);
		cr__buf_return(w, bid);
	} else if (res == -ENOBUFS) {
		/* the ring ran dry: not the peer's fault; give the kernel more
		 * buffers (up to recv_buf_count) and re-arm after the batch */
		CR_STAT_ADD(w, recv_enobufs, 1);
		cr__bufs_grow(w);
	} else if (res == 0) {
		if (p->state == PS_CLOSING)
			return;
		if (!(p->flags & PF_INBOUND) && (p->flags & PF_T_INIT) && cr_transport_eof(p->t) == CR_E_V2_V1FALLBACK) {
			cr__peer_close(w, p, CR_CLOSE_V1_RETRY, "peer closed during V2 key exchange");
			cr__connect_retry_v1(w, p);
			return;
		}
		cr__peer_close(w, p, CR_CLOSE_EOF, NULL);
		return;
	} else if (res == -ECONNRESET && !(p->flags & PF_INBOUND) && p->state == PS_OPEN && (p->flags & PF_T_INIT) &&
		   cr_transport_eof(p->t) == CR_E_V2_V1FALLBACK) {
		/* a V1-only node may reset rather than close on our V2 key */
		cr__peer_close(w, p, CR_CLOSE_V1_RETRY, "peer reset during V2 key exchange");
		cr__connect_retry_v1(w, p);
		return;
	} else if (res < 0 && res != -ECANCELED) {
		cr__peer_close(w, p, CR_CLOSE_SOCKET, strerror(-res));
		return;
	}
	if (p->state == PS_CLOSING)
		return;
	if (p->held_bytes > w->e->cfg.recv_flood_bytes)
		pause_recv(w, p);
	if (p->state == PS_OPEN || p->state == PS_READY)
		maybe_direct(w, p);
	if (!more && (p->flags & PF_DIRECT_PENDING) && !(p->flags & PF_DIRECT_ARMED))
		start_direct(w, p);
	else if (!more && !(p->flags & PF_RECV_PAUSED) && !(p->flags & PF_DIRECT_PENDING))
		queue_rearm(w, p);
}

/* The application released n bytes it kept (cr_recv_done). */
void cr__recv_release(struct cr_worker *w, struct cr_peer *p, size_t n)
{
	p->held_bytes = n > p->held_bytes ? 0 : p->held_bytes - n;
	if ((p->flags & PF_RECV_PAUSED) && p->held_bytes <= w->e->cfg.recv_flood_bytes) {
		p->flags &= ~PF_RECV_PAUSED;
		if (!(p->flags & PF_RECV_ARMED))
			queue_rearm(w, p);
	}
}

void cr__recv_direct_complete(struct cr_worker *w, struct cr_peer *p, int res)
{
	cr__peer_op_done(w, p);
	p->flags &= ~PF_DIRECT_ARMED;
	if (p->state == PS_CLOSING)
		return;
	if (res <= 0) {
		if (res == 0)
			cr__peer_close(w, p, CR_CLOSE_EOF, NULL);
		else
			cr__peer_close(w, p, CR_CLOSE_SOCKET, strerror(-res));
		return;
	}
	p->bytes_recv += (uint64_t)res;
	p->last_recv_us = cr__now_us();
	p->direct_got += (uint32_t)res;
	CR_STAT_ADD(w, bytes_recv, (uint64_t)res);
	CR_STAT_ADD(w, recv_direct_bytes, (uint64_t)res);
	struct cr_msg m;
	int n = cr_transport_recv_commit(p->t, &m, (size_t)res);
	if (n < 0) {
		cr__peer_close(w, p, CR_CLOSE_PROTOCOL, cr_strerror(n));
		return;
	}
	if (m.command[0] && deliver(w, p, &m, true) < 0)
		return;
	cr__sendq_pump_transport(w, p);
	if (p->state == PS_CLOSING)
		return;
	if (p->held_bytes > w->e->cfg.recv_flood_bytes) {
		p->flags &= ~PF_DIRECT_PENDING;
		pause_recv(w, p);
		return;
	}
	start_direct(w, p); /* the rest of this payload, or back to multishot */
}
