/* The address manager: Bitcoin Core's new/tried tables of peer addresses.
 *
 * Addresses learned from gossip go into 1024 "new" buckets; addresses we
 * have connected to move into 256 "tried" buckets (64 slots each). Bucket
 * and slot come from hashes keyed with a 32-byte secret over the address,
 * its netgroup and the netgroup of the peer that told us, so a source group
 * reaches at most 64 new buckets, a group at most 8 tried buckets and an
 * address at most 8 new slots: an attacker with a few netgroups cannot fill
 * the tables (Eclipse attacks, Heilman et al. 2015). Selection favours
 * addresses that work; entries that look dead ("terrible") are never chosen
 * and are the first to be overwritten.
 *
 * Deterministic: randomness comes from a struct cr_rng passed in, time from
 * `now` (seconds since the epoch) passed to every call; no clock, no globals.
 * Memory is allocated once at cr_addrman_new (the tables bound the number of
 * entries); no call allocates except cr_addrman_save/load/serialize.
 * Not thread-safe: one thread (the coordinator) owns an addrman.
 *
 * Where this differs from Core's addrman.cpp, on purpose:
 * - keyed hashes are SHA-256(key || tag || fields) with one compression per
 *   hash (Core: SHA256d over the key and fields); same spreads;
 * - select skips terrible entries (Core may return them) and, after 2 draws
 *   per bucket without success, scans the entries from a random point so
 *   it ends even when every entry is terrible;
 * - a queued collision whose entry is deleted leaves the queue at once
 *   (ids are reused here; Core's are not);
 * - ::ffff:a.b.c.d is stored as the IPv4 a.b.c.d;
 * - the store body keeps every new slot and is refused whole when any slot
 *   is not where the key puts it (Core re-buckets what does not fit). */
#ifndef CR_ADDR_ADDRMAN_H
#define CR_ADDR_ADDRMAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr/rng.h"
#include "proto/netaddr.h"

#define CR_ADDRMAN_NEW_BUCKETS 1024
#define CR_ADDRMAN_TRIED_BUCKETS 256
#define CR_ADDRMAN_BUCKET_SIZE 64
#define CR_ADDRMAN_TRIED_BUCKETS_PER_GROUP 8
#define CR_ADDRMAN_NEW_BUCKETS_PER_SOURCE_GROUP 64
#define CR_ADDRMAN_NEW_BUCKETS_PER_ADDRESS 8
/* Every live entry holds at least one slot, so this bounds the entries. */
#define CR_ADDRMAN_MAX_ENTRIES \
	((CR_ADDRMAN_NEW_BUCKETS + CR_ADDRMAN_TRIED_BUCKETS) * CR_ADDRMAN_BUCKET_SIZE)

#define CR_ADDRMAN_HORIZON_S (30 * 86400)     /* not seen for 30 days: terrible */
#define CR_ADDRMAN_RETRIES 3                  /* failures with no success ever */
#define CR_ADDRMAN_MAX_FAILURES 10            /* failures ... */
#define CR_ADDRMAN_MIN_FAIL_S (7 * 86400)     /* ... with no success in 7 days */
#define CR_ADDRMAN_REPLACEMENT_S (4 * 3600)   /* tried entry is protected this long */
#define CR_ADDRMAN_TEST_WINDOW_S (40 * 60)    /* collision unresolved this long: evict */
#define CR_ADDRMAN_COLLISIONS_MAX 10          /* test-before-evict queue */
#define CR_ADDRMAN_GETADDR_MAX 1000           /* Core's MAX_ADDR_TO_SEND */
#define CR_ADDRMAN_GETADDR_PCT 23             /* Core's MAX_PCT_ADDR_TO_SEND */

/* Times are accepted in [0, CR_ADDRMAN_TIME_MAX] seconds; larger values are
 * clamped so that no difference of two times can overflow. */
#define CR_ADDRMAN_TIME_MAX ((int64_t)1 << 40)

/* cr_addrman_check flags. */
#define CR_ADDRMAN_CHECK_FULL 0x1u /* also walk every table cell and the
				      index, and recompute every keyed hash */

/* Network filter for select/get_addr: a mask of CR_ADDRMAN_NET(CR_NET_*);
 * 0 means every network. */
#define CR_ADDRMAN_NET(net) (1u << (net))

enum {
	CR_ADDRMAN_ANY = -1,
	CR_ADDRMAN_IN_NEW = 0,
	CR_ADDRMAN_IN_TRIED = 1,
};

struct cr_asmap;
struct cr_addrman;

/* What the manager knows about one address (cr_addrman_find). */
struct cr_addrman_info {
	struct cr_peeraddr addr;   /* time = last seen as gossiped */
	struct cr_netaddr source;  /* first peer that told us */
	int64_t last_try;
	int64_t last_success;
	uint32_t attempts;
	bool in_tried;
	uint8_t ref_count;         /* new slots held (0 when tried) */
	uint16_t bucket;           /* tried bucket, or the first new bucket */
	uint16_t position;
};

/* Creates an empty manager keyed with key (32 secret bytes, drawn by the
 * caller from the OS). asmap (may be NULL) must outlive the manager.
 * netgroup_flags go to cr_netgroup; production passes 0. NULL on ENOMEM. */
struct cr_addrman *cr_addrman_new(const uint8_t key[32], const struct cr_asmap *asmap,
				  unsigned netgroup_flags);
void cr_addrman_free(struct cr_addrman *am);

/* Adds gossiped addresses told by source (Core's Add). Each address's time
 * is lowered by time_penalty_s unless the source announced itself.
 * Unroutable addresses are ignored. Returns how many were newly placed in a
 * new slot. */
size_t cr_addrman_add(struct cr_addrman *am, const struct cr_peeraddr *addrs, size_t n,
		      const struct cr_netaddr *source, int64_t time_penalty_s,
		      int64_t now, struct cr_rng *rng);

/* We completed a handshake with a:port. Moves it to tried; when its tried
 * slot is taken and test_before_evict, the entry is queued as a collision
 * instead (at most CR_ADDRMAN_COLLISIONS_MAX) for a feeler to test. Returns
 * true when the entry moved to tried. */
bool cr_addrman_good(struct cr_addrman *am, const struct cr_netaddr *a, uint16_t port,
		     bool test_before_evict, int64_t now);

/* We tried to connect; count_failure for outbound attempts that count. */
void cr_addrman_attempt(struct cr_addrman *am, const struct cr_netaddr *a, uint16_t port,
			bool count_failure, int64_t now);

/* A connection to a:port is alive at now (refreshes its time at most every
 * 20 minutes, as Core). */
void cr_addrman_connected(struct cr_addrman *am, const struct cr_netaddr *a, uint16_t port,
			  int64_t now);

/* Replaces the service bits we know for a:port. */
void cr_addrman_set_services(struct cr_addrman *am, const struct cr_netaddr *a,
			     uint16_t port, uint64_t services);

/* Picks an address to connect to: new or tried at 50% (unless one is
 * empty or new_only), then random slots with Core's chance (0.66 per failed
 * attempt up to 8, x0.01 when tried in the last 10 minutes, x1.2 per pick
 * refused). Never returns a terrible entry or one outside nets. Returns 0
 * and fills *out (and *last_try if non-NULL), or -ENOENT (then *out is
 * zeroed). */
int cr_addrman_select(struct cr_addrman *am, struct cr_peeraddr *out, int64_t *last_try,
		      bool new_only, unsigned nets, int64_t now, struct cr_rng *rng);

/* Test-before-evict: tries to settle every queued collision (Core's
 * ResolveCollisions). A feeler calls it after testing the old entry. */
void cr_addrman_resolve_collisions(struct cr_addrman *am, int64_t now);

/* The tried entry a random queued collision would evict: the feeler
 * connects to it. Returns 0 and fills *out, or -ENOENT. */
int cr_addrman_select_tried_collision(struct cr_addrman *am, struct cr_peeraddr *out,
				      int64_t *last_try, struct cr_rng *rng);

/* Random addresses to answer getaddr: at most max_addresses and at most
 * max_pct percent of all entries (0 = no limit for either), terrible ones
 * left out, only nets (0 = all). out holds max_addresses entries (when
 * max_addresses is 0, at least cr_addrman_size(am, 0, CR_ADDRMAN_ANY)).
 * Returns the count written. Reorders the internal random array. */
size_t cr_addrman_get_addr(struct cr_addrman *am, struct cr_peeraddr *out,
			   size_t max_addresses, unsigned max_pct, unsigned nets,
			   int64_t now, struct cr_rng *rng);

/* Entries in nets (0 = all) in table (CR_ADDRMAN_IN_NEW, _IN_TRIED, _ANY). */
size_t cr_addrman_size(const struct cr_addrman *am, unsigned nets, int table);

/* Looks up a:port. Returns 0 and fills *info, or -ENOENT. */
int cr_addrman_find(const struct cr_addrman *am, const struct cr_netaddr *a, uint16_t port,
		    struct cr_addrman_info *info);

/* Core's IsTerrible for the entry a:port (false when absent). */
bool cr_addrman_is_terrible(const struct cr_addrman *am, const struct cr_netaddr *a,
			    uint16_t port, int64_t now);

/* Walks the tables, the entry array, the free list, the address index, the
 * random array, the counters and the collision queue. Returns 0, or the
 * negative CR_E_ADDRMAN_* code naming the first inconsistency found. Without
 * CR_ADDRMAN_CHECK_FULL it is O(entries) (table cells are checked through
 * the entries that claim them plus a running checksum of every cell); with
 * it, every cell and index slot is read and every keyed hash recomputed. */
int cr_addrman_check(const struct cr_addrman *am, unsigned flags);

/* The store body (version CR_ADDRMAN_STORE_VERSION): serialize into a
 * malloc'd buffer (*body, freed by the caller), or replace am's content with
 * a body. The body carries the bucket key, so placement survives a restart
 * (as Core's peers.dat): after a successful deserialize the manager uses
 * the body's key. On failure am is left empty with its own key, and
 * CR_E_ADDRMAN_CORRUPT (or CR_E_NOMEM) is returned; why (may be NULL) gets
 * a reason. */
#define CR_ADDRMAN_STORE_MAGIC 0x6d617263u /* "cram" little-endian */
#define CR_ADDRMAN_STORE_VERSION 1u
int cr_addrman_serialize(const struct cr_addrman *am, uint8_t **body, size_t *body_len);
int cr_addrman_deserialize(struct cr_addrman *am, const uint8_t *body, size_t body_len,
			   char *why, size_t why_len);

/* Atomic save through cr_store_save. Returns 0 or negative. */
int cr_addrman_save(const struct cr_addrman *am, const char *path);
/* Load through cr_store_load. Returns 0, -ENOENT (no file: am empty), a
 * CR_E_STORE_* code (bad file, moved aside by the store), or
 * CR_E_ADDRMAN_CORRUPT (well-framed but semantically bad: the file is
 * then also moved aside with cr_store_set_aside). why gets a reason. On any
 * failure am is empty. */
int cr_addrman_load(struct cr_addrman *am, const char *path, char *why, size_t why_len);

#endif
