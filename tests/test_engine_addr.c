/* Connection types and incoming address messages on real loopback
 * sockets (Bitcoin Core's rules): a block-relay-only peer gets relay=0 in
 * our version, is never sent or asked for addresses and its address
 * messages are ignored; an outbound full-relay peer is asked once
 * (getaddr); a feeler is closed once its handshake is through; an
 * addr-fetch connection asks, and is closed on the answer or its
 * timeout; more than 1,000 entries is misbehaviour; the token bucket
 * holds a flood of small addr messages to its rate, unless the peer has
 * the addr permission. */
#include "check.h"
#include "engine_util.h"
#include "raw_peer.h"
#include "addr_peer.h"
#include "proto/services.h"

static struct cr_engine *start(struct rec *r, const char *name, const char *bind,
			       struct cr_config *(*tweak)(struct cr_config *))
{
	struct cr_config *c = test_config(r, name, bind);
	if (tweak)
		c = tweak(c);
	struct cr_engine *e = NULL;
	CHECK_EQ(cr_engine_new(&e, c), 0);
	cr_config_free(c);
	CHECK_EQ(cr_engine_start(e), 0);
	return e;
}


static void test_engine_addr_block_relay_only(void)
{
	struct rec r;
	struct cr_engine *e = start(&r, "B", NULL, NULL);
	uint16_t port;
	int lfd = ap_listen(&port);
	struct cr_version v;
	int fd = ap_outbound(e, &r, lfd, port, CR_CONN_BLOCK_RELAY, &v);
	CHECK_EQ(v.relay, 0);
	CHECK_EQ(r.ready_info[0].conn_type, CR_CONN_BLOCK_RELAY);
	/* it sends addresses and asks for ours: all ignored */
	ap_send_addrs(fd, 0, 5, ap_time_now());
	raw_send(fd, "getaddr", NULL, 0);
	unsigned addr_msgs = 0;
	CHECK_EQ(ap_barrier(fd, &addr_msgs, NULL, 5000), 1);
	CHECK_EQ(addr_msgs, 0); /* never getaddr, addr or addrv2 to it */
	struct cr_totals t = ap_totals(e);
	CHECK_EQ(t.addr_msgs_ignored, 2);
	CHECK_EQ(t.addrs_received, 0);
	CHECK_EQ(t.ready_by_type[CR_CONN_BLOCK_RELAY], 1);
	uint64_t id = 0;
	CHECK_EQ(cr_engine_peers(e, &id, 1), 1);
	struct cr_peer_info pi;
	CHECK_EQ(cr_peer_info(e, id, &pi, sizeof pi), 0);
	CHECK(!pi.addr_relay_enabled);
	CHECK_EQ(pi.network, CR_NETWORK_LOCAL);
	cr_engine_free(e);
	close(fd);
	close(lfd);
}

static void test_engine_addr_full_relay_getaddr(void)
{
	struct rec r;
	struct cr_engine *e = start(&r, "F", NULL, NULL);
	uint16_t port;
	int lfd = ap_listen(&port);
	struct cr_version v;
	int fd = ap_outbound(e, &r, lfd, port, CR_CONN_OUTBOUND_FULL_RELAY, &v);
	CHECK_EQ(v.relay, 1);
	CHECK_EQ(ap_wait_cmd(fd, "getaddr", NULL, NULL, 5000), 1);
	/* the answer passes the rate limit whole (Core adds 1,000 tokens) */
	ap_send_addrs(fd, 0, 1000, ap_time_now() - 3600);
	unsigned addr_msgs = 0;
	CHECK_EQ(ap_barrier(fd, &addr_msgs, NULL, 5000), 1);
	CHECK_EQ(addr_msgs, 0); /* asked once only */
	struct cr_totals t = ap_totals(e);
	CHECK_EQ(t.addrs_received, 1000);
	CHECK_EQ(t.addrs_rate_limited, 0);
	/* the entries reach the coordinator's address manager */
	CHECK(WAIT_FOR((t = ap_totals(e)).addrman_size >= 500, 5000));
	CHECK_EQ(t.addrs_added, t.addrman_size);
	/* getaddr from an outbound peer is ignored (Core) */
	raw_send(fd, "getaddr", NULL, 0);
	CHECK_EQ(ap_barrier(fd, &addr_msgs, NULL, 5000), 1);
	CHECK_EQ(addr_msgs, 0);
	cr_engine_free(e);
	close(fd);
	close(lfd);
}

static void test_engine_addr_feeler(void)
{
	struct rec r;
	struct cr_engine *e = start(&r, "L", NULL, NULL);
	uint16_t port;
	int lfd = ap_listen(&port);
	struct cr_version v;
	int fd = ap_outbound(e, &r, lfd, port, CR_CONN_FEELER, &v);
	CHECK(WAIT_FOR(rec_get(&r, &r.closed) == 1, 5000));
	CHECK_EQ(r.closed_reason[0], CR_CLOSE_FEELER_DONE);
	CHECK(r.closed_was_ready[0]);
	/* our end sees the close; no getaddr came before it */
	unsigned addr_msgs = 0;
	CHECK_EQ(ap_barrier(fd, &addr_msgs, NULL, 5000), 0);
	CHECK_EQ(addr_msgs, 0);
	cr_engine_free(e);
	close(fd);
	close(lfd);
}

static struct cr_config *v1_only(struct cr_config *c)
{
	CHECK_EQ(cr_config_set_v2transport(c, false), 0);
	return c;
}

static struct cr_config *witness_v1_only(struct cr_config *c)
{
	CHECK_EQ(cr_config_set_services(c, CR_NODE_NETWORK | CR_NODE_WITNESS), 0);
	return v1_only(c);
}

/* Our version message's services (and its addr_from's): NODE_P2P_V2 while
 * V2 transport is on, as Core adds it with -v2transport, even on a V1
 * connection; the configured services besides; not with V2 off. */
static void version_services(struct cr_config *(*tweak)(struct cr_config *), uint64_t want)
{
	struct rec r;
	struct cr_engine *e = start(&r, "S", NULL, tweak);
	uint16_t port;
	int lfd = ap_listen(&port);
	struct cr_version v;
	memset(&v, 0, sizeof v);
	int fd = ap_outbound(e, &r, lfd, port, CR_CONN_OUTBOUND_FULL_RELAY, &v);
	CHECK_EQ(v.services, want);
	CHECK_EQ(v.addr_from.services, want);
	cr_engine_free(e);
	close(fd);
	close(lfd);
}

static void test_engine_addr_version_services(void)
{
	version_services(NULL, CR_NODE_P2P_V2);
	version_services(v1_only, 0);
	version_services(witness_v1_only, CR_NODE_NETWORK | CR_NODE_WITNESS);
}

static struct cr_config *short_fetch(struct cr_config *c)
{
	CHECK_EQ(cr_config_set_addr_fetch_timeout_ms(c, 300), 0);
	return c;
}

static void test_engine_addr_fetch(void)
{
	struct rec r;
	struct cr_engine *e = start(&r, "A", NULL, NULL);
	uint16_t port;
	int lfd = ap_listen(&port);
	struct cr_version v;
	int fd = ap_outbound(e, &r, lfd, port, CR_CONN_ADDR_FETCH, &v);
	CHECK_EQ(ap_wait_cmd(fd, "getaddr", NULL, NULL, 5000), 1);
	/* one address may be the peer's own announcement: not the answer */
	ap_send_addrs(fd, 0, 1, ap_time_now());
	CHECK_EQ(ap_barrier(fd, NULL, NULL, 5000), 1);
	CHECK_EQ(rec_get(&r, &r.closed), 0);
	ap_send_addrs(fd, 1, 2, ap_time_now());
	CHECK(WAIT_FOR(rec_get(&r, &r.closed) == 1, 5000));
	CHECK_EQ(r.closed_reason[0], CR_CLOSE_ADDR_FETCH_DONE);
	CHECK_EQ(ap_totals(e).addrs_received, 3);
	cr_engine_free(e);
	close(fd);

	/* no answer: closed at the timeout */
	e = start(&r, "T", NULL, short_fetch);
	fd = ap_outbound(e, &r, lfd, port, CR_CONN_ADDR_FETCH, &v);
	CHECK_EQ(ap_wait_cmd(fd, "getaddr", NULL, NULL, 5000), 1);
	CHECK(WAIT_FOR(rec_get(&r, &r.closed) == 1, 5000));
	CHECK_EQ(r.closed_reason[0], CR_CLOSE_ADDR_FETCH_DONE);
	cr_engine_free(e);
	close(fd);
	close(lfd);
}


static void test_engine_addr_oversize(void)
{
	struct rec r;
	struct cr_engine *e = start(&r, "O", TEST_BIND, NULL);
	int fd = ap_inbound(e, &r);
	/* 1,000 entries is allowed */
	ap_send_addrs(fd, 0, 1000, ap_time_now());
	CHECK_EQ(ap_barrier(fd, NULL, NULL, 5000), 1);
	/* 1,001: misbehaviour (Core), the peer disconnected */
	uint8_t *p = malloc(3 + 1001 * CR_MSG_ADDR_ENTRY_SIZE);
	p[0] = 0xfd;
	p[1] = 1001 & 0xff;
	p[2] = 1001 >> 8;
	for (size_t i = 0; i < 1001; i++) {
		uint8_t *q = p + 3 + i * CR_MSG_ADDR_ENTRY_SIZE;
		memset(q, 0, CR_MSG_ADDR_ENTRY_SIZE);
		q[4] = 9; /* services */
		q[22] = q[23] = 0xff;
		q[24] = 11;
		q[25] = (uint8_t)(i >> 8);
		q[26] = (uint8_t)i;
		q[27] = 1;
		q[28] = 0x48;
		q[29] = 0x2c;
	}
	ap_send(fd, "addr", p, 3 + 1001 * CR_MSG_ADDR_ENTRY_SIZE);
	free(p);
	CHECK(WAIT_FOR(rec_get(&r, &r.closed) == 1, 5000));
	CHECK_EQ(r.closed_reason[0], CR_CLOSE_MISBEHAVED);
	struct cr_totals t = ap_totals(e);
	CHECK_EQ(t.addrs_received, 1000); /* the big one was not processed */
	cr_engine_free(e);
	close(fd);
}

static struct cr_config *addr_perm(struct cr_config *c)
{
	CHECK_EQ(cr_config_add_whitelist(c, "addr@127.0.0.1"), 0);
	return c;
}

/* 100 messages of 10 entries in a burst: the bucket (1 token at the
 * start, 0.1 a second) lets through 1 plus 0.1 per second elapsed; with
 * the addr permission, everything. */
static void test_engine_addr_token_bucket(void)
{
	for (int perm = 0; perm < 2; perm++) {
		struct rec r;
		struct cr_engine *e = start(&r, "K", TEST_BIND, perm ? addr_perm : NULL);
		int fd = ap_inbound(e, &r);
		uint64_t t0 = ap_now_ms();
		for (uint32_t i = 0; i < 100; i++)
			ap_send_addrs(fd, i * 10, 10, ap_time_now() - 7200);
		CHECK_EQ(ap_barrier(fd, NULL, NULL, 10000), 1);
		double elapsed_s = (double)(ap_now_ms() - t0) / 1000.0 + 1.0;
		struct cr_totals t = ap_totals(e);
		CHECK_EQ(t.addrs_received, 1000);
		uint64_t passed = t.addrs_received - t.addrs_rate_limited;
		printf("  %s: %llu of 1000 entries passed in %.1f s\n", perm ? "addr permission" : "no permission",
		       (unsigned long long)passed, elapsed_s - 1.0);
		if (perm)
			CHECK_EQ(t.addrs_rate_limited, 0);
		else
			CHECK(passed <= 1 + (uint64_t)(elapsed_s * 0.1) + 1);
		/* per peer, with Core's getpeerinfo names */
		uint64_t id = 0;
		CHECK_EQ(cr_engine_peers(e, &id, 1), 1);
		struct cr_peer_info pi;
		CHECK_EQ(cr_peer_info(e, id, &pi, sizeof pi), 0);
		CHECK(pi.addr_relay_enabled);
		CHECK_EQ(pi.addr_rate_limited, t.addrs_rate_limited);
		CHECK(pi.addr_processed <= passed);
		cr_engine_free(e);
		close(fd);
	}
}

/* Core's NextInvToInbounds: one timer per network, the same answer for
 * every caller until it is due, then a new one drawn from now. */
static void test_engine_addr_inv_timer(void)
{
	struct rec r;
	struct cr_engine *e = start(&r, "I", NULL, NULL);
	uint64_t a = cr_next_inv_send_us(e, CR_NETWORK_IPV4);
	CHECK(a > 0);
	uint64_t b = cr_next_inv_send_us(e, CR_NETWORK_IPV6);
	CHECK(b > 0);
	CHECK_EQ(cr_next_inv_send_us(e, CR_NETWORK_COUNT), 0);
	/* until it is due, every inbound peer of the network gets the same */
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t now = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	if (a > now)
		CHECK_EQ(cr_next_inv_send_us(e, CR_NETWORK_IPV4), a);
	/* once due, the next is later than the last */
	while (now <= a) {
		sleep_ms(50);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
		if (now > a + 60000000u)
			break; /* 37 means at most: cannot happen */
	}
	uint64_t c = cr_next_inv_send_us(e, CR_NETWORK_IPV4);
	CHECK(c >= now);
	CHECK(c != a);
	cr_engine_free(e);
}

int main(void)
{
	test_watchdog();
	RUN(test_engine_addr_block_relay_only);
	RUN(test_engine_addr_full_relay_getaddr);
	RUN(test_engine_addr_feeler);
	RUN(test_engine_addr_version_services);
	RUN(test_engine_addr_fetch);
	RUN(test_engine_addr_oversize);
	RUN(test_engine_addr_token_bucket);
	RUN(test_engine_addr_inv_timer);
	return check_done();
}
