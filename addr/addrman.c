/* Address manager core: keyed placement, the address index, entry life and
 * the table moves (Core's Create/Delete/ClearNew/MakeTried), and the calls
 * that feed it (add, good, attempt, connected). Selection is in
 * addrman_select.c, persistence in addrman_store.c, the consistency check in
 * addrman_check.c. One thread per manager (see addrman.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "addr/addrman_impl.h"
#include "addr/netclass.h"

/* ---- keyed placement ------------------------------------------------- */

/* Core hashes (key, fields) with SHA256d and keeps 64 bits. We use SHA-256
 * over key || tag || fields: a PRF for an attacker who does not know the
 * 32-byte key, so one cannot compute which bucket an address lands in, nor
 * grind addresses that share one. The key fills the first 64-byte block,
 * whose state is kept, so each hash costs one compression. */
static uint64_t keyed_hash(const struct cr_addrman *am, const uint8_t *msg, size_t len)
{
	struct cr_sha256 h = am->keyed;
	uint8_t out[32];
	uint64_t v = 0;
	cr_sha256_update(&h, msg, len);
	cr_sha256_final(&h, out);
	for (int i = 7; i >= 0; i--)
		v = v << 8 | out[i];
	return v;
}

/* Address and port as one byte string (Core's CService::GetKey). */
static size_t put_service(uint8_t *p, const struct cr_netaddr *a, uint16_t port)
{
	p[0] = a->net;
	p[1] = a->len;
	memcpy(p + 2, a->addr, a->len);
	p[2 + a->len] = (uint8_t)(port >> 8);
	p[3 + a->len] = (uint8_t)port;
	return 4u + a->len;
}

static size_t put_group(uint8_t *p, const uint8_t *g, size_t len)
{
	p[0] = (uint8_t)len;
	memcpy(p + 1, g, len);
	return 1 + len;
}

/* A group spans at most 8 tried buckets: the address picks one of 8 slots
 * of its group, the group and that slot pick the bucket. */
unsigned cr_am_tried_bucket(const struct cr_addrman *am, const struct cr_am_entry *e)
{
	uint8_t m[64];
	size_t n = 1;
	m[0] = 'T';
	n += put_service(m + n, &e->addr, e->port);
	uint64_t h1 = keyed_hash(am, m, n) % CR_ADDRMAN_TRIED_BUCKETS_PER_GROUP;
	n = 1;
	m[0] = 't';
	n += put_group(m + n, e->group, e->group_len);
	m[n++] = (uint8_t)h1;
	return (unsigned)(keyed_hash(am, m, n) % CR_ADDRMAN_TRIED_BUCKETS);
}

/* A source group spans at most 64 new buckets: (group, source group) pick
 * one of 64 slots of the source group, which with it picks the bucket. */
unsigned cr_am_new_bucket(const struct cr_addrman *am, const struct cr_am_entry *e,
			  const uint8_t *src_group, size_t src_group_len)
{
	uint8_t m[64];
	size_t n = 1;
	m[0] = 'N';
	n += put_group(m + n, e->group, e->group_len);
	n += put_group(m + n, src_group, src_group_len);
	uint64_t h1 = keyed_hash(am, m, n) % CR_ADDRMAN_NEW_BUCKETS_PER_SOURCE_GROUP;
	n = 1;
	m[0] = 'n';
	n += put_group(m + n, src_group, src_group_len);
	m[n++] = (uint8_t)h1;
	return (unsigned)(keyed_hash(am, m, n) % CR_ADDRMAN_NEW_BUCKETS);
}

unsigned cr_am_position(const struct cr_addrman *am, const struct cr_am_entry *e,
			bool is_new, unsigned bucket)
{
	uint8_t m[64];
	size_t n = 0;
	m[n++] = 'P';
	m[n++] = is_new ? 'N' : 'K';
	m[n++] = (uint8_t)(bucket >> 8);
	m[n++] = (uint8_t)bucket;
	n += put_service(m + n, &e->addr, e->port);
	return (unsigned)(keyed_hash(am, m, n) % CR_ADDRMAN_BUCKET_SIZE);
}

uint64_t cr_am_cell_tag(bool tried, uint32_t cell, uint32_t id)
{
	uint64_t z = ((uint64_t)tried << 63) ^ ((uint64_t)cell << 32) ^ id;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

bool cr_am_addr_valid(const struct cr_netaddr *a)
{
	uint8_t len = cr_net_addr_len(a->net);
	if (len == 0 || a->len != len)
		return false;
	for (size_t i = len; i < CR_NETADDR_MAX; i++)
		if (a->addr[i])
			return false;
	return true;
}

/* Core's IsRoutable. The test-only netgroup switch that makes 127/8 a
 * routable IPv4 range (so real-socket tests on loopback can form many
 * groups) is honoured here too, or such tests could not add a peer;
 * production never sets it. */
bool cr_am_routable(const struct cr_addrman *am, const struct cr_netaddr *a)
{
	if (cr_addr_is_routable(a))
		return true;
	return (am->ng_flags & CR_NETGROUP_LOOPBACK_ROUTABLE) && a->net == CR_NET_IPV4 &&
	       a->addr[0] == 127;
}

/* IPv4-mapped IPv6 (::ffff:a.b.c.d) is stored as the IPv4 it carries, as
 * Core does, so one host cannot hold two entries. */
static const struct cr_netaddr *canonical(const struct cr_netaddr *a, struct cr_netaddr *tmp)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (a->net != CR_NET_IPV6 || a->len != 16 || memcmp(a->addr, mapped, 12) != 0)
		return a;
	memset(tmp, 0, sizeof(*tmp));
	tmp->net = CR_NET_IPV4;
	tmp->len = 4;
	memcpy(tmp->addr, a->addr + 12, 4);
	return tmp;
}

/* ---- address index ---------------------------------------------------- */

/* Seeded from the key: gossiped addresses cannot be chosen to collide. */
uint32_t cr_am_index_hash(const struct cr_addrman *am, const struct cr_netaddr *a,
			  uint16_t port)
{
	uint8_t m[40];
	size_t n = put_service(m, a, port);
	return (uint32_t)XXH3_64bits_withSeed(m, n, am->index_seed);
}

static bool same_service(const struct cr_am_entry *e, const struct cr_netaddr *a, uint16_t port)
{
	return e->port == port && e->addr.net == a->net && e->addr.len == a->len &&
	       memcmp(e->addr.addr, a->addr, a->len) == 0;
}

static uint32_t lookup_hashed(const struct cr_addrman *am, const struct cr_netaddr *a,
			      uint16_t port, uint32_t hash)
{
	uint32_t mask = CR_AM_INDEX_SIZE - 1;
	for (uint32_t i = hash & mask;; i = (i + 1) & mask) {
		uint32_t id = am->index[i];
		if (id == CR_AM_NONE)
			return CR_AM_NONE;
		if (am->ent[id].hash == hash && same_service(&am->ent[id], a, port))
			return id;
	}
}

uint32_t cr_am_lookup(const struct cr_addrman *am, const struct cr_netaddr *a, uint16_t port)
{
	struct cr_netaddr tmp;
	if (a->len > CR_NETADDR_MAX)
		return CR_AM_NONE;
	a = canonical(a, &tmp);
	return lookup_hashed(am, a, port, cr_am_index_hash(am, a, port));
}

static void index_insert(struct cr_addrman *am, uint32_t id)
{
	uint32_t mask = CR_AM_INDEX_SIZE - 1;
	uint32_t i = am->ent[id].hash & mask;
	while (am->index[i] != CR_AM_NONE)
		i = (i + 1) & mask;
	am->index[i] = id;
}

/* Linear probing with backward-shift deletion: no tombstones, so a lookup
 * never walks further than the live cluster. */
static void index_remove(struct cr_addrman *am, uint32_t id)
{
	uint32_t mask = CR_AM_INDEX_SIZE - 1;
	uint32_t i = am->ent[id].hash & mask;
	while (am->index[i] != id)
		i = (i + 1) & mask;
	for (uint32_t j = (i + 1) & mask; am->index[j] != CR_AM_NONE; j = (j + 1) & mask) {
		uint32_t home = am->ent[am->index[j]].hash & mask;
		/* Move j's entry into the hole unless its home lies in (i, j]. */
		if (((j - home) & mask) >= ((j - i) & mask)) {
			am->index[i] = am->index[j];
			i = j;
		}
	}
	am->index[i] = CR_AM_NONE;
}

/* ---- life of an entry ------------------------------------------------- */

struct cr_addrman *cr_addrman_new(const uint8_t key[32], const struct cr_asmap *asmap,
				  unsigned netgroup_flags)
{
	struct cr_addrman *am = calloc(1, sizeof(*am));
	if (!am)
		return NULL;
	am->ent = calloc(CR_AM_CAP, sizeof(*am->ent));
	am->random = calloc(CR_AM_CAP, sizeof(*am->random));
	am->index = malloc(CR_AM_INDEX_SIZE * sizeof(*am->index));
	if (!am->ent || !am->random || !am->index) {
		cr_addrman_free(am);
		return NULL;
	}
	am->asmap = asmap;
	am->ng_flags = netgroup_flags;
	memcpy(am->key, key, 32);
	cr_am_reset(am);
	return am;
}

void cr_addrman_free(struct cr_addrman *am)
{
	if (!am)
		return;
	free(am->ent);
	free(am->random);
	free(am->index);
	cr_wipe(am->key, sizeof(am->key));
	cr_wipe(&am->keyed, sizeof(am->keyed));
	free(am);
}

/* Empties the manager and derives the hash states from am->key. */
void cr_am_reset(struct cr_addrman *am)
{
	static const char tag[32] = "connring addrman buckets v1";
	uint8_t seed[32];
	cr_sha256_init(&am->keyed);
	cr_sha256_update(&am->keyed, am->key, 32);
	cr_sha256_update(&am->keyed, tag, 32);
	struct cr_sha256 h = am->keyed;
	cr_sha256_update(&h, "index", 5);
	cr_sha256_final(&h, seed);
	memcpy(&am->index_seed, seed, 8);
	am->n = am->n_new = am->n_tried = am->high = am->n_coll = 0;
	memset(am->net_new, 0, sizeof(am->net_new));
	memset(am->net_tried, 0, sizeof(am->net_tried));
	am->free_head = CR_AM_NONE;
	am->last_good = 1; /* Core starts m_last_good at 1 s */
	am->cell_sum = 0;
	/* Entries beyond `high` are never read, so only used ones need wiping. */
	memset(am->index, 0xff, CR_AM_INDEX_SIZE * sizeof(*am->index));
	memset(am->new_tbl, 0xff, sizeof(am->new_tbl));
	memset(am->tried_tbl, 0xff, sizeof(am->tried_tbl));
}

uint32_t cr_am_create(struct cr_addrman *am, const struct cr_netaddr *a, uint16_t port,
		      const struct cr_netaddr *source)
{
	uint32_t id;
	if (am->free_head != CR_AM_NONE) {
		id = am->free_head;
		am->free_head = am->ent[id].next_free;
	} else if (am->high < CR_AM_CAP) {
		id = am->high++;
	} else {
		return CR_AM_NONE; /* cannot happen: the tables bound the entries */
	}
	struct cr_am_entry *e = &am->ent[id];
	memset(e, 0, sizeof(*e));
	e->addr = *a;
	e->source = *source;
	e->port = port;
	e->live = 1;
	e->next_free = CR_AM_NONE;
	e->group_len = (uint8_t)cr_netgroup(e->group, a, am->asmap, am->ng_flags);
	e->src_group_len = (uint8_t)cr_netgroup(e->src_group, source, am->asmap, am->ng_flags);
	e->hash = cr_am_index_hash(am, a, port);
	index_insert(am, id);
	e->random_pos = am->n;
	am->random[am->n++] = id;
	am->n_new++;
	am->net_new[a->net % CR_AM_NETS]++;
	return id;
}

void cr_am_swap_random(struct cr_addrman *am, uint32_t i, uint32_t j)
{
	if (i == j)
		return;
	uint32_t a = am->random[i], b = am->random[j];
	am->ent[a].random_pos = j;
	am->ent[b].random_pos = i;
	am->random[i] = b;
	am->random[j] = a;
}

/* Core's Delete: only for an entry in no table. */
static void delete_entry(struct cr_addrman *am, uint32_t id)
{
	struct cr_am_entry *e = &am->ent[id];
	for (uint32_t i = 0; i < am->n_coll; i++) {
		if (am->coll[i] == id) {
			memmove(&am->coll[i], &am->coll[i + 1],
				(am->n_coll - i - 1) * sizeof(am->coll[0]));
			am->n_coll--;
			break;
		}
	}
	cr_am_swap_random(am, e->random_pos, am->n - 1);
	am->n--;
	index_remove(am, id);
	am->n_new--;
	am->net_new[e->addr.net % CR_AM_NETS]--;
	e->live = 0;
	e->next_free = am->free_head;
	am->free_head = id;
}

void cr_am_set_new(struct cr_addrman *am, uint32_t cell, uint32_t id)
{
	struct cr_am_entry *e = &am->ent[id];
	am->new_tbl[cell] = id;
	am->cell_sum += cr_am_cell_tag(false, cell, id);
	e->new_cells[e->ref_count++] = (uint16_t)cell;
}

void cr_am_set_tried(struct cr_addrman *am, uint32_t cell, uint32_t id)
{
	am->tried_tbl[cell] = id;
	am->cell_sum += cr_am_cell_tag(true, cell, id);
	am->ent[id].tried_cell = (uint16_t)cell;
}

/* Drops the new cell's claim on its entry; the entry goes when it held no
 * other cell (Core's ClearNew). */
static void unlink_new(struct cr_addrman *am, uint32_t cell, bool may_delete)
{
	uint32_t id = am->new_tbl[cell];
	if (id == CR_AM_NONE)
		return;
	struct cr_am_entry *e = &am->ent[id];
	for (unsigned i = 0; i < e->ref_count; i++) {
		if (e->new_cells[i] == cell) {
			e->new_cells[i] = e->new_cells[--e->ref_count];
			break;
		}
	}
	am->new_tbl[cell] = CR_AM_NONE;
	am->cell_sum -= cr_am_cell_tag(false, cell, id);
	if (may_delete && e->ref_count == 0)
		delete_entry(am, id);
}

void cr_am_clear_new(struct cr_addrman *am, uint32_t cell)
{
	unlink_new(am, cell, true);
}

/* Moves a new entry to its tried slot; whoever sat there goes back to one
 * new slot (Core's MakeTried). */
void cr_am_make_tried(struct cr_addrman *am, uint32_t id)
{
	struct cr_am_entry *e = &am->ent[id];
	while (e->ref_count)
		unlink_new(am, e->new_cells[0], false);
	am->n_new--;
	am->net_new[e->addr.net % CR_AM_NETS]--;

	unsigned tb = cr_am_tried_bucket(am, e);
	uint32_t tcell = tb * CR_ADDRMAN_BUCKET_SIZE + cr_am_position(am, e, false, tb);
	uint32_t old = am->tried_tbl[tcell];
	if (old != CR_AM_NONE) {
		struct cr_am_entry *o = &am->ent[old];
		o->in_tried = 0;
		am->tried_tbl[tcell] = CR_AM_NONE;
		am->cell_sum -= cr_am_cell_tag(true, tcell, old);
		am->n_tried--;
		am->net_tried[o->addr.net % CR_AM_NETS]--;
		unsigned nb = cr_am_new_bucket(am, o, o->src_group, o->src_group_len);
		uint32_t ncell = nb * CR_ADDRMAN_BUCKET_SIZE + cr_am_position(am, o, true, nb);
		cr_am_clear_new(am, ncell);
		cr_am_set_new(am, ncell, old);
		am->n_new++;
		am->net_new[o->addr.net % CR_AM_NETS]++;
	}
	cr_am_set_tried(am, tcell, id);
	e->in_tried = 1;
	am->n_tried++;
	am->net_tried[e->addr.net % CR_AM_NETS]++;
}

/* ---- feeding the tables ---------------------------------------------- */

/* Core's AddSingle. Returns true when the address took a new slot. */
static bool add_one(struct cr_addrman *am, const struct cr_peeraddr *pa,
		    const struct cr_netaddr *source, const uint8_t *sg, size_t sg_len,
		    int64_t penalty, int64_t now, struct cr_rng *rng)
{
	struct cr_netaddr tmp;
	if (!cr_am_addr_valid(&pa->na))
		return false;
	const struct cr_netaddr *na = canonical(&pa->na, &tmp);
	if (!cr_am_routable(am, na))
		return false;
	int64_t t = pa->time;
	/* A peer announcing itself is not penalised. */
	if (cr_addr_equal(source, &pa->na))
		penalty = 0;
	uint32_t id = cr_am_lookup(am, na, pa->port);
	struct cr_am_entry *e;
	if (id != CR_AM_NONE) {
		e = &am->ent[id];
		/* Refresh the time now and then, more often for live nodes. */
		int64_t interval = now - t < 86400 ? 3600 : 86400;
		if (e->time < t - interval - penalty)
			e->time = t - penalty < 0 ? 0 : t - penalty;
		e->services |= pa->services;
		if (t <= e->time || e->in_tried ||
		    e->ref_count == CR_ADDRMAN_NEW_BUCKETS_PER_ADDRESS)
			return false;
		/* Holding N slots makes the next one 2^N times harder to get. */
		if (e->ref_count > 0 && cr_rng_below(rng, 1u << e->ref_count) != 0)
			return false;
	} else {
		id = cr_am_create(am, na, pa->port, source);
		if (id == CR_AM_NONE)
			return false;
		e = &am->ent[id];
		e->services = pa->services;
		e->time = t - penalty < 0 ? 0 : t - penalty;
	}
	unsigned b = cr_am_new_bucket(am, e, sg, sg_len);
	uint32_t cell = b * CR_ADDRMAN_BUCKET_SIZE + cr_am_position(am, e, true, b);
	uint32_t cur = am->new_tbl[cell];
	if (cur == id)
		return false;
	bool insert = cur == CR_AM_NONE;
	if (!insert) {
		const struct cr_am_entry *x = &am->ent[cur];
		/* Overwrite a dead entry, or one held elsewhere by an address
		 * that has no slot yet. */
		insert = cr_am_terrible(x, now) || (x->ref_count > 1 && e->ref_count == 0);
	}
	if (insert) {
		cr_am_clear_new(am, cell);
		cr_am_set_new(am, cell, id);
	} else if (e->ref_count == 0) {
		delete_entry(am, id);
	}
	return insert;
}

size_t cr_addrman_add(struct cr_addrman *am, const struct cr_peeraddr *addrs, size_t n,
		      const struct cr_netaddr *source, int64_t time_penalty_s,
		      int64_t now, struct cr_rng *rng)
{
	uint8_t sg[CR_NETGROUP_MAX];
	if (!cr_am_addr_valid(source))
		return 0;
	size_t sg_len = cr_netgroup(sg, source, am->asmap, am->ng_flags);
	int64_t penalty = cr_am_clamp_time(time_penalty_s);
	now = cr_am_clamp_time(now);
	size_t added = 0;
	for (size_t i = 0; i < n; i++)
		added += add_one(am, &addrs[i], source, sg, sg_len, penalty, now, rng);
	return added;
}

/* Core's Good_. */
bool cr_am_good(struct cr_addrman *am, uint32_t id, bool test_before_evict, int64_t now)
{
	struct cr_am_entry *e = &am->ent[id];
	am->last_good = now;
	e->last_success = now;
	e->last_try = now;
	e->attempts = 0;
	/* e->time stays: updating it would tell others whom we are connected to. */
	if (e->in_tried || e->ref_count == 0)
		return false;
	unsigned tb = cr_am_tried_bucket(am, e);
	uint32_t tcell = tb * CR_ADDRMAN_BUCKET_SIZE + cr_am_position(am, e, false, tb);
	if (test_before_evict && am->tried_tbl[tcell] != CR_AM_NONE) {
		for (uint32_t i = 0; i < am->n_coll; i++)
			if (am->coll[i] == id)
				return false;
		if (am->n_coll < CR_ADDRMAN_COLLISIONS_MAX)
			am->coll[am->n_coll++] = id;
		return false;
	}
	cr_am_make_tried(am, id);
	return true;
}

bool cr_addrman_good(struct cr_addrman *am, const struct cr_netaddr *a, uint16_t port,
		     bool test_before_evict, int64_t now)
{
	now = cr_am_clamp_time(now);
	/* Any handshake proves our own link works (Core sets this first, for
	 * addresses it does not know too): failures count again from here. */
	am->last_good = now;
	uint32_t id = cr_am_lookup(am, a, port);
	if (id == CR_AM_NONE)
		return false;
	return cr_am_good(am, id, test_before_evict, now);
}

void cr_addrman_attempt(struct cr_addrman *am, const struct cr_netaddr *a, uint16_t port,
			bool count_failure, int64_t now)
{
	uint32_t id = cr_am_lookup(am, a, port);
	if (id == CR_AM_NONE)
		return;
	struct cr_am_entry *e = &am->ent[id];
	now = cr_am_clamp_time(now);
	e->last_try = now;
	/* One failure counts per success seen anywhere: while our own link is
	 * down every attempt fails, and that must not condemn the address. */
	if (count_failure && e->last_count_attempt < am->last_good) {
		e->last_count_attempt = now;
		if (e->attempts < UINT32_MAX)
			e->attempts++;
	}
}

void cr_addrman_connected(struct cr_addrman *am, const struct cr_netaddr *a, uint16_t port,
			  int64_t now)
{
	uint32_t id = cr_am_lookup(am, a, port);
	if (id == CR_AM_NONE)
		return;
	now = cr_am_clamp_time(now);
	if (now - am->ent[id].time > 20 * 60)
		am->ent[id].time = now;
}

void cr_addrman_set_services(struct cr_addrman *am, const struct cr_netaddr *a,
			     uint16_t port, uint64_t services)
{
	uint32_t id = cr_am_lookup(am, a, port);
	if (id != CR_AM_NONE)
		am->ent[id].services = services;
}

size_t cr_addrman_size(const struct cr_addrman *am, unsigned nets, int table)
{
	if (nets == 0)
		return table == CR_ADDRMAN_IN_NEW ? am->n_new
		       : table == CR_ADDRMAN_IN_TRIED ? am->n_tried : am->n;
	size_t s = 0;
	for (unsigned net = 0; net < CR_AM_NETS; net++) {
		if (!(nets & (1u << net)))
			continue;
		if (table != CR_ADDRMAN_IN_TRIED)
			s += am->net_new[net];
		if (table != CR_ADDRMAN_IN_NEW)
			s += am->net_tried[net];
	}
	return s;
}

int cr_addrman_find(const struct cr_addrman *am, const struct cr_netaddr *a, uint16_t port,
		    struct cr_addrman_info *info)
{
	memset(info, 0, sizeof(*info));
	uint32_t id = cr_am_lookup(am, a, port);
	if (id == CR_AM_NONE)
		return -ENOENT;
	const struct cr_am_entry *e = &am->ent[id];
	cr_am_export(e, &info->addr);
	info->source = e->source;
	info->last_try = e->last_try;
	info->last_success = e->last_success;
	info->attempts = e->attempts;
	info->in_tried = e->in_tried;
	info->ref_count = e->ref_count;
	uint16_t cell = e->in_tried ? e->tried_cell : e->new_cells[0];
	info->bucket = cell / CR_ADDRMAN_BUCKET_SIZE;
	info->position = cell % CR_ADDRMAN_BUCKET_SIZE;
	return 0;
}

bool cr_addrman_is_terrible(const struct cr_addrman *am, const struct cr_netaddr *a,
			    uint16_t port, int64_t now)
{
	uint32_t id = cr_am_lookup(am, a, port);
	return id != CR_AM_NONE && cr_am_terrible(&am->ent[id], cr_am_clamp_time(now));
}
