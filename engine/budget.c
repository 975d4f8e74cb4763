/* What all peers together can make us hold, bounded in sum.
 *
 * Receive side. Every peer may hold a message of up to CR_RECV_FREE_BYTES
 * (64 KiB) being received without asking; a larger one (up to 4,000,000
 * bytes once the handshake is done; during it the transport refuses more
 * than CR_HANDSHAKE_MAX_PAYLOAD) first reserves its whole declared size
 * from its worker's share of the receive budget (recv_budget_bytes /
 * workers). The transport's buffer still grows only as the bytes arrive;
 * the reservation just guarantees the room is there, so peers that were
 * admitted always finish and no two can wait on each other. A peer whose
 * reservation does not fit waits (PAUSE_BUDGET: its recv is cancelled),
 * oldest first, until finished messages give budget back; only peers
 * holding large partial messages ever wait, never the whole worker. A
 * reserved peer that sends nothing for budget_stall_ms while others wait is
 * disconnected ("disconnect one that stalls"): a liar that declares 4 MB
 * and goes quiet holds the budget only that long. An empty share always
 * admits one message, so a share below 4 MB never starves a peer.
 *
 * Send side. Every send buffer alive is counted once in e->send_mem (a
 * broadcast's shared buffer once however many peers hold it). Over
 * send_budget_bytes, broadcasts and sends skip peers that are not writable
 * (their queue is at send_buffer_bytes), and a peer whose queue has not
 * moved for budget_stall_ms is disconnected, which drops its references.
 * Independently of the budget, a peer's queue may never exceed
 * send_queue_max_bytes (sendq.c closes it).
 *
 * Both scans run after a completion batch when due (at most every 100 ms,
 * only while someone waits or the send budget is exceeded). Owner worker
 * thread only, except cr__budget_setup (the thread starting the engine). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "engine/internal.h"

#define SCAN_EVERY_US 100000u
#define MiB (1024ull * 1024)

/* The default for both budgets: a sixteenth of the machine's memory,
 * between 64 MiB and 8 GiB (1.5 GiB on a 24 GiB machine). */
static size_t default_budget(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
	uint64_t mem = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 4096 * MiB;
	uint64_t b = mem / 16;
	if (b < 64 * MiB)
		b = 64 * MiB;
	if (b > 8192 * MiB)
		b = 8192 * MiB;
	return (size_t)b;
}

void cr__budget_setup(struct cr_engine *e)
{
	struct cr_config *c = &e->cfg;
	if (!c->recv_budget_bytes)
		c->recv_budget_bytes = default_budget();
	if (!c->send_budget_bytes)
		c->send_budget_bytes = default_budget();
	if (!c->send_queue_max_bytes)
		c->send_queue_max_bytes = c->send_buffer_bytes + CR_V1_MAX_PAYLOAD + CR_RECV_FREE_BYTES;
	for (unsigned i = 0; i < e->nworkers; i++)
		e->w[i].recv_share = c->recv_budget_bytes / (e->nworkers ? e->nworkers : 1);
}

/* Re-counts the receive memory a peer holds (transport buffer + stash)
 * into the worker's gauge. Call after anything that may change it. */
void cr__budget_account(struct cr_worker *w, struct cr_peer *p)
{
	size_t now = (p->flags & PF_T_INIT) && p->t ? cr_transport_buffer_bytes(p->t) : 0;
	if (p->stash)
		now += p->stash_len;
	if (now == p->recv_mem)
		return;
	CR_STAT_ADD(w, recv_held_bytes, (uint64_t)now - (uint64_t)p->recv_mem);
	p->recv_mem = (uint32_t)now;
}

static void list_remove(struct cr_worker *w, struct cr_peer *p)
{
	struct cr_peer **head = p->budget_list == BL_RESERVED ? &w->res_head : &w->wait_head;
	if (p->budget_list == BL_NONE)
		return;
	if (p->bprev)
		p->bprev->bnext = p->bnext;
	else
		*head = p->bnext;
	if (p->bnext)
		p->bnext->bprev = p->bprev;
	else if (p->budget_list == BL_WAITING)
		w->wait_tail = p->bprev;
	p->bnext = p->bprev = NULL;
	p->budget_list = BL_NONE;
}

static void reserve(struct cr_worker *w, struct cr_peer *p, size_t bytes)
{
	p->recv_reserved = (uint32_t)bytes;
	w->recv_reserved += bytes;
	CR_STAT_ADD(w, recv_reserved_bytes, bytes);
	p->budget_list = BL_RESERVED;
	p->bprev = NULL;
	p->bnext = w->res_head;
	if (w->res_head)
		w->res_head->bprev = p;
	w->res_head = p;
}

static bool fits(const struct cr_worker *w, size_t bytes)
{
	return w->recv_reserved == 0 || w->recv_reserved + bytes <= w->recv_share;
}

static void scan_soon(struct cr_worker *w)
{
	if (!w->budget_scan_us) {
		w->budget_scan_us = cr__now_us() + SCAN_EVERY_US;
		cr__wheel_wake_soon(w);
	}
}

/* After input: a peer whose message in progress is larger than the free
 * allowance needs a reservation before more of it is received. */
void cr__budget_check(struct cr_worker *w, struct cr_peer *p)
{
	cr__budget_account(w, p);
	if (p->recv_reserved || p->budget_list == BL_WAITING || !(p->flags & PF_T_INIT))
		return;
	size_t need = cr_transport_partial_bytes(p->t);
	if (need <= CR_RECV_FREE_BYTES)
		return;
	if (fits(w, need)) {
		reserve(w, p, need);
		return;
	}
	p->budget_list = BL_WAITING;
	p->bnext = NULL;
	p->bprev = w->wait_tail;
	if (w->wait_tail)
		w->wait_tail->bnext = p;
	else
		w->wait_head = p;
	w->wait_tail = p;
	CR_STAT_ADD(w, recv_budget_waits, 1);
	cr__recv_pause(w, p, PAUSE_BUDGET);
	scan_soon(w);
}

/* Admits waiters, oldest first, while their reservations fit. */
static void admit(struct cr_worker *w)
{
	while (w->wait_head) {
		struct cr_peer *p = w->wait_head;
		size_t need = cr_transport_partial_bytes(p->t);
		if (need > CR_RECV_FREE_BYTES && !fits(w, need))
			return;
		list_remove(w, p);
		if (need > CR_RECV_FREE_BYTES)
			reserve(w, p, need);
		cr__recv_unpause(w, p, PAUSE_BUDGET);
	}
}

static void give_back(struct cr_worker *w, struct cr_peer *p)
{
	if (!p->recv_reserved)
		return;
	w->recv_reserved -= p->recv_reserved;
	CR_STAT_ADD(w, recv_reserved_bytes, -(uint64_t)p->recv_reserved);
	p->recv_reserved = 0;
	list_remove(w, p);
}

/* A message completed: its reservation goes back to the share. */
void cr__budget_release(struct cr_worker *w, struct cr_peer *p)
{
	if (!p->recv_reserved)
		return;
	give_back(w, p);
	admit(w);
}

/* The peer's slot is freed: off every list, nothing held. */
void cr__budget_forget(struct cr_worker *w, struct cr_peer *p)
{
	bool had = p->recv_reserved != 0;
	give_back(w, p);
	list_remove(w, p);
	if (p->stash)
		w->stash_total -= p->stash_len - p->stash_off;
	free(p->stash);
	p->stash = NULL;
	p->stash_len = p->stash_off = 0;
	p->pause = 0;
	if (p->recv_mem) {
		CR_STAT_ADD(w, recv_held_bytes, -(uint64_t)p->recv_mem);
		p->recv_mem = 0;
	}
	if (had)
		admit(w);
}

bool cr__send_over_budget(const struct cr_engine *e)
{
	return atomic_load_explicit(&e->send_mem, memory_order_relaxed) > e->cfg.send_budget_bytes;
}

/* The reserved peer that has been silent longest, if past the stall time
 * (peers we paused ourselves are not stalling). */
static void close_recv_staller(struct cr_worker *w, uint64_t now, uint64_t stall)
{
	struct cr_peer *worst = NULL;
	for (struct cr_peer *p = w->res_head; p; p = p->bnext)
		if (!p->pause && p->state != PS_CLOSING && now - p->last_recv_us >= stall &&
		    (!worst || p->last_recv_us < worst->last_recv_us))
			worst = p;
	if (!worst)
		return;
	unsigned waiting = 0;
	for (struct cr_peer *q = w->wait_head; q; q = q->bnext)
		waiting++;
	char t[160];
	snprintf(t, sizeof t, "silent %llu ms holding a %u-byte message reservation while %u peers "
		 "wait for the receive budget", (unsigned long long)((now - worst->last_recv_us) / 1000),
		 worst->recv_reserved, waiting);
	CR_STAT_ADD(w, budget_stall_closes, 1);
	cr__peer_close(w, worst, CR_CLOSE_RESOURCES, t);
}

/* Over the send budget: the non-writable peer whose queue has not moved
 * longest, if past the stall time. */
static void close_send_staller(struct cr_worker *w, uint64_t now, uint64_t stall)
{
	struct cr_peer *worst = NULL;
	size_t limit = w->e->cfg.send_buffer_bytes;
	for (uint32_t i = 0; i < w->cap; i++) {
		struct cr_peer *p = &w->peers[i];
		if (p->state != PS_READY || p->sq_bytes < limit)
			continue;
		uint64_t since = p->last_send_us > p->connected_us ? p->last_send_us : p->connected_us;
		if (now - since >= stall && (!worst || since < (worst->last_send_us > worst->connected_us
								  ? worst->last_send_us : worst->connected_us)))
			worst = p;
	}
	if (!worst)
		return;
	char t[160];
	snprintf(t, sizeof t, "send queue of %zu bytes has not moved for %u ms while the send budget "
		 "(%zu bytes) is exceeded", worst->sq_bytes, w->e->cfg.budget_stall_ms,
		 w->e->cfg.send_budget_bytes);
	CR_STAT_ADD(w, budget_stall_closes, 1);
	cr__peer_close(w, worst, CR_CLOSE_RESOURCES, t);
}

/* After a batch: when a scan is due, disconnect at most one receive and
 * one send staller, and keep scanning while the pressure lasts. */
void cr__budget_scan(struct cr_worker *w)
{
	bool send_over = cr__send_over_budget(w->e);
	if (!w->wait_head && !send_over) {
		w->budget_scan_us = 0;
		return;
	}
	uint64_t now = cr__now_us();
	if (!w->budget_scan_us) {
		scan_soon(w);
		return;
	}
	if (now < w->budget_scan_us) {
		cr__wheel_wake_soon(w); /* woken early: come back for it */
		return;
	}
	uint64_t stall = (uint64_t)w->e->cfg.budget_stall_ms * 1000u;
	if (w->wait_head)
		close_recv_staller(w, now, stall);
	if (send_over)
		close_send_staller(w, now, stall);
	w->budget_scan_us = 0;
	scan_soon(w);
}
