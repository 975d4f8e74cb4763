/* The upload target (Core's -maxuploadtarget, CConnman's outbound limit):
 * bytes sent are counted in cycles of 24 hours, a cycle starting with the
 * first bytes after the previous one ended. Once the cycle's bytes reach
 * the target, the target is reached; long before that, serving historical
 * data stops, keeping enough of the target for one 4 MB block every 10
 * minutes left in the cycle (OutboundTargetReached(true)), so new blocks
 * are still relayed. A target of 0 means no limit.
 *
 * Pure functions over the struct, time passed in (seconds); one thread
 * owns a struct (the engine keeps one per worker and sums them). Names
 * follow Core's: RecordBytesSent, OutboundTargetReached,
 * GetOutboundTargetBytesLeft, GetMaxOutboundTimeLeftInCycle. */
#ifndef CR_POLICY_UPLOADTARGET_H
#define CR_POLICY_UPLOADTARGET_H

#include <stdbool.h>
#include <stdint.h>

#define CR_UPLOAD_TIMEFRAME_S (24 * 60 * 60)   /* Core's MAX_UPLOAD_TIMEFRAME */
#define CR_MAX_BLOCK_SERIALIZED 4000000ull     /* Core's MAX_BLOCK_SERIALIZED_SIZE */

struct cr_upload_target {
	uint64_t target_bytes;      /* 0 = no limit */
	int64_t cycle_start_s;      /* 0 = no bytes sent yet */
	uint64_t sent_in_cycle;
};

/* Core's RecordBytesSent: starts a new cycle when the last one ended. */
void cr_upload_record_sent(struct cr_upload_target *u, uint64_t bytes, int64_t now_s);

/* Core's GetMaxOutboundTimeLeftInCycle: 0 without a target, the whole
 * timeframe before the first bytes. */
int64_t cr_upload_time_left(const struct cr_upload_target *u, int64_t now_s);

/* Core's OutboundTargetReached; historical = the stricter limit for
 * serving old data. Always false without a target. */
bool cr_upload_target_reached(const struct cr_upload_target *u, bool historical, int64_t now_s);

/* Core's GetOutboundTargetBytesLeft (0 without a target). */
uint64_t cr_upload_bytes_left(const struct cr_upload_target *u);

#endif
