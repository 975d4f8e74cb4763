/* fuzz_addrman_ops: fuzzer-chosen sequences of address manager operations
 * (the same decoder as tests/test_addrman_ops.c: add, good, attempt,
 * connected, select, collisions, getaddr, services, clock jumps). After
 * every operation its outcome is checked and the quick consistency check
 * runs; at the end the full check, and the state must survive
 * serialize -> deserialize -> serialize byte for byte. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr/addrman_impl.h"
#include "tests/addrman_ops.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cr_addrman *am, *copy;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!am) {
		am = cr_addrman_new(am_test_key, NULL, 0);
		copy = cr_addrman_new(am_test_key, NULL, 0);
		if (!am || !copy)
			abort();
	}
	cr_am_reset(am);
	struct am_ops s = {.p = data, .n = size, .now = 1700000000};
	uint64_t seed = 0;
	for (int i = 0; i < 8; i++)
		seed = seed << 8 | am_take(&s);
	cr_rng_seed(&s.rng, seed);
	/* Long sequences add little the next input cannot; keep runs fast. */
	for (int ops = 0; s.n > 0 && ops < 128; ops++) {
		const char *bad = am_ops_step(am, &s);
		if (bad) {
			fprintf(stderr, "%s\n", bad);
			abort();
		}
		if (cr_addrman_check(am, 0) != 0)
			abort();
	}
	if (cr_addrman_check(am, CR_ADDRMAN_CHECK_FULL) != 0)
		abort();
	uint8_t *b1, *b2;
	size_t l1, l2;
	if (cr_addrman_serialize(am, &b1, &l1) || cr_addrman_deserialize(copy, b1, l1, NULL, 0) ||
	    cr_addrman_serialize(copy, &b2, &l2) || l1 != l2 || memcmp(b1, b2, l1) != 0)
		abort();
	free(b1);
	free(b2);
	return 0;
}
