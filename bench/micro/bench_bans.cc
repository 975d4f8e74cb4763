// The ban check an accept makes (engine/ban.c: socket address to
// cr_netaddr, then the worker's read-only snapshot of the ban list), with
// 10,000 bans of addresses and subnets of both families: 8,000 IPv4 and
// 1,000 IPv6 addresses, 600 IPv4 subnets (/12 to /30) and 400 IPv6 subnets
// (/32 to /64), so a check tests every prefix length in use for its
// family (the filter in front of the table, then a probe on a "maybe"). Beside it the baseline a ban list without an index would cost: a
// linear scan of the same 10,000 bans (cr_subnet_contains and the expiry
// per entry), which stops at the first match. Each with newcomers that are
// banned (half by address, half by a subnet) and newcomers that are not.
// heap_B/op must be 0: this runs on every accept. CR_BENCH_QUICK=1 keeps
// every run short.
#include "gbench_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

extern "C" {
#include "addr/banlist.h"
#include "addr/netclass.h"
#include "addr/rng.h"
#include "addr/subnet.h"
}

namespace {

constexpr int kProbe = 4096;
constexpr int64_t kNow = 1000;

struct Fixture {
	cr_banlist *bl = nullptr, *snap = nullptr;
	std::vector<cr_ban> flat; // the same bans, for the linear scan
	sockaddr_storage hit[kProbe], miss[kProbe];

	static void v4(sockaddr_storage *ss, uint32_t ip)
	{
		memset(ss, 0, sizeof *ss);
		auto *s = reinterpret_cast<sockaddr_in *>(ss);
		s->sin_family = AF_INET;
		s->sin_port = htons(8333);
		s->sin_addr.s_addr = htonl(ip);
	}
	static void v6(sockaddr_storage *ss, const uint8_t ip[16])
	{
		memset(ss, 0, sizeof *ss);
		auto *s = reinterpret_cast<sockaddr_in6 *>(ss);
		s->sin6_family = AF_INET6;
		s->sin6_port = htons(8333);
		memcpy(&s->sin6_addr, ip, 16);
	}
	static void rand6(cr_rng *r, uint8_t ip[16])
	{
		uint64_t a = cr_rng_u64(r), b = cr_rng_u64(r);
		memcpy(ip, &a, 8);
		memcpy(ip + 8, &b, 8);
		ip[0] = 0x2a;
	}
	// false when that subnet was banned already (drawn twice)
	bool ban(const cr_netaddr &a, unsigned prefix)
	{
		cr_subnet sn;
		size_t before = cr_banlist_count(bl);
		if (cr_subnet_init(&sn, &a, prefix) != 0 || cr_banlist_ban_until(bl, &sn, 0, 1 << 30) != 0)
			abort();
		return cr_banlist_count(bl) > before;
	}

	Fixture()
	{
		cr_rng r;
		cr_rng_seed(&r, 7);
		bl = cr_banlist_new(11, 11);
		std::vector<sockaddr_storage> single, in_subnet;
		for (int i = 0; i < 8000;) {
			uint32_t ip = (uint32_t)cr_rng_u64(&r) | 0x01000000u;
			cr_netaddr a;
			cr_addr_set_ipv4(&a, ip);
			if (!ban(a, 32))
				continue;
			i++;
			sockaddr_storage ss;
			v4(&ss, ip);
			single.push_back(ss);
		}
		for (int i = 0; i < 1000;) {
			uint8_t ip[16];
			rand6(&r, ip);
			cr_netaddr a;
			cr_addr_set_ipv6(&a, ip);
			if (!ban(a, 128))
				continue;
			i++;
			sockaddr_storage ss;
			v6(&ss, ip);
			single.push_back(ss);
		}
		static const unsigned p4[] = {12, 16, 20, 24, 28, 30}, p6[] = {32, 48, 56, 64};
		for (int i = 0; i < 600;) {
			uint32_t ip = (uint32_t)cr_rng_u64(&r) | 0x01000000u;
			cr_netaddr a;
			cr_addr_set_ipv4(&a, ip);
			if (!ban(a, p4[i % 6]))
				continue;
			i++;
			sockaddr_storage ss;
			v4(&ss, ip ^ 1u); // another address inside the subnet
			in_subnet.push_back(ss);
		}
		for (int i = 0; i < 400;) {
			uint8_t ip[16];
			rand6(&r, ip);
			cr_netaddr a;
			cr_addr_set_ipv6(&a, ip);
			if (!ban(a, p6[i % 4]))
				continue;
			i++;
			ip[15] ^= 1;
			sockaddr_storage ss;
			v6(&ss, ip);
			in_subnet.push_back(ss);
		}
		if (cr_banlist_count(bl) != 10000)
			abort();
		for (size_t i = 0; i < cr_banlist_count(bl); i++)
			flat.push_back(*cr_banlist_at(bl, i));
		// shuffle the scan order, so a hit is not always near the front
		for (size_t i = flat.size() - 1; i > 0; i--)
			std::swap(flat[i], flat[cr_rng_below(&r, (uint32_t)i + 1)]);
		for (int i = 0; i < kProbe; i++)
			hit[i] = i % 2 ? single[cr_rng_below(&r, (uint32_t)single.size())]
				       : in_subnet[cr_rng_below(&r, (uint32_t)in_subnet.size())];
		for (int i = 0; i < kProbe;) {
			if (i % 2) {
				v4(&miss[i], (uint32_t)cr_rng_u64(&r) | 0x01000000u);
			} else {
				uint8_t ip[16];
				rand6(&r, ip);
				v6(&miss[i], ip);
			}
			cr_netaddr a;
			to_netaddr(&a, &miss[i]);
			if (!cr_banlist_is_banned(bl, &a, kNow))
				i++; // one a banned subnet covers is drawn again
		}
		snap = cr_banlist_snapshot(bl);
		if (!snap)
			abort();
	}

	// engine/ban.c's from_sockaddr
	static void to_netaddr(cr_netaddr *na, const sockaddr_storage *ss)
	{
		memset(na, 0, sizeof *na);
		if (ss->ss_family == AF_INET)
			cr_addr_set_ipv4(na, ntohl(reinterpret_cast<const sockaddr_in *>(ss)->sin_addr.s_addr));
		else
			cr_addr_set_ipv6(na, reinterpret_cast<const sockaddr_in6 *>(ss)->sin6_addr.s6_addr);
	}
};

Fixture &F()
{
	static Fixture f;
	return f;
}

bool indexed(const Fixture &f, const sockaddr_storage *ss)
{
	cr_netaddr a;
	Fixture::to_netaddr(&a, ss);
	return cr_banlist_is_banned(f.snap, &a, kNow);
}

bool linear(const Fixture &f, const sockaddr_storage *ss)
{
	cr_netaddr a;
	Fixture::to_netaddr(&a, ss);
	for (const cr_ban &b : f.flat)
		if (kNow < b.until && cr_subnet_contains(&b.subnet, &a))
			return true;
	return false;
}

template <bool (*check)(const Fixture &, const sockaddr_storage *), bool want_hit>
void BM_Check(benchmark::State &state)
{
	Fixture &f = F();
	const sockaddr_storage *in = want_hit ? f.hit : f.miss;
	HeapCounter heap(state);
	size_t i = 0;
	long hits = 0;
	for (auto _ : state)
		hits += check(f, &in[i++ % kProbe]);
	if (hits != (want_hit ? (long)state.iterations() : 0))
		state.SkipWithError("a newcomer was judged wrongly");
}

} // namespace

int main(int argc, char **argv)
{
	const bool quick = bench_quick();
	struct {
		const char *name;
		void (*fn)(benchmark::State &);
	} const list[] = {
		{"accept_ban_check_hit_10000_bans", BM_Check<indexed, true>},
		{"accept_ban_check_miss_10000_bans", BM_Check<indexed, false>},
		{"linear_scan_hit_10000_bans", BM_Check<linear, true>},
		{"linear_scan_miss_10000_bans", BM_Check<linear, false>},
	};
	for (const auto &b : list) {
		auto *reg = benchmark::RegisterBenchmark(b.name, b.fn);
		if (quick)
			reg->MinTime(0.01);
	}
	return bench_main(argc, argv);
}
