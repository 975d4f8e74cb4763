/* One pass of the open-connections scheduler (Core's ThreadOpenConnections
 * loop body), its type choice and MaybePickPreferredNetwork, the limits
 * -maxconnections implies, and the fixed-seed fallback. See sched.h for
 * the contract and for where this differs from Core. Coordinator thread. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "addr/banlist.h"
#include "addr/netclass.h"
#include "addr/seeds.h"
#include "engine/policy/poisson.h"
#include "engine/policy/sched.h"
#include "proto/services.h"

const char *cr_ctype_name(enum cr_ctype t)
{
	switch (t) {
	case CR_CT_INBOUND: return "inbound";
	case CR_CT_FULL_RELAY: return "outbound-full-relay";
	case CR_CT_MANUAL: return "manual";
	case CR_CT_FEELER: return "feeler";
	case CR_CT_BLOCK_RELAY: return "block-relay-only";
	case CR_CT_ADDR_FETCH: return "addr-fetch";
	case CR_CT_COUNT: break;
	}
	return "unknown";
}

void cr_sched_limits_init(struct cr_sched_limits *l, unsigned max_connections)
{
	memset(l, 0, sizeof *l);
	l->max_connections = max_connections;
	l->full_relay = max_connections < CR_MAX_OUTBOUND_FULL_RELAY ? max_connections
								     : CR_MAX_OUTBOUND_FULL_RELAY;
	unsigned rest = max_connections - l->full_relay;
	l->block_relay = rest < CR_MAX_BLOCK_RELAY_ONLY ? rest : CR_MAX_BLOCK_RELAY_ONLY;
	l->feeler = CR_MAX_FEELER;
	l->automatic_outbound = l->full_relay + l->block_relay + l->feeler;
	l->inbound = max_connections > l->automatic_outbound ? max_connections - l->automatic_outbound
							     : 0;
}

void cr_sched_conf_default(struct cr_sched_conf *cf, enum cr_chain_id chain,
			   uint16_t default_port, unsigned max_connections)
{
	memset(cf, 0, sizeof *cf);
	cr_sched_limits_init(&cf->lim, max_connections);
	cf->iv.feeler_us = 120ll * 1000000;
	cf->iv.extra_block_relay_us = 300ll * 1000000;
	cf->iv.extra_network_us = 300ll * 1000000;
	cf->iv.feeler_window_us = 1000000;
	cf->iv.fixed_seeds_delay_us = 60ll * 1000000;
	cf->iv.stale_check_us = 600ll * 1000000;
	cf->iv.block_spacing_us = 600ll * 1000000;
	cf->iv.min_connect_us = 30ll * 1000000;
	cf->chain = chain;
	cf->default_port = default_port;
	cf->reachable = CR_ADDRMAN_NET(CR_NET_IPV4) | CR_ADDRMAN_NET(CR_NET_IPV6);
	cf->use_addrman_outgoing = true;
	cf->dnsseed = true;
	cf->fixedseeds = true;
	cf->limited_ok = true;
}

void cr_sched_state_init(struct cr_sched_state *st, const struct cr_sched_conf *cf,
			 int64_t now_us, struct cr_rng *rng)
{
	memset(st, 0, sizeof *st);
	st->start_us = now_us;
	st->next_feeler_us = cr_poisson_next_send(now_us, cf->iv.feeler_us, rng);
	st->next_extra_block_relay_us = cr_poisson_next_send(now_us, cf->iv.extra_block_relay_us, rng);
	st->next_extra_network_us = cr_poisson_next_send(now_us, cf->iv.extra_network_us, rng);
	st->add_fixed_seeds = cf->fixedseeds;
}

int cr_sched_add_addr_fetch(struct cr_sched_state *st, const char *host)
{
	if (strlen(host) >= CR_SCHED_HOST_MAX)
		return -ENAMETOOLONG;
	if (st->nfetch == CR_SCHED_FETCH_MAX)
		return -ENOSPC;
	snprintf(st->fetch[st->nfetch++], CR_SCHED_HOST_MAX, "%s", host);
	return 0;
}

void cr_sched_count(struct cr_sched_counts *c, const struct cr_sched_view *v)
{
	memset(c, 0, sizeof *c);
	for (size_t i = 0; i < v->npeers; i++) {
		const struct cr_sched_peer *p = &v->peers[i];
		switch (p->type) {
		case CR_CT_FULL_RELAY: c->full_relay++; break;
		case CR_CT_BLOCK_RELAY: c->block_relay++; break;
		case CR_CT_FEELER: c->feeler++; break;
		case CR_CT_ADDR_FETCH: c->addr_fetch++; break;
		case CR_CT_MANUAL: c->manual++; break;
		default: break;
		}
		/* Core's m_network_conn_counts: full-relay and manual only */
		if ((p->type == CR_CT_FULL_RELAY || p->type == CR_CT_MANUAL) && p->addr.net < 8)
			c->per_net[p->addr.net]++;
	}
}

int cr_sched_maybe_pick_preferred_network(const struct cr_sched_conf *cf,
					  const struct cr_sched_counts *c,
					  const struct cr_addrman *am, struct cr_rng *rng)
{
	uint8_t nets[] = {CR_NET_IPV4, CR_NET_IPV6, CR_NET_TORV3, CR_NET_I2P, CR_NET_CJDNS};
	for (size_t i = sizeof nets - 1; i > 0; i--) { /* Fisher-Yates, as std::shuffle */
		size_t j = (size_t)cr_rng_below(rng, i + 1);
		uint8_t t = nets[i];
		nets[i] = nets[j];
		nets[j] = t;
	}
	for (size_t i = 0; i < sizeof nets; i++) {
		uint8_t net = nets[i];
		if ((cf->reachable & CR_ADDRMAN_NET(net)) && c->per_net[net] == 0 &&
		    cr_addrman_size(am, CR_ADDRMAN_NET(net), CR_ADDRMAN_ANY) != 0)
			return net;
	}
	return -1;
}

int cr_sched_next_conn_type(struct cr_sched_state *st, const struct cr_sched_conf *cf,
			    const struct cr_sched_counts *c, struct cr_addrman *am,
			    int64_t now_us, struct cr_rng *rng, bool *anchor, int *preferred_net)
{
	const struct cr_sched_limits *l = &cf->lim;
	*anchor = false;
	*preferred_net = -1;
	/* anchors first: they restore the block-relay-only peers of the last
	 * run, so a restart gives an attacker no fresh chance */
	if (st->nanchors && c->block_relay < l->block_relay) {
		*anchor = true;
		return CR_CT_BLOCK_RELAY;
	}
	if (c->full_relay < l->full_relay)
		return CR_CT_FULL_RELAY;
	if (c->block_relay < l->block_relay)
		return CR_CT_BLOCK_RELAY;
	if (st->try_new_outbound)
		return CR_CT_FULL_RELAY; /* stale tip: one extra full-relay peer */
	if (now_us > st->next_extra_block_relay_us && st->start_extra_block_relay) {
		/* a short-lived block-relay-only peer to check our tip against;
		 * EvictExtraOutboundPeers keeps whichever delivers blocks */
		st->next_extra_block_relay_us =
			cr_poisson_next_send(now_us, cf->iv.extra_block_relay_us, rng);
		return CR_CT_BLOCK_RELAY;
	}
	if (now_us > st->next_feeler_us) {
		st->next_feeler_us = cr_poisson_next_send(now_us, cf->iv.feeler_us, rng);
		return CR_CT_FEELER;
	}
	/* a peer on a reachable network we have none on, unless -maxconnections
	 * is so low that protected outbound peers would interact with it */
	if (c->full_relay == l->full_relay && l->full_relay == CR_MAX_OUTBOUND_FULL_RELAY &&
	    now_us > st->next_extra_network_us) {
		int net = cr_sched_maybe_pick_preferred_network(cf, c, am, rng);
		if (net >= 0) {
			st->next_extra_network_us =
				cr_poisson_next_send(now_us, cf->iv.extra_network_us, rng);
			*preferred_net = net;
			return CR_CT_FULL_RELAY;
		}
	}
	return -1;
}

size_t cr_sched_add_fixed_seeds(struct cr_addrman *am, const struct cr_sched_conf *cf,
				int64_t now_us, struct cr_rng *rng)
{
	unsigned empty = 0;
	for (uint8_t net = CR_NET_IPV4; net <= CR_NET_CJDNS; net++)
		if ((cf->reachable & CR_ADDRMAN_NET(net)) &&
		    cr_addrman_size(am, CR_ADDRMAN_NET(net), CR_ADDRMAN_ANY) == 0)
			empty |= CR_ADDRMAN_NET(net);
	if (!empty)
		return 0;
	struct cr_netaddr src;
	cr_seeds_source(&src, "fixedseeds");
	int64_t now_s = now_us / 1000000;
	struct cr_peeraddr batch[64], pa;
	struct cr_seeds_iter it;
	size_t added = 0, n = 0;
	cr_seeds_iter_init(&it, cf->chain);
	while (cr_seeds_next(&it, &pa)) {
		if (!(empty & CR_ADDRMAN_NET(pa.na.net)))
			continue;
		/* Core's ConvertSeeds: desirable services, seen one to two weeks
		 * ago, so real gossip soon outranks them */
		pa.services = CR_NODE_NETWORK | CR_NODE_WITNESS;
		pa.time = (uint32_t)(now_s - 7 * 86400 - (int64_t)cr_rng_below(rng, 7 * 86400));
		batch[n++] = pa;
		if (n == 64) {
			added += cr_addrman_add(am, batch, n, &src, 0, now_s, rng);
			n = 0;
		}
	}
	if (n)
		added += cr_addrman_add(am, batch, n, &src, 0, now_s, rng);
	return added;
}

/* Core: with an empty table for some reachable network, fixed seeds come
 * after 60 s, or at once when no other source (DNS seeds, -seednode,
 * -addnode) could fill it. */
static void maybe_fixed_seeds(struct cr_sched_decision *out, struct cr_sched_state *st,
			      const struct cr_sched_conf *cf, const struct cr_sched_view *v,
			      struct cr_addrman *am, int64_t now_us, struct cr_rng *rng)
{
	if (!st->add_fixed_seeds)
		return;
	bool any_empty = false;
	for (uint8_t net = CR_NET_IPV4; net <= CR_NET_CJDNS; net++)
		any_empty |= (cf->reachable & CR_ADDRMAN_NET(net)) &&
			     cr_addrman_size(am, CR_ADDRMAN_NET(net), CR_ADDRMAN_ANY) == 0;
	if (!any_empty)
		return;
	bool now = now_us > st->start_us + cf->iv.fixed_seeds_delay_us ||
		   (!cf->dnsseed && !cf->seednodes && v->nadded == 0);
	if (!now)
		return;
	out->fixed_seeds_added = cr_sched_add_fixed_seeds(am, cf, now_us, rng);
	st->add_fixed_seeds = false;
}

/* Anchors are tried last-first; one that no longer qualifies is dropped. */
static bool pick_anchor(struct cr_peeraddr *out, struct cr_sched_state *st,
			const struct cr_sched_conf *cf, const struct cr_sched_view *v,
			int64_t now_s)
{
	uint8_t groups[64][CR_NETGROUP_MAX], lens[64];
	size_t privacy, ng = cr_sched_groups(groups, lens, 64, &privacy, cf, v);
	while (st->nanchors) {
		struct cr_peeraddr a = st->anchors[--st->nanchors];
		if (!cr_addr_is_valid(&a.na) || cr_sched_is_local(v, &a.na) ||
		    !(cf->reachable & CR_ADDRMAN_NET(a.na.net)) ||
		    !cr_services_desirable(a.services, cf->limited_ok) ||
		    cr_sched_already_connected(v, &a.na))
			continue;
		/* Core's OpenNetworkConnection refuses a banned or discouraged
		 * anchor as any address without a name */
		if (v->bans && (cr_banlist_is_banned(v->bans, &a.na, now_s) ||
				cr_banlist_is_discouraged(v->bans, &a.na)))
			continue;
		if (cr_sched_group_taken(groups, lens, ng, &a.na, cf))
			continue;
		*out = a;
		return true;
	}
	return false;
}

int cr_sched_open_connections(struct cr_sched_decision *out, struct cr_sched_state *st,
			      const struct cr_sched_conf *cf, const struct cr_sched_view *v,
			      struct cr_addrman *am, int64_t now_us, struct cr_rng *rng)
{
	memset(out, 0, sizeof *out);
	out->preferred_net = -1;
	if (!cf->use_addrman_outgoing)
		return 0; /* -connect: only the manual peers */
	maybe_fixed_seeds(out, st, cf, v, am, now_us, rng);

	struct cr_sched_counts c;
	cr_sched_count(&c, v);
	/* Core's outbound semaphore: full-relay, block-relay-only, feeler and
	 * addr-fetch connections share the automatic outbound slots */
	unsigned automatic = c.full_relay + c.block_relay + c.feeler + c.addr_fetch;
	if (automatic >= cf->lim.automatic_outbound)
		return 0;
	if (st->nfetch) { /* ProcessAddrFetch: the oldest queued name */
		out->action = CR_SCHED_ADDR_FETCH;
		out->type = CR_CT_ADDR_FETCH;
		memcpy(out->host, st->fetch[0], CR_SCHED_HOST_MAX);
		memmove(st->fetch[0], st->fetch[1], (st->nfetch - 1) * sizeof st->fetch[0]);
		st->nfetch--;
		out->v2 = (cf->our_services & CR_NODE_P2P_V2) != 0;
		return 0;
	}

	bool anchor;
	int pref;
	int t = cr_sched_next_conn_type(st, cf, &c, am, now_us, rng, &anchor, &pref);
	if (t < 0)
		return 0;
	struct cr_peeraddr pa;
	bool found = anchor && pick_anchor(&pa, st, cf, v, now_us / 1000000);
	if (!found) {
		anchor = false;
		found = cr_sched_select_address(&pa, &out->tries, (enum cr_ctype)t, pref, cf, v, am,
						now_us, rng) == 0;
	}
	if (!found)
		return 0;

	uint8_t groups[64][CR_NETGROUP_MAX], lens[64];
	size_t privacy, ng = cr_sched_groups(groups, lens, 64, &privacy, cf, v);
	/* Core counts failures only once at least 2 distinct groups are
	 * connected: a node that is offline must not mark its whole table
	 * as failing */
	unsigned mc = cf->lim.max_connections;
	unsigned need = mc == 0 ? 0 : mc - 1 < 2 ? mc - 1 : 2;
	out->action = CR_SCHED_CONNECT;
	out->type = (enum cr_ctype)t;
	out->addr = pa;
	out->anchor = anchor;
	out->count_failure = ng + privacy >= need;
	out->v2 = (pa.services & cf->our_services & CR_NODE_P2P_V2) != 0;
	out->preferred_net = pref;
	if (t == CR_CT_FEELER && cf->iv.feeler_window_us > 0)
		out->delay_us = (int64_t)cr_rng_below(rng, (uint64_t)cf->iv.feeler_window_us);
	return 0;
}
