/* Address manager: which entries are worth anything (IsTerrible, GetChance),
 * choosing where to connect (Select), settling test-before-evict collisions
 * a feeler has tested, and answering getaddr. No allocation: select and
 * get_addr work on the tables in place. One thread per manager. */
#include <errno.h>
#include <string.h>

#include "addr/addrman_impl.h"

bool cr_am_terrible(const struct cr_am_entry *e, int64_t now)
{
	/* Never drop what we tried a minute ago: it may be connecting now. */
	if (now - e->last_try <= 60)
		return false;
	/* Claims to have been seen in the future: a liar or a broken clock. */
	if (e->time > now + 10 * 60)
		return true;
	if (now - e->time > CR_ADDRMAN_HORIZON_S)
		return true;
	if (e->last_success == 0 && e->attempts >= CR_ADDRMAN_RETRIES)
		return true;
	if (now - e->last_success > CR_ADDRMAN_MIN_FAIL_S &&
	    e->attempts >= CR_ADDRMAN_MAX_FAILURES)
		return true;
	return false;
}

double cr_am_chance(const struct cr_am_entry *e, int64_t now)
{
	double chance = 1.0;
	/* Do not hammer an address we just tried. */
	if (now - e->last_try < 10 * 60)
		chance *= 0.01;
	/* 0.66 per failed attempt, floored at 0.66^8 (about 1/28) so that an
	 * outage on our side does not bury every address for good. */
	uint32_t n = e->attempts < 8 ? e->attempts : 8;
	for (uint32_t i = 0; i < n; i++)
		chance *= 0.66;
	return chance;
}

void cr_am_export(const struct cr_am_entry *e, struct cr_peeraddr *out)
{
	memset(out, 0, sizeof(*out));
	out->na = e->addr;
	out->port = e->port;
	out->services = e->services;
	out->time = (uint32_t)(e->time > UINT32_MAX ? UINT32_MAX : e->time);
}

static bool usable(const struct cr_am_entry *e, unsigned nets, int64_t now)
{
	return cr_am_net_in(nets, e->addr.net) && !cr_am_terrible(e, now);
}

/* Core's random walk finds an entry with probability chance * factor; but
 * terrible entries are skipped here, and if every entry were terrible that
 * walk would never end. After 2 draws per bucket we fall back to a linear
 * scan from a random point of the random array, which either finds a usable
 * entry or proves there is none. This bounds a select to 2 * 1024 * 64 cell
 * reads plus one pass over the entries. A lone usable entry is still found
 * by the walk with probability 1 - e^-2; otherwise the scan returns it. */
static uint32_t select_scan(const struct cr_addrman *am, bool new_only, unsigned nets,
			    int64_t now, struct cr_rng *rng)
{
	if (am->n == 0)
		return CR_AM_NONE;
	uint32_t start = (uint32_t)cr_rng_below(rng, am->n);
	for (uint32_t k = 0; k < am->n; k++) {
		uint32_t id = am->random[(start + k) % am->n];
		const struct cr_am_entry *e = &am->ent[id];
		if ((new_only && e->in_tried) || (!e->in_tried && e->ref_count == 0))
			continue;
		if (usable(e, nets, now))
			return id;
	}
	return CR_AM_NONE;
}

static uint32_t select_walk(const struct cr_addrman *am, bool tried, unsigned nets,
			    int64_t now, struct cr_rng *rng)
{
	const uint32_t *tbl = tried ? am->tried_tbl : am->new_tbl;
	int bucket_bits = tried ? 8 : 10;
	double factor = 1.0;
	unsigned max_draws = 2u << bucket_bits;
	for (unsigned draw = 0; draw < max_draws; draw++) {
		uint32_t bucket = (uint32_t)cr_rng_bits(rng, bucket_bits);
		uint32_t start = (uint32_t)cr_rng_bits(rng, 6);
		uint32_t id = CR_AM_NONE;
		for (uint32_t i = 0; i < CR_ADDRMAN_BUCKET_SIZE; i++) {
			uint32_t c = tbl[bucket * CR_ADDRMAN_BUCKET_SIZE +
					 (start + i) % CR_ADDRMAN_BUCKET_SIZE];
			if (c != CR_AM_NONE && usable(&am->ent[c], nets, now)) {
				id = c;
				break;
			}
		}
		if (id == CR_AM_NONE)
			continue; /* nothing here: another bucket, same factor */
		double p = factor * cr_am_chance(&am->ent[id], now);
		if ((double)cr_rng_bits(rng, 30) < p * (double)(1u << 30))
			return id;
		/* Refused: make the next pick likelier, so the walk ends. */
		factor *= 1.2;
	}
	return CR_AM_NONE;
}

int cr_addrman_select(struct cr_addrman *am, struct cr_peeraddr *out, int64_t *last_try,
		      bool new_only, unsigned nets, int64_t now, struct cr_rng *rng)
{
	memset(out, 0, sizeof(*out));
	if (last_try)
		*last_try = 0;
	now = cr_am_clamp_time(now);
	size_t n_new = cr_addrman_size(am, nets, CR_ADDRMAN_IN_NEW);
	size_t n_tried = cr_addrman_size(am, nets, CR_ADDRMAN_IN_TRIED);
	if (new_only)
		n_tried = 0;
	if (n_new + n_tried == 0)
		return -ENOENT;
	bool tried;
	if (n_tried == 0)
		tried = false;
	else if (n_new == 0)
		tried = true;
	else
		tried = cr_rng_bits(rng, 1);
	uint32_t id = select_walk(am, tried, nets, now, rng);
	if (id == CR_AM_NONE)
		id = select_scan(am, new_only, nets, now, rng);
	if (id == CR_AM_NONE)
		return -ENOENT;
	cr_am_export(&am->ent[id], out);
	if (last_try)
		*last_try = am->ent[id].last_try;
	return 0;
}

static uint32_t tried_cell_of(const struct cr_addrman *am, const struct cr_am_entry *e)
{
	unsigned tb = cr_am_tried_bucket(am, e);
	return tb * CR_ADDRMAN_BUCKET_SIZE + cr_am_position(am, e, false, tb);
}

/* Decides one queued collision; true when it is settled (Core's
 * ResolveCollisions loop body). */
static bool resolve_one(struct cr_addrman *am, uint32_t id, int64_t now)
{
	struct cr_am_entry *e = &am->ent[id];
	uint32_t cell = tried_cell_of(am, e);
	uint32_t old = am->tried_tbl[cell];
	if (old == CR_AM_NONE) {
		/* The slot freed up meanwhile: no collision any more. */
		cr_am_good(am, id, false, now);
		return true;
	}
	const struct cr_am_entry *o = &am->ent[old];
	if (now - o->last_success < CR_ADDRMAN_REPLACEMENT_S)
		return true; /* the old entry works: keep it, drop the newcomer */
	if (now - o->last_try < CR_ADDRMAN_REPLACEMENT_S) {
		/* The feeler tried the old entry and has not heard back: give it
		 * 60 s to connect, then take its place. */
		if (now - o->last_try > 60) {
			cr_am_good(am, id, false, now);
			return true;
		}
		return false;
	}
	if (now - e->last_success > CR_ADDRMAN_TEST_WINDOW_S) {
		/* Nobody tested the old entry in time: assume it is gone. */
		cr_am_good(am, id, false, now);
		return true;
	}
	return false;
}

void cr_addrman_resolve_collisions(struct cr_addrman *am, int64_t now)
{
	now = cr_am_clamp_time(now);
	/* Work on a copy: cr_am_good may delete entries, which edits the queue. */
	uint32_t ids[CR_ADDRMAN_COLLISIONS_MAX];
	uint32_t n = am->n_coll;
	memcpy(ids, am->coll, n * sizeof(ids[0]));
	for (uint32_t i = 0; i < n; i++) {
		uint32_t id = ids[i], k;
		for (k = 0; k < am->n_coll && am->coll[k] != id; k++)
			;
		if (k == am->n_coll)
			continue; /* deleted while settling an earlier one */
		if (resolve_one(am, id, now)) {
			for (k = 0; k < am->n_coll && am->coll[k] != id; k++)
				;
			if (k < am->n_coll) {
				memmove(&am->coll[k], &am->coll[k + 1],
					(am->n_coll - k - 1) * sizeof(am->coll[0]));
				am->n_coll--;
			}
		}
	}
}

int cr_addrman_select_tried_collision(struct cr_addrman *am, struct cr_peeraddr *out,
				      int64_t *last_try, struct cr_rng *rng)
{
	memset(out, 0, sizeof(*out));
	if (last_try)
		*last_try = 0;
	if (am->n_coll == 0)
		return -ENOENT;
	uint32_t id = am->coll[cr_rng_below(rng, am->n_coll)];
	uint32_t old = am->tried_tbl[tried_cell_of(am, &am->ent[id])];
	if (old == CR_AM_NONE)
		return -ENOENT; /* resolve_collisions will move it without a test */
	cr_am_export(&am->ent[old], out);
	if (last_try)
		*last_try = am->ent[old].last_try;
	return 0;
}

size_t cr_addrman_get_addr(struct cr_addrman *am, struct cr_peeraddr *out,
			   size_t max_addresses, unsigned max_pct, unsigned nets,
			   int64_t now, struct cr_rng *rng)
{
	now = cr_am_clamp_time(now);
	size_t want = am->n;
	if (max_pct != 0 && max_pct < 100)
		want = (size_t)max_pct * am->n / 100;
	if (max_addresses != 0 && want > max_addresses)
		want = max_addresses;
	size_t got = 0;
	/* A partial Fisher-Yates shuffle of the random array: each step draws
	 * one not yet seen, so the answer is a uniform sample without repeats. */
	for (uint32_t i = 0; i < am->n && got < want; i++) {
		uint32_t j = i + (uint32_t)cr_rng_below(rng, am->n - i);
		cr_am_swap_random(am, i, j);
		const struct cr_am_entry *e = &am->ent[am->random[i]];
		if (!usable(e, nets, now))
			continue;
		cr_am_export(e, &out[got++]);
	}
	return got;
}
