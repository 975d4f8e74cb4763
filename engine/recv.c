/* Input: one multishot recv per peer drawing from the worker's shared
 * provided-buffer ring, so an idle peer holds no receive buffer. Bytes are
 * parsed in place by the peer's transport (only a message split across
 * receives is copied, by the transport, into its reassembly buffer) and the
 * buffer goes straight back to the ring. A recv that ends (no F_MORE: the
 * ring ran dry with -ENOBUFS, or the kernel stopped it) is re-armed after
 * the completion batch, once the batch's buffers are back in the ring.
 * A large V1 payload, once its header is parsed, is received straight into
 * its buffer: the multishot recv is cancelled, plain recvs fill the room
 * the transport grows as bytes arrive (no MSG_WAITALL: every arrival
 * completes, so the inactivity timer sees a slow sender's bytes), and the
 * multishot recv is re-armed after.
 *
 * Input pauses (the recv is cancelled and not re-armed) for any of three
 * reasons, each cleared on its own: the application keeps more than
 * recv_flood_bytes (Core's fPauseRecv); the peer's send queue is at
 * send_buffer_bytes (Core's fPauseSend: a peer that does not read gets no
 * more of its messages processed, so nothing it asks for is queued); or a
 * large message waits for the receive budget (budget.c). Bytes already in
 * hand when the send queue fills wait in a per-peer stash, in order.
 * Owner worker thread only. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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

/* One message out of the transport: statistics, the receive budget it
 * held, then the node layer. Returns < 0 when the peer was closed. */
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
	cr__budget_release(w, p);
	if (m->reject) {
		/* Core drops these silently (bad checksum, bad command) */
		cr__log(w->e, CR_LOG_DEBUG, CR_LOG_NET, "peer=%llx: dropped %s: %s",
		       (unsigned long long)cr__peer_id(w, p), m->command, cr_strerror(m->reject));
		return 0;
	}
	return cr__node_message(w, p, m, wl);
}

/* Core's fPauseSend: a peer whose send queue is at send_buffer_bytes gets
 * no more input processed until it drains. */
static bool send_blocked(const struct cr_worker *w, const struct cr_peer *p)
{
	return p->sq_bytes > w->e->cfg.send_buffer_bytes;
}

/* Keeps input that may not be processed yet, behind what is already kept.
 * Returns false when the peer was closed for sending too much meanwhile. */
static bool stash_input(struct cr_worker *w, struct cr_peer *p, const uint8_t *in, size_t len)
{
	if (!len)
		return true;
	size_t keep = p->stash_len - p->stash_off;
	/* What can be in flight when a recv is cancelled is at most the
	 * worker's whole buffer ring; and all stashes of a worker together
	 * stay within its receive share. More is a peer pushing on while it
	 * does not read, or one that would take others' budget. */
	size_t ring = (size_t)w->nbufs * w->buf_size;
	if (keep + len > ring || w->stash_total + len > w->recv_share) {
		char t[128];
		snprintf(t, sizeof t, "sent %zu bytes while its input was paused (%s)", keep + len,
			 keep + len > ring ? "more than could be in flight" : "the receive budget is full");
		cr__peer_close(w, p, CR_CLOSE_RESOURCES, t);
		return false;
	}
	uint8_t *nb = malloc(keep + len);
	if (!nb) {
		cr__peer_close(w, p, CR_CLOSE_RESOURCES, "out of memory keeping paused input");
		return false;
	}
	if (keep)
		memcpy(nb, p->stash + p->stash_off, keep);
	memcpy(nb + keep, in, len);
	free(p->stash);
	w->stash_total += len;
	p->stash = nb;
	p->stash_off = 0;
	p->stash_len = (uint32_t)(keep + len);
	cr__budget_account(w, p);
	return true;
}

static void cancel_recv(struct cr_worker *w, struct cr_peer *p)
{
	if (!(p->flags & PF_RECV_ARMED))
		return;
	struct io_uring_sqe *sqe = cr__sqe(&w->ring);
	io_uring_prep_cancel64(sqe, cr__ud(OP_RECV, p->slot, p->gen), 0);
	sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
	io_uring_sqe_set_data64(sqe, cr__ud(OP_CANCEL, 0, 0));
}

void cr__recv_pause(struct cr_worker *w, struct cr_peer *p, unsigned why)
{
	if (p->pause & why)
		return;
	bool was = p->pause != 0;
	p->pause |= (uint8_t)why;
	p->flags |= PF_RECV_PAUSED;
	if (why == PAUSE_FLOOD)
		CR_STAT_ADD(w, recv_pauses, 1);
	else if (why == PAUSE_SEND)
		CR_STAT_ADD(w, recv_send_pauses, 1);
	if (!was)
		cancel_recv(w, p);
}

/* Hands received bytes to the transport, message by message; stops (and
 * stashes the rest) when the peer's send queue is full. */
void cr__recv_feed(struct cr_worker *w, struct cr_peer *p, const uint8_t *in, size_t len)
{
	const uint8_t *start = in, *end = in + len;
	while (len > 0 && (p->state == PS_OPEN || p->state == PS_READY)) {
		if (p->pause & PAUSE_SEND || (p->state == PS_READY && send_blocked(w, p))) {
			cr__recv_pause(w, p, PAUSE_SEND);
			if (!stash_input(w, p, in, len))
				return;
			break;
		}
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
		cr__budget_check(w, p);
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

/* The next direct recv into the room the transport has now (it grows the
 * room as bytes arrive); back to multishot when the message is done. */
static void start_direct(struct cr_worker *w, struct cr_peer *p)
{
	size_t want;
	uint8_t *dst = p->pause ? NULL : cr_transport_recv_direct(p->t, &want);
	cr__budget_account(w, p);
	if (p->pause)
		return; /* resumed by whatever paused it */
	if (!dst || !want) {
		p->flags &= ~PF_DIRECT_PENDING;
		queue_rearm(w, p);
		return;
	}
	struct io_uring_sqe *sqe = cr__sqe(&w->ring);
	io_uring_prep_recv(sqe, p->fd, dst, want, 0);
	sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data64(sqe, cr__ud(OP_DIRECT_RECV, p->slot, p->gen));
	p->flags |= PF_DIRECT_ARMED;
	p->ops++;
}

/* After input: a V1 peer in the middle of a large payload switches to
 * direct receive once its multishot recv has stopped. */
static void maybe_direct(struct cr_worker *w, struct cr_peer *p)
{
	if ((p->flags & PF_DIRECT_PENDING) || p->pause || p->state == PS_CLOSING ||
	    cr_transport_kind(p->t) != CR_TRANSPORT_V1)
		return;
	if (cr_transport_partial_bytes(p->t) < direct_min(w))
		return;
	p->flags |= PF_DIRECT_PENDING;
	if (p->flags & PF_RECV_ARMED)
		cancel_recv(w, p);
	else
		start_direct(w, p);
}

/* Clears one pause reason; with none left, the stash is processed first
 * (it may pause the peer again), then receiving goes on where it stopped. */
void cr__recv_unpause(struct cr_worker *w, struct cr_peer *p, unsigned why)
{
	if (!(p->pause & why) || p->state == PS_CLOSING)
		return;
	p->pause &= (uint8_t)~why;
	if (p->pause)
		return;
	p->flags &= ~PF_RECV_PAUSED;
	while (p->stash && !p->pause && p->state != PS_CLOSING) {
		/* feed from a copy: the feed may stash again (into a new buffer) */
		uint8_t *buf = p->stash;
		size_t off = p->stash_off, len = p->stash_len - p->stash_off;
		w->stash_total -= len;
		p->stash = NULL;
		p->stash_len = p->stash_off = 0;
		cr__recv_feed(w, p, buf + off, len);
		free(buf);
		cr__budget_account(w, p);
	}
	if (p->pause || p->state == PS_CLOSING)
		return;
	if (p->state == PS_OPEN || p->state == PS_READY)
		maybe_direct(w, p);
	if ((p->flags & PF_DIRECT_PENDING) && !(p->flags & (PF_DIRECT_ARMED | PF_RECV_ARMED)))
		start_direct(w, p);
	else if (!(p->flags & (PF_RECV_ARMED | PF_DIRECT_PENDING)))
		queue_rearm(w, p);
}

/* The send queue drained below send_buffer_bytes (sendq.c). */
void cr__recv_send_drained(struct cr_worker *w, struct cr_peer *p)
{
	if (p->pause & PAUSE_SEND)
		cr__recv_unpause(w, p, PAUSE_SEND);
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
		else if ((p->pause & (PAUSE_SEND | PAUSE_BUDGET)) || p->stash)
			stash_input(w, p, data, (size_t)res); /* in flight when it paused */
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
		cr__recv_pause(w, p, PAUSE_FLOOD);
	if (p->state == PS_OPEN || p->state == PS_READY)
		maybe_direct(w, p);
	if (!more && (p->flags & PF_DIRECT_PENDING) && !(p->flags & PF_DIRECT_ARMED))
		start_direct(w, p);
	else if (!more && !p->pause && !(p->flags & PF_DIRECT_PENDING))
		queue_rearm(w, p);
}

/* The application released n bytes it kept (cr_recv_done). */
void cr__recv_release(struct cr_worker *w, struct cr_peer *p, size_t n)
{
	p->held_bytes = n > p->held_bytes ? 0 : p->held_bytes - n;
	if (p->held_bytes <= w->e->cfg.recv_flood_bytes)
		cr__recv_unpause(w, p, PAUSE_FLOOD);
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
	p->last_recv_us = cr__now_us(); /* each arrival: a slow sender is not idle */
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
	if (p->held_bytes > w->e->cfg.recv_flood_bytes)
		cr__recv_pause(w, p, PAUSE_FLOOD);
	if (m.command[0] && p->state == PS_READY && send_blocked(w, p))
		cr__recv_pause(w, p, PAUSE_SEND);
	if (p->pause) {
		/* a completed message ends the direct receive; mid-message it
		 * goes on from where it stopped once unpaused */
		if (m.command[0])
			p->flags &= ~PF_DIRECT_PENDING;
		return;
	}
	start_direct(w, p); /* the rest of this payload, or back to multishot */
}
