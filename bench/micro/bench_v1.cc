// V1 framing throughput beside raw SHA256d of the same sizes, in one run.
//
// V1 decoding is hashing plus a header check, so its ceiling is SHA256d of
// the payload; the ratio decode/SHA256d says what the framing costs. All
// rates count payload bytes only. Benchmarks:
//   sha256d/N        cr_sha256d over N bytes
//   sha256d_inc/N    the same through cr_sha256_init/update/final (a check
//                    that cr_sha256d adds nothing over the context API)
//   v1_decode/N      one whole message per input: the zero-copy view path
//   v1_decode_64k/N  the same stream arriving in 64 KiB receives: small
//                    messages many per input, 1 MiB ones reassembled
//   v1_decode_direct/N  header decoded, payload received in 64 KiB steps
//                    straight into the decoder's buffer (decode_direct)
//   v1_encode/N      header and checksum written in place
// heap_B/msg is the heap each message cost (jemalloc's thread.allocated):
// 0 on the view and encode paths. At the end a table of decode and encode
// rates as a share of SHA256d's.
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
#include "proto/chain.h"
#include "proto/crypto.h"
#include "proto/v1.h"
}

namespace {

const uint8_t *magic()
{
	return cr_chain_get(CR_CHAIN_MAIN)->magic;
}

void heap_counter(benchmark::State &state, uint64_t before, uint64_t msgs)
{
	double per = msgs ? (double)(bench_heap_allocated() - before) / (double)msgs : 0;
	state.counters["heap_B/msg"] = per;
}

std::vector<uint8_t> framed(size_t payload_len)
{
	std::vector<uint8_t> buf(CR_V1_HEADER_SIZE + payload_len);
	uint8_t *p = buf.data() + CR_V1_HEADER_SIZE;
	for (size_t i = 0; i < payload_len; i++)
		p[i] = (uint8_t)(i * 31 + 7);
	cr_v1_encode(buf.data(), buf.size(), magic(), "tx", (uint32_t)payload_len);
	return buf;
}

void bm_sha256d(benchmark::State &state)
{
	size_t n = (size_t)state.range(0);
	std::vector<uint8_t> buf = framed(n);
	uint8_t out[32];
	uint64_t heap = bench_heap_allocated();
	for (auto _ : state) {
		cr_sha256d(out, buf.data() + CR_V1_HEADER_SIZE, n);
		benchmark::DoNotOptimize(out);
	}
	heap_counter(state, heap, state.iterations());
	state.SetBytesProcessed((int64_t)state.iterations() * (int64_t)n);
}

// The same hash through the incremental API: cr_sha256d must cost no more
// (OpenSSL 3's one-shot SHA256() used to allocate per call).
void bm_sha256d_inc(benchmark::State &state)
{
	size_t n = (size_t)state.range(0);
	std::vector<uint8_t> buf = framed(n);
	uint8_t mid[32], out[32];
	uint64_t heap = bench_heap_allocated();
	for (auto _ : state) {
		struct cr_sha256 h;
		cr_sha256_init(&h);
		cr_sha256_update(&h, buf.data() + CR_V1_HEADER_SIZE, n);
		cr_sha256_final(&h, mid);
		cr_sha256_init(&h);
		cr_sha256_update(&h, mid, sizeof(mid));
		cr_sha256_final(&h, out);
		benchmark::DoNotOptimize(out);
	}
	heap_counter(state, heap, state.iterations());
	state.SetBytesProcessed((int64_t)state.iterations() * (int64_t)n);
}

void bm_v1_decode(benchmark::State &state)
{
	size_t n = (size_t)state.range(0);
	std::vector<uint8_t> buf = framed(n);
	struct cr_v1_decoder d;
	struct cr_msg m;
	cr_v1_decoder_init(&d, magic(), 0);
	uint64_t heap = bench_heap_allocated();
	for (auto _ : state) {
		int r = cr_v1_decode(&d, &m, buf.data(), buf.size());
		if (r != (int)buf.size() || m.reject)
			state.SkipWithError("decode failed");
		benchmark::DoNotOptimize(m.payload);
	}
	heap_counter(state, heap, state.iterations());
	cr_v1_decoder_clear(&d);
	state.SetBytesProcessed((int64_t)state.iterations() * (int64_t)n);
}

// A stream of back-to-back messages of one size, fed as 64 KiB receives
// would deliver it: message boundaries fall anywhere in a receive.
void bm_v1_decode_64k(benchmark::State &state)
{
	const size_t recv = 65536;
	size_t n = (size_t)state.range(0);
	std::vector<uint8_t> one = framed(n);
	size_t count = n >= (1u << 20) ? 2 : (4u << 20) / one.size();
	std::vector<uint8_t> stream;
	for (size_t i = 0; i < count; i++)
		stream.insert(stream.end(), one.begin(), one.end());
	struct cr_v1_decoder d;
	struct cr_msg m;
	cr_v1_decoder_init(&d, magic(), 0);
	uint64_t heap = bench_heap_allocated();
	for (auto _ : state) {
		size_t got = 0;
		for (size_t pos = 0; pos < stream.size(); pos += recv) {
			size_t len = stream.size() - pos < recv ? stream.size() - pos : recv;
			const uint8_t *p = stream.data() + pos;
			while (len) {
				int r = cr_v1_decode(&d, &m, p, len);
				if (r <= 0) {
					state.SkipWithError("decode failed");
					break;
				}
				p += r;
				len -= (size_t)r;
				got += m.command[0] != '\0';
			}
		}
		if (got != count)
			state.SkipWithError("lost messages");
	}
	heap_counter(state, heap, state.iterations() * count);
	cr_v1_decoder_clear(&d);
	state.SetBytesProcessed((int64_t)state.iterations() * (int64_t)(count * n));
}

// The engine's path for a large payload: the header arrives through
// cr_v1_decode, the rest is received straight into cr_v1_decode_direct's
// buffer (a 64 KiB memcpy stands in for each recv's kernel copy).
void bm_v1_decode_direct(benchmark::State &state)
{
	const size_t recv = 65536;
	size_t n = (size_t)state.range(0);
	std::vector<uint8_t> one = framed(n);
	struct cr_v1_decoder d;
	struct cr_msg m;
	cr_v1_decoder_init(&d, magic(), 0);
	uint64_t heap = bench_heap_allocated();
	for (auto _ : state) {
		size_t first = one.size() < recv ? one.size() : recv;
		int r = cr_v1_decode(&d, &m, one.data(), first);
		size_t pos = (size_t)r, want;
		uint8_t *p;
		while (r > 0 && (p = cr_v1_decode_direct(&d, &want)) != nullptr) {
			size_t k = want < recv ? want : recv;
			std::memcpy(p, one.data() + pos, k);
			r = cr_v1_decode_commit(&d, &m, k);
			pos += k;
		}
		if (r <= 0 || pos != one.size() || m.command[0] == '\0' || m.reject)
			state.SkipWithError("decode failed");
		benchmark::DoNotOptimize(m.payload);
	}
	heap_counter(state, heap, state.iterations());
	cr_v1_decoder_clear(&d);
	state.SetBytesProcessed((int64_t)state.iterations() * (int64_t)n);
}

void bm_v1_encode(benchmark::State &state)
{
	size_t n = (size_t)state.range(0);
	std::vector<uint8_t> buf = framed(n);
	uint64_t heap = bench_heap_allocated();
	for (auto _ : state) {
		int r = cr_v1_encode(buf.data(), buf.size(), magic(), "tx", (uint32_t)n);
		benchmark::DoNotOptimize(r);
		benchmark::ClobberMemory();
	}
	heap_counter(state, heap, state.iterations());
	state.SetBytesProcessed((int64_t)state.iterations() * (int64_t)n);
}

// Console output as usual, then each V1 rate as a share of SHA256d's rate
// at the same size, measured in this same run.
class RatioReporter : public RateReporter {
public:
	explicit RatioReporter(OutputOptions opts) : RateReporter(opts) {}

	void Finalize() override
	{
		ConsoleReporter::Finalize();
		// Shares of the faster of the two SHA256d baselines, so a slow
		// baseline cannot flatter the codec.
		std::printf("\n%-8s %14s %14s %11s %11s %11s %11s\n", "size", "cr_sha256d", "sha256d_inc",
			    "decode", "decode_64k", "direct", "encode");
		for (const char *size : {"32", "1024", "1048576"}) {
			double raw = rate("sha256d/", size), inc = rate("sha256d_inc/", size);
			double sha = raw > inc ? raw : inc;
			if (sha <= 0)
				continue;
			std::printf("%-8s %9.1f MB/s %9.1f MB/s %10.1f%% %10.1f%% %10.1f%% %10.1f%%\n", size,
				    raw / 1e6, inc / 1e6, 100 * rate("v1_decode/", size) / sha,
				    100 * rate("v1_decode_64k/", size) / sha,
				    100 * rate("v1_decode_direct/", size) / sha, 100 * rate("v1_encode/", size) / sha);
		}
		std::printf("(V1 rates as a share of the faster SHA256d baseline at the same size)\n");
	}

};

} // namespace

int main(int argc, char **argv)
{
	bool quick = bench_quick();
	const int64_t sizes[] = {32, 1024, 1 << 20};
	struct {
		const char *name;
		void (*fn)(benchmark::State &);
	} benches[] = {
		{"sha256d", bm_sha256d},
		{"sha256d_inc", bm_sha256d_inc},
		{"v1_decode", bm_v1_decode},
		{"v1_decode_64k", bm_v1_decode_64k},
		{"v1_decode_direct", bm_v1_decode_direct},
		{"v1_encode", bm_v1_encode},
	};
	// Size-major order: each V1 figure runs right after the SHA256d it is
	// compared with, so load drift on a shared machine hits both alike.
	for (int64_t s : sizes)
		for (auto &b : benches) {
			auto *reg = benchmark::RegisterBenchmark(b.name, b.fn)->Arg(s);
			if (quick)
				reg->MinTime(0.01);
		}
	benchmark::Initialize(&argc, argv);
	RatioReporter reporter(isatty(STDOUT_FILENO) ? benchmark::ConsoleReporter::OO_Defaults
						     : benchmark::ConsoleReporter::OO_Tabular);
	size_t ran = benchmark::RunSpecifiedBenchmarks(&reporter);
	benchmark::Shutdown();
	return bench_finish(reporter, ran);
}
