/* The upload target with a fake clock: no target, a cycle's bytes
 * reaching it, the historical-serving buffer of one block per 10 minutes
 * left, and the cycle restarting after 24 hours (Core's
 * feature_maxuploadtarget.py figures: 800 MB target). */
#include "check.h"
#include "engine/policy/uploadtarget.h"

static void test_no_target(void)
{
	struct cr_upload_target u = {0};
	cr_upload_record_sent(&u, 1ull << 40, 1000);
	CHECK(!cr_upload_target_reached(&u, false, 1000));
	CHECK(!cr_upload_target_reached(&u, true, 1000));
	CHECK_EQ(cr_upload_bytes_left(&u), 0);
	CHECK_EQ(cr_upload_time_left(&u, 1000), 0);
}

static void test_cycle(void)
{
	const int64_t t0 = 1700000000;
	struct cr_upload_target u = {.target_bytes = 800ull * 1024 * 1024};
	CHECK_EQ(cr_upload_time_left(&u, t0), CR_UPLOAD_TIMEFRAME_S);
	cr_upload_record_sent(&u, 1000, t0);
	CHECK_EQ(u.cycle_start_s, t0);
	CHECK_EQ(cr_upload_time_left(&u, t0 + 3600), CR_UPLOAD_TIMEFRAME_S - 3600);
	CHECK_EQ(cr_upload_bytes_left(&u), u.target_bytes - 1000);
	/* 23 h left keeps 138 blocks (552 MB) for relaying new ones */
	uint64_t buffer = (uint64_t)((CR_UPLOAD_TIMEFRAME_S - 3600) / 600) * CR_MAX_BLOCK_SERIALIZED;
	cr_upload_record_sent(&u, u.target_bytes - buffer - 1000 - 1, t0 + 3600);
	CHECK(!cr_upload_target_reached(&u, true, t0 + 3600));
	cr_upload_record_sent(&u, 1, t0 + 3600);
	CHECK(cr_upload_target_reached(&u, true, t0 + 3600));
	CHECK(!cr_upload_target_reached(&u, false, t0 + 3600));
	cr_upload_record_sent(&u, cr_upload_bytes_left(&u), t0 + 7200);
	CHECK(cr_upload_target_reached(&u, false, t0 + 7200));
	CHECK_EQ(cr_upload_bytes_left(&u), 0);
	/* the cycle ends: counting starts again with the next bytes */
	int64_t later = t0 + CR_UPLOAD_TIMEFRAME_S + 1;
	CHECK_EQ(cr_upload_time_left(&u, later), 0);
	cr_upload_record_sent(&u, 5, later);
	CHECK_EQ(u.sent_in_cycle, 5);
	CHECK(!cr_upload_target_reached(&u, false, later));
	CHECK_EQ(cr_upload_time_left(&u, later), CR_UPLOAD_TIMEFRAME_S);
}

static void test_small_target(void)
{
	/* a target below the buffer stops historical serving at once */
	struct cr_upload_target u = {.target_bytes = 10 * CR_MAX_BLOCK_SERIALIZED};
	cr_upload_record_sent(&u, 1, 100);
	CHECK(cr_upload_target_reached(&u, true, 100));
	CHECK(!cr_upload_target_reached(&u, false, 100));
}

int main(void)
{
	RUN(test_no_target);
	RUN(test_cycle);
	RUN(test_small_target);
	return check_done();
}
