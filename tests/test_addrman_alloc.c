/* The address manager allocates only at creation (and in save/load): add,
 * good, attempt, connected, select, collisions and getaddr on a manager of
 * thousands of entries must not call malloc. This binary counts calls by
 * interposing malloc/calloc/realloc over glibc's; under AddressSanitizer
 * (which owns malloc) the count is not available and the test says so. */
#include <stdbool.h>
#include <stddef.h>

#include "check.h"
#include "addrman_util.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CR_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(CR_ASAN)
#define COUNTING 0
#else
#define COUNTING 1
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t m);
extern void *__libc_realloc(void *p, size_t n);
static long allocs;
void *malloc(size_t n)
{
	allocs++;
	return __libc_malloc(n);
}
void *calloc(size_t n, size_t m)
{
	allocs++;
	return __libc_calloc(n, m);
}
void *realloc(void *p, size_t n)
{
	allocs++;
	return __libc_realloc(p, n);
}
#endif

#define NOW 1700000000

static void test_no_alloc_after_create(void)
{
	struct cr_rng rng;
	cr_rng_seed(&rng, 3);
	struct cr_addrman *am = cr_addrman_new(am_test_key, NULL, 0);
	CHECK(am != NULL);
	static struct cr_peeraddr batch[1000], out[1000];
#if COUNTING
	long before = allocs;
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
#if COUNTING
	CHECK_EQ(allocs - before, 0);
#else
	printf("allocation count not available under AddressSanitizer\n");
#endif
	CHECK(cr_addrman_size(am, 0, CR_ADDRMAN_ANY) > 10000);
	CHECK(cr_addrman_size(am, 0, CR_ADDRMAN_IN_TRIED) > 1000);
	CHECK_EQ(cr_addrman_check(am, CR_ADDRMAN_CHECK_FULL), 0);
	/* The counter does count: serialize allocates its buffer. */
	uint8_t *body;
	size_t len;
#if COUNTING
	before = allocs;
#endif
	CHECK_EQ(cr_addrman_serialize(am, &body, &len), 0);
#if COUNTING
	CHECK(allocs - before >= 1);
#endif
	free(body);
	cr_addrman_free(am);
}

int main(void)
{
	RUN(test_no_alloc_after_create);
	return check_done();
}
