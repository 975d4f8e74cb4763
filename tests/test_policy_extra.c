/* The scheduler's periodic rules and its small tools, with a fake clock
 * and a seeded RNG: stale-tip detection and the extra full-relay peer,
 * EvictExtraOutboundPeers for block-relay-only and full-relay peers with
 * Core's protections, the connected-address set, SipHash-2-4 and the
 * exponential timers (engine/policy/sched.h, ipset.h, siphash.h,
 * poisson.h). */
#include <math.h>
#include <stdlib.h>

#include "addrman_util.h"
#include "check.h"
#include "engine/policy/ipset.h"
#include "engine/policy/poisson.h"
#include "engine/policy/sched.h"
#include "engine/policy/siphash.h"

#define NOW_US (1700000000ll * 1000000)
#define MIN_US (60ll * 1000000)

static struct cr_rng rng;

static struct cr_sched_peer peer(uint64_t id, enum cr_ctype t, struct cr_netaddr a,
				 int64_t last_block_us)
{
	struct cr_sched_peer p;
	memset(&p, 0, sizeof p);
	p.id = id;
	p.seq = id;
	p.addr = a;
	p.type = (uint8_t)t;
	p.ready = true;
	p.connected_us = NOW_US - 60 * MIN_US;
	p.last_block_us = last_block_us;
	return p;
}

static void conf(struct cr_sched_conf *cf)
{
	cr_sched_conf_default(cf, CR_CHAIN_REGTEST, 18444, 125);
}

static void test_stale_tip(void)
{
	struct cr_sched_conf cf;
	conf(&cf);
	struct cr_sched_state st;
	cr_sched_state_init(&st, &cf, NOW_US, &rng);
	/* first check: the tip clock starts now, nothing is stale */
	cr_sched_check_stale_tip(&st, &cf, 0, false, false, NOW_US);
	CHECK(!st.try_new_outbound);
	/* tip 29 minutes old at the next check: not stale */
	int64_t t = NOW_US + 11 * MIN_US;
	cr_sched_check_stale_tip(&st, &cf, t - 29 * MIN_US, false, false, t);
	CHECK(!st.try_new_outbound);
	/* 31 minutes, but only checked every 10 minutes */
	cr_sched_check_stale_tip(&st, &cf, t - 31 * MIN_US, false, false, t + MIN_US);
	CHECK(!st.try_new_outbound);
	t += 11 * MIN_US;
	cr_sched_check_stale_tip(&st, &cf, t - 31 * MIN_US, false, false, t);
	CHECK(st.try_new_outbound);
	/* a block in flight: not stale (the next check clears the flag) */
	t += 11 * MIN_US;
	cr_sched_check_stale_tip(&st, &cf, t - 31 * MIN_US, true, false, t);
	CHECK(!st.try_new_outbound);
	/* -connect: never */
	cf.use_addrman_outgoing = false;
	t += 11 * MIN_US;
	cr_sched_check_stale_tip(&st, &cf, t - 60 * MIN_US, false, false, t);
	CHECK(!st.try_new_outbound);
	/* a recent tip starts the extra block-relay-only peers for good */
	CHECK(!st.start_extra_block_relay);
	cr_sched_check_stale_tip(&st, &cf, t, false, true, t);
	CHECK(st.start_extra_block_relay);
	cr_sched_check_stale_tip(&st, &cf, t, false, false, t + 20 * MIN_US);
	CHECK(st.start_extra_block_relay);
}

/* The stale tip brings one extra full-relay peer through the pass. */
static void test_stale_tip_extra_peer(void)
{
	struct cr_sched_conf cf;
	conf(&cf);
	struct cr_addrman *am = cr_addrman_new(am_test_key, NULL, 0);
	for (unsigned i = 0; i < 40; i++) {
		struct cr_peeraddr pa = am_pa(am_ip4(100, i, 1, 1), 18444, NOW_US / 1000000 - 60);
		pa.services = 9;
		struct cr_netaddr src = am_ip4(101, i, 1, 1);
		cr_addrman_add(am, &pa, 1, &src, 0, NOW_US / 1000000, &rng);
	}
	struct cr_sched_peer peers[10];
	for (unsigned i = 0; i < 10; i++)
		peers[i] = peer(i + 1, i < 8 ? CR_CT_FULL_RELAY : CR_CT_BLOCK_RELAY,
				am_ip4(110, i, 1, 1), 0);
	struct cr_sched_view v = {.peers = peers, .npeers = 10};
	struct cr_sched_state st;
	cr_sched_state_init(&st, &cf, NOW_US, &rng);
	st.next_feeler_us = st.next_extra_network_us = NOW_US + 60 * MIN_US;
	struct cr_sched_decision d;
	cr_sched_open_connections(&d, &st, &cf, &v, am, NOW_US, &rng);
	CHECK_EQ(d.action, CR_SCHED_NONE);
	st.try_new_outbound = true;
	cr_sched_open_connections(&d, &st, &cf, &v, am, NOW_US, &rng);
	CHECK_EQ(d.action, CR_SCHED_CONNECT);
	CHECK_EQ(d.type, CR_CT_FULL_RELAY);
	cr_addrman_free(am);
}

static void test_evict_block_relay(void)
{
	struct cr_sched_conf cf;
	conf(&cf);
	struct cr_sched_state st;
	cr_sched_state_init(&st, &cf, NOW_US, &rng);
	uint64_t out[2];
	/* at target: nothing */
	struct cr_sched_peer p[4] = {
		peer(1, CR_CT_BLOCK_RELAY, am_ip4(1, 1, 1, 1), NOW_US - 50 * MIN_US),
		peer(2, CR_CT_BLOCK_RELAY, am_ip4(2, 1, 1, 1), NOW_US - 40 * MIN_US),
		peer(3, CR_CT_BLOCK_RELAY, am_ip4(3, 1, 1, 1), NOW_US - 45 * MIN_US),
		peer(4, CR_CT_FULL_RELAY, am_ip4(4, 1, 1, 1), 0),
	};
	struct cr_sched_view v = {.peers = p, .npeers = 2};
	CHECK_EQ(cr_sched_evict_extra_outbound_peers(out, &st, &cf, &v, NOW_US), 0);
	/* the extra (youngest, id 3) brought its last block before the second
	 * youngest did: it goes */
	v.npeers = 4;
	CHECK_EQ(cr_sched_evict_extra_outbound_peers(out, &st, &cf, &v, NOW_US), 1);
	CHECK_EQ(out[0], 3);
	/* it brought a block more recently: the second youngest goes */
	p[2].last_block_us = NOW_US - MIN_US;
	CHECK_EQ(cr_sched_evict_extra_outbound_peers(out, &st, &cf, &v, NOW_US), 1);
	CHECK_EQ(out[0], 2);
	/* never a block from either: the youngest goes */
	p[1].last_block_us = p[2].last_block_us = 0;
	CHECK_EQ(cr_sched_evict_extra_outbound_peers(out, &st, &cf, &v, NOW_US), 1);
	CHECK_EQ(out[0], 3);
	/* connected 20 s ago: kept for now */
	p[2].connected_us = NOW_US - 20 * 1000000;
	CHECK_EQ(cr_sched_evict_extra_outbound_peers(out, &st, &cf, &v, NOW_US), 0);
	p[2].connected_us = NOW_US - 60 * MIN_US;
	/* a block in flight from it: kept */
	p[2].blocks_in_flight = true;
	CHECK_EQ(cr_sched_evict_extra_outbound_peers(out, &st, &cf, &v, NOW_US), 0);
	p[2].blocks_in_flight = false;
	/* a peer still connecting or already leaving does not count */
	p[2].ready = false;
	CHECK_EQ(cr_sched_evict_extra_outbound_peers(out, &st, &cf, &v, NOW_US), 0);
	p[2].ready = true;
	p[0].disconnecting = true;
	CHECK_EQ(cr_sched_evict_extra_outbound_peers(out, &st, &cf, &v, NOW_US), 0);
}

static void test_evict_full_relay(void)
{
	struct cr_sched_conf cf;
	conf(&cf);
	struct cr_sched_state st;
	cr_sched_state_init(&st, &cf, NOW_US, &rng);
	struct cr_sched_peer p[10];
	for (unsigned i = 0; i < 9; i++)
		p[i] = peer(i + 1, CR_CT_FULL_RELAY, am_ip4(10 + i, 1, 1, 1),
			    NOW_US - (int64_t)(i + 1) * MIN_US);
	uint64_t out[2];
	struct cr_sched_view v = {.peers = p, .npeers = 8};
	CHECK_EQ(cr_sched_evict_extra_outbound_peers(out, &st, &cf, &v, NOW_US), 0);
	/* nine: the one whose last announcement is oldest (id 9) */
	v.npeers = 9;
	st.try_new_outbound = true;
	CHECK_EQ(cr_sched_evict_extra_outbound_peers(out, &st, &cf, &v, NOW_US), 1);
	CHECK_EQ(out[0], 9);
	CHECK(!st.try_new_outbound);
	/* protected: the next oldest */
	p[8].chain_protected = true;
	CHECK_EQ(cr_sched_evict_extra_outbound_peers(out, &st, &cf, &v, NOW_US), 1);
	CHECK_EQ(out[0], 8);
	/* the only peer on its network stays (id 8 on IPv6) */
	p[7].addr = am_ip6(0x4444, 1);
	CHECK_EQ(cr_sched_evict_extra_outbound_peers(out, &st, &cf, &v, NOW_US), 1);
	CHECK_EQ(out[0], 7);
	/* ... unless a manual peer shares its network */
	p[9] = peer(20, CR_CT_MANUAL, am_ip6(0x5555, 1), 0);
	v.npeers = 10;
	CHECK_EQ(cr_sched_evict_extra_outbound_peers(out, &st, &cf, &v, NOW_US), 1);
	CHECK_EQ(out[0], 8);
	/* ties: the youngest connection */
	for (unsigned i = 0; i < 9; i++) {
		p[i].last_block_us = NOW_US - MIN_US;
		p[i].chain_protected = false;
		p[i].addr = am_ip4(10 + i, 1, 1, 1);
	}
	v.npeers = 9;
	CHECK_EQ(cr_sched_evict_extra_outbound_peers(out, &st, &cf, &v, NOW_US), 1);
	CHECK_EQ(out[0], 9);
	/* chosen but connected for less than 30 s: kept, flag stays */
	p[8].connected_us = NOW_US - 1000000;
	st.try_new_outbound = true;
	CHECK_EQ(cr_sched_evict_extra_outbound_peers(out, &st, &cf, &v, NOW_US), 0);
	CHECK(st.try_new_outbound);
}

static void test_ipset(void)
{
	struct cr_ipset s;
	CHECK_EQ(cr_ipset_init(&s, 11, 22), 0);
	/* 5,000 addresses, some twice; then removal in another order */
	for (unsigned i = 0; i < 5000; i++) {
		struct cr_netaddr a = am_ip4(10, i >> 8, i & 255, 1);
		CHECK_EQ(cr_ipset_add(&s, &a), 0);
		if (i % 3 == 0)
			CHECK_EQ(cr_ipset_add(&s, &a), 0);
	}
	CHECK_EQ(s.n, 5000);
	struct cr_netaddr a0 = am_ip4(10, 0, 0, 1), mapped;
	CHECK_EQ(cr_ipset_count(&s, &a0), 2);
	/* ::ffff:10.0.0.1 is the same host */
	memset(&mapped, 0, sizeof mapped);
	mapped.net = CR_NET_IPV6;
	mapped.len = 16;
	mapped.addr[10] = mapped.addr[11] = 0xff;
	mapped.addr[12] = 10;
	mapped.addr[15] = 1;
	CHECK_EQ(cr_ipset_count(&s, &mapped), 2);
	for (unsigned k = 0; k < 5000; k++) {
		unsigned i = (k * 7919) % 5000;
		struct cr_netaddr a = am_ip4(10, i >> 8, i & 255, 1);
		cr_ipset_remove(&s, &a);
		/* every other address is still found after each backward shift */
		if (k % 500 == 0)
			for (unsigned j = 0; j < 5000; j++) {
				struct cr_netaddr b = am_ip4(10, j >> 8, j & 255, 1);
				unsigned removed_before = 0;
				for (unsigned q = 0; q <= k; q++)
					removed_before += (q * 7919) % 5000 == j;
				unsigned want = (j % 3 == 0 ? 2 : 1) - removed_before;
				if (cr_ipset_count(&s, &b) != want) {
					CHECK_EQ(cr_ipset_count(&s, &b), want);
					break;
				}
			}
	}
	CHECK_EQ(s.n, 1667); /* the doubled ones still hold one */
	struct cr_netaddr other = am_ip4(11, 0, 0, 1);
	cr_ipset_remove(&s, &other); /* absent: no-op */
	CHECK(!cr_ipset_contains(&s, &other));
	cr_ipset_clear(&s);
}

/* Reference values of the SipHash paper (key 00..0f). */
static void test_siphash(void)
{
	uint8_t key[16], msg[64];
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	uint64_t k0 = 0, k1 = 0;
	for (int i = 7; i >= 0; i--) {
		k0 = k0 << 8 | key[i];
		k1 = k1 << 8 | key[8 + i];
	}
	CHECK(cr_siphash(k0, k1, msg, 0) == 0x726fdb47dd0e0e31ull);
	CHECK(cr_siphash(k0, k1, msg, 1) == 0x74f839c593dc67fdull);
	CHECK(cr_siphash(k0, k1, msg, 15) == 0xa129ca6149be45e5ull);
	/* incremental writes and u64 words equal the one-shot hash */
	struct cr_siphash h;
	cr_siphash_init(&h, k0, k1);
	cr_siphash_write(&h, msg, 3);
	cr_siphash_write(&h, msg + 3, 12);
	CHECK(cr_siphash_final(&h) == 0xa129ca6149be45e5ull);
	uint64_t w = 0x0706050403020100ull;
	cr_siphash_init(&h, k0, k1);
	cr_siphash_write_u64(&h, w);
	CHECK(cr_siphash_final(&h) == cr_siphash(k0, k1, msg, 8));
	cr_siphash_init(&h, k0, k1);
	cr_siphash_write(&h, msg, 1);
	cr_siphash_write_u64(&h, 0x0807060504030201ull);
	CHECK(cr_siphash_final(&h) == cr_siphash(k0, k1, msg, 9));
}

static void test_poisson(void)
{
	/* the mean and the memorylessness (the fraction above 2 means is e^-2) */
	double sum = 0;
	unsigned above = 0, negative = 0, n = 200000;
	for (unsigned i = 0; i < n; i++) {
		int64_t d = cr_rand_exp_us(&rng, 30000000);
		negative += d < 0;
		sum += (double)d;
		above += d > 60000000;
	}
	double mean = sum / n / 1e6;
	printf("mean %.3f s, above 60 s %.4f (e^-2 = 0.1353)\n", mean, (double)above / n);
	CHECK_EQ(negative, 0);
	CHECK(fabs(mean - 30.0) < 0.5);
	CHECK(fabs((double)above / n - exp(-2.0)) < 0.005);
	CHECK_EQ(cr_rand_exp_us(&rng, 0), 0);
	/* one shared timer per network class: due timers move, others stay */
	struct cr_inbound_timers t;
	memset(&t, 0, sizeof t);
	int64_t a = cr_next_inv_to_inbounds(&t, 1, NOW_US, 5000000, &rng);
	CHECK(a >= NOW_US);
	/* not yet due: every inbound peer of the class gets the same time */
	CHECK_EQ(cr_next_inv_to_inbounds(&t, 1, NOW_US, 5000000, &rng), a);
	int64_t b = cr_next_inv_to_inbounds(&t, 2, NOW_US, 5000000, &rng);
	CHECK(b >= NOW_US);
	CHECK_EQ(t.next_us[1], a); /* classes are independent */
	CHECK(cr_next_inv_to_inbounds(&t, 1, a + 1, 5000000, &rng) >= a + 1);
}

int main(int argc, char **argv)
{
	uint64_t seed = 8;
	if (argc > 2 && !strcmp(argv[1], "--seed"))
		seed = strtoull(argv[2], NULL, 0);
	printf("seed %llu\n", (unsigned long long)seed);
	cr_rng_seed(&rng, seed);
	RUN(test_stale_tip);
	RUN(test_stale_tip_extra_peer);
	RUN(test_evict_block_relay);
	RUN(test_evict_full_relay);
	RUN(test_ipset);
	RUN(test_siphash);
	RUN(test_poisson);
	return check_done();
}
