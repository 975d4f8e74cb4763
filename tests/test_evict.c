/* Tests of engine/policy/evict: every scenario of Bitcoin Core's
 * net_peer_eviction_tests (peer_protection_test for the ratio step,
 * peer_eviction_test for the whole choice), written afresh as data; the
 * cases Core leaves untested (prefer-evict, the largest netgroup's youngest
 * member); and properties over random snapshots: the choice equals a plain
 * transcription of Core's sort-and-erase algorithm (test_reference below),
 * no protected, outbound or noban candidate is ever chosen, and neither the
 * choice nor any reason depends on the order of the array. Random tests
 * print their seed and take --seed N. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr/netclass.h"
#include "engine/policy/evict.h"
#include "check.h"

typedef struct cr_evict_cand cand;

static uint64_t rnd;

static uint64_t below(uint64_t n)
{
	return n ? check_rand(&rnd) % n : 0;
}

static void shuffle(cand *c, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)below(i);
		cand t = c[i - 1];
		c[i - 1] = c[j];
		c[j] = t;
	}
}

/* Core's GetRandomNodeEvictionCandidates: every field random in a small
 * range (so ties are common), all inbound, none noban. */
static const uint8_t all_networks[] = {
	CR_NETCLASS_UNROUTABLE, CR_NETCLASS_IPV4, CR_NETCLASS_IPV6, CR_NETCLASS_ONION,
	CR_NETCLASS_I2P, CR_NETCLASS_CJDNS, CR_NETCLASS_INTERNAL,
};

static void random_cands(cand *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		memset(&c[i], 0, sizeof c[i]);
		c[i].id = i;
		c[i].connected_us = (int64_t)below(100);
		c[i].min_ping_us = (int64_t)below(100);
		c[i].last_block_us = (int64_t)below(100);
		c[i].last_tx_us = (int64_t)below(100);
		c[i].relevant_services = below(2);
		c[i].relay_txs = below(2);
		c[i].bloom_filter = below(2);
		c[i].keyed_netgroup = below(100);
		c[i].prefer_evict = below(2);
		c[i].is_local = below(2);
		c[i].network = all_networks[below(sizeof all_networks)];
		c[i].inbound = true;
	}
}

/* Runs the choice; returns the victim's id or UINT64_MAX. */
static uint64_t evict(const cand *c, size_t n, uint8_t *why, uint32_t *counts)
{
	void *scratch = malloc(cr_evict_scratch_size(n) + 1);
	size_t v;
	int found = cr_evict_select(&v, why, counts, c, n, scratch);
	free(scratch);
	if (!found) {
		CHECK(v == SIZE_MAX);
		return UINT64_MAX;
	}
	CHECK(v < n);
	return c[v].id;
}

/* ---- Core's peer_protection_test: ProtectEvictionCandidatesByRatio ---- */

enum { CONN_RANDOM, CONN_ID, CONN_REVERSE };

struct ratio_case {
	unsigned n, conn;
	uint32_t local, onion, i2p, cjdns; /* bit i: candidate id i */
	uint8_t other;                     /* network of the rest */
	uint32_t protect, keep;            /* must be protected / must remain */
};

#define B(x) (1u << (x))
#define RANGE(a, b) ((uint32_t)((((uint64_t)1 << ((b) + 1)) - 1) & ~((1ull << (a)) - 1)))
#define V4 CR_NETCLASS_IPV4
#define V6 CR_NETCLASS_IPV6

static const struct ratio_case ratio_cases[] = {
	/* half by uptime, both directions */
	{ 12, CONN_ID, 0, 0, 0, 0, V4, RANGE(0, 5), RANGE(6, 11) },
	{ 12, CONN_REVERSE, 0, 0, 0, 0, V6, RANGE(6, 11), RANGE(0, 5) },
	/* one network at a time: a quarter of the peers for it */
	{ 12, CONN_RANDOM, 0, B(3) | B(8) | B(9), 0, 0, V4, B(3) | B(8) | B(9), 0 },
	{ 12, CONN_ID, 0, B(3) | RANGE(8, 11), 0, 0, V6, RANGE(0, 3) | B(8) | B(9),
	  RANGE(4, 7) | B(10) | B(11) },
	{ 12, CONN_RANDOM, B(1) | B(9) | B(11), 0, 0, 0, V4, B(1) | B(9) | B(11), 0 },
	{ 12, CONN_ID, RANGE(7, 11), 0, 0, 0, V6, RANGE(0, 2) | RANGE(7, 9),
	  RANGE(3, 6) | B(10) | B(11) },
	{ 12, CONN_RANDOM, 0, 0, B(2) | B(7) | B(10), 0, V4, B(2) | B(7) | B(10), 0 },
	{ 12, CONN_ID, 0, 0, B(4) | RANGE(9, 11), 0, V6, RANGE(0, 2) | B(4) | B(9) | B(10),
	  B(3) | RANGE(5, 8) | B(11) },
	{ 12, CONN_RANDOM, 0, 0, 0, B(2) | B(7) | B(10), V4, B(2) | B(7) | B(10), 0 },
	{ 12, CONN_ID, 0, 0, 0, B(4) | RANGE(9, 11), V6, RANGE(0, 2) | B(4) | B(9) | B(10),
	  B(3) | RANGE(5, 8) | B(11) },
	/* two networks; equal counts go in Core's array order (localhost first) */
	{ 4, CONN_ID, B(4), B(3), 0, 0, V4, B(0) | B(4), B(1) | B(2) },
	{ 7, CONN_ID, B(6), B(5), 0, 0, V4, B(0) | B(1) | B(6), RANGE(2, 5) },
	{ 8, CONN_ID, B(6), B(5), 0, 0, V4, B(0) | B(1) | B(5) | B(6), RANGE(2, 4) | B(7) },
	{ 12, CONN_ID, B(6) | B(9) | B(11), B(7) | B(8) | B(10), 0, 0, V6,
	  RANGE(0, 2) | B(6) | B(7) | B(9), RANGE(3, 5) | B(8) | B(10) | B(11) },
	{ 12, CONN_ID, RANGE(5, 8), B(10), 0, 0, V4, RANGE(0, 2) | B(5) | B(6) | B(10),
	  B(3) | B(4) | B(7) | B(8) | B(9) | B(11) },
	{ 16, CONN_ID, B(6) | B(9) | B(11) | B(12), B(8) | B(10), 0, 0, V6,
	  RANGE(0, 3) | B(6) | B(8) | B(9) | B(10), B(4) | B(5) | B(7) | RANGE(11, 15) },
	/* an unused onion slot goes to localhost, and the other way round */
	{ 16, CONN_ID, RANGE(11, 15), B(10), 0, 0, V4, RANGE(0, 3) | RANGE(10, 13),
	  RANGE(4, 9) | B(14) | B(15) },
	{ 16, CONN_ID, B(15), RANGE(7, 10), 0, 0, V6, RANGE(0, 3) | RANGE(7, 9) | B(15),
	  B(5) | B(6) | RANGE(10, 14) },
	/* fewer candidates go first */
	{ 12, CONN_ID, 0, B(8) | B(10), B(6) | B(9) | B(11) | B(12), 0, V4,
	  RANGE(0, 2) | B(6) | B(8) | B(10), RANGE(3, 5) | B(7) | B(9) | B(11) },
	/* three networks */
	{ 4, CONN_ID, B(2), B(1), B(3), 0, V6, B(0) | B(3), B(1) | B(2) },
	{ 7, CONN_ID, B(4), B(5), B(6), 0, V6, B(0) | B(1) | B(6), RANGE(2, 5) },
	{ 8, CONN_ID, B(6), B(4), B(5), 0, V6, B(0) | B(1) | B(5) | B(6), RANGE(2, 4) | B(7) },
	{ 16, CONN_ID, B(6) | RANGE(12, 15), B(9) | B(10), B(7) | B(11), 0, V4,
	  RANGE(0, 3) | B(6) | B(7) | B(9) | B(11), B(4) | B(5) | B(8) | B(10) | RANGE(12, 15) },
	{ 24, CONN_ID, B(12), B(23), RANGE(15, 22), 0, V6,
	  RANGE(0, 5) | B(12) | RANGE(15, 18) | B(23), RANGE(6, 11) | B(13) | B(14) | RANGE(19, 22) },
	{ 24, CONN_ID, B(15), RANGE(18, 23), B(12) | B(14) | B(17), 0, V4,
	  RANGE(0, 5) | B(12) | B(14) | B(15) | B(17) | B(18) | B(19),
	  RANGE(6, 11) | B(13) | B(16) | RANGE(20, 23) },
	{ 24, CONN_ID, B(13), RANGE(12, 16) & ~B(13), RANGE(17, 23), 0, V6,
	  RANGE(0, 5) | RANGE(12, 15) | B(17) | B(18), RANGE(6, 11) | B(16) | RANGE(19, 23) },
	{ 24, CONN_ID, RANGE(16, 23), RANGE(7, 9), 0, RANGE(11, 14), V4,
	  RANGE(0, 5) | B(7) | B(8) | B(11) | B(12) | B(16) | B(17),
	  B(6) | B(9) | B(10) | B(13) | B(14) | B(15) | RANGE(18, 23) },
	/* four networks; equal counts: CJDNS first */
	{ 5, CONN_ID, B(3), B(2), B(1), B(4), V6, B(0) | B(4), RANGE(1, 3) },
	{ 7, CONN_ID, B(4), B(3), B(5), B(6), V4, B(0) | B(1) | B(6), RANGE(2, 5) },
	{ 8, CONN_ID, B(3), B(3), B(6), B(5), V6, B(0) | B(1) | B(5) | B(6), RANGE(2, 4) | B(7) },
	{ 16, CONN_ID, RANGE(6, 15), B(8) | B(9), B(10) | B(14), B(11) | B(15), V4,
	  RANGE(0, 3) | B(6) | B(8) | B(10) | B(11),
	  B(4) | B(5) | B(7) | B(9) | RANGE(12, 15) },
	{ 24, CONN_ID, B(13), B(12) | RANGE(14, 16), B(17), RANGE(18, 23), V6,
	  RANGE(0, 5) | B(12) | B(13) | B(14) | B(17) | B(18) | B(19),
	  RANGE(6, 11) | B(15) | B(16) | RANGE(20, 23) },
};

static bool run_ratio_case(const struct ratio_case *rc)
{
	cand c[32];
	uint8_t why[32];
	random_cands(c, rc->n);
	for (unsigned i = 0; i < rc->n; i++) {
		if (rc->conn == CONN_ID)
			c[i].connected_us = i;
		else if (rc->conn == CONN_REVERSE)
			c[i].connected_us = rc->n - i;
		c[i].is_local = rc->local & B(i);
		c[i].network = rc->onion & B(i) ? CR_NETCLASS_ONION
			     : rc->i2p & B(i) ? CR_NETCLASS_I2P
			     : rc->cjdns & B(i) ? CR_NETCLASS_CJDNS : rc->other;
	}
	/* Core's tests set the onion network after the I2P/CJDNS checks in
	 * one case (id 3 both local and onion): the table's bits say it all. */
	shuffle(c, rc->n);
	memset(why, CR_EVICT_REMAINED, sizeof why);
	void *scratch = malloc(cr_evict_scratch_size(rc->n));
	cr_evict_protect_by_ratio(why, c, rc->n, scratch);
	free(scratch);
	unsigned remained = 0;
	bool ok = true;
	for (unsigned i = 0; i < rc->n; i++) {
		bool kept = why[i] == CR_EVICT_REMAINED;
		remained += kept;
		uint64_t id = c[i].id;
		if ((rc->protect & B(id)) && kept)
			ok = false;
		if ((rc->keep & B(id)) && !kept)
			ok = false;
		if (!kept && why[i] != CR_EVICT_NETWORK && why[i] != CR_EVICT_UPTIME)
			ok = false;
	}
	return ok && remained == rc->n - rc->n / 2;
}

static void test_ratio_core_cases(void)
{
	for (size_t k = 0; k < sizeof ratio_cases / sizeof ratio_cases[0]; k++)
		for (int rep = 0; rep < 20; rep++) {
			bool ok = run_ratio_case(&ratio_cases[k]);
			if (!ok)
				fprintf(stderr, "ratio case %zu failed (rep %d)\n", k, rep);
			CHECK(ok);
		}
}

/* The network share's reason is "network", the rest "uptime". */
static void test_ratio_reasons(void)
{
	cand c[16];
	uint8_t why[16];
	random_cands(c, 16);
	for (unsigned i = 0; i < 16; i++) {
		c[i].connected_us = i;
		c[i].is_local = false;
		c[i].network = i >= 12 ? CR_NETCLASS_ONION : V4;
	}
	memset(why, CR_EVICT_REMAINED, sizeof why);
	void *scratch = malloc(cr_evict_scratch_size(16));
	cr_evict_protect_by_ratio(why, c, 16, scratch);
	free(scratch);
	/* 8 protected: 4 onion (the oldest onion 12..15 by network), 4 by uptime */
	for (unsigned i = 0; i < 16; i++) {
		uint8_t want = i >= 12 ? CR_EVICT_NETWORK : i < 4 ? CR_EVICT_UPTIME : CR_EVICT_REMAINED;
		CHECK_EQ(why[i], want);
	}
}

/* ---- Core's peer_eviction_test ---- */

enum { SET_NETGROUP = 1, SET_PING = 2, SET_TX = 4, SET_BLOCK = 8, SET_BLOCK_RELAY = 16 };

/* Random candidates with Core's setup functions applied; true when one of
 * the ids in `spared` (a bitmask of ids < 64) is chosen. */
static bool evicts_any(size_t n, unsigned setup, uint64_t spared)
{
	cand *c = calloc(n + 1, sizeof *c);
	random_cands(c, n);
	for (size_t i = 0; i < n; i++) {
		if (setup & SET_NETGROUP)
			c[i].keyed_netgroup = n - i;
		if (setup & SET_PING)
			c[i].min_ping_us = (int64_t)i;
		if (setup & SET_TX)
			c[i].last_tx_us = (int64_t)(n - i);
		if (setup & SET_BLOCK)
			c[i].last_block_us = (int64_t)(n - i);
		if ((setup & SET_BLOCK_RELAY) && i <= 7) {
			c[i].relay_txs = false;
			c[i].relevant_services = true;
		}
	}
	shuffle(c, n);
	uint64_t v = evict(c, n, NULL, NULL);
	free(c);
	return v != UINT64_MAX && v < 64 && (spared & (1ull << v));
}

static void test_eviction_core_cases(void)
{
	for (size_t n = 0; n < 200; n++) {
		CHECK(!evicts_any(n, SET_NETGROUP, 0xf));
		CHECK(!evicts_any(n, SET_PING, 0xff));
		CHECK(!evicts_any(n, SET_TX, 0xf));
		CHECK(!evicts_any(n, SET_BLOCK | SET_BLOCK_RELAY, 0xff));
		CHECK(!evicts_any(n, SET_BLOCK, 0xf));
		CHECK(!evicts_any(n, SET_BLOCK | SET_BLOCK_RELAY, 0xfff));
		CHECK(!evicts_any(n, SET_NETGROUP | SET_PING | SET_TX | SET_BLOCK, 0xfffff));
		cand *c = calloc(n + 1, sizeof *c);
		random_cands(c, n);
		uint64_t v = evict(c, n, NULL, NULL);
		if (n > CR_EVICT_ALWAYS_ABOVE)
			CHECK(v != UINT64_MAX);
		if (n <= CR_EVICT_NEVER_UPTO)
			CHECK(v == UINT64_MAX);
		free(c);
	}
}

/* ---- what Core leaves untested ---- */

/* 60 peers in 30 netgroups of two plus one group of ten newcomers: the
 * group of ten loses its youngest member. */
static void test_largest_group_youngest(void)
{
	cand c[70];
	memset(c, 0, sizeof c);
	for (unsigned i = 0; i < 70; i++) {
		c[i].id = 1000 + i;
		c[i].inbound = true;
		c[i].network = V4;
		c[i].min_ping_us = INT64_MAX;
		c[i].connected_us = 1000000 + i * 1000;
		c[i].keyed_netgroup = i < 60 ? 1 + i / 2 : 777; /* below 777: not protected by group */
		c[i].relay_txs = true;
	}
	/* the attacker's group has the highest keyed value: 4 of it are
	 * protected, 6 remain and are still the largest group */
	uint8_t why[70];
	uint32_t counts[CR_EVICT_WHY_MAX];
	uint64_t v = evict(c, 70, why, counts);
	CHECK_EQ(v, 1069);
	CHECK_EQ(counts[CR_EVICT_VICTIM], 1);
	CHECK_EQ(counts[CR_EVICT_NETGROUP], 4);
	unsigned sum = 0;
	for (int k = 0; k < CR_EVICT_WHY_MAX; k++)
		sum += counts[k];
	CHECK_EQ(sum, 70);
	/* two groups of equal size: the one whose youngest is younger */
	memset(c, 0, sizeof c);
	for (unsigned i = 0; i < 70; i++) {
		c[i].id = i;
		c[i].inbound = true;
		c[i].min_ping_us = INT64_MAX;
		c[i].connected_us = i;
		c[i].keyed_netgroup = 100 + i; /* all distinct... */
	}
	for (unsigned i = 40; i < 70; i += 2)
		c[i].keyed_netgroup = 5;  /* 15 of group 5 */
	for (unsigned i = 41; i < 70; i += 2)
		c[i].keyed_netgroup = 6;  /* 15 of group 6, its youngest (69) younger */
	c[45].keyed_netgroup = 50;   /* 45..69 remain: 12 of each group */
	v = evict(c, 70, NULL, NULL);
	CHECK_EQ(v, 69);
}

/* Prefer-evict peers go first, but only among those left unprotected. */
static void test_prefer_evict(void)
{
	cand c[100];
	memset(c, 0, sizeof c);
	for (unsigned i = 0; i < 100; i++) {
		c[i].id = i;
		c[i].inbound = true;
		c[i].min_ping_us = 1000 + i;
		c[i].connected_us = i;
		c[i].keyed_netgroup = i < 50 ? 2 : 1; /* the young ones share group 1 */
	}
	c[30].prefer_evict = true; /* old: protected by uptime */
	c[5].prefer_evict = true;  /* low ping: protected */
	c[80].prefer_evict = true; /* young and unprotected */
	uint8_t why[100];
	CHECK_EQ(evict(c, 100, why, NULL), 80);
	CHECK_EQ(why[2], CR_EVICT_NETGROUP);
	CHECK_EQ(why[5], CR_EVICT_PING);
	CHECK_EQ(why[30], CR_EVICT_UPTIME);
	CHECK_EQ(why[99], CR_EVICT_NOT_PREFERRED);
	/* none preferred: the youngest of the largest group */
	c[80].prefer_evict = false;
	CHECK_EQ(evict(c, 100, why, NULL), 99);
	CHECK_EQ(why[80], CR_EVICT_REMAINED);
}

/* Outbound and noban peers are never candidates, however bad they look. */
static void test_outbound_noban_never(void)
{
	cand c[200];
	random_cands(c, 200);
	for (unsigned i = 0; i < 200; i++) {
		c[i].keyed_netgroup = 42;
		c[i].prefer_evict = i < 100;
		c[i].inbound = i >= 50;
		c[i].noban = i >= 50 && i < 100;
	}
	/* all outbound/noban ones are the preferred-to-evict: none chosen */
	uint8_t why[200];
	uint32_t counts[CR_EVICT_WHY_MAX];
	uint64_t v = evict(c, 200, why, counts);
	CHECK(v != UINT64_MAX && v >= 100);
	CHECK_EQ(counts[CR_EVICT_OUTBOUND], 50);
	CHECK_EQ(counts[CR_EVICT_NOBAN], 50);
	for (unsigned i = 0; i < 200; i++)
		c[i].inbound = false;
	CHECK_EQ(evict(c, 200, NULL, NULL), UINT64_MAX);
}

/* ---- a plain transcription of Core's algorithm, as the reference ---- */

/* Core's comparators as "a sorts before b", with the id deciding ties (a
 * higher id sorts first: it is treated as younger and less deserving). */
static int by_id(const cand *a, const cand *b)
{
	return a->id > b->id ? -1 : a->id < b->id;
}

static int ref_netgroup(const void *x, const void *y)
{
	const cand *a = x, *b = y;
	if (a->keyed_netgroup != b->keyed_netgroup)
		return a->keyed_netgroup < b->keyed_netgroup ? -1 : 1;
	return by_id(a, b);
}

static int ref_ping(const void *x, const void *y)
{
	const cand *a = x, *b = y;
	if (a->min_ping_us != b->min_ping_us)
		return a->min_ping_us > b->min_ping_us ? -1 : 1;
	return by_id(a, b);
}

static int ref_connected(const void *x, const void *y)
{
	const cand *a = x, *b = y;
	if (a->connected_us != b->connected_us)
		return a->connected_us > b->connected_us ? -1 : 1;
	return by_id(a, b);
}

static int ref_tx(const void *x, const void *y)
{
	const cand *a = x, *b = y;
	if (a->last_tx_us != b->last_tx_us)
		return a->last_tx_us < b->last_tx_us ? -1 : 1;
	if (a->relay_txs != b->relay_txs)
		return b->relay_txs ? -1 : 1;
	if (a->bloom_filter != b->bloom_filter)
		return a->bloom_filter ? -1 : 1;
	return ref_connected(a, b);
}

static int ref_block(const void *x, const void *y)
{
	const cand *a = x, *b = y;
	if (a->last_block_us != b->last_block_us)
		return a->last_block_us < b->last_block_us ? -1 : 1;
	if (a->relevant_services != b->relevant_services)
		return b->relevant_services ? -1 : 1;
	return ref_connected(a, b);
}

static int ref_block_relay(const void *x, const void *y)
{
	const cand *a = x, *b = y;
	if (a->relay_txs != b->relay_txs)
		return a->relay_txs ? -1 : 1;
	return ref_block(a, b);
}

static struct { bool local; uint8_t net; } ref_net_cmp;

static bool ref_is_member(const cand *c)
{
	return ref_net_cmp.local ? c->is_local : c->network == ref_net_cmp.net;
}

static int ref_network_time(const void *x, const void *y)
{
	const cand *a = x, *b = y;
	if (ref_net_cmp.local && a->is_local != b->is_local)
		return b->is_local ? -1 : 1;
	if (!ref_net_cmp.local && (a->network == ref_net_cmp.net) != (b->network == ref_net_cmp.net))
		return b->network == ref_net_cmp.net ? -1 : 1;
	return ref_connected(a, b);
}

struct vec {
	cand *v;
	size_t n;
};

/* EraseLastKElements; erased ids get reason `why` in out (indexed by id). */
static void erase_last_k(struct vec *s, int (*cmp)(const void *, const void *), size_t k,
			 bool (*pred)(const cand *), uint8_t why, uint8_t *out)
{
	qsort(s->v, s->n, sizeof(cand), cmp);
	size_t from = s->n - (k < s->n ? k : s->n), w = from;
	for (size_t i = from; i < s->n; i++) {
		if (!pred || pred(&s->v[i]))
			out[s->v[i].id] = why;
		else
			s->v[w++] = s->v[i];
	}
	s->n = w;
}

static bool ref_block_relay_pred(const cand *c)
{
	return !c->relay_txs && c->relevant_services;
}

static void ref_ratio(struct vec *s, uint8_t *out)
{
	size_t total = s->n / 2;
	struct { bool local; uint8_t net; size_t count; } nets[4] = {
		{ false, CR_NETCLASS_CJDNS, 0 }, { false, CR_NETCLASS_I2P, 0 },
		{ true, 0, 0 }, { false, CR_NETCLASS_ONION, 0 },
	};
	for (int i = 0; i < 4; i++) {
		ref_net_cmp.local = nets[i].local;
		ref_net_cmp.net = nets[i].net;
		for (size_t j = 0; j < s->n; j++)
			nets[i].count += ref_is_member(&s->v[j]);
	}
	for (int i = 1; i < 4; i++)
		for (int j = i; j > 0 && nets[j].count < nets[j - 1].count; j--) {
			__typeof__(nets[0]) t = nets[j];
			nets[j] = nets[j - 1];
			nets[j - 1] = t;
		}
	size_t max_net = total / 2, done = 0;
	while (done < max_net) {
		size_t active = 0;
		for (int i = 0; i < 4; i++)
			active += nets[i].count > 0;
		if (!active)
			break;
		size_t each = (max_net - done) / active;
		if (each < 1)
			each = 1;
		bool any = false;
		for (int i = 0; i < 4; i++) {
			if (!nets[i].count)
				continue;
			ref_net_cmp.local = nets[i].local;
			ref_net_cmp.net = nets[i].net;
			size_t before = s->n;
			erase_last_k(s, ref_network_time, each, ref_is_member, CR_EVICT_NETWORK, out);
			if (before > s->n) {
				any = true;
				done += before - s->n;
				if (done >= max_net)
					break;
				nets[i].count -= before - s->n;
			}
		}
		if (!any)
			break;
	}
	erase_last_k(s, ref_connected, total - done, NULL, CR_EVICT_UPTIME, out);
}

/* Returns the victim id (UINT64_MAX: none); out[id] = reason. Ids must be
 * 0..n-1 here. */
static uint64_t ref_select(const cand *in, size_t n, uint8_t *out)
{
	struct vec s = { malloc((n + 1) * sizeof(cand)), 0 };
	for (size_t i = 0; i < n; i++) {
		out[in[i].id] = in[i].noban ? CR_EVICT_NOBAN
			      : !in[i].inbound ? CR_EVICT_OUTBOUND : CR_EVICT_REMAINED;
		if (out[in[i].id] == CR_EVICT_REMAINED)
			s.v[s.n++] = in[i];
	}
	erase_last_k(&s, ref_netgroup, 4, NULL, CR_EVICT_NETGROUP, out);
	erase_last_k(&s, ref_ping, 8, NULL, CR_EVICT_PING, out);
	erase_last_k(&s, ref_tx, 4, NULL, CR_EVICT_TX, out);
	erase_last_k(&s, ref_block_relay, 8, ref_block_relay_pred, CR_EVICT_BLOCK_RELAY, out);
	erase_last_k(&s, ref_block, 4, NULL, CR_EVICT_BLOCK, out);
	ref_ratio(&s, out);
	uint64_t victim = UINT64_MAX;
	if (s.n) {
		qsort(s.v, s.n, sizeof(cand), ref_connected); /* youngest first */
		bool prefer = false;
		for (size_t i = 0; i < s.n; i++)
			prefer |= s.v[i].prefer_evict;
		if (prefer) {
			size_t w = 0;
			for (size_t i = 0; i < s.n; i++) {
				if (s.v[i].prefer_evict)
					s.v[w++] = s.v[i];
				else
					out[s.v[i].id] = CR_EVICT_NOT_PREFERRED;
			}
			s.n = w;
		}
		/* Core's scan: a group replaces the best when it grows past it, or
		 * equals it with a younger first member (ties: the later-sorting
		 * first member, as the total order says) */
		size_t *size = calloc(s.n, sizeof *size);
		size_t best_size = 0, best_first = 0;
		for (size_t i = 0; i < s.n; i++) {
			size_t first = i;
			for (size_t j = 0; j < i; j++)
				if (s.v[j].keyed_netgroup == s.v[i].keyed_netgroup) {
					first = j;
					break;
				}
			size[first]++;
			if (size[first] > best_size ||
			    (size[first] == best_size && ref_connected(&s.v[first], &s.v[best_first]) < 0)) {
				best_size = size[first];
				best_first = first;
			}
		}
		victim = s.v[best_first].id;
		out[victim] = CR_EVICT_VICTIM;
		free(size);
	}
	free(s.v);
	return victim;
}

/* Random snapshots of several shapes: the fast choice equals the
 * reference, reason by reason, under any order of the array. */
static void test_reference(void)
{
	static const size_t sizes[] = { 0, 1, 5, 20, 21, 28, 29, 30, 40, 64, 100, 125, 200, 517, 2000 };
	for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
		size_t n = sizes[si];
		for (int rep = 0; rep < (n > 500 ? 4 : 40); rep++) {
			cand *c = calloc(n + 1, sizeof *c);
			random_cands(c, n);
			int shape = rep % 4;
			for (size_t i = 0; i < n; i++) {
				if (shape >= 1) { /* a few outbound and noban, microsecond times */
					c[i].inbound = below(10) != 0;
					c[i].noban = below(20) == 0;
					c[i].connected_us = (int64_t)below(1000000);
				}
				if (shape == 2) { /* one big attacking group */
					if (below(3) == 0)
						c[i].keyed_netgroup = 7;
					c[i].prefer_evict = below(10) == 0;
				}
				if (shape == 3) /* distinct netgroups, like honest peers */
					c[i].keyed_netgroup = check_rand(&rnd);
			}
			uint8_t *want = malloc(n + 1), *got = malloc(n + 1), *byid = malloc(n + 1);
			uint64_t rv = ref_select(c, n, want);
			for (int order = 0; order < 3; order++) {
				shuffle(c, n);
				uint64_t v = evict(c, n, got, NULL);
				CHECK_EQ(v, rv);
				for (size_t i = 0; i < n; i++)
					byid[c[i].id] = got[i];
				bool same = memcmp(byid, want, n) == 0;
				if (!same)
					fprintf(stderr, "reference mismatch: n=%zu shape=%d rep=%d\n", n, shape, rep);
				CHECK(same);
				/* never a protected, outbound or noban one */
				if (v != UINT64_MAX) {
					const cand *vc = NULL;
					for (size_t i = 0; i < n; i++)
						if (c[i].id == v)
							vc = &c[i];
					CHECK(vc && vc->inbound && !vc->noban && byid[v] == CR_EVICT_VICTIM);
				}
			}
			free(want);
			free(got);
			free(byid);
			free(c);
		}
	}
}

static void test_names(void)
{
	CHECK(strcmp(cr_evict_why_str(CR_EVICT_NETGROUP), "netgroup") == 0);
	CHECK(strcmp(cr_evict_why_str(CR_EVICT_UPTIME), "uptime") == 0);
	CHECK(strcmp(cr_evict_why_str(CR_EVICT_WHY_MAX), "?") == 0);
	for (int k = 0; k < CR_EVICT_WHY_MAX; k++)
		CHECK(cr_evict_why_str((enum cr_evict_why)k) != NULL);
}

int main(int argc, char **argv)
{
	rnd = check_seed(argc, argv);
	RUN(test_ratio_core_cases);
	RUN(test_ratio_reasons);
	RUN(test_eviction_core_cases);
	RUN(test_largest_group_youngest);
	RUN(test_prefer_evict);
	RUN(test_outbound_noban_never);
	RUN(test_reference);
	RUN(test_names);
	return check_done();
}
