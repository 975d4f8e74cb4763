// Engine benchmarks over loopback, two engines in one process:
// - Broadcast1MiB/zc/peers: one 1 MiB message to every V1 peer from a
//   cr_msgbuf (no userspace payload copy; the engine's payload_copy_bytes
//   counter is reported), with zero-copy send off (0) and on (threshold).
//   This is how the default zc_threshold_bytes was chosen.
// - PingPong/peers: the engine answering pings (pong from its pools).
// CR_BENCH_QUICK=1 keeps it to a few peers; CR_BENCH_PEERS=N overrides.
#include "gbench_util.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include <connring/connring.h>

namespace {

struct Side {
	std::atomic<uint64_t> ready{0}, msgs{0}, bytes{0};
	std::vector<uint64_t> ids;
	std::atomic<bool> lock{false};
};

void on_ready(void *u, uint64_t id, const struct cr_peer_info *)
{
	Side *s = static_cast<Side *>(u);
	while (s->lock.exchange(true))
		;
	s->ids.push_back(id);
	s->lock.store(false);
	s->ready++;
}

size_t on_msg(void *u, uint64_t, const char *, const uint8_t *, size_t len)
{
	Side *s = static_cast<Side *>(u);
	s->bytes += len;
	s->msgs++;
	return 0;
}

bool wait_until(const std::atomic<uint64_t> &v, uint64_t want, int ms)
{
	for (int i = 0; i < ms; i++) {
		if (v.load() >= want)
			return true;
		std::this_thread::sleep_for(std::chrono::milliseconds(1));
	}
	return v.load() >= want;
}

int peers_default(int full)
{
	if (const char *p = getenv("CR_BENCH_PEERS"))
		return atoi(p);
	return bench_quick() ? 8 : full;
}

struct Pair {
	Side sa, sb;
	struct cr_engine *a = nullptr, *b = nullptr;
	bool ok = false;

	/* Both ends alike (regtest, big queues, zero-copy from zc bytes even
	 * on loopback: it measures zero-copy itself); a listens, b connects. */
	static struct cr_config *config(size_t zc, bool listen, Side *side)
	{
		struct cr_config *c = cr_config_new();
		if (c && (cr_config_set_chain(c, CR_CHAIN_REGTEST) | cr_config_set_listen(c, listen) |
			  (listen ? cr_config_add_bind(c, "127.0.0.1:0") : 0) |
			  cr_config_set_max_connections(c, 100000) | cr_config_set_zc_threshold_bytes(c, zc) |
			  cr_config_set_zc_loopback(c, true) | cr_config_set_send_buffer_bytes(c, 64u << 20) |
			  cr_config_set_user(c, side) | cr_config_set_on_peer_ready(c, on_ready) |
			  cr_config_set_on_message(c, on_msg))) {
			cr_config_free(c);
			return nullptr;
		}
		return c;
	}

	Pair(int peers, size_t zc)
	{
		struct cr_config *ca = config(zc, true, &sa), *cb = config(zc, false, &sb);
		int bad = !ca || !cb || cr_engine_new(&a, ca) || cr_engine_new(&b, cb);
		cr_config_free(ca);
		cr_config_free(cb);
		if (bad || cr_engine_start(a) || cr_engine_start(b))
			return;
		char hp[64];
		snprintf(hp, sizeof hp, "127.0.0.1:%u", cr_engine_port(a));
		for (int i = 0; i < peers; i++)
			cr_connect(b, hp, CR_CONNECT_V1);
		ok = wait_until(sa.ready, peers, 30000) && wait_until(sb.ready, peers, 30000);
	}
	~Pair()
	{
		cr_engine_free(b);
		cr_engine_free(a);
	}
};

void Broadcast1MiB(benchmark::State &state)
{
	int peers = peers_default((int)state.range(1));
	Pair p(peers, (size_t)state.range(0));
	if (!p.ok) {
		state.SkipWithError("peers did not connect");
		return;
	}
	const size_t len = 1u << 20;
	for (auto _ : state) {
		uint64_t want = p.sb.msgs.load() + (uint64_t)peers;
		struct cr_msgbuf *m = cr_msgbuf_new(len);
		memset(cr_msgbuf_data(m), 0x42, len);
		cr_broadcast_buf(p.a, nullptr, 0, "block", m);
		if (!wait_until(p.sb.msgs, want, 60000)) {
			state.SkipWithError("broadcast did not arrive");
			break;
		}
	}
	struct cr_totals t;
	cr_engine_totals(p.a, &t, sizeof t);
	state.SetBytesProcessed((int64_t)state.iterations() * peers * (int64_t)len);
	state.counters["peers"] = peers;
	state.counters["payload_copy_bytes"] = (double)t.payload_copy_bytes;
	state.counters["send_zc"] = (double)t.send_zc;
	state.counters["zc_copied"] = (double)t.send_zc_copied;
}

void PingPong(benchmark::State &state)
{
	int peers = peers_default((int)state.range(0));
	Pair p(peers, 65536);
	if (!p.ok) {
		state.SkipWithError("peers did not connect");
		return;
	}
	uint8_t nonce[8] = {1};
	const int per_peer = 100;
	for (auto _ : state) {
		struct cr_totals t0;
		cr_engine_totals(p.b, &t0, sizeof t0);
		uint64_t want = t0.msgs_recv + (uint64_t)peers * per_peer;
		for (int k = 0; k < per_peer; k++)
			for (uint64_t id : p.sb.ids)
				cr_send(p.b, id, "ping", nonce, sizeof nonce);
		for (int i = 0; i < 60000; i++) {
			struct cr_totals t;
			cr_engine_totals(p.b, &t, sizeof t);
			if (t.msgs_recv >= want)
				break;
			std::this_thread::sleep_for(std::chrono::microseconds(200));
		}
	}
	state.SetItemsProcessed((int64_t)state.iterations() * peers * per_peer);
	state.counters["peers"] = peers;
}

} // namespace

BENCHMARK(Broadcast1MiB)->ArgNames({"zc", "peers"})->Args({0, 100})->Args({65536, 100})
	->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(PingPong)->ArgNames({"peers"})->Args({100})->Unit(benchmark::kMillisecond)->UseRealTime();
int main(int argc, char **argv)
{
	return bench_main(argc, argv);
}
