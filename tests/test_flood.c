/* Tests of engine/policy/flood with a fake clock: the per-netgroup token
 * bucket (burst, refill, a clock stepping back), flood detection by a dry
 * bucket and by the global rate, the per-netgroup cap only while flooding,
 * other netgroups unaffected by an attack, the bounded bucket table under a
 * spray of netgroups (which must not free the attacker), and Core's order
 * of checks at accept (bans, flood, discouraged-when-nearly-full, evict). */
#include <stdint.h>

#include "engine/policy/flood.h"
#include "check.h"

static const int64_t T = 1700000000ll * 1000000;
#define S 1000000ll

static struct cr_flood *make(void)
{
	struct cr_flood_config c;
	cr_flood_config_default(&c);
	struct cr_flood *f = cr_flood_new(&c);
	CHECK(f != NULL);
	return f;
}

static void test_flood_bucket(void)
{
	struct cr_flood *f = make();
	for (int i = 0; i < 10; i++)
		CHECK_EQ(cr_flood_admit(f, 1, 0, T), CR_FLOOD_OK);
	CHECK(!cr_flood_active(f, T));
	CHECK_EQ(cr_flood_admit(f, 1, 0, T), CR_FLOOD_RATE);
	CHECK(cr_flood_active(f, T));
	CHECK_EQ(cr_flood_admit(f, 1, 0, T + S / 2), CR_FLOOD_RATE);
	CHECK_EQ(cr_flood_admit(f, 1, 0, T + S), CR_FLOOD_OK); /* refilled 1/s */
	CHECK_EQ(cr_flood_admit(f, 1, 0, T + S), CR_FLOOD_RATE);
	/* a clock stepping back refills nothing and breaks nothing */
	CHECK_EQ(cr_flood_admit(f, 1, 0, T - 100 * S), CR_FLOOD_RATE);
	CHECK_EQ(cr_flood_admit(f, 1, 0, T + 2 * S + S / 2), CR_FLOOD_OK);
	/* after a long quiet the bucket is full again, no more */
	int ok = 0;
	for (int i = 0; i < 20; i++)
		ok += cr_flood_admit(f, 1, 0, T + 1000 * S) == CR_FLOOD_OK;
	CHECK_EQ(ok, 10);
	/* the flood stays detected hold_s after its last sign */
	CHECK(cr_flood_active(f, T + 1000 * S + 59 * S));
	CHECK(!cr_flood_active(f, T + 1000 * S + 60 * S));
	cr_flood_free(f);
	cr_flood_free(NULL);
}

/* 5,000 connections in 5 s from one netgroup: at most burst + 5 s of rate
 * get through; honest netgroups meanwhile are all admitted, and a busy
 * honest netgroup is only capped once it holds group_cap connections. */
static void test_flood_attack(void)
{
	struct cr_flood *f = make();
	int admitted = 0, honest_ok = 0;
	for (int i = 0; i < 5000; i++) {
		int64_t now = T + (int64_t)i * 1000; /* one per ms */
		admitted += cr_flood_admit(f, 0xbad, 0, now) == CR_FLOOD_OK;
		if (i % 50 == 0) /* 100 honest newcomers, each from its own netgroup */
			honest_ok += cr_flood_admit(f, 1000 + (uint64_t)i, 0, now) == CR_FLOOD_OK;
	}
	CHECK(admitted <= 10 + 5 + 1);
	CHECK(admitted >= 10 + 4);
	CHECK_EQ(honest_ok, 100);
	int64_t now = T + 5 * S;
	CHECK(cr_flood_active(f, now));
	/* the cap: a group holding 7 gets its 8th, one holding 8 does not */
	CHECK_EQ(cr_flood_admit(f, 77, 7, now), CR_FLOOD_OK);
	CHECK_EQ(cr_flood_admit(f, 77, 8, now), CR_FLOOD_GROUP_CAP);
	/* the refused one spent no token */
	for (int i = 0; i < 9; i++)
		CHECK_EQ(cr_flood_admit(f, 77, 0, now), CR_FLOOD_OK);
	CHECK_EQ(cr_flood_admit(f, 77, 0, now), CR_FLOOD_RATE);
	/* no flood, no cap */
	now += 200 * S;
	CHECK(!cr_flood_active(f, now));
	CHECK_EQ(cr_flood_admit(f, 78, 500, now), CR_FLOOD_OK);
	cr_flood_free(f);
}

/* Many netgroups at once: no bucket runs dry, but the global detector sees
 * the rate and switches the cap on (refusing nobody below it). */
static void test_flood_global(void)
{
	struct cr_flood *f = make();
	int refused = 0;
	for (int i = 0; i < 300; i++)
		refused += cr_flood_admit(f, 5000 + (uint64_t)i, 1, T + i * 1000) != CR_FLOOD_OK;
	CHECK_EQ(refused, 0);
	CHECK(cr_flood_active(f, T + 300 * 1000));
	CHECK_EQ(cr_flood_admit(f, 9, 8, T + 301 * 1000), CR_FLOOD_GROUP_CAP);
	cr_flood_free(f);
}

/* The table stays bounded, and spraying netgroups does not hand the
 * rate-limited attacker a fresh bucket: entries closest to full go first. */
static void test_flood_table(void)
{
	struct cr_flood *f = make();
	while (cr_flood_admit(f, 0xbad, 0, T) == CR_FLOOD_OK)
		;
	int escaped = 0;
	for (uint64_t k = 0; k < 100000; k++) {
		cr_flood_admit(f, 0x1000000 + k * 7919, 0, T);
		if (k % 1000 == 0)
			escaped += cr_flood_admit(f, 0xbad, 0, T) == CR_FLOOD_OK;
	}
	CHECK_EQ(escaped, 0);
	CHECK(cr_flood_entries(f) <= 4096);
	CHECK(cr_flood_entries(f) > 4000);
	cr_flood_free(f);
	/* bad configurations */
	struct cr_flood_config c;
	cr_flood_config_default(&c);
	c.table_size = 1000;
	CHECK(cr_flood_new(&c) == NULL);
	cr_flood_config_default(&c);
	c.rate = 0;
	CHECK(cr_flood_new(&c) == NULL);
	cr_flood_config_default(&c);
	c.burst = 0.5;
	CHECK(cr_flood_new(&c) == NULL);
}

static void test_accept_order(void)
{
	struct cr_flood *f = make();
	struct cr_accept_in in = { .inbound = 5, .inbound_max = 10, .keyed_netgroup = 3 };
	bool pe = true;
	CHECK_EQ(cr_accept_decide(f, &in, T, &pe), CR_ACCEPT_OK);
	CHECK(!pe);
	in.inbound = 10;
	CHECK_EQ(cr_accept_decide(f, &in, T, NULL), CR_ACCEPT_EVICT);
	/* banned: refused without spending a token */
	in.banned = true;
	for (int i = 0; i < 50; i++)
		CHECK_EQ(cr_accept_decide(f, &in, T, NULL), CR_ACCEPT_REFUSE_BANNED);
	in.banned = false;
	in.inbound = 5;
	/* discouraged: admitted (preferred for eviction) while slots are free */
	in.discouraged = true;
	CHECK_EQ(cr_accept_decide(f, &in, T, &pe), CR_ACCEPT_OK);
	CHECK(pe);
	in.inbound = 8;
	CHECK_EQ(cr_accept_decide(f, &in, T, NULL), CR_ACCEPT_OK);
	in.inbound = 9; /* inbound + 1 >= max: refused, as Core */
	CHECK_EQ(cr_accept_decide(f, &in, T, NULL), CR_ACCEPT_REFUSE_DISCOURAGED);
	in.discouraged = false;
	/* 10 tokens spent above (2 + 2 discouraged + ...): drain the rest */
	int n = 0;
	while (cr_accept_decide(f, &in, T, NULL) == CR_ACCEPT_OK)
		n++;
	CHECK_EQ(n, 10 - 5);
	CHECK_EQ(cr_accept_decide(f, &in, T, NULL), CR_ACCEPT_REFUSE_RATE);
	/* noban skips bans, flood and discouragement */
	in.noban = true;
	in.banned = true;
	in.discouraged = true;
	CHECK_EQ(cr_accept_decide(f, &in, T, NULL), CR_ACCEPT_OK);
	in.inbound = 10;
	CHECK_EQ(cr_accept_decide(f, &in, T, NULL), CR_ACCEPT_EVICT);
	/* without a flood object only Core's checks apply */
	in.noban = false;
	in.banned = false;
	in.discouraged = false;
	CHECK_EQ(cr_accept_decide(NULL, &in, T, NULL), CR_ACCEPT_EVICT);
	in.group_inbound = 100;
	CHECK_EQ(cr_accept_decide(f, &in, T + 3 * S, NULL), CR_ACCEPT_REFUSE_GROUP_CAP);
	CHECK(cr_accept_verdict_str(CR_ACCEPT_REFUSE_RATE)[0] == 'n');
	cr_flood_free(f);
}

int main(void)
{
	RUN(test_flood_bucket);
	RUN(test_flood_attack);
	RUN(test_flood_global);
	RUN(test_flood_table);
	RUN(test_accept_order);
	return check_done();
}
