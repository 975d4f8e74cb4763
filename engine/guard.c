/* The coordinator's inbound defence: it owns the ban list (bans with
 * expiry and the discouragement filter, addr/banlist), persists it through
 * addr/store, publishes read-only snapshots to the workers (see ban.c for
 * their reclamation), admits or refuses every inbound newcomer after the
 * worker's own ban check (engine/policy/flood: flood defence, Core's
 * discouraged rule, a free slot or an eviction), counts inbound peers per
 * keyed netgroup, and serves the ban API (setban/listbanned/clearbanned/
 * discourage) and the workers' misbehaviour punishments.
 *
 * Admission is one round trip per newcomer: the worker mails MAIL_ADMIT,
 * the coordinator answers with the same mail as MAIL_ADMITTED. A newcomer
 * that needs an evicted peer's slot waits here (bounded in number and time,
 * evict.c) until a slot frees.
 *
 * Coordinator thread only, except cr__guard_new/_free (the thread starting
 * or stopping the engine, with the coordinator not running). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr/addrstr.h"
#include "addr/err.h"
#include "engine/guard.h"
#include "proto/err.h"

#define SWEEP_INTERVAL_US (60ull * 1000000)

static int64_t now_s(void)
{
	return (int64_t)(cr__wall_us() / 1000000u);
}

/* ---- inbound peers per keyed netgroup --------------------------------- */

static uint64_t mix(uint64_t x)
{
	x ^= x >> 31;
	x *= 0x9e3779b97f4a7c15ull;
	return x ^ (x >> 29);
}

static struct cr_gcount *gslot(struct cr_guard *g, uint64_t key, bool add)
{
	if (add && (g->gused + 1) * 4 > g->gcap * 3) {
		/* rebuild with the live groups only (zero counts are dropped) */
		size_t cap = 64;
		while (cap < (g->glive + 1) * 4)
			cap *= 2;
		struct cr_gcount *t = calloc(cap, sizeof *t);
		if (!t)
			return NULL;
		for (size_t i = 0; i < g->gcap; i++) {
			if (!g->groups[i].n)
				continue;
			size_t h = mix(g->groups[i].key) & (cap - 1);
			while (t[h].used)
				h = (h + 1) & (cap - 1);
			t[h] = g->groups[i];
		}
		free(g->groups);
		g->groups = t;
		g->gcap = cap;
		g->gused = g->glive;
	}
	if (!g->gcap)
		return NULL;
	size_t h = mix(key) & (g->gcap - 1);
	while (g->groups[h].used && g->groups[h].key != key)
		h = (h + 1) & (g->gcap - 1);
	if (!g->groups[h].used) {
		if (!add)
			return NULL;
		g->groups[h].used = true;
		g->groups[h].key = key;
		g->gused++;
	}
	return &g->groups[h];
}

uint32_t cr__guard_group_count(struct cr_guard *g, uint64_t key)
{
	struct cr_gcount *s = gslot(g, key, false);
	return s ? s->n : 0;
}

static void group_add(struct cr_guard *g, uint64_t key, int delta)
{
	struct cr_gcount *s = gslot(g, key, delta > 0);
	if (!s)
		return;
	if (delta > 0 && s->n++ == 0)
		g->glive++;
	else if (delta < 0 && s->n && --s->n == 0)
		g->glive--;
}

/* ---- ban snapshots and persistence -------------------------------------- */

/* Mails a fresh snapshot to every worker (one reference each). A worker
 * that could not be mailed keeps its older snapshot until the next try. */
static void publish(struct cr_engine *e)
{
	struct cr_guard *g = e->co.guard;
	g->republish = false;
	struct cr_bansnap *s = malloc(sizeof *s);
	if (s)
		s->bl = cr_banlist_snapshot(g->bl);
	if (!s || !s->bl) {
		free(s);
		g->republish = true;
		return;
	}
	atomic_store(&s->ref, e->nworkers);
	for (unsigned i = 0; i < e->nworkers; i++) {
		struct cr_mail *m = cr__mail_new(MAIL_BANS, 0);
		if (!m) {
			cr__bansnap_unref(s);
			g->republish = true;
			continue;
		}
		m->ptr = s;
		cr__mailbox_post(e, &e->w[i].mb, m);
	}
	atomic_store_explicit(&e->co.stats.v[CR_STAT_IDX(bans)], cr_banlist_count(g->bl),
			      memory_order_relaxed);
}

/* Returns 0 or -EIO (logged with the reason): what the ban calls waiting
 * for this save are told. */
static int save(struct cr_engine *e)
{
	struct cr_guard *g = e->co.guard;
	g->dirty_save = false;
	if (!e->cfg.banlist_path[0])
		return 0;
	int ret = cr_banlist_save(g->bl, e->cfg.banlist_path);
	if (ret < 0) {
		cr__log(e, CR_LOG_ERROR, CR_LOG_NET, "saving bans to %s: %s", e->cfg.banlist_path,
			cr_strerror(ret));
		return -EIO;
	}
	return 0;
}

/* Answers the calls waiting for the save: one that changed the list is
 * told when the change could not be written (-EIO). */
static void answer_saved(struct cr_guard *g, int saved)
{
	for (unsigned i = 0; i < g->nsaving; i++) {
		struct cr_waiter *wt = g->saving[i];
		cr__waiter_done(wt, wt->ret == 0 ? saved : wt->ret);
	}
	g->nsaving = 0;
}

static void changed(struct cr_guard *g)
{
	g->dirty_save = true;
	g->republish = true;
}

/* ---- admission ---------------------------------------------------------- */

static void reply(struct cr_engine *e, struct cr_mail *c, unsigned v)
{
	c->kind = MAIL_ADMITTED;
	c->admit.verdict = (uint8_t)v;
	cr__mailbox_post(e, &e->w[cr__id_worker(c->peer)].mb, c);
}

/* Takes an inbound slot for the newcomer and answers it. */
void cr__guard_grant(struct cr_engine *e, struct cr_mail *c)
{
	struct cr_guard *g = e->co.guard;
	atomic_fetch_add(&e->inbound_now, 1);
	group_add(g, c->admit.keyed_netgroup, +1);
	cr__evict_track(e, c);
	reply(e, c, CR_ACCEPT_OK);
}

void cr__guard_refuse(struct cr_engine *e, struct cr_mail *c, unsigned v)
{
	reply(e, c, v);
}

static void admit(struct cr_engine *e, struct cr_mail *c)
{
	struct cr_guard *g = e->co.guard;
	struct cr_admit *a = &c->admit;
	uint64_t now = cr__now_us();
	cr__evict_drain(e, now); /* waiting newcomers take freed slots first */
	struct cr_accept_in in = {
		.noban = cr_perm_has(a->perms, CR_PERM_NOBAN),
		.banned = cr_banlist_is_banned(g->bl, &a->na, now_s()),
		.discouraged = cr_banlist_is_discouraged(g->bl, &a->na),
		.inbound = atomic_load(&e->inbound_now) + (unsigned)g->nwait,
		.inbound_max = atomic_load(&e->inbound_max),
		.keyed_netgroup = a->keyed_netgroup,
		.group_inbound = cr__guard_group_count(g, a->keyed_netgroup),
	};
	bool prefer = false;
	/* Every local process shares one loopback netgroup, so a bucket would
	 * throttle them all together; they are the operator's own (Core spares
	 * local peers from discouragement for the same reason). */
	bool flood = e->cfg.flood_defence && !a->local;
	enum cr_accept_verdict v = cr_accept_decide(flood ? g->flood : NULL, &in, now, &prefer);
	a->discouraged = prefer;
	a->inbound = atomic_load(&e->inbound_now);
	a->inbound_max = in.inbound_max;
	a->outbound = atomic_load(&e->outbound_now);
	a->group_inbound = in.group_inbound;
	if (g->flood)
		atomic_store_explicit(&e->co.stats.v[CR_STAT_IDX(flooding)],
				      cr_flood_active(g->flood, now), memory_order_relaxed);
	if (v == CR_ACCEPT_OK) {
		cr__guard_grant(e, c);
		return;
	}
	if (v == CR_ACCEPT_EVICT) {
		cr__evict_for(e, c, now); /* answers or keeps the mail */
		return;
	}
	cr__guard_refuse(e, c, v);
}

/* ---- the ban API -------------------------------------------------------- */

static void waiter_done(struct cr_waiter *wt, int ret)
{
	cr__waiter_done(wt, ret);
}

static int ban_add(struct cr_engine *e, const struct cr_mail *c)
{
	struct cr_guard *g = e->co.guard;
	struct cr_subnet sn;
	if (cr_subnet_parse(&sn, c->host, strlen(c->host), 0) < 0)
		return CR_E_BAD_ADDRESS;
	int64_t now = now_s();
	/* Core: an address is "already banned" when any ban covers it, a
	 * subnet when exactly that subnet is banned */
	if (cr_subnet_is_single(&sn) ? cr_banlist_is_banned(g->bl, &sn.net, now)
				     : cr_banlist_find(g->bl, &sn, now) != NULL)
		return -EEXIST;
	int64_t until;
	if (c->flags) {
		until = c->t;
		if (until < now) /* Core: banTime < GetTime() */
			return -EINVAL;
	} else {
		int64_t d = c->t > 0 ? c->t : (int64_t)e->cfg.ban_time_s;
		until = now > INT64_MAX - d ? INT64_MAX : now + d;
	}
	int ret = cr_banlist_ban_until(g->bl, &sn, now, until);
	if (ret == CR_E_BAN_FULL)
		return -ENOSPC;
	if (ret < 0)
		return ret == CR_E_NOMEM ? -ENOMEM : ret;
	changed(g);
	cr__log(e, CR_LOG_INFO, CR_LOG_NET, "banned %s until %lld", c->host, (long long)until);
	return 0;
}

static int ban_list(struct cr_engine *e, struct cr_waiter *wt)
{
	struct cr_guard *g = e->co.guard;
	if (cr_banlist_sweep(g->bl, now_s()))
		changed(g);
	size_t n = cr_banlist_count(g->bl);
	struct cr_ban_info *out = wt->out;
	for (size_t i = 0; i < n && i < wt->cap; i++) {
		const struct cr_ban *b = cr_banlist_at(g->bl, i);
		if (cr_subnet_format(out[i].subnet, sizeof out[i].subnet, &b->subnet) < 0)
			snprintf(out[i].subnet, sizeof out[i].subnet, "?");
		out[i].created = b->created;
		out[i].until = b->until;
	}
	return n > INT32_MAX ? INT32_MAX : (int)n;
}

static int ban_op(struct cr_engine *e, struct cr_mail *c)
{
	struct cr_guard *g = e->co.guard;
	struct cr_subnet sn;
	struct cr_netaddr na;
	switch (c->reason) {
	case CR_BANOP_ADD:
		return ban_add(e, c);
	case CR_BANOP_REMOVE:
		if (cr_subnet_parse(&sn, c->host, strlen(c->host), 0) < 0)
			return CR_E_BAD_ADDRESS;
		if (!cr_banlist_unban(g->bl, &sn))
			return -ENOENT;
		changed(g);
		cr__log(e, CR_LOG_INFO, CR_LOG_NET, "unbanned %s", c->host);
		return 0;
	case CR_BANOP_CLEAR:
		cr_banlist_clear(g->bl);
		changed(g);
		cr__log(e, CR_LOG_INFO, CR_LOG_NET, "cleared the ban list");
		return 0;
	case CR_BANOP_LIST:
		return ban_list(e, c->waiter);
	case CR_BANOP_DISCOURAGE:
		if (cr_addrstr_parse_host(&na, c->host, strlen(c->host), 0) < 0)
			return CR_E_BAD_ADDRESS;
		cr_banlist_discourage(g->bl, &na);
		return 0;
	}
	return -EINVAL;
}

/* A worker's misbehaving peer: discourage its address, or ban it for
 * ban_time_s (score mode). */
static void punish(struct cr_engine *e, struct cr_mail *c)
{
	struct cr_guard *g = e->co.guard;
	if (c->reason == CR_MISB_DISCOURAGE) {
		cr_banlist_discourage(g->bl, &c->admit.na);
		return;
	}
	struct cr_subnet sn;
	if (c->reason != CR_MISB_BAN || cr_subnet_from_addr(&sn, &c->admit.na) < 0)
		return;
	if (cr_banlist_ban(g->bl, &sn, now_s(), (int64_t)e->cfg.ban_time_s) == 0)
		changed(g);
}

bool cr__guard_mail(struct cr_engine *e, struct cr_mail *c)
{
	struct cr_guard *g = e->co.guard;
	switch (c->kind) {
	case MAIL_ADMIT:
		admit(e, c);
		return true;
	case MAIL_INBOUND_DOWN:
		group_add(g, c->admit.keyed_netgroup, -1);
		cr__evict_untrack(e, c->peer);
		cr__evict_drain(e, cr__now_us());
		return false;
	case MAIL_PUNISH:
		punish(e, c);
		return false;
	case MAIL_BAN_OP: {
		int ret = ban_op(e, c);
		bool change = c->reason == CR_BANOP_ADD || c->reason == CR_BANOP_REMOVE ||
			      c->reason == CR_BANOP_CLEAR;
		if (g->dirty_save && change && ret == 0) {
			/* answered once the change is on disk (cr__guard_batch_end) */
			if (g->nsaving < CR_GUARD_SAVE_WAITERS) {
				c->waiter->ret = ret;
				g->saving[g->nsaving++] = c->waiter;
				return false;
			}
			ret = save(e);
			answer_saved(g, ret);
		}
		waiter_done(c->waiter, ret);
		return false;
	}
	default:
		return false;
	}
}

void cr__guard_batch_end(struct cr_engine *e)
{
	struct cr_guard *g = e->co.guard;
	if (g->republish)
		publish(e);
	int saved = g->dirty_save ? save(e) : 0;
	answer_saved(g, saved);
}

bool cr__guard_tick(struct cr_engine *e, uint64_t now_us)
{
	struct cr_guard *g = e->co.guard;
	if (now_us >= g->next_sweep_us) {
		g->next_sweep_us = now_us + SWEEP_INTERVAL_US;
		if (cr_banlist_sweep(g->bl, now_s()))
			changed(g);
	}
	if (g->flood)
		atomic_store_explicit(&e->co.stats.v[CR_STAT_IDX(flooding)],
				      cr_flood_active(g->flood, now_us), memory_order_relaxed);
	bool more = cr__evict_expire(e, now_us);
	cr__guard_batch_end(e);
	return more || g->republish || (g->flood && cr_flood_active(g->flood, now_us));
}

bool cr__guard_outbound_ok(struct cr_engine *e, const struct cr_netaddr *a)
{
	struct cr_guard *g = e->co.guard;
	return !cr_banlist_is_banned(g->bl, a, now_s()) && !cr_banlist_is_discouraged(g->bl, a);
}

const struct cr_banlist *cr__guard_banlist(struct cr_engine *e)
{
	return e->co.guard ? e->co.guard->bl : NULL;
}

/* ---- life --------------------------------------------------------------- */

int cr__guard_new(struct cr_engine *e)
{
	struct cr_guard *g = calloc(1, sizeof *g);
	if (!g)
		return -ENOMEM;
	e->co.guard = g;
	uint64_t seed;
	uint32_t tweak;
	cr__random(&seed, sizeof seed);
	cr__random(&tweak, sizeof tweak);
	g->bl = cr_banlist_new(seed, tweak);
	if (!g->bl)
		return -ENOMEM;
	struct cr_flood_config fc;
	cr_flood_config_default(&fc);
	fc.rate = e->cfg.flood_rate;
	fc.burst = e->cfg.flood_burst;
	fc.group_cap = e->cfg.flood_group_cap;
	fc.hold_s = e->cfg.flood_hold_s;
	g->flood = cr_flood_new(&fc);
	if (!g->flood)
		return -ENOMEM;
	if (e->cfg.banlist_path[0]) {
		char why[256];
		int ret = cr_banlist_load(g->bl, e->cfg.banlist_path, now_s(), why, sizeof why);
		if (ret < 0 && ret != -ENOENT)
			cr__log(e, CR_LOG_WARN, CR_LOG_NET, "ban list %s not loaded: %s",
				e->cfg.banlist_path, why);
		else if (ret == 0)
			cr__log(e, CR_LOG_INFO, CR_LOG_NET, "loaded %zu bans from %s",
				cr_banlist_count(g->bl), e->cfg.banlist_path);
	}
	g->next_sweep_us = cr__now_us() + SWEEP_INTERVAL_US;
	/* the workers' first snapshot, before their threads start */
	struct cr_bansnap *s = malloc(sizeof *s);
	if (!s || !(s->bl = cr_banlist_snapshot(g->bl))) {
		free(s);
		return -ENOMEM;
	}
	atomic_store(&s->ref, e->nworkers);
	for (unsigned i = 0; i < e->nworkers; i++)
		e->w[i].bans = s;
	atomic_store_explicit(&e->co.stats.v[CR_STAT_IDX(bans)], cr_banlist_count(g->bl),
			      memory_order_relaxed);
	return 0;
}

void cr__guard_free(struct cr_engine *e)
{
	struct cr_guard *g = e->co.guard;
	if (!g)
		return;
	answer_saved(g, g->bl && g->dirty_save ? save(e) : 0);
	cr__evict_free(e);
	cr_banlist_free(g->bl);
	cr_flood_free(g->flood);
	free(g->groups);
	free(g);
	e->co.guard = NULL;
}
