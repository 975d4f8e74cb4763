/* Issue 10's attack "a peer that reads one byte a second while we broadcast
 * 1 MiB messages", against the engine itself (connringd has no broadcast
 * of its own to drive). One worker; default send buffer (1,000,000 bytes,
 * fPauseSend) and queue bound; a 16 MiB send budget. Three raw V1 peers:
 *  - slow: a 4 KiB receive buffer, reads one byte a second;
 *  - reader: reads everything, in a thread of its own;
 *  - bystander: gets no broadcast, pings now and then.
 * 1 MiB "block" messages go to slow and reader every 50 ms for 3 s. Bounds:
 *  - send memory (cr_totals.send_mem_bytes) never above the send budget;
 *    RSS (release build) never above its start + the send budget + 16 MiB;
 *  - slow is closed for resources (its queue would pass send_queue_max),
 *    the reader receives every broadcast in full, and nothing else closes;
 *  - the bystander's ping RTT during the broadcasts (best of 3) within 20x
 *    its RTT before (best of 3) or 250 ms, whichever is larger: a worker
 *    busy with the slow peer still answers others (not asserted under a
 *    sanitizer, where the factor measures the sanitizer);
 *  - once all three close, nothing is held (peers, fixed files, receive
 *    and send bytes, pool buffers and segments back to 0). */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>

#include "check.h"
#include "engine_util.h"
#include "raw_peer.h"

#define BCAST_LEN (1u << 20)
#define BCASTS 60
#define BCAST_EVERY_MS 50
#define SEND_BUDGET (16u << 20)
#define RTT_FACTOR 20
#define RTT_FLOOR_US 250000

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

struct drain {
	int fd;
	atomic_bool stop;
	atomic_ullong bytes;
};

static void *drain_main(void *u)
{
	struct drain *d = u;
	static uint8_t sink[1 << 16];
	while (!atomic_load(&d->stop)) {
		struct pollfd p = {.fd = d->fd, .events = POLLIN};
		if (poll(&p, 1, 20) <= 0)
			continue;
		ssize_t n = recv(d->fd, sink, sizeof sink, MSG_DONTWAIT);
		if (n == 0)
			break;
		if (n > 0)
			atomic_fetch_add(&d->bytes, (unsigned long long)n);
	}
	return NULL;
}

/* Reads V1 messages from fd until a pong carrying nonce; returns the
 * microseconds from send to pong, or 0 on timeout (5 s) or EOF. */
static uint64_t ping_rtt(int fd, uint64_t nonce)
{
	static uint8_t buf[1 << 16];
	static size_t have;
	uint8_t p[8];
	memcpy(p, &nonce, 8);
	uint64_t t0 = now_us();
	raw_send(fd, "ping", p, 8);
	while (now_us() - t0 < 5000000) {
		while (have >= CR_V1_HEADER_SIZE) {
			uint32_t len;
			memcpy(&len, buf + 16, 4);
			if (len > sizeof buf - CR_V1_HEADER_SIZE)
				return 0; /* the bystander is sent nothing large */
			if (have < CR_V1_HEADER_SIZE + len)
				break;
			bool pong = memcmp(buf + 4, "pong\0", 5) == 0 && len == 8 &&
				    memcmp(buf + CR_V1_HEADER_SIZE, p, 8) == 0;
			memmove(buf, buf + CR_V1_HEADER_SIZE + len, have - CR_V1_HEADER_SIZE - len);
			have -= CR_V1_HEADER_SIZE + len;
			if (pong)
				return now_us() - t0 + 1;
		}
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		if (poll(&pf, 1, 100) <= 0)
			continue;
		ssize_t n = recv(fd, buf + have, sizeof buf - have, MSG_DONTWAIT);
		if (n == 0)
			return 0;
		if (n > 0)
			have += (size_t)n;
	}
	return 0;
}

static uint64_t best_rtt(int fd, uint64_t *nonce)
{
	uint64_t best = 0;
	for (int i = 0; i < 3; i++) {
		uint64_t r = ping_rtt(fd, ++*nonce);
		if (r && (!best || r < best))
			best = r;
	}
	return best;
}

static void test_slow_reader_broadcast(void)
{
	struct rec ra;
	struct cr_config *c = test_config(&ra, "A", TEST_BIND);
	CHECK_EQ(cr_config_set_workers(c, 1), 0);
	CHECK_EQ(cr_config_set_send_budget_bytes(c, SEND_BUDGET), 0);
	struct cr_engine *a = NULL;
	CHECK_EQ(cr_engine_new(&a, c), 0);
	cr_config_free(c);
	if (!a)
		return;
	ra.e = a;
	CHECK_EQ(cr_engine_start(a), 0);
	uint16_t port = cr_engine_port(a);

	int slow = raw_connect_buf(port, 4096);
	raw_handshake(slow);
	CHECK(WAIT_FOR(rec_get(&ra, &ra.ready) == 1, 5000));
	int reader = raw_connect(port);
	raw_handshake(reader);
	CHECK(WAIT_FOR(rec_get(&ra, &ra.ready) == 2, 5000));
	int by = raw_connect(port);
	raw_handshake(by);
	CHECK(WAIT_FOR(rec_get(&ra, &ra.ready) == 3, 5000));
	pthread_mutex_lock(&ra.mu);
	uint64_t ids[2] = {ra.ready_ids[0], ra.ready_ids[1]};
	pthread_mutex_unlock(&ra.mu);

	uint64_t nonce = 0;
	uint64_t rtt_before = best_rtt(by, &nonce);
	CHECK(rtt_before > 0);
	struct drain d = {.fd = reader};
	pthread_t th;
	CHECK_EQ(pthread_create(&th, NULL, drain_main, &d), 0);

	long rss0 = rss_kib(), rss_peak = rss0;
	uint64_t mem_peak = 0, rtt_during = 0;
	uint64_t slow_read = 0, t_byte = now_us();
	int sent = 0;
	for (int i = 0; i < BCASTS; i++) {
		struct cr_msgbuf *m = cr_msgbuf_new(BCAST_LEN);
		CHECK(m != NULL);
		if (!m)
			break;
		memset(cr_msgbuf_data(m), i, BCAST_LEN);
		CHECK_EQ(cr_broadcast_buf(a, ids, 2, "block", m), 0);
		sent++;
		uint64_t until = now_us() + BCAST_EVERY_MS * 1000;
		do {
			struct cr_totals t;
			cr_engine_totals(a, &t, sizeof t);
			if (t.send_mem_bytes > mem_peak)
				mem_peak = t.send_mem_bytes;
			long r = rss_kib();
			if (r > rss_peak)
				rss_peak = r;
			if (now_us() - t_byte >= 1000000) { /* one byte a second */
				uint8_t b;
				if (recv(slow, &b, 1, MSG_DONTWAIT) == 1)
					slow_read++;
				t_byte = now_us();
			}
			sleep_ms(5);
		} while (now_us() < until);
		if (i == BCASTS / 2) /* halfway: the slow peer's queue is at its worst */
			rtt_during = best_rtt(by, &nonce);
	}
	/* the reader gets every broadcast in full */
	const unsigned long long want = (unsigned long long)sent * (CR_V1_HEADER_SIZE + BCAST_LEN);
	CHECK(WAIT_FOR(atomic_load(&d.bytes) >= want, 20000));
	atomic_store(&d.stop, true);
	pthread_join(th, NULL);
	struct cr_totals t;
	cr_engine_totals(a, &t, sizeof t);
	printf("  %d x 1 MiB broadcast: reader got %llu of %llu bytes; slow peer read %llu bytes; "
	       "send memory peak %llu (budget %u); RSS %ld -> peak %ld KiB; skipped %llu\n",
	       sent, (unsigned long long)atomic_load(&d.bytes), want, (unsigned long long)slow_read,
	       (unsigned long long)mem_peak, SEND_BUDGET, rss0, rss_peak,
	       (unsigned long long)t.send_skipped);
	printf("  bystander ping RTT: %llu us before, %llu us during (bound max(%dx, %d us))\n",
	       (unsigned long long)rtt_before, (unsigned long long)rtt_during, RTT_FACTOR, RTT_FLOOR_US);
	CHECK(mem_peak <= SEND_BUDGET);
	CHECK(rtt_during > 0);
	uint64_t rtt_bound = rtt_before * RTT_FACTOR > RTT_FLOOR_US ? rtt_before * RTT_FACTOR : RTT_FLOOR_US;
	if (sanitize_build())
		printf("  sanitizer build: RSS and RTT bounds printed, not asserted\n");
	else {
		CHECK(rss_peak - rss0 <= (long)(SEND_BUDGET >> 10) + 16384);
		CHECK(rtt_during <= rtt_bound);
	}
	/* slow was closed for resources, nobody else */
	CHECK(WAIT_FOR(rec_get(&ra, &ra.closed) == 1, 5000));
	pthread_mutex_lock(&ra.mu);
	CHECK_EQ(ra.closed_ids[0], ids[0]);
	CHECK_EQ(ra.closed_reason[0], CR_CLOSE_RESOURCES);
	pthread_mutex_unlock(&ra.mu);
	close(slow);
	close(reader);
	close(by);
	check_nothing_held(a, "slow reader");
	cr_engine_free(a);
}

int main(void)
{
	test_watchdog();
	RUN(test_slow_reader_broadcast);
	return check_done();
}
