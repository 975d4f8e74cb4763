/* Address manager persistence: the versioned body saved through
 * addr/store.{h,c} (which adds magic, version, checksum and atomic writes).
 *
 * Body, version 1, integers little-endian:
 *   key[32] last_good:i64 n:u32 n_tried:u32 n_coll:u32
 *   n entries, in random-array order:
 *     net:u8 len:u8 addr[len] port:u16 services:u64 time:i64
 *     src_net:u8 src_len:u8 src[src_len]
 *     last_try:i64 last_success:i64 last_count_attempt:i64 attempts:u32
 *     tried:u8, then tried_cell:u16 if tried, else ref_count:u8 cells:u16[ref_count]
 *   n_coll entry indexes:u32
 * Placement is stored and verified against the keyed hashes on load, so a
 * file is either taken exactly as saved or refused; nothing is re-bucketed.
 * The store's checksum catches accidents; the checks here catch a file that
 * is well-framed but wrong (a bug, or someone editing it), and must never
 * let it crash or corrupt the manager. Same thread as the manager. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr/addrman_impl.h"
#include "addr/store.h"
#include "addr/err.h"

struct wr {
	uint8_t *p;
	size_t n;
};

static void put(struct wr *w, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		w->p[w->n++] = (uint8_t)(v >> (8 * i));
}

static void put_addr(struct wr *w, const struct cr_netaddr *a)
{
	put(w, a->net, 1);
	put(w, a->len, 1);
	memcpy(w->p + w->n, a->addr, a->len);
	w->n += a->len;
}

/* Upper bound of one serialized entry. */
#define ENTRY_MAX (2 + CR_NETADDR_MAX + 2 + 8 + 8 + 2 + CR_NETADDR_MAX + 8 * 3 + 4 + 1 + 1 + \
		   2 * CR_ADDRMAN_NEW_BUCKETS_PER_ADDRESS)

int cr_addrman_serialize(const struct cr_addrman *am, uint8_t **body, size_t *body_len)
{
	*body = NULL;
	*body_len = 0;
	size_t cap = 32 + 8 + 12 + (size_t)am->n * ENTRY_MAX + 4 * CR_ADDRMAN_COLLISIONS_MAX;
	struct wr w = {malloc(cap), 0};
	if (!w.p)
		return CR_E_NOMEM;
	memcpy(w.p, am->key, 32);
	w.n = 32;
	put(&w, (uint64_t)am->last_good, 8);
	put(&w, am->n, 4);
	put(&w, am->n_tried, 4);
	put(&w, am->n_coll, 4);
	for (uint32_t i = 0; i < am->n; i++) {
		const struct cr_am_entry *e = &am->ent[am->random[i]];
		put_addr(&w, &e->addr);
		put(&w, e->port, 2);
		put(&w, e->services, 8);
		put(&w, (uint64_t)e->time, 8);
		put_addr(&w, &e->source);
		put(&w, (uint64_t)e->last_try, 8);
		put(&w, (uint64_t)e->last_success, 8);
		put(&w, (uint64_t)e->last_count_attempt, 8);
		put(&w, e->attempts, 4);
		put(&w, e->in_tried, 1);
		if (e->in_tried) {
			put(&w, e->tried_cell, 2);
		} else {
			put(&w, e->ref_count, 1);
			for (unsigned k = 0; k < e->ref_count; k++)
				put(&w, e->new_cells[k], 2);
		}
	}
	/* An entry's index in the body is its random_pos. */
	for (uint32_t i = 0; i < am->n_coll; i++)
		put(&w, am->ent[am->coll[i]].random_pos, 4);
	*body = w.p;
	*body_len = w.n;
	return 0;
}

struct rd {
	const uint8_t *p;
	size_t left;
	char *why;
	size_t why_len;
	bool bad;
};

static bool fail(struct rd *r, const char *fmt, ...)
{
	if (!r->bad && r->why && r->why_len) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(r->why, r->why_len, fmt, ap);
		va_end(ap);
	}
	r->bad = true;
	return false;
}

static uint64_t get(struct rd *r, int bytes)
{
	uint64_t v = 0;
	if (r->bad || r->left < (size_t)bytes) {
		fail(r, "body truncated");
		return 0;
	}
	for (int i = 0; i < bytes; i++)
		v |= (uint64_t)r->p[i] << (8 * i);
	r->p += bytes;
	r->left -= (size_t)bytes;
	return v;
}

/* A time in [0, max], else the body is refused. */
static int64_t get_time(struct rd *r, int64_t max, const char *what)
{
	uint64_t v = get(r, 8);
	if (v > (uint64_t)max)
		fail(r, "%s out of range", what);
	return (int64_t)(r->bad ? 0 : v);
}

static bool get_addr(struct rd *r, struct cr_netaddr *a)
{
	memset(a, 0, sizeof(*a));
	a->net = (uint8_t)get(r, 1);
	a->len = (uint8_t)get(r, 1);
	if (r->bad)
		return false;
	if (cr_net_addr_len(a->net) == 0 || a->len != cr_net_addr_len(a->net))
		return fail(r, "bad address network %u length %u", a->net, a->len);
	if (r->left < a->len)
		return fail(r, "body truncated");
	memcpy(a->addr, r->p, a->len);
	r->p += a->len;
	r->left -= a->len;
	return true;
}

/* Places a loaded entry exactly where the file says, if that is where the
 * keyed hashes put it and the cell is free. */
static bool place(struct cr_addrman *am, struct rd *r, uint32_t id)
{
	struct cr_am_entry *e = &am->ent[id];
	unsigned tried = (unsigned)get(r, 1);
	if (tried > 1)
		return fail(r, "entry %u: bad table flag %u", id, tried);
	if (tried) {
		uint32_t cell = (uint32_t)get(r, 2);
		if (r->bad)
			return false;
		unsigned b = cr_am_tried_bucket(am, e);
		if (cell != b * CR_ADDRMAN_BUCKET_SIZE + cr_am_position(am, e, false, b))
			return fail(r, "tried entry %u not at its keyed slot", id);
		if (am->tried_tbl[cell] != CR_AM_NONE)
			return fail(r, "two tried entries in slot %u", cell);
		cr_am_make_tried(am, id);
		return true;
	}
	unsigned refs = (unsigned)get(r, 1);
	if (!r->bad && (refs == 0 || refs > CR_ADDRMAN_NEW_BUCKETS_PER_ADDRESS))
		return fail(r, "entry %u in %u new slots", id, refs);
	for (unsigned k = 0; k < refs && !r->bad; k++) {
		uint32_t cell = (uint32_t)get(r, 2);
		if (r->bad)
			break;
		unsigned b = cell / CR_ADDRMAN_BUCKET_SIZE;
		if (cell % CR_ADDRMAN_BUCKET_SIZE != cr_am_position(am, e, true, b))
			return fail(r, "new entry %u not at its keyed position", id);
		if (am->new_tbl[cell] != CR_AM_NONE)
			return fail(r, "two new entries in slot %u", cell);
		cr_am_set_new(am, cell, id);
	}
	return !r->bad;
}

static bool load_entry(struct cr_addrman *am, struct rd *r, uint32_t i)
{
	struct cr_netaddr a, src;
	if (!get_addr(r, &a))
		return false;
	uint16_t port = (uint16_t)get(r, 2);
	uint64_t services = get(r, 8);
	int64_t time = get_time(r, CR_ADDRMAN_TIME_MAX, "time");
	get_addr(r, &src);
	int64_t last_try = get_time(r, CR_ADDRMAN_TIME_MAX, "last_try");
	int64_t last_success = get_time(r, CR_ADDRMAN_TIME_MAX, "last_success");
	int64_t last_count = get_time(r, CR_ADDRMAN_TIME_MAX, "last_count_attempt");
	uint32_t attempts = (uint32_t)get(r, 4);
	if (r->bad)
		return false;
	if (!cr_am_routable(am, &a))
		return fail(r, "entry %u: unroutable address", i);
	if (cr_am_lookup(am, &a, port) != CR_AM_NONE)
		return fail(r, "entry %u: duplicate address", i);
	uint32_t id = cr_am_create(am, &a, port, &src);
	if (id == CR_AM_NONE)
		return fail(r, "too many entries");
	struct cr_am_entry *e = &am->ent[id];
	e->services = services;
	e->time = time;
	e->last_try = last_try;
	e->last_success = last_success;
	e->last_count_attempt = last_count;
	e->attempts = attempts;
	return place(am, r, id);
}

static bool load_body(struct cr_addrman *am, struct rd *r)
{
	am->last_good = get_time(r, CR_ADDRMAN_TIME_MAX, "last_good");
	uint32_t n = (uint32_t)get(r, 4);
	uint32_t n_tried = (uint32_t)get(r, 4);
	uint32_t n_coll = (uint32_t)get(r, 4);
	if (r->bad)
		return false;
	if (n > CR_ADDRMAN_MAX_ENTRIES || n_tried > n || n_tried > CR_AM_TRIED_CELLS ||
	    n_coll > CR_ADDRMAN_COLLISIONS_MAX)
		return fail(r, "bad counts: %u entries, %u tried, %u collisions", n, n_tried, n_coll);
	/* Each entry takes at least 45 bytes: refuse a count the body cannot hold
	 * before doing any work for it. */
	if (r->left / 45 < n)
		return fail(r, "count %u larger than the body", n);
	for (uint32_t i = 0; i < n; i++)
		if (!load_entry(am, r, i))
			return false;
	if (am->n != n || am->n_tried != n_tried)
		return fail(r, "counts do not match the entries");
	for (uint32_t i = 0; i < n_coll; i++) {
		uint32_t k = (uint32_t)get(r, 4);
		if (r->bad)
			return false;
		if (k >= n)
			return fail(r, "collision index %u out of range", k);
		uint32_t id = am->random[k];
		for (uint32_t j = 0; j < am->n_coll; j++)
			if (am->coll[j] == id)
				return fail(r, "collision %u listed twice", k);
		am->coll[am->n_coll++] = id;
	}
	if (r->left)
		return fail(r, "%zu trailing bytes", r->left);
	return true;
}

int cr_addrman_deserialize(struct cr_addrman *am, const uint8_t *body, size_t body_len,
			   char *why, size_t why_len)
{
	struct rd r = {body, body_len, why, why_len, false};
	uint8_t own_key[32];
	if (why && why_len)
		why[0] = 0;
	memcpy(own_key, am->key, 32);
	if (body_len < 32) {
		cr_am_reset(am);
		fail(&r, "body truncated");
		return CR_E_ADDRMAN_CORRUPT;
	}
	memcpy(am->key, body, 32);
	r.p += 32;
	r.left -= 32;
	cr_am_reset(am);
	bool ok = load_body(am, &r);
	int err = ok ? cr_addrman_check(am, CR_ADDRMAN_CHECK_FULL) : 0;
	if (err)
		fail(&r, "loaded state inconsistent: %s", cr_addr_strerror(err));
	if (!ok || err) {
		memcpy(am->key, own_key, 32);
		cr_am_reset(am);
		cr_wipe(own_key, sizeof(own_key));
		return CR_E_ADDRMAN_CORRUPT;
	}
	cr_wipe(own_key, sizeof(own_key));
	return 0;
}

int cr_addrman_save(const struct cr_addrman *am, const char *path)
{
	uint8_t *body;
	size_t len;
	int err = cr_addrman_serialize(am, &body, &len);
	if (err)
		return err;
	err = cr_store_save(path, CR_ADDRMAN_STORE_MAGIC, CR_ADDRMAN_STORE_VERSION, body, len);
	/* The body holds the bucket key. */
	cr_wipe(body, len < 32 ? len : 32);
	free(body);
	return err;
}

int cr_addrman_load(struct cr_addrman *am, const char *path, char *why, size_t why_len)
{
	uint32_t version;
	uint8_t *body = NULL;
	size_t len = 0;
	if (why && why_len)
		why[0] = 0;
	int err = cr_store_load(path, CR_ADDRMAN_STORE_MAGIC, CR_ADDRMAN_STORE_VERSION,
				&version, &body, &len, why, why_len);
	if (err) {
		cr_am_reset(am);
		return err;
	}
	err = cr_addrman_deserialize(am, body, len, why, why_len);
	cr_wipe(body, len < 32 ? len : 32);
	free(body);
	if (err == CR_E_ADDRMAN_CORRUPT) {
		/* Keep the evidence, start fresh; the next save writes a good file. */
		char reason[160];
		snprintf(reason, sizeof(reason), "addrman: %s", why && why_len ? why : "bad body");
		cr_store_set_aside(path, reason, why, why_len);
	}
	return err;
}
