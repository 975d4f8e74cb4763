/* Eviction at accept, the coordinator's part. When a newcomer finds every
 * inbound slot taken, the candidates are the admitted inbound peers (this
 * file's table: every peer the coordinator admitted, also those still in
 * their handshake, as Core's list holds every connection) filled in from
 * the coordinator's peer summaries (summary.h: min ping, last block and
 * transaction times, relaytxes, services) plus the outbound peers, which
 * the policy keeps; engine/policy/evict chooses as Core's
 * SelectNodeToEvict; the victim's worker is told to close it
 * (CR_CLOSE_EVICTED) and the newcomer waits here until a slot frees. At
 * most evict_wait_max newcomers wait, each at most evict_wait_ms; beyond
 * either, or with every inbound peer protected, the newcomer is refused.
 * The outcome and the reason each candidate was kept go to the debug log
 * and the counters (cr_totals.evict_kept_*).
 *
 * A peer still in its handshake has no summary row: it counts as Core's
 * fresh candidate (no ping, no block, no transaction, not relaying), so it
 * is among the first to go, as in Core. Coordinator thread only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr/netclass.h"
#include "engine/guard.h"
#include "proto/services.h"

/* ---- the admitted inbound peers ---------------------------------------- */

static size_t home(uint64_t id, size_t cap)
{
	id ^= id >> 29;
	id *= 0xbf58476d1ce4e5b9ull;
	return (size_t)(id ^ (id >> 32)) & (cap - 1);
}

/* Slot in the id index holding id (or the empty slot where it would go). */
static size_t index_slot(const struct cr_guard *g, uint64_t id)
{
	size_t h = home(id, g->icap);
	while (g->index[h] && g->in[g->index[h] - 1].id != id)
		h = (h + 1) & (g->icap - 1);
	return h;
}

static int index_grow(struct cr_guard *g)
{
	size_t cap = g->icap ? g->icap * 2 : 64;
	uint32_t *ix = calloc(cap, sizeof *ix);
	if (!ix)
		return -1;
	free(g->index);
	g->index = ix;
	g->icap = cap;
	for (size_t i = 0; i < g->nin; i++)
		g->index[index_slot(g, g->in[i].id)] = (uint32_t)(i + 1);
	return 0;
}

void cr__evict_track(struct cr_engine *e, const struct cr_mail *c)
{
	struct cr_guard *g = e->co.guard;
	if ((g->nin + 1) * 2 > g->icap && index_grow(g) < 0)
		return;
	if (g->nin == g->in_cap) {
		size_t cap = g->in_cap ? g->in_cap * 2 : 64;
		struct cr_inbound *in = realloc(g->in, cap * sizeof *in);
		if (!in)
			return; /* it just cannot be evicted */
		g->in = in;
		g->in_cap = cap;
	}
	const struct cr_admit *a = &c->admit;
	struct cr_inbound *x = &g->in[g->nin];
	memset(x, 0, sizeof *x);
	x->id = c->peer;
	x->keyed_netgroup = a->keyed_netgroup;
	x->connected_us = (int64_t)cr__wall_us();
	x->noban = cr_perm_has(a->perms, CR_PERM_NOBAN);
	x->prefer_evict = a->discouraged;
	x->is_local = a->local;
	x->netclass = (uint8_t)(a->na.net ? cr_addr_netclass(&a->na) : CR_NETCLASS_UNROUTABLE);
	uint32_t ip4;
	if (e->cfg.routable127 && cr_addr_carried_ipv4(&a->na, &ip4) && ip4 >> 24 == 127)
		x->netclass = CR_NETCLASS_IPV4; /* test option: loopback as routable IPv4 */
	g->index[index_slot(g, x->id)] = (uint32_t)(++g->nin);
}

void cr__evict_untrack(struct cr_engine *e, uint64_t id)
{
	struct cr_guard *g = e->co.guard;
	if (!g->icap)
		return;
	size_t s = index_slot(g, id);
	if (!g->index[s])
		return;
	size_t i = g->index[s] - 1, last = g->nin - 1;
	/* backward-shift deletion keeps every probe chain whole */
	size_t mask = g->icap - 1, j = s;
	for (;;) {
		j = (j + 1) & mask;
		if (!g->index[j])
			break;
		size_t h = home(g->in[g->index[j] - 1].id, g->icap);
		bool stays = s <= j ? (h > s && h <= j) : (h > s || h <= j);
		if (!stays) {
			g->index[s] = g->index[j];
			s = j;
		}
	}
	g->index[s] = 0;
	if (i != last) {
		g->in[i] = g->in[last];
		g->index[index_slot(g, g->in[i].id)] = (uint32_t)(i + 1);
	}
	g->nin--;
}

/* ---- choosing ---------------------------------------------------------- */

/* Core's fRelevantServices: the services we want from a full peer. */
static bool relevant(uint64_t services)
{
	return (services & CR_NODE_WITNESS) && (services & (CR_NODE_NETWORK | CR_NODE_NETWORK_LIMITED));
}

static int grow_buffers(struct cr_guard *g, size_t n)
{
	if (n > g->cands_cap) {
		size_t cap = n + n / 2 + 16;
		struct cr_evict_cand *c = realloc(g->cands, cap * sizeof *c);
		if (!c)
			return -1;
		g->cands = c;
		g->cands_cap = cap;
		uint8_t *w = realloc(g->why, cap);
		if (!w)
			return -1;
		g->why = w;
	}
	size_t need = cr_evict_scratch_size(g->cands_cap);
	if (need > g->scratch_len) {
		void *s = realloc(g->scratch, need);
		if (!s)
			return -1;
		g->scratch = s;
		g->scratch_len = need;
	}
	return 0;
}

/* The snapshot the policy sees: every admitted inbound peer not already
 * leaving, then every outbound peer (never chosen, counted as kept). */
static size_t gather(struct cr_engine *e)
{
	struct cr_guard *g = e->co.guard;
	const struct cr__summaries *sum = &e->co.sum;
	size_t n = 0;
	for (size_t i = 0; i < g->nin; i++) {
		const struct cr_inbound *x = &g->in[i];
		if (x->evicting)
			continue;
		struct cr_evict_cand *c = &g->cands[n++];
		memset(c, 0, sizeof *c);
		c->id = x->id;
		c->inbound = true;
		c->noban = x->noban;
		c->prefer_evict = x->prefer_evict;
		c->keyed_netgroup = x->keyed_netgroup;
		c->network = x->netclass;
		c->is_local = x->is_local;
		c->connected_us = x->connected_us;
		c->min_ping_us = INT64_MAX;
		const struct cr__peer_summary *s = cr__summary_find(sum, x->id);
		if (s) {
			c->connected_us = s->connected_us;
			c->min_ping_us = s->min_ping_us >= 0 ? s->min_ping_us : INT64_MAX;
			c->last_block_us = s->last_block_us;
			c->last_tx_us = s->last_tx_us;
			c->relay_txs = s->relaytxes;
			c->relevant_services = relevant(s->services);
		}
	}
	/* newcomers waiting for a slot: Core adds each to its list at once, so
	 * the next one's eviction sees it (a burst must not take one
	 * established peer per newcomer) */
	for (size_t i = 0; i < g->nwait; i++) {
		const struct cr_mail *m = g->wait[i].m;
		struct cr_evict_cand *c = &g->cands[n++];
		memset(c, 0, sizeof *c);
		c->id = m->peer;
		c->inbound = true;
		c->noban = cr_perm_has(m->admit.perms, CR_PERM_NOBAN);
		c->prefer_evict = m->admit.discouraged;
		c->keyed_netgroup = m->admit.keyed_netgroup;
		c->network = m->admit.na.net ? cr_addr_netclass(&m->admit.na) : CR_NETCLASS_UNROUTABLE;
		c->is_local = m->admit.local;
		c->connected_us = g->wait[i].arrived_us;
		c->min_ping_us = INT64_MAX;
	}
	for (size_t i = 0; i < cr__summary_count(sum) && n < g->cands_cap; i++) {
		const struct cr__peer_summary *s = cr__summary_at(sum, i);
		if (s->type == CR_CONN_INBOUND)
			continue;
		struct cr_evict_cand *c = &g->cands[n++];
		memset(c, 0, sizeof *c);
		c->id = s->id;
		c->noban = cr_perm_has(s->permissions, CR_PERM_NOBAN);
		c->keyed_netgroup = s->keyed_group;
		c->connected_us = s->connected_us;
		c->min_ping_us = INT64_MAX;
	}
	return n;
}

static void count(struct cr_engine *e, const uint32_t *k)
{
	static const struct {
		unsigned why;
		size_t idx;
	} map[] = {
		{ CR_EVICT_NOBAN, CR_STAT_IDX(evict_kept_noban) },
		{ CR_EVICT_OUTBOUND, CR_STAT_IDX(evict_kept_outbound) },
		{ CR_EVICT_NETGROUP, CR_STAT_IDX(evict_kept_netgroup) },
		{ CR_EVICT_PING, CR_STAT_IDX(evict_kept_ping) },
		{ CR_EVICT_TX, CR_STAT_IDX(evict_kept_tx) },
		{ CR_EVICT_BLOCK_RELAY, CR_STAT_IDX(evict_kept_block_relay) },
		{ CR_EVICT_BLOCK, CR_STAT_IDX(evict_kept_block) },
		{ CR_EVICT_NETWORK, CR_STAT_IDX(evict_kept_network) },
		{ CR_EVICT_UPTIME, CR_STAT_IDX(evict_kept_uptime) },
		{ CR_EVICT_NOT_PREFERRED, CR_STAT_IDX(evict_kept_not_preferred) },
		{ CR_EVICT_REMAINED, CR_STAT_IDX(evict_kept_remained) },
	};
	struct cr_wstats *st = &e->co.stats;
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		atomic_fetch_add_explicit(&st->v[map[i].idx], k[map[i].why], memory_order_relaxed);
}

static void log_choice(struct cr_engine *e, const struct cr_evict_cand *v, const uint32_t *k, size_t n)
{
	char why[256];
	size_t o = 0;
	for (int r = CR_EVICT_NOBAN; r < CR_EVICT_WHY_MAX && o < sizeof why; r++)
		if (k[r])
			o += (size_t)snprintf(why + o, sizeof why - o, "%s%s %u", o ? ", " : "",
					      cr_evict_why_str((enum cr_evict_why)r), k[r]);
	if (!v) {
		cr__log(e, CR_LOG_DEBUG, CR_LOG_NET, "eviction: every one of %zu candidates kept (%s)", n, why);
		return;
	}
	cr__log(e, CR_LOG_DEBUG, CR_LOG_NET,
		"eviction: peer=%llx chosen of %zu (netgroup key %016llx%s); kept: %s",
		(unsigned long long)v->id, n, (unsigned long long)v->keyed_netgroup,
		v->prefer_evict ? ", discouraged" : "", why[0] ? why : "none");
}

/* Chooses and evicts a peer; false when every candidate is protected. */
static bool evict_one(struct cr_engine *e, uint64_t *victim)
{
	struct cr_guard *g = e->co.guard;
	size_t want = g->nin + g->nwait + cr__summary_count(&e->co.sum);
	if (grow_buffers(g, want) < 0)
		return false;
	size_t n = gather(e);
	size_t vi;
	uint32_t k[CR_EVICT_WHY_MAX];
	int found = cr_evict_select(&vi, g->why, k, g->cands, n, g->scratch);
	count(e, k);
	log_choice(e, found ? &g->cands[vi] : NULL, k, n);
	if (!found)
		return false;
	*victim = g->cands[vi].id;
	for (size_t i = 0; i < g->nwait; i++)
		if (g->wait[i].m->peer == *victim) {
			/* a waiting newcomer: it goes, and the one asking now waits
			 * for the slot it was waiting for */
			struct cr_mail *m = g->wait[i].m;
			memmove(&g->wait[i], &g->wait[i + 1], (g->nwait - i - 1) * sizeof *g->wait);
			g->nwait--;
			cr__guard_refuse(e, m, CR_VERDICT_EVICT_WAIT);
			atomic_fetch_add_explicit(&e->co.stats.v[CR_STAT_IDX(evictions)], 1,
						  memory_order_relaxed);
			return true;
		}
	size_t s = index_slot(g, *victim);
	if (g->index[s])
		g->in[g->index[s] - 1].evicting = true;
	struct cr_mail *m = cr__mail_new(MAIL_DISCONNECT, 0);
	if (!m)
		return false;
	m->peer = *victim;
	m->reason = CR_CLOSE_EVICTED;
	snprintf(m->host, sizeof m->host, "evicted for a newcomer (inbound full)");
	cr__mailbox_post(e, &e->w[cr__id_worker(*victim)].mb, m);
	atomic_fetch_add_explicit(&e->co.stats.v[CR_STAT_IDX(evictions)], 1, memory_order_relaxed);
	return true;
}

/* ---- the newcomers waiting for a slot ------------------------------------ */

/* Newcomers wait in arrival order, in an array of at most evict_wait_max. */
static bool queue_push(struct cr_guard *g, const struct cr_waiting *w)
{
	if (g->nwait == g->wait_cap) {
		size_t cap = g->wait_cap ? g->wait_cap * 2 : 16;
		struct cr_waiting *q = realloc(g->wait, cap * sizeof *q);
		if (!q)
			return false;
		g->wait = q;
		g->wait_cap = cap;
	}
	g->wait[g->nwait++] = *w;
	return true;
}

static struct cr_waiting queue_pop(struct cr_guard *g)
{
	struct cr_waiting w = g->wait[0];
	memmove(&g->wait[0], &g->wait[1], (g->nwait - 1) * sizeof *g->wait);
	g->nwait--;
	return w;
}

void cr__evict_for(struct cr_engine *e, struct cr_mail *c, uint64_t now_us)
{
	struct cr_guard *g = e->co.guard;
	uint64_t victim = 0;
	if (g->nwait >= e->cfg.evict_wait_max) {
		cr__guard_refuse(e, c, CR_VERDICT_EVICT_WAIT); /* too many wait already */
		return;
	}
	if (!evict_one(e, &victim)) {
		cr__guard_refuse(e, c, CR_VERDICT_FULL); /* every inbound peer protected */
		return;
	}
	struct cr_waiting w = { c, now_us + (uint64_t)e->cfg.evict_wait_ms * 1000u, victim,
				(int64_t)cr__wall_us() };
	if (!queue_push(g, &w))
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
	/* arrival order with one timeout each: the oldest expires first */
	while (g->nwait && g->wait[0].deadline_us <= now_us)
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
	free(g->why);
	free(g->in);
	free(g->index);
	g->wait = NULL;
	g->scratch = NULL;
	g->cands = NULL;
	g->why = NULL;
	g->in = NULL;
	g->index = NULL;
}
