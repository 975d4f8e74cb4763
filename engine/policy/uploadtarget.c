/* The upload target; see uploadtarget.h. Pure functions; one thread per
 * struct. */
#include "engine/policy/uploadtarget.h"

void cr_upload_record_sent(struct cr_upload_target *u, uint64_t bytes, int64_t now_s)
{
	if (u->cycle_start_s + CR_UPLOAD_TIMEFRAME_S < now_s) {
		u->cycle_start_s = now_s; /* the timeframe expired: a new cycle */
		u->sent_in_cycle = 0;
	}
	u->sent_in_cycle += bytes;
}

int64_t cr_upload_time_left(const struct cr_upload_target *u, int64_t now_s)
{
	if (u->target_bytes == 0)
		return 0;
	if (u->cycle_start_s == 0)
		return CR_UPLOAD_TIMEFRAME_S;
	int64_t end = u->cycle_start_s + CR_UPLOAD_TIMEFRAME_S;
	return end < now_s ? 0 : end - now_s;
}

bool cr_upload_target_reached(const struct cr_upload_target *u, bool historical, int64_t now_s)
{
	if (u->target_bytes == 0)
		return false;
	if (historical) {
		/* keep a large enough buffer to relay each block once */
		uint64_t buffer = (uint64_t)(cr_upload_time_left(u, now_s) / 600) * CR_MAX_BLOCK_SERIALIZED;
		return buffer >= u->target_bytes || u->sent_in_cycle >= u->target_bytes - buffer;
	}
	return u->sent_in_cycle >= u->target_bytes;
}

uint64_t cr_upload_bytes_left(const struct cr_upload_target *u)
{
	if (u->target_bytes == 0)
		return 0;
	return u->sent_in_cycle >= u->target_bytes ? 0 : u->target_bytes - u->sent_in_cycle;
}
