/* Tests for proto/wire: bounded reads and writes, CompactSize with Core's
 * rules, var strings, and every limit at n-1, n, n+1. */
#include <stdint.h>
#include <string.h>

#include "proto/err.h"
#include "proto/wire.h"
#include "tests/check.h"

static void test_ints_roundtrip(void)
{
	uint8_t buf[32];
	struct cr_writer w;
	struct cr_reader r;

	cr_writer_init(&w, buf, sizeof(buf));
	cr_write_u8(&w, 0xab);
	cr_write_u16le(&w, 0x1234);
	cr_write_u16be(&w, 0x1234);
	cr_write_u32le(&w, 0xdeadbeef);
	cr_write_u64le(&w, 0x0102030405060708ull);
	CHECK_EQ(w.err, 0);
	CHECK_EQ(w.len, 17);
	static const uint8_t want[17] = {0xab, 0x34, 0x12, 0x12, 0x34, 0xef, 0xbe, 0xad, 0xde,
					 8, 7, 6, 5, 4, 3, 2, 1};
	CHECK_MEM(buf, want, 17);

	cr_reader_init(&r, buf, w.len);
	CHECK_EQ(cr_read_u8(&r), 0xab);
	CHECK_EQ(cr_read_u16le(&r), 0x1234);
	CHECK_EQ(cr_read_u16be(&r), 0x1234);
	CHECK_EQ(cr_read_u32le(&r), 0xdeadbeef);
	CHECK(cr_read_u64le(&r) == 0x0102030405060708ull);
	CHECK_EQ(r.err, 0);
	CHECK_EQ(r.len, 0);
}

/* Each reader at exactly its size, and one byte short. */
static void test_reads_short(void)
{
	static const uint8_t b[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	static const size_t sizes[] = {1, 2, 4, 8};
	for (size_t i = 0; i < 4; i++) {
		size_t n = sizes[i];
		for (size_t have = n - 1; have <= n; have++) {
			struct cr_reader r;
			uint64_t v = 0;
			cr_reader_init(&r, b, have);
			switch (n) {
			case 1: v = cr_read_u8(&r); break;
			case 2: v = cr_read_u16le(&r); break;
			case 4: v = cr_read_u32le(&r); break;
			case 8: v = cr_read_u64le(&r); break;
			}
			if (have < n) {
				CHECK_EQ(r.err, CR_E_SHORT);
				CHECK(v == 0);
				CHECK_EQ(r.len, have); /* nothing consumed */
			} else {
				CHECK_EQ(r.err, 0);
				CHECK(v != 0);
			}
		}
	}
}

static void test_reads_sticky(void)
{
	static const uint8_t b[4] = {1, 2, 3, 4};
	struct cr_reader r;
	uint8_t out[4] = {9, 9, 9, 9};

	cr_reader_init(&r, b, 3);
	CHECK(cr_read_u32le(&r) == 0);
	CHECK_EQ(r.err, CR_E_SHORT);
	/* After an error every read fails, even one that would fit. */
	CHECK_EQ(cr_read_u8(&r), 0);
	cr_read_bytes(&r, out, 2);
	CHECK(out[0] == 0 && out[1] == 0 && out[2] == 9);
	CHECK(cr_read_view(&r, 1) == NULL);
	CHECK_EQ(r.err, CR_E_SHORT);

	cr_reader_init(&r, b, 4);
	const uint8_t *v = cr_read_view(&r, 4);
	CHECK(v == b);
	CHECK(cr_read_view(&r, 1) == NULL);
	CHECK_EQ(r.err, CR_E_SHORT);

	uint8_t h[32];
	memset(h, 7, sizeof(h));
	cr_reader_init(&r, b, 4);
	cr_read_hash(&r, h);
	CHECK_EQ(r.err, CR_E_SHORT);
	CHECK(h[0] == 0 && h[31] == 0);
}

/* A reader or writer over (NULL, 0) must work without pointer arithmetic
 * on NULL (UBSan would abort). */
static void test_null_empty(void)
{
	struct cr_reader r;
	struct cr_writer w;
	char s[4];
	size_t len = 99;

	cr_reader_init(&r, NULL, 0);
	cr_read_view(&r, 0);
	cr_read_bytes(&r, NULL, 0);
	CHECK_EQ(r.err, 0);
	CHECK_EQ(cr_read_u8(&r), 0);
	CHECK_EQ(r.err, CR_E_SHORT);

	static const uint8_t zero_len[1] = {0};
	cr_reader_init(&r, zero_len, 1);
	cr_read_varstr(&r, s, sizeof(s), 3, &len);
	CHECK_EQ(r.err, 0);
	CHECK_EQ(len, 0);
	CHECK(s[0] == '\0');

	cr_writer_init(&w, NULL, 0);
	cr_write_bytes(&w, NULL, 0);
	CHECK_EQ(w.err, 0);
	cr_write_u8(&w, 1);
	CHECK_EQ(w.err, CR_E_OVERFLOW);
}

/* Every writer at exactly its room, and one byte short: nothing written. */
static void test_writes_overflow(void)
{
	uint8_t buf[9];
	for (size_t n = 1; n <= 8; n *= 2) {
		for (size_t cap = n - 1; cap <= n; cap++) {
			struct cr_writer w;
			memset(buf, 0xee, sizeof(buf));
			cr_writer_init(&w, buf, cap);
			switch (n) {
			case 1: cr_write_u8(&w, 1); break;
			case 2: cr_write_u16le(&w, 1); break;
			case 4: cr_write_u32le(&w, 1); break;
			case 8: cr_write_u64le(&w, 1); break;
			}
			if (cap < n) {
				CHECK_EQ(w.err, CR_E_OVERFLOW);
				CHECK_EQ(w.len, 0);
				CHECK_EQ(buf[0], 0xee);
			} else {
				CHECK_EQ(w.err, 0);
				CHECK_EQ(w.len, n);
				CHECK_EQ(buf[0], 1);
			}
		}
	}
	/* Sticky: a later write that would fit is refused too. */
	struct cr_writer w;
	cr_writer_init(&w, buf, 3);
	cr_write_u32le(&w, 5);
	cr_write_u8(&w, 5);
	CHECK_EQ(w.err, CR_E_OVERFLOW);
	CHECK_EQ(w.len, 0);
}

struct compact_case {
	const char *hex;
	uint64_t value;
	int err_checked;   /* with range_check */
	int err_unchecked; /* without */
};

static const struct compact_case compact_cases[] = {
	{"00", 0, 0, 0},
	{"fc", 0xfc, 0, 0},
	{"fdfd00", 0xfd, 0, 0},
	{"fdfc00", 0, CR_E_NONCANONICAL, CR_E_NONCANONICAL},
	{"fdffff", 0xffff, 0, 0},
	{"fe00000100", 0x10000, 0, 0},
	{"feffff0000", 0, CR_E_NONCANONICAL, CR_E_NONCANONICAL},
	{"feffffff01", 0x01ffffff, 0, 0},
	{"fe00000002", 0x02000000, 0, 0},          /* MAX_SIZE: accepted */
	{"fe01000002", 0x02000001, CR_E_TOOLARGE, 0}, /* MAX_SIZE + 1 */
	{"feffffffff", 0xffffffff, CR_E_TOOLARGE, 0},
	{"ff0000000001000000", 0x100000000ull, CR_E_TOOLARGE, 0},
	{"ffffffffff00000000", 0, CR_E_NONCANONICAL, CR_E_NONCANONICAL},
	{"ffffffffffffffffff", UINT64_MAX, CR_E_TOOLARGE, 0},
	{"fd00", 0, CR_E_SHORT, CR_E_SHORT},
	{"feffffff", 0, CR_E_SHORT, CR_E_SHORT},
	{"ff00000000010000", 0, CR_E_SHORT, CR_E_SHORT},
	{"", 0, CR_E_SHORT, CR_E_SHORT},
};

static void test_compact_rules(void)
{
	for (size_t i = 0; i < sizeof(compact_cases) / sizeof(compact_cases[0]); i++) {
		const struct compact_case *c = &compact_cases[i];
		uint8_t b[9];
		long n = check_unhex(b, sizeof(b), c->hex);
		for (int rc = 0; rc < 2; rc++) {
			struct cr_reader r;
			cr_reader_init(&r, b, (size_t)n);
			uint64_t v = cr_read_compact(&r, rc);
			int want = rc ? c->err_checked : c->err_unchecked;
			CHECK_EQ(r.err, want);
			CHECK(v == (want ? 0 : c->value));
			if (want != r.err)
				fprintf(stderr, "  case %s range_check %d\n", c->hex, rc);
		}
	}
}

static void test_compact_roundtrip(void)
{
	static const uint64_t vals[] = {0, 1, 0xfc, 0xfd, 0xfe, 0xff, 0x100, 0xffff, 0x10000,
					0xffffffffull, 0x100000000ull, UINT64_MAX};
	static const size_t sizes[] = {1, 1, 1, 3, 3, 3, 3, 3, 5, 5, 9, 9};
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		uint8_t buf[9];
		struct cr_writer w;
		struct cr_reader r;
		CHECK_EQ(cr_compact_size(vals[i]), sizes[i]);
		/* Room for exactly the encoding works; one byte less fails. */
		cr_writer_init(&w, buf, sizes[i] - 1);
		cr_write_compact(&w, vals[i]);
		CHECK_EQ(w.err, CR_E_OVERFLOW);
		cr_writer_init(&w, buf, sizes[i]);
		cr_write_compact(&w, vals[i]);
		CHECK_EQ(w.err, 0);
		CHECK_EQ(w.len, sizes[i]);
		cr_reader_init(&r, buf, w.len);
		CHECK(cr_read_compact(&r, false) == vals[i]);
		CHECK_EQ(r.err, 0);
		CHECK_EQ(r.len, 0);
	}
}

/* Var strings: max at n-1, n, n+1; the output buffer bound; short input. */
static void test_varstr_limits(void)
{
	uint8_t buf[64];
	char out[11];
	size_t len;
	for (size_t n = 9; n <= 11; n++) {
		struct cr_writer w;
		struct cr_reader r;
		char s[16];
		memset(s, 'a', sizeof(s));
		cr_writer_init(&w, buf, sizeof(buf));
		cr_write_varstr(&w, s, n);
		CHECK_EQ(w.len, n + 1);
		cr_reader_init(&r, buf, w.len);
		cr_read_varstr(&r, out, sizeof(out), 10, &len);
		if (n <= 10) {
			CHECK_EQ(r.err, 0);
			CHECK_EQ(len, n);
			CHECK_EQ(strlen(out), n);
		} else {
			CHECK_EQ(r.err, CR_E_TOOLARGE);
			CHECK_EQ(len, 0);
			CHECK(out[0] == '\0');
		}
	}
	/* max allows 10 but out_cap 10 leaves no room for the NUL. */
	struct cr_reader r;
	static const uint8_t ten[11] = {10, 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a'};
	cr_reader_init(&r, ten, sizeof(ten));
	cr_read_varstr(&r, out, 10, 10, &len);
	CHECK_EQ(r.err, CR_E_TOOLARGE);
	/* Declared 10, only 9 present. */
	cr_reader_init(&r, ten, sizeof(ten) - 1);
	cr_read_varstr(&r, out, sizeof(out), 10, &len);
	CHECK_EQ(r.err, CR_E_SHORT);
	CHECK_EQ(len, 0);
	/* Non-canonical length prefix. */
	static const uint8_t nc[4] = {0xfd, 0x01, 0x00, 'a'};
	cr_reader_init(&r, nc, sizeof(nc));
	cr_read_varstr(&r, out, sizeof(out), 10, &len);
	CHECK_EQ(r.err, CR_E_NONCANONICAL);
}

static void test_varstr_write_overflow(void)
{
	uint8_t buf[8];
	struct cr_writer w;

	/* Exactly fits (1 + 7), one over. */
	cr_writer_init(&w, buf, 8);
	cr_write_varstr(&w, "abcdefg", 7);
	CHECK_EQ(w.err, 0);
	CHECK_EQ(w.len, 8);
	cr_writer_init(&w, buf, 8);
	cr_write_varstr(&w, "abcdefgh", 8);
	CHECK_EQ(w.err, CR_E_OVERFLOW);
	CHECK_EQ(w.len, 0);
	/* A length near SIZE_MAX must not wrap the room check. */
	cr_writer_init(&w, buf, 8);
	cr_write_varstr(&w, "x", SIZE_MAX - 2);
	CHECK_EQ(w.err, CR_E_OVERFLOW);
	CHECK_EQ(w.len, 0);
}

static uint64_t seed;

static void test_random_roundtrip(void)
{
	uint8_t buf[4096];
	uint64_t vals[256];
	int kinds[256];
	uint64_t s = seed;
	for (int iter = 0; iter < 200; iter++) {
		struct cr_writer w;
		struct cr_reader r;
		int n = (int)(check_rand(&s) % 256);
		cr_writer_init(&w, buf, sizeof(buf));
		for (int i = 0; i < n; i++) {
			kinds[i] = (int)(check_rand(&s) % 5);
			uint64_t v = check_rand(&s) >> (check_rand(&s) % 64);
			switch (kinds[i]) {
			case 0: v &= 0xff; cr_write_u8(&w, (uint8_t)v); break;
			case 1: v &= 0xffff; cr_write_u16le(&w, (uint16_t)v); break;
			case 2: v &= 0xffff; cr_write_u16be(&w, (uint16_t)v); break;
			case 3: v &= 0xffffffff; cr_write_u32le(&w, (uint32_t)v); break;
			default: cr_write_compact(&w, v); break;
			}
			vals[i] = v;
		}
		CHECK_EQ(w.err, 0);
		cr_reader_init(&r, buf, w.len);
		int bad = 0;
		for (int i = 0; i < n; i++) {
			uint64_t v;
			switch (kinds[i]) {
			case 0: v = cr_read_u8(&r); break;
			case 1: v = cr_read_u16le(&r); break;
			case 2: v = cr_read_u16be(&r); break;
			case 3: v = cr_read_u32le(&r); break;
			default: v = cr_read_compact(&r, false); break;
			}
			bad += v != vals[i];
		}
		CHECK_EQ(bad, 0);
		CHECK_EQ(r.err, 0);
		CHECK_EQ(r.len, 0);
	}
}

int main(int argc, char **argv)
{
	seed = check_seed(argc, argv);
	RUN(test_ints_roundtrip);
	RUN(test_reads_short);
	RUN(test_reads_sticky);
	RUN(test_null_empty);
	RUN(test_writes_overflow);
	RUN(test_compact_rules);
	RUN(test_compact_roundtrip);
	RUN(test_varstr_limits);
	RUN(test_varstr_write_overflow);
	RUN(test_random_roundtrip);
	return check_done();
}
