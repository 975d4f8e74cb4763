/* Peer ids and io_uring user_data (engine/internal.h): worker, slot and
 * generation survive the round trip at every field's limits, fields never
 * bleed into each other, and no live id is CR_PEER_NONE. */
#include "check.h"
#include "engine/internal.h"

static void test_engine_id_roundtrip(void)
{
	const unsigned workers[] = { 0, 1, CR_MAX_WORKERS - 1, 255 };
	const uint32_t slots[] = { 0, 1, 12345, (1u << CR_SLOT_BITS) - 1 };
	const uint32_t gens[] = { 1, 2, 0x7fffffffu, 0xffffffffu };
	for (size_t a = 0; a < 4; a++)
		for (size_t b = 0; b < 4; b++)
			for (size_t c = 0; c < 4; c++) {
				uint64_t id = cr__id_make(workers[a], slots[b], gens[c]);
				CHECK_EQ(cr__id_worker(id), workers[a]);
				CHECK_EQ(cr__id_slot(id), slots[b]);
				CHECK_EQ(cr__id_gen(id), gens[c]);
				CHECK(id != CR_PEER_NONE);
			}
	/* a slot above 24 bits does not reach the worker byte */
	CHECK_EQ(cr__id_slot(cr__id_make(3, 0xffffffffu, 7)), (1u << CR_SLOT_BITS) - 1);
	/* a stale id differs from the live one in its generation only */
	uint64_t live = cr__id_make(2, 99, 5), stale = cr__id_make(2, 99, 4);
	CHECK(live != stale && cr__id_slot(live) == cr__id_slot(stale));
}

static void test_engine_id_user_data(void)
{
	const enum cr_op ops[] = { OP_ACCEPT, OP_RECV, OP_SEND_ZC, OP_DOORBELL, OP_ABORT };
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		uint64_t ud = cr__ud(ops[i], 0xffffff, 0xffffffffu);
		CHECK_EQ(cr__ud_op(ud), ops[i]);
		CHECK_EQ(cr__ud_idx(ud), 0xffffff);
		CHECK_EQ(cr__ud_gen(ud), 0xffffffffu);
		ud = cr__ud(ops[i], 0x1ffffff, 0); /* index wider than 24 bits is cut */
		CHECK_EQ(cr__ud_op(ud), ops[i]);
		CHECK_EQ(cr__ud_idx(ud), 0xffffff);
		CHECK_EQ(cr__ud_gen(ud), 0);
	}
	/* slot and generation of a peer id carry over to its user_data */
	uint64_t id = cr__id_make(7, 4242, 77);
	uint64_t ud = cr__ud(OP_RECV, cr__id_slot(id), cr__id_gen(id));
	CHECK_EQ(cr__ud_idx(ud), 4242);
	CHECK_EQ(cr__ud_gen(ud), 77);
}

int main(void)
{
	RUN(test_engine_id_roundtrip);
	RUN(test_engine_id_user_data);
	return check_done();
}
