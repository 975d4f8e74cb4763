/* The ban list: bans by address or subnet with an expiry, and
 * discouragement of misbehaving addresses.
 *
 * Bans are exact (a hash table keyed by network, prefix length and masked
 * address) and a check costs one hash probe per distinct prefix length in
 * use for the address's network: with only single-address bans, one probe,
 * whatever the number of bans. A Bloom filter of one bit per key (16 bits
 * per entry) is tested before each probe, so an address that is not banned,
 * the common case at accept, mostly costs a multiply-hash and one bit test
 * per prefix length. Discouragement (Core's "discouraged"
 * addresses, which are refused only when inbound slots are short) lives in
 * a rolling bloom filter of 50,000 entries at a 1e-6 false-positive rate, so
 * it is bounded however many peers misbehave. Time is passed in (seconds
 * since the epoch); nothing here reads a clock. Owned by the coordinator:
 * one thread per list. */
#ifndef CR_ADDR_BANLIST_H
#define CR_ADDR_BANLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr/subnet.h"
#include "proto/netaddr.h"

#define CR_BAN_DEFAULT_S (24 * 60 * 60)  /* Core's -bantime default */
#define CR_BANLIST_MAX 100000            /* entries; a store holding more is refused */
#define CR_DISCOURAGE_ENTRIES 50000
#define CR_DISCOURAGE_FP_RATE 0.000001

#define CR_BANLIST_MAGIC 0x6e627263u /* "crbn" */
#define CR_BANLIST_VERSION 1u

struct cr_ban {
	struct cr_subnet subnet;
	int64_t created; /* seconds since the epoch */
	int64_t until;   /* banned while now < until */
};

struct cr_banlist;

/* hash_seed keys the ban table, bloom_tweak the discouragement filter;
 * draw both at random in production. NULL when out of memory. */
struct cr_banlist *cr_banlist_new(uint64_t hash_seed, uint32_t bloom_tweak);
void cr_banlist_free(struct cr_banlist *bl);

/* Bans sn from now for duration_s seconds (CR_BAN_DEFAULT_S when <= 0). A
 * subnet already banned keeps the later expiry. Returns 0, CR_E_BAN_FULL
 * (CR_BANLIST_MAX live entries), CR_E_INVAL (bad subnet) or CR_E_NOMEM. */
int cr_banlist_ban(struct cr_banlist *bl, const struct cr_subnet *sn, int64_t now,
		   int64_t duration_s);
/* Bans until an absolute time (for loading and for "ban until"). */
int cr_banlist_ban_until(struct cr_banlist *bl, const struct cr_subnet *sn,
			 int64_t created, int64_t until);
/* The ban of exactly this subnet when it has not expired at now, else
 * NULL (valid until the next change). */
const struct cr_ban *cr_banlist_find(const struct cr_banlist *bl, const struct cr_subnet *sn,
				     int64_t now);
/* Removes the ban of exactly this subnet; false when there was none. */
bool cr_banlist_unban(struct cr_banlist *bl, const struct cr_subnet *sn);
void cr_banlist_clear(struct cr_banlist *bl);

/* True when a lies in a subnet whose ban has not expired at now. */
bool cr_banlist_is_banned(const struct cr_banlist *bl, const struct cr_netaddr *a, int64_t now);

/* Discouragement: remembered in the rolling filter, never expires by time. */
void cr_banlist_discourage(struct cr_banlist *bl, const struct cr_netaddr *a);
bool cr_banlist_is_discouraged(const struct cr_banlist *bl, const struct cr_netaddr *a);

/* A read-only copy of the bans, without the discouragement filter, in one
 * allocation, for threads other than the owner: cr_banlist_is_banned,
 * _count and _at work on it (is_discouraged says false); every change is
 * refused (ban: CR_E_INVAL, unban: false, clear/sweep/discourage: nothing).
 * Bans in it still expire by the now passed in. Free with cr_banlist_free.
 * NULL when out of memory. Any thread may read it concurrently, since nothing
 * writes it. */
struct cr_banlist *cr_banlist_snapshot(const struct cr_banlist *bl);

/* Drops bans expired at now; returns how many. */
size_t cr_banlist_sweep(struct cr_banlist *bl, int64_t now);

/* Entries (expired ones included until swept), in no particular order;
 * i < cr_banlist_count. Pointers are valid until the next change. */
size_t cr_banlist_count(const struct cr_banlist *bl);
const struct cr_ban *cr_banlist_at(const struct cr_banlist *bl, size_t i);

/* Store body: count u32, then per ban net u8, len u8, address, prefix u8
 * (255 stands for 256), created i64, until i64, all little-endian.
 * encode: *out is malloc'd; returns 0 or CR_E_NOMEM. decode replaces the
 * list's bans (discouragement is kept), skipping bans expired at now;
 * returns 0 or CR_E_STORE_BODY (list left empty) / CR_E_NOMEM. */
int cr_banlist_encode(const struct cr_banlist *bl, uint8_t **out, size_t *out_len);
int cr_banlist_decode(struct cr_banlist *bl, const uint8_t *body, size_t len, int64_t now);

/* Persist with addr/store. save: 0 or -errno/CR_E_*. load: 0, -ENOENT (no
 * file: list left empty), or a negative error with the bad file moved
 * aside and the reason in why; the list is empty after a failed load. */
int cr_banlist_save(const struct cr_banlist *bl, const char *path);
int cr_banlist_load(struct cr_banlist *bl, const char *path, int64_t now,
		    char *why, size_t why_len);

#endif
