/* The getaddr answer cache (see addrcache.h). Coordinator thread. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine/policy/addrcache.h"
#include "engine/policy/siphash.h"

void cr_addrcache_init(struct cr_addrcache *c)
{
	memset(c, 0, sizeof *c);
}

void cr_addrcache_clear(struct cr_addrcache *c)
{
	for (int i = 0; i < CR_ADDRCACHE_SLOTS; i++)
		free(c->e[i].addrs);
	memset(c, 0, sizeof *c);
}

uint64_t cr_addrcache_id(const struct cr_addr_keys *k, unsigned netclass,
			 const struct cr_netaddr *local, uint16_t local_port)
{
	struct cr_siphash h;
	/* a different key from the relay choice: the two must not correlate */
	cr_siphash_init(&h, k->k0 ^ 0x6361636865ull, k->k1);
	uint8_t head[4] = {(uint8_t)netclass, local->net, local->len, 0};
	cr_siphash_write(&h, head, sizeof head);
	cr_siphash_write(&h, local->addr, local->len <= CR_NETADDR_MAX ? local->len : 0);
	cr_siphash_write_u64(&h, local_port);
	return cr_siphash_final(&h);
}

static struct cr_addrcache_entry *slot_for(struct cr_addrcache *c, uint64_t id)
{
	struct cr_addrcache_entry *victim = &c->e[0];
	for (int i = 0; i < CR_ADDRCACHE_SLOTS; i++) {
		struct cr_addrcache_entry *e = &c->e[i];
		if (e->expire_us && e->id == id)
			return e;
		if (e->expire_us < victim->expire_us)
			victim = e;
	}
	victim->expire_us = 0;
	victim->id = id;
	return victim;
}

size_t cr_addrcache_draw(struct cr_peeraddr *out, struct cr_addrman *am, const struct cr_banlist *bans,
			 int64_t now_us, struct cr_rng *rng)
{
	int64_t now_s = now_us / 1000000;
	size_t got = cr_addrman_get_addr(am, out, CR_ADDR_MAX_PER_MSG, CR_ADDRMAN_GETADDR_PCT, 0, now_s, rng);
	size_t keep = 0;
	for (size_t i = 0; i < got; i++) {
		const struct cr_netaddr *a = &out[i].na;
		if (bans && (cr_banlist_is_discouraged(bans, a) || cr_banlist_is_banned(bans, a, now_s)))
			continue;
		out[keep++] = out[i];
	}
	return keep;
}

int cr_addrcache_get(const struct cr_peeraddr **out, size_t *n, struct cr_addrcache *c,
		     uint64_t id, struct cr_addrman *am, const struct cr_banlist *bans,
		     int64_t now_us, struct cr_rng *rng)
{
	struct cr_addrcache_entry *e = slot_for(c, id);
	*out = NULL;
	*n = 0;
	if (e->expire_us < now_us) {
		if (!e->addrs) {
			e->addrs = malloc(CR_ADDR_MAX_PER_MSG * sizeof *e->addrs);
			if (!e->addrs)
				return -ENOMEM;
		}
		e->n = cr_addrcache_draw(e->addrs, am, bans, now_us, rng);
		e->id = id;
		e->expire_us = now_us + CR_ADDRCACHE_LIFE_US +
			       (int64_t)cr_rng_below(rng, (uint64_t)CR_ADDRCACHE_SPREAD_US);
	}
	*out = e->addrs;
	*n = e->n;
	return 0;
}
