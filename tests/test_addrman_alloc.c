/* The address manager allocates only at creation (and in save/load): add,
 * good, attempt, connected, select, collisions and getaddr on a manager of
 * thousands of entries must not call malloc. This binary counts calls
 * with alloc_inject.h (armed, failing none); under AddressSanitizer (which
 * owns malloc) the count is not available and the test says so. */
#include <stdbool.h>
#include <stddef.h>

#include "check.h"
#include "addrman_util.h"

#include "alloc_inject.h"

#define NOW 1700000000

static void test_no_alloc_after_create(void)
{
	struct cr_rng rng;
	cr_rng_seed(&rng, 3);
	struct cr_addrman *am = cr_addrman_new(am_test_key, NULL, 0);
	CHECK(am != NULL);
	static struct cr_peeraddr batch[1000], out[1000];
#if INJECTING
	inject_arm(0, false);
#endif
	for (unsigned round = 0; round < 20; round++) {
		for (unsigned i = 0; i < 1000; i++)
			batch[i] = am_pa(am_ip4(1 + i % 90, round, i / 90, 1), 8333, NOW - i);
		struct cr_netaddr src = am_ip4(100 + round, 1, 1, 1);
		cr_addrman_add(am, batch, 1000, &src, 3600, NOW, &rng);
		for (unsigned i = 0; i < 1000; i += 3) {
			cr_addrman_attempt(am, &batch[i].na, 8333, true, NOW + i);
			cr_addrman_good(am, &batch[i].na, 8333, true, NOW + i);
			cr_addrman_connected(am, &batch[i].na, 8333, NOW + 3600);
		}
		for (unsigned i = 0; i < 1000; i++)
			cr_addrman_select(am, &out[0], NULL, i & 1, 0, NOW + 7200, &rng);
		cr_addrman_select_tried_collision(am, &out[0], NULL, &rng);
		cr_addrman_resolve_collisions(am, NOW + 9000);
		cr_addrman_get_addr(am, out, 1000, 23, 0, NOW + 7200, &rng);
	}
#if INJECTING
	inject_disarm();
	CHECK_EQ(inject_calls, 0);
#else
	printf("allocation count not available under AddressSanitizer\n");
#endif
	CHECK(cr_addrman_size(am, 0, CR_ADDRMAN_ANY) > 10000);
	CHECK(cr_addrman_size(am, 0, CR_ADDRMAN_IN_TRIED) > 1000);
	CHECK_EQ(cr_addrman_check(am, CR_ADDRMAN_CHECK_FULL), 0);
	/* The counter does count: serialize allocates its buffer. */
	uint8_t *body;
	size_t len;
#if INJECTING
	inject_arm(0, false);
#endif
	CHECK_EQ(cr_addrman_serialize(am, &body, &len), 0);
#if INJECTING
	inject_disarm();
	CHECK(inject_calls >= 1);
#endif
	free(body);
	cr_addrman_free(am);
}

int main(void)
{
	RUN(test_no_alloc_after_create);
	return check_done();
}
