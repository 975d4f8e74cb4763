/* A worker whose fixed-file table is full stops accepting (an accept then
 * would take the connection and drop it when the descriptor cannot be
 * installed): newcomers wait in the kernel's backlog, nothing spins, and
 * the next one is taken as soon as a slot frees. */
#include "check.h"
#include "engine_util.h"

static void test_engine_accept_table_full(void)
{
	struct rec ra, rb;
	struct cr_config *ca, *cb;
	ca = test_config(&ra, "A", TEST_BIND);
	cb = test_config(&rb, "B", NULL);
	CHECK_EQ(cr_config_set_workers(ca, 1), 0);
	CHECK_EQ(cr_config_set_max_peers_per_worker(ca, 4), 0); /* a fixed-file table of 4 descriptors */
	CHECK_EQ(cr_config_set_max_connections(ca, 100), 0);
	struct cr_engine *a = NULL, *b = NULL;
	CHECK_EQ(cr_engine_new(&a, ca), 0);
	cr_config_free(ca);
	CHECK_EQ(cr_engine_start(a), 0);
	CHECK_EQ(cr_engine_new(&b, cb), 0);
	cr_config_free(cb);
	CHECK_EQ(cr_engine_start(b), 0);
	CHECK_EQ(cr_engine_capacity(a), 4);
	char hp[64];
	snprintf(hp, sizeof hp, "127.0.0.1:%u", cr_engine_port(a));
	for (int i = 0; i < 6; i++)
		CHECK_EQ(cr_connect(b, hp, CR_CONNECT_V1), 0);
	CHECK(WAIT_FOR(rec_get(&ra, &ra.ready) == 4, 10000));
	sleep_ms(700);
	CHECK_EQ(rec_get(&ra, &ra.ready), 4);
	struct cr_totals t;
	cr_engine_totals(a, &t, sizeof t);
	/* paused, not failing and retrying (backoff would be 10, 20, 40 ... ms) */
	CHECK(t.accept_backoffs <= 12);
	CHECK_EQ(t.accepted, 4);
	CHECK_EQ(rec_get(&rb, &rb.closed), 0); /* the two extra wait, not dropped */
	/* a slot frees: the next waiting connection is taken */
	CHECK_EQ(cr_disconnect(a, ra.ready_ids[0]), 0);
	CHECK(WAIT_FOR(rec_get(&ra, &ra.ready) == 5, 5000));
	cr_engine_free(b);
	cr_engine_free(a);
}

int main(void)
{
	test_watchdog();
	RUN(test_engine_accept_table_full);
	return check_done();
}
