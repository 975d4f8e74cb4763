/* The getaddr answer cache (Core's CConnman::GetAddresses(requestor, ...)):
 * every inbound peer that reaches us through the same network and local
 * address gets the same answer until it expires 21 to 27 hours after it
 * was drawn, so repeated getaddr from many connections cannot map our
 * address manager (a spy would otherwise collect a fresh 23% sample per
 * connection and soon see it all). An answer holds at most 1,000
 * addresses and 23% of the table, terrible, banned and discouraged ones
 * left out. At most CR_ADDRCACHE_SLOTS answers are kept; a new key takes
 * the slot that expires first. One thread (the coordinator). */
#ifndef CR_POLICY_ADDRCACHE_H
#define CR_POLICY_ADDRCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "addr/addrman.h"
#include "addr/banlist.h"
#include "engine/policy/addrrelay.h"

#define CR_ADDRCACHE_SLOTS 16
#define CR_ADDRCACHE_LIFE_US (21ll * 3600 * 1000000)   /* at least */
#define CR_ADDRCACHE_SPREAD_US (6ll * 3600 * 1000000)  /* plus up to this */

struct cr_addrcache_entry {
	uint64_t id;
	int64_t expire_us;         /* 0 = empty slot */
	size_t n;
	struct cr_peeraddr *addrs; /* CR_ADDR_MAX_PER_MSG entries */
};

struct cr_addrcache {
	struct cr_addrcache_entry e[CR_ADDRCACHE_SLOTS];
};

void cr_addrcache_init(struct cr_addrcache *c);
void cr_addrcache_clear(struct cr_addrcache *c);

/* Core's cache id: a keyed hash of the network class the peer came
 * through and our local address and port of its connection. */
uint64_t cr_addrcache_id(const struct cr_addr_keys *k, unsigned netclass,
			 const struct cr_netaddr *local, uint16_t local_port);

/* GetAddresses: up to CR_ADDR_MAX_PER_MSG (and 23%) addresses from am
 * into out (room for CR_ADDR_MAX_PER_MSG), banned and discouraged ones
 * (bans may be NULL) left out. Returns their count. What a cache entry
 * holds, and the addr permission's uncached answer. */
size_t cr_addrcache_draw(struct cr_peeraddr *out, struct cr_addrman *am, const struct cr_banlist *bans,
			 int64_t now_us, struct cr_rng *rng);

/* The answer for id: *out points into the cache (valid until the next
 * call), *n its length. Draws a new one when there is none or it expired.
 * Returns 0 or -ENOMEM. */
int cr_addrcache_get(const struct cr_peeraddr **out, size_t *n, struct cr_addrcache *c,
		     uint64_t id, struct cr_addrman *am, const struct cr_banlist *bans,
		     int64_t now_us, struct cr_rng *rng);

#endif
