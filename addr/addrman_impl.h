/* Private layout of the address manager, shared by addrman*.c only.
 *
 * One array of entries (ids are indexes) with a free list; tables of ids
 * (CR_AM_NONE for an empty cell); an open-addressing index from address to
 * id; the "random" array of live ids that select and get_addr sample from.
 * Each entry also lists the new cells it occupies, so moving or deleting it
 * touches at most 8 cells instead of scanning 1024 buckets as Core does.
 * Same thread rules as addrman.h. */
#ifndef CR_ADDR_ADDRMAN_IMPL_H
#define CR_ADDR_ADDRMAN_IMPL_H

#include "addr/addrman.h"
#include "addr/netgroup.h"
#include "proto/crypto.h"
#include "addr/err.h"

#define CR_AM_NONE UINT32_MAX
#define CR_AM_NEW_CELLS (CR_ADDRMAN_NEW_BUCKETS * CR_ADDRMAN_BUCKET_SIZE)
#define CR_AM_TRIED_CELLS (CR_ADDRMAN_TRIED_BUCKETS * CR_ADDRMAN_BUCKET_SIZE)
/* add creates an entry before it knows whether a slot takes it. */
#define CR_AM_CAP (CR_ADDRMAN_MAX_ENTRIES + 1)
#define CR_AM_INDEX_BITS 18 /* 262,144 index slots: load factor <= 0.32 */
#define CR_AM_INDEX_SIZE (1u << CR_AM_INDEX_BITS)
#define CR_AM_NETS 8        /* per-network counters, by BIP155 id */

struct cr_am_entry {
	struct cr_netaddr addr;
	struct cr_netaddr source;
	uint16_t port;
	uint8_t live;
	uint8_t in_tried;
	uint8_t ref_count;                /* new cells held */
	uint8_t group_len;
	uint8_t src_group_len;
	uint8_t group[CR_NETGROUP_MAX];     /* cached cr_netgroup(addr) */
	uint8_t src_group[CR_NETGROUP_MAX]; /* cached cr_netgroup(source) */
	uint16_t tried_cell;              /* bucket * 64 + position, when tried */
	uint16_t new_cells[CR_ADDRMAN_NEW_BUCKETS_PER_ADDRESS];
	uint32_t attempts;
	uint32_t random_pos;              /* index in am->random */
	uint32_t hash;                    /* index hash of (addr, port) */
	uint32_t next_free;               /* free-list link when !live */
	uint64_t services;
	int64_t time;                     /* last seen, as gossiped */
	int64_t last_try;
	int64_t last_success;
	int64_t last_count_attempt;
};

struct cr_addrman {
	struct cr_sha256 keyed;   /* SHA-256 state after the key block */
	uint8_t key[32];
	uint64_t index_seed;
	const struct cr_asmap *asmap;
	unsigned ng_flags;
	uint32_t n;               /* live entries = used length of random */
	uint32_t n_new, n_tried;
	uint32_t net_new[CR_AM_NETS], net_tried[CR_AM_NETS];
	uint32_t high;            /* entries[0..high) have been handed out */
	uint32_t free_head;
	uint32_t n_coll;
	uint32_t coll[CR_ADDRMAN_COLLISIONS_MAX];
	int64_t last_good;
	uint64_t cell_sum;        /* sum of cell_tag over every occupied cell */
	struct cr_am_entry *ent;  /* CR_AM_CAP */
	uint32_t *random;         /* CR_AM_CAP */
	uint32_t *index;          /* CR_AM_INDEX_SIZE */
	uint32_t new_tbl[CR_AM_NEW_CELLS];
	uint32_t tried_tbl[CR_AM_TRIED_CELLS];
};

/* Keyed placement (addrman.c). */
unsigned cr_am_tried_bucket(const struct cr_addrman *am, const struct cr_am_entry *e);
unsigned cr_am_new_bucket(const struct cr_addrman *am, const struct cr_am_entry *e,
			  const uint8_t *src_group, size_t src_group_len);
unsigned cr_am_position(const struct cr_addrman *am, const struct cr_am_entry *e,
			bool is_new, unsigned bucket);
uint32_t cr_am_index_hash(const struct cr_addrman *am, const struct cr_netaddr *a,
			  uint16_t port);
uint32_t cr_am_lookup(const struct cr_addrman *am, const struct cr_netaddr *a, uint16_t port);
uint64_t cr_am_cell_tag(bool tried, uint32_t cell, uint32_t id);
bool cr_am_addr_valid(const struct cr_netaddr *a);
bool cr_am_routable(const struct cr_addrman *am, const struct cr_netaddr *a);

/* Entry life (addrman.c). */
void cr_am_reset(struct cr_addrman *am);
uint32_t cr_am_create(struct cr_addrman *am, const struct cr_netaddr *a, uint16_t port,
		      const struct cr_netaddr *source);
void cr_am_set_new(struct cr_addrman *am, uint32_t cell, uint32_t id);
void cr_am_set_tried(struct cr_addrman *am, uint32_t cell, uint32_t id);
void cr_am_clear_new(struct cr_addrman *am, uint32_t cell);
void cr_am_make_tried(struct cr_addrman *am, uint32_t id);
bool cr_am_good(struct cr_addrman *am, uint32_t id, bool test_before_evict, int64_t now);
void cr_am_swap_random(struct cr_addrman *am, uint32_t i, uint32_t j);

/* Entry quality (addrman_select.c). */
bool cr_am_terrible(const struct cr_am_entry *e, int64_t now);
double cr_am_chance(const struct cr_am_entry *e, int64_t now);
void cr_am_export(const struct cr_am_entry *e, struct cr_peeraddr *out);

static inline int64_t cr_am_clamp_time(int64_t t)
{
	return t < 0 ? 0 : t > CR_ADDRMAN_TIME_MAX ? CR_ADDRMAN_TIME_MAX : t;
}

static inline bool cr_am_net_in(unsigned nets, uint8_t net)
{
	return nets == 0 || (net < 32 && (nets & (1u << net)));
}

#endif
