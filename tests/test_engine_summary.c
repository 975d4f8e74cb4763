/* The coordinator's table of peer summaries (engine/summary.h): the table
 * itself (add, find, update, swap-remove with its index, counts by type,
 * the connected-address set) on 20,000 rows; and through two engines on
 * loopback, that ready peers appear with what the coordinator must know
 * (type, address, netgroup and keyed netgroup, services, relaytxes,
 * connected time, min ping), that the embedder's announcements reach the
 * table from any thread and from a callback, that block-relay statistics
 * and type counts follow, and that closed peers leave it. */
#include "check.h"
#include "engine_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "engine/internal.h"
#include "engine/summary.h"

static struct sockaddr_storage v4(unsigned a, unsigned b, unsigned c, unsigned d, uint16_t port)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	struct sockaddr_in *s = (struct sockaddr_in *)&ss;
	s->sin_family = AF_INET;
	s->sin_port = htons(port);
	s->sin_addr.s_addr = htonl(a << 24 | b << 16 | c << 8 | d);
	return ss;
}

static void test_summary_table(void)
{
	struct cr__summaries t;
	CHECK_EQ(cr__summaries_init(&t, 42, 1, 2, NULL, 0), 0);
	enum { N = 20000 };
	for (unsigned i = 0; i < N; i++) {
		struct cr__peer_ev ev = {.type = (uint8_t)(i % CR_CONN_TYPES), .relay = i & 1,
					 .connected_us = 1000 + i, .min_ping_us = -1};
		struct sockaddr_storage a = v4(20 + i % 100, (i / 100) % 256, 1, 1, 8333);
		uint64_t id = (uint64_t)(i % 3) << 56 | (uint64_t)i << 32 | 7;
		CHECK(cr__summary_add(&t, id, &ev, &a) != NULL);
	}
	CHECK_EQ(cr__summary_count(&t), N);
	CHECK_EQ(t.by_type[CR_CONN_FEELER], N / CR_CONN_TYPES + (N % CR_CONN_TYPES > 3));
	struct cr__peer_summary *s = cr__summary_find(&t, (uint64_t)5 << 32 | (uint64_t)2 << 56 | 7);
	CHECK(s && s->addr.net == CR_NET_IPV4 && s->addr.addr[0] == 25 && s->port == 8333);
	CHECK(s && s->group_len == 3 && s->keyed_group != 0);
	/* another /16 (25.1), another keyed group; the same /16 (25.0), the same */
	struct cr__peer_summary *s2 = cr__summary_find(&t, (uint64_t)105 << 32 | 7);
	CHECK(s && s2 && s2->addr.addr[1] == 1 && s2->keyed_group != s->keyed_group);
	struct cr__peer_ev ev0 = {.min_ping_us = -1};
	struct sockaddr_storage same = v4(25, 0, 9, 9, 1);
	struct cr__peer_summary *s3 = cr__summary_add(&t, 99, &ev0, &same);
	s = cr__summary_find(&t, (uint64_t)5 << 32 | (uint64_t)2 << 56 | 7);
	CHECK(s && s3 && s3->keyed_group == s->keyed_group);
	CHECK(cr__summary_remove(&t, 99, NULL));
	/* updates only move forward */
	struct cr__peer_ev up = {.min_ping_us = 500, .last_block_us = 9000, .last_tx_us = 8000};
	cr__summary_update(&t, s->id, &up);
	up.min_ping_us = 700;
	up.last_block_us = 100;
	cr__summary_update(&t, s->id, &up);
	s = cr__summary_find(&t, s->id);
	CHECK(s && s->min_ping_us == 500 && s->last_block_us == 9000 && s->last_tx_us == 8000);
	/* gen moves on add and remove, and on an update only when address
	 * relay turns on (or its addrv2 changes); relay never turns off */
	uint64_t gen = t.gen;
	cr__summary_update(&t, s->id, &up);
	CHECK_EQ(t.gen, gen);
	up.addr_relay = true;
	up.addrv2 = true;
	cr__summary_update(&t, s->id, &up);
	s = cr__summary_find(&t, s->id);
	CHECK(s && s->addr_relay && s->addrv2);
	CHECK_EQ(t.gen, gen + 1);
	cr__summary_update(&t, s->id, &up);
	up.addr_relay = false;
	cr__summary_update(&t, s->id, &up);
	s = cr__summary_find(&t, s->id);
	CHECK(s && s->addr_relay);
	CHECK_EQ(t.gen, gen + 1);
	CHECK(cr__summary_add(&t, 99, &ev0, &same) != NULL);
	CHECK(cr__summary_remove(&t, 99, NULL));
	CHECK_EQ(t.gen, gen + 3);
	/* remove every other row in a scattered order; the rest stay findable */
	unsigned removed = 0;
	for (unsigned k = 0; k < N; k++) {
		unsigned i = (k * 7919u) % N;
		if (i % 2)
			continue;
		uint64_t id = (uint64_t)(i % 3) << 56 | (uint64_t)i << 32 | 7;
		struct cr__peer_summary out;
		CHECK(cr__summary_remove(&t, id, &out));
		CHECK_EQ(out.id, id);
		removed++;
	}
	CHECK_EQ(cr__summary_count(&t), N - removed);
	unsigned found = 0, missing_odd = 0;
	for (unsigned i = 0; i < N; i++) {
		uint64_t id = (uint64_t)(i % 3) << 56 | (uint64_t)i << 32 | 7;
		struct cr__peer_summary *r = cr__summary_find(&t, id);
		if (i % 2) {
			missing_odd += !r;
			found += r && r->id == id && r->connected_us == 1000 + i;
		} else {
			CHECK(r == NULL);
		}
	}
	CHECK_EQ(missing_odd, 0);
	CHECK_EQ(found, N / 2);
	unsigned sum = 0;
	for (int k = 0; k < CR_CONN_TYPES; k++)
		sum += t.by_type[k];
	CHECK_EQ(sum, N / 2);
	struct cr_netaddr a25;
	uint16_t port;
	struct sockaddr_storage ss = v4(21, 0, 1, 1, 8333);
	cr__sockaddr_to_netaddr(&ss, &a25, &port);
	CHECK(cr_ipset_contains(&t.addrs, &a25)); /* i = 1 is still there */
	CHECK(!cr__summary_remove(&t, 12345, NULL));
	cr__summaries_clear(&t);
}

/* Calls cr_peer_announced from inside on_peer_ready (the worker path). */
static struct cr_engine *announce_engine;
static void announce_on_ready(void *u, uint64_t id, const struct cr_peer_info *info)
{
	rec_ready(u, id, info);
	if (announce_engine)
		cr_peer_announced(announce_engine, id, CR_ANNOUNCE_TX);
}

static bool snapshot(struct cr_engine *e, struct cr__peer_summary **rows, size_t *n)
{
	free(*rows);
	*rows = NULL;
	return cr__summary_snapshot(e, rows, n) == 0;
}

static void test_summary_engines(void)
{
	struct rec ra, rb;
	struct cr_config *ca = test_config(&ra, "A", TEST_BIND);
	struct cr_config *cb = test_config(&rb, "B", NULL);
	CHECK_EQ(cr_config_set_on_peer_ready(ca, announce_on_ready), 0);
	struct cr_engine *a = NULL, *b = NULL;
	CHECK_EQ(cr_engine_new(&a, ca), 0);
	CHECK_EQ(cr_engine_new(&b, cb), 0);
	cr_config_free(ca);
	cr_config_free(cb);
	announce_engine = a;
	CHECK_EQ(cr_engine_start(a), 0);
	CHECK_EQ(cr_engine_start(b), 0);
	char hp[64];
	snprintf(hp, sizeof hp, "127.0.0.1:%u", cr_engine_port(a));
	CHECK_EQ(cr_connect(b, hp, 0), 0);
	CHECK(WAIT_FOR(rec_get(&ra, &ra.ready) == 1 && rec_get(&rb, &rb.ready) == 1, 5000));
	struct cr__peer_summary *rows = NULL;
	size_t n = 0;
	/* the ready events, then the min ping of the first ping */
	CHECK(WAIT_FOR(snapshot(a, &rows, &n) && n == 1 && rows[0].min_ping_us >= 0 &&
			       rows[0].last_tx_us > 0, 5000));
	if (n == 1) {
		CHECK_EQ(rows[0].id, ra.ready_ids[0]);
		CHECK_EQ(rows[0].type, CR_CONN_INBOUND);
		CHECK(rows[0].ready && rows[0].relaytxes);
		CHECK_EQ(rows[0].addr.net, CR_NET_IPV4);
		CHECK_EQ(rows[0].addr.addr[0], 127);
		CHECK(rows[0].group_len >= 1 && rows[0].keyed_group != 0);
		CHECK(rows[0].connected_us > 0);
		CHECK_EQ(rows[0].version, 70016);
		CHECK_EQ(rows[0].last_block_us, 0); /* the callback said "tx" only */
	}
	/* from another thread: straight to the coordinator */
	CHECK_EQ(cr_peer_announced(a, ra.ready_ids[0], CR_ANNOUNCE_BLOCK), 0);
	CHECK_EQ(cr_peer_announced(a, ra.ready_ids[0], 0), -EINVAL);
	CHECK_EQ(cr_peer_announced(a, 12345, CR_ANNOUNCE_BLOCK), -ESTALE);
	CHECK(WAIT_FOR(snapshot(a, &rows, &n) && n == 1 && rows[0].last_block_us > 0, 5000));
	CHECK(WAIT_FOR(snapshot(b, &rows, &n) && n == 1 && rows[0].type == CR_CONN_MANUAL, 5000));
	CHECK_EQ(cr_tip_updated(a, 0), 0);
	struct cr_totals t;
	cr_engine_totals(b, &t, sizeof t);
	CHECK_EQ(t.ready_by_type[CR_CONN_MANUAL], 1);
	cr_engine_totals(a, &t, sizeof t);
	CHECK_EQ(t.ready_by_type[CR_CONN_INBOUND], 1);
	/* closed peers leave the tables and the counts */
	CHECK_EQ(cr_disconnect(a, ra.ready_ids[0]), 0);
	CHECK(WAIT_FOR(snapshot(a, &rows, &n) && n == 0, 5000));
	CHECK(WAIT_FOR(snapshot(b, &rows, &n) && n == 0, 5000));
	cr_engine_totals(a, &t, sizeof t);
	CHECK_EQ(t.ready_by_type[CR_CONN_INBOUND], 0);
	free(rows);
	announce_engine = NULL;
	cr_engine_stop(a);
	/* after stop: no snapshot, no announcements */
	CHECK_EQ(cr__summary_snapshot(a, &rows, &n), -ESHUTDOWN);
	CHECK_EQ(cr_tip_updated(a, 0), -ESHUTDOWN);
	cr_engine_free(a);
	cr_engine_free(b);
}

int main(void)
{
	test_watchdog();
	RUN(test_summary_table);
	RUN(test_summary_engines);
	return check_done();
}
