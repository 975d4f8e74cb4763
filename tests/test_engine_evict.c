/* Eviction at accept over loopback (127/8 routable, so each 127.a.x.x is its
 * own /16 netgroup): with every inbound slot taken a newcomer gets in once
 * a victim was closed (CR_CLOSE_EVICTED), newcomers from one netgroup evict
 * each other rather than the established peers, peers still in their
 * handshake are evictable, noban peers never are (the newcomer is then
 * refused), and the counters say why candidates were kept. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "engine_util.h"
#include "proto/chain.h"
#include "proto/msg.h"
#include "proto/v1.h"

static struct cr_engine *start(struct cr_config *c, struct rec *r)
{
	struct cr_engine *e = NULL;
	CHECK_EQ(cr_engine_new(&e, c), 0);
	cr_config_free(c);
	if (e)
		r->e = e;
	if (e)
		CHECK_EQ(cr_engine_start(e), 0);
	return e;
}

static int raw_from(const char *src, uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in me = { .sin_family = AF_INET };
	inet_pton(AF_INET, src, &me.sin_addr);
	CHECK_EQ(bind(fd, (struct sockaddr *)&me, sizeof me), 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK_EQ(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	return fd;
}

static void raw_handshake(int fd)
{
	static uint8_t buf[2 * CR_V1_HEADER_SIZE + CR_MSG_VERSION_SIZE_MAX];
	const uint8_t *magic = cr_chain_get(CR_CHAIN_REGTEST)->magic;
	struct cr_version v;
	memset(&v, 0, sizeof v);
	v.version = 70016;
	v.nonce = 0x77;
	int n = cr_msg_version_encode(buf + CR_V1_HEADER_SIZE, sizeof buf - CR_V1_HEADER_SIZE, &v);
	CHECK(n > 0);
	int m = cr_v1_encode(buf, sizeof buf, magic, "version", (uint32_t)n);
	int k = cr_v1_encode(buf + m, sizeof buf - (size_t)m, magic, "verack", 0);
	if (write(fd, buf, (size_t)(m + k)) != m + k)
		return;
}

static unsigned closed_with(struct rec *r, enum cr_close_reason why)
{
	pthread_mutex_lock(&r->mu);
	unsigned n = 0;
	for (unsigned i = 0; i < r->closed && i < REC_MAX; i++)
		n += r->closed_reason[i] == why;
	pthread_mutex_unlock(&r->mu);
	return n;
}

/* 40 established peers, each in its own /16; then 12 newcomers from one
 * /16, one after another. Each newcomer needs an eviction; after the first,
 * the newcomers' own netgroup is the largest, so they evict each other. */
static void test_evict_attackers_evict_themselves(void)
{
	struct rec ra;
	struct cr_config *c = test_config(&ra, "A", TEST_BIND);
	CHECK_EQ(cr_config_set_workers(c, 1), 0);
	CHECK_EQ(cr_config_set_routable127(c, true), 0);
	CHECK_EQ(cr_config_set_flood_defence(c, false), 0);
	CHECK_EQ(cr_config_set_max_connections(c, 40), 0);
	CHECK_EQ(cr_config_set_outbound_slots(c, 0), 0);
	struct cr_engine *a = start(c, &ra);
	uint16_t port = cr_engine_port(a);
	int honest[40], bad[12];
	for (int i = 0; i < 40; i++) {
		char src[32];
		snprintf(src, sizeof src, "127.%d.0.1", 10 + i);
		honest[i] = raw_from(src, port);
		raw_handshake(honest[i]);
		CHECK(WAIT_FOR(rec_get(&ra, &ra.ready) == (unsigned)i + 1, 5000));
	}
	for (int i = 0; i < 12; i++) {
		char src[32];
		snprintf(src, sizeof src, "127.99.0.%d", 1 + i);
		bad[i] = raw_from(src, port);
		raw_handshake(bad[i]);
		CHECK(WAIT_FOR(rec_get(&ra, &ra.ready) == 41u + (unsigned)i, 5000));
	}
	CHECK(WAIT_FOR(closed_with(&ra, CR_CLOSE_EVICTED) == 12, 5000));
	/* who went: the first newcomer evicted an established peer (all groups
	 * of one then), every later one a newcomer before it */
	unsigned honest_gone = 0;
	for (int i = 0; i < 40; i++) {
		struct pollfd p = { honest[i], POLLIN, 0 };
		char buf[4096];
		while (poll(&p, 1, 0) > 0) {
			ssize_t r = read(honest[i], buf, sizeof buf);
			if (r <= 0) {
				honest_gone++;
				break;
			}
		}
	}
	CHECK(honest_gone <= 5); /* Core's worst case: the newcomers' group among the 4 protected */
	struct cr_totals t;
	cr_engine_totals(a, &t, sizeof t);
	CHECK_EQ(t.evictions, 12);
	CHECK_EQ(t.refused_full, 0);
	CHECK_EQ(t.inbound, 40);
	CHECK(t.evict_kept_netgroup >= 12 * 4); /* 4 by netgroup in every run */
	CHECK(t.evict_kept_uptime > 0);
	for (int i = 0; i < 40; i++)
		close(honest[i]);
	for (int i = 0; i < 12; i++)
		close(bad[i]);
	cr_engine_free(a);
}

/* Slots held by connections that never send a version are evictable. */
static void test_evict_pending_handshakes(void)
{
	struct rec ra;
	struct cr_config *c = test_config(&ra, "A", TEST_BIND);
	CHECK_EQ(cr_config_set_workers(c, 1), 0);
	CHECK_EQ(cr_config_set_routable127(c, true), 0);
	CHECK_EQ(cr_config_set_flood_defence(c, false), 0);
	CHECK_EQ(cr_config_set_max_connections(c, 30), 0);
	CHECK_EQ(cr_config_set_outbound_slots(c, 0), 0);
	struct cr_engine *a = start(c, &ra);
	uint16_t port = cr_engine_port(a);
	int idle[30];
	for (int i = 0; i < 30; i++) {
		char src[32];
		snprintf(src, sizeof src, "127.%d.0.2", 40 + i);
		idle[i] = raw_from(src, port);
	}
	struct cr_totals t;
	CHECK(WAIT_FOR((cr_engine_totals(a, &t, sizeof t), t.inbound == 30), 5000));
	int fresh = raw_from("127.120.0.1", port);
	raw_handshake(fresh);
	CHECK(WAIT_FOR(rec_get(&ra, &ra.ready) == 1, 5000));
	cr_engine_totals(a, &t, sizeof t);
	CHECK_EQ(t.evictions, 1);
	for (int i = 0; i < 30; i++)
		close(idle[i]);
	close(fresh);
	cr_engine_free(a);
}

/* noban peers are never candidates: with all slots theirs, a newcomer is
 * refused, and so is one when every candidate is protected. */
static void test_evict_never_noban(void)
{
	struct rec ra;
	struct cr_config *c = test_config(&ra, "A", TEST_BIND);
	CHECK_EQ(cr_config_set_workers(c, 1), 0);
	CHECK_EQ(cr_config_set_routable127(c, true), 0);
	CHECK_EQ(cr_config_set_max_connections(c, 25), 0);
	CHECK_EQ(cr_config_set_outbound_slots(c, 0), 0);
	CHECK_EQ(cr_config_add_whitelist(c, "noban@127.44.0.0/16"), 0);
	struct cr_engine *a = start(c, &ra);
	uint16_t port = cr_engine_port(a);
	int nb[25];
	for (int i = 0; i < 25; i++) {
		char src[32];
		snprintf(src, sizeof src, "127.44.0.%d", 1 + i);
		nb[i] = raw_from(src, port);
		raw_handshake(nb[i]);
	}
	CHECK(WAIT_FOR(rec_get(&ra, &ra.ready) == 25, 5000));
	int x = raw_from("127.45.0.1", port);
	raw_handshake(x);
	struct cr_totals t;
	CHECK(WAIT_FOR((cr_engine_totals(a, &t, sizeof t), t.refused_full == 1), 5000));
	CHECK_EQ(t.evictions, 0);
	CHECK_EQ(t.evict_kept_noban, 25);
	CHECK_EQ(rec_get(&ra, &ra.closed), 0);
	for (int i = 0; i < 25; i++)
		close(nb[i]);
	close(x);
	cr_engine_free(a);
}

int main(void)
{
	test_watchdog();
	RUN(test_evict_attackers_evict_themselves);
	RUN(test_evict_pending_handshakes);
	RUN(test_evict_never_noban);
	return check_done();
}
