/* Tests of addr/bloom: MurmurHash3 against Core's vectors, the sizing of
 * Core's 50,000 / 1e-6 filter, "the last n are remembered", forgetting of
 * old generations, measured false-positive rates, and determinism given a
 * tweak. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr/bloom.h"
#include "check.h"

static uint64_t seed;

static void test_murmur3_vectors(void)
{
	/* Bitcoin Core's hash_tests (the seed 0xfba4c795 is CBloomFilter's). */
	static const struct {
		uint32_t want, seed;
		const char *hex;
	} v[] = {
		{0x00000000, 0x00000000, ""},
		{0x6a396f08, 0xfba4c795, ""},
		{0x81f16f39, 0xffffffff, ""},
		{0x514e28b7, 0x00000000, "00"},
		{0xea3f0b17, 0xfba4c795, "00"},
		{0xfd6cf10d, 0x00000000, "ff"},
		{0x16c6b7ab, 0x00000000, "0011"},
		{0x8eb51c3d, 0x00000000, "001122"},
		{0xb4471bf8, 0x00000000, "00112233"},
		{0xe2301fa8, 0x00000000, "0011223344"},
		{0xfc2e4a15, 0x00000000, "001122334455"},
		{0xb074502c, 0x00000000, "00112233445566"},
		{0x8034d2a0, 0x00000000, "0011223344556677"},
		{0xb4698def, 0x00000000, "001122334455667788"},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint8_t d[16];
		long n = check_unhex(d, sizeof(d), v[i].hex);
		CHECK_EQ(cr_murmur3_32(v[i].seed, d, (size_t)n), v[i].want);
	}
}

static void key_of(uint8_t k[12], uint64_t tag, uint32_t i)
{
	memcpy(k, &tag, 8);
	memcpy(k + 8, &i, 4);
}

static void test_bloom_sizing(void)
{
	struct cr_bloom *b = cr_bloom_new(50000, 0.000001, 1);
	CHECK(b != NULL);
	if (!b)
		return;
	/* k = round(ln(1e-6) / ln(0.5)) = 20; m = ceil(-k * 75000 /
	 * ln(1 - 1e-6^(1/k))) = 2,156,646 bits, rounded up to 64-bit words. */
	CHECK_EQ(cr_bloom_hash_funcs(b), 20);
	CHECK_EQ(cr_bloom_bits(b), 2156672);
	cr_bloom_free(b);
	CHECK(cr_bloom_new(0, 0.01, 1) == NULL);
	CHECK(cr_bloom_new(100, 0, 1) == NULL);
	CHECK(cr_bloom_new(100, 1, 1) == NULL);
	CHECK(cr_bloom_new(10000001, 0.01, 1) == NULL);
}

/* Core's rolling_bloom test shape: 100 entries at 1%, overfilled. */
static void test_bloom_rolling_small(void)
{
	uint64_t s = seed;
	uint64_t tag = check_rand(&s);
	struct cr_bloom *b = cr_bloom_new(100, 0.01, (uint32_t)check_rand(&s));
	uint8_t k[12];
	for (uint32_t i = 0; i < 399; i++) {
		key_of(k, tag, i);
		cr_bloom_insert(b, k, sizeof(k));
	}
	/* The last 100 are guaranteed to be remembered. */
	for (uint32_t i = 299; i < 399; i++) {
		key_of(k, tag, i);
		CHECK(cr_bloom_contains(b, k, sizeof(k)));
	}
	/* 1% at the fullest point: about 100 hits in 10,000 random keys. */
	int hits = 0;
	for (uint32_t i = 0; i < 10000; i++) {
		key_of(k, tag + 1, i);
		hits += cr_bloom_contains(b, k, sizeof(k));
	}
	printf("100/1%%: %d false positives in 10000\n", hits);
	CHECK(hits > 20 && hits < 200);
	cr_bloom_reset(b, 7);
	key_of(k, tag, 398);
	CHECK(!cr_bloom_contains(b, k, sizeof(k)));
	cr_bloom_free(b);
}

static void test_bloom_core_size(void)
{
	uint64_t s = seed ^ 0x5555;
	uint64_t tag = check_rand(&s);
	struct cr_bloom *b = cr_bloom_new(50000, 0.000001, (uint32_t)check_rand(&s));
	uint8_t k[12];
	/* Fill to the worst point: 3 generations of 25,000, minus one. */
	const uint32_t fill = 74999;
	for (uint32_t i = 0; i < fill; i++) {
		key_of(k, tag, i);
		cr_bloom_insert(b, k, sizeof(k));
	}
	int missing = 0;
	for (uint32_t i = 0; i < fill; i++) {
		key_of(k, tag, i);
		missing += !cr_bloom_contains(b, k, sizeof(k));
	}
	CHECK_EQ(missing, 0); /* all 74,999 still held: nothing wiped yet */
	uint32_t q = getenv("CR_SANITIZE") ? 200000 : 2000000;
	int hits = 0;
	for (uint32_t i = 0; i < q; i++) {
		key_of(k, tag + 1, i);
		hits += cr_bloom_contains(b, k, sizeof(k));
	}
	/* Expected about q * 1e-6 (2); 15 would be far outside. */
	printf("50000/1e-6: %d false positives in %u\n", hits, q);
	CHECK(hits <= 15);
	/* One more generation wipes the oldest 25,000. */
	for (uint32_t i = fill; i < fill + 25001; i++) {
		key_of(k, tag, i);
		cr_bloom_insert(b, k, sizeof(k));
	}
	int kept = 0;
	for (uint32_t i = 0; i < 25000; i++) {
		key_of(k, tag, i);
		kept += cr_bloom_contains(b, k, sizeof(k));
	}
	CHECK(kept <= 5);
	for (uint32_t i = 50000; i < fill + 25001; i++) {
		key_of(k, tag, i);
		if (!cr_bloom_contains(b, k, sizeof(k))) {
			CHECK(0);
			break;
		}
	}
	cr_bloom_free(b);
}

/* The same tweak gives the same answers; another tweak other ones. */
static void test_bloom_deterministic(void)
{
	uint8_t k[12];
	struct cr_bloom *a = cr_bloom_new(1000, 0.01, 42), *b = cr_bloom_new(1000, 0.01, 42),
			*c = cr_bloom_new(1000, 0.01, 43);
	for (uint32_t i = 0; i < 1499; i++) {
		key_of(k, 9, i);
		cr_bloom_insert(a, k, sizeof(k));
		cr_bloom_insert(b, k, sizeof(k));
		cr_bloom_insert(c, k, sizeof(k));
	}
	int same = 1, diff = 0, fa = 0;
	for (uint32_t i = 0; i < 100000; i++) {
		key_of(k, 10, i);
		bool x = cr_bloom_contains(a, k, sizeof(k));
		same &= x == cr_bloom_contains(b, k, sizeof(k));
		diff += x != cr_bloom_contains(c, k, sizeof(k));
		fa += x;
	}
	CHECK(same);
	CHECK(fa > 100);
	CHECK(diff > fa / 2);
	cr_bloom_free(a);
	cr_bloom_free(b);
	cr_bloom_free(c);
}

int main(int argc, char **argv)
{
	seed = check_seed(argc, argv);
	RUN(test_murmur3_vectors);
	RUN(test_bloom_sizing);
	RUN(test_bloom_rolling_small);
	RUN(test_bloom_core_size);
	RUN(test_bloom_deterministic);
	return check_done();
}
