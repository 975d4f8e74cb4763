/* Address manager scenarios after Bitcoin Core's addrman tests: spreads of
 * the keyed placement, add/good/select, collisions and test-before-evict,
 * terrible entries, getaddr limits, network filters. Every operation is
 * followed by the full consistency check. White-box where Core's tests are
 * (bucket functions come from addrman_impl.h). */
#include <errno.h>

#include "addr/addrman_impl.h"
#include "addr/asmap.h"
#include "asmap_build.h"
#include "check.h"
#include "addrman_util.h"

#define NOW 1700000000
#define CHECK_AM(am) CHECK_EQ(cr_addrman_check((am), CR_ADDRMAN_CHECK_FULL), 0)

static struct cr_rng rng;

static struct cr_addrman *fresh(void)
{
	struct cr_addrman *am = cr_addrman_new(am_test_key, NULL, 0);
	CHECK(am != NULL);
	cr_rng_seed(&rng, 42);
	return am;
}

static bool add1(struct cr_addrman *am, struct cr_netaddr a, uint16_t port,
		 struct cr_netaddr src, int64_t t)
{
	struct cr_peeraddr p = am_pa(a, port, t);
	size_t n = cr_addrman_add(am, &p, 1, &src, 0, NOW, &rng);
	CHECK_AM(am);
	return n == 1;
}

static void fake(struct cr_am_entry *e, struct cr_netaddr a, uint16_t port)
{
	memset(e, 0, sizeof(*e));
	e->addr = a;
	e->port = port;
	e->group_len = (uint8_t)cr_netgroup(e->group, &a, NULL, 0);
}

static unsigned count_set(const bool *set, unsigned n)
{
	unsigned c = 0;
	for (unsigned i = 0; i < n; i++)
		c += set[i];
	return c;
}

static void test_spread_tried_group(void)
{
	struct cr_addrman *am = fresh();
	struct cr_am_entry e;
	bool same[CR_ADDRMAN_TRIED_BUCKETS] = {0}, diff[CR_ADDRMAN_TRIED_BUCKETS] = {0};
	for (unsigned i = 0; i < 255; i++) {
		fake(&e, am_ip4(250, 1, 1, i), 8333); /* one /16 */
		same[cr_am_tried_bucket(am, &e)] = true;
		fake(&e, am_ip4(250, i, 1, 1), 8333); /* 255 /16s */
		diff[cr_am_tried_bucket(am, &e)] = true;
	}
	/* A group reaches at most 8 buckets (two of its 8 slots may share one). */
	CHECK(count_set(same, CR_ADDRMAN_TRIED_BUCKETS) <= CR_ADDRMAN_TRIED_BUCKETS_PER_GROUP);
	CHECK(count_set(same, CR_ADDRMAN_TRIED_BUCKETS) >= 6);
	CHECK(count_set(diff, CR_ADDRMAN_TRIED_BUCKETS) > 100);
	cr_addrman_free(am);
}

static void test_spread_new_source_group(void)
{
	struct cr_addrman *am = fresh();
	struct cr_am_entry e;
	uint8_t sg[CR_NETGROUP_MAX];
	struct cr_netaddr src = am_ip4(251, 4, 1, 1);
	size_t sg_len = cr_netgroup(sg, &src, NULL, 0);
	static bool same[CR_ADDRMAN_NEW_BUCKETS], diff[CR_ADDRMAN_NEW_BUCKETS];
	memset(same, 0, sizeof(same));
	memset(diff, 0, sizeof(diff));
	for (unsigned i = 0; i < 4 * 255; i++) {
		fake(&e, am_ip4(100 + i / 255, i % 255, 1, 1), 8333); /* 1020 groups */
		same[cr_am_new_bucket(am, &e, sg, sg_len)] = true;
	}
	CHECK(count_set(same, CR_ADDRMAN_NEW_BUCKETS) <= CR_ADDRMAN_NEW_BUCKETS_PER_SOURCE_GROUP);
	CHECK(count_set(same, CR_ADDRMAN_NEW_BUCKETS) >= 56);
	for (unsigned i = 0; i < 255; i++) {
		struct cr_netaddr s = am_ip4(251, i, 1, 1);
		size_t l = cr_netgroup(sg, &s, NULL, 0);
		fake(&e, am_ip4(250, 1, 1, 1), 8333);
		diff[cr_am_new_bucket(am, &e, sg, l)] = true;
	}
	CHECK(count_set(diff, CR_ADDRMAN_NEW_BUCKETS) > CR_ADDRMAN_NEW_BUCKETS_PER_SOURCE_GROUP);
	/* Position depends on the bucket, and new/tried positions differ. */
	fake(&e, am_ip4(250, 1, 1, 1), 8333);
	bool differs = false;
	for (unsigned b = 0; b < 64; b++)
		differs |= cr_am_position(am, &e, true, b) != cr_am_position(am, &e, true, b + 1);
	CHECK(differs);
	cr_addrman_free(am);
}

/* The same address told by ever more source groups takes at most 8 slots. */
static void test_address_max_8_new_buckets(void)
{
	struct cr_addrman *am = fresh();
	struct cr_netaddr a = am_ip4(250, 7, 7, 7);
	struct cr_addrman_info info;
	for (unsigned i = 0; i < 4000; i++) {
		struct cr_netaddr src = am_ip4(20 + (i >> 8), i & 255, 1, 1);
		struct cr_peeraddr p = am_pa(a, 8333, NOW - 86000 + i);
		cr_addrman_add(am, &p, 1, &src, 0, NOW, &rng);
		if (i % 97 == 0)
			CHECK_AM(am);
		CHECK_EQ(cr_addrman_find(am, &a, 8333, &info), 0);
		CHECK(info.ref_count >= 1 && info.ref_count <= CR_ADDRMAN_NEW_BUCKETS_PER_ADDRESS);
	}
	CHECK_AM(am);
	/* 4000 tries reach the cap: the 8th slot needs about 2^7 of them. */
	CHECK_EQ(info.ref_count, CR_ADDRMAN_NEW_BUCKETS_PER_ADDRESS);
	CHECK_EQ(cr_addrman_size(am, 0, CR_ADDRMAN_ANY), 1);
	cr_addrman_free(am);
}

static void test_add_simple(void)
{
	struct cr_addrman *am = fresh();
	struct cr_peeraddr out;
	struct cr_netaddr src = am_ip4(252, 2, 2, 2);
	CHECK_EQ(cr_addrman_select(am, &out, NULL, false, 0, NOW, &rng), -ENOENT);
	CHECK(add1(am, am_ip4(250, 1, 1, 1), 8333, src, NOW - 100));
	CHECK_EQ(cr_addrman_size(am, 0, CR_ADDRMAN_ANY), 1);
	CHECK_EQ(cr_addrman_select(am, &out, NULL, false, 0, NOW, &rng), 0);
	CHECK_EQ(out.port, 8333);
	CHECK_MEM(out.na.addr, "\xfa\x01\x01\x01", 4);
	/* The same address again: nothing new. */
	CHECK(!add1(am, am_ip4(250, 1, 1, 1), 8333, src, NOW - 100));
	CHECK_EQ(cr_addrman_size(am, 0, CR_ADDRMAN_ANY), 1);
	/* Same IP, other port: another entry (Core since v23). */
	CHECK(add1(am, am_ip4(250, 1, 1, 1), 8334, src, NOW - 100));
	CHECK_EQ(cr_addrman_size(am, 0, CR_ADDRMAN_ANY), 2);
	/* Unroutable addresses are refused. */
	CHECK(!add1(am, am_ip4(127, 0, 0, 1), 8333, src, NOW - 100));
	CHECK(!add1(am, am_ip4(10, 0, 0, 1), 8333, src, NOW - 100));
	CHECK_EQ(cr_addrman_size(am, 0, CR_ADDRMAN_ANY), 2);
	cr_addrman_free(am);
}

static void test_time_penalty(void)
{
	struct cr_addrman *am = fresh();
	struct cr_addrman_info info;
	struct cr_netaddr src = am_ip4(252, 2, 2, 2), a = am_ip4(250, 1, 1, 1);
	struct cr_peeraddr p = am_pa(a, 8333, NOW - 100);
	CHECK_EQ(cr_addrman_add(am, &p, 1, &src, 7200, NOW, &rng), 1);
	CHECK_EQ(cr_addrman_find(am, &a, 8333, &info), 0);
	CHECK_EQ(info.addr.time, NOW - 100 - 7200);
	/* A peer announcing itself gets no penalty. */
	struct cr_netaddr b = am_ip4(250, 2, 1, 1);
	p = am_pa(b, 8333, NOW - 100);
	CHECK_EQ(cr_addrman_add(am, &p, 1, &b, 7200, NOW, &rng), 1);
	CHECK_EQ(cr_addrman_find(am, &b, 8333, &info), 0);
	CHECK_EQ(info.addr.time, NOW - 100);
	CHECK_AM(am);
	cr_addrman_free(am);
}

static void test_select_tried_and_new_only(void)
{
	struct cr_addrman *am = fresh();
	struct cr_peeraddr out;
	struct cr_netaddr src = am_ip4(252, 2, 2, 2), a = am_ip4(250, 3, 1, 1);
	CHECK(add1(am, a, 8333, src, NOW - 100));
	CHECK(cr_addrman_good(am, &a, 8333, true, NOW));
	CHECK_AM(am);
	CHECK_EQ(cr_addrman_size(am, 0, CR_ADDRMAN_IN_TRIED), 1);
	CHECK_EQ(cr_addrman_size(am, 0, CR_ADDRMAN_IN_NEW), 0);
	/* Only tried entries: new_only finds nothing, plain select finds it. */
	CHECK_EQ(cr_addrman_select(am, &out, NULL, true, 0, NOW, &rng), -ENOENT);
	CHECK_EQ(cr_addrman_select(am, &out, NULL, false, 0, NOW, &rng), 0);
	CHECK_MEM(out.na.addr, a.addr, 4);
	/* Good again on a tried entry changes nothing. */
	CHECK(!cr_addrman_good(am, &a, 8333, true, NOW + 10));
	/* Unknown address: no effect. */
	struct cr_netaddr z = am_ip4(250, 9, 9, 9);
	CHECK(!cr_addrman_good(am, &z, 8333, true, NOW));
	for (unsigned i = 0; i < 20; i++)
		CHECK(add1(am, am_ip4(250, 10 + i, 1, 1), 8333, src, NOW - 100));
	int tried_seen = 0, new_seen = 0;
	for (unsigned i = 0; i < 400; i++) {
		CHECK_EQ(cr_addrman_select(am, &out, NULL, true, 0, NOW + 1000, &rng), 0);
		CHECK(!(out.na.addr[1] == 3)); /* never the tried one */
		CHECK_EQ(cr_addrman_select(am, &out, NULL, false, 0, NOW + 1000, &rng), 0);
		if (out.na.addr[1] == 3)
			tried_seen++;
		else
			new_seen++;
	}
	/* 50% tried/new: the lone tried entry comes back about half the time. */
	CHECK(tried_seen > 120 && new_seen > 120);
	cr_addrman_free(am);
}

static void test_select_network_filter(void)
{
	struct cr_addrman *am = fresh();
	struct cr_peeraddr out;
	struct cr_netaddr src = am_ip4(252, 2, 2, 2);
	for (unsigned i = 0; i < 10; i++) {
		CHECK(add1(am, am_ip4(250, 20 + i, 1, 1), 8333, src, NOW - 100));
		CHECK(add1(am, am_tor(i), 0, src, NOW - 100));
	}
	struct cr_netaddr v6 = am_ip6(7, 1);
	CHECK(add1(am, v6, 8333, src, NOW - 100));
	CHECK_EQ(cr_addrman_size(am, CR_ADDRMAN_NET(CR_NET_TORV3), CR_ADDRMAN_ANY), 10);
	CHECK_EQ(cr_addrman_size(am, CR_ADDRMAN_NET(CR_NET_IPV6), CR_ADDRMAN_IN_NEW), 1);
	for (unsigned i = 0; i < 50; i++) {
		CHECK_EQ(cr_addrman_select(am, &out, NULL, false, CR_ADDRMAN_NET(CR_NET_TORV3),
					   NOW, &rng), 0);
		CHECK_EQ(out.na.net, CR_NET_TORV3);
		CHECK_EQ(cr_addrman_select(am, &out, NULL, i & 1, CR_ADDRMAN_NET(CR_NET_IPV6),
					   NOW, &rng), 0);
		CHECK_MEM(out.na.addr, v6.addr, 16);
	}
	CHECK_EQ(cr_addrman_select(am, &out, NULL, false, CR_ADDRMAN_NET(CR_NET_I2P), NOW, &rng),
		 -ENOENT);
	/* Tried IPv6 only: new_only with the IPv6 filter finds nothing. */
	CHECK(cr_addrman_good(am, &v6, 8333, true, NOW));
	CHECK_EQ(cr_addrman_select(am, &out, NULL, true, CR_ADDRMAN_NET(CR_NET_IPV6), NOW, &rng),
		 -ENOENT);
	CHECK_EQ(cr_addrman_select(am, &out, NULL, false, CR_ADDRMAN_NET(CR_NET_IPV6), NOW, &rng),
		 0);
	CHECK_AM(am);
	cr_addrman_free(am);
}

/* Counted failures need a success somewhere in between (Core's rule). */
static void fail_attempts(struct cr_addrman *am, struct cr_netaddr a, unsigned n, int64_t now)
{
	struct cr_netaddr other = am_ip4(250, 99, 1, 1);
	for (unsigned i = 0; i < n; i++) {
		cr_addrman_attempt(am, &a, 8333, true, now + 2 * i);
		cr_addrman_good(am, &other, 8333, true, now + 2 * i + 1);
		CHECK_AM(am);
	}
}

static void test_terrible(void)
{
	struct cr_addrman *am = fresh();
	struct cr_netaddr src = am_ip4(252, 2, 2, 2);
	struct cr_netaddr fut = am_ip4(250, 40, 1, 1), old = am_ip4(250, 41, 1, 1),
			  fresh_a = am_ip4(250, 42, 1, 1), r3 = am_ip4(250, 43, 1, 1),
			  f10 = am_ip4(250, 44, 1, 1);
	CHECK(add1(am, am_ip4(250, 99, 1, 1), 8333, src, NOW));
	CHECK(add1(am, fut, 8333, src, NOW + 11 * 60));
	CHECK(add1(am, old, 8333, src, NOW - CR_ADDRMAN_HORIZON_S - 1));
	CHECK(add1(am, fresh_a, 8333, src, NOW - 100));
	CHECK(add1(am, r3, 8333, src, NOW - 100));
	CHECK(add1(am, f10, 8333, src, NOW - 100));
	CHECK(cr_addrman_is_terrible(am, &fut, 8333, NOW));
	CHECK(!cr_addrman_is_terrible(am, &fut, 8333, NOW + 60)); /* only 10 min ahead now */
	CHECK(cr_addrman_is_terrible(am, &old, 8333, NOW));
	CHECK(!cr_addrman_is_terrible(am, &fresh_a, 8333, NOW));
	/* 3 counted failures, never a success: terrible (2 are not). */
	fail_attempts(am, r3, 2, NOW);
	CHECK(!cr_addrman_is_terrible(am, &r3, 8333, NOW + 120));
	fail_attempts(am, r3, 1, NOW);
	CHECK(cr_addrman_is_terrible(am, &r3, 8333, NOW + 120));
	/* ... but not within a minute of the last try. */
	CHECK(!cr_addrman_is_terrible(am, &r3, 8333, NOW + 60));
	/* Uncounted attempts do not count. */
	cr_addrman_attempt(am, &fresh_a, 8333, false, NOW);
	cr_addrman_attempt(am, &fresh_a, 8333, false, NOW);
	cr_addrman_attempt(am, &fresh_a, 8333, false, NOW);
	CHECK(!cr_addrman_is_terrible(am, &fresh_a, 8333, NOW + 120));
	/* Without a success in between, failures count once. */
	cr_addrman_attempt(am, &fresh_a, 8333, true, NOW + 10);
	cr_addrman_attempt(am, &fresh_a, 8333, true, NOW + 11);
	cr_addrman_attempt(am, &fresh_a, 8333, true, NOW + 12);
	struct cr_addrman_info info;
	CHECK_EQ(cr_addrman_find(am, &fresh_a, 8333, &info), 0);
	CHECK_EQ(info.attempts, 1);
	/* 10 failures and the last success over 7 days ago: terrible. */
	int64_t t0 = NOW - 8 * 86400;
	cr_addrman_good(am, &f10, 8333, false, t0);
	/* It is tried now; keep its gossip time fresh. */
	cr_addrman_connected(am, &f10, 8333, NOW);
	fail_attempts(am, f10, 9, NOW);
	CHECK(!cr_addrman_is_terrible(am, &f10, 8333, NOW + 120));
	fail_attempts(am, f10, 1, NOW);
	CHECK(cr_addrman_is_terrible(am, &f10, 8333, NOW + 120));
	/* ... not when the success was within 7 days. */
	CHECK(!cr_addrman_is_terrible(am, &f10, 8333, t0 + 7 * 86400));

	/* Select and getaddr never return a terrible entry. */
	struct cr_peeraddr out, many[16];
	for (unsigned i = 0; i < 500; i++) {
		CHECK_EQ(cr_addrman_select(am, &out, NULL, i & 1, 0, NOW + 120, &rng), 0);
		CHECK(!cr_addrman_is_terrible(am, &out.na, out.port, NOW + 120));
	}
	size_t n = cr_addrman_get_addr(am, many, 16, 0, 0, NOW + 120, &rng);
	CHECK_EQ(n, 3); /* 250.99, fresh_a, and fut (now only 9 min ahead) */
	for (size_t i = 0; i < n; i++)
		CHECK(!cr_addrman_is_terrible(am, &many[i].na, many[i].port, NOW + 120));
	CHECK_AM(am);
	/* Everything terrible: select says so instead of looping. */
	CHECK_EQ(cr_addrman_select(am, &out, NULL, false, 0, NOW + 365 * 86400, &rng), -ENOENT);
	CHECK_EQ(cr_addrman_get_addr(am, many, 16, 0, 0, NOW + 365 * 86400, &rng), 0);
	cr_addrman_free(am);
}

/* A terrible entry's new slot is taken by the next address that wants it. */
static void test_terrible_overwritten(void)
{
	struct cr_addrman *am = fresh();
	struct cr_netaddr src = am_ip4(252, 2, 2, 2);
	/* One address group, one source group: one new bucket of 64 slots. */
	for (unsigned i = 0; i < 300; i++) {
		struct cr_peeraddr p = am_pa(am_ip4(250, 50, 1, i), 8333, NOW - 100);
		cr_addrman_add(am, &p, 1, &src, 0, NOW, &rng);
	}
	CHECK_AM(am);
	size_t before = cr_addrman_size(am, 0, CR_ADDRMAN_ANY);
	CHECK(before > 32 && before <= 64);
	/* A month later they are all terrible: fresh addresses displace them. */
	int64_t later = NOW + CR_ADDRMAN_HORIZON_S + 3600;
	for (unsigned i = 0; i < 300; i++) {
		struct cr_peeraddr p = am_pa(am_ip4(250, 50, 2, i), 8333, later - 10);
		cr_addrman_add(am, &p, 1, &src, 0, later, &rng);
	}
	CHECK_AM(am);
	size_t old_left = 0;
	for (unsigned i = 0; i < 300; i++) {
		struct cr_netaddr a = am_ip4(250, 50, 1, i);
		struct cr_addrman_info info;
		old_left += cr_addrman_find(am, &a, 8333, &info) == 0;
	}
	CHECK(old_left < before / 4);
	CHECK(cr_addrman_size(am, 0, CR_ADDRMAN_ANY) > before / 2);
	struct cr_peeraddr out;
	for (unsigned i = 0; i < 200; i++) {
		CHECK_EQ(cr_addrman_select(am, &out, NULL, false, 0, later, &rng), 0);
		CHECK_EQ(out.na.addr[2], 2);
	}
	cr_addrman_free(am);
}

static void test_getaddr_limits(void)
{
	struct cr_addrman *am = fresh();
	static struct cr_peeraddr out[CR_ADDRMAN_GETADDR_MAX + 1];
	struct cr_peeraddr *all = calloc(5000, sizeof(*all));
	CHECK_EQ(cr_addrman_get_addr(am, out, CR_ADDRMAN_GETADDR_MAX, CR_ADDRMAN_GETADDR_PCT, 0,
				     NOW, &rng), 0);
	size_t n = 0;
	for (unsigned i = 0; n < 2000; i++) {
		struct cr_netaddr src = am_ip4(20 + i % 200, i / 200, 1, 1);
		struct cr_peeraddr p = am_pa(am_ip4(100 + i % 100, i / 100, 3, 3), 8333, NOW - 50);
		n += cr_addrman_add(am, &p, 1, &src, 0, NOW, &rng);
	}
	CHECK_AM(am);
	CHECK_EQ(cr_addrman_size(am, 0, CR_ADDRMAN_ANY), 2000);
	/* 23% of 2000 = 460 (below 1000). */
	size_t got = cr_addrman_get_addr(am, out, CR_ADDRMAN_GETADDR_MAX, CR_ADDRMAN_GETADDR_PCT,
					 0, NOW, &rng);
	CHECK_EQ(got, 460);
	CHECK_AM(am);
	/* No address twice. */
	bool dup = false;
	for (size_t i = 0; i < got; i++)
		for (size_t j = 0; j < i; j++)
			dup |= memcmp(&out[i].na, &out[j].na, sizeof(out[i].na)) == 0;
	CHECK(!dup);
	for (unsigned i = 0; n < 5000; i++) {
		struct cr_netaddr src = am_ip4(20 + i % 200, 50 + i / 200, 1, 1);
		struct cr_peeraddr p = am_pa(am_ip4(100 + i % 100, i / 100, 4, 4), 8333, NOW - 50);
		n += cr_addrman_add(am, &p, 1, &src, 0, NOW, &rng);
	}
	CHECK_AM(am);
	/* 23% of 5000 = 1150: capped at 1000. */
	CHECK_EQ(cr_addrman_get_addr(am, out, CR_ADDRMAN_GETADDR_MAX, CR_ADDRMAN_GETADDR_PCT, 0,
				     NOW, &rng), 1000);
	/* No limits: everything. */
	CHECK_EQ(cr_addrman_get_addr(am, all, 0, 0, 0, NOW, &rng), 5000);
	CHECK_EQ(cr_addrman_get_addr(am, all, 5000, 100, 0, NOW, &rng), 5000);
	CHECK_EQ(cr_addrman_get_addr(am, all, 1, 0, 0, NOW, &rng), 1);
	/* Network filter. */
	CHECK_EQ(cr_addrman_get_addr(am, out, 1000, 23, CR_ADDRMAN_NET(CR_NET_IPV6), NOW, &rng), 0);
	CHECK_AM(am);
	free(all);
	cr_addrman_free(am);
}

/* Fills tried until a Good collides; returns the colliding new address. */
static bool make_collision(struct cr_addrman *am, struct cr_netaddr *newcomer,
			   struct cr_netaddr *occupant, int64_t t)
{
	struct cr_netaddr src = am_ip4(252, 2, 2, 2);
	for (unsigned i = 1; i < 4000; i++) {
		struct cr_netaddr a = am_ip4(250, 60, i >> 8, i & 255); /* one group: 512 cells */
		if (!add1(am, a, 8333, src, t - 100))
			continue;
		if (!cr_addrman_good(am, &a, 8333, true, t)) {
			CHECK_AM(am);
			*newcomer = a;
			struct cr_peeraddr o;
			CHECK_EQ(cr_addrman_select_tried_collision(am, &o, NULL, &rng), 0);
			*occupant = o.na;
			return true;
		}
	}
	return false;
}

static void test_collision_queue(void)
{
	struct cr_addrman *am = fresh();
	struct cr_netaddr nw, old;
	struct cr_peeraddr out;
	CHECK_EQ(cr_addrman_select_tried_collision(am, &out, NULL, &rng), -ENOENT);
	CHECK(make_collision(am, &nw, &old, NOW));
	struct cr_addrman_info info;
	CHECK_EQ(cr_addrman_find(am, &nw, 8333, &info), 0);
	CHECK(!info.in_tried);
	CHECK_EQ(cr_addrman_find(am, &old, 8333, &info), 0);
	CHECK(info.in_tried);
	CHECK_EQ(am->n_coll, 1);
	/* More collisions, never more than 10 queued. */
	struct cr_netaddr src = am_ip4(252, 2, 2, 2);
	unsigned refused = 1;
	for (unsigned i = 1; i < 4000 && refused < 30; i++) {
		struct cr_netaddr a = am_ip4(250, 61, i >> 8, i & 255);
		if (add1(am, a, 8333, src, NOW - 100) && !cr_addrman_good(am, &a, 8333, true, NOW))
			refused++;
		CHECK(am->n_coll <= CR_ADDRMAN_COLLISIONS_MAX);
	}
	CHECK_EQ(refused, 30);
	CHECK_EQ(am->n_coll, CR_ADDRMAN_COLLISIONS_MAX);
	/* Without test-before-evict Good evicts at once. */
	for (unsigned k = 0; k < am->n_coll; k++) {
		const struct cr_am_entry *e = &am->ent[am->coll[k]];
		CHECK(!e->in_tried);
	}
	struct cr_netaddr q = am->ent[am->coll[0]].addr;
	CHECK(cr_addrman_good(am, &q, 8333, false, NOW));
	CHECK_AM(am);
	CHECK_EQ(cr_addrman_find(am, &q, 8333, &info), 0);
	CHECK(info.in_tried);
	/* Resolving at once: every occupant succeeded just now, all dropped. */
	cr_addrman_resolve_collisions(am, NOW + 1);
	CHECK_AM(am);
	CHECK_EQ(am->n_coll, 0);
	cr_addrman_free(am);
}

/* The three outcomes of test-before-evict (Core's ResolveCollisions). */
static void test_resolve_outcomes(void)
{
	struct cr_addrman_info info;
	struct cr_netaddr nw, old;
	struct cr_peeraddr out;
	for (int scenario = 0; scenario < 5; scenario++) {
		struct cr_addrman *am = fresh();
		int64_t t0 = NOW - 10 * 3600;
		CHECK(make_collision(am, &nw, &old, t0));
		int64_t now = NOW;
		bool expect_moved = false, expect_queued = false;
		switch (scenario) {
		case 0: /* the feeler reached the old entry: keep it */
			cr_addrman_good(am, &old, 8333, true, now - 10);
			break;
		case 1: /* the feeler tried it 2 min ago and failed: replace */
			cr_addrman_attempt(am, &old, 8333, false, now - 120);
			expect_moved = true;
			break;
		case 2: /* tried 30 s ago: give it until 60 s */
			cr_addrman_attempt(am, &old, 8333, false, now - 30);
			expect_queued = true;
			break;
		case 3: /* nobody tested it and the window passed: replace */
			expect_moved = true;
			break;
		case 4: /* nobody tested it yet, newcomer's success is recent */
			cr_addrman_good(am, &nw, 8333, true, now - 60);
			expect_queued = true;
			break;
		}
		CHECK_AM(am);
		CHECK_EQ(cr_addrman_select_tried_collision(am, &out, NULL, &rng), 0);
		CHECK_MEM(out.na.addr, old.addr, 4);
		cr_addrman_resolve_collisions(am, now);
		CHECK_AM(am);
		CHECK_EQ(cr_addrman_find(am, &nw, 8333, &info), 0);
		CHECK_EQ(info.in_tried, expect_moved);
		CHECK_EQ(cr_addrman_find(am, &old, 8333, &info), 0);
		CHECK_EQ(info.in_tried, !expect_moved);
		if (expect_moved) /* the evicted entry went back to new */
			CHECK_EQ(info.ref_count, 1);
		CHECK_EQ(am->n_coll, expect_queued);
		cr_addrman_free(am);
	}
}

static void test_attempt_connected_services(void)
{
	struct cr_addrman *am = fresh();
	struct cr_netaddr src = am_ip4(252, 2, 2, 2), a = am_ip4(250, 70, 1, 1);
	struct cr_addrman_info info;
	CHECK(add1(am, a, 8333, src, NOW - 3600));
	cr_addrman_attempt(am, &a, 8333, true, NOW - 10);
	CHECK_EQ(cr_addrman_find(am, &a, 8333, &info), 0);
	CHECK_EQ(info.last_try, NOW - 10);
	CHECK_EQ(info.attempts, 1);
	cr_addrman_connected(am, &a, 8333, NOW - 3600 + 600); /* within 20 min: unchanged */
	CHECK_EQ(cr_addrman_find(am, &a, 8333, &info), 0);
	CHECK_EQ(info.addr.time, NOW - 3600);
	cr_addrman_connected(am, &a, 8333, NOW);
	CHECK_EQ(cr_addrman_find(am, &a, 8333, &info), 0);
	CHECK_EQ(info.addr.time, NOW);
	cr_addrman_set_services(am, &a, 8333, 0x409);
	CHECK_EQ(cr_addrman_find(am, &a, 8333, &info), 0);
	CHECK_EQ(info.addr.services, 0x409);
	/* Gossip adds service bits. */
	struct cr_peeraddr p = am_pa(a, 8333, NOW);
	p.services = 0x800;
	cr_addrman_add(am, &p, 1, &src, 0, NOW, &rng);
	CHECK_EQ(cr_addrman_find(am, &a, 8333, &info), 0);
	CHECK_EQ(info.addr.services, 0xc09);
	/* Good resets attempts and does not touch the gossip time. */
	cr_addrman_good(am, &a, 8333, true, NOW + 50);
	CHECK_EQ(cr_addrman_find(am, &a, 8333, &info), 0);
	CHECK_EQ(info.attempts, 0);
	CHECK_EQ(info.last_success, NOW + 50);
	CHECK_EQ(info.addr.time, NOW);
	CHECK_AM(am);
	cr_addrman_free(am);
}

/* The check notices damage (it is not a check that cannot fail). */
static void test_check_detects(void)
{
	struct cr_addrman *am = fresh();
	struct cr_netaddr src = am_ip4(252, 2, 2, 2);
	for (unsigned i = 0; i < 50; i++)
		add1(am, am_ip4(250, 80 + i, 1, 1), 8333, src, NOW - 100);
	struct cr_netaddr a = am_ip4(250, 80, 1, 1);
	cr_addrman_good(am, &a, 8333, true, NOW);
	CHECK_AM(am);
	uint32_t id = am->random[3];
	struct cr_am_entry save = am->ent[id];
	uint32_t cell = save.new_cells[0];

	am->new_tbl[cell] = CR_AM_NONE; /* lost cell */
	CHECK_EQ(cr_addrman_check(am, 0), CR_E_ADDRMAN_NEWCELL);
	am->new_tbl[cell] = id;
	am->new_tbl[(cell + 1) % CR_AM_NEW_CELLS] = id; /* stray cell */
	CHECK_EQ(cr_addrman_check(am, CR_ADDRMAN_CHECK_FULL), CR_E_ADDRMAN_NEWCELL);
	am->new_tbl[(cell + 1) % CR_AM_NEW_CELLS] = CR_AM_NONE;
	am->n_new++;
	CHECK_EQ(cr_addrman_check(am, 0), CR_E_ADDRMAN_COUNT);
	am->n_new--;
	am->ent[id].addr.addr[3] ^= 1; /* index no longer finds it */
	CHECK_EQ(cr_addrman_check(am, CR_ADDRMAN_CHECK_FULL), CR_E_ADDRMAN_INDEX);
	am->ent[id].addr.addr[3] ^= 1;
	am->ent[id].hash ^= 0x8000; /* its probe chain no longer leads to it */
	CHECK_EQ(cr_addrman_check(am, 0), CR_E_ADDRMAN_INDEX);
	am->ent[id].hash ^= 0x8000;
	am->ent[id].addr.addr[3] ^= 1;
	am->ent[id].addr.addr[3] ^= 1;
	am->ent[id].random_pos ^= 1;
	CHECK_EQ(cr_addrman_check(am, 0), CR_E_ADDRMAN_RANDOM);
	am->ent[id].random_pos ^= 1;
	am->ent[id].ref_count = 0;
	CHECK_EQ(cr_addrman_check(am, 0), CR_E_ADDRMAN_REFCOUNT);
	am->ent[id].ref_count = save.ref_count;
	am->ent[id].group[1] ^= 1;
	CHECK_EQ(cr_addrman_check(am, CR_ADDRMAN_CHECK_FULL), CR_E_ADDRMAN_GROUP);
	am->ent[id].group[1] ^= 1;
	am->coll[am->n_coll++] = 0xfffff;
	CHECK_EQ(cr_addrman_check(am, 0), CR_E_ADDRMAN_COLLISION);
	am->n_coll--;
	am->cell_sum++;
	CHECK_EQ(cr_addrman_check(am, 0), CR_E_ADDRMAN_CELLSUM);
	am->cell_sum--;
	CHECK_AM(am);
	cr_addrman_free(am);
}

/* With an asmap the AS is the group: two /16s of one AS share its 8 tried
 * buckets, where without the asmap they would reach 16. */
static void test_asmap_groups(void)
{
	struct amb t;
	uint8_t ip[16], *img;
	amb_init(&t);
	amb_v4(ip, 1, 2, 0, 0);
	amb_add(&t, ip, 112, 100);
	amb_v4(ip, 5, 6, 0, 0);
	amb_add(&t, ip, 112, 100);
	size_t n = amb_finish(&t, &img);
	amb_free(&t);
	struct cr_asmap *m = NULL;
	CHECK_EQ(cr_asmap_from_bytes(&m, img, n), 0);
	free(img);
	if (!m)
		return;
	struct cr_addrman *with = cr_addrman_new(am_test_key, m, 0);
	struct cr_addrman *without = cr_addrman_new(am_test_key, NULL, 0);
	bool b_with[CR_ADDRMAN_TRIED_BUCKETS] = {0}, b_without[CR_ADDRMAN_TRIED_BUCKETS] = {0};
	struct cr_netaddr src = am_ip4(252, 2, 2, 2);
	for (unsigned i = 0; i < 512; i++) {
		struct cr_netaddr a = i & 1 ? am_ip4(1, 2, i >> 8, i & 255) : am_ip4(5, 6, i >> 8, i & 255);
		struct cr_peeraddr p = am_pa(a, 8333, NOW - 100);
		struct cr_addrman_info info;
		cr_rng_seed(&rng, i);
		if (cr_addrman_add(with, &p, 1, &src, 0, NOW, &rng) &&
		    cr_addrman_good(with, &a, 8333, false, NOW) &&
		    cr_addrman_find(with, &a, 8333, &info) == 0)
			b_with[info.bucket] = true;
		if (cr_addrman_add(without, &p, 1, &src, 0, NOW, &rng) &&
		    cr_addrman_good(without, &a, 8333, false, NOW) &&
		    cr_addrman_find(without, &a, 8333, &info) == 0)
			b_without[info.bucket] = true;
	}
	CHECK_AM(with);
	CHECK_AM(without);
	CHECK(count_set(b_with, CR_ADDRMAN_TRIED_BUCKETS) <= CR_ADDRMAN_TRIED_BUCKETS_PER_GROUP);
	CHECK(count_set(b_without, CR_ADDRMAN_TRIED_BUCKETS) > CR_ADDRMAN_TRIED_BUCKETS_PER_GROUP);
	cr_addrman_free(with);
	cr_addrman_free(without);
	cr_asmap_free(m);
}

/* The test-only loopback switch makes 127/8 addable, in /16 groups. */
static void test_loopback_flag(void)
{
	struct cr_addrman *plain = fresh();
	struct cr_addrman *loop = cr_addrman_new(am_test_key, NULL, CR_NETGROUP_LOOPBACK_ROUTABLE);
	struct cr_netaddr src = am_ip4(127, 9, 0, 1);
	bool buckets[CR_ADDRMAN_TRIED_BUCKETS] = {0};
	for (unsigned i = 0; i < 64; i++) {
		struct cr_netaddr a = am_ip4(127, i, 0, 1);
		struct cr_peeraddr p = am_pa(a, 8333, NOW - 100);
		struct cr_addrman_info info;
		CHECK_EQ(cr_addrman_add(plain, &p, 1, &src, 0, NOW, &rng), 0);
		CHECK_EQ(cr_addrman_add(loop, &p, 1, &src, 0, NOW, &rng), 1);
		cr_addrman_good(loop, &a, 8333, false, NOW);
		CHECK_EQ(cr_addrman_find(loop, &a, 8333, &info), 0);
		buckets[info.bucket] = true;
	}
	CHECK_AM(loop);
	CHECK_EQ(cr_addrman_size(plain, 0, CR_ADDRMAN_ANY), 0);
	/* 64 groups, not one "local" group of at most 8 buckets. */
	CHECK(count_set(buckets, CR_ADDRMAN_TRIED_BUCKETS) > CR_ADDRMAN_TRIED_BUCKETS_PER_GROUP);
	cr_addrman_free(plain);
	cr_addrman_free(loop);
}

/* ::ffff:a.b.c.d is the IPv4 host a.b.c.d: one entry, found either way. */
static void test_ipv4_mapped(void)
{
	struct cr_addrman *am = fresh();
	struct cr_netaddr src = am_ip4(252, 2, 2, 2), v4 = am_ip4(250, 1, 2, 3), m6;
	memset(&m6, 0, sizeof(m6));
	m6.net = CR_NET_IPV6;
	m6.len = 16;
	m6.addr[10] = m6.addr[11] = 0xff;
	memcpy(m6.addr + 12, v4.addr, 4);
	CHECK(add1(am, m6, 8333, src, NOW - 100));
	CHECK(!add1(am, v4, 8333, src, NOW - 100));
	CHECK_EQ(cr_addrman_size(am, 0, CR_ADDRMAN_ANY), 1);
	CHECK_EQ(cr_addrman_size(am, CR_ADDRMAN_NET(CR_NET_IPV4), CR_ADDRMAN_ANY), 1);
	struct cr_addrman_info info;
	CHECK_EQ(cr_addrman_find(am, &v4, 8333, &info), 0);
	CHECK_EQ(info.addr.na.net, CR_NET_IPV4);
	CHECK(cr_addrman_good(am, &m6, 8333, true, NOW));
	CHECK_EQ(cr_addrman_find(am, &v4, 8333, &info), 0);
	CHECK(info.in_tried);
	CHECK_AM(am);
	cr_addrman_free(am);
}

/* A handshake with an unknown address still proves our link works, so the
 * next failure of a known one counts (Core's m_last_good). */
static void test_good_unknown_counts(void)
{
	struct cr_addrman *am = fresh();
	struct cr_netaddr src = am_ip4(252, 2, 2, 2), a = am_ip4(250, 1, 2, 3),
			  unknown = am_ip4(250, 200, 1, 1);
	struct cr_addrman_info info;
	CHECK(add1(am, a, 8333, src, NOW - 100));
	cr_addrman_attempt(am, &a, 8333, true, NOW);
	cr_addrman_attempt(am, &a, 8333, true, NOW + 10);
	CHECK_EQ(cr_addrman_find(am, &a, 8333, &info), 0);
	CHECK_EQ(info.attempts, 1);
	CHECK(!cr_addrman_good(am, &unknown, 8333, true, NOW + 20));
	cr_addrman_attempt(am, &a, 8333, true, NOW + 30);
	CHECK_EQ(cr_addrman_find(am, &a, 8333, &info), 0);
	CHECK_EQ(info.attempts, 2);
	cr_addrman_free(am);
}

/* Tens of thousands of entries, then as many deletions (a month later the
 * first ones are terrible and lose their slots): the address index must
 * keep finding every live entry through its probe chains while holes are
 * closed by backward shifts. */
static void test_index_churn(void)
{
	struct cr_addrman *am = fresh();
	unsigned n = getenv("CR_SANITIZE") ? 8000 : 30000;
	int64_t later = NOW + CR_ADDRMAN_HORIZON_S + 3600;
	for (int phase = 0; phase < 2; phase++) {
		int64_t now = phase ? later : NOW;
		for (unsigned i = 0; i < n; i++) {
			struct cr_netaddr a = am_ip4(20 + phase * 100 + i % 97, i / 97 % 256, i / 97 / 256, 1);
			struct cr_netaddr src = am_ip4(150 + i % 31, i % 7, 1, 1);
			struct cr_peeraddr p = am_pa(a, 8333, now - 100);
			cr_addrman_add(am, &p, 1, &src, 0, now, &rng);
			if (i % 1000 == 999)
				CHECK_EQ(cr_addrman_check(am, 0), 0);
		}
		CHECK_AM(am);
	}
	size_t left = 0, fresh_in = 0;
	for (int phase = 0; phase < 2; phase++) {
		for (unsigned i = 0; i < n; i++) {
			struct cr_netaddr a = am_ip4(20 + phase * 100 + i % 97, i / 97 % 256, i / 97 / 256, 1);
			struct cr_addrman_info info;
			if (cr_addrman_find(am, &a, 8333, &info) != 0)
				continue;
			if (phase)
				fresh_in++;
			else
				left++;
		}
	}
	CHECK_EQ(left + fresh_in, cr_addrman_size(am, 0, CR_ADDRMAN_ANY));
	CHECK(fresh_in > n / 2);
	CHECK(left < fresh_in);
	cr_addrman_free(am);
}

/* A queued newcomer that loses its last new slot leaves the queue too (its
 * id may be reused by another address at once). */
static void test_collision_entry_deleted(void)
{
	struct cr_addrman *am = fresh();
	struct cr_netaddr nw, old, src = am_ip4(252, 2, 2, 2);
	struct cr_addrman_info info;
	CHECK(make_collision(am, &nw, &old, NOW));
	CHECK_EQ(am->n_coll, 1);
	/* A month on, the newcomer is terrible; fresh addresses of its group
	 * told by the same source land in its one bucket and take its slot. */
	int64_t later = NOW + CR_ADDRMAN_HORIZON_S + 3600;
	for (unsigned i = 0; i < 1000 && cr_addrman_find(am, &nw, 8333, &info) == 0; i++) {
		struct cr_peeraddr p = am_pa(am_ip4(250, 60, 100 + (i >> 8), i & 255), 8333, later);
		cr_addrman_add(am, &p, 1, &src, 0, later, &rng);
		CHECK_EQ(cr_addrman_check(am, 0), 0);
	}
	CHECK_EQ(cr_addrman_find(am, &nw, 8333, &info), -ENOENT);
	CHECK_EQ(am->n_coll, 0);
	CHECK_AM(am);
	cr_addrman_resolve_collisions(am, later);
	CHECK_AM(am);
	cr_addrman_free(am);
}

/* Core's chance: x0.66 per failed attempt, x0.01 when tried in the last
 * 10 minutes. Two tried entries, one penalised: it comes back far less. */
static void test_select_chance(void)
{
	for (int variant = 0; variant < 2; variant++) {
		struct cr_addrman *am = fresh();
		struct cr_netaddr src = am_ip4(252, 2, 2, 2), a = am_ip4(250, 1, 1, 1),
				  b = am_ip4(251, 1, 1, 1), other = am_ip4(249, 1, 1, 1);
		int64_t t0 = NOW - 86400;
		CHECK(add1(am, a, 8333, src, NOW - 100));
		CHECK(add1(am, b, 8333, src, NOW - 100));
		CHECK(cr_addrman_good(am, &a, 8333, true, t0));
		CHECK(cr_addrman_good(am, &b, 8333, true, t0));
		if (variant == 0) {
			/* 5 counted failures: chance 0.66^5 = 0.125, not terrible. */
			for (int i = 0; i < 5; i++) {
				cr_addrman_attempt(am, &a, 8333, true, t0 + 100 + 2 * i);
				cr_addrman_good(am, &other, 8333, true, t0 + 101 + 2 * i);
			}
		} else {
			/* Tried 5 minutes ago: chance 0.01. */
			cr_addrman_attempt(am, &a, 8333, false, NOW - 300);
		}
		CHECK_AM(am);
		CHECK(!cr_addrman_is_terrible(am, &a, 8333, NOW));
		int na = 0, nb = 0;
		for (int i = 0; i < 4000; i++) {
			struct cr_peeraddr out;
			CHECK_EQ(cr_addrman_select(am, &out, NULL, false, 0, NOW, &rng), 0);
			if (out.na.addr[0] == 250)
				na++;
			else
				nb++;
		}
		CHECK(na > 0);
		CHECK(na * 3 < nb);
		cr_addrman_free(am);
	}
}

int main(void)
{
	RUN(test_spread_tried_group);
	RUN(test_spread_new_source_group);
	RUN(test_address_max_8_new_buckets);
	RUN(test_add_simple);
	RUN(test_time_penalty);
	RUN(test_select_tried_and_new_only);
	RUN(test_select_network_filter);
	RUN(test_terrible);
	RUN(test_terrible_overwritten);
	RUN(test_getaddr_limits);
	RUN(test_collision_queue);
	RUN(test_resolve_outcomes);
	RUN(test_attempt_connected_services);
	RUN(test_check_detects);
	RUN(test_asmap_groups);
	RUN(test_loopback_flag);
	RUN(test_ipv4_mapped);
	RUN(test_good_unknown_counts);
	RUN(test_index_churn);
	RUN(test_collision_entry_deleted);
	RUN(test_select_chance);
	return check_done();
}
