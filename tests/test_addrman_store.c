/* Address manager persistence: round trip through addr/store files, and
 * every kind of well-framed but wrong body (bad counts, cells out of place
 * or out of range, duplicates, unroutable or unknown addresses, bad
 * collision indexes, trailing bytes, every truncation, every byte flip)
 * refused cleanly: CR_E_ADDRMAN_CORRUPT, an empty manager that passes the
 * check, and the file moved aside. */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr/addrman_impl.h"
#include "addr/store.h"
#include "check.h"
#include "addrman_util.h"

#define NOW 1700000000

static char dir[64], path[128];
static struct cr_rng rng;
static const uint8_t other_key[32] = {9, 9, 9};

static void populate(struct cr_addrman *am, unsigned n)
{
	struct cr_netaddr src = am_ip4(252, 2, 2, 2);
	for (unsigned i = 0; i < n; i++) {
		struct cr_netaddr a = i % 5 == 3 ? am_ip6(i % 7, i) : i % 5 == 4 ? am_tor(i)
				    : am_ip4(250, 60 + i % 3, i >> 8, i & 255);
		struct cr_peeraddr p = am_pa(a, (uint16_t)(8333 + i % 2), NOW - i);
		src = am_ip4(100 + i % 50, 1, 1, 1);
		cr_addrman_add(am, &p, 1, &src, 0, NOW, &rng);
		if (i % 3 == 0)
			cr_addrman_good(am, &a, p.port, true, NOW);
		if (i % 7 == 0)
			cr_addrman_attempt(am, &a, p.port, true, NOW + i);
	}
}

static bool same_state(struct cr_addrman *a, struct cr_addrman *b)
{
	uint8_t *b1, *b2;
	size_t l1, l2;
	CHECK_EQ(cr_addrman_serialize(a, &b1, &l1), 0);
	CHECK_EQ(cr_addrman_serialize(b, &b2, &l2), 0);
	bool same = l1 == l2 && memcmp(b1, b2, l1) == 0;
	free(b1);
	free(b2);
	return same;
}

static void test_round_trip(void)
{
	struct cr_addrman *am = cr_addrman_new(am_test_key, NULL, 0);
	struct cr_addrman *back = cr_addrman_new(other_key, NULL, 0);
	char why[256];
	populate(am, 3000);
	CHECK(am->n_coll > 0);
	CHECK(cr_addrman_size(am, 0, CR_ADDRMAN_IN_TRIED) > 500);
	CHECK_EQ(cr_addrman_check(am, CR_ADDRMAN_CHECK_FULL), 0);
	CHECK_EQ(cr_addrman_load(back, path, why, sizeof(why)), -ENOENT);
	CHECK_EQ(cr_addrman_save(am, path), 0);
	CHECK_EQ(cr_addrman_load(back, path, why, sizeof(why)), 0);
	CHECK_EQ(cr_addrman_check(back, CR_ADDRMAN_CHECK_FULL), 0);
	CHECK(same_state(am, back));
	/* The key came with the file: every entry sits where it sat. */
	for (uint32_t i = 0; i < am->n; i++) {
		const struct cr_am_entry *e = &am->ent[am->random[i]];
		struct cr_addrman_info x, y;
		CHECK_EQ(cr_addrman_find(am, &e->addr, e->port, &x), 0);
		CHECK_EQ(cr_addrman_find(back, &e->addr, e->port, &y), 0);
		CHECK(memcmp(&x, &y, sizeof(x)) == 0);
	}
	/* It keeps working the same way after the load. */
	struct cr_rng r1, r2;
	cr_rng_seed(&r1, 5);
	cr_rng_seed(&r2, 5);
	for (int i = 0; i < 100; i++) {
		struct cr_peeraddr o1, o2;
		CHECK_EQ(cr_addrman_select(am, &o1, NULL, false, 0, NOW + 9999, &r1), 0);
		CHECK_EQ(cr_addrman_select(back, &o2, NULL, false, 0, NOW + 9999, &r2), 0);
		CHECK(memcmp(&o1, &o2, sizeof(o1)) == 0);
	}
	/* An empty manager round-trips too. */
	struct cr_addrman *empty = cr_addrman_new(am_test_key, NULL, 0);
	CHECK_EQ(cr_addrman_save(empty, path), 0);
	CHECK_EQ(cr_addrman_load(back, path, why, sizeof(why)), 0);
	CHECK_EQ(cr_addrman_size(back, 0, CR_ADDRMAN_ANY), 0);
	CHECK_EQ(cr_addrman_check(back, CR_ADDRMAN_CHECK_FULL), 0);
	cr_addrman_free(empty);
	cr_addrman_free(am);
	cr_addrman_free(back);
}

/* Two IPv4 new entries with IPv4 sources and one slot each: a fixed layout
 * (52-byte head, 62-byte entries) the cases below can poke at. */
#define HEAD 52
#define ENT 62
static size_t small_body(uint8_t **body)
{
	struct cr_addrman *am = cr_addrman_new(am_test_key, NULL, 0);
	struct cr_netaddr src = am_ip4(252, 2, 2, 2);
	struct cr_peeraddr p[2] = {am_pa(am_ip4(250, 1, 1, 1), 8333, NOW),
				   am_pa(am_ip4(250, 2, 1, 1), 8333, NOW)};
	CHECK_EQ(cr_addrman_add(am, p, 2, &src, 0, NOW, &rng), 2);
	size_t len;
	CHECK_EQ(cr_addrman_serialize(am, body, &len), 0);
	CHECK_EQ(len, HEAD + 2 * ENT);
	cr_addrman_free(am);
	return len;
}

/* Saves body with valid framing and loads it: must be refused cleanly. */
static void expect_refused(const uint8_t *body, size_t len, const char *what)
{
	struct cr_addrman *am = cr_addrman_new(other_key, NULL, 0);
	char why[256] = "";
	struct stat st;
	populate(am, 20); /* a load must also wipe what was there */
	unlink(path);
	CHECK_EQ(cr_store_save(path, CR_ADDRMAN_STORE_MAGIC, CR_ADDRMAN_STORE_VERSION, body, len), 0);
	int err = cr_addrman_load(am, path, why, sizeof(why));
	if (err != CR_E_ADDRMAN_CORRUPT)
		fprintf(stderr, "case %s: got %d (%s)\n", what, err, why);
	CHECK_EQ(err, CR_E_ADDRMAN_CORRUPT);
	CHECK(why[0] != 0);
	CHECK_EQ(cr_addrman_size(am, 0, CR_ADDRMAN_ANY), 0);
	CHECK_EQ(cr_addrman_check(am, CR_ADDRMAN_CHECK_FULL), 0);
	CHECK(memcmp(am->key, other_key, 32) == 0);
	CHECK(stat(path, &st) != 0); /* moved aside */
	/* Still usable. */
	struct cr_peeraddr p = am_pa(am_ip4(250, 3, 3, 3), 8333, NOW);
	struct cr_netaddr src = am_ip4(252, 2, 2, 2);
	CHECK_EQ(cr_addrman_add(am, &p, 1, &src, 0, NOW, &rng), 1);
	CHECK_EQ(cr_addrman_check(am, CR_ADDRMAN_CHECK_FULL), 0);
	cr_addrman_free(am);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void test_semantic_errors(void)
{
	uint8_t *good, *b;
	size_t len = small_body(&good);
	b = malloc(len + 8);
	/* The untouched body loads (so the cases below fail for their reason). */
	{
		struct cr_addrman *am = cr_addrman_new(other_key, NULL, 0);
		char why[128];
		CHECK_EQ(cr_addrman_deserialize(am, good, len, why, sizeof(why)), 0);
		CHECK_EQ(cr_addrman_size(am, 0, CR_ADDRMAN_ANY), 2);
		cr_addrman_free(am);
	}
#define CASE(what, edit, l)                      \
	do {                                     \
		memcpy(b, good, len);            \
		edit;                            \
		expect_refused(b, (l), what);    \
	} while (0)
	size_t e0 = HEAD, e1 = HEAD + ENT;
	CASE("n+1", put32(b + 40, 3), len);
	CASE("n-1", put32(b + 40, 1), len);
	CASE("n huge", put32(b + 40, 0xffffffff), len);
	CASE("n above max", put32(b + 40, CR_ADDRMAN_MAX_ENTRIES + 1), len);
	CASE("n_tried 1", put32(b + 44, 1), len);
	CASE("n_tried > n", put32(b + 44, 3), len);
	CASE("n_coll 11", put32(b + 48, 11), len);
	CASE("n_coll 1 missing", put32(b + 48, 1), len);
	CASE("collision index out of range", (put32(b + 48, 1), put32(b + len, 2)), len + 4);
	CASE("collision listed twice",
	     (put32(b + 48, 2), put32(b + len, 1), put32(b + len + 4, 1)), len + 8);
	CASE("trailing byte", b[len] = 0, len + 1);
	CASE("duplicate address", memcpy(b + e1 + 2, b + e0 + 2, 4), len);
	CASE("unroutable address", b[e0 + 2] = 10, len);
	CASE("unknown network", b[e0] = 7, len);
	CASE("torv2", b[e0] = CR_NET_TORV2, len);
	CASE("length not the network's", b[e0 + 1] = 5, len);
	CASE("source network unknown", b[e0 + 24] = 9, len);
	CASE("time beyond range", b[e0 + 23] = 0x80, len);
	CASE("last_try beyond range", b[e0 + 30 + 7] = 0x01, len);
	CASE("cell out of place", b[e0 + 60] ^= 1, len);
	CASE("cell in another bucket", b[e0 + 61] ^= 1, len);
	CASE("both in one cell", memcpy(b + e1 + 60, b + e0 + 60, 2), len);
	CASE("ref_count 0", b[e0 + 59] = 0, len);
	CASE("ref_count 9", b[e0 + 59] = 9, len);
	CASE("ref_count 2, one cell", b[e0 + 59] = 2, len);
	CASE("tried flag on a new entry", b[e0 + 58] = 1, len);
	CASE("tried flag 2", b[e0 + 58] = 2, len);
	free(b);
	free(good);
#undef CASE
}

static void test_every_truncation_and_flip(void)
{
	uint8_t *good;
	size_t len = small_body(&good);
	struct cr_addrman *am = cr_addrman_new(other_key, NULL, 0);
	char why[128];
	unsigned accepted = 0;
	for (size_t l = 0; l < len; l++) {
		CHECK_EQ(cr_addrman_deserialize(am, good, l, why, sizeof(why)), CR_E_ADDRMAN_CORRUPT);
		CHECK_EQ(cr_addrman_size(am, 0, CR_ADDRMAN_ANY), 0);
	}
	uint8_t *b = malloc(len);
	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			memcpy(b, good, len);
			b[i] ^= (uint8_t)(1u << bit);
			int err = cr_addrman_deserialize(am, b, len, why, sizeof(why));
			CHECK(err == 0 || err == CR_E_ADDRMAN_CORRUPT);
			CHECK_EQ(cr_addrman_check(am, CR_ADDRMAN_CHECK_FULL), 0);
			accepted += err == 0;
		}
	}
	/* Key, services, times and ports may change freely; placement may not. */
	CHECK(accepted > 0 && accepted < len * 8);
	free(b);
	free(good);
	cr_addrman_free(am);
}

static void test_file_errors(void)
{
	struct cr_addrman *am = cr_addrman_new(am_test_key, NULL, 0);
	char why[256];
	populate(am, 50);
	CHECK_EQ(cr_addrman_save(am, path), 0);
	/* Flip a byte on disk: the store's checksum refuses it. */
	FILE *f = fopen(path, "r+b");
	CHECK(f != NULL);
	if (f) {
		fseek(f, 40, SEEK_SET);
		int c = fgetc(f);
		fseek(f, 40, SEEK_SET);
		fputc(c ^ 0x40, f);
		fclose(f);
	}
	int err = cr_addrman_load(am, path, why, sizeof(why));
	CHECK(err < 0 && err != -ENOENT && err != CR_E_ADDRMAN_CORRUPT);
	CHECK_EQ(cr_addrman_size(am, 0, CR_ADDRMAN_ANY), 0);
	CHECK_EQ(cr_addrman_check(am, CR_ADDRMAN_CHECK_FULL), 0);
	/* A newer version is refused, not misread. */
	uint8_t body[4] = {0};
	CHECK_EQ(cr_store_save(path, CR_ADDRMAN_STORE_MAGIC, CR_ADDRMAN_STORE_VERSION + 1, body, 4), 0);
	CHECK_EQ(cr_addrman_load(am, path, why, sizeof(why)), CR_E_STORE_VERSION);
	cr_addrman_free(am);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/cr_addrman_XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/peers.dat", dir);
	cr_rng_seed(&rng, 7);
	RUN(test_round_trip);
	RUN(test_semantic_errors);
	RUN(test_every_truncation_and_flip);
	RUN(test_file_errors);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return check_done();
}
