/* Address discovery rules with a fake clock and a seeded RNG: ProcessAddrs
 * (size limit, token bucket, time clamp, services, relay eligibility),
 * RelayAddress's choice of destinations, PushAddress/MaybeSendAddr timing
 * and self-advertisement, the getaddr cache and the DNS seed state machine
 * (engine/policy/addrrelay.h, addrcache.h, dnsseed.h). */
#include <errno.h>
#include <stdlib.h>

#include "addr/netclass.h"
#include "addrman_util.h"
#include "check.h"
#include "engine/policy/addrcache.h"
#include "engine/policy/addrrelay.h"
#include "engine/policy/poisson.h"
#include "engine/policy/dnsseed.h"
#include "proto/services.h"

#define NOW_S 1700000000ll
#define NOW_US (NOW_S * 1000000)
#define SVC (CR_NODE_NETWORK | CR_NODE_WITNESS)
#define REACH (CR_ADDRMAN_NET(CR_NET_IPV4) | CR_ADDRMAN_NET(CR_NET_IPV6))

static struct cr_rng rng;
static const struct cr_addr_keys keys = {0x1234, 0x5678};

static struct cr_peeraddr pa(unsigned a, unsigned b, int64_t t)
{
	struct cr_peeraddr p = am_pa(am_ip4(a, b, 1, 1), 8333, t);
	p.services = SVC;
	return p;
}

struct proc {
	struct cr_addr_process_out out;
	struct cr_peeraddr store[1001], relay[1001];
	bool reach[1001];
};

static void process(struct proc *p, struct cr_addr_relay *r, struct cr_peeraddr *v, size_t n,
		    int64_t now_us)
{
	cr_process_addrs(&p->out, p->store, p->relay, p->reach, r, &keys, v, n, REACH, 0, true,
			 NULL, now_us, &rng);
}

static void test_process_limits(void)
{
	static struct proc p;
	static struct cr_peeraddr v[1001];
	struct cr_addr_relay r;
	cr_addr_relay_init(&r, NOW_US);
	for (unsigned i = 0; i < 1001; i++)
		v[i] = pa(20 + i / 250, i % 250, NOW_S - 3600);
	/* more than 1,000 entries: misbehaviour, nothing taken */
	process(&p, &r, v, 1001, NOW_US);
	CHECK(p.out.misbehaving);
	CHECK_EQ(p.out.nstore, 0);
	/* a new peer has 1 token: of 1,000 entries one is taken */
	process(&p, &r, v, 1000, NOW_US);
	CHECK(!p.out.misbehaving);
	CHECK_EQ(p.out.nstore, 1);
	CHECK_EQ(r.rate_limited, 999);
	/* 0.1 per second: 100 s later, 10 more */
	process(&p, &r, v, 1000, NOW_US + 100 * 1000000ll);
	CHECK_EQ(p.out.nstore, 10);
	/* the bucket holds at most 1,000 however long the peer waits */
	process(&p, &r, v, 1000, NOW_US + 100 * 1000000ll + 86400ll * 1000000);
	CHECK_EQ(p.out.nstore, 1000);
	process(&p, &r, v, 1000, NOW_US + 101 * 1000000ll + 86400ll * 1000000);
	CHECK_EQ(p.out.nstore, 0);
	/* after our getaddr: 1,000 more in one answer */
	cr_addr_relay_getaddr_sent(&r);
	process(&p, &r, v, 1000, NOW_US + 101 * 1000000ll + 86400ll * 1000000);
	CHECK_EQ(p.out.nstore, 1000);
	CHECK_EQ(p.out.nrelay, 0); /* a getaddr answer is never relayed */
	/* the addr permission takes everything */
	struct cr_addr_relay r2;
	cr_addr_relay_init(&r2, NOW_US);
	r2.addr_perm = true;
	process(&p, &r2, v, 1000, NOW_US);
	CHECK_EQ(p.out.nstore, 1000);
	cr_addr_relay_clear(&r);
	cr_addr_relay_clear(&r2);
}

static void test_process_rules(void)
{
	static struct proc p;
	struct cr_addr_relay r;
	cr_addr_relay_init(&r, NOW_US);
	r.addr_perm = true;
	struct cr_peeraddr v[6];
	v[0] = pa(30, 1, NOW_S - 60);           /* fresh: stored and relayed */
	v[1] = pa(30, 2, NOW_S + 3600);         /* from the future: 5 days old */
	v[2] = pa(30, 3, 5);                    /* before 1973: 5 days old */
	v[3] = pa(30, 4, NOW_S - 60);
	v[3].services = CR_NODE_BLOOM;          /* no address database: dropped */
	v[4] = am_pa(am_tor(3), 8333, NOW_S - 60); /* unreachable: relayed, not stored */
	v[4].services = SVC;
	v[5] = am_pa(am_ip4(10, 0, 0, 1), 8333, NOW_S - 60); /* private: not relayed */
	v[5].services = SVC;
	process(&p, &r, v, 6, NOW_US);
	CHECK_EQ(p.out.nstore, 4);
	CHECK_EQ(p.out.nrelay, 2);
	for (size_t i = 0; i < p.out.nstore; i++) {
		CHECK(p.store[i].time <= NOW_S);
		if (p.store[i].na.addr[0] == 30 && p.store[i].na.addr[1] != 1)
			CHECK_EQ(p.store[i].time, NOW_S - 5 * 86400);
	}
	for (size_t i = 0; i < p.out.nrelay; i++)
		CHECK_EQ(p.reach[i], p.relay[i].na.net == CR_NET_IPV4);
	CHECK(p.out.fetch_done);
	/* more than 10 entries: not relayed */
	struct cr_peeraddr w[11];
	for (int i = 0; i < 11; i++)
		w[i] = pa(31, (unsigned)i, NOW_S - 60);
	process(&p, &r, w, 11, NOW_US);
	CHECK_EQ(p.out.nrelay, 0);
	CHECK_EQ(p.out.nstore, 11);
	/* banned: only remembered as known */
	struct cr_banlist *bl = cr_banlist_new(1, 2);
	struct cr_peeraddr b = pa(32, 1, NOW_S - 60);
	cr_banlist_discourage(bl, &b.na);
	cr_process_addrs(&p.out, p.store, p.relay, p.reach, &r, &keys, &b, 1, REACH, 0, true, bl,
			 NOW_US, &rng);
	CHECK_EQ(p.out.nstore, 0);
	CHECK(cr_addr_known_contains(&r, &keys, &b));
	CHECK(!p.out.fetch_done); /* a single entry is a self-announcement */
	cr_banlist_free(bl);
	cr_addr_relay_clear(&r);
}

static void test_relay_choice(void)
{
	uint64_t ids[200];
	bool v2[200];
	for (int i = 0; i < 200; i++) {
		ids[i] = 1000 + (uint64_t)i;
		v2[i] = i % 2;
	}
	struct cr_peeraddr a = pa(40, 1, NOW_S);
	size_t best[2], again[2];
	/* reachable: 2 peers, the same all day (for a given address) */
	CHECK_EQ(cr_relay_address(best, &a, true, 0, ids, v2, 200, &keys, NOW_US), 2);
	CHECK(best[0] != best[1]);
	CHECK_EQ(cr_relay_address(again, &a, true, 0, ids, v2, 200, &keys, NOW_US + 3600ll * 1000000),
		 2);
	unsigned same_hour = again[0] == best[0] && again[1] == best[1];
	/* the originator is never chosen */
	CHECK_EQ(cr_relay_address(again, &a, true, ids[best[0]], ids, v2, 200, &keys, NOW_US), 2);
	CHECK(again[0] != best[0] && again[1] != best[0]);
	/* another day, other peers (for most addresses) */
	unsigned moved = 0, stayed = 0;
	for (unsigned i = 0; i < 50; i++) {
		struct cr_peeraddr b = pa(41, i, NOW_S);
		size_t d1[2], d2[2];
		cr_relay_address(d1, &b, true, 0, ids, v2, 200, &keys, NOW_US);
		cr_relay_address(d2, &b, true, 0, ids, v2, 200, &keys, NOW_US + 2 * 86400ll * 1000000);
		moved += d1[0] != d2[0];
		size_t d3[2];
		cr_relay_address(d3, &b, true, 0, ids, v2, 200, &keys, NOW_US + 60 * 1000000);
		stayed += d1[0] == d3[0]; /* a minute later: same unless the day turned */
	}
	CHECK(moved > 40);
	CHECK(stayed >= 48);
	(void)same_hour;
	/* unreachable: 1 or 2 by the hash, both occur */
	unsigned ones = 0, twos = 0;
	for (unsigned i = 0; i < 100; i++) {
		struct cr_peeraddr t = am_pa(am_tor(i), 8333, NOW_S);
		size_t n = cr_relay_address(best, &t, false, 0, ids, v2, 200, &keys, NOW_US);
		ones += n == 1;
		twos += n == 2;
		/* a Tor address only goes to addrv2 peers */
		for (size_t j = 0; j < n; j++)
			CHECK(v2[best[j]]);
	}
	CHECK(ones > 20 && twos > 20);
	/* one candidate */
	CHECK_EQ(cr_relay_address(best, &a, true, 0, ids, v2, 1, &keys, NOW_US), 1);
	CHECK_EQ(best[0], 0);
	CHECK_EQ(cr_relay_address(best, &a, true, ids[0], ids, v2, 1, &keys, NOW_US), 0);
}

static void test_push_and_send(void)
{
	struct cr_addr_relay r;
	cr_addr_relay_init(&r, NOW_US);
	struct cr_peeraddr out[CR_ADDR_QUEUE_MAX];
	int64_t next;
	/* nothing queued: nothing to do */
	CHECK_EQ(cr_maybe_send_addr(out, &r, &keys, NULL, NOW_US, &next, &rng), 0);
	CHECK(next == INT64_MAX);
	struct cr_peeraddr a = pa(50, 1, NOW_S);
	CHECK_EQ(cr_push_address(&r, &keys, &a, NOW_US, &rng), 0);
	CHECK_EQ(r.nqueue, 1);
	CHECK(r.next_send_us >= NOW_US);
	int64_t due = r.next_send_us;
	CHECK_EQ(cr_maybe_send_addr(out, &r, &keys, NULL, due, &next, &rng), 0);
	CHECK_EQ(next, due);
	CHECK_EQ(cr_maybe_send_addr(out, &r, &keys, NULL, due + 1, &next, &rng), 1);
	CHECK(r.queue == NULL);
	/* now known: pushing it again queues nothing */
	CHECK_EQ(cr_push_address(&r, &keys, &a, due + 2, &rng), 0);
	CHECK_EQ(r.nqueue, 0);
	/* a Tor address to a peer without addrv2: not queued */
	struct cr_peeraddr t = am_pa(am_tor(1), 8333, NOW_S);
	cr_push_address(&r, &keys, &t, due + 2, &rng);
	CHECK_EQ(r.nqueue, 0);
	r.wants_addrv2 = true;
	cr_push_address(&r, &keys, &t, due + 2, &rng);
	CHECK_EQ(r.nqueue, 1);
	/* a full queue replaces at random and stays bounded */
	for (unsigned i = 0; i < 500; i++) {
		struct cr_peeraddr b = pa(51, i % 250, NOW_S);
		b.na.addr[2] = (uint8_t)(i / 250);
		cr_push_address(&r, &keys, &b, due + 2, &rng);
	}
	CHECK_EQ(r.nqueue, CR_ADDR_QUEUE_MAX);
	/* send intervals: exponential with a 30 s mean (measured over pushes
	 * made right after each send, so the interval is the timer's) */
	double sum = 0;
	int64_t now = due + 10;
	for (int i = 0; i < 2000; i++) {
		struct cr_peeraddr c = pa(52, (unsigned)i % 250, NOW_S);
		c.na.addr[2] = (uint8_t)(i / 250);
		cr_maybe_send_addr(out, &r, &keys, NULL, now + 100000000000ll, &next, &rng);
		now += 100000000000ll;
		cr_push_address(&r, &keys, &c, now, &rng);
		sum += (double)(r.next_send_us - now);
	}
	printf("mean addr send delay %.2f s\n", sum / 2000 / 1e6);
	CHECK(sum / 2000 / 1e6 > 27 && sum / 2000 / 1e6 < 33);
	/* the mean is the relay state's (engine: addr_send_interval_ms) */
	CHECK_EQ(r.send_mean_us, CR_AVG_ADDR_SEND_US);
	r.send_mean_us = 1000000;
	sum = 0;
	for (int i = 0; i < 2000; i++) {
		struct cr_peeraddr c = pa(53, (unsigned)i % 250, NOW_S);
		c.na.addr[2] = (uint8_t)(i / 250);
		cr_maybe_send_addr(out, &r, &keys, NULL, now + 100000000000ll, &next, &rng);
		now += 100000000000ll;
		cr_push_address(&r, &keys, &c, now, &rng);
		sum += (double)(r.next_send_us - now);
	}
	printf("mean addr send delay with a 1 s mean %.3f s\n", sum / 2000 / 1e6);
	CHECK(sum / 2000 / 1e6 > 0.9 && sum / 2000 / 1e6 < 1.1);
	/* the known filter is a ring of CR_ADDR_KNOWN_MAX: the oldest of
	 * one more is forgotten, the newest kept */
	struct cr_peeraddr k0 = pa(54, 0, NOW_S), kn = pa(54, CR_ADDR_KNOWN_MAX, NOW_S);
	for (unsigned i = 0; i <= CR_ADDR_KNOWN_MAX; i++) {
		struct cr_peeraddr c = pa(54, i, NOW_S);
		CHECK_EQ(cr_addr_known_insert(&r, &keys, &c), 0);
	}
	CHECK(r.known_n <= CR_ADDR_KNOWN_MAX);
	CHECK(!cr_addr_known_contains(&r, &keys, &k0));
	CHECK(cr_addr_known_contains(&r, &keys, &kn));
	cr_addr_relay_clear(&r);
}

static void test_self_advertisement(void)
{
	struct cr_addr_relay r;
	cr_addr_relay_init(&r, NOW_US);
	struct cr_peeraddr self = pa(60, 1, NOW_S), out[CR_ADDR_QUEUE_MAX];
	int64_t next;
	/* the first one at once, then every 24 h on average */
	cr_maybe_send_addr(out, &r, &keys, &self, NOW_US, &next, &rng);
	CHECK_EQ(r.nqueue, 1);
	CHECK(r.next_local_us > NOW_US);
	size_t n = cr_maybe_send_addr(out, &r, &keys, &self, r.next_send_us + 1, &next, &rng);
	CHECK_EQ(n, 1);
	CHECK(cr_addr_known_contains(&r, &keys, &self));
	/* at the next self-advertisement the peer's known set is forgotten,
	 * so our own address really goes out again */
	int64_t t = r.next_local_us + 1;
	cr_maybe_send_addr(out, &r, &keys, &self, t, &next, &rng);
	CHECK_EQ(r.nqueue, 1);
	double sum = 0;
	int64_t now = NOW_US;
	for (int i = 0; i < 1000; i++) {
		struct cr_addr_relay q;
		cr_addr_relay_init(&q, now);
		q.next_local_us = 1; /* sent before */
		cr_maybe_send_addr(out, &q, &keys, &self, now, &next, &rng);
		sum += (double)(q.next_local_us - now);
		cr_addr_relay_clear(&q);
	}
	printf("mean self-advertisement interval %.1f h\n", sum / 1000 / 3.6e9);
	CHECK(sum / 1000 / 3.6e9 > 21 && sum / 1000 / 3.6e9 < 27);
	/* a shorter mean (tests' local_addr_interval_ms) is the one drawn */
	sum = 0;
	for (int i = 0; i < 1000; i++) {
		struct cr_addr_relay q;
		cr_addr_relay_init(&q, now);
		CHECK_EQ(q.local_mean_us, CR_AVG_LOCAL_ADDR_SEND_US);
		q.local_mean_us = 1000000;
		cr_maybe_send_addr(out, &q, &keys, &self, now, &next, &rng);
		sum += (double)(q.next_local_us - now);
		cr_addr_relay_clear(&q);
	}
	CHECK(sum / 1000 > 0.85e6 && sum / 1000 < 1.15e6);
	cr_addr_relay_clear(&r);
}

static void test_getaddr_cache(void)
{
	struct cr_addrman *am = cr_addrman_new(am_test_key, NULL, 0);
	for (unsigned i = 0; i < 8000; i++) {
		struct cr_peeraddr p = pa(70 + i / 250, i % 250, NOW_S - 3600);
		struct cr_netaddr src = am_ip4(200, (uint8_t)(i % 64), 1, 1);
		cr_addrman_add(am, &p, 1, &src, 0, NOW_S, &rng);
	}
	size_t total = cr_addrman_size(am, 0, CR_ADDRMAN_ANY);
	struct cr_addrcache c;
	cr_addrcache_init(&c);
	struct cr_netaddr local = am_ip4(1, 2, 3, 4);
	uint64_t id = cr_addrcache_id(&keys, 1, &local, 8333);
	uint64_t id6 = cr_addrcache_id(&keys, 2, &local, 8333);
	CHECK(id != id6);
	const struct cr_peeraddr *a, *b;
	size_t na, nb;
	CHECK_EQ(cr_addrcache_get(&a, &na, &c, id, am, NULL, NOW_US, &rng), 0);
	/* at most 1,000 and 23% */
	CHECK(na <= 1000 && na <= total * 23 / 100 + 1);
	CHECK(na > 900);
	struct cr_peeraddr first = a[0];
	/* the same answer for 21 hours whatever is asked in between */
	CHECK_EQ(cr_addrcache_get(&b, &nb, &c, id, am, NULL, NOW_US + 21 * 3600ll * 1000000, &rng), 0);
	CHECK_EQ(nb, na);
	CHECK(cr_addr_equal(&b[0].na, &first.na));
	/* another key, another answer */
	CHECK_EQ(cr_addrcache_get(&b, &nb, &c, id6, am, NULL, NOW_US, &rng), 0);
	/* redrawn after at most 27 hours */
	CHECK_EQ(cr_addrcache_get(&b, &nb, &c, id, am, NULL, NOW_US + 27 * 3600ll * 1000000 + 1, &rng),
		 0);
	CHECK(!cr_addr_equal(&b[0].na, &first.na) || !cr_addr_equal(&b[1].na, &a[1].na));
	/* many keys: bounded slots */
	for (unsigned i = 0; i < 100; i++)
		cr_addrcache_get(&b, &nb, &c, 777 + i, am, NULL, NOW_US, &rng);
	unsigned used = 0;
	for (int i = 0; i < CR_ADDRCACHE_SLOTS; i++)
		used += c.e[i].expire_us != 0;
	CHECK_EQ(used, CR_ADDRCACHE_SLOTS);
	cr_addrcache_clear(&c);
	cr_addrman_free(am);
}

static void test_dnsseed(void)
{
	struct cr_dnsseed st;
	struct cr_dnsseed_input in;
	memset(&in, 0, sizeof in);
	size_t seed;
	int64_t wake;
	/* empty table: every seed at once, each a query; then done */
	cr_dnsseed_init(&st, 5, NOW_US, &rng);
	unsigned seen = 0;
	for (int i = 0; i < 5; i++) {
		CHECK_EQ(cr_dnsseed_step(&st, &in, NOW_US, &seed, &wake), CR_DNSSEED_QUERY);
		seen |= 1u << seed;
		in.pending = 1; /* one at a time */
		CHECK_EQ(cr_dnsseed_step(&st, &in, NOW_US, &seed, &wake), CR_DNSSEED_WAIT);
		in.pending = 0;
	}
	CHECK_EQ(seen, 0x1f);
	CHECK_EQ(cr_dnsseed_step(&st, &in, NOW_US, &seed, &wake), CR_DNSSEED_DONE);

	/* a known table: wait 11 s, then 3 seeds, wait, ... */
	in.addrman_size = 50;
	cr_dnsseed_init(&st, 5, NOW_US, &rng);
	CHECK_EQ(cr_dnsseed_step(&st, &in, NOW_US, &seed, &wake), CR_DNSSEED_WAIT);
	CHECK_EQ(wake, NOW_US + CR_DNSSEED_DELAY_FEW_US);
	CHECK_EQ(cr_dnsseed_step(&st, &in, wake - 1, &seed, &wake), CR_DNSSEED_WAIT);
	int64_t t = NOW_US + CR_DNSSEED_DELAY_FEW_US;
	for (int i = 0; i < 3; i++)
		CHECK_EQ(cr_dnsseed_step(&st, &in, t, &seed, &wake), CR_DNSSEED_QUERY);
	CHECK_EQ(cr_dnsseed_step(&st, &in, t, &seed, &wake), CR_DNSSEED_WAIT);
	/* two full-relay peers during the wait: done for good */
	in.full_outbound = 2;
	CHECK_EQ(cr_dnsseed_step(&st, &in, wake, &seed, &wake), CR_DNSSEED_DONE);
	in.full_outbound = 0;

	/* a big table waits 5 minutes, checked every 11 s */
	in.addrman_size = 5000;
	cr_dnsseed_init(&st, 2, NOW_US, &rng);
	CHECK_EQ(cr_dnsseed_step(&st, &in, NOW_US, &seed, &wake), CR_DNSSEED_WAIT);
	unsigned chunks = 0;
	enum cr_dnsseed_action act;
	while ((act = cr_dnsseed_step(&st, &in, wake, &seed, &wake)) == CR_DNSSEED_WAIT)
		chunks++;
	CHECK_EQ(act, CR_DNSSEED_QUERY);
	CHECK_EQ(chunks, 27); /* 300 s in 11 s steps: 28 chunks, the last ends the wait */

	/* -forcednsseed asks all at once; with a proxy they become addr-fetches */
	in.force = true;
	in.name_proxy = true;
	cr_dnsseed_init(&st, 2, NOW_US, &rng);
	CHECK_EQ(cr_dnsseed_step(&st, &in, NOW_US, &seed, &wake), CR_DNSSEED_FETCH);
	CHECK_EQ(cr_dnsseed_step(&st, &in, NOW_US, &seed, &wake), CR_DNSSEED_FETCH);
	CHECK_EQ(cr_dnsseed_step(&st, &in, NOW_US, &seed, &wake), CR_DNSSEED_DONE);
	in.force = in.name_proxy = false;

	/* -seednode: 30 s for the seed nodes; 2 peers by then skip the seeds */
	in.seednode = true;
	in.addrman_size = 100;
	cr_dnsseed_init(&st, 3, NOW_US, &rng);
	CHECK_EQ(cr_dnsseed_step(&st, &in, NOW_US + 1000000, &seed, &wake), CR_DNSSEED_WAIT);
	in.full_outbound = 2;
	CHECK_EQ(cr_dnsseed_step(&st, &in, NOW_US + 2000000, &seed, &wake), CR_DNSSEED_DONE);
	/* ... and after 30 s without them, the seeds after all */
	in.full_outbound = 0;
	in.addrman_size = 0;
	cr_dnsseed_init(&st, 3, NOW_US, &rng);
	CHECK_EQ(cr_dnsseed_step(&st, &in, NOW_US + 29000000, &seed, &wake), CR_DNSSEED_WAIT);
	CHECK_EQ(cr_dnsseed_step(&st, &in, NOW_US + 31000000, &seed, &wake), CR_DNSSEED_QUERY);

	/* results: at most 32, from the x9 source, 3 to 7 days old */
	struct cr_addrman *am = cr_addrman_new(am_test_key, NULL, 0);
	struct cr_netaddr ips[40];
	for (int i = 0; i < 40; i++)
		ips[i] = am_ip4(80, (unsigned)i, 1, 1);
	CHECK_EQ(cr_dnsseed_add(am, ips, 40, "seed.example", 8333, NOW_US, &rng), 32);
	struct cr_addrman_info info;
	CHECK_EQ(cr_addrman_find(am, &ips[0], 8333, &info), 0);
	CHECK(info.addr.time <= NOW_S - 3 * 86400 && info.addr.time >= NOW_S - 7 * 86400);
	CHECK_EQ(info.addr.services, SVC);
	struct cr_netaddr src;
	cr_seeds_source(&src, "x9.seed.example");
	CHECK(memcmp(&info.source, &src, sizeof src) == 0);
	CHECK_EQ(cr_addrman_find(am, &ips[35], 8333, &info), -ENOENT);
	cr_addrman_free(am);
}

/* Runs steps at now_us until one is not a WAIT (at most 1,000). */
static enum cr_dnsseed_action dnsseed_until(struct cr_dnsseed *st, const struct cr_dnsseed_input *in,
					    int64_t *now_us, size_t *seed)
{
	int64_t wake;
	enum cr_dnsseed_action act = CR_DNSSEED_WAIT;
	for (int i = 0; i < 1000 && (act = cr_dnsseed_step(st, in, *now_us, seed, &wake)) == CR_DNSSEED_WAIT; i++)
		*now_us = wake;
	return act;
}

/* The rest of Core's ThreadDNSAddressSeed (net.cpp), case by case. */
static void test_dnsseed_core_cases(void)
{
	struct cr_dnsseed st;
	struct cr_dnsseed_input in;
	size_t seed;
	int64_t wake, t;

	/* the name asked is "x9.<seed>": NODE_NETWORK | NODE_WITNESS */
	CHECK_EQ(CR_SEEDS_SERVICES, 9);

	/* DNSSEEDS_DELAY_PEER_THRESHOLD: 999 addresses wait 11 s, 1,000
	 * wait 5 minutes (the first 11 s chunk then only a wake-up) */
	memset(&in, 0, sizeof in);
	in.addrman_size = CR_DNSSEED_PEER_THRESHOLD - 1;
	cr_dnsseed_init(&st, 4, NOW_US, &rng);
	CHECK_EQ(cr_dnsseed_step(&st, &in, NOW_US, &seed, &wake), CR_DNSSEED_WAIT);
	CHECK_EQ(cr_dnsseed_step(&st, &in, NOW_US + CR_DNSSEED_DELAY_FEW_US, &seed, &wake), CR_DNSSEED_QUERY);
	in.addrman_size = CR_DNSSEED_PEER_THRESHOLD;
	cr_dnsseed_init(&st, 4, NOW_US, &rng);
	CHECK_EQ(cr_dnsseed_step(&st, &in, NOW_US, &seed, &wake), CR_DNSSEED_WAIT);
	CHECK_EQ(wake, NOW_US + CR_DNSSEED_DELAY_FEW_US);
	CHECK_EQ(cr_dnsseed_step(&st, &in, wake, &seed, &wake), CR_DNSSEED_WAIT);
	t = NOW_US;
	CHECK_EQ(dnsseed_until(&st, &in, &t, &seed), CR_DNSSEED_QUERY);
	CHECK_EQ(t, NOW_US + CR_DNSSEED_DELAY_MANY_US);

	/* no peers ever: wait, 3 seeds, wait again (from the last step), the
	 * other 2, done; every seed once */
	in.addrman_size = 50;
	cr_dnsseed_init(&st, 5, NOW_US, &rng);
	t = NOW_US;
	unsigned seen = 0;
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(dnsseed_until(&st, &in, &t, &seed), CR_DNSSEED_QUERY);
		seen |= 1u << seed;
	}
	CHECK_EQ(t, NOW_US + CR_DNSSEED_DELAY_FEW_US);
	t += 7000000; /* the lookups took 7 s */
	CHECK_EQ(cr_dnsseed_step(&st, &in, t, &seed, &wake), CR_DNSSEED_WAIT);
	CHECK_EQ(wake, t + CR_DNSSEED_DELAY_FEW_US);
	for (int i = 0; i < 2; i++) {
		CHECK_EQ(dnsseed_until(&st, &in, &t, &seed), CR_DNSSEED_QUERY);
		seen |= 1u << seed;
	}
	CHECK_EQ(seen, 0x1f);
	CHECK_EQ(cr_dnsseed_step(&st, &in, t, &seed, &wake), CR_DNSSEED_DONE);
	/* done stays done, whatever the inputs */
	in.pending = 1;
	in.force = true;
	CHECK_EQ(cr_dnsseed_step(&st, &in, t + CR_DNSSEED_DELAY_MANY_US, &seed, &wake), CR_DNSSEED_DONE);
	in.pending = 0;
	in.force = false;

	/* a lookup still running holds the next one back, even when due */
	cr_dnsseed_init(&st, 5, NOW_US, &rng);
	t = NOW_US;
	CHECK_EQ(dnsseed_until(&st, &in, &t, &seed), CR_DNSSEED_QUERY);
	in.pending = 1;
	CHECK_EQ(cr_dnsseed_step(&st, &in, t, &seed, &wake), CR_DNSSEED_WAIT);
	in.pending = 0;
	CHECK_EQ(cr_dnsseed_step(&st, &in, t, &seed, &wake), CR_DNSSEED_QUERY);

	/* all at once on an empty table: peers arriving meanwhile do not stop
	 * it (Core checks them only in the waits) */
	memset(&in, 0, sizeof in);
	cr_dnsseed_init(&st, 4, NOW_US, &rng);
	CHECK_EQ(cr_dnsseed_step(&st, &in, NOW_US, &seed, &wake), CR_DNSSEED_QUERY);
	in.full_outbound = 8;
	for (int i = 0; i < 3; i++)
		CHECK_EQ(cr_dnsseed_step(&st, &in, NOW_US, &seed, &wake), CR_DNSSEED_QUERY);
	CHECK_EQ(cr_dnsseed_step(&st, &in, NOW_US, &seed, &wake), CR_DNSSEED_DONE);

	/* -seednode polls every 500 ms */
	memset(&in, 0, sizeof in);
	in.seednode = true;
	in.addrman_size = 100;
	cr_dnsseed_init(&st, 3, NOW_US, &rng);
	CHECK_EQ(cr_dnsseed_step(&st, &in, NOW_US + 1000, &seed, &wake), CR_DNSSEED_WAIT);
	CHECK_EQ(wake, NOW_US + 1000 + CR_DNSSEED_POLL_US);
	/* 2 peers through the seed nodes but an empty table, or
	 * -forcednsseed: the seeds are asked all the same, all at once */
	in.full_outbound = 2;
	in.addrman_size = 0;
	cr_dnsseed_init(&st, 3, NOW_US, &rng);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(cr_dnsseed_step(&st, &in, NOW_US, &seed, &wake), CR_DNSSEED_QUERY);
	CHECK_EQ(cr_dnsseed_step(&st, &in, NOW_US, &seed, &wake), CR_DNSSEED_DONE);
	in.addrman_size = 100;
	in.force = true;
	cr_dnsseed_init(&st, 3, NOW_US, &rng);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(cr_dnsseed_step(&st, &in, NOW_US, &seed, &wake), CR_DNSSEED_QUERY);
	CHECK_EQ(cr_dnsseed_step(&st, &in, NOW_US, &seed, &wake), CR_DNSSEED_DONE);
	/* seed nodes gave nothing in 30 s and the table is not empty: the
	 * usual 11 s wait follows, then 3 seeds, through the proxy if any */
	in.force = false;
	in.full_outbound = 1;
	in.name_proxy = true;
	cr_dnsseed_init(&st, 5, NOW_US, &rng);
	t = NOW_US + CR_DNSSEED_SEEDNODE_US + 1;
	CHECK_EQ(cr_dnsseed_step(&st, &in, t, &seed, &wake), CR_DNSSEED_WAIT);
	CHECK_EQ(wake, t + CR_DNSSEED_DELAY_FEW_US);
	t = wake;
	for (int i = 0; i < 3; i++)
		CHECK_EQ(cr_dnsseed_step(&st, &in, t, &seed, &wake), CR_DNSSEED_FETCH);
	CHECK_EQ(cr_dnsseed_step(&st, &in, t, &seed, &wake), CR_DNSSEED_WAIT);
	CHECK_EQ(wake, t + CR_DNSSEED_DELAY_FEW_US);

	/* a chain without DNS seeds (regtest): done at once */
	memset(&in, 0, sizeof in);
	cr_dnsseed_init(&st, 0, NOW_US, &rng);
	CHECK_EQ(cr_dnsseed_step(&st, &in, NOW_US, &seed, &wake), CR_DNSSEED_DONE);
	in.addrman_size = 100;
	cr_dnsseed_init(&st, 0, NOW_US, &rng);
	CHECK_EQ(cr_dnsseed_step(&st, &in, NOW_US, &seed, &wake), CR_DNSSEED_DONE);
}

int main(int argc, char **argv)
{
	uint64_t seed = 8;
	if (argc > 2 && !strcmp(argv[1], "--seed"))
		seed = strtoull(argv[2], NULL, 0);
	printf("seed %llu\n", (unsigned long long)seed);
	cr_rng_seed(&rng, seed);
	RUN(test_process_limits);
	RUN(test_process_rules);
	RUN(test_relay_choice);
	RUN(test_push_and_send);
	RUN(test_self_advertisement);
	RUN(test_getaddr_cache);
	RUN(test_dnsseed);
	RUN(test_dnsseed_core_cases);
	return check_done();
}
