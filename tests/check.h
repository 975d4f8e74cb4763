/* A tiny test harness: CHECK records a failure and goes on; a test binary
 * exits non-zero when any check failed, and also when it made no check at
 * all (a test that asserts nothing passes nothing), unless it called
 * check_skip() with a reason: that exits with CHECK_SKIP_CODE, which ctest
 * reports as "Not Run" with the reason in the output (SKIP_RETURN_CODE in
 * tests/CMakeLists.txt). Random tests take --seed N and print the seed they
 * use. Header-only, for tests/ and fuzz/ only. */
#ifndef CR_TESTS_CHECK_H
#define CR_TESTS_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int check_failures;
static int check_count;

#define CHECK(cond)                                                              \
	do {                                                                     \
		check_count++;                                                   \
		if (!(cond)) {                                                   \
			check_failures++;                                        \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__,   \
				__LINE__, #cond);                                \
		}                                                                \
	} while (0)

#define CHECK_EQ(a, b)                                                           \
	do {                                                                     \
		long long check_a_ = (long long)(a), check_b_ = (long long)(b);  \
		check_count++;                                                   \
		if (check_a_ != check_b_) {                                      \
			check_failures++;                                        \
			fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %s (%lld vs %lld)\n", \
				__FILE__, __LINE__, #a, #b, check_a_, check_b_); \
		}                                                                \
	} while (0)

#define CHECK_MEM(a, b, n) CHECK(memcmp((a), (b), (n)) == 0)

#define RUN(test)                                                                \
	do {                                                                     \
		int before_ = check_failures;                                    \
		test();                                                          \
		printf("%s %s\n", check_failures == before_ ? "ok  " : "FAIL", #test); \
	} while (0)

/* The exit status ctest reads as "skipped" (SKIP_RETURN_CODE). */
#define CHECK_SKIP_CODE 77

/* Exit status for main(): prints the plain summary line. No check made is
 * a failure. */
static inline int check_done(void)
{
	printf("%d checks, %d failed\n", check_count, check_failures);
	if (check_count == 0)
		printf("FAIL: no check was made (a test that cannot run must call check_skip)\n");
	return check_failures || check_count == 0 ? 1 : 0;
}

/* Ends the test as skipped with a reason a person can act on. Checks that
 * already failed still fail it. */
static inline void check_skip(const char *reason)
{
	fflush(stdout);
	if (check_failures) {
		printf("FAIL: %d check(s) failed before the skip (%s)\n", check_failures, reason);
		exit(1);
	}
	printf("SKIP: %s\n", reason);
	exit(CHECK_SKIP_CODE);
}

/* xorshift64* for reproducible random tests. */
static inline uint64_t check_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

/* Seed from --seed N, else from the clock; printed so a failure can be replayed. */
static inline uint64_t check_seed(int argc, char **argv)
{
	uint64_t seed = (uint64_t)time(NULL) ^ ((uint64_t)clock() << 32);
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "--seed") == 0)
			seed = strtoull(argv[i + 1], NULL, 0);
	if (!seed)
		seed = 1;
	printf("seed %" PRIu64 "\n", seed);
	return seed;
}

/* Decodes hex into out (at most cap bytes); returns bytes written or -1. */
static inline long check_unhex(uint8_t *out, size_t cap, const char *hex)
{
	size_t n = strlen(hex);
	if (n % 2 || n / 2 > cap)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return (long)(n / 2);
}

#endif
