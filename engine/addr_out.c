/* What a worker sends about addresses: the per-peer relay queue that the
 * coordinator fills (MAIL_ADDR_PUSH) and that goes out on the peer's
 * exponential timer (Core's PushAddress / MaybeSendAddr, in
 * engine/policy/addrrelay: 30 s mean, at most CR_ADDR_QUEUE_MAX queued,
 * our own address every 24 h on average), getaddr answers sent at once
 * (MAIL_ADDR_SEND), and the addr-fetch timeout. addr or addrv2 as the
 * peer asked with sendaddrv2 (BIP155). Owner worker thread. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "proto/msg.h"

/* A wall-clock time (the relay state's clock) as a monotonic one. */
static uint64_t to_mono(int64_t wall_us, int64_t now_wall, uint64_t now_mono)
{
	if (wall_us == INT64_MAX)
		return UINT64_MAX;
	return wall_us <= now_wall ? now_mono : now_mono + (uint64_t)(wall_us - now_wall);
}

void cr__addr_send_now(struct cr_worker *w, struct cr_peer *p, const struct cr_peeraddr *a, size_t n,
		       bool mark_known)
{
	struct cr_engine *e = w->e;
	bool v2 = (p->flags & PF_WANTS_ADDRV2) != 0;
	size_t cap = v2 ? CR_MSG_ADDRV2_SIZE_MAX : CR_MSG_ADDR_SIZE_MAX;
	/* the worker's scratch: the wire buffer, and the picked entries in
	 * the first half of addr_scratch (on_addr's, never in use here) */
	if (!w->addr_wire)
		w->addr_wire = malloc(CR_MSG_ADDRV2_SIZE_MAX > CR_MSG_ADDR_SIZE_MAX ? CR_MSG_ADDRV2_SIZE_MAX
										      : CR_MSG_ADDR_SIZE_MAX);
	struct cr_peeraddr *pick = cr__addr_scratch(w);
	if (!w->addr_wire || !pick)
		return;
	uint8_t *buf = w->addr_wire;
	size_t i = 0;
	while (i < n && p->state == PS_READY) {
		size_t k = 0;
		for (; i < n && k < CR_ADDR_MAX_PER_MSG; i++) {
			if (!cr_addr_compatible(v2, &a[i]))
				continue; /* an addr message carries IPv4 and IPv6 only */
			pick[k++] = a[i];
			if (mark_known && p->ar)
				cr_addr_known_insert(p->ar, &e->addr_keys, &a[i]);
		}
		if (!k)
			break;
		struct cr_addr_list l = { .entries = pick, .cap = k, .count = k };
		int len = v2 ? cr_msg_addrv2_encode(buf, cap, &l) : cr_msg_addr_encode(buf, cap, &l);
		if (len < 0 || cr__sendq_msg(w, p, v2 ? "addrv2" : "addr", buf, (size_t)len) < 0)
			break;
		CR_STAT_ADD(w, addrs_sent, k);
	}
}

/* Our own address for the peer, timed now (Core's GetLocalAddrForPeer):
 * only when we listen and were told it. */
static const struct cr_peeraddr *self_addr(struct cr_engine *e, struct cr_peeraddr *tmp)
{
	if (!e->has_self || !e->cfg.listen)
		return NULL;
	*tmp = e->self;
	if (!tmp->port)
		tmp->port = e->port;
	tmp->time = (uint32_t)(cr__wall_us() / 1000000u);
	return tmp;
}

uint64_t cr__addr_due_us(struct cr_worker *w, const struct cr_peer *p)
{
	struct cr_engine *e = w->e;
	if (p->state != PS_READY)
		return UINT64_MAX; /* the handshake timeout runs until then (Core) */
	uint64_t due = UINT64_MAX;
	if (p->type == CR_CONN_ADDR_FETCH)
		due = p->connected_us + (uint64_t)e->cfg.addr_fetch_timeout_ms * 1000u;
	const struct cr_addr_relay *ar = p->ar;
	if (!ar)
		return due;
	int64_t next = ar->nqueue ? ar->next_send_us : INT64_MAX;
	if (e->has_self && e->cfg.listen && ar->next_local_us < next)
		next = ar->next_local_us;
	uint64_t t = to_mono(next, (int64_t)cr__wall_us(), cr__now_us());
	return t < due ? t : due;
}

bool cr__addr_timer(struct cr_worker *w, struct cr_peer *p, uint64_t now_us)
{
	struct cr_engine *e = w->e;
	if (p->type == CR_CONN_ADDR_FETCH &&
	    now_us >= p->connected_us + (uint64_t)e->cfg.addr_fetch_timeout_ms * 1000u) {
		/* Core: "addrfetch connection timeout" */
		cr__peer_close(w, p, CR_CLOSE_ADDR_FETCH_DONE, "addr-fetch timeout");
		return false;
	}
	if (!p->ar || p->state != PS_READY)
		return true;
	struct cr_peeraddr out[CR_ADDR_QUEUE_MAX], tmp; /* self is queued, not added */
	int64_t next;
	size_t n = cr_maybe_send_addr(out, p->ar, &e->addr_keys, self_addr(e, &tmp),
				      (int64_t)cr__wall_us(), &next, &w->addr_rng);
	if (n) /* cr_maybe_send_addr marked them known */
		cr__addr_send_now(w, p, out, n, false);
	return p->state == PS_READY;
}

/* MAIL_ADDR_PUSH and MAIL_ADDR_SEND; the caller frees the mail. */
void cr__addr_mail(struct cr_worker *w, struct cr_mail *c)
{
	struct cr_engine *e = w->e;
	const struct cr__addr_batch *b = c->ptr;
	struct cr_peer *p = cr__peer_by_id(w, c->peer);
	if (!p || p->state != PS_READY) {
		CR_STAT_ADD(w, stale_ids, 1);
		return;
	}
	if (c->kind == MAIL_ADDR_SEND) {
		cr__addr_send_now(w, p, b->a, b->nstore, true);
		CR_STAT_ADD(w, getaddr_answered, 1);
		return;
	}
	struct cr_addr_relay *ar = cr__addr_relay_on(w, p);
	if (!ar)
		return;
	int64_t now = (int64_t)cr__wall_us();
	for (uint32_t i = 0; i < b->nstore; i++)
		cr_push_address(ar, &e->addr_keys, &b->a[i], now, &w->addr_rng);
	cr__node_schedule(w, p);
}
