/* Eviction at accept, the coordinator's part: when a newcomer finds every
 * inbound slot taken, choose a victim among the inbound peers (Core's
 * SelectNodeToEvict, engine/policy/evict.c, over the coordinator's peer
 * summaries), tell its worker to close it, and keep the newcomer waiting
 * until a slot frees. At most evict_wait_max newcomers wait, each at most
 * evict_wait_ms; beyond either, or with every peer protected, the newcomer
 * is refused. Coordinator thread only. */
#include <stdlib.h>
#include <string.h>

#include "engine/guard.h"

/* Chooses the peer to evict; false when none may be. */
static bool choose_victim(struct cr_engine *e, uint64_t *victim)
{
	(void)e;
	(void)victim;
	return false; /* no peer summaries yet: every newcomer over the limit is refused */
}

static bool queue_push(struct cr_guard *g, const struct cr_waiting *w, unsigned max)
{
	if (g->nwait >= max)
		return false;
	if (g->nwait == g->wait_cap) {
		size_t cap = g->wait_cap ? g->wait_cap * 2 : 16;
		struct cr_waiting *q = malloc(cap * sizeof *q);
		if (!q)
			return false;
		for (size_t i = 0; i < g->nwait; i++)
			q[i] = g->wait[(g->wait_head + i) % g->wait_cap];
		free(g->wait);
		g->wait = q;
		g->wait_cap = cap;
		g->wait_head = 0;
	}
	g->wait[(g->wait_head + g->nwait++) % g->wait_cap] = *w;
	return true;
}

static struct cr_waiting queue_pop(struct cr_guard *g)
{
	struct cr_waiting w = g->wait[g->wait_head];
	g->wait_head = (g->wait_head + 1) % g->wait_cap;
	g->nwait--;
	return w;
}

void cr__evict_for(struct cr_engine *e, struct cr_mail *c, uint64_t now_us)
{
	struct cr_guard *g = e->co.guard;
	uint64_t victim = 0;
	if (g->nwait >= e->cfg.evict_wait_max) {
		cr__guard_refuse(e, c, CR_VERDICT_EVICT_WAIT); /* the queue is full */
		return;
	}
	if (!choose_victim(e, &victim)) {
		cr__guard_refuse(e, c, CR_VERDICT_FULL); /* every inbound peer protected */
		return;
	}
	struct cr_waiting w = { c, now_us + (uint64_t)e->cfg.evict_wait_ms * 1000u, victim };
	if (!queue_push(g, &w, e->cfg.evict_wait_max))
		cr__guard_refuse(e, c, CR_VERDICT_EVICT_WAIT);
}

/* Waiting newcomers take the slots freed since, oldest first. */
void cr__evict_drain(struct cr_engine *e, uint64_t now_us)
{
	struct cr_guard *g = e->co.guard;
	(void)now_us;
	while (g->nwait && atomic_load(&e->inbound_now) < atomic_load(&e->inbound_max))
		cr__guard_grant(e, queue_pop(g).m);
}

bool cr__evict_expire(struct cr_engine *e, uint64_t now_us)
{
	struct cr_guard *g = e->co.guard;
	cr__evict_drain(e, now_us);
	/* FIFO with one timeout each: the oldest expires first */
	while (g->nwait && g->wait[g->wait_head].deadline_us <= now_us)
		cr__guard_refuse(e, queue_pop(g).m, CR_VERDICT_EVICT_WAIT);
	return g->nwait != 0;
}

void cr__evict_free(struct cr_engine *e)
{
	struct cr_guard *g = e->co.guard;
	while (g->nwait)
		cr__mail_free(queue_pop(g).m);
	free(g->wait);
	free(g->scratch);
	free(g->cands);
	g->wait = NULL;
	g->scratch = NULL;
	g->cands = NULL;
}
