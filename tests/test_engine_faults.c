/* Engine faults that only show under a race or a refusing kernel:
 *  - cr_peer_info callers racing cr_engine_stop all return (-ESHUTDOWN or
 *    an answer), never hang, whatever moment the stop lands at;
 *  - cr__sqe on a ring whose submissions the kernel refuses hands out
 *    spilled SQEs instead of spinning, and cr__ring_wait later submits
 *    every one of them, in order.
 * The second reaches into engine internals (cr__sqe, cr__ring_wait). */
#include <liburing.h>

#include "check.h"
#include "engine_util.h"

#include "engine/internal.h"

struct pair {
	struct rec ra, rb;
	struct cr_engine *a, *b; /* a listens, b connects */
};

static bool pair_start(struct pair *pr)
{
	struct cr_config *ca = test_config(&pr->ra, "A", TEST_BIND);
	struct cr_config *cb = test_config(&pr->rb, "B", NULL);
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
	char hp[64];
	snprintf(hp, sizeof hp, "127.0.0.1:%u", cr_engine_port(pr->a));
	for (int i = 0; i < 4; i++)
		CHECK_EQ(cr_connect(pr->b, hp, 0), 0);
	bool ok = WAIT_FOR(rec_get(&pr->ra, &pr->ra.ready) == 4, 10000);
	CHECK(ok);
	return ok;
}

struct asker {
	pthread_t t;
	struct cr_engine *e;
	uint64_t id;
	_Atomic int done;
	unsigned answers, shutdowns, others;
};

static void *ask(void *arg)
{
	struct asker *a = arg;
	for (;;) {
		struct cr_peer_info info;
		int r = cr_peer_info(a->e, a->id, &info, sizeof info);
		if (r == 0) {
			a->answers++;
		} else if (r == -ESHUTDOWN) {
			a->shutdowns++;
			break;
		} else {
			a->others++; /* -ESTALE: the stop closed the peer first */
			if (a->others > 1000000)
				break;
		}
	}
	atomic_store(&a->done, 1);
	return NULL;
}

/* Four threads ask about live peers in a tight loop while the engine stops
 * under them, at a different moment each round. */
static void test_peer_info_races_stop(void)
{
	unsigned rounds = sanitize_build() ? 4 : 12, hung = 0, answered = 0;
	for (unsigned round = 0; round < rounds; round++) {
		struct pair pr;
		if (!pair_start(&pr)) {
			cr_engine_free(pr.b);
			cr_engine_free(pr.a);
			return;
		}
		struct asker as[4];
		for (int k = 0; k < 4; k++) {
			memset(&as[k], 0, sizeof as[k]);
			as[k].e = pr.a;
			as[k].id = pr.ra.ready_ids[k];
			pthread_create(&as[k].t, NULL, ask, &as[k]);
		}
		sleep_ms(round * 7 % 40); /* the stop lands at varying points */
		cr_engine_stop(pr.a);
		for (int k = 0; k < 4; k++) {
			/* bounded: a hang is a failure, not a stuck test */
			bool done = WAIT_FOR(atomic_load(&as[k].done), 5000);
			CHECK(done);
			if (!done) {
				hung++;
				pthread_detach(as[k].t);
				continue;
			}
			pthread_join(as[k].t, NULL);
			CHECK_EQ(as[k].shutdowns, 1);
			answered += as[k].answers;
		}
		if (hung)
			break; /* the engine cannot be freed under a waiting thread */
		cr_engine_free(pr.b);
		cr_engine_free(pr.a);
	}
	printf("  %u rounds, %u answers before the stops, %u hung callers\n", rounds, answered, hung);
	CHECK(answered > 0);
}

/* A ring set up disabled refuses every submit (-EBADFD): the SQ fills,
 * then cr__sqe must spill instead of spinning. Enabled, cr__ring_wait
 * drains the spill and every NOP completes, in the order it was made. */
static void test_sqe_spill_when_submit_refused(void)
{
	struct io_uring ring;
	struct io_uring_params p;
	memset(&p, 0, sizeof p);
	p.flags = IORING_SETUP_R_DISABLED;
	int r = io_uring_queue_init_params(4, &ring, &p);
	CHECK_EQ(r, 0);
	if (r)
		return;
	const unsigned n = 40;
	for (unsigned i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = cr__sqe(&ring);
		CHECK(sqe != NULL);
		if (!sqe)
			return;
		io_uring_prep_nop(sqe);
		io_uring_sqe_set_data64(sqe, i);
	}
	CHECK_EQ(io_uring_submit(&ring), -EBADFD); /* the refusal this test relies on */
	CHECK_EQ(cr__sqe_spilled(), n - 4);
	CHECK_EQ(cr__enable_rings(&ring), 0);
	unsigned next = 0, loops = 0;
	while (next < n && loops++ < 1000) {
		CHECK_EQ(cr__ring_wait(NULL, &ring, "test"), 0);
		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;
		io_uring_for_each_cqe(&ring, head, cqe) {
			CHECK_EQ(cqe->user_data, next);
			CHECK_EQ(cqe->res, 0);
			next++;
			seen++;
		}
		io_uring_cq_advance(&ring, seen);
	}
	CHECK_EQ(next, n);
	CHECK_EQ(cr__sqe_spilled(), 0);
	io_uring_queue_exit(&ring);
}

int main(void)
{
	test_watchdog();
	RUN(test_peer_info_races_stop);
	RUN(test_sqe_spill_when_submit_refused);
	return check_done();
}
