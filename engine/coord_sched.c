/* The open-connections scheduler on the coordinator thread: Core's
 * ThreadOpenConnections driven by events instead of a 500 ms loop. A pass
 * builds the cr_sched_view from the ready non-inbound peers (their ids
 * kept as READY/CLOSED events come, rows looked up in the summary table;
 * the connected-address set, inbound included, is the table's own)
 * plus the connections placed and not ready yet, calls the pure decisions
 * of engine/policy/sched.h with the wall clock and the coordinator's RNG,
 * and carries them out: connections of the chosen type on the least-loaded
 * worker (Attempt first), disconnections of extra outbound peers. Good
 * follows a completed outbound handshake, Connected a ready peer's close
 * (not block-relay-only, as Core), ResolveCollisions runs each pass.
 * Anchors: read (and deleted) at start and tried first; the ready
 * block-relay-only peers written at a clean stop.
 *
 * A pass runs after an outbound event or new addresses (dirty), and at the
 * policy's next deadline: every 500 ms while automatic slots are free (as
 * Core's loop), else at the next feeler, extra-peer or stale-tip time, so
 * an idle node with full slots wakes a few times per 2 minutes.
 *
 * Differs from Core: Core's chain-sync protection is approximated without
 * a chain: the first 4 outbound full-relay peers (in connection order)
 * that announced a block at or after our tip's time are protected; the
 * stale-tip clock runs from the last cr_tip_updated (our clock, as Core's
 * m_last_tip_update), and the tip is never stale before a first report; the
 * feeler's random start delay (up to 1 s) is not waited. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr/addrman.h"
#include "addr/anchors.h"
#include "addr/addrstr.h"
#include "engine/coord_sched.h"
#include "engine/summary.h"
#include "proto/services.h"

#define PASS_IDLE_US 500000    /* Core's loop: 500 ms while slots are free */
#define PASS_MIN_US 50000      /* never more often than this on timers */
#define PASS_CONNECTS 16       /* connections opened per pass at most */

/* The policy's connection types are the engine's (the casts rely on it) */
_Static_assert(CR_CT_INBOUND == (int)CR_CONN_INBOUND && CR_CT_FULL_RELAY == (int)CR_CONN_OUTBOUND_FULL_RELAY &&
		       CR_CT_MANUAL == (int)CR_CONN_MANUAL && CR_CT_FEELER == (int)CR_CONN_FEELER &&
		       CR_CT_BLOCK_RELAY == (int)CR_CONN_BLOCK_RELAY && CR_CT_ADDR_FETCH == (int)CR_CONN_ADDR_FETCH,
	       "enum cr_ctype and CR_CONN_* differ");

static int64_t wall_us(void)
{
	return (int64_t)cr__wall_us();
}

static void conf_init(struct cr_engine *e, struct cr_sched_conf *cf)
{
	const struct cr_config *c = &e->cfg;
	cr_sched_conf_default(cf, c->chain, e->chain->default_port, c->max_connections);
	unsigned reach = cr__reachable_nets(e); /* the same set as the addr relay's */
	cf->reachable = reach;
	/* Core: NODE_P2P_V2 is a local service with -v2transport, and an
	 * automatic connection tries V2 only to a peer that advertises it */
	cf->our_services = cr__local_services(e);
	cf->use_addrman_outgoing = true;
	cf->dnsseed = c->dnsseed && (reach & (CR_ADDRMAN_NET(CR_NET_IPV4) | CR_ADDRMAN_NET(CR_NET_IPV6)));
	cf->seednodes = c->seednode.n > 0;
	cf->fixedseeds = c->fixedseeds;
	cf->asmap = e->co.asmap;
	cf->netgroup_flags = c->routable127 ? CR_NETGROUP_LOOPBACK_ROUTABLE : 0;
	cf->iv.feeler_us = (int64_t)c->feeler_interval_ms * 1000;
	cf->iv.extra_block_relay_us = (int64_t)c->extra_peer_interval_ms * 1000;
	cf->iv.extra_network_us = (int64_t)c->extra_peer_interval_ms * 1000;
	cf->iv.stale_check_us = (int64_t)c->stale_check_ms * 1000;
	cf->iv.block_spacing_us = (int64_t)c->stale_tip_ms * 1000 / 3;
	cf->iv.feeler_window_us = 0;
	if (cf->iv.min_connect_us > cf->iv.stale_check_us)
		cf->iv.min_connect_us = cf->iv.stale_check_us;
}

static void load_anchors(struct cr_engine *e, struct cr__sched *s)
{
	const char *path = e->cfg.anchors_path;
	if (!path[0])
		return;
	char why[512] = "";
	size_t n = 0;
	int ret = cr_anchors_load(path, s->st.anchors, &n, why, sizeof why);
	if (ret == -ENOENT)
		return;
	if (ret < 0) {
		cr__log(e, CR_LOG_WARN, CR_LOG_ADDRMAN, "anchors %s not loaded: %s", path,
			why[0] ? why : cr_strerror(ret));
		return;
	}
	s->st.nanchors = n;
	/* Core deletes the file once read: a crash before the next clean stop
	 * must not bring these back */
	if (unlink(path) < 0)
		cr__log(e, CR_LOG_WARN, CR_LOG_ADDRMAN, "anchors %s: cannot delete it", path);
	cr__log(e, CR_LOG_INFO, CR_LOG_ADDRMAN, "%zu block-relay-only anchors loaded from %s", n, path);
}

int cr__sched_start(struct cr_engine *e)
{
	if (!e->cfg.auto_connect || e->cfg.connect.n)
		return 0; /* -connect: only the manual peers (Core) */
	struct cr__sched *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	e->co.sched = s;
	s->on = true;
	conf_init(e, &s->cf);
	int64_t now = wall_us();
	cr_sched_state_init(&s->st, &s->cf, now, &e->co.rng);
	load_anchors(e, s);
	for (unsigned i = 0; i < e->cfg.seednode.n; i++)
		if (cr_sched_add_addr_fetch(&s->st, e->cfg.seednode.v[i]) < 0)
			cr__log(e, CR_LOG_WARN, CR_LOG_NET, "-seednode=%s: queue full or name too long",
				e->cfg.seednode.v[i]);
	cr__random(&s->next_token, sizeof s->next_token);
	s->next_token |= 1ull << 63; /* never 0 */
	s->dirty = true;
	s->net_on = cr__net_active(e);
	return cr__seed_start(e);
}

void cr__sched_finish(struct cr_engine *e)
{
	struct cr__sched *s = e->co.sched;
	if (!s)
		return;
	cr__seed_finish(e);
	free(s->peers);
	free(s->out_ids);
	free(s);
	e->co.sched = NULL;
}

void cr__sched_kick(struct cr_engine *e)
{
	if (e->co.sched)
		e->co.sched->dirty = true;
}

static int find_pending(struct cr__sched *s, uint64_t token)
{
	for (unsigned i = 0; token && i < s->npend; i++)
		if (s->pend[i].token == token)
			return (int)i;
	return -1;
}

static void drop_pending(struct cr__sched *s, unsigned i)
{
	s->pend[i] = s->pend[--s->npend];
}

static void out_add(struct cr__sched *s, uint64_t id)
{
	if (s->nout == s->cap_out) {
		size_t cap = s->cap_out ? 2 * s->cap_out : 32;
		uint64_t *v = realloc(s->out_ids, cap * sizeof *v);
		if (!v) {
			s->out_lost = true;
			return;
		}
		s->out_ids = v;
		s->cap_out = cap;
	}
	s->out_ids[s->nout++] = id;
}

static void out_remove(struct cr__sched *s, uint64_t id)
{
	for (size_t i = 0; i < s->nout; i++)
		if (s->out_ids[i] == id) {
			s->out_ids[i] = s->out_ids[--s->nout];
			return;
		}
}

void cr__sched_event(struct cr_engine *e, const struct cr_mail *c)
{
	struct cr__sched *s = e->co.sched;
	if (!s || c->ev.type == CR_CONN_INBOUND)
		return;
	struct cr_netaddr na;
	uint16_t port;
	bool have = cr__sockaddr_to_netaddr(&c->addr, &na, &port);
	int64_t now_s = cr__coord_now_s();
	int i = find_pending(s, c->ev.token);
	if (!have && i >= 0 && s->pend[i].peer.port) {
		/* opened by name through the proxy (Tor): the address placed */
		na = s->pend[i].peer.addr;
		port = s->pend[i].peer.port;
		have = true;
	}
	if (c->kind == MAIL_EV_READY) {
		if (i >= 0)
			drop_pending(s, (unsigned)i);
		if (c->peer)
			out_add(s, c->peer);
		if (have) {
			/* Core marks every outbound peer good, block-relay-only
			 * included: a tried entry is worth more than the little it
			 * tells an observer */
			cr_addrman_good(e->co.am, &na, port, true, now_s);
			cr_addrman_set_services(e->co.am, &na, port, c->ev.services);
		}
		s->dirty = true;
		return;
	}
	if (c->kind != MAIL_EV_CLOSED)
		return;
	if (c->peer)
		out_remove(s, c->peer);
	if (i >= 0) /* a V1 retry sends no CLOSED: the attempt goes on */
		drop_pending(s, (unsigned)i);
	/* Core's FinalizeNode: Connected for ready outbound peers but
	 * block-relay-only ones (their addresses are not to be told) and
	 * feelers (a test is not a connection) */
	if (c->ev.ready && have && c->ev.type != CR_CONN_BLOCK_RELAY && c->ev.type != CR_CONN_FEELER)
		cr_addrman_connected(e->co.am, &na, port, now_s);
	if (c->ev.close_reason != CR_CLOSE_STOP)
		s->dirty = true;
}

/* An address we can open: IPv4/IPv6 directly, any other network (Tor) by
 * name through the proxy. */
static bool placeable(const struct cr_engine *e, const struct cr_peeraddr *pa)
{
	struct sockaddr_storage ss;
	return cr__netaddr_to_sockaddr(&pa->na, pa->port, &ss) || e->has_proxy;
}

void cr__sched_place(struct cr_engine *e, const struct cr_peeraddr *pa, const char *host,
		     enum cr_ctype t, bool v2)
{
	struct cr__sched *s = e->co.sched;
	struct sockaddr_storage ss;
	char text[CR_HOSTPORT_MAX];
	memset(&ss, 0, sizeof ss);
	if (s->npend == CR_SCHED_PENDING_MAX)
		return;
	if (pa) {
		if (cr__netaddr_to_sockaddr(&pa->na, pa->port, &ss)) {
			cr__sockaddr_str(&ss, text, sizeof text);
		} else {
			/* Tor and the like: the proxy opens it by name (ss
			 * stays empty, as for a name addr-fetch) */
			memset(&ss, 0, sizeof ss);
			if (!e->has_proxy || cr_addrstr_format(text, sizeof text, &pa->na, pa->port) < 0)
				return;
		}
		host = text;
	}
	struct cr__sched_pending *p = &s->pend[s->npend++];
	memset(p, 0, sizeof *p);
	p->token = s->next_token++;
	if (!s->next_token)
		s->next_token = 1ull << 63;
	p->peer.id = 0;
	p->peer.seq = ++s->seq;
	if (pa) {
		p->peer.addr = pa->na;
		p->peer.port = pa->port;
	}
	p->peer.type = (uint8_t)t;
	p->peer.connected_us = wall_us();
	cr__log(e, CR_LOG_DEBUG, CR_LOG_NET, "opening %s connection to %s", cr_ctype_name(t), host);
	cr__coord_place(e, &ss, host, v2 ? 0 : CR_CONNECT_V1, UINT32_MAX, (enum cr_conn_type)t, p->token);
}

/* A connection whose events were lost (mail refused when out of memory)
 * must not hold a slot for ever: after every timeout it could have met. */
static void expire_pending(struct cr_engine *e, struct cr__sched *s, int64_t now)
{
	int64_t max_us = ((int64_t)e->cfg.connect_timeout_ms + e->cfg.handshake_timeout_ms) * 1000 * 2;
	for (unsigned i = 0; i < s->npend;)
		if (now - s->pend[i].peer.connected_us > max_us)
			drop_pending(s, i);
		else
			i++;
}

static bool grow_peers(struct cr__sched *s, size_t need)
{
	if (need <= s->cap_peers)
		return true;
	size_t cap = s->cap_peers ? s->cap_peers : 64;
	while (cap < need)
		cap *= 2;
	struct cr_sched_peer *v = realloc(s->peers, cap * sizeof *v);
	if (!v)
		return false;
	s->peers = v;
	s->cap_peers = cap;
	return true;
}

/* The first CR_MAX_OUTBOUND_PROTECT full-relay peers (connection order)
 * that announced a block at or after our tip: Core's m_protect without a
 * chain. */
static void protect(struct cr_engine *e, struct cr_sched_peer *v, size_t n)
{
	int64_t tip = e->co.tip_block_us;
	for (unsigned k = 0; k < CR_MAX_OUTBOUND_PROTECT; k++) {
		struct cr_sched_peer *best = NULL;
		for (size_t i = 0; i < n; i++) {
			struct cr_sched_peer *p = &v[i];
			if (p->type != CR_CT_FULL_RELAY || !p->ready || p->chain_protected ||
			    !p->last_block_us || p->last_block_us < tip)
				continue;
			if (!best || p->seq < best->seq)
				best = p;
		}
		if (!best)
			return;
		best->chain_protected = true;
	}
}

static bool build_view(struct cr_engine *e, struct cr__sched *s, struct cr_sched_view *v,
		       struct cr_sched_svc *added, size_t cap_added)
{
	struct cr_coord *co = &e->co;
	/* out of memory once for the id list: the whole table, as a fallback */
	size_t rows = s->out_lost ? cr__summary_count(&co->sum) : s->nout;
	if (!grow_peers(s, rows + CR_SCHED_PENDING_MAX))
		return false;
	size_t n = 0;
	for (size_t i = 0; i < rows; i++) {
		const struct cr__peer_summary *r = s->out_lost ? cr__summary_at(&co->sum, i)
							       : cr__summary_find(&co->sum, s->out_ids[i]);
		if (!r || r->type == CR_CONN_INBOUND)
			continue; /* no row: its summary was refused (out of memory) */
		struct cr_sched_peer *p = &s->peers[n++];
		memset(p, 0, sizeof *p);
		p->id = r->id;
		p->seq = r->seq;
		p->addr = r->addr;
		p->port = r->port;
		p->type = r->type;
		p->ready = r->ready;
		p->disconnecting = r->disconnecting;
		p->connected_us = (int64_t)r->connected_us;
		p->last_block_us = r->last_block_us;
	}
	protect(e, s->peers, n);
	for (unsigned i = 0; i < s->npend; i++)
		s->peers[n++] = s->pend[i].peer;
	size_t nadded = 0;
	for (unsigned i = 0; i < co->nmanual && nadded < cap_added; i++)
		if (!co->manual[i].removed && cr__sockaddr_to_netaddr(&co->manual[i].addr, &added[nadded].addr, &added[nadded].port))
			nadded++;
	memset(v, 0, sizeof *v);
	v->peers = s->peers;
	v->npeers = n;
	v->connected = &co->sum.addrs;
	v->added = added;
	v->nadded = nadded;
	v->bans = cr__guard_banlist(e);
	return true;
}

static void disconnect(struct cr_engine *e, uint64_t id, const char *why)
{
	struct cr_mail *m = cr__mail_new(MAIL_DISCONNECT, 0);
	if (!m)
		return; /* not asked: the next pass chooses again */
	m->peer = id;
	m->reason = CR_CLOSE_LOCAL;
	snprintf(m->host, sizeof m->host, "%s", why);
	cr__mailbox_post(e, &e->w[cr__id_worker(id)].mb, m);
	struct cr__peer_summary *r = cr__summary_find(&e->co.sum, id);
	if (r)
		r->disconnecting = true;
}

/* Core's DNS/fixed-seed decisions aside, one ThreadOpenConnections step:
 * stale tip, extra-peer eviction, then connections until none is due. */
static void run_pass(struct cr_engine *e, struct cr__sched *s, int64_t now)
{
	struct cr_coord *co = &e->co;
	s->dirty = false;
	expire_pending(e, s, now);
	int64_t now_s = now / 1000000;
	cr_addrman_resolve_collisions(co->am, now_s);
	/* stale: our local clock since the tip last changed (Core's
	 * m_last_tip_update); recent: the tip block's own time */
	int64_t tip = co->tip_block_us;
	bool tip_recent = tip && now - tip < 20 * s->cf.iv.block_spacing_us;
	int64_t changed = 0;
	if (co->last_tip_us) {
		changed = now - ((int64_t)cr__now_us() - co->last_tip_us);
		if (!changed)
			changed = 1; /* 0 is "never" */
	}
	cr_sched_check_stale_tip(&s->st, &s->cf, changed, false, tip_recent, now);
	struct cr_sched_svc added[64];
	struct cr_sched_view v;
	if (!build_view(e, s, &v, added, 64))
		return;
	uint64_t out[2];
	size_t nout = cr_sched_evict_extra_outbound_peers(out, &s->st, &s->cf, &v, now);
	for (size_t i = 0; i < nout; i++) {
		cr__log(e, CR_LOG_INFO, CR_LOG_NET, "peer=%llx: disconnecting an extra outbound peer",
			(unsigned long long)out[i]);
		disconnect(e, out[i], "extra outbound peer (EvictExtraOutboundPeers)");
	}
	if (!cr__net_active(e))
		return;
	for (unsigned k = 0; k < PASS_CONNECTS; k++) {
		struct cr_sched_decision d;
		cr_sched_open_connections(&d, &s->st, &s->cf, &v, co->am, now, &co->rng);
		if (d.fixed_seeds_added) {
			cr__log(e, CR_LOG_INFO, CR_LOG_ADDRMAN, "added %zu fixed seeds", d.fixed_seeds_added);
		}
		if (d.action == CR_SCHED_NONE)
			break;
		unsigned before = s->npend;
		if (d.action == CR_SCHED_ADDR_FETCH) {
			cr__seed_addr_fetch(e, d.host);
		} else {
			/* Attempt only for a connection that is opened */
			if (s->npend == CR_SCHED_PENDING_MAX || !placeable(e, &d.addr))
				break;
			cr_addrman_attempt(co->am, &d.addr.na, d.addr.port, d.count_failure, now_s);
			if (d.anchor)
				cr__log(e, CR_LOG_INFO, CR_LOG_NET, "trying anchor %u as block-relay-only",
					(unsigned)s->st.nanchors);
			cr__sched_place(e, &d.addr, NULL, d.type, d.v2);
		}
		if (s->npend == before)
			break; /* nothing placed (a name being resolved, or full) */
		s->peers[v.npeers++] = s->pend[s->npend - 1].peer;
	}
}

static int64_t next_pass(const struct cr__sched *s, const struct cr_engine *e, int64_t now)
{
	if (!cr__net_active(e))
		return INT64_MAX; /* nothing opens: the tick that sees it on again runs a pass */
	const struct cr__summaries *t = &e->co.sum;
	unsigned automatic = t->by_type[CR_CONN_OUTBOUND_FULL_RELAY] + t->by_type[CR_CONN_BLOCK_RELAY] +
		    t->by_type[CR_CONN_FEELER] + t->by_type[CR_CONN_ADDR_FETCH] + s->npend;
	if (automatic < s->cf.lim.full_relay + s->cf.lim.block_relay || s->st.nfetch)
		return now + PASS_IDLE_US;
	int64_t due = s->st.next_feeler_us;
	if (s->st.next_extra_block_relay_us < due)
		due = s->st.next_extra_block_relay_us;
	if (s->st.next_extra_network_us < due)
		due = s->st.next_extra_network_us;
	if (s->st.next_stale_check_us && s->st.next_stale_check_us < due)
		due = s->st.next_stale_check_us;
	return due < now + PASS_MIN_US ? now + PASS_MIN_US : due;
}

uint64_t cr__sched_tick(struct cr_engine *e, uint64_t now_mono)
{
	struct cr__sched *s = e->co.sched;
	if (!s)
		return UINT64_MAX;
	int64_t now = wall_us();
	bool on = cr__net_active(e);
	if (on && !s->net_on)
		s->dirty = true; /* setnetworkactive true: connect at once */
	s->net_on = on;
	int64_t seed_due = cr__seed_tick(e, now);
	if (s->dirty || now_mono >= s->next_pass_mono) {
		run_pass(e, s, now);
		/* the policy counts in wall time; the deadline is kept on the
		 * monotonic clock, which a wall-clock step does not move */
		int64_t due = next_pass(s, e, now);
		s->next_pass_mono = due == INT64_MAX ? UINT64_MAX : now_mono + (uint64_t)(due > now ? due - now : 0);
	}
	uint64_t seed_mono = seed_due == INT64_MAX ? UINT64_MAX
						  : now_mono + (uint64_t)(seed_due > now ? seed_due - now : 0);
	return s->next_pass_mono < seed_mono ? s->next_pass_mono : seed_mono;
}

void cr__sched_stop(struct cr_engine *e)
{
	struct cr__sched *s = e->co.sched;
	const char *path = e->cfg.anchors_path;
	if (!s || !path[0])
		return;
	struct cr_peeraddr a[CR_ANCHORS_MAX];
	size_t n = 0;
	int64_t now_s = cr__coord_now_s();
	for (size_t i = 0; i < cr__summary_count(&e->co.sum) && n < CR_ANCHORS_MAX; i++) {
		const struct cr__peer_summary *r = cr__summary_at(&e->co.sum, i);
		if (r->type != CR_CONN_BLOCK_RELAY || !r->ready || r->disconnecting)
			continue;
		a[n].na = r->addr;
		a[n].port = r->port;
		a[n].services = r->services;
		a[n].time = (uint32_t)now_s;
		n++;
	}
	int ret = cr_anchors_save(path, a, n);
	if (ret < 0)
		cr__log(e, CR_LOG_ERROR, CR_LOG_ADDRMAN, "saving anchors to %s: %s", path, cr_strerror(ret));
	else
		cr__log(e, CR_LOG_INFO, CR_LOG_ADDRMAN, "%zu block-relay-only anchors saved to %s", n, path);
}
