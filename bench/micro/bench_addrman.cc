// Address manager throughput with 65,536 entries (Core's tables nearly
// full): Add of a fresh address, Select, Good (a real move from new to
// tried, evicting to new), GetAddr of 1,000 addresses, and beside them the
// consistency check (quick and full) and the store body (serialize,
// deserialize). The manager is filled once with addresses from random /16
// groups told by random sources, a third of them moved to tried; the
// "entries" counter says how many it holds. CR_BENCH_QUICK=1 fills 8,192
// entries instead, so a run takes a few seconds.
#include "gbench_util.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>

extern "C" {
#include "addr/addrman.h"
}

namespace {

constexpr int64_t kNow = 1700000000;

cr_netaddr RandomIPv4(cr_rng *r)
{
	cr_netaddr a;
	memset(&a, 0, sizeof(a));
	a.net = CR_NET_IPV4;
	a.len = 4;
	// 1.0.0.0 .. 99.255.255.255 holds no reserved range but 10/8.
	uint32_t v = (uint32_t)cr_rng_below(r, 99u << 24) + (1u << 24);
	if ((v >> 24) == 10)
		v += 1u << 24;
	a.addr[0] = (uint8_t)(v >> 24);
	a.addr[1] = (uint8_t)(v >> 16);
	a.addr[2] = (uint8_t)(v >> 8);
	a.addr[3] = (uint8_t)v;
	return a;
}

struct Fixture {
	cr_addrman *am;
	cr_rng rng;
	size_t target;

	Fixture()
	{
		uint8_t key[32] = {7, 7, 7};
		am = cr_addrman_new(key, nullptr, 0);
		if (!am)
			abort();
		cr_rng_seed(&rng, 1);
		target = bench_quick() ? 8192 : 65536;
		for (int i = 0; i < 2000000 && cr_addrman_size(am, 0, CR_ADDRMAN_ANY) < target; i++) {
			cr_peeraddr p;
			memset(&p, 0, sizeof(p));
			p.na = RandomIPv4(&rng);
			p.port = 8333;
			p.time = (uint32_t)(kNow - (int64_t)cr_rng_below(&rng, 86400));
			p.services = 1;
			cr_netaddr src = RandomIPv4(&rng);
			if (cr_addrman_add(am, &p, 1, &src, 0, kNow, &rng) == 1 && i % 3 == 0)
				cr_addrman_good(am, &p.na, p.port, false, kNow);
		}
	}
};

Fixture &F()
{
	static Fixture f;
	return f;
}

void Report(benchmark::State &state, double per_iter = 1)
{
	state.counters["ops/s"] = benchmark::Counter((double)state.iterations() * per_iter,
						     benchmark::Counter::kIsRate);
	state.counters["entries"] = (double)cr_addrman_size(F().am, 0, CR_ADDRMAN_ANY);
}

void BM_Add(benchmark::State &state)
{
	Fixture &f = F();
	for (auto _ : state) {
		cr_peeraddr p;
		memset(&p, 0, sizeof(p));
		p.na = RandomIPv4(&f.rng);
		p.port = 8333;
		p.time = (uint32_t)(kNow - 100);
		cr_netaddr src = RandomIPv4(&f.rng);
		benchmark::DoNotOptimize(cr_addrman_add(f.am, &p, 1, &src, 0, kNow, &f.rng));
	}
	Report(state);
}

void BM_Select(benchmark::State &state)
{
	Fixture &f = F();
	cr_peeraddr out;
	for (auto _ : state)
		benchmark::DoNotOptimize(cr_addrman_select(f.am, &out, nullptr, false, 0, kNow, &f.rng));
	Report(state);
}

void BM_SelectNewOnly(benchmark::State &state)
{
	Fixture &f = F();
	cr_peeraddr out;
	for (auto _ : state)
		benchmark::DoNotOptimize(cr_addrman_select(f.am, &out, nullptr, true, 0, kNow, &f.rng));
	Report(state);
}

// Good on a random entry found by select(new_only): a real move to tried.
void BM_Good(benchmark::State &state)
{
	Fixture &f = F();
	cr_peeraddr out;
	for (auto _ : state) {
		state.PauseTiming();
		cr_addrman_select(f.am, &out, nullptr, true, 0, kNow, &f.rng);
		state.ResumeTiming();
		benchmark::DoNotOptimize(cr_addrman_good(f.am, &out.na, out.port, false, kNow));
	}
	Report(state);
}

void BM_GetAddr(benchmark::State &state)
{
	Fixture &f = F();
	static cr_peeraddr out[CR_ADDRMAN_GETADDR_MAX];
	size_t got = 0;
	for (auto _ : state)
		got = cr_addrman_get_addr(f.am, out, CR_ADDRMAN_GETADDR_MAX, CR_ADDRMAN_GETADDR_PCT, 0,
					  kNow, &f.rng);
	Report(state);
	state.counters["addrs"] = (double)got;
}

void BM_CheckQuick(benchmark::State &state)
{
	Fixture &f = F();
	for (auto _ : state)
		if (cr_addrman_check(f.am, 0) != 0)
			state.SkipWithError("check failed");
	Report(state);
}

void BM_CheckFull(benchmark::State &state)
{
	Fixture &f = F();
	for (auto _ : state)
		if (cr_addrman_check(f.am, CR_ADDRMAN_CHECK_FULL) != 0)
			state.SkipWithError("check failed");
	Report(state);
}

void BM_Serialize(benchmark::State &state)
{
	Fixture &f = F();
	size_t len = 0;
	for (auto _ : state) {
		uint8_t *body;
		cr_addrman_serialize(f.am, &body, &len);
		free(body);
	}
	Report(state);
	state.counters["bytes"] = (double)len;
}

void BM_Deserialize(benchmark::State &state)
{
	Fixture &f = F();
	uint8_t *body;
	size_t len;
	cr_addrman_serialize(f.am, &body, &len);
	uint8_t key[32] = {1};
	cr_addrman *copy = cr_addrman_new(key, nullptr, 0);
	for (auto _ : state)
		if (cr_addrman_deserialize(copy, body, len, nullptr, 0) != 0)
			state.SkipWithError("deserialize failed");
	free(body);
	cr_addrman_free(copy);
	Report(state);
}

}  // namespace

BENCHMARK(BM_Select);
BENCHMARK(BM_SelectNewOnly);
BENCHMARK(BM_GetAddr);
BENCHMARK(BM_Add);
BENCHMARK(BM_Good);
BENCHMARK(BM_CheckQuick);
BENCHMARK(BM_CheckFull);
BENCHMARK(BM_Serialize);
BENCHMARK(BM_Deserialize);

int main(int argc, char **argv)
{
	return bench_main(argc, argv);
}
