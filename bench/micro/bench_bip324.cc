// BIP324 packet throughput beside raw libcrypto ChaCha20-Poly1305 of the same
// sizes in the same run, and V2 handshakes per second.
//
// A BIP324 packet is one AEAD call plus 3 length bytes from a buffered
// keystream and a rekey every 224 packets, so raw ChaCha20-Poly1305 over the
// same number of bytes is its ceiling. Benchmarks (N = contents bytes):
//   raw_seal/N        cr_aead_seal of N bytes (libcrypto's EVP path)
//   raw_open/N        cr_aead_open of N bytes
//   packet_encrypt/N  cr_bip324_encrypt: length + header + N contents
//   packet_decrypt/N  cr_bip324_decrypt_length + cr_bip324_decrypt
//   v2_frame/N        cr_v2_frame of a "tx" message of N payload bytes
//   v2_recv/N         cr_v2_recv of such whole packets (buffer, decrypt,
//                     message type), as the engine calls it
//   handshake_pair        initiator and responder through proto/transport.h
//                         in memory: keys, garbage, version packets (items =
//                         complete handshakes, both sides' CPU)
//   handshake_responder   the responder alone against a recorded initiator
//                         (one side's CPU: ellswift encode, ECDH, HKDF, setup)
//   idle_session_heap     heap bytes an idle handshaked V2 session holds
//                         beyond its transport slot, before and after trim
// At the end a table of the packet rates as a share of raw at each size.
// CR_BENCH_QUICK=1 shortens every benchmark to a smoke run. Single thread.
#include "gbench_util.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <unistd.h>

extern "C" {
#include "proto/bip324.h"
#include "proto/crypto.h"
#include "proto/ellswift.h"
#include "proto/transport.h"
#include "proto/v2.h"
}

namespace {

bool quick;
const uint8_t key[32] = {7, 1, 2, 3};
const uint8_t magic[4] = {0xf9, 0xbe, 0xb4, 0xd9};

void bm_raw_seal(benchmark::State &state)
{
	size_t n = (size_t)state.range(0);
	std::vector<uint8_t> in(n, 0x5a), out(n);
	uint8_t nonce[12] = {0}, tag[16];
	struct cr_aead *a = cr_aead_new(key);
	uint32_t i = 0;
	for (auto _ : state) {
		memcpy(nonce, &i, 4);
		i++;
		cr_aead_seal(a, nonce, nullptr, 0, out.data(), in.data(), n, tag);
		benchmark::DoNotOptimize(tag);
	}
	cr_aead_free(a);
	state.SetBytesProcessed((int64_t)state.iterations() * (int64_t)n);
}

void bm_raw_open(benchmark::State &state)
{
	size_t n = (size_t)state.range(0);
	std::vector<uint8_t> in(n, 0x5a), ct(n), out(n);
	uint8_t nonce[12] = {0}, tag[16];
	struct cr_aead *a = cr_aead_new(key);
	cr_aead_seal(a, nonce, nullptr, 0, ct.data(), in.data(), n, tag);
	for (auto _ : state) {
		int r = cr_aead_open(a, nonce, nullptr, 0, out.data(), ct.data(), n, tag);
		if (r) {
			state.SkipWithError("open failed");
			break;
		}
		benchmark::DoNotOptimize(out.data());
	}
	cr_aead_free(a);
	state.SetBytesProcessed((int64_t)state.iterations() * (int64_t)n);
}

void bm_packet_encrypt(benchmark::State &state)
{
	size_t n = (size_t)state.range(0);
	std::vector<uint8_t> in(n, 0x5a), out(n + CR_BIP324_OVERHEAD);
	struct cr_bip324 b;
	cr_bip324_init(&b, key, magic, true);
	for (auto _ : state) {
		long r = cr_bip324_encrypt(&b, out.data(), nullptr, 0, in.data(), n, nullptr, 0, false);
		benchmark::DoNotOptimize(r);
	}
	cr_bip324_clear(&b);
	state.SetBytesProcessed((int64_t)state.iterations() * (int64_t)n);
}

// Packets to decrypt must come from the matching sender in order: a batch is
// prepared outside the timed region and replayed; both ciphers restart after
// each batch (the restart is not timed; it is one per batch of up to 448).
struct batch {
	std::vector<std::vector<uint8_t>> pk;
	struct cr_bip324 rx;
	size_t next = 0;
};

void batch_fill(batch &bt, size_t n, size_t count)
{
	struct cr_bip324 tx;
	std::vector<uint8_t> in(n, 0x5a);
	cr_bip324_init(&tx, key, magic, true);
	cr_bip324_init(&bt.rx, key, magic, false);
	bt.pk.resize(count);
	for (auto &p : bt.pk) {
		p.resize(n + CR_BIP324_OVERHEAD);
		cr_bip324_encrypt(&tx, p.data(), nullptr, 0, in.data(), n, nullptr, 0, false);
	}
	cr_bip324_clear(&tx);
	bt.next = 0;
}

size_t batch_count(size_t n)
{
	size_t c = (quick ? (4u << 20) : (64u << 20)) / (n + 64);
	return c < 4 ? 4 : c > 448 ? 448 : c;
}

void bm_packet_decrypt(benchmark::State &state)
{
	size_t n = (size_t)state.range(0), count = batch_count(n);
	std::vector<uint8_t> out(n + 1);
	batch bt;
	batch_fill(bt, n, count);
	bool ignore;
	for (auto _ : state) {
		if (bt.next == count) {
			state.PauseTiming();
			cr_bip324_clear(&bt.rx);
			cr_bip324_init(&bt.rx, key, magic, false);
			bt.next = 0;
			state.ResumeTiming();
		}
		const uint8_t *p = bt.pk[bt.next++].data();
		uint32_t len = cr_bip324_decrypt_length(&bt.rx, p);
		if (len != n || cr_bip324_decrypt(&bt.rx, out.data(), p + 3, len, nullptr, 0, &ignore)) {
			state.SkipWithError("decrypt failed");
			break;
		}
	}
	cr_bip324_clear(&bt.rx);
	state.SetBytesProcessed((int64_t)state.iterations() * (int64_t)n);
}

// Two sessions with a completed handshake (all bytes at once).
struct pair {
	struct cr_secp *secp = nullptr;
	struct cr_v2 a, b;
};

void pair_up(pair &p, uint8_t salt)
{
	uint8_t seed[32] = {salt};
	static struct cr_v2_entropy ea, eb;
	p.secp = cr_secp_new(seed);
	memset(&ea, 0, sizeof(ea));
	memset(&eb, 0, sizeof(eb));
	// A leading 0x11 keeps the keys below the group order for every salt.
	memset(ea.seckey, 0x21 + salt, 32);
	memset(eb.seckey, 0x43 + salt, 32);
	ea.seckey[0] = eb.seckey[0] = 0x11;
	cr_v2_init(&p.a, cr_chain_get(CR_CHAIN_MAIN), p.secp, true, &ea);
	cr_v2_init(&p.b, cr_chain_get(CR_CHAIN_MAIN), p.secp, false, &eb);
	for (int round = 0; round < 3; round++) {
		const uint8_t *out;
		size_t n;
		struct cr_msg m;
		while ((n = cr_v2_pending(&p.a, &out)) > 0) {
			cr_v2_recv(&p.b, &m, out, n);
			cr_v2_pending_sent(&p.a, n);
		}
		while ((n = cr_v2_pending(&p.b, &out)) > 0) {
			cr_v2_recv(&p.a, &m, out, n);
			cr_v2_pending_sent(&p.b, n);
		}
	}
}

void pair_clear(pair &p)
{
	cr_v2_clear(&p.a);
	cr_v2_clear(&p.b);
	cr_secp_free(p.secp);
}

void bm_v2_frame(benchmark::State &state)
{
	size_t n = (size_t)state.range(0);
	std::vector<uint8_t> in(n, 0x5a), out(cr_v2_frame_size("tx", n));
	pair p;
	pair_up(p, 1);
	if (!cr_v2_ready(&p.a))
		state.SkipWithError("handshake failed");
	for (auto _ : state) {
		int r = cr_v2_frame(&p.a, out.data(), out.size(), "tx", in.data(), n);
		benchmark::DoNotOptimize(r);
	}
	pair_clear(p);
	state.SetBytesProcessed((int64_t)state.iterations() * (int64_t)n);
}

void bm_v2_recv(benchmark::State &state)
{
	size_t n = (size_t)state.range(0), count = batch_count(n);
	std::vector<std::vector<uint8_t>> pk(count);
	std::vector<uint8_t> in(n, 0x5a);
	pair p;
	unsigned salt = 2;
	auto prepare = [&]() {
		pair_up(p, (uint8_t)salt++);
		for (auto &v : pk) {
			v.resize(cr_v2_frame_size("tx", n));
			cr_v2_frame(&p.a, v.data(), v.size(), "tx", in.data(), n);
		}
	};
	prepare();
	size_t next = 0;
	for (auto _ : state) {
		if (next == count) {
			state.PauseTiming();
			pair_clear(p);
			prepare();
			next = 0;
			state.ResumeTiming();
		}
		struct cr_msg m;
		auto &v = pk[next++];
		int r = cr_v2_recv(&p.b, &m, v.data(), v.size());
		if (r != (int)v.size() || m.len != n) {
			state.SkipWithError("recv failed");
			break;
		}
	}
	pair_clear(p);
	state.SetBytesProcessed((int64_t)state.iterations() * (int64_t)n);
}

struct endpoint {
	std::vector<uint8_t> t;
	endpoint() : t(cr_transport_size()) {}
	struct cr_transport *get() { return (struct cr_transport *)t.data(); }
};

// Moves every pending byte of from into to; returns false on an error.
bool move_all(struct cr_transport *from, struct cr_transport *to)
{
	const uint8_t *out;
	size_t n;
	while ((n = cr_transport_pending(from, &out)) > 0) {
		size_t done = 0;
		while (done < n) {
			struct cr_msg m;
			int r = cr_transport_recv(to, &m, out + done, n - done);
			if (r < 0)
				return false;
			done += (size_t)r;
		}
		cr_transport_pending_sent(from, n);
	}
	return true;
}

void fresh_entropy(struct cr_v2_entropy *e, uint64_t *s, uint16_t garbage)
{
	for (int i = 0; i < 32; i++) {
		*s = *s * 6364136223846793005ull + 1442695040888963407ull;
		e->seckey[i] = (uint8_t)(*s >> 56);
		e->ell_rnd[i] = (uint8_t)(*s >> 48);
	}
	e->garbage_len = garbage;
	memset(e->garbage, 0x77, garbage);
}

void bm_handshake_pair(benchmark::State &state)
{
	uint8_t seed[32] = {9};
	struct cr_secp *secp = cr_secp_new(seed);
	static struct cr_v2_entropy ei, er;
	endpoint i, r;
	uint64_t s = 1;
	for (auto _ : state) {
		fresh_entropy(&ei, &s, 32);
		fresh_entropy(&er, &s, 32);
		cr_transport_init_v2(i.get(), cr_chain_get(CR_CHAIN_MAIN), secp, true, &ei);
		cr_transport_init_v2(r.get(), cr_chain_get(CR_CHAIN_MAIN), secp, false, &er);
		bool ok = move_all(i.get(), r.get()) && move_all(r.get(), i.get()) &&
			  move_all(i.get(), r.get());
		if (!ok || !cr_transport_ready(i.get()) || !cr_transport_ready(r.get()))
			state.SkipWithError("handshake failed");
		cr_transport_clear(i.get());
		cr_transport_clear(r.get());
	}
	cr_secp_free(secp);
	state.SetItemsProcessed((int64_t)state.iterations());
}

// The responder's share: its entropy is fixed, so the initiator's whole
// stream (key, garbage, terminator, version packet) is recorded once and
// replayed into a fresh responder every iteration.
void bm_handshake_responder(benchmark::State &state)
{
	uint8_t seed[32] = {10};
	struct cr_secp *secp = cr_secp_new(seed);
	static struct cr_v2_entropy ei, er;
	endpoint i, r;
	uint64_t s = 5;
	std::vector<uint8_t> stream;
	fresh_entropy(&ei, &s, 32);
	fresh_entropy(&er, &s, 32);
	cr_transport_init_v2(i.get(), cr_chain_get(CR_CHAIN_MAIN), secp, true, &ei);
	cr_transport_init_v2(r.get(), cr_chain_get(CR_CHAIN_MAIN), secp, false, &er);
	for (int round = 0; round < 2; round++) {
		const uint8_t *out;
		size_t n;
		while ((n = cr_transport_pending(i.get(), &out)) > 0) {
			stream.insert(stream.end(), out, out + n);
			cr_transport_pending_sent(i.get(), n);
		}
		move_all(r.get(), i.get());
	}
	cr_transport_clear(i.get());
	cr_transport_clear(r.get());
	for (auto _ : state) {
		cr_transport_init_v2(r.get(), cr_chain_get(CR_CHAIN_MAIN), secp, false, &er);
		size_t done = 0;
		while (done < stream.size()) {
			struct cr_msg m;
			int k = cr_transport_recv(r.get(), &m, stream.data() + done, stream.size() - done);
			if (k <= 0)
				break;
			done += (size_t)k;
		}
		const uint8_t *out;
		size_t n = cr_transport_pending(r.get(), &out);
		cr_transport_pending_sent(r.get(), n);
		if (done != stream.size() || !cr_transport_ready(r.get()))
			state.SkipWithError("responder handshake failed");
		cr_transport_clear(r.get());
	}
	cr_secp_free(secp);
	state.SetItemsProcessed((int64_t)state.iterations());
}

// Heap bytes this thread holds now (allocated minus freed), from jemalloc.
int64_t heap_live()
{
	uint64_t a = 0, d = 0;
	size_t len = sizeof(a);
	mallctl("thread.allocated", &a, &len, nullptr, 0);
	len = sizeof(d);
	mallctl("thread.deallocated", &d, &len, nullptr, 0);
	return (int64_t)(a - d);
}

// Sends one 8-byte message from one endpoint to the other; false on error.
bool one_msg(struct cr_transport *from, struct cr_transport *to, const char *cmd)
{
	uint8_t pkt[64], nonce[8] = {1};
	bool follows;
	int n = cr_transport_frame(from, pkt, sizeof(pkt), cmd, nonce, sizeof(nonce), &follows);
	struct cr_msg m;
	return n > 0 && cr_transport_recv(to, &m, pkt, (size_t)n) == n && m.len == sizeof(nonce);
}

// What an idle handshaked V2 peer costs on the heap beyond its transport
// slot (cr_transport_size() bytes, reported as slot_B): K initiator and
// responder pairs through proto/transport.h, each after the handshake and
// a ping/pong both ways (heap_B_per_session), then after cr_transport_trim
// (trimmed_B_per_session). Items = sessions set up.
void bm_idle_session_heap(benchmark::State &state)
{
	const size_t k = quick ? 50 : 1000;
	uint8_t seed[32] = {11};
	struct cr_secp *secp = cr_secp_new(seed);
	static struct cr_v2_entropy ei, er;
	std::vector<endpoint> ini(k), res(k);
	uint64_t s = 7;
	double busy = 0, idle = 0;
	for (auto _ : state) {
		int64_t base = heap_live();
		bool ok = true;
		for (size_t j = 0; j < k; j++) {
			fresh_entropy(&ei, &s, (uint16_t)(j % 64));
			fresh_entropy(&er, &s, (uint16_t)(j % 64));
			cr_transport_init_v2(ini[j].get(), cr_chain_get(CR_CHAIN_MAIN), secp, true, &ei);
			cr_transport_init_v2(res[j].get(), cr_chain_get(CR_CHAIN_MAIN), secp, false, &er);
			ok &= move_all(ini[j].get(), res[j].get()) && move_all(res[j].get(), ini[j].get()) &&
			      move_all(ini[j].get(), res[j].get());
			ok &= one_msg(res[j].get(), ini[j].get(), "ping") &&
			      one_msg(ini[j].get(), res[j].get(), "pong") &&
			      one_msg(ini[j].get(), res[j].get(), "ping") &&
			      one_msg(res[j].get(), ini[j].get(), "pong");
		}
		busy = (double)(heap_live() - base) / (double)(2 * k);
		for (size_t j = 0; j < k; j++) {
			cr_transport_trim(ini[j].get());
			cr_transport_trim(res[j].get());
		}
		idle = (double)(heap_live() - base) / (double)(2 * k);
		for (size_t j = 0; j < k; j++) {
			cr_transport_clear(ini[j].get());
			cr_transport_clear(res[j].get());
		}
		if (!ok)
			state.SkipWithError("session setup failed");
	}
	cr_secp_free(secp);
	state.counters["heap_B_per_session"] = busy;
	state.counters["trimmed_B_per_session"] = idle;
	state.counters["slot_B"] = (double)cr_transport_size();
	state.SetItemsProcessed((int64_t)(state.iterations() * 2 * k));
}

class RatioReporter : public RateReporter {
public:
	explicit RatioReporter(OutputOptions opts) : RateReporter(opts) {}

	void Finalize() override
	{
		ConsoleReporter::Finalize();
		std::printf("\n%-8s %13s %13s %9s %9s %9s %9s\n", "size", "raw_seal", "raw_open",
			    "encrypt", "decrypt", "v2_frame", "v2_recv");
		for (const char *size : {"32", "1024", "1048576"}) {
			double seal = rate("raw_seal/", size), open = rate("raw_open/", size);
			if (seal <= 0 || open <= 0)
				continue;
			std::printf("%-8s %8.1f MB/s %8.1f MB/s %8.1f%% %8.1f%% %8.1f%% %8.1f%%\n", size,
				    seal / 1e6, open / 1e6, 100 * rate("packet_encrypt/", size) / seal,
				    100 * rate("packet_decrypt/", size) / open,
				    100 * rate("v2_frame/", size) / seal, 100 * rate("v2_recv/", size) / open);
		}
		std::printf("(encrypt and v2_frame as a share of raw_seal, decrypt and v2_recv of raw_open)\n");
	}

};

} // namespace

int main(int argc, char **argv)
{
	quick = bench_quick();
	const int64_t sizes[] = {32, 1024, 1 << 20};
	struct {
		const char *name;
		void (*fn)(benchmark::State &);
	} benches[] = {
		{"raw_seal", bm_raw_seal},
		{"packet_encrypt", bm_packet_encrypt},
		{"v2_frame", bm_v2_frame},
		{"raw_open", bm_raw_open},
		{"packet_decrypt", bm_packet_decrypt},
		{"v2_recv", bm_v2_recv},
	};
	// Size-major: each packet figure runs right beside the raw one it is
	// compared with, so load drift on a shared machine hits both alike.
	for (int64_t s : sizes)
		for (auto &b : benches) {
			auto *reg = benchmark::RegisterBenchmark(b.name, b.fn)->Arg(s);
			if (quick)
				reg->MinTime(0.01);
		}
	for (auto *reg : {benchmark::RegisterBenchmark("handshake_pair", bm_handshake_pair),
			  benchmark::RegisterBenchmark("handshake_responder", bm_handshake_responder)})
		if (quick)
			reg->MinTime(0.01);
	benchmark::RegisterBenchmark("idle_session_heap", bm_idle_session_heap)->Iterations(quick ? 1 : 3);
	benchmark::Initialize(&argc, argv);
	RatioReporter reporter(isatty(STDOUT_FILENO) ? benchmark::ConsoleReporter::OO_Defaults
						     : benchmark::ConsoleReporter::OO_Tabular);
	size_t ran = benchmark::RunSpecifiedBenchmarks(&reporter);
	benchmark::Shutdown();
	return bench_finish(reporter, ran);
}
