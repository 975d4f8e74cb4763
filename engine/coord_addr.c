/* The coordinator's side of address relay: the entries a peer sent go
 * into the address manager with the peer as source (Core's Add with the
 * 2-hour penalty); the small fresh ones (addr_in.c picked them by Core's
 * rules) are relayed to 1 or 2 peers chosen by RelayAddress's keyed hash
 * of the address and the day among the peers with address relay enabled
 * (never block-relay-only: they never enable it), each destination's
 * worker getting one MAIL_ADDR_PUSH for its peer's queue; getaddr from
 * inbound peers is answered from Core's GetAddresses cache (or in full
 * for the addr permission). Which peers relay addresses the summary table
 * says (outbound at the handshake, inbound from their first address
 * message: the worker posts an update event then). Coordinator thread, except _new/_free (the thread starting or
 * stopping the engine). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "addr/addrman.h"
#include "engine/guard.h"
#include "engine/internal.h"
#include "engine/policy/addrcache.h"
#include "engine/summary.h"

struct cr_coord_addr {
	struct cr_addrcache cache;
	/* relay candidates, rebuilt when the summary table's gen moved */
	uint64_t *cand_ids;
	bool *cand_v2;
	size_t ncand, cand_cap;
	uint64_t cand_gen;
	bool cand_ok;
	/* the engine-wide relay bucket (CR_ADDR_RELAY_ENGINE_*) */
	double tokens;
	int64_t tokens_us;
	struct cr_peeraddr *full; /* the addr permission's answer, CR_ADDR_MAX_PER_MSG */
};

int cr__coord_addr_new(struct cr_engine *e)
{
	struct cr_coord_addr *ca = calloc(1, sizeof *ca);
	if (!ca)
		return -ENOMEM;
	cr_addrcache_init(&ca->cache);
	ca->tokens = CR_ADDR_RELAY_ENGINE_BURST;
	ca->tokens_us = (int64_t)cr__now_us();
	e->co.addr = ca;
	cr__coord_addr_gauge(e); /* what was loaded */
	return 0;
}

void cr__coord_addr_free(struct cr_engine *e)
{
	struct cr_coord_addr *ca = e->co.addr;
	if (!ca)
		return;
	cr_addrcache_clear(&ca->cache);
	free(ca->cand_ids);
	free(ca->cand_v2);
	free(ca->full);
	free(ca);
	e->co.addr = NULL;
}

static const struct cr_banlist *bans_of(struct cr_engine *e)
{
	return e->co.guard ? e->co.guard->bl : NULL;
}

void cr__coord_addr_gauge(struct cr_engine *e)
{
	struct cr_coord *co = &e->co;
	uint64_t n = co->am ? cr_addrman_size(co->am, 0, CR_ADDRMAN_ANY) : 0;
	atomic_store_explicit(&co->stats.v[CR_STAT_IDX(addrman_size)], n, memory_order_relaxed);
}

/* The peers with address relay on, ready and not being closed: rebuilt
 * only when the summary table changed (its gen), so a relayed address
 * costs its hashes, not a walk of every row. */
static size_t gather_candidates(struct cr_engine *e)
{
	struct cr_coord_addr *ca = e->co.addr;
	const struct cr__summaries *t = &e->co.sum;
	if (ca->cand_ok && ca->cand_gen == t->gen)
		return ca->ncand;
	size_t n = 0;
	bool whole = true;
	for (size_t i = 0; i < cr__summary_count(t); i++) {
		const struct cr__peer_summary *s = cr__summary_at(t, i);
		if (!s->ready || !s->addr_relay || s->disconnecting)
			continue;
		if (n == ca->cand_cap) {
			size_t cap = ca->cand_cap ? ca->cand_cap * 2 : 64;
			uint64_t *ids = realloc(ca->cand_ids, cap * sizeof *ids);
			if (ids)
				ca->cand_ids = ids;
			bool *v2 = realloc(ca->cand_v2, cap * sizeof *v2);
			if (v2)
				ca->cand_v2 = v2;
			if (!ids || !v2) {
				whole = false; /* not cached: tried again next time */
				break;
			}
			ca->cand_cap = cap;
		}
		ca->cand_ids[n] = s->id;
		ca->cand_v2[n] = s->addrv2;
		n++;
	}
	ca->ncand = n;
	ca->cand_ok = whole;
	ca->cand_gen = t->gen;
	return n;
}

/* Takes one token of the engine-wide relay bucket: refilled at
 * CR_ADDR_RATE_PER_S per connected peer (what the peers' own buckets let
 * in, Core's sum), at most CR_ADDR_RELAY_ENGINE_RATE_MAX/s, holding at most
 * CR_ADDR_RELAY_ENGINE_BURST. */
static bool relay_token(struct cr_engine *e)
{
	struct cr_coord_addr *ca = e->co.addr;
	int64_t now = (int64_t)cr__now_us();
	double rate = CR_ADDR_RATE_PER_S * (double)cr__summary_count(&e->co.sum);
	if (rate > CR_ADDR_RELAY_ENGINE_RATE_MAX)
		rate = CR_ADDR_RELAY_ENGINE_RATE_MAX;
	if (now > ca->tokens_us) {
		ca->tokens += rate * (double)(now - ca->tokens_us) / 1e6;
		if (ca->tokens > CR_ADDR_RELAY_ENGINE_BURST)
			ca->tokens = CR_ADDR_RELAY_ENGINE_BURST;
		ca->tokens_us = now;
	}
	if (ca->tokens < 1.0)
		return false;
	ca->tokens -= 1.0;
	return true;
}

static void push_to(struct cr_engine *e, uint64_t dest, const struct cr_peeraddr *a, size_t n)
{
	unsigned wi = cr__id_worker(dest);
	if (wi >= e->nworkers)
		return;
	struct cr_mail *c = cr__addr_mail_new(e, MAIL_ADDR_PUSH, dest, n, 0);
	if (!c) {
		CR_STAT_ADD(&e->co, addrs_mail_dropped, n);
		return;
	}
	struct cr__addr_batch *b = c->ptr;
	memcpy(b->a, a, n * sizeof *a);
	CR_STAT_ADD(&e->co, addrs_relayed, n);
	cr__mailbox_post(e, &e->w[wi].mb, c);
}

/* Core's RelayAddress for each relay candidate the engine-wide bucket
 * lets through (the others are stored only, and counted), one mail per
 * destination. A destination found closing since the candidates were
 * cached (coord_sched.c marks rows disconnecting in place) makes them
 * rebuilt and the choice made again, as Core never picks a node being
 * disconnected. */
static void relay(struct cr_engine *e, uint64_t from, const struct cr__addr_batch *b)
{
	struct cr_coord_addr *ca = e->co.addr;
	uint32_t pick[CR_ADDR_RELAY_MAX_ENTRIES];
	size_t npick = 0;
	for (uint32_t i = 0; i < b->nrelay && i < CR_ADDR_RELAY_MAX_ENTRIES; i++) {
		if (relay_token(e))
			pick[npick++] = b->nstore + i;
		else
			CR_STAT_ADD(&e->co, addrs_relay_skipped, 1);
	}
	if (!npick)
		return;
	uint64_t dest[2 * CR_ADDR_RELAY_MAX_ENTRIES];
	uint32_t which[2 * CR_ADDR_RELAY_MAX_ENTRIES];
	size_t k;
	int64_t now = (int64_t)cr__wall_us();
	for (int attempt = 0;; attempt++) {
		size_t ncand = gather_candidates(e);
		if (!ncand)
			return;
		k = 0;
		for (size_t i = 0; i < npick; i++) {
			size_t best[2];
			size_t n = cr_relay_address(best, &b->a[pick[i]], b->reach[pick[i] - b->nstore], from,
						    ca->cand_ids, ca->cand_v2, ncand, &e->addr_keys, now);
			for (size_t j = 0; j < n; j++) {
				dest[k] = ca->cand_ids[best[j]];
				which[k++] = pick[i];
			}
		}
		bool stale = false;
		for (size_t i = 0; i < k && !stale; i++) {
			const struct cr__peer_summary *s = cr__summary_find(&e->co.sum, dest[i]);
			stale = !s || s->disconnecting;
		}
		if (!stale || attempt)
			break;
		ca->cand_ok = false;
	}
	for (size_t i = 0; i < k; i++) {
		if (!dest[i])
			continue;
		struct cr_peeraddr a[CR_ADDR_RELAY_MAX_ENTRIES];
		size_t n = 0;
		uint64_t d = dest[i];
		for (size_t j = i; j < k; j++) {
			if (dest[j] == d && n < CR_ADDR_RELAY_MAX_ENTRIES) {
				a[n++] = b->a[which[j]];
				dest[j] = 0;
			}
		}
		push_to(e, d, a, n);
	}
}

static void on_addrs(struct cr_engine *e, struct cr_mail *c)
{
	struct cr_coord *co = &e->co;
	const struct cr__addr_batch *b = c->ptr;
	if (co->am && b->nstore) {
		int64_t now_s = (int64_t)(cr__wall_us() / 1000000u);
		size_t added = cr_addrman_add(co->am, b->a, b->nstore, &b->source, CR_ADDR_TIME_PENALTY_S,
					      now_s, &co->rng);
		CR_STAT_ADD(co, addrs_added, added);
	}
	if (b->nrelay)
		relay(e, c->peer, b);
}

/* Core's GETADDR answer: GetAddresses through the cache, or (addr
 * permission) straight from the address manager, 1,000 and 23% at most,
 * banned and discouraged addresses left out. */
static void on_getaddr(struct cr_engine *e, struct cr_mail *c)
{
	struct cr_coord *co = &e->co;
	struct cr_coord_addr *ca = co->addr;
	const struct cr__addr_batch *b = c->ptr;
	if (!co->am)
		return;
	const struct cr_banlist *bans = bans_of(e);
	int64_t now_us = (int64_t)cr__wall_us();
	const struct cr_peeraddr *out = NULL;
	size_t n = 0;
	if (b->addr_perm) {
		if (!ca->full)
			ca->full = malloc(CR_ADDR_MAX_PER_MSG * sizeof *ca->full);
		if (!ca->full)
			return;
		n = cr_addrcache_draw(ca->full, co->am, bans, now_us, &co->rng);
		out = ca->full;
	} else {
		uint64_t id = cr_addrcache_id(&e->addr_keys, b->netclass, &b->local, b->local_port);
		if (cr_addrcache_get(&out, &n, &ca->cache, id, co->am, bans, now_us, &co->rng) < 0)
			return;
	}
	unsigned wi = cr__id_worker(c->peer);
	if (wi >= e->nworkers)
		return;
	struct cr_mail *r = cr__addr_mail_new(e, MAIL_ADDR_SEND, c->peer, n, 0);
	if (!r) {
		CR_STAT_ADD(co, addrs_mail_dropped, n);
		return;
	}
	struct cr__addr_batch *rb = r->ptr;
	if (n)
		memcpy(rb->a, out, n * sizeof *out);
	cr__mailbox_post(e, &e->w[wi].mb, r);
}

bool cr__coord_addr_mail(struct cr_engine *e, struct cr_mail *c)
{
	if (c->kind != MAIL_ADDRS && c->kind != MAIL_GETADDR)
		return false;
	if (e->co.addr) {
		if (c->kind == MAIL_ADDRS)
			on_addrs(e, c);
		else
			on_getaddr(e, c);
	}
	cr__addr_mail_done(e, c);
	return true;
}
