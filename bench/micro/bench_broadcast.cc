// A fair side-by-side measure of cr_broadcast against plain loopback TCP:
// how long one 1 MiB V1 message takes to reach N peers from the engine,
// next to how long the kernel alone needs to move the same bytes.
//
// Every variant has the same receiving side: N plain loopback client sockets
// drained by the benchmark's own thread with epoll, which only counts bytes
// (and compares each sink's first 24 bytes with the expected V1 header): no
// parsing, no hashing, so the receiver costs what a kernel copy costs.
// - engine/N: the engine listens; N sockets connect to it and complete the
//   V1 version/verack handshake by hand (proto/v1.h, proto/msg.h); then one
//   cr_broadcast_buf of a 1 MiB cr_msgbuf to every peer. Timed from the call
//   until every sink holds header + payload. payload_copy_bytes is the
//   engine's counter of payload bytes copied in userspace during the run.
// - fanout/N: a plain sender thread writes the same 24 + 1 MiB bytes to each
//   of N other loopback connections with blocking send.
// - single/N: one loopback connection carries the same N x (24 + 1 MiB).
// The summary prints engine time / fanout time and engine time / single
// time (the "time loopback needs to move N MiB"), and the load.
// CR_BENCH_QUICK=1 uses 8 peers; CR_BENCH_PEERS=N overrides (default 1000).
// Everything is loopback, bounded in time, and closed before exit.
// Single-threaded apart from the engine's threads and the sender thread.
#include "gbench_util.h"

#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <connring/connring.h>
extern "C" {
#include "proto/chain.h"
#include "proto/msg.h"
#include "proto/v1.h"
}

namespace {

using Clock = std::chrono::steady_clock;

const size_t kPayload = 1u << 20;
const size_t kMsg = CR_V1_HEADER_SIZE + kPayload;
const int kDrainMs = 60000; // bound on one delivery

int peers_wanted()
{
	if (const char *p = std::getenv("CR_BENCH_PEERS")) {
		int n = std::atoi(p);
		return n < 1 ? 1 : (n > 5000 ? 5000 : n);
	}
	return bench_quick() ? 8 : 1000;
}

// The message every variant delivers: header + 1 MiB of 0x42.
struct Message {
	std::vector<uint8_t> bytes;
	Message() : bytes(kMsg, 0x42)
	{
		cr_v1_encode_header(bytes.data(), cr_chain_get(CR_CHAIN_REGTEST)->magic, "block",
				    bytes.data() + CR_V1_HEADER_SIZE, (uint32_t)kPayload);
	}
};

const Message &message()
{
	static Message m;
	return m;
}

int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

int connect_loopback(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		close(fd);
		return -1;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

// N non-blocking client sockets in one epoll set, drained by byte count.
struct Sinks {
	int ep = -1;
	std::vector<int> fds;
	uint64_t stray = 0;     // bytes seen outside a delivery (should stay 0)
	uint64_t bad_hdr = 0;   // sinks whose first 24 bytes were not the header
	std::vector<uint8_t> scratch = std::vector<uint8_t>(256 * 1024);

	~Sinks()
	{
		for (int fd : fds)
			close(fd);
		if (ep >= 0)
			close(ep);
	}
	bool add(int fd)
	{
		if (ep < 0 && (ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
			return false;
		fds.push_back(fd);
		struct epoll_event ev;
		ev.events = EPOLLIN;
		ev.data.u32 = (uint32_t)(fds.size() - 1);
		return set_nonblock(fd) == 0 && epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0;
	}
	// Reads and counts whatever is already queued (between deliveries).
	void sweep()
	{
		for (int fd : fds)
			for (int k = 0; k < 1024; k++) {
				ssize_t r = recv(fd, scratch.data(), scratch.size(), MSG_DONTWAIT);
				if (r <= 0)
					break;
				stray += (uint64_t)r;
			}
	}
	// Reads until every sink got want bytes starting with the header; bytes
	// beyond want count as stray. False on timeout, EOF or error.
	bool drain(size_t want, const uint8_t *hdr)
	{
		std::vector<size_t> got(fds.size(), 0);
		size_t done = 0;
		struct epoll_event evs[256];
		auto end = Clock::now() + std::chrono::milliseconds(kDrainMs);
		while (done < fds.size()) {
			if (Clock::now() > end)
				return false;
			int n = epoll_wait(ep, evs, 256, 100);
			if (n < 0 && errno != EINTR)
				return false;
			for (int i = 0; i < n; i++) {
				uint32_t s = evs[i].data.u32;
				ssize_t r = recv(fds[s], scratch.data(), scratch.size(), 0);
				if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
					return false;
				if (r < 0)
					continue;
				size_t before = got[s];
				if (before < CR_V1_HEADER_SIZE) {
					size_t k = CR_V1_HEADER_SIZE - before;
					if (k > (size_t)r)
						k = (size_t)r;
					if (memcmp(scratch.data(), hdr + before, k) != 0)
						bad_hdr++;
				}
				got[s] += (size_t)r;
				if (got[s] > want)
					stray += got[s] - (before > want ? before : want);
				if (before < want && got[s] >= want)
					done++;
			}
		}
		return true;
	}
};

// ---- The engine and its N hand-handshaked V1 sinks. ----

struct EngineSide {
	std::atomic<uint64_t> ready{0}, closed{0};
	struct cr_engine *e = nullptr;
	Sinks sinks;
	bool ok = false;

	static void on_ready(void *u, uint64_t, const struct cr_peer_info *)
	{
		static_cast<EngineSide *>(u)->ready++;
	}
	static void on_closed(void *u, uint64_t, bool, enum cr_close_reason, const char *)
	{
		static_cast<EngineSide *>(u)->closed++;
	}

	explicit EngineSide(int n)
	{
		struct cr_config *c = cr_config_new();
		if (!c)
			return;
		int bad = cr_config_set_chain(c, CR_CHAIN_REGTEST) | cr_config_add_bind(c, "127.0.0.1:0") |
			  cr_config_set_max_connections(c, (unsigned)n + 64) |
			  cr_config_set_ping_interval_ms(c, 600000) | // no ping during a delivery
			  cr_config_set_user(c, this) | cr_config_set_on_peer_ready(c, on_ready) |
			  cr_config_set_on_peer_closed(c, on_closed);
		int ret = bad ? bad : cr_engine_new(&e, c);
		cr_config_free(c);
		if (ret != 0 || cr_engine_start(e) != 0)
			return;
		uint16_t port = cr_engine_port(e);
		std::vector<uint8_t> hello = hello_bytes();
		for (int i = 0; i < n; i++) {
			int fd = connect_loopback(port);
			if (fd < 0)
				return;
			if (send(fd, hello.data(), hello.size(), MSG_NOSIGNAL) != (ssize_t)hello.size() ||
			    !sinks.add(fd)) {
				close(fd);
				return;
			}
		}
		ok = handshake() && wait_ready((uint64_t)n) && warm_up();
	}

	// One untimed broadcast first: the engine sends a peer's first large
	// segment zero-copy, and on loopback the kernel reports it copied, so
	// from then on that peer gets plain sends. The first broadcast is thus
	// a different (slower) path; it is reported apart (first_ms) and the
	// timed loop measures the steady state.
	double first_ms = 0;
	uint64_t first_zc = 0, first_zc_copied = 0;
	bool warm_up()
	{
		struct cr_totals t0, t1;
		cr_engine_totals(e, &t0, sizeof t0);
		t1 = t0;
		struct cr_msgbuf *m = cr_msgbuf_new(kPayload);
		if (!m)
			return false;
		memset(cr_msgbuf_data(m), 0x42, kPayload);
		auto a = Clock::now();
		if (cr_broadcast_buf(e, nullptr, 0, "block", m) != 0 ||
		    !sinks.drain(kMsg, message().bytes.data()))
			return false;
		first_ms = 1e3 * std::chrono::duration<double>(Clock::now() - a).count();
		// The notifications trail the sends: wait (bounded) for them.
		for (int i = 0; i < 2000; i++) {
			cr_engine_totals(e, &t1, sizeof t1);
			if (t1.send_zc_copied - t0.send_zc_copied >= t1.send_zc - t0.send_zc)
				break;
			std::this_thread::sleep_for(std::chrono::milliseconds(1));
		}
		first_zc = t1.send_zc - t0.send_zc;
		first_zc_copied = t1.send_zc_copied - t0.send_zc_copied;
		return true;
	}
	~EngineSide()
	{
		cr_engine_free(e); // before the sinks close: no EOF storm to log
	}

	// Our version (70016, relay) then verack, in one write.
	static std::vector<uint8_t> hello_bytes()
	{
		const uint8_t *magic = cr_chain_get(CR_CHAIN_REGTEST)->magic;
		struct cr_version v;
		memset(&v, 0, sizeof v);
		v.version = 70016;
		v.timestamp = (int64_t)time(nullptr);
		v.nonce = std::random_device{}() | ((uint64_t)std::random_device{}() << 32) | 1;
		snprintf(v.user_agent, sizeof v.user_agent, "/bench_broadcast/");
		v.user_agent_len = (uint16_t)strlen(v.user_agent);
		v.relay = true;
		std::vector<uint8_t> b(2 * CR_V1_HEADER_SIZE + CR_MSG_VERSION_SIZE_MAX);
		int len = cr_msg_version_encode(b.data() + CR_V1_HEADER_SIZE,
						CR_MSG_VERSION_SIZE_MAX, &v);
		if (len < 0)
			return {};
		int total = cr_v1_encode(b.data(), b.size(), magic, "version", (uint32_t)len);
		if (total < 0 || cr_v1_encode(b.data() + total, CR_V1_HEADER_SIZE, magic, "verack", 0) < 0)
			return {};
		b.resize((size_t)total + CR_V1_HEADER_SIZE);
		return b;
	}

	// Decodes what the engine sends (version, wtxidrelay, sendaddrv2,
	// verack, then the ping it sends a ready peer) until each sink saw its
	// ping, so nothing of the handshake is left to be counted later.
	bool handshake()
	{
		size_t n = sinks.fds.size();
		std::vector<struct cr_v1_decoder> dec(n);
		std::vector<bool> pinged(n, false);
		for (auto &d : dec)
			cr_v1_decoder_init(&d, cr_chain_get(CR_CHAIN_REGTEST)->magic, 0);
		size_t done = 0;
		bool ok2 = true;
		struct epoll_event evs[256];
		auto end = Clock::now() + std::chrono::seconds(30);
		while (ok2 && done < n) {
			if (Clock::now() > end) {
				ok2 = false;
				break;
			}
			int m = epoll_wait(sinks.ep, evs, 256, 100);
			for (int i = 0; ok2 && i < m; i++) {
				uint32_t s = evs[i].data.u32;
				uint8_t buf[4096];
				ssize_t r = recv(sinks.fds[s], buf, sizeof buf, 0);
				if (r == 0 || (r < 0 && errno != EAGAIN)) {
					ok2 = false;
					break;
				}
				size_t off = 0;
				while (r > 0 && off < (size_t)r) {
					struct cr_msg msg;
					int c = cr_v1_decode(&dec[s], &msg, buf + off, (size_t)r - off);
					if (c < 0) {
						ok2 = false;
						break;
					}
					off += (size_t)c;
					if (msg.command[0] && !pinged[s] && strcmp(msg.command, "ping") == 0) {
						pinged[s] = true;
						done++;
					}
				}
			}
		}
		for (auto &d : dec)
			cr_v1_decoder_clear(&d);
		return ok2;
	}

	bool wait_ready(uint64_t n)
	{
		for (int i = 0; i < 30000 && ready.load() < n; i++)
			std::this_thread::sleep_for(std::chrono::milliseconds(1));
		return ready.load() == n;
	}
};

// ---- Plain loopback: N (or one) connections from our own listener. ----

struct PlainSide {
	std::vector<int> senders; // the accepted ends, blocking
	Sinks sinks;
	bool ok = false;

	explicit PlainSide(int n)
	{
		int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (lfd < 0)
			return;
		struct sockaddr_in sa;
		socklen_t sl = sizeof sa;
		memset(&sa, 0, sizeof sa);
		sa.sin_family = AF_INET;
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(lfd, 128) != 0 ||
		    getsockname(lfd, (struct sockaddr *)&sa, &sl) != 0) {
			close(lfd);
			return;
		}
		for (int i = 0; i < n; i++) {
			int c = connect_loopback(ntohs(sa.sin_port));
			if (c < 0)
				break;
			if (!sinks.add(c)) {
				close(c);
				break;
			}
			int a = accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
			if (a < 0)
				break;
			int one = 1;
			setsockopt(a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
			senders.push_back(a);
		}
		close(lfd);
		ok = (int)senders.size() == n && (int)sinks.fds.size() == n;
	}
	~PlainSide()
	{
		for (int fd : senders)
			close(fd);
	}

	// Sender thread: each of `rounds` copies of the message to each socket.
	static bool send_all(const std::vector<int> &fds, int rounds)
	{
		const uint8_t *p = message().bytes.data();
		for (int fd : fds)
			for (int k = 0; k < rounds; k++)
				for (size_t off = 0; off < kMsg;) {
					ssize_t r = send(fd, p + off, kMsg - off, MSG_NOSIGNAL);
					if (r < 0 && errno == EINTR)
						continue;
					if (r <= 0)
						return false;
					off += (size_t)r;
				}
		return true;
	}
};

// Built on first use, reused across Google Benchmark's calls (a handshake of
// 1,000 peers per call would dominate), freed at the end of main.
EngineSide *g_engine;
PlainSide *g_fanout, *g_single;

void bm_engine(benchmark::State &state)
{
	int n = (int)state.range(0);
	if (!g_engine)
		g_engine = new EngineSide(n);
	EngineSide &es = *g_engine;
	if (!es.ok) {
		state.SkipWithError("engine peers did not handshake");
		return;
	}
	struct cr_totals t0, t1;
	cr_engine_totals(es.e, &t0, sizeof t0);
	for (auto _ : state) {
		es.sinks.sweep();
		struct cr_msgbuf *m = cr_msgbuf_new(kPayload);
		if (!m) {
			state.SkipWithError("cr_msgbuf_new");
			break;
		}
		memset(cr_msgbuf_data(m), 0x42, kPayload);
		auto a = Clock::now();
		int rc = cr_broadcast_buf(es.e, nullptr, 0, "block", m);
		bool ok = rc == 0 && es.sinks.drain(kMsg, message().bytes.data());
		auto b = Clock::now();
		if (!ok) {
			state.SkipWithError("broadcast did not arrive in full");
			break;
		}
		state.SetIterationTime(std::chrono::duration<double>(b - a).count());
	}
	cr_engine_totals(es.e, &t1, sizeof t1);
	state.SetBytesProcessed((int64_t)state.iterations() * n * (int64_t)kMsg);
	state.counters["peers"] = n;
	state.counters["payload_copy_bytes"] = (double)(t1.payload_copy_bytes - t0.payload_copy_bytes);
	state.counters["send_zc"] = (double)(t1.send_zc - t0.send_zc);
	state.counters["zc_copied"] = (double)(t1.send_zc_copied - t0.send_zc_copied);
	state.counters["send_calls"] = (double)(t1.send_calls - t0.send_calls);
	state.counters["stray_bytes"] = (double)es.sinks.stray;
	state.counters["bad_hdr"] = (double)es.sinks.bad_hdr;
	state.counters["closed"] = (double)es.closed.load();
}

void run_plain(benchmark::State &state, PlainSide *&side, int conns, int rounds)
{
	if (!side)
		side = new PlainSide(conns);
	PlainSide &ps = *side;
	if (!ps.ok) {
		state.SkipWithError("loopback connections failed");
		return;
	}
	for (auto _ : state) {
		ps.sinks.sweep();
		std::atomic<bool> sent{false};
		auto a = Clock::now();
		std::thread t([&] { sent = PlainSide::send_all(ps.senders, rounds); });
		bool ok = ps.sinks.drain((size_t)rounds * kMsg, message().bytes.data());
		if (!ok) // unblock a sender stuck on a full socket, then give up
			for (int fd : ps.senders)
				shutdown(fd, SHUT_RDWR);
		t.join();
		auto b = Clock::now();
		if (!ok || !sent) {
			state.SkipWithError("loopback delivery failed");
			break;
		}
		state.SetIterationTime(std::chrono::duration<double>(b - a).count());
	}
	state.SetBytesProcessed((int64_t)state.iterations() * conns * rounds * (int64_t)kMsg);
	state.counters["peers"] = conns * rounds;
	state.counters["stray_bytes"] = (double)ps.sinks.stray;
	state.counters["bad_hdr"] = (double)ps.sinks.bad_hdr;
}

void bm_fanout(benchmark::State &state)
{
	run_plain(state, g_fanout, (int)state.range(0), 1);
}

void bm_single(benchmark::State &state)
{
	run_plain(state, g_single, 1, (int)state.range(0));
}

class RatioReporter : public RateReporter {
public:
	explicit RatioReporter(OutputOptions opts, int n) : RateReporter(opts), n_(n) {}

	void Finalize() override
	{
		ConsoleReporter::Finalize();
		char arg[16];
		snprintf(arg, sizeof arg, "%d", n_);
		double eng = rate("engine/", arg), fan = rate("fanout/", arg), one = rate("single/", arg);
		double load[3] = {0, 0, 0};
		if (FILE *f = fopen("/proc/loadavg", "r")) {
			if (fscanf(f, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3)
				load[0] = load[1] = load[2] = -1;
			fclose(f);
		}
		double bytes = (double)n_ * (double)kMsg;
		std::printf("\n1 MiB message to %d peers (%.1f MiB on the wire):\n", n_, bytes / (1 << 20));
		if (eng > 0)
			std::printf("  engine broadcast    %8.1f ms\n", 1e3 * bytes / eng);
		if (g_engine && g_engine->ok)
			std::printf("  engine, first one   %8.1f ms  (untimed warm-up: %llu zero-copy sends, "
				    "%llu reported copied)\n",
				    g_engine->first_ms, (unsigned long long)g_engine->first_zc,
				    (unsigned long long)g_engine->first_zc_copied);
		if (fan > 0)
			std::printf("  loopback fan-out    %8.1f ms  (N sockets, one sender thread)\n",
				    1e3 * bytes / fan);
		if (one > 0)
			std::printf("  loopback single     %8.1f ms  (one socket)\n", 1e3 * bytes / one);
		if (eng > 0 && fan > 0 && one > 0)
			std::printf("  engine / fan-out = %.2fx   engine / single = %.2fx   (goal: <= 2x)\n",
				    fan / eng, one / eng);
		std::printf("  load average %.2f %.2f %.2f\n", load[0], load[1], load[2]);
	}

private:
	int n_;
};

} // namespace

int main(int argc, char **argv)
{
	int n = peers_wanted();
	benchmark::RegisterBenchmark("engine", bm_engine)->Arg(n)->UseManualTime()
		->Unit(benchmark::kMillisecond);
	benchmark::RegisterBenchmark("fanout", bm_fanout)->Arg(n)->UseManualTime()
		->Unit(benchmark::kMillisecond);
	benchmark::RegisterBenchmark("single", bm_single)->Arg(n)->UseManualTime()
		->Unit(benchmark::kMillisecond);
	benchmark::Initialize(&argc, argv);
	RatioReporter reporter(isatty(STDOUT_FILENO) ? benchmark::ConsoleReporter::OO_Defaults
						     : benchmark::ConsoleReporter::OO_Tabular,
			       n);
	size_t ran = benchmark::RunSpecifiedBenchmarks(&reporter);
	benchmark::Shutdown();
	delete g_engine;
	delete g_fanout;
	delete g_single;
	return bench_finish(reporter, ran);
}
