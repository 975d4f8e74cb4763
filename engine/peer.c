/* Peer slots: the per-worker slab, ids (worker, slot, generation), the close
 * protocol and peer snapshots. A handler never frees its peer: it marks it
 * closing (the application hears on_peer_closed at once and the id goes
 * stale), shuts the socket down so in-flight operations end, and the slot is
 * freed after the completion batch once no operation is left. Owner worker
 * thread only, except the atomic public words read by cr_peer_writable. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr/netclass.h"
#include "addr/netgroup.h"
#include "engine/internal.h"

/* Our V2 garbage is 0 .. GARBAGE_LEN_BOUND - 1 bytes (BIP324 allows 4095). */
#define GARBAGE_LEN_BOUND 64
#include "proto/err.h"

struct cr_peer *cr__peer_alloc(struct cr_worker *w)
{
	if (!w->nfree)
		return NULL;
	/* a freed slot first (its pages are resident), else a fresh one */
	uint32_t slot = w->nstack ? w->free_slots[--w->nstack] : w->fresh++;
	w->nfree--;
	if (w->stopping)
		w->stop_walked = false; /* a connect that raced the stop: walk again */
	struct cr_peer *p = &w->peers[slot];
	uint32_t gen = p->gen + 1;
	if (gen == 0)
		gen = 1; /* 0 marks a free slot in the public word */
	memset(p, 0, sizeof *p);
	p->gen = gen;
	p->slot = slot;
	p->fd = -1;
	p->manual = UINT32_MAX;
	p->sq_tail = &p->sq_head;
	p->ping_last_us = p->ping_min_us = -1;
	p->t = (struct cr_transport *)(w->tmem + (size_t)slot * w->tsize);
	p->connected_us = p->last_send_us = p->last_recv_us = p->open_us = cr__now_us();
	p->connected_wall_us = cr__wall_us();
	p->state = PS_CONNECTING;
	atomic_fetch_add_explicit(&w->npeers, 1, memory_order_relaxed);
	CR_STAT_ADD(w, peers, 1);
	cr__peer_publish(w, p);
	if (!w->nfree)
		cr__accept_pause(w);
	return p;
}

/* The public word other threads read: generation while the peer is live
 * (not closing), and the writable/ready bits. */
void cr__peer_publish(struct cr_worker *w, struct cr_peer *p)
{
	uint64_t v = 0;
	/* a newcomer not yet admitted has no id anyone knows */
	if (p->state != PS_FREE && p->state != PS_CLOSING && p->state != PS_ACCEPTING) {
		v = p->gen;
		if (p->sq_bytes <= w->e->cfg.send_buffer_bytes)
			v |= CR_PUB_WRITABLE;
		if (p->state == PS_READY)
			v |= CR_PUB_READY;
	}
	atomic_store_explicit(&w->pub[p->slot], v, memory_order_release);
}

struct cr_peer *cr__peer_get(struct cr_worker *w, uint32_t slot, uint32_t gen)
{
	if (slot >= w->fresh)
		return NULL;
	struct cr_peer *p = &w->peers[slot];
	if (p->gen != gen || p->state == PS_FREE)
		return NULL;
	return p;
}

/* A live (not closing) peer of this worker by id, or NULL for a stale id. */
struct cr_peer *cr__peer_by_id(struct cr_worker *w, uint64_t id)
{
	if (cr__id_worker(id) != w->idx)
		return NULL;
	struct cr_peer *p = cr__peer_get(w, cr__id_slot(id), cr__id_gen(id));
	if (!p || p->state == PS_CLOSING)
		return NULL;
	return p;
}

uint64_t cr__peer_id(const struct cr_worker *w, const struct cr_peer *p)
{
	return cr__id_make(w->idx, p->slot, p->gen);
}

/* Starts the peer's transport. Outbound V2 draws fresh keys and garbage;
 * inbound with V2 enabled starts a responder that detects V1 itself. */
int cr__peer_transport_start(struct cr_worker *w, struct cr_peer *p, bool initiator, bool v2)
{
	struct cr_engine *e = w->e;
	if (!v2) {
		int r = cr_transport_init_v1(p->t, e->chain);
		cr__peer_flag(p, PF_T_INIT, r == 0);
		if (r == 0) /* until the handshake is done, no large messages */
			cr_transport_set_limit(p->t, CR_HANDSHAKE_MAX_PAYLOAD);
		return r;
	}
	struct cr_v2_entropy rnd;
	cr__wrandom(w, rnd.seckey, sizeof rnd.seckey);
	cr__wrandom(w, rnd.ell_rnd, sizeof rnd.ell_rnd);
	uint16_t g;
	cr__wrandom(w, &g, sizeof g);
	/* BIP324: 0..4095 bytes of garbage. Short garbage keeps the first
	 * flight in one packet; its length is still random. */
	rnd.garbage_len = g % GARBAGE_LEN_BOUND;
	cr__wrandom(w, rnd.garbage, rnd.garbage_len);
	int ret = cr_transport_init_v2(p->t, e->chain, w->secp, initiator, &rnd);
	explicit_bzero(&rnd, sizeof rnd); /* our ephemeral secret key */
	cr__peer_flag(p, PF_T_INIT, ret == 0);
	if (ret == 0)
		cr_transport_set_limit(p->t, CR_HANDSHAKE_MAX_PAYLOAD);
	return ret;
}

/* Tells the coordinator an admitted inbound peer is gone, so its netgroup
 * count drops and a newcomer waiting for a slot may take this one. Not at
 * stop: the coordinator has ended by then. */
static void inbound_down(struct cr_worker *w, struct cr_peer *p)
{
	struct cr_engine *e = w->e;
	if (w->stopping || atomic_load(&e->stop_flag))
		return;
	struct cr_mail *m = cr__mail_new(MAIL_INBOUND_DOWN, 0);
	if (!m)
		return; /* its netgroup stays counted one too high: only the flood cap reads it */
	m->peer = cr__peer_id(w, p);
	m->admit.keyed_netgroup = p->keyed_netgroup;
	cr__mailbox_post(e, &e->co.mb, m);
}

/* Marks a peer closing. Its operations are cancelled by shutting the
 * socket down; cr__reap_closing frees the slot once none is left. */
void cr__peer_close(struct cr_worker *w, struct cr_peer *p, enum cr_close_reason r, const char *text)
{
	struct cr_engine *e = w->e;
	if (p->state == PS_CLOSING || p->state == PS_FREE)
		return;
	bool was_ready = p->state == PS_READY;
	/* a refused newcomer was never announced: no callback names it */
	bool announced = p->state != PS_ACCEPTING;
	bool was_open = p->state == PS_OPEN || p->state == PS_READY;
	uint64_t id = cr__peer_id(w, p);
	p->state = PS_CLOSING;
	cr__peer_publish(w, p);
	cr__timer_cancel(w, &p->tm);
	cr__budget_forget(w, p); /* its reservation goes to waiters now */
	if (p->flags & PF_COUNTED_INBOUND) {
		atomic_fetch_sub(&e->inbound_now, 1);
		p->flags &= ~PF_COUNTED_INBOUND;
		if (announced)
			CR_STAT_ADD(w, inbound, (uint64_t)-1);
		inbound_down(w, p);
	} else if (!(p->flags & PF_INBOUND)) {
		atomic_fetch_sub(&e->outbound_now, 1);
		CR_STAT_ADD(w, outbound, (uint64_t)-1);
	}
	if (was_ready)
		CR_STAT_ADD(w, handshaked, (uint64_t)-1);
	if (p->version_nonce) {
		/* drop our nonce from the self-connection table */
		size_t h = p->version_nonce % CR_NONCE_SLOTS;
		for (size_t i = 0; i < CR_NONCE_PROBES; i++) {
			uint64_t want = p->version_nonce;
			if (atomic_compare_exchange_strong(&e->nonces[(h + i) % CR_NONCE_SLOTS], &want, 0))
				break;
		}
	}
	/* A peer with nothing in flight (typically one that closed on its
	 * own: its recv ended) needs neither call: free_slot closes its
	 * descriptor after this batch. Issuing them anyway cost a disconnect
	 * storm dearly: the shutdown runs on an io-wq thread and keeps the
	 * slot on the closing list (walked every batch) until it ends, and a
	 * cancel by descriptor walks every pending request of the ring. */
	bool inflight = (p->flags & (PF_RECV_ARMED | PF_DIRECT_ARMED | PF_SEND_INFLIGHT)) || p->ops;
	if (p->fd >= 0 && inflight) {
		/* Both name the descriptor by its fixed index, and the kernel
		 * runs shutdown on a helper thread, resolving the index only
		 * then: the slot (and so the index) must not be reused before
		 * both completed, or they would hit the next peer's socket. */
		/* An open peer's recv and send are cancelled by their
		 * user_data: the kernel finds a poll-armed request by it in a
		 * hash and ends it inline, and the slot's close (free_slot)
		 * then sends the FIN. A cancel by descriptor walks every
		 * pending request of the ring (at stop, 20,000 armed recvs per
		 * worker made that quadratic: 71 s to stop 100,000 peers), and
		 * a shutdown runs on an io-wq thread (16 s for them). Other
		 * operations (connect, SOCKS5, peer name, direct receive) still
		 * get the shutdown and the cancel by descriptor; few peers are
		 * in those at once. */
		bool other = !was_open || p->ops || (p->flags & PF_DIRECT_ARMED);
		struct io_uring_sqe *sqe;
		if (other) {
			sqe = cr__sqe(&w->ring);
			io_uring_prep_shutdown(sqe, p->fd, SHUT_RDWR);
			sqe->flags |= IOSQE_FIXED_FILE;
			io_uring_sqe_set_data64(sqe, cr__ud(OP_ABORT, p->slot, p->gen));
			p->ops++;
		}
		uint64_t uds[2];
		unsigned n = 0;
		if (p->flags & PF_RECV_ARMED)
			uds[n++] = cr__ud(OP_RECV, p->slot, p->gen);
		if (p->flags & PF_SEND_INFLIGHT)
			uds[n++] = cr__ud(OP_SEND, p->slot, p->gen);
		for (unsigned i = 0; i < n; i++) {
			sqe = cr__sqe(&w->ring);
			io_uring_prep_cancel64(sqe, uds[i], 0);
			io_uring_sqe_set_data64(sqe, cr__ud(OP_ABORT, p->slot, p->gen));
			p->ops++;
		}
		if (other) {
			sqe = cr__sqe(&w->ring);
			io_uring_prep_cancel_fd(sqe, p->fd, IORING_ASYNC_CANCEL_ALL | IORING_ASYNC_CANCEL_FD_FIXED);
			io_uring_sqe_set_data64(sqe, cr__ud(OP_ABORT, p->slot, p->gen));
			p->ops++;
		}
	}
	char addr[64];
	cr__sockaddr_str(&p->addr, addr, sizeof addr);
	if (r != CR_CLOSE_V1_RETRY && announced) {
		/* debug: on_peer_closed carries the event to the application,
		 * which logs it once */
		cr__log(e, CR_LOG_DEBUG,
		       r == CR_CLOSE_PROXY ? CR_LOG_PROXY : CR_LOG_NET, "disconnect peer=%llx %s %s: %s%s%s", (unsigned long long)id, addr,
		       cr_conn_type_str((enum cr_conn_type)p->type), cr_close_reason_str(r),
		       text ? ": " : "", text ? text : "");
		if (e->cfg.on_peer_closed)
			e->cfg.on_peer_closed(e->cfg.user, id, was_ready, r, text ? text : cr_close_reason_str(r));
	}
	if (was_ready && p->type < CR_CONN_TYPES)
		CR_STAT_ADD_AT(w, CR_STAT_IDX(ready_by_type) + p->type, (uint64_t)-1);
	/* the coordinator hears of every peer it knows (ready ones) and of
	 * every connection it opened; a V1 retry continues the same attempt */
	if (r != CR_CLOSE_V1_RETRY && r != CR_CLOSE_STOP &&
	    (was_ready || p->manual != UINT32_MAX || p->token))
		cr__coord_peer_event(w, p, MAIL_EV_CLOSED, was_ready, r);
	p->next_close = w->closing;
	w->closing = p;
}

void cr__peer_op_done(struct cr_worker *w, struct cr_peer *p)
{
	(void)w;
	if (p->ops)
		p->ops--;
}

static void free_slot(struct cr_worker *w, struct cr_peer *p)
{
	if (p->fd >= 0) {
		struct io_uring_sqe *sqe = cr__sqe(&w->ring);
		io_uring_prep_close_direct(sqe, (unsigned)p->fd);
		sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
		io_uring_sqe_set_data64(sqe, cr__ud(OP_CLOSE, 0, 0));
		p->fd = -1;
		CR_STAT_ADD(w, fixed_files, -1ull);
	}
	cr__sendq_clear(w, p);
	cr__budget_forget(w, p);
	cr__addr_peer_free(p);
	if (p->flags & PF_T_INIT)
		cr_transport_clear(p->t);
	p->flags &= ~PF_T_INIT;
	free(p->socks);
	p->socks = NULL;
	p->state = PS_FREE;
	p->t = NULL;
	atomic_store_explicit(&w->pub[p->slot], 0, memory_order_release);
	w->free_slots[w->nstack++] = p->slot;
	w->nfree++;
	atomic_fetch_sub_explicit(&w->npeers, 1, memory_order_relaxed);
	CR_STAT_ADD(w, peers, (uint64_t)-1);
	cr__accept_resume(w);
}

/* Frees closing peers whose operations have all completed; the rest wait
 * for the next batch. Called by the worker loop between batches. */
void cr__reap_closing(struct cr_worker *w)
{
	struct cr_peer **pp = &w->closing;
	while (*pp) {
		struct cr_peer *p = *pp;
		if (p->ops == 0 && !(p->flags & PF_SEND_INFLIGHT) && !(p->flags & PF_RECV_ARMED)) {
			*pp = p->next_close;
			free_slot(w, p);
		} else {
			pp = &p->next_close;
		}
	}
}

/* The statistics row of a command; commands beyond the table share the
 * last row, named "*other*". */
struct cr_msg_row *cr__peer_row(struct cr_peer *p, const char *cmd)
{
	for (unsigned i = 0; i < p->nrows; i++)
		if (strncmp(p->rows[i].command, cmd, CR_COMMAND_MAX) == 0)
			return &p->rows[i];
	if (p->nrows < CR_MSG_ROWS - 1) {
		struct cr_msg_row *r = &p->rows[p->nrows++];
		snprintf(r->command, sizeof r->command, "%.12s", cmd);
		return r;
	}
	struct cr_msg_row *r = &p->rows[CR_MSG_ROWS - 1];
	if (p->nrows < CR_MSG_ROWS) {
		p->nrows = CR_MSG_ROWS;
		snprintf(r->command, sizeof r->command, "*other*");
	}
	return r;
}

static uint64_t to_wall(const struct cr_peer *p, uint64_t mono)
{
	return p->connected_wall_us + (mono - p->connected_us);
}

/* The netgroup as text: "ipv4:1.2", "ipv6:2001:db8", or the class and the
 * group's bytes in hex for the others ("onion:7f", "local"). */
static void netgroup_text(struct cr_worker *w, const struct cr_peer *p, char *out, size_t cap)
{
	static const char *const cls[] = { "unroutable", "ipv4", "ipv6", "onion", "i2p",
					   "cjdns", "internal", "local" };
	uint8_t g[CR_NETGROUP_MAX];
	size_t n = cr_netgroup(g, &p->na, NULL, w->e->cfg.routable127 ? CR_NETGROUP_LOOPBACK_ROUTABLE : 0);
	size_t o = (size_t)snprintf(out, cap, "%s", g[0] < 8 ? cls[g[0]] : "?");
	if (g[0] == CR_NETCLASS_IPV4 && n == 3) {
		snprintf(out + o, cap - o, ":%u.%u", g[1], g[2]);
		return;
	}
	if (n > 1 && o < cap)
		out[o++] = ':', out[o] = '\0';
	for (size_t i = 1; i < n && o + 3 <= cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "%02x", g[i]);
}

void cr__peer_fill_info(struct cr_worker *w, struct cr_peer *p, struct cr_peer_info *o)
{
	memset(o, 0, sizeof *o);
	o->id = cr__peer_id(w, p);
	o->conn_type = (enum cr_conn_type)p->type;
	o->inbound = (p->flags & PF_INBOUND);
	o->addr = p->addr;
	if (p->host[0])
		snprintf(o->addr_str, sizeof o->addr_str, "%.63s", p->host);
	else
		cr__sockaddr_str(&p->addr, o->addr_str, sizeof o->addr_str);
	if (p->state == PS_OPEN || p->state == PS_READY) {
		enum cr_transport_kind k = cr_transport_kind(p->t);
		o->transport = k == CR_TRANSPORT_V1 ? 1 : k == CR_TRANSPORT_V2 ? 2 : 0;
		const uint8_t *sid = cr_transport_session_id(p->t);
		if (sid)
			memcpy(o->session_id, sid, 32);
	}
	o->handshaked = p->state == PS_READY;
	o->version = p->version;
	o->services = p->services;
	o->start_height = p->start_height;
	o->relay = p->relay;
	memcpy(o->user_agent, p->user_agent, sizeof o->user_agent);
	o->connected_us = p->connected_wall_us;
	o->last_send_us = p->msgs_sent ? to_wall(p, p->last_send_us) : 0;
	o->last_recv_us = p->msgs_recv ? to_wall(p, p->last_recv_us) : 0;
	o->ping_last_us = p->ping_last_us;
	o->ping_min_us = p->ping_min_us;
	o->bytes_sent = p->bytes_sent;
	o->bytes_recv = p->bytes_recv;
	o->msgs_sent = p->msgs_sent;
	o->msgs_recv = p->msgs_recv;
	o->send_queue_bytes = p->sq_bytes;
	o->writable = p->sq_bytes <= w->e->cfg.send_buffer_bytes;
	o->recv_paused = (p->flags & PF_RECV_PAUSED);
	o->permissions = p->perms;
	cr_perm_format(o->permissions_str, sizeof o->permissions_str, p->perms);
	o->keyed_netgroup = p->keyed_netgroup;
	if (p->flags & PF_IDENTIFIED)
		netgroup_text(w, p, o->netgroup, sizeof o->netgroup);
	o->prefer_evict = p->prefer_evict;
	o->misbehavior_score = cr_banscore_get(&p->score, (int64_t)(cr__wall_us() / 1000000u));
	o->network = (p->flags & PF_IDENTIFIED) ? p->netclass : CR_NETWORK_UNROUTABLE;
	o->addr_relay_enabled = p->ar != NULL;
	o->addr_processed = p->ar ? p->ar->processed : 0;
	o->addr_rate_limited = p->ar ? p->ar->rate_limited : 0;
	o->nmsg_stats = p->nrows;
	for (unsigned i = 0; i < p->nrows; i++) {
		memcpy(o->msg_stats[i].command, p->rows[i].command, sizeof o->msg_stats[i].command);
		o->msg_stats[i].msgs_sent = p->rows[i].msgs_sent;
		o->msg_stats[i].msgs_recv = p->rows[i].msgs_recv;
		o->msg_stats[i].bytes_sent = p->rows[i].bytes_sent;
		o->msg_stats[i].bytes_recv = p->rows[i].bytes_recv;
	}
}
