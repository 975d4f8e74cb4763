/* The open-connections scheduler's rules (engine/policy/sched.h) with a
 * fake clock and a seeded RNG: slot targets, the type order, netgroup
 * distinctness and every skip rule of the address choice, feeler cadence
 * and collision choice, anchors, preferred network, fixed seeds, the
 * addr-fetch queue and failure counting. Extra-peer eviction and the stale
 * tip are in test_policy_extra.c. */
#include <errno.h>
#include <stdlib.h>

#include "addr/addrman.h"
#include "addr/banlist.h"
#include "addr/netclass.h"
#include "addr/seeds.h"
#include "check.h"
#include "addrman_util.h"
#include "engine/policy/sched.h"
#include "proto/services.h"

#define NOW_S 1700000000ll
#define NOW_US (NOW_S * 1000000)
#define GOOD_SVC (CR_NODE_NETWORK | CR_NODE_WITNESS)

static struct cr_rng rng;

static struct cr_addrman *new_am(void)
{
	return cr_addrman_new(am_test_key, NULL, 0);
}

/* Adds a:port seen an hour ago with services svc, from a source of its own
 * /16 so many groups land in the table. */
static bool add_addr(struct cr_addrman *am, struct cr_netaddr a, uint16_t port, uint64_t svc)
{
	struct cr_peeraddr pa = am_pa(a, port, NOW_S - 3600);
	pa.services = svc;
	struct cr_netaddr src = am_ip4(a.addr[0], a.addr[1], 0, 1);
	return cr_addrman_add(am, &pa, 1, &src, 0, NOW_S, &rng) == 1;
}

static struct cr_sched_peer peer(uint64_t id, enum cr_ctype t, struct cr_netaddr a)
{
	struct cr_sched_peer p;
	memset(&p, 0, sizeof p);
	p.id = id;
	p.seq = id;
	p.addr = a;
	p.port = 18444;
	p.type = (uint8_t)t;
	p.ready = true;
	p.connected_us = NOW_US - 3600ll * 1000000;
	return p;
}

static void conf(struct cr_sched_conf *cf)
{
	cr_sched_conf_default(cf, CR_CHAIN_REGTEST, 18444, 125);
	cf->fixedseeds = false;
}

static void test_limits(void)
{
	struct cr_sched_limits l;
	cr_sched_limits_init(&l, 125);
	CHECK_EQ(l.full_relay, 8);
	CHECK_EQ(l.block_relay, 2);
	CHECK_EQ(l.feeler, 1);
	CHECK_EQ(l.automatic_outbound, 11);
	CHECK_EQ(l.inbound, 114);
	cr_sched_limits_init(&l, 9);
	CHECK_EQ(l.full_relay, 8);
	CHECK_EQ(l.block_relay, 1);
	CHECK_EQ(l.inbound, 0);
	cr_sched_limits_init(&l, 4);
	CHECK_EQ(l.full_relay, 4);
	CHECK_EQ(l.block_relay, 0);
	CHECK_EQ(l.automatic_outbound, 5);
	CHECK_EQ(l.inbound, 0);
	CHECK(!strcmp(cr_ctype_name(CR_CT_BLOCK_RELAY), "block-relay-only"));
	CHECK(!strcmp(cr_ctype_name(CR_CT_FULL_RELAY), "outbound-full-relay"));
	CHECK(!strcmp(cr_ctype_name(CR_CT_ADDR_FETCH), "addr-fetch"));
}

static void test_bad_ports(void)
{
	unsigned n = 0;
	for (unsigned p = 0; p < 65536; p++)
		n += cr_sched_bad_port((uint16_t)p);
	CHECK_EQ(n, 85);
	CHECK(cr_sched_bad_port(22));
	CHECK(cr_sched_bad_port(27017));
	CHECK(!cr_sched_bad_port(8333));
	CHECK(!cr_sched_bad_port(18444));
}

/* The type order with counts set by hand. */
static void test_type_order(void)
{
	struct cr_sched_conf cf;
	conf(&cf);
	struct cr_sched_state st;
	cr_sched_state_init(&st, &cf, NOW_US, &rng);
	struct cr_addrman *am = new_am();
	struct cr_sched_counts c;
	memset(&c, 0, sizeof c);
	bool anchor;
	int pref;

	st.nanchors = 1;
	CHECK_EQ(cr_sched_next_conn_type(&st, &cf, &c, am, NOW_US, &rng, &anchor, &pref),
		 CR_CT_BLOCK_RELAY);
	CHECK(anchor);
	st.nanchors = 0;
	CHECK_EQ(cr_sched_next_conn_type(&st, &cf, &c, am, NOW_US, &rng, &anchor, &pref),
		 CR_CT_FULL_RELAY);
	CHECK(!anchor);
	c.full_relay = 8;
	CHECK_EQ(cr_sched_next_conn_type(&st, &cf, &c, am, NOW_US, &rng, &anchor, &pref),
		 CR_CT_BLOCK_RELAY);
	c.block_relay = 2;
	/* full, and no timer due yet (timers start at now + exp(mean)) */
	st.next_feeler_us = st.next_extra_block_relay_us = st.next_extra_network_us = NOW_US + 1;
	CHECK_EQ(cr_sched_next_conn_type(&st, &cf, &c, am, NOW_US, &rng, &anchor, &pref), -1);
	st.try_new_outbound = true;
	CHECK_EQ(cr_sched_next_conn_type(&st, &cf, &c, am, NOW_US, &rng, &anchor, &pref),
		 CR_CT_FULL_RELAY);
	st.try_new_outbound = false;
	/* extra block-relay-only: only once started, and it advances its timer */
	int64_t t = NOW_US + 10;
	CHECK_EQ(cr_sched_next_conn_type(&st, &cf, &c, am, t, &rng, &anchor, &pref), CR_CT_FEELER);
	CHECK(st.next_feeler_us > t);
	st.start_extra_block_relay = true;
	CHECK_EQ(cr_sched_next_conn_type(&st, &cf, &c, am, t, &rng, &anchor, &pref),
		 CR_CT_BLOCK_RELAY);
	CHECK(st.next_extra_block_relay_us > t);
	cr_addrman_free(am);
}

/* 300 addresses in 300 /16 groups; the view holds full-relay peers in the
 * groups of the first 7. A full-relay choice never lands in those groups;
 * a feeler may. */
static void test_netgroup_distinct(void)
{
	struct cr_sched_conf cf;
	conf(&cf);
	struct cr_addrman *am = new_am();
	for (unsigned i = 0; i < 300; i++)
		add_addr(am, am_ip4(20 + i / 200, i % 200, 1, 1), 18444, GOOD_SVC);
	struct cr_sched_peer peers[7];
	for (unsigned i = 0; i < 7; i++)
		peers[i] = peer(i + 1, CR_CT_FULL_RELAY, am_ip4(20, i, 9, 9));
	struct cr_sched_view v = {.peers = peers, .npeers = 7};
	unsigned hits_taken = 0, found = 0;
	for (int k = 0; k < 2000; k++) {
		struct cr_peeraddr pa;
		unsigned tries;
		if (cr_sched_select_address(&pa, &tries, CR_CT_FULL_RELAY, -1, &cf, &v, am, NOW_US,
					    &rng) < 0)
			continue;
		found++;
		if (pa.na.addr[0] == 20 && pa.na.addr[1] < 7)
			hits_taken++;
	}
	CHECK(found > 1900);
	CHECK_EQ(hits_taken, 0);
	/* the same groups through a block-relay-only and a manual peer */
	peers[0].type = CR_CT_BLOCK_RELAY;
	peers[1].type = CR_CT_MANUAL;
	peers[2].type = CR_CT_FEELER; /* feelers do not take a group */
	unsigned g2 = 0;
	for (int k = 0; k < 3000; k++) {
		struct cr_peeraddr pa;
		unsigned tries;
		if (cr_sched_select_address(&pa, &tries, CR_CT_FULL_RELAY, -1, &cf, &v, am, NOW_US,
					    &rng) == 0 && pa.na.addr[0] == 20) {
			CHECK(pa.na.addr[1] != 0 && pa.na.addr[1] != 1);
			g2 += pa.na.addr[1] == 2;
		}
	}
	CHECK(g2 > 0);
	cr_addrman_free(am);
}

/* One candidate at a time, each failing one rule. */
static int select_one(struct cr_addrman *am, const struct cr_sched_conf *cf,
		      const struct cr_sched_view *v, enum cr_ctype t, unsigned *tries)
{
	struct cr_peeraddr pa;
	return cr_sched_select_address(&pa, tries, t, -1, cf, v, am, NOW_US, &rng);
}

static void test_skip_rules(void)
{
	struct cr_sched_conf cf;
	conf(&cf);
	struct cr_sched_view v;
	memset(&v, 0, sizeof v);
	unsigned tries;

	/* unreachable network: skipped every draw */
	struct cr_addrman *am = new_am();
	add_addr(am, am_ip6(0x1234, 1), 18444, GOOD_SVC);
	cf.reachable = CR_ADDRMAN_NET(CR_NET_IPV4);
	CHECK_EQ(select_one(am, &cf, &v, CR_CT_FULL_RELAY, &tries), -ENOENT);
	cf.reachable |= CR_ADDRMAN_NET(CR_NET_IPV6);
	CHECK_EQ(select_one(am, &cf, &v, CR_CT_FULL_RELAY, &tries), 0);
	cr_addrman_free(am);

	/* services: a full-relay peer needs NETWORK|WITNESS (or LIMITED|WITNESS
	 * when limited_ok); a feeler only NETWORK or LIMITED */
	am = new_am();
	add_addr(am, am_ip4(30, 1, 1, 1), 18444, CR_NODE_NETWORK);
	CHECK_EQ(select_one(am, &cf, &v, CR_CT_FULL_RELAY, &tries), -ENOENT);
	CHECK_EQ(tries, CR_SCHED_SELECT_TRIES);
	CHECK_EQ(select_one(am, &cf, &v, CR_CT_FEELER, &tries), 0);
	cr_addrman_free(am);
	am = new_am();
	add_addr(am, am_ip4(30, 1, 1, 1), 18444, CR_NODE_NETWORK_LIMITED | CR_NODE_WITNESS);
	CHECK_EQ(select_one(am, &cf, &v, CR_CT_FULL_RELAY, &tries), 0);
	cf.limited_ok = false;
	CHECK_EQ(select_one(am, &cf, &v, CR_CT_FULL_RELAY, &tries), -ENOENT);
	cf.limited_ok = true;
	cr_addrman_free(am);

	/* non-default port: taken only from the 50th draw; bad port never */
	am = new_am();
	add_addr(am, am_ip4(30, 1, 1, 1), 8333, GOOD_SVC);
	CHECK_EQ(select_one(am, &cf, &v, CR_CT_FULL_RELAY, &tries), 0);
	CHECK_EQ(tries, CR_SCHED_PORT_TRIES);
	cr_addrman_free(am);
	am = new_am();
	add_addr(am, am_ip4(30, 1, 1, 1), 22, GOOD_SVC);
	CHECK_EQ(select_one(am, &cf, &v, CR_CT_FULL_RELAY, &tries), -ENOENT);
	cr_addrman_free(am);

	/* tried in the last 10 minutes: taken only from the 30th draw */
	am = new_am();
	struct cr_netaddr a = am_ip4(30, 1, 1, 1);
	add_addr(am, a, 18444, GOOD_SVC);
	cr_addrman_attempt(am, &a, 18444, false, NOW_S - 60);
	CHECK_EQ(select_one(am, &cf, &v, CR_CT_FULL_RELAY, &tries), 0);
	CHECK_EQ(tries, CR_SCHED_RECENT_TRIES);

	/* one of our own addresses ends the loop at the first draw */
	v.local = &a;
	v.nlocal = 1;
	CHECK_EQ(select_one(am, &cf, &v, CR_CT_FULL_RELAY, &tries), -ENOENT);
	CHECK_EQ(tries, 1);
	v.nlocal = 0;

	/* an -addnode entry is left to its manual slot */
	struct cr_sched_svc added = {.addr = a, .port = 18444};
	v.added = &added;
	v.nadded = 1;
	CHECK_EQ(select_one(am, &cf, &v, CR_CT_FULL_RELAY, &tries), -ENOENT);
	v.nadded = 0;

	/* already connected (an inbound peer has that address) */
	struct cr_ipset set;
	CHECK_EQ(cr_ipset_init(&set, 1, 2), 0);
	CHECK_EQ(cr_ipset_add(&set, &a), 0);
	v.connected = &set;
	CHECK_EQ(select_one(am, &cf, &v, CR_CT_FULL_RELAY, &tries), -ENOENT);
	cr_ipset_remove(&set, &a);
	CHECK_EQ(select_one(am, &cf, &v, CR_CT_FULL_RELAY, &tries), 0);
	cr_ipset_clear(&set);

	/* discouraged, then banned (by its /24), then the ban expired */
	struct cr_banlist *bl = cr_banlist_new(7, 9);
	v.bans = bl;
	CHECK_EQ(select_one(am, &cf, &v, CR_CT_FULL_RELAY, &tries), 0);
	cr_banlist_discourage(bl, &a);
	CHECK_EQ(select_one(am, &cf, &v, CR_CT_FULL_RELAY, &tries), -ENOENT);
	cr_banlist_free(bl);
	bl = cr_banlist_new(7, 9);
	v.bans = bl;
	struct cr_subnet sn24;
	CHECK_EQ(cr_subnet_init(&sn24, &a, 24), 0);
	CHECK_EQ(cr_banlist_ban(bl, &sn24, NOW_S, 100), 0);
	CHECK_EQ(select_one(am, &cf, &v, CR_CT_FULL_RELAY, &tries), -ENOENT);
	cr_banlist_clear(bl);
	CHECK_EQ(cr_banlist_ban(bl, &sn24, NOW_S - 200, 100), 0);
	CHECK_EQ(select_one(am, &cf, &v, CR_CT_FULL_RELAY, &tries), 0);
	v.bans = NULL;
	cr_banlist_free(bl);
	cr_addrman_free(am);

	/* empty table */
	am = new_am();
	CHECK_EQ(select_one(am, &cf, &v, CR_CT_FULL_RELAY, &tries), -ENOENT);
	CHECK_EQ(tries, 1);
	cr_addrman_free(am);
}

/* Feelers come every 2 minutes on average and only while slots are full. */
static void test_feeler_cadence(void)
{
	struct cr_sched_conf cf;
	conf(&cf);
	struct cr_sched_state st;
	cr_sched_state_init(&st, &cf, NOW_US, &rng);
	struct cr_addrman *am = new_am();
	struct cr_sched_counts c;
	memset(&c, 0, sizeof c);
	c.full_relay = 8;
	c.block_relay = 2;
	unsigned feelers = 0;
	bool anchor;
	int pref;
	int64_t hours = 10, step = 1000000;
	for (int64_t t = NOW_US; t < NOW_US + hours * 3600 * 1000000; t += step)
		feelers += cr_sched_next_conn_type(&st, &cf, &c, am, t, &rng, &anchor, &pref) ==
			   CR_CT_FEELER;
	/* 300 expected; Poisson sd ~17 */
	printf("feelers in %lld h: %u\n", (long long)hours, feelers);
	CHECK(feelers > 230 && feelers < 370);
	/* a free full-relay slot takes precedence */
	c.full_relay = 7;
	st.next_feeler_us = NOW_US;
	CHECK_EQ(cr_sched_next_conn_type(&st, &cf, &c, am, NOW_US + 1, &rng, &anchor, &pref),
		 CR_CT_FULL_RELAY);
	cr_addrman_free(am);
}

/* Fills tried until a Good collides (one /16 holds 512 tried cells). */
static bool make_collision(struct cr_addrman *am, struct cr_netaddr *occupant)
{
	for (unsigned i = 1; i < 4000; i++) {
		struct cr_netaddr a = am_ip4(50, 60, i >> 8, i & 255);
		if (!add_addr(am, a, 18444, GOOD_SVC))
			continue;
		if (!cr_addrman_good(am, &a, 18444, true, NOW_S)) {
			struct cr_peeraddr o;
			CHECK_EQ(cr_addrman_select_tried_collision(am, &o, NULL, &rng), 0);
			*occupant = o.na;
			return true;
		}
	}
	return false;
}

static void test_feeler_collision(void)
{
	struct cr_sched_conf cf;
	conf(&cf);
	struct cr_addrman *am = new_am();
	struct cr_netaddr occ;
	CHECK(make_collision(am, &occ));
	struct cr_sched_view v;
	memset(&v, 0, sizeof v);
	struct cr_peeraddr pa;
	unsigned tries;
	/* the feeler tests the tried entry the newcomer would evict; the
	 * last-try rule does not apply before the 30th draw... it was never
	 * tried, so it is taken at once */
	CHECK_EQ(cr_sched_select_address(&pa, &tries, CR_CT_FEELER, -1, &cf, &v, am, NOW_US, &rng),
		 0);
	CHECK(cr_addr_equal(&pa.na, &occ));
	/* connected to the occupant already: it is marked good (the collision
	 * resolves for it) and the feeler goes to a new-table entry instead */
	struct cr_ipset set;
	CHECK_EQ(cr_ipset_init(&set, 3, 4), 0);
	cr_ipset_add(&set, &occ);
	v.connected = &set;
	CHECK_EQ(cr_sched_select_address(&pa, &tries, CR_CT_FEELER, -1, &cf, &v, am, NOW_US, &rng),
		 0);
	CHECK(!cr_addr_equal(&pa.na, &occ));
	struct cr_addrman_info info;
	CHECK_EQ(cr_addrman_find(am, &pa.na, pa.port, &info), 0);
	CHECK(!info.in_tried);
	cr_ipset_clear(&set);
	cr_addrman_free(am);
}

static void test_preferred_network(void)
{
	struct cr_sched_conf cf;
	conf(&cf);
	struct cr_addrman *am = new_am();
	for (unsigned i = 0; i < 20; i++)
		add_addr(am, am_ip4(40, i, 1, 1), 18444, GOOD_SVC);
	struct cr_sched_peer peers[8];
	for (unsigned i = 0; i < 8; i++)
		peers[i] = peer(i + 1, CR_CT_FULL_RELAY, am_ip4(41, i, 1, 1));
	struct cr_sched_view v = {.peers = peers, .npeers = 8};
	struct cr_sched_counts c;
	cr_sched_count(&c, &v);
	/* every reachable network has a peer, or no addresses */
	CHECK_EQ(cr_sched_maybe_pick_preferred_network(&cf, &c, am, &rng), -1);
	add_addr(am, am_ip6(0x2222, 7), 18444, GOOD_SVC);
	CHECK_EQ(cr_sched_maybe_pick_preferred_network(&cf, &c, am, &rng), CR_NET_IPV6);
	/* a manual IPv6 peer counts */
	struct cr_sched_peer more[9];
	memcpy(more, peers, sizeof peers);
	more[8] = peer(9, CR_CT_MANUAL, am_ip6(0x3333, 1));
	struct cr_sched_view v2 = {.peers = more, .npeers = 9};
	struct cr_sched_counts c2;
	cr_sched_count(&c2, &v2);
	CHECK_EQ(cr_sched_maybe_pick_preferred_network(&cf, &c2, am, &rng), -1);
	/* unreachable networks are never preferred */
	cf.reachable = CR_ADDRMAN_NET(CR_NET_IPV4);
	CHECK_EQ(cr_sched_maybe_pick_preferred_network(&cf, &c, am, &rng), -1);
	cf.reachable |= CR_ADDRMAN_NET(CR_NET_IPV6);

	/* the pass: slots full, timers past: a network-specific IPv6 peer */
	struct cr_sched_peer all[10];
	memcpy(all, peers, sizeof peers);
	all[8] = peer(20, CR_CT_BLOCK_RELAY, am_ip4(42, 1, 1, 1));
	all[9] = peer(21, CR_CT_BLOCK_RELAY, am_ip4(42, 2, 1, 1));
	struct cr_sched_view v3 = {.peers = all, .npeers = 10};
	struct cr_sched_state st;
	cr_sched_state_init(&st, &cf, NOW_US, &rng);
	st.next_feeler_us = NOW_US + 3600ll * 1000000;
	st.next_extra_network_us = NOW_US - 1;
	struct cr_sched_decision d;
	cr_sched_open_connections(&d, &st, &cf, &v3, am, NOW_US, &rng);
	CHECK_EQ(d.action, CR_SCHED_CONNECT);
	CHECK_EQ(d.type, CR_CT_FULL_RELAY);
	CHECK_EQ(d.preferred_net, CR_NET_IPV6);
	CHECK_EQ(d.addr.na.net, CR_NET_IPV6);
	CHECK(st.next_extra_network_us > NOW_US);
	cr_addrman_free(am);
}

static void test_anchors_first(void)
{
	struct cr_sched_conf cf;
	conf(&cf);
	struct cr_addrman *am = new_am();
	for (unsigned i = 0; i < 50; i++)
		add_addr(am, am_ip4(60, i, 1, 1), 18444, GOOD_SVC);
	struct cr_sched_state st;
	cr_sched_state_init(&st, &cf, NOW_US, &rng);
	st.nanchors = 2;
	st.anchors[0] = am_pa(am_ip4(70, 1, 1, 1), 18444, NOW_S);
	st.anchors[0].services = GOOD_SVC;
	st.anchors[1] = am_pa(am_ip4(70, 2, 1, 1), 18444, NOW_S);
	st.anchors[1].services = GOOD_SVC;
	struct cr_sched_peer peers[4];
	size_t np = 0;
	struct cr_sched_view v = {.peers = peers};
	struct cr_sched_decision d;
	/* last first, as block-relay-only */
	cr_sched_open_connections(&d, &st, &cf, &v, am, NOW_US, &rng);
	CHECK_EQ(d.action, CR_SCHED_CONNECT);
	CHECK_EQ(d.type, CR_CT_BLOCK_RELAY);
	CHECK(d.anchor);
	CHECK(cr_addr_equal(&d.addr.na, &st.anchors[1].na));
	peers[np++] = peer(1, CR_CT_BLOCK_RELAY, d.addr.na);
	v.npeers = np;
	cr_sched_open_connections(&d, &st, &cf, &v, am, NOW_US, &rng);
	CHECK(d.anchor);
	CHECK_EQ(d.type, CR_CT_BLOCK_RELAY);
	CHECK(cr_addr_equal(&d.addr.na, &st.anchors[0].na));
	peers[np++] = peer(2, CR_CT_BLOCK_RELAY, d.addr.na);
	v.npeers = np;
	CHECK_EQ(st.nanchors, 0);
	/* then the full-relay slots from the address manager */
	cr_sched_open_connections(&d, &st, &cf, &v, am, NOW_US, &rng);
	CHECK_EQ(d.type, CR_CT_FULL_RELAY);
	CHECK(!d.anchor);

	/* an anchor in a group we already have is dropped; an anchor without
	 * the services we need too */
	cr_sched_state_init(&st, &cf, NOW_US, &rng);
	st.nanchors = 2;
	st.anchors[0] = am_pa(am_ip4(80, 1, 1, 1), 18444, NOW_S);
	st.anchors[0].services = CR_NODE_NETWORK;
	st.anchors[1] = am_pa(am_ip4(81, 1, 1, 2), 18444, NOW_S);
	st.anchors[1].services = GOOD_SVC;
	peers[0] = peer(1, CR_CT_FULL_RELAY, am_ip4(81, 1, 9, 9));
	v.npeers = 1;
	cr_sched_open_connections(&d, &st, &cf, &v, am, NOW_US, &rng);
	CHECK_EQ(d.action, CR_SCHED_CONNECT);
	CHECK_EQ(d.type, CR_CT_BLOCK_RELAY);
	CHECK(!d.anchor); /* both dropped; a block-relay-only peer from the table */
	CHECK_EQ(st.nanchors, 0);

	/* a banned anchor and a discouraged one are dropped too (Core's
	 * OpenNetworkConnection); the one before them is tried */
	for (int round = 0; round < 2; round++) {
		struct cr_banlist *bl = cr_banlist_new(5, 5);
		cr_sched_state_init(&st, &cf, NOW_US, &rng);
		st.nanchors = 2;
		for (int i = 0; i < 2; i++) {
			st.anchors[i] = am_pa(am_ip4(90, (unsigned)(1 + i), 1, 1), 18444, NOW_S);
			st.anchors[i].services = GOOD_SVC;
		}
		if (round == 0) {
			struct cr_subnet sn;
			CHECK_EQ(cr_subnet_init(&sn, &st.anchors[1].na, 16), 0);
			CHECK_EQ(cr_banlist_ban(bl, &sn, NOW_S, 100), 0);
		} else {
			cr_banlist_discourage(bl, &st.anchors[1].na);
		}
		v.npeers = 0;
		v.bans = bl;
		cr_sched_open_connections(&d, &st, &cf, &v, am, NOW_US, &rng);
		CHECK_EQ(d.action, CR_SCHED_CONNECT);
		CHECK(d.anchor);
		CHECK(cr_addr_equal(&d.addr.na, &st.anchors[0].na));
		v.bans = NULL;
		cr_banlist_free(bl);
	}
	cr_addrman_free(am);
}

static void test_fixed_seeds(void)
{
	struct cr_sched_conf cf;
	cr_sched_conf_default(&cf, CR_CHAIN_TESTNET4, 48333, 125);
	struct cr_addrman *am = new_am();
	struct cr_sched_state st;
	cr_sched_state_init(&st, &cf, NOW_US, &rng);
	struct cr_sched_view v;
	memset(&v, 0, sizeof v);
	struct cr_sched_decision d;
	/* DNS seeds may still come: wait 60 s */
	cr_sched_open_connections(&d, &st, &cf, &v, am, NOW_US + 1000000, &rng);
	CHECK_EQ(d.fixed_seeds_added, 0);
	CHECK_EQ(cr_addrman_size(am, 0, CR_ADDRMAN_ANY), 0);
	cr_sched_open_connections(&d, &st, &cf, &v, am, NOW_US + 61000000, &rng);
	CHECK(d.fixed_seeds_added > 100);
	CHECK(!st.add_fixed_seeds);
	/* only reachable networks (IPv4 and IPv6 by default: no onion, CJDNS) */
	CHECK_EQ(cr_addrman_size(am, CR_ADDRMAN_NET(CR_NET_TORV3), CR_ADDRMAN_ANY), 0);
	CHECK_EQ(cr_addrman_size(am, CR_ADDRMAN_NET(CR_NET_CJDNS), CR_ADDRMAN_ANY), 0);
	CHECK(cr_addrman_size(am, CR_ADDRMAN_NET(CR_NET_IPV6), CR_ADDRMAN_ANY) > 0);
	/* and a connection from them in the same pass */
	CHECK_EQ(d.action, CR_SCHED_CONNECT);
	cr_addrman_free(am);

	/* -dnsseed=0, no -seednode or -addnode: at once */
	am = new_am();
	cf.dnsseed = false;
	cr_sched_state_init(&st, &cf, NOW_US, &rng);
	cr_sched_open_connections(&d, &st, &cf, &v, am, NOW_US, &rng);
	CHECK(d.fixed_seeds_added > 100);
	cr_addrman_free(am);
	/* -fixedseeds=0: never */
	am = new_am();
	cf.fixedseeds = false;
	cr_sched_state_init(&st, &cf, NOW_US, &rng);
	cr_sched_open_connections(&d, &st, &cf, &v, am, NOW_US + 3600ll * 1000000, &rng);
	CHECK_EQ(d.fixed_seeds_added, 0);
	cr_addrman_free(am);

	/* the table itself: testnet4 has onion and IPv4 entries on 48333 */
	struct cr_seeds_iter it;
	struct cr_peeraddr pa;
	size_t n = 0, onion = 0;
	cr_seeds_iter_init(&it, CR_CHAIN_TESTNET4);
	while (cr_seeds_next(&it, &pa)) {
		n++;
		onion += pa.na.net == CR_NET_TORV3;
		CHECK_EQ(pa.port, 48333);
	}
	CHECK_EQ(n, cr_seeds_fixed_count(CR_CHAIN_TESTNET4));
	CHECK(onion > 50);
	CHECK_EQ(cr_seeds_fixed_count(CR_CHAIN_REGTEST), 0);
	/* main and signet: every entry valid, on the chain's port */
	const uint16_t ports[2] = {8333, 38333};
	const enum cr_chain_id chains[2] = {CR_CHAIN_MAIN, CR_CHAIN_SIGNET};
	for (int c = 0; c < 2; c++) {
		size_t valid = 0, total = 0;
		cr_seeds_iter_init(&it, chains[c]);
		while (cr_seeds_next(&it, &pa)) {
			total++;
			valid += cr_addr_is_valid(&pa.na) && pa.port == ports[c];
		}
		CHECK_EQ(total, cr_seeds_fixed_count(chains[c]));
		CHECK_EQ(valid, total);
		CHECK(total > 100);
	}
	const char *const *names;
	CHECK_EQ(cr_seeds_dns(CR_CHAIN_REGTEST, &names), 0);
	CHECK_EQ(cr_seeds_dns(CR_CHAIN_SIGNET, &names), 2);
}

static void test_addr_fetch_and_semaphore(void)
{
	struct cr_sched_conf cf;
	conf(&cf);
	struct cr_addrman *am = new_am();
	add_addr(am, am_ip4(90, 1, 1, 1), 18444, GOOD_SVC);
	struct cr_sched_state st;
	cr_sched_state_init(&st, &cf, NOW_US, &rng);
	CHECK_EQ(cr_sched_add_addr_fetch(&st, "seed.example:18444"), 0);
	struct cr_sched_view v;
	memset(&v, 0, sizeof v);
	struct cr_sched_decision d;
	cr_sched_open_connections(&d, &st, &cf, &v, am, NOW_US, &rng);
	CHECK_EQ(d.action, CR_SCHED_ADDR_FETCH);
	CHECK(!strcmp(d.host, "seed.example:18444"));
	CHECK_EQ(st.nfetch, 0);
	/* the first automatic connection: an offline node does not count
	 * failures (fewer than 2 groups connected) */
	cr_sched_open_connections(&d, &st, &cf, &v, am, NOW_US, &rng);
	CHECK_EQ(d.action, CR_SCHED_CONNECT);
	CHECK(!d.count_failure);
	/* 11 automatic connections (even pending ones) fill the semaphore */
	struct cr_sched_peer peers[11];
	for (unsigned i = 0; i < 11; i++)
		peers[i] = peer(i + 1, i < 8 ? CR_CT_FULL_RELAY : i < 10 ? CR_CT_BLOCK_RELAY
								   : CR_CT_ADDR_FETCH,
				am_ip4(91, i, 1, 1));
	v.peers = peers;
	v.npeers = 11;
	cr_sched_add_addr_fetch(&st, "other.example");
	cr_sched_open_connections(&d, &st, &cf, &v, am, NOW_US, &rng);
	CHECK_EQ(d.action, CR_SCHED_NONE);
	/* -connect: nothing automatic at all */
	v.npeers = 0;
	cf.use_addrman_outgoing = false;
	cr_sched_open_connections(&d, &st, &cf, &v, am, NOW_US, &rng);
	CHECK_EQ(d.action, CR_SCHED_NONE);
	for (int i = 0; i < CR_SCHED_FETCH_MAX; i++)
		cr_sched_add_addr_fetch(&st, "x");
	CHECK_EQ(cr_sched_add_addr_fetch(&st, "y"), -ENOSPC);
	cr_addrman_free(am);
}

/* Two connected groups: failures count; V2 only when both advertise it. */
static void test_count_failure_and_v2(void)
{
	struct cr_sched_conf cf;
	conf(&cf);
	cf.our_services = GOOD_SVC | CR_NODE_P2P_V2;
	struct cr_addrman *am = new_am();
	add_addr(am, am_ip4(95, 1, 1, 1), 18444, GOOD_SVC | CR_NODE_P2P_V2);
	struct cr_sched_peer peers[2] = {peer(1, CR_CT_FULL_RELAY, am_ip4(96, 1, 1, 1)),
					 peer(2, CR_CT_FULL_RELAY, am_ip4(97, 1, 1, 1))};
	struct cr_sched_view v = {.peers = peers, .npeers = 2};
	struct cr_sched_state st;
	cr_sched_state_init(&st, &cf, NOW_US, &rng);
	struct cr_sched_decision d;
	cr_sched_open_connections(&d, &st, &cf, &v, am, NOW_US, &rng);
	CHECK_EQ(d.action, CR_SCHED_CONNECT);
	CHECK(d.count_failure);
	CHECK(d.v2);
	cf.our_services = GOOD_SVC;
	cr_sched_open_connections(&d, &st, &cf, &v, am, NOW_US, &rng);
	CHECK(!d.v2);
	cr_addrman_free(am);
}

int main(int argc, char **argv)
{
	uint64_t seed = 8;
	if (argc > 2 && !strcmp(argv[1], "--seed"))
		seed = strtoull(argv[2], NULL, 0);
	printf("seed %llu\n", (unsigned long long)seed);
	cr_rng_seed(&rng, seed);
	RUN(test_limits);
	RUN(test_bad_ports);
	RUN(test_type_order);
	RUN(test_netgroup_distinct);
	RUN(test_skip_rules);
	RUN(test_feeler_cadence);
	RUN(test_feeler_collision);
	RUN(test_preferred_network);
	RUN(test_anchors_first);
	RUN(test_fixed_seeds);
	RUN(test_addr_fetch_and_semaphore);
	RUN(test_count_failure_and_v2);
	return check_done();
}
