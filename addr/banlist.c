/* The ban list: a hash table of subnets probed once per prefix length in
 * use, plus a rolling bloom filter for discouragement; see banlist.h.
 * Coordinator thread only. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
/* Inlined: the keys are a few bytes, where the call would cost more than
 * the hash. */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "addr/banlist.h"
#include "addr/bloom.h"
#include "addr/netclass.h"
#include "addr/store.h"
#include "addr/err.h"

#define NETS 7 /* BIP155 ids 0..6 */

struct entry {
	struct cr_ban ban;
	uint64_t hash;
};

struct cr_banlist {
	uint64_t seed;
	struct entry *e;   /* dense: e[0..n) */
	size_t n, cap;
	/* Open addressing, linear probing. A slot holds the entry index + 1 in
	 * its low half (0: empty) and the low 32 bits of the entry's hash in its
	 * high half, so a probe rejects most non-matching slots, and finds the
	 * home of an entry, without touching the entry itself. */
	uint64_t *slot;
	size_t nslots;     /* power of two, >= 2 * cap */
	/* For each network the prefix lengths in use (as stored: 255 = 256),
	 * so a check probes once per length, never per ban. */
	uint32_t uses[NETS][256];
	uint8_t lens[NETS][256];
	int nlens[NETS];
	/* A one-hash Bloom filter over the entries' keys, checked before the
	 * table: an address that is not banned (the common case at accept)
	 * then costs one bit test per prefix length in use instead of a seeded
	 * hash and a table probe. 16 bits per entry of capacity: ~4% false
	 * positives at full load. Always a superset of the entries (a removed
	 * entry's bit stays set until the next rebuild), so it only ever says
	 * "maybe". */
	uint64_t *filt;
	size_t filt_mask;  /* bits - 1; bits a power of two, 0 when no filter */
	struct cr_bloom *discouraged; /* NULL in a snapshot */
	bool frozen;       /* a snapshot: one allocation, read-only */
};

/* The filter's hash: a few multiplies over the masked address words,
 * keyed by the list's seed (a different function from key_hash, so the
 * filter and the table do not fail together). */
static uint64_t filt_mix(uint64_t seed, uint8_t net, uint8_t prefix, const uint64_t *w,
			 size_t nw)
{
	uint64_t h = (seed ^ 0x9e3779b97f4a7c15u) + ((uint64_t)net << 8 | prefix);
	for (size_t i = 0; i < nw; i++)
		h = (h ^ w[i]) * 0xff51afd7ed558ccdu;
	h ^= h >> 32;
	h *= 0xc4ceb9fe1a85ec53u;
	return h ^ (h >> 29);
}

static uint64_t filt_hash(uint64_t seed, const struct cr_subnet *sn)
{
	uint64_t w[CR_NETADDR_MAX / 8] = {0};
	size_t len = sn->net.len <= CR_NETADDR_MAX ? sn->net.len : CR_NETADDR_MAX;
	memcpy(w, sn->net.addr, len);
	return filt_mix(seed, sn->net.net, sn->prefix, w, (len + 7) / 8);
}

static void filt_add(struct cr_banlist *bl, const struct cr_subnet *sn)
{
	size_t b = (size_t)filt_hash(bl->seed, sn) & bl->filt_mask;
	bl->filt[b / 64] |= (uint64_t)1 << (b % 64);
}

/* w: the address as words in memory order, already masked to the prefix */
static bool filt_maybe(const struct cr_banlist *bl, uint8_t net, uint8_t prefix,
		       const uint64_t *w, size_t nw)
{
	size_t b = (size_t)filt_mix(bl->seed, net, prefix, w, nw) & bl->filt_mask;
	return bl->filt[b / 64] >> (b % 64) & 1;
}

/* Exact again: only the live entries' bits. */
static void filt_rebuild(struct cr_banlist *bl)
{
	if (!bl->filt)
		return;
	memset(bl->filt, 0, (bl->filt_mask + 1) / 8);
	for (size_t i = 0; i < bl->n; i++)
		filt_add(bl, &bl->e[i].ban.subnet);
}

static uint64_t key_hash(uint64_t seed, const struct cr_subnet *sn)
{
	uint8_t k[2 + CR_NETADDR_MAX];
	k[0] = sn->net.net;
	k[1] = sn->prefix;
	memcpy(k + 2, sn->net.addr, sn->net.len);
	return XXH3_64bits_withSeed(k, 2u + sn->net.len, seed);
}

struct cr_banlist *cr_banlist_new(uint64_t hash_seed, uint32_t bloom_tweak)
{
	struct cr_banlist *bl = calloc(1, sizeof(*bl));
	if (!bl)
		return NULL;
	bl->seed = hash_seed;
	bl->discouraged = cr_bloom_new(CR_DISCOURAGE_ENTRIES, CR_DISCOURAGE_FP_RATE, bloom_tweak);
	if (!bl->discouraged) {
		free(bl);
		return NULL;
	}
	return bl;
}

void cr_banlist_free(struct cr_banlist *bl)
{
	if (!bl)
		return;
	if (bl->frozen) { /* entries and slots live in the same block */
		free(bl);
		return;
	}
	cr_bloom_free(bl->discouraged);
	free(bl->e);
	free(bl->slot);
	free(bl->filt);
	free(bl);
}

static void use_len(struct cr_banlist *bl, const struct cr_subnet *sn, int delta)
{
	uint8_t net = sn->net.net, p = sn->prefix;
	if (delta > 0 && bl->uses[net][p]++ == 0) {
		bl->lens[net][bl->nlens[net]++] = p;
	} else if (delta < 0 && --bl->uses[net][p] == 0) {
		for (int i = 0; i < bl->nlens[net]; i++)
			if (bl->lens[net][i] == p) {
				bl->lens[net][i] = bl->lens[net][--bl->nlens[net]];
				break;
			}
	}
}

/* Slot holding entry index idx (which must be present). */
static size_t slot_of(const struct cr_banlist *bl, size_t idx)
{
	size_t mask = bl->nslots - 1, i = bl->e[idx].hash & mask;
	while ((uint32_t)bl->slot[i] != idx + 1)
		i = (i + 1) & mask;
	return i;
}

static long find(const struct cr_banlist *bl, const struct cr_subnet *sn, uint64_t h)
{
	if (!bl->nslots)
		return -1;
	size_t mask = bl->nslots - 1;
	for (size_t i = h & mask; (uint32_t)bl->slot[i]; i = (i + 1) & mask) {
		if ((uint32_t)(bl->slot[i] >> 32) != (uint32_t)h)
			continue;
		const struct entry *x = &bl->e[(uint32_t)bl->slot[i] - 1];
		if (x->hash == h && cr_subnet_equal(&x->ban.subnet, sn))
			return (long)(uint32_t)bl->slot[i] - 1;
	}
	return -1;
}

static void insert_slot(struct cr_banlist *bl, size_t idx)
{
	size_t mask = bl->nslots - 1, i = bl->e[idx].hash & mask;
	while ((uint32_t)bl->slot[i])
		i = (i + 1) & mask;
	bl->slot[i] = (uint64_t)(uint32_t)bl->e[idx].hash << 32 | ((uint32_t)idx + 1);
}

static int grow(struct cr_banlist *bl)
{
	size_t cap = bl->cap ? bl->cap * 2 : 64;
	struct entry *e = realloc(bl->e, cap * sizeof(*e));
	if (!e)
		return CR_E_NOMEM;
	bl->e = e;
	uint64_t *slot = calloc(cap * 2, sizeof(*slot));
	if (!slot)
		return CR_E_NOMEM;
	uint64_t *filt = calloc(cap * 16 / 64, sizeof(*filt)); /* cap: a power of two >= 64 */
	if (!filt) {
		free(slot);
		return CR_E_NOMEM;
	}
	free(bl->slot);
	bl->slot = slot;
	bl->nslots = cap * 2;
	free(bl->filt);
	bl->filt = filt;
	bl->filt_mask = cap * 16 - 1;
	bl->cap = cap;
	for (size_t i = 0; i < bl->n; i++)
		insert_slot(bl, i);
	filt_rebuild(bl);
	return 0;
}

int cr_banlist_ban_until(struct cr_banlist *bl, const struct cr_subnet *sn,
			 int64_t created, int64_t until)
{
	struct cr_subnet canon;
	if (bl->frozen)
		return CR_E_INVAL;
	if (sn->net.net >= NETS ||
	    cr_subnet_init(&canon, &sn->net, sn->prefix == 255 ? 256u : sn->prefix) ||
	    !cr_subnet_equal(&canon, sn))
		return CR_E_INVAL;
	uint64_t h = key_hash(bl->seed, sn);
	long at = find(bl, sn, h);
	if (at >= 0) {
		if (bl->e[at].ban.until < until) {
			bl->e[at].ban.until = until;
			bl->e[at].ban.created = created;
		}
		return 0;
	}
	if (bl->n >= CR_BANLIST_MAX)
		return CR_E_BAN_FULL;
	if (bl->n == bl->cap) {
		int rc = grow(bl);
		if (rc)
			return rc;
	}
	struct entry *x = &bl->e[bl->n];
	x->ban.subnet = *sn;
	x->ban.created = created;
	x->ban.until = until;
	x->hash = h;
	insert_slot(bl, bl->n++);
	filt_add(bl, sn);
	use_len(bl, sn, +1);
	return 0;
}

int cr_banlist_ban(struct cr_banlist *bl, const struct cr_subnet *sn, int64_t now,
		   int64_t duration_s)
{
	if (duration_s <= 0)
		duration_s = CR_BAN_DEFAULT_S;
	int64_t until = now > INT64_MAX - duration_s ? INT64_MAX : now + duration_s;
	return cr_banlist_ban_until(bl, sn, now, until);
}

/* Removes entry idx: backward-shift deletion keeps every probe chain
 * unbroken without tombstones, then the last entry fills the hole. */
static void remove_at(struct cr_banlist *bl, size_t idx)
{
	size_t mask = bl->nslots - 1, i = slot_of(bl, idx), j = i;
	for (;;) {
		j = (j + 1) & mask;
		if (!(uint32_t)bl->slot[j])
			break;
		size_t home = (size_t)(bl->slot[j] >> 32) & mask; /* nslots <= 2^32 */
		/* Move j back into i unless its home lies cyclically in (i, j]. */
		bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (!stays) {
			bl->slot[i] = bl->slot[j];
			i = j;
		}
	}
	bl->slot[i] = 0;
	use_len(bl, &bl->e[idx].ban.subnet, -1);
	size_t last = bl->n - 1;
	if (idx != last) {
		size_t s = slot_of(bl, last);
		bl->e[idx] = bl->e[last];
		bl->slot[s] = (bl->slot[s] & ~(uint64_t)0xffffffffu) | ((uint32_t)idx + 1);
	}
	bl->n--;
}

const struct cr_ban *cr_banlist_find(const struct cr_banlist *bl, const struct cr_subnet *sn,
				     int64_t now)
{
	long at = find(bl, sn, key_hash(bl->seed, sn));
	return at >= 0 && now < bl->e[at].ban.until ? &bl->e[at].ban : NULL;
}

bool cr_banlist_unban(struct cr_banlist *bl, const struct cr_subnet *sn)
{
	if (bl->frozen)
		return false;
	long at = find(bl, sn, key_hash(bl->seed, sn));
	if (at < 0)
		return false;
	remove_at(bl, (size_t)at);
	return true;
}

void cr_banlist_clear(struct cr_banlist *bl)
{
	if (bl->frozen)
		return;
	bl->n = 0;
	if (bl->slot)
		memset(bl->slot, 0, bl->nslots * sizeof(*bl->slot));
	memset(bl->uses, 0, sizeof(bl->uses));
	memset(bl->nlens, 0, sizeof(bl->nlens));
	filt_rebuild(bl);
}

/* The mask of the first bits prefix bits of word i (bytes 8i..8i+7 in
 * memory order, as memcpy loads them). */
static uint64_t word_mask(unsigned bits, size_t i)
{
	if (bits <= 64 * i)
		return 0;
	unsigned b = bits - 64 * (unsigned)i;
	uint64_t be = b >= 64 ? ~(uint64_t)0 : ~(~(uint64_t)0 >> b);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return __builtin_bswap64(be); /* big-endian bit order to memory order */
#else
	return be;
#endif
}

bool cr_banlist_is_banned(const struct cr_banlist *bl, const struct cr_netaddr *a, int64_t now)
{
	struct cr_subnet probe;

	/* Normalizes IPv4-mapped to IPv4 and rejects malformed addresses. */
	if (!bl->n || a->net >= NETS || cr_subnet_from_addr(&probe, a))
		return false;
	const struct cr_netaddr full = probe.net;
	uint8_t net = full.net;
	uint64_t w[CR_NETADDR_MAX / 8] = {0}, m[CR_NETADDR_MAX / 8];
	size_t nw = (full.len + 7u) / 8;
	memcpy(w, full.addr, full.len);
	for (int k = 0; k < bl->nlens[net]; k++) {
		unsigned p = bl->lens[net][k];
		unsigned bits = p == 255 && full.len == 32 ? 256 : p;
		if (bits > full.len * 8u)
			continue;
		/* The filter first, on words: most addresses stop here. */
		for (size_t i = 0; i < nw; i++)
			m[i] = w[i] & word_mask(bits, i);
		if (!filt_maybe(bl, net, (uint8_t)p, m, nw))
			continue;
		/* Mask in place: the stored networks are masked the same way. */
		memcpy(probe.net.addr, m, full.len);
		probe.prefix = (uint8_t)p;
		long at = find(bl, &probe, key_hash(bl->seed, &probe));
		if (at >= 0 && now < bl->e[at].ban.until)
			return true;
	}
	return false;
}

static size_t disc_key(uint8_t *k, const struct cr_netaddr *a)
{
	struct cr_subnet sn;
	if (cr_subnet_from_addr(&sn, a))
		sn.net = *a; /* malformed: hash what we were given, bounded */
	k[0] = sn.net.net;
	size_t len = sn.net.len <= CR_NETADDR_MAX ? sn.net.len : CR_NETADDR_MAX;
	memcpy(k + 1, sn.net.addr, len);
	return 1 + len;
}

void cr_banlist_discourage(struct cr_banlist *bl, const struct cr_netaddr *a)
{
	uint8_t k[1 + CR_NETADDR_MAX];
	if (!bl->discouraged)
		return; /* a snapshot */
	size_t n = disc_key(k, a);
	cr_bloom_insert(bl->discouraged, k, n);
}

bool cr_banlist_is_discouraged(const struct cr_banlist *bl, const struct cr_netaddr *a)
{
	uint8_t k[1 + CR_NETADDR_MAX];
	if (!bl->discouraged)
		return false; /* a snapshot */
	size_t n = disc_key(k, a);
	return cr_bloom_contains(bl->discouraged, k, n);
}

size_t cr_banlist_sweep(struct cr_banlist *bl, int64_t now)
{
	size_t removed = 0;
	if (bl->frozen)
		return 0;
	for (size_t i = bl->n; i-- > 0;)
		if (bl->e[i].ban.until <= now) {
			remove_at(bl, i);
			removed++;
		}
	if (removed)
		filt_rebuild(bl);
	return removed;
}

struct cr_banlist *cr_banlist_snapshot(const struct cr_banlist *bl)
{
	/* one block: the list, its entries, its slots, its filter (8-byte
	 * aligned: the entries' size is a multiple of 8) */
	size_t head = (sizeof(*bl) + 15) & ~(size_t)15;
	size_t esz = bl->n * sizeof(struct entry), ssz = bl->nslots * sizeof(uint64_t);
	size_t fsz = bl->filt ? (bl->filt_mask + 1) / 8 : 0;
	struct cr_banlist *s = malloc(head + esz + ssz + fsz);
	if (!s)
		return NULL;
	*s = *bl;
	s->discouraged = NULL;
	s->frozen = true;
	s->cap = bl->n;
	s->e = (struct entry *)((char *)s + head);
	s->slot = (uint64_t *)((char *)s->e + esz);
	if (esz)
		memcpy(s->e, bl->e, esz);
	if (ssz)
		memcpy(s->slot, bl->slot, ssz);
	/* rebuilt, not copied: exact, whatever was unbanned since the last
	 * rebuild */
	s->filt = fsz ? (uint64_t *)((char *)s->slot + ssz) : NULL;
	if (s->filt) {
		memset(s->filt, 0, fsz);
		for (size_t i = 0; i < s->n; i++)
			filt_add(s, &s->e[i].ban.subnet);
	}
	return s;
}

size_t cr_banlist_count(const struct cr_banlist *bl)
{
	return bl->n;
}

const struct cr_ban *cr_banlist_at(const struct cr_banlist *bl, size_t i)
{
	return i < bl->n ? &bl->e[i].ban : NULL;
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

int cr_banlist_encode(const struct cr_banlist *bl, uint8_t **out, size_t *out_len)
{
	size_t cap = 4 + bl->n * (3 + CR_NETADDR_MAX + 16), o = 4;
	uint8_t *b = malloc(cap);
	*out = NULL;
	*out_len = 0;
	if (!b)
		return CR_E_NOMEM;
	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(bl->n >> (8 * i));
	for (size_t i = 0; i < bl->n; i++) {
		const struct cr_ban *x = &bl->e[i].ban;
		b[o++] = x->subnet.net.net;
		b[o++] = x->subnet.net.len;
		memcpy(b + o, x->subnet.net.addr, x->subnet.net.len);
		o += x->subnet.net.len;
		b[o++] = x->subnet.prefix;
		put64(b + o, (uint64_t)x->created);
		put64(b + o + 8, (uint64_t)x->until);
		o += 16;
	}
	*out = b;
	*out_len = o;
	return 0;
}

int cr_banlist_decode(struct cr_banlist *bl, const uint8_t *body, size_t len, int64_t now)
{
	size_t o = 4;
	uint32_t count;

	cr_banlist_clear(bl);
	if (len < 4)
		return CR_E_STORE_BODY;
	count = (uint32_t)body[0] | (uint32_t)body[1] << 8 | (uint32_t)body[2] << 16 |
		(uint32_t)body[3] << 24;
	/* Bound the count before trusting it: the limit, and the bytes that
	 * are actually there (an entry is at least 2 + 4 + 1 + 16 bytes). */
	if (count > CR_BANLIST_MAX || count > (len - 4) / 23)
		return CR_E_STORE_BODY;
	for (uint32_t i = 0; i < count; i++) {
		struct cr_subnet sn;
		memset(&sn, 0, sizeof(sn));
		if (len - o < 2)
			goto bad;
		sn.net.net = body[o];
		sn.net.len = body[o + 1];
		o += 2;
		if (sn.net.net >= NETS || sn.net.len == 0 ||
		    sn.net.len != cr_net_addr_len(sn.net.net) || len - o < sn.net.len + 17u)
			goto bad;
		memcpy(sn.net.addr, body + o, sn.net.len);
		o += sn.net.len;
		sn.prefix = body[o++];
		int64_t created = (int64_t)get64(body + o), until = (int64_t)get64(body + o + 8);
		o += 16;
		int rc = cr_banlist_ban_until(bl, &sn, created, until);
		if (rc == CR_E_NOMEM) {
			cr_banlist_clear(bl);
			return rc;
		}
		if (rc)
			goto bad; /* not canonical (unmasked bits, bad prefix) */
	}
	if (o != len)
		goto bad;
	cr_banlist_sweep(bl, now);
	return 0;
bad:
	cr_banlist_clear(bl);
	return CR_E_STORE_BODY;
}

int cr_banlist_save(const struct cr_banlist *bl, const char *path)
{
	uint8_t *body;
	size_t len;
	int rc = cr_banlist_encode(bl, &body, &len);
	if (rc)
		return rc;
	rc = cr_store_save(path, CR_BANLIST_MAGIC, CR_BANLIST_VERSION, body, len);
	free(body);
	return rc;
}

int cr_banlist_load(struct cr_banlist *bl, const char *path, int64_t now,
		    char *why, size_t why_len)
{
	uint8_t *body;
	size_t len;
	uint32_t version;
	int rc;

	cr_banlist_clear(bl);
	rc = cr_store_load(path, CR_BANLIST_MAGIC, CR_BANLIST_VERSION, &version, &body,
			   &len, why, why_len);
	if (rc)
		return rc;
	rc = cr_banlist_decode(bl, body, len, now);
	free(body);
	if (rc == CR_E_STORE_BODY)
		cr_store_set_aside(path, "ban list entries do not decode", why, why_len);
	return rc;
}
