/* The coordinator's manual connections: an addnode= entry whose peer is
 * not listening yet is retried with a growing delay and connects once the
 * listener is up; when the peer drops it, it is reconnected. Outbound
 * connections are spread over the workers (least loaded first). */
#include "check.h"
#include "engine_util.h"
#include "port_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

/* A loopback port held bound but not listening: connects to it are
 * refused, and nobody else can take it until the holder closes (just
 * before the test's own listener binds it). Below the ephemeral range
 * (port_util.h), so no outgoing connection of a parallel test lands on it. */
static int hold_port(uint16_t *port)
{
	for (int i = 0; i < 100; i++) {
		int p = cr_test_free_port();
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)p) };
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (p > 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
			*port = (uint16_t)p;
			return fd;
		}
		close(fd);
	}
	CHECK(!"no port to hold");
	return -1;
}

/* Manual retries back off as btcd's connmgr: the n-th failure in a row
 * waits n x retry_ms, at most retry_max_ms. Each gap between failures is
 * at least that (the coordinator never retries early); the first gaps are
 * short enough that later ones measurably grow. */
static void test_engine_addnode_backoff(void)
{
	uint16_t port = 0;
	int holder = hold_port(&port);
	struct rec ra, rb;
	struct cr_config *ca, *cb;
	cb = test_config(&rb, "B", NULL);
	const unsigned step = 80, cap = 240;
	CHECK_EQ(cr_config_set_manual_retry_ms(cb, step), 0);
	CHECK_EQ(cr_config_set_manual_retry_max_ms(cb, cap), 0);
	char hp[64];
	snprintf(hp, sizeof hp, "127.0.0.1:%u", port);
	CHECK_EQ(cr_config_add_addnode(cb, hp), 0);
	struct cr_engine *a = NULL, *b = NULL;
	CHECK_EQ(cr_engine_new(&b, cb), 0);
	cr_config_free(cb);
	CHECK_EQ(cr_engine_start(b), 0);
	/* nobody listens: attempts fail and are retried, later ones later */
	const unsigned fails = 5;
	CHECK(WAIT_FOR(rec_get(&rb, &rb.closed) >= fails, 10000));
	struct cr_totals t;
	cr_engine_totals(b, &t, sizeof t);
	CHECK(t.connect_failures >= fails);
	CHECK_EQ(rb.closed_reason[0], CR_CLOSE_CONNECT_FAILED);
	pthread_mutex_lock(&rb.mu);
	for (unsigned n = 1; n < fails; n++) {
		uint64_t gap_ms = (rb.closed_us[n] - rb.closed_us[n - 1]) / 1000;
		unsigned want = n * step < cap ? n * step : cap;
		printf("  failure %u -> %u: %llu ms (at least %u)\n", n, n + 1, (unsigned long long)gap_ms, want);
		/* 5 ms of slack: the close is timed a hair after the attempt */
		CHECK(gap_ms + 5 >= want);
	}
	pthread_mutex_unlock(&rb.mu);
	/* the listener comes up on the held port: the entry connects */
	close(holder);
	ca = test_config(&ra, "A", hp);
	CHECK_EQ(cr_engine_new(&a, ca), 0);
	cr_config_free(ca);
	CHECK_EQ(cr_engine_start(a), 0);
	CHECK(WAIT_FOR(rec_get(&rb, &rb.ready) == 1 && rec_get(&ra, &ra.ready) == 1, 5000));
	CHECK_EQ(rb.ready_info[0].conn_type, CR_CONN_MANUAL);
	/* the peer drops it: reconnected after the (reset) first delay */
	CHECK_EQ(cr_disconnect(a, ra.ready_ids[0]), 0);
	CHECK(WAIT_FOR(rec_get(&rb, &rb.ready) == 2 && rec_get(&ra, &ra.ready) == 2, 5000));
	cr_engine_free(b);
	cr_engine_free(a);
}

static void test_engine_outbound_spread(void)
{
	struct rec ra, rb;
	struct cr_config *ca, *cb;
	ca = test_config(&ra, "A", TEST_BIND);
	cb = test_config(&rb, "B", NULL);
	struct cr_engine *a = NULL, *b = NULL;
	CHECK_EQ(cr_engine_new(&a, ca), 0);
	cr_config_free(ca);
	CHECK_EQ(cr_engine_start(a), 0);
	CHECK_EQ(cr_engine_new(&b, cb), 0);
	cr_config_free(cb);
	CHECK_EQ(cr_engine_start(b), 0);
	char hp[64];
	snprintf(hp, sizeof hp, "127.0.0.1:%u", cr_engine_port(a));
	for (int i = 0; i < 8; i++)
		CHECK_EQ(cr_connect(b, hp, CR_CONNECT_V1), 0);
	CHECK(WAIT_FOR(rec_get(&rb, &rb.ready) == 8, 10000));
	unsigned per[2] = { 0, 0 };
	for (int i = 0; i < 8; i++)
		per[(rb.ready_ids[i] >> 56) & 1]++;
	CHECK_EQ(per[0], 4);
	CHECK_EQ(per[1], 4);
	uint64_t ids[16];
	CHECK_EQ(cr_engine_peers(b, ids, 16), 8);
	CHECK_EQ(cr_engine_workers(b), 2);
	CHECK_EQ(cr_engine_capacity(b), 2 * 512);
	cr_engine_free(b);
	cr_engine_free(a);
}

/* A second engine on a port in use fails to start (no silent sharing
 * through SO_REUSEPORT). */
static void test_engine_port_in_use(void)
{
	struct rec ra, rb;
	struct cr_config *ca, *cb;
	ca = test_config(&ra, "A", TEST_BIND);
	struct cr_engine *a = NULL, *b = NULL;
	CHECK_EQ(cr_engine_new(&a, ca), 0);
	cr_config_free(ca);
	CHECK_EQ(cr_engine_start(a), 0);
	char hp[64];
	snprintf(hp, sizeof hp, "127.0.0.1:%u", cr_engine_port(a));
	cb = test_config(&rb, "B", hp);
	CHECK_EQ(cr_engine_new(&b, cb), 0);
	cr_config_free(cb);
	CHECK_EQ(cr_engine_start(b), -EADDRINUSE);
	cr_engine_free(b);
	cr_engine_free(a);
}

int main(void)
{
	test_watchdog();
	RUN(test_engine_addnode_backoff);
	RUN(test_engine_outbound_spread);
	RUN(test_engine_port_in_use);
	return check_done();
}
