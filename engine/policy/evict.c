/* Inbound eviction after Core's SelectNodeToEvict; see evict.h for the
 * rules and the differences from Core. Pure; any thread.
 *
 * Core sorts the whole candidate vector once per protection and erases the
 * last k. Here the remaining candidates are an index array; a protection of
 * k (4 or 8) keeps a small sorted array of the k best while scanning once,
 * and the ratio step's "the k oldest" uses quickselect (with a heapsort
 * fallback so crafted inputs cannot make it quadratic). Under one total
 * order per protection, "the last k after sorting" and "the k best" are the
 * same set, so the result is Core's. */
#include <assert.h>
#include <string.h>

#include "addr/netclass.h"
#include "engine/policy/evict.h"

typedef const struct cr_evict_cand cand_t;
/* True when a deserves protection more than b: a sorts after b in Core's
 * comparator, with the id deciding what Core leaves unspecified. */
typedef bool (*better_fn)(cand_t *a, cand_t *b);
typedef bool (*member_fn)(cand_t *c, const void *arg);

static bool tie(cand_t *a, cand_t *b)
{
	return a->id < b->id;
}

/* CompareNetGroupKeyed: the highest keyed netgroups. */
static bool by_netgroup(cand_t *a, cand_t *b)
{
	if (a->keyed_netgroup != b->keyed_netgroup)
		return a->keyed_netgroup > b->keyed_netgroup;
	return tie(a, b);
}

/* ReverseCompareNodeMinPingTime: the lowest minimum pings. */
static bool by_ping(cand_t *a, cand_t *b)
{
	if (a->min_ping_us != b->min_ping_us)
		return a->min_ping_us < b->min_ping_us;
	return tie(a, b);
}

/* ReverseCompareNodeTimeConnected: the longest connected. */
static bool by_uptime(cand_t *a, cand_t *b)
{
	if (a->connected_us != b->connected_us)
		return a->connected_us < b->connected_us;
	return tie(a, b);
}

/* CompareNodeTXTime: latest novel tx, then tx relay, then no bloom filter,
 * then uptime (many peers never sent a transaction). */
static bool by_tx(cand_t *a, cand_t *b)
{
	if (a->last_tx_us != b->last_tx_us)
		return a->last_tx_us > b->last_tx_us;
	if (a->relay_txs != b->relay_txs)
		return a->relay_txs;
	if (a->bloom_filter != b->bloom_filter)
		return !a->bloom_filter;
	return by_uptime(a, b);
}

/* CompareNodeBlockTime: latest novel block, then wanted services, then
 * uptime (many peers never sent a block). */
static bool by_block(cand_t *a, cand_t *b)
{
	if (a->last_block_us != b->last_block_us)
		return a->last_block_us > b->last_block_us;
	if (a->relevant_services != b->relevant_services)
		return a->relevant_services;
	return by_uptime(a, b);
}

/* CompareNodeBlockRelayOnlyTime: peers not relaying transactions first. */
static bool by_block_relay_only(cand_t *a, cand_t *b)
{
	if (a->relay_txs != b->relay_txs)
		return !a->relay_txs;
	return by_block(a, b);
}

static bool younger(cand_t *a, cand_t *b)
{
	return by_uptime(b, a);
}

static bool any_member(cand_t *c, const void *arg)
{
	(void)c;
	(void)arg;
	return true;
}

static bool block_relay_member(cand_t *c, const void *arg)
{
	(void)arg;
	return !c->relay_txs && c->relevant_services;
}

/* A disadvantaged network of the ratio step. */
struct net {
	bool local;
	uint8_t id;
	size_t count;
};

static bool net_member(cand_t *c, const void *arg)
{
	const struct net *n = arg;
	return n->local ? c->is_local : c->network == n->id;
}

/* One netgroup in the final step: open addressing keyed by keyed_netgroup. */
struct group {
	uint64_t key;
	uint32_t count; /* 0 = empty slot */
	uint32_t youngest;
};

struct sel {
	cand_t *c;
	uint8_t *why;
	uint32_t *idx; /* remaining candidates: idx[0..m) */
	uint32_t *tmp;
	struct group *tab;
	size_t m;
};

static size_t table_cap(size_t n)
{
	size_t cap = 16;
	while (cap < 2 * n)
		cap *= 2;
	return cap;
}

size_t cr_evict_scratch_size(size_t n)
{
	return table_cap(n) * sizeof(struct group) + 2 * n * sizeof(uint32_t) + n;
}

static void sel_init(struct sel *s, cand_t *c, size_t n, void *scratch, uint8_t *why)
{
	s->c = c;
	s->tab = scratch;
	s->idx = (uint32_t *)(s->tab + table_cap(n));
	s->tmp = s->idx + n;
	s->why = why ? why : (uint8_t *)(s->tmp + n);
	s->m = 0;
}

/* Drops the candidates marked since the last call, keeping the order. */
static void compact(struct sel *s)
{
	size_t k = 0;
	for (size_t j = 0; j < s->m; j++)
		if (s->why[s->idx[j]] == CR_EVICT_REMAINED)
			s->idx[k++] = s->idx[j];
	s->m = k;
}

/* EraseLastKElements with a small k: of the k best remaining candidates,
 * protects those that are members. */
static void protect_top(struct sel *s, better_fn better, size_t k, member_fn member,
			const void *arg, uint8_t why)
{
	uint32_t best[8];
	size_t nb = 0;
	assert(k <= 8);
	for (size_t j = 0; j < s->m; j++) {
		uint32_t i = s->idx[j];
		size_t pos;
		if (nb < k)
			pos = nb++;
		else if (better(&s->c[i], &s->c[best[nb - 1]]))
			pos = nb - 1;
		else
			continue;
		/* insertion: best[] stays ordered, most deserving first */
		while (pos > 0 && better(&s->c[i], &s->c[best[pos - 1]])) {
			best[pos] = best[pos - 1];
			pos--;
		}
		best[pos] = i;
	}
	for (size_t j = 0; j < nb; j++)
		if (member(&s->c[best[j]], arg))
			s->why[best[j]] = why;
	compact(s);
}

/* --- selection of the k best out of many (the ratio step) --- */

static void swap32(uint32_t *a, uint32_t *b)
{
	uint32_t t = *a;
	*a = *b;
	*b = t;
}

/* A heap with the best candidate on top. */
static void sift_down(cand_t *c, better_fn better, uint32_t *a, size_t len, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, w = i;
		if (l < len && better(&c[a[l]], &c[a[w]]))
			w = l;
		if (r < len && better(&c[a[r]], &c[a[w]]))
			w = r;
		if (w == i)
			return;
		swap32(&a[i], &a[w]);
		i = w;
	}
}

/* Sorts a[0..len) from worst to best. */
static void heap_sort(cand_t *c, better_fn better, uint32_t *a, size_t len)
{
	for (size_t i = len / 2; i-- > 0;)
		sift_down(c, better, a, len, i);
	for (size_t end = len; end > 1; end--) {
		swap32(&a[0], &a[end - 1]);
		sift_down(c, better, a, end - 1, 0);
	}
}

/* Rearranges a[0..len) so the k best candidates end up in a[len-k..len):
 * quickselect for the (len-k)-th in worst-to-best order, median of three
 * pivots, and a heapsort of the remaining range past a depth limit. */
static void select_best(cand_t *c, better_fn better, uint32_t *a, size_t len, size_t k)
{
	if (k == 0 || k >= len)
		return;
	size_t lo = 0, hi = len, nth = len - k;
	unsigned depth = 0, limit = 2;
	for (size_t x = len; x > 1; x >>= 1)
		limit += 2;
	while (hi - lo > 3) {
		if (depth++ > limit) {
			heap_sort(c, better, a + lo, hi - lo);
			return;
		}
		size_t mid = lo + (hi - lo) / 2, last = hi - 1;
		/* order lo, mid, last from worst to best; the median is the pivot */
		if (better(&c[a[lo]], &c[a[mid]]))
			swap32(&a[lo], &a[mid]);
		if (better(&c[a[mid]], &c[a[last]]))
			swap32(&a[mid], &a[last]);
		if (better(&c[a[lo]], &c[a[mid]]))
			swap32(&a[lo], &a[mid]);
		swap32(&a[mid], &a[last]);
		uint32_t pivot = a[last];
		size_t store = lo;
		for (size_t j = lo; j < last; j++)
			if (better(&c[pivot], &c[a[j]]))
				swap32(&a[j], &a[store++]);
		swap32(&a[store], &a[last]);
		/* a[lo..store) worse than the pivot, a[store+1..hi) not worse */
		if (store == nth)
			return;
		if (store < nth)
			lo = store + 1;
		else
			hi = store;
	}
	heap_sort(c, better, a + lo, hi - lo);
}

/* Protects the k longest-connected members (all of them if fewer). */
static size_t protect_oldest(struct sel *s, size_t k, member_fn member, const void *arg,
			     uint8_t why)
{
	size_t nm = 0;
	for (size_t j = 0; j < s->m; j++)
		if (member(&s->c[s->idx[j]], arg))
			s->tmp[nm++] = s->idx[j];
	size_t take = k < nm ? k : nm;
	select_best(s->c, by_uptime, s->tmp, nm, take);
	for (size_t j = nm - take; j < nm; j++)
		s->why[s->tmp[j]] = why;
	size_t before = s->m;
	compact(s);
	return before - s->m;
}

/* ProtectEvictionCandidatesByRatio: half the remaining candidates by
 * uptime, up to half of those reserved for disadvantaged networks; networks
 * with fewer candidates are served first and recover slots others leave. */
static void protect_by_ratio(struct sel *s)
{
	const size_t total = s->m / 2, by_network = total / 2;
	/* In Core's array order: on equal counts, earlier ones come first. */
	struct net nets[4] = {
		{ false, CR_NETCLASS_CJDNS, 0 },
		{ false, CR_NETCLASS_I2P, 0 },
		{ true, 0, 0 },
		{ false, CR_NETCLASS_ONION, 0 },
	};
	for (int i = 0; i < 4; i++)
		for (size_t j = 0; j < s->m; j++)
			nets[i].count += net_member(&s->c[s->idx[j]], &nets[i]);
	for (int i = 1; i < 4; i++) /* stable insertion sort by count */
		for (int j = i; j > 0 && nets[j].count < nets[j - 1].count; j--) {
			struct net t = nets[j];
			nets[j] = nets[j - 1];
			nets[j - 1] = t;
		}
	size_t done = 0;
	while (done < by_network) {
		size_t active = 0;
		for (int i = 0; i < 4; i++)
			active += nets[i].count != 0;
		if (!active)
			break;
		size_t each = (by_network - done) / active;
		if (each < 1)
			each = 1;
		bool any = false;
		for (int i = 0; i < 4; i++) {
			if (!nets[i].count)
				continue;
			size_t got = protect_oldest(s, each, net_member, &nets[i], CR_EVICT_NETWORK);
			if (got) {
				any = true;
				done += got;
				if (done >= by_network)
					break;
				nets[i].count -= got;
			}
		}
		if (!any)
			break;
	}
	assert(done <= total);
	protect_oldest(s, total - done, any_member, NULL, CR_EVICT_UPTIME);
}

void cr_evict_protect_by_ratio(uint8_t *why, const struct cr_evict_cand *cands, size_t n,
			       void *scratch)
{
	struct sel s;
	sel_init(&s, cands, n, scratch, why);
	for (size_t i = 0; i < n; i++)
		if (why[i] == CR_EVICT_REMAINED)
			s.idx[s.m++] = (uint32_t)i;
	protect_by_ratio(&s);
}

static uint64_t mix(uint64_t x)
{
	/* keyed netgroups are uniform already; this spreads test values too */
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	return x ^ (x >> 33);
}

/* The youngest member of the netgroup with the most remaining candidates;
 * a group with as many members wins when its youngest is younger. */
static uint32_t youngest_of_largest_group(struct sel *s)
{
	size_t cap = table_cap(s->m), mask = cap - 1;
	memset(s->tab, 0, cap * sizeof *s->tab);
	for (size_t j = 0; j < s->m; j++) {
		uint32_t i = s->idx[j];
		uint64_t key = s->c[i].keyed_netgroup;
		size_t h = (size_t)mix(key) & mask;
		while (s->tab[h].count && s->tab[h].key != key)
			h = (h + 1) & mask;
		struct group *g = &s->tab[h];
		if (!g->count++) {
			g->key = key;
			g->youngest = i;
		} else if (younger(&s->c[i], &s->c[g->youngest])) {
			g->youngest = i;
		}
		s->tmp[j] = (uint32_t)h;
	}
	const struct group *best = &s->tab[s->tmp[0]];
	for (size_t j = 1; j < s->m; j++) {
		const struct group *g = &s->tab[s->tmp[j]];
		if (g->count > best->count ||
		    (g->count == best->count && younger(&s->c[g->youngest], &s->c[best->youngest])))
			best = g;
	}
	return best->youngest;
}

int cr_evict_select(size_t *victim, uint8_t *why_out, uint32_t *counts,
		    const struct cr_evict_cand *cands, size_t n, void *scratch)
{
	struct sel s;
	sel_init(&s, cands, n, scratch, why_out);
	*victim = SIZE_MAX;
	for (size_t i = 0; i < n; i++) {
		/* ProtectNoBanConnections, then ProtectOutboundConnections */
		s.why[i] = cands[i].noban ? CR_EVICT_NOBAN
			 : !cands[i].inbound ? CR_EVICT_OUTBOUND : CR_EVICT_REMAINED;
		if (s.why[i] == CR_EVICT_REMAINED)
			s.idx[s.m++] = (uint32_t)i;
	}
	protect_top(&s, by_netgroup, CR_EVICT_PROTECT_NETGROUP, any_member, NULL, CR_EVICT_NETGROUP);
	protect_top(&s, by_ping, CR_EVICT_PROTECT_PING, any_member, NULL, CR_EVICT_PING);
	protect_top(&s, by_tx, CR_EVICT_PROTECT_TX, any_member, NULL, CR_EVICT_TX);
	protect_top(&s, by_block_relay_only, CR_EVICT_PROTECT_BLOCK_RELAY, block_relay_member, NULL,
		    CR_EVICT_BLOCK_RELAY);
	protect_top(&s, by_block, CR_EVICT_PROTECT_BLOCK, any_member, NULL, CR_EVICT_BLOCK);
	protect_by_ratio(&s);

	int found = 0;
	if (s.m) {
		bool prefer = false;
		for (size_t j = 0; j < s.m && !prefer; j++)
			prefer = cands[s.idx[j]].prefer_evict;
		if (prefer) {
			for (size_t j = 0; j < s.m; j++)
				if (!cands[s.idx[j]].prefer_evict)
					s.why[s.idx[j]] = CR_EVICT_NOT_PREFERRED;
			compact(&s);
		}
		uint32_t v = youngest_of_largest_group(&s);
		s.why[v] = CR_EVICT_VICTIM;
		*victim = v;
		found = 1;
	}
	if (counts) {
		memset(counts, 0, CR_EVICT_WHY_MAX * sizeof *counts);
		for (size_t i = 0; i < n; i++)
			counts[s.why[i]]++;
	}
	return found;
}

const char *cr_evict_why_str(enum cr_evict_why why)
{
	static const char *const names[CR_EVICT_WHY_MAX] = {
		[CR_EVICT_REMAINED] = "remained",
		[CR_EVICT_VICTIM] = "victim",
		[CR_EVICT_NOBAN] = "noban",
		[CR_EVICT_OUTBOUND] = "outbound",
		[CR_EVICT_NETGROUP] = "netgroup",
		[CR_EVICT_PING] = "ping",
		[CR_EVICT_TX] = "tx",
		[CR_EVICT_BLOCK_RELAY] = "block-relay",
		[CR_EVICT_BLOCK] = "block",
		[CR_EVICT_NETWORK] = "network",
		[CR_EVICT_UPTIME] = "uptime",
		[CR_EVICT_NOT_PREFERRED] = "not-preferred",
	};
	return (unsigned)why < CR_EVICT_WHY_MAX ? names[why] : "?";
}
