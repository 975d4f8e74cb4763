/* Tests of engine/policy/misbehave with a fake clock: btcd's decaying ban
 * score (half-life, lifetime, persistent part, a clock stepping back,
 * saturation) and the misbehaviour rule in both modes: Core's discourage on
 * any misbehaviour with its noban/manual/local exemptions, and score mode's
 * warn past half the threshold and ban past it. */
#include <stdint.h>

#include "engine/policy/misbehave.h"
#include "check.h"

static const int64_t T = 1700000000;

static void test_banscore_decay(void)
{
	struct cr_banscore s = { 0 };
	CHECK_EQ(cr_banscore_get(&s, T), 0);
	CHECK_EQ(cr_banscore_add(&s, 100, 50, T), 150);
	CHECK_EQ(cr_banscore_get(&s, T), 150);
	/* one half-life later the transient part is halved */
	CHECK_EQ(cr_banscore_get(&s, T + 60), 125);
	CHECK_EQ(cr_banscore_get(&s, T + 120), 112); /* 100 + 12.5 */
	CHECK_EQ(cr_banscore_get(&s, T + 1800), 100); /* 50 * 2^-30 */
	/* past the lifetime the transient part is gone */
	CHECK_EQ(cr_banscore_get(&s, T + 1801), 100);
	/* a clock stepping back shows only the persistent part */
	CHECK_EQ(cr_banscore_get(&s, T - 1), 100);
	/* raising it decays what was there first */
	CHECK_EQ(cr_banscore_add(&s, 0, 50, T + 60), 175); /* 100 + 25 + 50 */
	CHECK_EQ(cr_banscore_get(&s, T + 120), 137); /* 100 + 75 / 2 */
	/* after the lifetime a raise starts the transient part afresh */
	CHECK_EQ(cr_banscore_add(&s, 0, 10, T + 60 + 1801), 110);
	/* persistent only: no timestamp change */
	struct cr_banscore p = { 0 };
	CHECK_EQ(cr_banscore_add(&p, 30, 0, T), 30);
	CHECK_EQ(cr_banscore_get(&p, T + 100000), 30);
	/* saturation instead of wrapping */
	CHECK_EQ(cr_banscore_add(&p, UINT32_MAX, 0, T), UINT32_MAX);
	CHECK_EQ(cr_banscore_add(&p, 0, UINT32_MAX, T), UINT32_MAX);
	CHECK_EQ(cr_banscore_add(&p, 0, UINT32_MAX, T), UINT32_MAX);
	CHECK_EQ(cr_banscore_get(&p, T + 10), UINT32_MAX);
}

/* A peer misbehaving at a steady pace reaches the threshold only when the
 * pace beats the decay. */
static void test_banscore_rate(void)
{
	struct cr_banscore s = { 0 };
	uint32_t sc = 0;
	for (int i = 0; i < 1000; i++) /* 10 points a minute: settles near 20 */
		sc = cr_banscore_add(&s, 0, 10, T + 60 * i);
	CHECK(sc <= 20);
	struct cr_banscore f = { 0 };
	int crossed = -1;
	for (int i = 0; i < 100 && crossed < 0; i++) /* 10 points a second */
		if (cr_banscore_add(&f, 0, 10, T + i) > CR_BANSCORE_THRESHOLD)
			crossed = i;
	CHECK_EQ(crossed, 10); /* 11 raises, barely decayed */
}

static enum cr_misbehave_action decide(enum cr_misbehave_mode mode, struct cr_misbehave_peer p,
				       struct cr_banscore *s, uint32_t pers, uint32_t tr, bool fatal,
				       int64_t now, uint32_t *score)
{
	struct cr_misbehaviour m = { pers, tr, fatal };
	return cr_misbehave_decide(mode, CR_BANSCORE_THRESHOLD, &p, s, &m, now, score);
}

static void test_core_mode(void)
{
	struct cr_misbehave_peer plain = { 0 }, noban = { .noban = true },
				 manual = { .manual = true }, local = { .local = true };
	uint32_t sc = 99;
	CHECK_EQ(decide(CR_MISBEHAVE_CORE, plain, NULL, 1, 0, false, T, &sc), CR_MISB_DISCOURAGE);
	CHECK_EQ(sc, 0);
	CHECK_EQ(decide(CR_MISBEHAVE_CORE, plain, NULL, 0, 0, true, T, NULL), CR_MISB_DISCOURAGE);
	CHECK_EQ(decide(CR_MISBEHAVE_CORE, noban, NULL, 1, 0, false, T, NULL), CR_MISB_KEEP_EXEMPT);
	CHECK_EQ(decide(CR_MISBEHAVE_CORE, manual, NULL, 1, 0, false, T, NULL), CR_MISB_KEEP_EXEMPT);
	CHECK_EQ(decide(CR_MISBEHAVE_CORE, local, NULL, 1, 0, false, T, NULL), CR_MISB_DISCONNECT);
	/* a broken transport ends the connection even for exempt peers */
	CHECK_EQ(decide(CR_MISBEHAVE_CORE, noban, NULL, 0, 0, true, T, NULL), CR_MISB_DISCONNECT);
	CHECK_EQ(decide(CR_MISBEHAVE_CORE, manual, NULL, 0, 0, true, T, NULL), CR_MISB_DISCONNECT);
	/* Core mode ignores a score object if one is passed */
	struct cr_banscore s = { 0 };
	CHECK_EQ(decide(CR_MISBEHAVE_CORE, plain, &s, 5, 5, false, T, &sc), CR_MISB_DISCOURAGE);
	CHECK_EQ(cr_banscore_get(&s, T), 0);
}

static void test_score_mode(void)
{
	struct cr_misbehave_peer plain = { 0 }, noban = { .noban = true },
				 manual = { .manual = true }, local = { .local = true };
	struct cr_banscore s = { 0 };
	uint32_t sc;
	CHECK_EQ(decide(CR_MISBEHAVE_SCORE, plain, &s, 20, 0, false, T, &sc), CR_MISB_NONE);
	CHECK_EQ(sc, 20);
	CHECK_EQ(decide(CR_MISBEHAVE_SCORE, plain, &s, 0, 31, false, T, &sc), CR_MISB_WARN);
	CHECK_EQ(sc, 51);
	/* no points: only looks (btcd logs if above half) */
	CHECK_EQ(decide(CR_MISBEHAVE_SCORE, plain, &s, 0, 0, false, T + 60, &sc), CR_MISB_NONE);
	CHECK_EQ(sc, 35);
	/* exactly the threshold is not past it (btcd: score > threshold) */
	s = (struct cr_banscore){ 0 };
	CHECK_EQ(decide(CR_MISBEHAVE_SCORE, plain, &s, 100, 0, false, T, &sc), CR_MISB_WARN);
	CHECK_EQ(decide(CR_MISBEHAVE_SCORE, plain, &s, 0, 1, false, T, &sc), CR_MISB_BAN);
	CHECK_EQ(sc, 101);
	/* the exemptions hold in score mode */
	struct cr_banscore m = { .persistent = 100 };
	CHECK_EQ(decide(CR_MISBEHAVE_SCORE, manual, &m, 1, 0, false, T, &sc), CR_MISB_KEEP_EXEMPT);
	CHECK_EQ(sc, 101);
	struct cr_banscore l = { .persistent = 100 };
	CHECK_EQ(decide(CR_MISBEHAVE_SCORE, local, &l, 1, 0, false, T, &sc), CR_MISB_DISCONNECT);
	struct cr_banscore n = { 0 };
	CHECK_EQ(decide(CR_MISBEHAVE_SCORE, noban, &n, 500, 0, false, T, &sc), CR_MISB_KEEP_EXEMPT);
	CHECK_EQ(cr_banscore_get(&n, T), 0); /* not even scored */
	/* fatal: discouraged as in Core mode, whatever the score */
	struct cr_banscore f = { 0 };
	CHECK_EQ(decide(CR_MISBEHAVE_SCORE, plain, &f, 0, 0, true, T, &sc), CR_MISB_DISCOURAGE);
	CHECK_EQ(decide(CR_MISBEHAVE_SCORE, noban, &f, 0, 0, true, T, &sc), CR_MISB_DISCONNECT);
	/* transient points decay below the threshold again */
	struct cr_banscore d = { 0 };
	CHECK_EQ(decide(CR_MISBEHAVE_SCORE, plain, &d, 0, 90, false, T, &sc), CR_MISB_WARN);
	CHECK_EQ(decide(CR_MISBEHAVE_SCORE, plain, &d, 0, 20, false, T + 120, &sc), CR_MISB_NONE);
	CHECK_EQ(sc, 42); /* 22.5 + 20 */
	CHECK(cr_misbehave_action_str(CR_MISB_BAN)[0] == 'b');
}

int main(void)
{
	RUN(test_banscore_decay);
	RUN(test_banscore_rate);
	RUN(test_core_mode);
	RUN(test_score_mode);
	return check_done();
}
