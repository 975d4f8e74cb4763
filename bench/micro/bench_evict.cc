// Inbound policy hot paths: the eviction choice (engine/policy/evict) over
// 1,000 and 100,000 candidates (goals: <= 100 us and <= 20 ms), for honest
// snapshots (every peer its own netgroup) and attacked ones (half the peers
// in one netgroup), beside a baseline of Core's approach (one full sort of
// the snapshot per protection, six in all, std::sort) on the same data; and
// the flood check an accept makes (cr_flood_admit over 4,096 netgroups).
// heap_B/op must be 0: the caller passes scratch memory.
// CR_BENCH_QUICK=1 keeps every run short.
#include "gbench_util.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

extern "C" {
#include "addr/netclass.h"
#include "addr/rng.h"
#include "engine/policy/evict.h"
#include "engine/policy/flood.h"
}

namespace {

std::vector<cr_evict_cand> snapshot(size_t n, bool attacked)
{
	cr_rng r;
	cr_rng_seed(&r, 42 + n + attacked);
	std::vector<cr_evict_cand> c(n);
	for (size_t i = 0; i < n; i++) {
		cr_evict_cand &x = c[i];
		memset(&x, 0, sizeof x);
		x.id = i + 1;
		x.inbound = cr_rng_below(&r, 20) != 0;
		x.noban = cr_rng_below(&r, 100) == 0;
		x.connected_us = (int64_t)cr_rng_below(&r, 86400ull * 1000000);
		x.min_ping_us = 1000 + (int64_t)cr_rng_below(&r, 300000);
		x.last_block_us = cr_rng_below(&r, 4) ? 0 : (int64_t)cr_rng_below(&r, 1ull << 40);
		x.last_tx_us = cr_rng_below(&r, 2) ? 0 : (int64_t)cr_rng_below(&r, 1ull << 40);
		x.keyed_netgroup = attacked && i % 2 ? 0xa77ac4e5ull : cr_rng_u64(&r);
		x.network = cr_rng_below(&r, 10) ? CR_NETCLASS_IPV4 : CR_NETCLASS_ONION;
		x.relay_txs = cr_rng_below(&r, 4) != 0;
		x.relevant_services = cr_rng_below(&r, 2);
		x.prefer_evict = cr_rng_below(&r, 50) == 0;
	}
	return c;
}

void BM_Evict(benchmark::State &state, bool attacked)
{
	size_t n = (size_t)state.range(0);
	std::vector<cr_evict_cand> c = snapshot(n, attacked);
	std::vector<uint64_t> scratch(cr_evict_scratch_size(n) / 8 + 1);
	std::vector<uint8_t> why(n);
	uint32_t counts[CR_EVICT_WHY_MAX];
	HeapCounter heap(state);
	size_t found = 0;
	for (auto _ : state) {
		size_t v;
		found += cr_evict_select(&v, why.data(), counts, c.data(), n, scratch.data());
		benchmark::DoNotOptimize(v);
	}
	if (found != state.iterations())
		state.SkipWithError("no victim chosen");
}

void BM_EvictHonest(benchmark::State &state) { BM_Evict(state, false); }
void BM_EvictAttacked(benchmark::State &state) { BM_Evict(state, true); }

// Core's cost model: one full sort of the snapshot per protection.
void BM_CoreStyleSorts(benchmark::State &state)
{
	size_t n = (size_t)state.range(0);
	std::vector<cr_evict_cand> base = snapshot(n, false), c;
	using C = const cr_evict_cand &;
	for (auto _ : state) {
		c = base;
		std::sort(c.begin(), c.end(), [](C a, C b) { return a.keyed_netgroup < b.keyed_netgroup; });
		std::sort(c.begin(), c.end(), [](C a, C b) { return a.min_ping_us > b.min_ping_us; });
		std::sort(c.begin(), c.end(), [](C a, C b) { return a.last_tx_us < b.last_tx_us; });
		std::sort(c.begin(), c.end(), [](C a, C b) {
			return a.relay_txs != b.relay_txs ? a.relay_txs : a.last_block_us < b.last_block_us;
		});
		std::sort(c.begin(), c.end(), [](C a, C b) { return a.last_block_us < b.last_block_us; });
		std::sort(c.begin(), c.end(), [](C a, C b) { return a.connected_us > b.connected_us; });
		benchmark::DoNotOptimize(c.data());
	}
}

void BM_FloodAdmit(benchmark::State &state)
{
	cr_flood_config cfg;
	cr_flood_config_default(&cfg);
	cr_flood *f = cr_flood_new(&cfg);
	cr_rng r;
	cr_rng_seed(&r, 7);
	std::vector<uint64_t> groups(4096);
	for (auto &g : groups)
		g = cr_rng_u64(&r);
	HeapCounter heap(state);
	int64_t now = 1700000000ll * 1000000;
	size_t i = 0;
	int ok = 0;
	for (auto _ : state) {
		now += 1000;
		ok += cr_flood_admit(f, groups[i++ & 4095], 1, now) == CR_FLOOD_OK;
	}
	benchmark::DoNotOptimize(ok);
	cr_flood_free(f);
}

} // namespace

int main(int argc, char **argv)
{
	const bool quick = bench_quick();
	struct {
		const char *name;
		void (*fn)(benchmark::State &);
	} const list[] = {
		{"evict_honest", BM_EvictHonest},
		{"evict_attacked", BM_EvictAttacked},
		{"core_style_six_sorts", BM_CoreStyleSorts},
	};
	for (const auto &b : list) {
		auto *reg = benchmark::RegisterBenchmark(b.name, b.fn)->Arg(1000)->Arg(100000);
		reg->Unit(benchmark::kMicrosecond);
		if (quick)
			reg->MinTime(0.01);
	}
	auto *reg = benchmark::RegisterBenchmark("flood_admit_4096_groups", BM_FloodAdmit);
	if (quick)
		reg->MinTime(0.01);
	// bench_main: a run that reported an error (no victim chosen) fails
	// the program, so scripts/test sees it
	return bench_main(argc, argv);
}
