/* The scheduler's periodic checks from Core's net_processing:
 * CheckForStaleTipAndEvictPeers (stale-tip detection that allows one extra
 * full-relay peer) and EvictExtraOutboundPeers (which keeps, of the
 * block-relay-only and full-relay peers above target, the ones that bring
 * blocks). See sched.h. Coordinator thread. */
#include <string.h>

#include "engine/policy/sched.h"

void cr_sched_check_stale_tip(struct cr_sched_state *st, const struct cr_sched_conf *cf,
			      int64_t last_tip_us, bool any_block_in_flight, bool tip_recent,
			      int64_t now_us)
{
	if (now_us > st->next_stale_check_us) {
		/* Core's TipMayBeStale: no new tip for 3 block intervals and
		 * nothing being downloaded */
		int64_t tip = last_tip_us ? last_tip_us : now_us;
		bool stale = tip < now_us - 3 * cf->iv.block_spacing_us && !any_block_in_flight;
		if (cf->use_addrman_outgoing && stale)
			st->try_new_outbound = true;
		else
			st->try_new_outbound = false;
		st->next_stale_check_us = now_us + cf->iv.stale_check_us;
	}
	if (tip_recent)
		st->start_extra_block_relay = true;
}

static bool kept(const struct cr_sched_peer *p, const struct cr_sched_conf *cf, int64_t now_us)
{
	/* give a new peer time to show what it brings, and never drop one we
	 * are fetching a block from */
	return now_us - p->connected_us < cf->iv.min_connect_us || p->blocks_in_flight;
}

/* Core's MultipleManualOrFullOutboundConns: the network keeps another
 * full-relay or manual peer if this one goes. */
static bool multiple_on_net(const struct cr_sched_view *v, uint8_t net)
{
	unsigned n = 0;
	for (size_t i = 0; i < v->npeers; i++) {
		const struct cr_sched_peer *p = &v->peers[i];
		if ((p->type == CR_CT_FULL_RELAY || p->type == CR_CT_MANUAL) && p->addr.net == net)
			n++;
	}
	return n > 1;
}

static bool evict_block_relay(uint64_t *out, const struct cr_sched_conf *cf,
			      const struct cr_sched_view *v, int64_t now_us)
{
	unsigned n = 0;
	const struct cr_sched_peer *young = NULL, *next = NULL;
	for (size_t i = 0; i < v->npeers; i++) {
		const struct cr_sched_peer *p = &v->peers[i];
		if (p->type != CR_CT_BLOCK_RELAY || !p->ready || p->disconnecting)
			continue;
		n++;
		if (!young || p->seq > young->seq) {
			next = young;
			young = p;
		} else if (!next || p->seq > next->seq) {
			next = p;
		}
	}
	if (n <= cf->lim.block_relay || !young)
		return false;
	/* the youngest is normally the extra peer; it stays if it brought a
	 * block more recently than the second youngest */
	const struct cr_sched_peer *victim = young;
	if (next && young->last_block_us > next->last_block_us)
		victim = next;
	if (kept(victim, cf, now_us))
		return false;
	*out = victim->id;
	return true;
}

static bool evict_full_relay(uint64_t *out, const struct cr_sched_conf *cf,
			     const struct cr_sched_view *v, int64_t now_us)
{
	unsigned n = 0;
	for (size_t i = 0; i < v->npeers; i++) {
		const struct cr_sched_peer *p = &v->peers[i];
		n += p->type == CR_CT_FULL_RELAY && p->ready && !p->disconnecting;
	}
	if (n <= cf->lim.full_relay)
		return false;
	const struct cr_sched_peer *worst = NULL;
	for (size_t i = 0; i < v->npeers; i++) {
		const struct cr_sched_peer *p = &v->peers[i];
		if (p->type != CR_CT_FULL_RELAY || !p->ready || p->disconnecting)
			continue;
		if (p->chain_protected || !multiple_on_net(v, p->addr.net))
			continue;
		/* oldest announcement; ties go to the youngest connection */
		if (!worst || p->last_block_us < worst->last_block_us ||
		    (p->last_block_us == worst->last_block_us && p->seq > worst->seq))
			worst = p;
	}
	if (!worst || kept(worst, cf, now_us))
		return false;
	*out = worst->id;
	return true;
}

size_t cr_sched_evict_extra_outbound_peers(uint64_t out[2], struct cr_sched_state *st,
					   const struct cr_sched_conf *cf,
					   const struct cr_sched_view *v, int64_t now_us)
{
	size_t n = 0;
	if (evict_block_relay(&out[n], cf, v, now_us))
		n++;
	if (evict_full_relay(&out[n], cf, v, now_us)) {
		n++;
		/* an extra peer worked out since the stale tip: no more extra
		 * peers until the tip goes stale again */
		st->try_new_outbound = false;
	}
	return n;
}
