/* Address manager consistency check (Core's CheckAddrman, and more): every
 * redundant structure must agree with every other. Tests run it after every
 * operation; the loader runs the full form after a load. Read-only; same
 * thread as the manager. */
#include <string.h>

#include "addr/addrman_impl.h"

/* A lookup starting at the entry's home slot meets it before a hole. */
static bool probe_reaches(const struct cr_addrman *am, uint32_t hash, uint32_t id)
{
	uint32_t mask = CR_AM_INDEX_SIZE - 1;
	for (uint32_t i = hash & mask;; i = (i + 1) & mask) {
		if (am->index[i] == id)
			return true;
		if (am->index[i] == CR_AM_NONE)
			return false;
	}
}

static int check_free_list(const struct cr_addrman *am)
{
	uint32_t steps = 0;
	for (uint32_t id = am->free_head; id != CR_AM_NONE; id = am->ent[id].next_free) {
		if (id >= am->high || am->ent[id].live || ++steps > am->high)
			return CR_E_ADDRMAN_FREELIST;
	}
	if (steps + am->n != am->high)
		return CR_E_ADDRMAN_FREELIST;
	return 0;
}

static int check_random(const struct cr_addrman *am)
{
	for (uint32_t i = 0; i < am->n; i++) {
		uint32_t id = am->random[i];
		if (id >= am->high || !am->ent[id].live || am->ent[id].random_pos != i)
			return CR_E_ADDRMAN_RANDOM;
	}
	return 0;
}

/* The cells an entry claims must hold it; returns the sum of their tags. */
static int check_claims(const struct cr_addrman *am, uint32_t id, uint64_t *sum)
{
	const struct cr_am_entry *e = &am->ent[id];
	if (e->in_tried) {
		if (e->in_tried != 1 || e->ref_count != 0)
			return CR_E_ADDRMAN_REFCOUNT;
		if (e->tried_cell >= CR_AM_TRIED_CELLS || am->tried_tbl[e->tried_cell] != id)
			return CR_E_ADDRMAN_TRIEDCELL;
		*sum += cr_am_cell_tag(true, e->tried_cell, id);
		return 0;
	}
	if (e->ref_count == 0 || e->ref_count > CR_ADDRMAN_NEW_BUCKETS_PER_ADDRESS)
		return CR_E_ADDRMAN_REFCOUNT;
	for (unsigned i = 0; i < e->ref_count; i++) {
		uint32_t cell = e->new_cells[i];
		if (am->new_tbl[cell] != id)
			return CR_E_ADDRMAN_NEWCELL;
		/* Position is a function of (address, bucket): one cell per bucket. */
		for (unsigned j = 0; j < i; j++)
			if (e->new_cells[j] / CR_ADDRMAN_BUCKET_SIZE == cell / CR_ADDRMAN_BUCKET_SIZE)
				return CR_E_ADDRMAN_REFCOUNT;
		*sum += cr_am_cell_tag(false, cell, id);
	}
	return 0;
}

/* Recomputes groups and keyed positions (the costly part of a full check). */
static int check_keyed(const struct cr_addrman *am, const struct cr_am_entry *e)
{
	uint8_t g[CR_NETGROUP_MAX];
	size_t n = cr_netgroup(g, &e->addr, am->asmap, am->ng_flags);
	if (n != e->group_len || memcmp(g, e->group, n) != 0)
		return CR_E_ADDRMAN_GROUP;
	n = cr_netgroup(g, &e->source, am->asmap, am->ng_flags);
	if (n != e->src_group_len || memcmp(g, e->src_group, n) != 0)
		return CR_E_ADDRMAN_GROUP;
	if (e->in_tried) {
		unsigned b = cr_am_tried_bucket(am, e);
		if (e->tried_cell != b * CR_ADDRMAN_BUCKET_SIZE + cr_am_position(am, e, false, b))
			return CR_E_ADDRMAN_TRIEDPOS;
		return 0;
	}
	for (unsigned i = 0; i < e->ref_count; i++) {
		unsigned b = e->new_cells[i] / CR_ADDRMAN_BUCKET_SIZE;
		if (e->new_cells[i] % CR_ADDRMAN_BUCKET_SIZE != cr_am_position(am, e, true, b))
			return CR_E_ADDRMAN_NEWPOS;
	}
	return 0;
}

static int check_entries(const struct cr_addrman *am, bool full)
{
	uint32_t live = 0, tried = 0;
	uint32_t net_new[CR_AM_NETS] = {0}, net_tried[CR_AM_NETS] = {0};
	uint64_t sum = 0;
	for (uint32_t id = 0; id < am->high; id++) {
		const struct cr_am_entry *e = &am->ent[id];
		if (!e->live)
			continue;
		live++;
		if (e->live != 1 || e->addr.len > CR_NETADDR_MAX ||
		    (full && (!cr_am_addr_valid(&e->addr) || !cr_am_addr_valid(&e->source))) ||
		    e->group_len == 0 || e->group_len > CR_NETGROUP_MAX ||
		    e->src_group_len == 0 || e->src_group_len > CR_NETGROUP_MAX)
			return CR_E_ADDRMAN_ADDR;
		if (e->random_pos >= am->n || am->random[e->random_pos] != id)
			return CR_E_ADDRMAN_RANDOM;
		/* The quick form trusts the stored hash and walks the probe chain
		 * from it; the full form also recomputes the hash. */
		if ((full && (e->hash != cr_am_index_hash(am, &e->addr, e->port) ||
			      cr_am_lookup(am, &e->addr, e->port) != id)) ||
		    !probe_reaches(am, e->hash, id))
			return CR_E_ADDRMAN_INDEX;
		int err = check_claims(am, id, &sum);
		if (err)
			return err;
		if (full && (err = check_keyed(am, e)) != 0)
			return err;
		tried += e->in_tried;
		(e->in_tried ? net_tried : net_new)[e->addr.net % CR_AM_NETS]++;
	}
	if (live != am->n || tried != am->n_tried || am->n_new + am->n_tried != am->n)
		return CR_E_ADDRMAN_COUNT;
	if (memcmp(net_new, am->net_new, sizeof(net_new)) != 0 ||
	    memcmp(net_tried, am->net_tried, sizeof(net_tried)) != 0)
		return CR_E_ADDRMAN_NETCOUNT;
	/* Every occupied cell was added to cell_sum when written; a cell left
	 * behind by a lost claim shows up here without reading the tables. */
	if (sum != am->cell_sum)
		return CR_E_ADDRMAN_CELLSUM;
	return 0;
}

static int check_tables(const struct cr_addrman *am)
{
	for (uint32_t c = 0; c < CR_AM_NEW_CELLS; c++) {
		uint32_t id = am->new_tbl[c];
		if (id == CR_AM_NONE)
			continue;
		if (id >= am->high || !am->ent[id].live || am->ent[id].in_tried)
			return CR_E_ADDRMAN_NEWCELL;
		const struct cr_am_entry *e = &am->ent[id];
		unsigned i;
		for (i = 0; i < e->ref_count && e->new_cells[i] != c; i++)
			;
		if (i == e->ref_count)
			return CR_E_ADDRMAN_NEWCELL;
	}
	for (uint32_t c = 0; c < CR_AM_TRIED_CELLS; c++) {
		uint32_t id = am->tried_tbl[c];
		if (id == CR_AM_NONE)
			continue;
		if (id >= am->high || !am->ent[id].live || !am->ent[id].in_tried ||
		    am->ent[id].tried_cell != c)
			return CR_E_ADDRMAN_TRIEDCELL;
	}
	uint32_t used = 0;
	for (uint32_t i = 0; i < CR_AM_INDEX_SIZE; i++) {
		uint32_t id = am->index[i];
		if (id == CR_AM_NONE)
			continue;
		if (id >= am->high || !am->ent[id].live)
			return CR_E_ADDRMAN_INDEX;
		used++;
	}
	if (used != am->n)
		return CR_E_ADDRMAN_INDEX;
	return 0;
}

static int check_collisions(const struct cr_addrman *am)
{
	if (am->n_coll > CR_ADDRMAN_COLLISIONS_MAX)
		return CR_E_ADDRMAN_COLLISION;
	for (uint32_t i = 0; i < am->n_coll; i++) {
		uint32_t id = am->coll[i];
		if (id >= am->high || !am->ent[id].live)
			return CR_E_ADDRMAN_COLLISION;
		for (uint32_t j = 0; j < i; j++)
			if (am->coll[j] == id)
				return CR_E_ADDRMAN_COLLISION;
	}
	return 0;
}

int cr_addrman_check(const struct cr_addrman *am, unsigned flags)
{
	bool full = flags & CR_ADDRMAN_CHECK_FULL;
	if (am->n > CR_AM_CAP || am->high > CR_AM_CAP || am->n > am->high ||
	    am->n_tried > CR_AM_TRIED_CELLS)
		return CR_E_ADDRMAN_COUNT;
	int err = check_free_list(am);
	if (!err)
		err = check_random(am);
	if (!err)
		err = check_entries(am, full);
	if (!err)
		err = check_collisions(am);
	if (!err && full)
		err = check_tables(am);
	return err;
}
