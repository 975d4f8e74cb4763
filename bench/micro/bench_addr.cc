// Address knowledge hot paths, ns per operation: netgroup of IPv4 and IPv6
// addresses (plain and through a 2,000-prefix asmap), the keyed netgroup
// (group + XXH3) the eviction policy sorts by, the ban check an accept
// makes with 10,000 single-address bans plus 200 subnet bans (hit and miss,
// and a hit on the read-only snapshot the engine's workers check),
// the discouragement filter lookup, and address text parse and format.
// heap_B/op is the heap each operation cost (jemalloc's thread.allocated):
// these run on every accept and every gossiped address, so it must be 0.
// CR_BENCH_QUICK=1 keeps every run short.
#include "gbench_util.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>


extern "C" {
#include "addr/addrstr.h"
#include "addr/asmap.h"
#include "addr/banlist.h"
#include "addr/netclass.h"
#include "addr/netgroup.h"
#include "addr/rng.h"
#include "addr/subnet.h"
}
#include "../../tests/asmap_build.h"

namespace {

constexpr int kAddrs = 4096;

struct Fixture {
	cr_netaddr v4[kAddrs], v6[kAddrs], miss[kAddrs];
	cr_asmap *asmap = nullptr;
	cr_banlist *bans = nullptr;

	Fixture()
	{
		cr_rng r;
		cr_rng_seed(&r, 42);
		for (int i = 0; i < kAddrs; i++) {
			cr_addr_set_ipv4(&v4[i], (uint32_t)cr_rng_u64(&r) | 0x01000000u);
			uint8_t ip[16];
			uint64_t a = cr_rng_u64(&r), b = cr_rng_u64(&r);
			memcpy(ip, &a, 8);
			memcpy(ip + 8, &b, 8);
			ip[0] = 0x2a;
			cr_addr_set_ipv6(&v6[i], ip);
			cr_addr_set_ipv4(&miss[i], 0x05000000u | (uint32_t)(cr_rng_u64(&r) & 0xffffff));
		}
		// asmap: 2,000 random IPv4 /16../24 and IPv6 /24../40 prefixes.
		struct amb t;
		amb_init(&t);
		for (int len = 16; len <= 40; len++)
			for (int k = 0; k < 80; k++) {
				uint8_t ip[16];
				uint64_t a = cr_rng_u64(&r);
				if (len <= 24) {
					amb_v4(ip, (uint8_t)(a | 1), (uint8_t)(a >> 8), (uint8_t)(a >> 16), 0);
					amb_add(&t, ip, 96 + len, 1 + (uint32_t)(a >> 40) % 400000);
				} else {
					memset(ip, 0, 16);
					memcpy(ip, &a, 8);
					ip[0] = 0x2a;
					amb_add(&t, ip, len, 1 + (uint32_t)(a >> 40) % 400000);
				}
			}
		uint8_t *img;
		size_t n = amb_finish(&t, &img);
		amb_free(&t);
		if (cr_asmap_from_bytes(&asmap, img, n) != 0)
			abort();
		free(img);
		// 10,000 single-address bans over the v4 set's space, plus 200
		// subnets (/16 and /24) so a check probes three prefix lengths.
		bans = cr_banlist_new(7, 7);
		for (int i = 0; i < 10000; i++) {
			cr_netaddr a;
			cr_subnet sn;
			cr_addr_set_ipv4(&a, i < kAddrs ? 0 : (uint32_t)cr_rng_u64(&r) | 0x01000000u);
			if (i < kAddrs)
				a = v4[i];
			cr_subnet_init(&sn, &a, 32);
			if (cr_banlist_ban(bans, &sn, 0, 1 << 30) != 0)
				abort();
		}
		for (int i = 0; i < 200; i++) {
			cr_netaddr a;
			cr_subnet sn;
			cr_addr_set_ipv4(&a, 0x64000000u | (uint32_t)i << 8);
			cr_subnet_init(&sn, &a, i % 2 ? 16 : 24);
			cr_banlist_ban(bans, &sn, 0, 1 << 30);
		}
	}
};

Fixture &F()
{
	static Fixture f;
	return f;
}

void BM_NetgroupIPv4(benchmark::State &state)
{
	Fixture &f = F();
	HeapCounter heap(state);
	uint8_t g[CR_NETGROUP_MAX];
	size_t i = 0;
	for (auto _ : state) {
		benchmark::DoNotOptimize(cr_netgroup(g, &f.v4[i++ % kAddrs], nullptr, 0));
		benchmark::DoNotOptimize(g);
	}
}

void BM_NetgroupIPv6(benchmark::State &state)
{
	Fixture &f = F();
	HeapCounter heap(state);
	uint8_t g[CR_NETGROUP_MAX];
	size_t i = 0;
	for (auto _ : state) {
		benchmark::DoNotOptimize(cr_netgroup(g, &f.v6[i++ % kAddrs], nullptr, 0));
		benchmark::DoNotOptimize(g);
	}
}

void BM_NetgroupAsmap(benchmark::State &state)
{
	Fixture &f = F();
	HeapCounter heap(state);
	uint8_t g[CR_NETGROUP_MAX];
	size_t i = 0;
	for (auto _ : state) {
		const cr_netaddr *a = i % 2 ? &f.v4[i % kAddrs] : &f.v6[i % kAddrs];
		benchmark::DoNotOptimize(cr_netgroup(g, a, f.asmap, 0));
		benchmark::DoNotOptimize(g);
		i++;
	}
}

void BM_NetgroupKeyed(benchmark::State &state)
{
	Fixture &f = F();
	HeapCounter heap(state);
	uint8_t g[CR_NETGROUP_MAX];
	size_t i = 0;
	uint64_t acc = 0;
	for (auto _ : state) {
		size_t n = cr_netgroup(g, &f.v4[i++ % kAddrs], nullptr, 0);
		acc += cr_netgroup_keyed(0x9e3779b97f4a7c15ull, g, n);
	}
	benchmark::DoNotOptimize(acc);
}

void BM_KeyedOnly(benchmark::State &state)
{
	HeapCounter heap(state);
	uint8_t g[5] = {2, 0x2a, 1, 2, 3};
	uint64_t acc = 0;
	for (auto _ : state) {
		g[4]++;
		acc += cr_netgroup_keyed(0x9e3779b97f4a7c15ull, g, sizeof(g));
	}
	benchmark::DoNotOptimize(acc);
}

void BM_BanCheckHit(benchmark::State &state)
{
	Fixture &f = F();
	HeapCounter heap(state);
	size_t i = 0;
	int hits = 0;
	for (auto _ : state)
		hits += cr_banlist_is_banned(f.bans, &f.v4[i++ % kAddrs], 100);
	if (hits != (int)state.iterations())
		state.SkipWithError("expected every address banned");
}

// The same check on the read-only snapshot the engine's workers use.
void BM_BanCheckSnapshot(benchmark::State &state)
{
	Fixture &f = F();
	cr_banlist *snap = cr_banlist_snapshot(f.bans);
	HeapCounter heap(state);
	size_t i = 0;
	int hits = 0;
	for (auto _ : state)
		hits += cr_banlist_is_banned(snap, &f.v4[i++ % kAddrs], 100);
	if (hits != (int)state.iterations())
		state.SkipWithError("expected every address banned");
	cr_banlist_free(snap);
}

void BM_BanCheckMiss(benchmark::State &state)
{
	Fixture &f = F();
	HeapCounter heap(state);
	size_t i = 0;
	int hits = 0;
	for (auto _ : state)
		hits += cr_banlist_is_banned(f.bans, &f.miss[i++ % kAddrs], 100);
	benchmark::DoNotOptimize(hits);
}

void BM_DiscouragedCheck(benchmark::State &state)
{
	Fixture &f = F();
	HeapCounter heap(state);
	size_t i = 0;
	int hits = 0;
	for (auto _ : state)
		hits += cr_banlist_is_discouraged(f.bans, &f.v6[i++ % kAddrs]);
	benchmark::DoNotOptimize(hits);
}

void BM_ParseFormat(benchmark::State &state)
{
	HeapCounter heap(state);
	static const char *in[] = {"203.0.113.7:8333", "[2a01:4f8:c2c:1234::1]:8333",
				   "pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion"};
	size_t lens[3] = {strlen(in[0]), strlen(in[1]), strlen(in[2])};
	size_t i = 0;
	char out[CR_ADDRSTR_MAX + 16];
	for (auto _ : state) {
		cr_netaddr a;
		uint16_t port;
		if (cr_addrstr_parse(&a, &port, in[i % 3], lens[i % 3], 8333, 0) ||
		    cr_addrstr_format(out, sizeof(out), &a, port) < 0)
			abort();
		benchmark::DoNotOptimize(out);
		i++;
	}
}

} // namespace

int main(int argc, char **argv)
{
	const bool quick = bench_quick();
	struct {
		const char *name;
		void (*fn)(benchmark::State &);
	} const list[] = {
		{"netgroup_ipv4", BM_NetgroupIPv4},
		{"netgroup_ipv6", BM_NetgroupIPv6},
		{"netgroup_asmap_2000_prefixes", BM_NetgroupAsmap},
		{"netgroup_keyed_ipv4", BM_NetgroupKeyed},
		{"keyed_hash_only", BM_KeyedOnly},
		{"ban_check_hit_10000_bans", BM_BanCheckHit},
		{"ban_check_miss_10000_bans", BM_BanCheckMiss},
		{"ban_check_snapshot_hit_10000_bans", BM_BanCheckSnapshot},
		{"discouraged_check", BM_DiscouragedCheck},
		{"addr_parse_format", BM_ParseFormat},
	};
	for (const auto &b : list) {
		auto *reg = benchmark::RegisterBenchmark(b.name, b.fn);
		if (quick)
			reg->MinTime(0.01);
	}
	return bench_main(argc, argv);
}
