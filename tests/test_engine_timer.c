/* The worker's timer wheel (engine/timer.c): a timer never fires before
 * its deadline and fires on the first tick after it; one further away than
 * a whole turn of the wheel waits for its own turn; cancelled and re-set
 * timers fire once, at their last deadline. Time is moved by shifting the
 * wheel's origin back (the wheel reads the monotonic clock), with margins
 * of hundreds of milliseconds so a slow machine cannot blur a boundary.
 * Fired timers run cr__node_timer on a free peer slot, which does nothing. */
#include "check.h"
#include "engine/internal.h"

#define MS 1000ull

static struct cr_engine eng;
static struct cr_worker w;
static struct cr_peer peers[6];

static bool armed(const struct cr_peer *p)
{
	return p->tm.next != NULL;
}

/* Pretends ms more milliseconds passed, then runs the wheel. */
static void advance(uint64_t ms)
{
	w.wheel.start_us -= ms * MS;
	cr__wheel_tick(&w);
}

static void test_engine_timer_wheel(void)
{
	w.e = &eng;
	CHECK_EQ(cr__ring_setup(&eng, &w.ring, 256, false), 0);
	cr__wheel_init(&w.wheel);
	for (int i = 0; i < 6; i++)
		peers[i].state = PS_FREE;
	uint64_t now = cr__now_us();
	uint64_t turn_ms = (uint64_t)CR_WHEEL_SLOTS * CR_TICK_MS;
	cr__timer_set(&w, &peers[0].tm, now + 1000 * MS);
	cr__timer_set(&w, &peers[1].tm, now + 3000 * MS);
	cr__timer_set(&w, &peers[2].tm, now + (turn_ms + 4000) * MS); /* beyond one turn */
	cr__timer_set(&w, &peers[3].tm, now + 2000 * MS);
	cr__timer_cancel(&w, &peers[3].tm);                         /* never fires */
	cr__timer_set(&w, &peers[4].tm, now + 500 * MS);
	cr__timer_set(&w, &peers[4].tm, now + 5000 * MS);           /* moved later */
	CHECK_EQ(w.wheel.armed, 4);
	cr__timer_cancel(&w, &peers[3].tm); /* twice: harmless */
	CHECK_EQ(w.wheel.armed, 4);

	advance(0);
	CHECK(armed(&peers[0]) && armed(&peers[1]) && armed(&peers[2]) && armed(&peers[4]));
	advance(700); /* t = 0.7 s */
	CHECK(armed(&peers[0]));
	CHECK(armed(&peers[4])); /* its first deadline (0.5 s) was replaced */
	advance(600); /* t = 1.3 s */
	CHECK(!armed(&peers[0]));
	CHECK(armed(&peers[1]));
	advance(2000); /* t = 3.3 s */
	CHECK(!armed(&peers[1]));
	CHECK(armed(&peers[4]));
	advance(2000); /* t = 5.3 s */
	CHECK(!armed(&peers[4]));
	CHECK_EQ(w.wheel.armed, 1);
	/* one turn later its slot has come round once already: still waiting */
	advance(turn_ms - 5300 + 2000); /* t = one turn + 2 s */
	CHECK(armed(&peers[2]));
	advance(2500); /* t = one turn + 4.5 s */
	CHECK(!armed(&peers[2]));
	CHECK(!armed(&peers[3]));
	CHECK_EQ(w.wheel.armed, 0);

	/* a deadline in the past fires on the next tick, not at once */
	cr__timer_set(&w, &peers[5].tm, cr__now_us() - 10000 * MS);
	CHECK(armed(&peers[5]));
	advance(200);
	CHECK(!armed(&peers[5]));
	/* a long stall (several turns) walks each slot once and fires all */
	for (int i = 0; i < 3; i++)
		cr__timer_set(&w, &peers[i].tm, cr__now_us() + (uint64_t)(i + 1) * turn_ms * MS);
	advance(4 * turn_ms);
	CHECK(!armed(&peers[0]) && !armed(&peers[1]) && !armed(&peers[2]));
	CHECK_EQ(w.wheel.armed, 0);
	io_uring_queue_exit(&w.ring);
}

int main(void)
{
	RUN(test_engine_timer_wheel);
	return check_done();
}
