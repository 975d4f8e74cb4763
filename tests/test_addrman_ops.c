/* A million random address manager operations (add, good, attempt,
 * connected, select, collisions, getaddr, services, clock jumps) on a fake
 * clock, each followed by the consistency check and by checks of its own
 * outcome (addrman_ops.h). The check after every operation is the O(entries)
 * form (every entry, its cells, the index, counters, and a checksum of all
 * table cells); every 1,000 operations and at the end the full form also
 * reads every cell and recomputes every keyed hash. Every 100,000
 * operations the state goes through serialize/deserialize and must come
 * back byte-identical. CR_SANITIZE=1: 100,000 operations. --seed N replays. */
#include <stdlib.h>

#include "check.h"
#include "addrman_ops.h"
#include "addr/err.h"

int main(int argc, char **argv)
{
	uint64_t seed = check_seed(argc, argv), rs = seed;
	long ops = getenv("CR_SANITIZE") ? 100000 : 1000000;
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "--ops") == 0)
			ops = strtol(argv[i + 1], NULL, 0);
	struct cr_addrman *am = cr_addrman_new(am_test_key, NULL, 0);
	struct cr_addrman *copy = cr_addrman_new(am_test_key, NULL, 0);
	CHECK(am && copy);
	struct am_ops s = {.now = 1700000000};
	cr_rng_seed(&s.rng, seed);
	size_t peak = 0;
	for (long i = 0; i < ops && check_failures == 0; i++) {
		uint8_t buf[48];
		for (size_t k = 0; k < sizeof(buf); k += 8) {
			uint64_t r = check_rand(&rs);
			memcpy(buf + k, &r, 8);
		}
		s.p = buf;
		s.n = sizeof(buf);
		const char *bad = am_ops_step(am, &s);
		if (bad) {
			fprintf(stderr, "op %ld: %s\n", i, bad);
			CHECK(bad == NULL);
		}
		unsigned flags = (i % 1000 == 999) ? CR_ADDRMAN_CHECK_FULL : 0;
		int err = cr_addrman_check(am, flags);
		if (err) {
			fprintf(stderr, "op %ld: check: %s\n", i, cr_addr_strerror(err));
			CHECK_EQ(err, 0);
		}
		size_t n = cr_addrman_size(am, 0, CR_ADDRMAN_ANY);
		peak = n > peak ? n : peak;
		if (i % 100000 == 99999 || i == ops - 1) {
			uint8_t *b1, *b2;
			size_t l1, l2;
			char why[128];
			CHECK_EQ(cr_addrman_serialize(am, &b1, &l1), 0);
			int derr = cr_addrman_deserialize(copy, b1, l1, why, sizeof(why));
			if (derr)
				fprintf(stderr, "op %ld: deserialize: %s\n", i, why);
			CHECK_EQ(derr, 0);
			CHECK_EQ(cr_addrman_serialize(copy, &b2, &l2), 0);
			CHECK(l1 == l2 && memcmp(b1, b2, l1) == 0);
			free(b1);
			free(b2);
		}
	}
	CHECK_EQ(cr_addrman_check(am, CR_ADDRMAN_CHECK_FULL), 0);
	printf("%ld ops, peak %zu entries, now %zu (%zu tried); ops by kind:", ops, peak,
	       cr_addrman_size(am, 0, CR_ADDRMAN_ANY), cr_addrman_size(am, 0, CR_ADDRMAN_IN_TRIED));
	for (int k = 0; k < 16; k++)
		printf(" %" PRIu64, s.counts[k]);
	printf("\n");
	cr_addrman_free(am);
	cr_addrman_free(copy);
	return check_done();
}
