/* Two engines in one process over loopback: V1 and V2 handshakes, V2 to a
 * V1-only listener falling back to V1, messages both ways, per-peer
 * statistics that match on both sides, and stale peer ids. */
#include "check.h"
#include "engine_util.h"

struct pair {
	struct rec ra, rb;
	struct cr_engine *a, *b; /* a listens, b connects */
};

static bool pair_start_w(struct pair *pr, bool a_v2, bool b_v2, unsigned a_workers)
{
	struct cr_config *ca, *cb;
	ca = test_config(&pr->ra, "A", TEST_BIND);
	cb = test_config(&pr->rb, "B", NULL);
	if (a_workers)
		CHECK_EQ(cr_config_set_workers(ca, a_workers), 0);
	CHECK_EQ(cr_config_set_v2transport(ca, a_v2), 0);
	CHECK_EQ(cr_config_set_v2transport(cb, b_v2), 0);
	CHECK_EQ(cr_engine_new(&pr->a, ca), 0);
	CHECK_EQ(cr_engine_new(&pr->b, cb), 0);
	cr_config_free(ca);
	cr_config_free(cb);
	if (!pr->a || !pr->b)
		return false;
	pr->ra.e = pr->a;
	pr->rb.e = pr->b;
	CHECK_EQ(cr_engine_start(pr->a), 0);
	CHECK_EQ(cr_engine_start(pr->b), 0);
	CHECK(cr_engine_port(pr->a) != 0);
	char hp[64];
	snprintf(hp, sizeof hp, "127.0.0.1:%u", cr_engine_port(pr->a));
	CHECK_EQ(cr_connect(pr->b, hp, 0), 0);
	bool ok = WAIT_FOR(rec_get(&pr->ra, &pr->ra.ready) == 1 && rec_get(&pr->rb, &pr->rb.ready) == 1, 10000);
	CHECK(ok);
	return ok;
}

static bool pair_start(struct pair *pr, bool a_v2, bool b_v2)
{
	return pair_start_w(pr, a_v2, b_v2, 0);
}

static void pair_free(struct pair *pr)
{
	cr_engine_free(pr->b);
	cr_engine_free(pr->a);
}

static const struct cr_msg_stats *row(const struct cr_peer_info *i, const char *cmd)
{
	for (unsigned k = 0; k < i->nmsg_stats; k++)
		if (strcmp(i->msg_stats[k].command, cmd) == 0)
			return &i->msg_stats[k];
	return NULL;
}

/* Both sides agree on what crossed the wire, message by message. */
static void check_stats_match(struct pair *pr, bool v1)
{
	uint64_t ida = pr->ra.ready_ids[0], idb = pr->rb.ready_ids[0];
	struct cr_peer_info ia, ib;
	/* quiet: wait until both sides saw every byte the other sent */
	bool ok = WAIT_FOR(cr_peer_info(pr->a, ida, &ia, sizeof ia) == 0 && cr_peer_info(pr->b, idb, &ib, sizeof ib) == 0 &&
				   ia.bytes_recv == ib.bytes_sent && ib.bytes_recv == ia.bytes_sent &&
				   ia.send_queue_bytes == 0 && ib.send_queue_bytes == 0 &&
				   ia.ping_last_us >= 0 && ib.ping_last_us >= 0,
			   5000);
	CHECK(ok);
	CHECK_EQ(ia.msgs_recv, ib.msgs_sent);
	CHECK_EQ(ib.msgs_recv, ia.msgs_sent);
	const char *msg_stats[] = { "version", "verack", "sendaddrv2", "wtxidrelay", "ping", "pong", "hello" };
	for (size_t k = 0; k < sizeof msg_stats / sizeof msg_stats[0]; k++) {
		const struct cr_msg_stats *sa = row(&ia, msg_stats[k]), *rb = row(&ib, msg_stats[k]);
		CHECK(sa && rb);
		if (!sa || !rb)
			continue;
		CHECK_EQ(sa->msgs_sent, rb->msgs_recv);
		CHECK_EQ(sa->msgs_recv, rb->msgs_sent);
		if (v1) { /* V2 receivers estimate per-command framing */
			CHECK_EQ(sa->bytes_sent, rb->bytes_recv);
			CHECK_EQ(sa->bytes_recv, rb->bytes_sent);
		}
	}
	CHECK(ia.inbound && !ib.inbound);
	CHECK_EQ(ia.conn_type, CR_CONN_INBOUND);
	CHECK_EQ(ib.conn_type, CR_CONN_MANUAL); /* cr_connect: Core's "onetry" */
	CHECK_EQ(ia.version, 70016);
	CHECK(strcmp(ia.user_agent, "/connring:" CR_VERSION "/") == 0);
	CHECK(strcmp(ib.user_agent, "/connring:" CR_VERSION "/") == 0);
	CHECK(ia.relay && ib.relay);
	CHECK(ia.ping_min_us >= 0 && ia.ping_min_us <= ia.ping_last_us);
	CHECK(ia.connected_us > 0 && ia.last_recv_us >= ia.connected_us);
	CHECK(strncmp(ia.addr_str, "127.0.0.1:", 10) == 0);
	CHECK_EQ(ia.transport, v1 ? 1 : 2);
	CHECK_EQ(ib.transport, v1 ? 1 : 2);
	if (!v1) {
		static const uint8_t zero[32];
		CHECK_MEM(ia.session_id, ib.session_id, 32);
		CHECK(memcmp(ia.session_id, zero, 32) != 0);
	}
}

static void exchange(struct pair *pr, bool v1)
{
	uint64_t ida = pr->ra.ready_ids[0], idb = pr->rb.ready_ids[0];
	uint8_t payload[3000];
	for (size_t i = 0; i < sizeof payload; i++)
		payload[i] = (uint8_t)(i * 7);
	for (int i = 0; i < 10; i++) {
		CHECK_EQ(cr_send(pr->b, idb, "hello", payload, sizeof payload), 0);
		CHECK_EQ(cr_send(pr->a, ida, "hello", payload, 100), 0);
	}
	CHECK(WAIT_FOR(rec_get(&pr->ra, &pr->ra.msgs) == 10 && rec_get(&pr->rb, &pr->rb.msgs) == 10, 5000));
	CHECK_EQ(pr->ra.msg_bytes, 10 * sizeof payload);
	CHECK_EQ(pr->rb.msg_bytes, 10 * 100);
	CHECK_EQ(pr->ra.last_byte, (uint8_t)((sizeof payload - 1) * 7));
	CHECK(strcmp(pr->ra.last_cmd, "hello") == 0);
	check_stats_match(pr, v1);
}

static void test_engine_v1(void)
{
	struct pair pr;
	if (pair_start(&pr, false, false))
		exchange(&pr, true);
	pair_free(&pr);
}

static void test_engine_v2(void)
{
	struct pair pr;
	if (pair_start(&pr, true, true))
		exchange(&pr, false);
	pair_free(&pr);
}

/* b tries V2; a only speaks V1 and drops it (bad magic); b retries with V1. */
static void test_engine_v1_fallback(void)
{
	struct pair pr;
	if (pair_start(&pr, false, true)) {
		struct cr_totals tb;
		cr_engine_totals(pr.b, &tb, sizeof tb);
		CHECK_EQ(tb.v1_fallbacks, 1);
		CHECK_EQ(pr.rb.ready_info[0].transport, 1);
		CHECK_EQ(rec_get(&pr.rb, &pr.rb.closed), 0); /* the V2 attempt is not reported */
		exchange(&pr, true);
	}
	pair_free(&pr);
}

static void test_engine_stale_id(void)
{
	struct pair pr;
	/* A has one worker, so the next peer lands in the slot just freed
	 * (not on another worker by chance) and must get a new generation. */
	if (pair_start_w(&pr, false, false, 1)) {
		uint64_t ida = pr.ra.ready_ids[0], idb = pr.rb.ready_ids[0];
		uint8_t x = 1;
		CHECK_EQ(cr_peer_writable(pr.a, ida), 1);
		/* same slot, other generation; other worker; out-of-range worker */
		CHECK_EQ(cr_send(pr.a, ida + 1, "hello", &x, 1), -ESTALE);
		CHECK_EQ(cr_send(pr.a, ida ^ (1ull << 56), "hello", &x, 1), -ESTALE);
		CHECK_EQ(cr_send(pr.a, ida | (63ull << 56), "hello", &x, 1), -ESTALE);
		CHECK_EQ(cr_send(pr.a, 0, "hello", &x, 1), -ESTALE);
		CHECK_EQ(cr_send(pr.a, ida, "", &x, 1), -EINVAL);
		CHECK_EQ(cr_send(pr.a, ida, "toolongcommand", &x, 1), -EINVAL);
		CHECK_EQ(cr_disconnect(pr.a, ida), 0);
		CHECK(WAIT_FOR(rec_get(&pr.ra, &pr.ra.closed) == 1 && rec_get(&pr.rb, &pr.rb.closed) == 1, 5000));
		CHECK_EQ(pr.ra.closed_reason[0], CR_CLOSE_LOCAL);
		CHECK(pr.ra.closed_was_ready[0]);
		CHECK_EQ(pr.rb.closed_reason[0], CR_CLOSE_EOF);
		CHECK_EQ(cr_send(pr.a, ida, "hello", &x, 1), -ESTALE);
		CHECK_EQ(cr_disconnect(pr.a, ida), -ESTALE);
		CHECK_EQ(cr_peer_writable(pr.a, ida), -ESTALE);
		struct cr_peer_info info;
		CHECK_EQ(cr_peer_info(pr.b, idb, &info, sizeof info), -ESTALE);
		CHECK_EQ(info.id, 0);
		/* a new peer reuses the slot: the old id still must not reach it.
		 * on_peer_closed comes before the slot is free: the slot waits
		 * until its cancelled operations complete (engine/peer.c), and a
		 * peer accepted meanwhile takes a fresh slot. Wait until A counts
		 * no peer, i.e. the slot is back on the free stack (a sanitizer's
		 * slower completions made the reconnect win that race). */
		struct cr_totals t;
		CHECK(WAIT_FOR((cr_engine_totals(pr.a, &t, sizeof t), t.peers == 0), 5000));
		char hp[64];
		snprintf(hp, sizeof hp, "127.0.0.1:%u", cr_engine_port(pr.a));
		CHECK_EQ(cr_connect(pr.b, hp, CR_CONNECT_V1), 0);
		CHECK(WAIT_FOR(rec_get(&pr.ra, &pr.ra.ready) == 2, 5000));
		uint64_t ida2 = pr.ra.ready_ids[1];
		CHECK(ida2 != ida);
		CHECK_EQ(ida2 >> 32, ida >> 32);                   /* same worker and slot */
		CHECK((uint32_t)ida2 != (uint32_t)ida);            /* a new generation */
		CHECK_EQ(cr_send(pr.a, ida, "hello", &x, 1), -ESTALE);
		CHECK_EQ(cr_send(pr.a, ida2, "hello", &x, 1), 0);
		CHECK(WAIT_FOR(rec_get(&pr.rb, &pr.rb.msgs) == 1, 5000));
	}
	pair_free(&pr);
}

/* The worker's data path allocates nothing per message once warm: 2,000
 * pings each answered by a pong from the pools. */
static void test_engine_no_malloc_per_message(void)
{
	struct pair pr;
	if (pair_start(&pr, false, false)) {
		uint64_t idb = pr.rb.ready_ids[0];
		struct cr_totals t0, t1;
		uint8_t nonce[8] = { 1 };
		struct cr_peer_info ib;
		for (int i = 0; i < 50; i++) /* warm the pools */
			CHECK_EQ(cr_send(pr.b, idb, "ping", nonce, 8), 0);
		CHECK(WAIT_FOR(cr_peer_info(pr.b, idb, &ib, sizeof ib) == 0 && row(&ib, "pong") &&
				       row(&ib, "pong")->msgs_recv >= 51, 5000));
		/* two rounds: the first grows the pools to the deepest queue a
		 * burst makes, the second must find everything there */
		for (int round = 0; round < 2; round++) {
			cr_engine_totals(pr.a, &t0, sizeof t0);
			for (int i = 0; i < 2000; i++)
				CHECK_EQ(cr_send(pr.b, idb, "ping", nonce, 8), 0);
			uint64_t want = 51 + 2000 * (uint64_t)(round + 1);
			CHECK(WAIT_FOR(cr_peer_info(pr.b, idb, &ib, sizeof ib) == 0 &&
					       row(&ib, "pong")->msgs_recv >= want, 10000));
			cr_engine_totals(pr.a, &t1, sizeof t1);
			CHECK(t1.msgs_sent - t0.msgs_sent >= 2000);
			printf("round %d: %llu pool allocations for 2000 pongs\n", round,
			       (unsigned long long)(t1.pool_allocs - t0.pool_allocs));
		}
		/* warm pools: far fewer allocations than messages (small messages
		 * share buffers, and the pools keep what a burst needed) */
		CHECK(t1.pool_allocs - t0.pool_allocs <= 2000 / 16);
	}
	pair_free(&pr);
}

int main(void)
{
	test_watchdog();
	RUN(test_engine_v1);
	RUN(test_engine_v2);
	RUN(test_engine_v1_fallback);
	RUN(test_engine_stale_id);
	RUN(test_engine_no_malloc_per_message);
	return check_done();
}
