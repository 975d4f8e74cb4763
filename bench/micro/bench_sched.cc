// One pass of the open-connections scheduler (engine/policy/sched.h) with
// a 65,536-entry address manager and 100,000 connected peers (their
// addresses in the connected set the pass consults), beside the raw
// addrman Select it is built on. Passes: slots full and nothing due (the
// common pass), one full-relay slot free (a full address choice), a feeler
// due, and the extra-peer eviction check. Goal (issue 8): a pass <= 1 ms.
// CR_BENCH_QUICK=1 fills 8,192 entries and 10,000 peers.
#include "gbench_util.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

extern "C" {
#include "addr/addrman.h"
#include "engine/policy/ipset.h"
#include "engine/policy/sched.h"
#include "proto/services.h"
}

namespace {

constexpr int64_t kNowS = 1700000000;
constexpr int64_t kNowUs = kNowS * 1000000;

cr_netaddr IPv4(uint32_t v)
{
	cr_netaddr a;
	memset(&a, 0, sizeof(a));
	a.net = CR_NET_IPV4;
	a.len = 4;
	a.addr[0] = (uint8_t)(v >> 24);
	a.addr[1] = (uint8_t)(v >> 16);
	a.addr[2] = (uint8_t)(v >> 8);
	a.addr[3] = (uint8_t)v;
	return a;
}

cr_netaddr RandomRoutable(cr_rng *r)
{
	// 11.0.0.0 .. 99.255.255.255: no reserved range
	return IPv4((uint32_t)cr_rng_below(r, 89u << 24) + (11u << 24));
}

struct World {
	cr_addrman *am;
	cr_ipset connected;
	cr_rng rng;
	cr_sched_conf cf;
	std::vector<cr_sched_peer> out;
	size_t entries, peers;

	World()
	{
		uint8_t key[32] = {8, 8, 8};
		am = cr_addrman_new(key, nullptr, 0);
		if (!am || cr_ipset_init(&connected, 1, 2) < 0)
			abort();
		cr_rng_seed(&rng, 8);
		size_t target = bench_quick() ? 8192 : 65536;
		peers = bench_quick() ? 10000 : 100000;
		for (int i = 0; i < 4000000 && cr_addrman_size(am, 0, CR_ADDRMAN_ANY) < target; i++) {
			cr_peeraddr p;
			memset(&p, 0, sizeof(p));
			p.na = RandomRoutable(&rng);
			p.port = 8333;
			p.time = (uint32_t)(kNowS - (int64_t)cr_rng_below(&rng, 86400));
			p.services = CR_NODE_NETWORK | CR_NODE_WITNESS;
			cr_netaddr src = RandomRoutable(&rng);
			cr_addrman_add(am, &p, 1, &src, 0, kNowS, &rng);
			if (i % 3 == 0)
				cr_addrman_good(am, &p.na, 8333, true, kNowS);
		}
		entries = cr_addrman_size(am, 0, CR_ADDRMAN_ANY);
		for (size_t i = 0; i < peers; i++) {
			cr_netaddr a = IPv4((uint32_t)(200u << 24) + (uint32_t)i); // inbound
			cr_ipset_add(&connected, &a);
		}
		cr_sched_conf_default(&cf, CR_CHAIN_MAIN, 8333, 125);
		cf.fixedseeds = false;
		for (unsigned i = 0; i < 10; i++) {
			cr_sched_peer p;
			memset(&p, 0, sizeof(p));
			p.id = p.seq = i + 1;
			p.addr = IPv4((100u + i) << 24 | 1);
			p.type = i < 8 ? CR_CT_FULL_RELAY : CR_CT_BLOCK_RELAY;
			p.ready = true;
			p.connected_us = kNowUs - 3600ll * 1000000;
			out.push_back(p);
			cr_ipset_add(&connected, &p.addr);
		}
	}
	~World()
	{
		cr_ipset_clear(&connected);
		cr_addrman_free(am);
	}
	cr_sched_view View(size_t n)
	{
		cr_sched_view v;
		memset(&v, 0, sizeof(v));
		v.peers = out.data();
		v.npeers = n;
		v.connected = &connected;
		return v;
	}
};

World &TheWorld()
{
	static World w;
	return w;
}

void Counters(benchmark::State &state, const World &w)
{
	state.counters["entries"] = (double)w.entries;
	state.counters["peers"] = (double)w.peers;
}

// Raw baseline: one addrman Select.
void BM_AddrmanSelect(benchmark::State &state)
{
	World &w = TheWorld();
	for (auto _ : state) {
		cr_peeraddr p;
		int64_t lt;
		benchmark::DoNotOptimize(cr_addrman_select(w.am, &p, &lt, false, 0, kNowS, &w.rng));
	}
	Counters(state, w);
}
BENCHMARK(BM_AddrmanSelect);

// Slots full, no timer due: what nearly every pass does.
void BM_PassIdle(benchmark::State &state)
{
	World &w = TheWorld();
	cr_sched_state st;
	cr_sched_state_init(&st, &w.cf, kNowUs, &w.rng);
	st.next_feeler_us = st.next_extra_block_relay_us = st.next_extra_network_us = INT64_MAX;
	cr_sched_view v = w.View(10);
	for (auto _ : state) {
		cr_sched_decision d;
		cr_sched_open_connections(&d, &st, &w.cf, &v, w.am, kNowUs, &w.rng);
		benchmark::DoNotOptimize(d.action);
	}
	Counters(state, w);
}
BENCHMARK(BM_PassIdle);

// One full-relay slot free: the address choice loop runs.
void BM_PassFillSlot(benchmark::State &state)
{
	World &w = TheWorld();
	cr_sched_state st;
	cr_sched_state_init(&st, &w.cf, kNowUs, &w.rng);
	std::vector<cr_sched_peer> seven(w.out.begin(), w.out.begin() + 7);
	cr_sched_view v = w.View(7);
	v.peers = seven.data();
	size_t found = 0, passes = 0, tries = 0;
	for (auto _ : state) {
		cr_sched_decision d;
		cr_sched_open_connections(&d, &st, &w.cf, &v, w.am, kNowUs, &w.rng);
		found += d.action == CR_SCHED_CONNECT;
		tries += d.tries;
		passes++;
	}
	Counters(state, w);
	state.counters["found"] = (double)found / (double)passes;
	state.counters["draws"] = (double)tries / (double)passes;
}
BENCHMARK(BM_PassFillSlot);

// Slots full, the feeler timer due: collision check, then the new table.
void BM_PassFeeler(benchmark::State &state)
{
	World &w = TheWorld();
	cr_sched_state st;
	cr_sched_state_init(&st, &w.cf, kNowUs, &w.rng);
	st.next_extra_block_relay_us = st.next_extra_network_us = INT64_MAX;
	cr_sched_view v = w.View(10);
	for (auto _ : state) {
		st.next_feeler_us = 0;
		cr_sched_decision d;
		cr_sched_open_connections(&d, &st, &w.cf, &v, w.am, kNowUs, &w.rng);
		benchmark::DoNotOptimize(d.action);
	}
	Counters(state, w);
}
BENCHMARK(BM_PassFeeler);

// The periodic extra-peer check over the outbound peers.
void BM_EvictExtra(benchmark::State &state)
{
	World &w = TheWorld();
	cr_sched_state st;
	cr_sched_state_init(&st, &w.cf, kNowUs, &w.rng);
	cr_sched_view v = w.View(10);
	for (auto _ : state) {
		uint64_t ids[2];
		benchmark::DoNotOptimize(cr_sched_evict_extra_outbound_peers(ids, &st, &w.cf, &v, kNowUs));
	}
	Counters(state, w);
}
BENCHMARK(BM_EvictExtra);

} // namespace

// Not BENCHMARK_MAIN(): Google Benchmark returns 0 whatever happened;
// bench_main fails the program on a run that reported an error.
int main(int argc, char **argv)
{
	return bench_main(argc, argv);
}
