/* Address gossip: ProcessAddrs, RelayAddress, PushAddress, MaybeSendAddr
 * (see addrrelay.h for the contract and the differences from Core).
 * Coordinator thread. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "addr/netclass.h"
#include "addr/netgroup.h"
#include "engine/policy/addrrelay.h"
#include "engine/policy/poisson.h"
#include "engine/policy/siphash.h"
#include "proto/services.h"

void cr_addr_relay_init(struct cr_addr_relay *r, int64_t now_us)
{
	memset(r, 0, sizeof *r);
	r->tokens = 1.0;
	r->tokens_us = now_us;
	r->send_mean_us = CR_AVG_ADDR_SEND_US;
	r->local_mean_us = CR_AVG_LOCAL_ADDR_SEND_US;
}

void cr_addr_relay_clear(struct cr_addr_relay *r)
{
	free(r->known);
	free(r->queue);
	memset(r, 0, sizeof *r);
}

void cr_addr_relay_getaddr_sent(struct cr_addr_relay *r)
{
	/* Core lets the answer in whole: the bucket may go above its cap */
	r->getaddr_sent = true;
	r->tokens += CR_ADDR_MAX_PER_MSG;
}

static uint64_t addr_key(const struct cr_addr_keys *k, const struct cr_peeraddr *a)
{
	uint8_t buf[4 + CR_NETADDR_MAX];
	size_t len = a->na.len <= CR_NETADDR_MAX ? a->na.len : CR_NETADDR_MAX;
	buf[0] = a->na.net;
	buf[1] = (uint8_t)len;
	buf[2] = (uint8_t)(a->port >> 8);
	buf[3] = (uint8_t)a->port;
	memcpy(buf + 4, a->na.addr, len);
	return cr_siphash(k->k0, k->k1, buf, 4 + len);
}

int cr_addr_known_insert(struct cr_addr_relay *r, const struct cr_addr_keys *k,
			 const struct cr_peeraddr *a)
{
	if (!r->known) {
		r->known = calloc(CR_ADDR_KNOWN_MAX, sizeof *r->known);
		if (!r->known)
			return -ENOMEM;
	}
	uint64_t h = addr_key(k, a);
	for (unsigned i = 0; i < r->known_n; i++)
		if (r->known[i] == h)
			return 0;
	r->known[r->known_next] = h;
	r->known_next = (uint16_t)((r->known_next + 1) % CR_ADDR_KNOWN_MAX);
	if (r->known_n < CR_ADDR_KNOWN_MAX)
		r->known_n++;
	return 0;
}

bool cr_addr_known_contains(const struct cr_addr_relay *r, const struct cr_addr_keys *k,
			    const struct cr_peeraddr *a)
{
	if (!r->known)
		return false;
	uint64_t h = addr_key(k, a);
	for (unsigned i = 0; i < r->known_n; i++)
		if (r->known[i] == h)
			return true;
	return false;
}

static bool routable(const struct cr_netaddr *a, unsigned ng_flags)
{
	if (cr_addr_is_routable(a))
		return true;
	/* the test-only switch that makes loopback a routable range */
	return (ng_flags & CR_NETGROUP_LOOPBACK_ROUTABLE) && a->net == CR_NET_IPV4 &&
	       a->addr[0] == 127;
}

static void refill(struct cr_addr_relay *r, int64_t now_us)
{
	if (r->tokens < CR_ADDR_BUCKET_MAX) {
		int64_t dt = now_us > r->tokens_us ? now_us - r->tokens_us : 0;
		double t = r->tokens + (double)dt * 1e-6 * CR_ADDR_RATE_PER_S;
		r->tokens = t < CR_ADDR_BUCKET_MAX ? t : CR_ADDR_BUCKET_MAX;
	}
	r->tokens_us = now_us;
}

void cr_process_addrs(struct cr_addr_process_out *out, struct cr_peeraddr *store,
		      struct cr_peeraddr *relay, bool *relay_reachable, struct cr_addr_relay *r,
		      const struct cr_addr_keys *k, struct cr_peeraddr *addrs, size_t n,
		      unsigned reachable, unsigned netgroup_flags, bool limited_ok,
		      const struct cr_banlist *bans, int64_t now_us, struct cr_rng *rng)
{
	memset(out, 0, sizeof *out);
	if (n > CR_ADDR_MAX_PER_MSG) {
		out->misbehaving = true;
		return;
	}
	refill(r, now_us);
	/* shuffled, so that which entries the rate limit drops is not the
	 * sender's choice */
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)cr_rng_below(rng, i);
		struct cr_peeraddr t = addrs[i - 1];
		addrs[i - 1] = addrs[j];
		addrs[j] = t;
	}
	int64_t now_s = now_us / 1000000;
	for (size_t i = 0; i < n; i++) {
		struct cr_peeraddr *a = &addrs[i];
		if (r->tokens < 1.0) {
			if (!r->addr_perm) {
				r->rate_limited++;
				continue;
			}
		} else {
			r->tokens -= 1.0;
		}
		if (!cr_services_may_have_addr_db(a->services) &&
		    !cr_services_desirable(a->services, limited_ok))
			continue;
		if (a->time <= 100000000 || (int64_t)a->time > now_s + 600)
			a->time = (uint32_t)(now_s - 5 * 86400);
		cr_addr_known_insert(r, k, a);
		if (bans && (cr_banlist_is_discouraged(bans, &a->na) ||
			     cr_banlist_is_banned(bans, &a->na, now_s)))
			continue;
		r->processed++;
		bool reach = (reachable & CR_ADDRMAN_NET(a->na.net)) != 0;
		if ((int64_t)a->time > now_s - CR_ADDR_RELAY_FRESH_S && !r->getaddr_sent &&
		    n <= CR_ADDR_RELAY_MAX_ENTRIES && routable(&a->na, netgroup_flags)) {
			relay_reachable[out->nrelay] = reach;
			relay[out->nrelay++] = *a;
		}
		if (reach)
			store[out->nstore++] = *a;
	}
	/* a short answer ends the getaddr exchange */
	if (n < CR_ADDR_MAX_PER_MSG)
		r->getaddr_sent = false;
	out->fetch_done = n > 1;
}

size_t cr_relay_address(size_t best[2], const struct cr_peeraddr *a, bool reachable,
			uint64_t originator, const uint64_t *cand_ids, const bool *cand_v2,
			size_t ncands, const struct cr_addr_keys *k, int64_t now_us)
{
	/* the address hash is unkeyed (Core's CServiceHash(0, 0)): it only
	 * staggers the daily rotation per address; the choice is keyed */
	struct cr_addr_keys zero = {0, 0};
	uint64_t hash_addr = addr_key(&zero, a);
	uint64_t day = ((uint64_t)(now_us / 1000000) + hash_addr) / CR_ADDR_ROTATE_S;
	struct cr_siphash h;
	cr_siphash_init(&h, k->k0, k->k1);
	cr_siphash_write_u64(&h, hash_addr);
	cr_siphash_write_u64(&h, day);
	size_t nrelay = (reachable || (cr_siphash_final(&h) & 1)) ? 2 : 1;
	uint64_t score[2] = {0, 0};
	size_t found = 0;
	for (size_t i = 0; i < ncands; i++) {
		if (cand_ids[i] == originator || !cr_addr_compatible(cand_v2[i], a))
			continue;
		struct cr_siphash hc = h;
		cr_siphash_write_u64(&hc, cand_ids[i]);
		uint64_t s = cr_siphash_final(&hc);
		for (size_t j = 0; j < nrelay; j++) {
			if (s > score[j]) {
				if (j + 1 < nrelay) {
					score[j + 1] = score[j];
					best[j + 1] = best[j];
				}
				score[j] = s;
				best[j] = i;
				if (found < nrelay)
					found++;
				break;
			}
		}
	}
	return found;
}

int cr_push_address(struct cr_addr_relay *r, const struct cr_addr_keys *k,
		    const struct cr_peeraddr *a, int64_t now_us, struct cr_rng *rng)
{
	if (!cr_addr_is_valid(&a->na) || cr_addr_known_contains(r, k, a) ||
	    !cr_addr_compatible(r->wants_addrv2, a))
		return 0;
	if (!r->queue) {
		r->queue = malloc(CR_ADDR_QUEUE_MAX * sizeof *r->queue);
		if (!r->queue)
			return -ENOMEM;
		r->nqueue = 0;
	}
	if (r->nqueue == 0 && r->next_send_us < now_us)
		r->next_send_us = cr_poisson_next_send(now_us, r->send_mean_us, rng);
	if (r->nqueue >= CR_ADDR_QUEUE_MAX)
		r->queue[cr_rng_below(rng, r->nqueue)] = *a;
	else
		r->queue[r->nqueue++] = *a;
	return 0;
}

size_t cr_maybe_send_addr(struct cr_peeraddr *out, struct cr_addr_relay *r,
			  const struct cr_addr_keys *k, const struct cr_peeraddr *self,
			  int64_t now_us, int64_t *next_us, struct cr_rng *rng)
{
	if (self && r->next_local_us < now_us) {
		/* forget what the peer knows, so our own address really goes
		 * out (Core resets its filter for the same reason) */
		if (r->next_local_us != 0)
			r->known_n = r->known_next = 0;
		cr_push_address(r, k, self, now_us, rng);
		r->next_local_us = cr_poisson_next_send(now_us, r->local_mean_us, rng);
	}
	size_t n = 0;
	if (r->nqueue && now_us > r->next_send_us) {
		r->next_send_us = cr_poisson_next_send(now_us, r->send_mean_us, rng);
		for (unsigned i = 0; i < r->nqueue; i++) {
			if (cr_addr_known_contains(r, k, &r->queue[i]))
				continue;
			cr_addr_known_insert(r, k, &r->queue[i]);
			out[n++] = r->queue[i];
		}
		free(r->queue);
		r->queue = NULL;
		r->nqueue = 0;
	}
	int64_t next = INT64_MAX;
	if (r->nqueue)
		next = r->next_send_us;
	if (self && r->next_local_us < next)
		next = r->next_local_us;
	*next_us = next;
	return n;
}
