/* Tests of addr/banlist: expiry at its exact second, the 24 h default,
 * subnets of every length, IPv4-mapped lookups, the entry limit (n-1, n,
 * n+1), a random operation sequence checked against a plain list scan,
 * random bans of every length and network against a linear scan (the
 * filter in front of the table never hides a ban),
 * discouragement, and the store format (round trip, expired entries
 * dropped, every truncation and bound rejected, bad files set aside). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr/addrstr.h"
#include "addr/banlist.h"
#include "addr/netclass.h"
#include "addr/store.h"
#include "addr/err.h"
#include "check.h"

static uint64_t seed;

static struct cr_subnet SN(const char *s)
{
	struct cr_subnet sn;
	CHECK_EQ(cr_subnet_parse(&sn, s, strlen(s), 0), 0);
	return sn;
}

static struct cr_netaddr A(const char *s)
{
	struct cr_netaddr a;
	CHECK_EQ(cr_addrstr_parse_host(&a, s, strlen(s), 0), 0);
	return a;
}

static bool banned(const struct cr_banlist *bl, const char *s, int64_t now)
{
	struct cr_netaddr a = A(s);
	return cr_banlist_is_banned(bl, &a, now);
}

static void test_banlist_expiry(void)
{
	struct cr_banlist *bl = cr_banlist_new(1, 1);
	const int64_t t = 1700000000;
	struct cr_subnet sn = SN("1.2.3.4");
	CHECK(!banned(bl, "1.2.3.4", t));
	CHECK_EQ(cr_banlist_ban(bl, &sn, t, 100), 0);
	CHECK(banned(bl, "1.2.3.4", t));
	CHECK(banned(bl, "1.2.3.4", t + 99));
	CHECK(!banned(bl, "1.2.3.4", t + 100));
	CHECK(!banned(bl, "1.2.3.5", t));
	CHECK(banned(bl, "::ffff:1.2.3.4", t)); /* parses to IPv4 */
	uint8_t ip[16] = {[10] = 0xff, [11] = 0xff, 1, 2, 3, 4};
	struct cr_netaddr m;
	cr_addr_set_ipv6(&m, ip); /* and the raw mapped form, as a v1 addr carries it */
	CHECK(cr_banlist_is_banned(bl, &m, t));
	/* Default: 24 hours. */
	sn = SN("5.6.7.8");
	CHECK_EQ(cr_banlist_ban(bl, &sn, t, 0), 0);
	CHECK(banned(bl, "5.6.7.8", t + CR_BAN_DEFAULT_S - 1));
	CHECK(!banned(bl, "5.6.7.8", t + CR_BAN_DEFAULT_S));
	/* A re-ban keeps the later expiry, either way round. */
	CHECK_EQ(cr_banlist_ban(bl, &sn, t, 10), 0);
	CHECK(banned(bl, "5.6.7.8", t + 1000));
	CHECK_EQ(cr_banlist_ban(bl, &sn, t, 2 * CR_BAN_DEFAULT_S), 0);
	CHECK(banned(bl, "5.6.7.8", t + CR_BAN_DEFAULT_S + 5));
	CHECK_EQ(cr_banlist_count(bl), 2);
	/* Sweep drops the expired one only. */
	CHECK_EQ(cr_banlist_sweep(bl, t + 100), 1);
	CHECK_EQ(cr_banlist_count(bl), 1);
	CHECK(cr_banlist_unban(bl, &sn));
	CHECK(!cr_banlist_unban(bl, &sn));
	CHECK(!banned(bl, "5.6.7.8", t));
	/* Overflowing until saturates rather than wrapping into the past. */
	CHECK_EQ(cr_banlist_ban(bl, &sn, INT64_MAX - 5, 100), 0);
	CHECK(banned(bl, "5.6.7.8", INT64_MAX - 1));
	cr_banlist_free(bl);
}

static void test_banlist_subnets(void)
{
	struct cr_banlist *bl = cr_banlist_new(2, 2);
	const int64_t t = 1000;
	const char *subs[] = {"10.1.0.0/16", "192.168.7.0/24", "2001:db8::/32",
			      "2a00:1:2:3::/64", "100.64.0.0/10",
			      "pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion"};
	for (int i = 0; i < 6; i++) {
		struct cr_subnet sn = SN(subs[i]);
		CHECK_EQ(cr_banlist_ban(bl, &sn, t, 50), 0);
	}
	CHECK(banned(bl, "10.1.255.255", t));
	CHECK(!banned(bl, "10.2.0.0", t));
	CHECK(banned(bl, "192.168.7.1", t));
	CHECK(!banned(bl, "192.168.8.1", t));
	CHECK(banned(bl, "2001:db8:1234::1", t));
	CHECK(!banned(bl, "2001:db9::1", t));
	CHECK(banned(bl, "2a00:1:2:3:ffff::1", t));
	CHECK(!banned(bl, "2a00:1:2:4::1", t));
	CHECK(banned(bl, "100.127.1.1", t));
	CHECK(!banned(bl, "100.128.1.1", t));
	CHECK(banned(bl, "pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion", t));
	CHECK(!banned(bl, "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion", t));
	CHECK(!banned(bl, "10.1.0.1", t + 50));
	/* Whole-space bans. */
	struct cr_subnet all = SN("0.0.0.0/0");
	CHECK_EQ(cr_banlist_ban(bl, &all, t, 10), 0);
	CHECK(banned(bl, "8.8.8.8", t));
	CHECK(!banned(bl, "2a01::1", t));
	/* A malformed subnet is refused. */
	struct cr_subnet bad = SN("1.2.3.0/24");
	bad.net.addr[3] = 1; /* host bits set */
	CHECK_EQ(cr_banlist_ban(bl, &bad, t, 10), CR_E_INVAL);
	bad = SN("1.2.3.0/24");
	bad.prefix = 40;
	CHECK_EQ(cr_banlist_ban(bl, &bad, t, 10), CR_E_INVAL);
	cr_banlist_free(bl);
}

static void test_banlist_limit(void)
{
	struct cr_banlist *bl = cr_banlist_new(3, 3);
	struct cr_subnet sn;
	struct cr_netaddr a;
	for (uint32_t i = 0; i < CR_BANLIST_MAX - 1; i++) {
		cr_addr_set_ipv4(&a, 0x0b000000 + i);
		cr_subnet_init(&sn, &a, 32);
		if (cr_banlist_ban(bl, &sn, 0, 100)) {
			CHECK(0);
			break;
		}
	}
	cr_addr_set_ipv4(&a, 0x0c000000);
	cr_subnet_init(&sn, &a, 32);
	CHECK_EQ(cr_banlist_ban(bl, &sn, 0, 100), 0);        /* the limit itself */
	cr_addr_set_ipv4(&a, 0x0c000001);
	cr_subnet_init(&sn, &a, 32);
	CHECK_EQ(cr_banlist_ban(bl, &sn, 0, 100), CR_E_BAN_FULL); /* one more */
	CHECK_EQ(cr_banlist_count(bl), CR_BANLIST_MAX);
	/* Re-banning an existing entry is not an addition. */
	cr_addr_set_ipv4(&a, 0x0c000000);
	cr_subnet_init(&sn, &a, 32);
	CHECK_EQ(cr_banlist_ban(bl, &sn, 0, 200), 0);
	CHECK(cr_banlist_is_banned(bl, &a, 150));
	/* The encoding of a full list decodes; one entry more does not. */
	uint8_t *body;
	size_t len;
	CHECK_EQ(cr_banlist_encode(bl, &body, &len), 0);
	struct cr_banlist *b2 = cr_banlist_new(4, 4);
	CHECK_EQ(cr_banlist_decode(b2, body, len, 0), 0);
	CHECK_EQ(cr_banlist_count(b2), CR_BANLIST_MAX);
	uint8_t *big = malloc(len + 23);
	memcpy(big, body, len);
	uint32_t c = CR_BANLIST_MAX + 1;
	memcpy(big, &c, 4);
	memcpy(big + len, body + 4, 23); /* a copy of an IPv4 entry */
	CHECK_EQ(cr_banlist_decode(b2, big, len + 23, 0), CR_E_STORE_BODY);
	CHECK_EQ(cr_banlist_count(b2), 0);
	free(big);
	free(body);
	cr_banlist_free(b2);
	cr_banlist_free(bl);
}

/* A random sequence of ban, unban, sweep and check against a plain list. */
struct ref {
	struct cr_subnet sn;
	int64_t until;
};

static void random_subnet(uint64_t *s, struct cr_subnet *sn)
{
	struct cr_netaddr a;
	uint64_t r = check_rand(s);
	if (r & 1) {
		/* Few /16s so that bans and queries overlap. */
		cr_addr_set_ipv4(&a, (uint32_t)(0x01000000u | (r >> 8 & 0x3) << 16 |
						(check_rand(s) & 0x3ff)));
		static const unsigned lens[] = {32, 32, 32, 24, 22, 16, 8};
		cr_subnet_init(sn, &a, lens[(r >> 16) % 7]);
	} else {
		uint8_t ip[16] = {0x2a, 0x00, 0, (uint8_t)(r >> 8 & 1)};
		ip[15] = (uint8_t)(check_rand(s) & 7);
		cr_addr_set_ipv6(&a, ip);
		static const unsigned lens[] = {128, 128, 64, 48, 32, 125};
		cr_subnet_init(sn, &a, lens[(r >> 16) % 6]);
	}
}

static void test_banlist_random_vs_scan(void)
{
	uint64_t s = seed;
	int ops = getenv("CR_SANITIZE") ? 20000 : 200000;
	struct cr_banlist *bl = cr_banlist_new(s, 5);
	static struct ref ref[4096];
	int nref = 0;
	int64_t now = 0;
	for (int op = 0; op < ops; op++) {
		uint64_t r = check_rand(&s) % 100;
		struct cr_subnet sn;
		random_subnet(&s, &sn);
		if (r < 40) {
			int64_t dur = 1 + (int64_t)(check_rand(&s) % 500);
			CHECK_EQ(cr_banlist_ban(bl, &sn, now, dur), 0);
			int k;
			for (k = 0; k < nref; k++)
				if (cr_subnet_equal(&ref[k].sn, &sn))
					break;
			if (k == nref && nref < 4096)
				ref[nref++] = (struct ref){sn, now + dur};
			else if (k < nref && ref[k].until < now + dur)
				ref[k].until = now + dur;
		} else if (r < 55) {
			bool want = false;
			for (int k = 0; k < nref; k++)
				if (cr_subnet_equal(&ref[k].sn, &sn)) {
					ref[k] = ref[--nref];
					want = true;
					break;
				}
			CHECK_EQ(cr_banlist_unban(bl, &sn), want);
		} else if (r < 58) {
			size_t want = 0;
			for (int k = 0; k < nref;)
				if (ref[k].until <= now) {
					ref[k] = ref[--nref];
					want++;
				} else {
					k++;
				}
			CHECK_EQ(cr_banlist_sweep(bl, now), want);
		} else {
			struct cr_netaddr a = sn.net; /* a host inside or near */
			a.addr[a.len - 1] ^= (uint8_t)(check_rand(&s) & 3);
			bool want = false;
			for (int k = 0; k < nref && !want; k++)
				want = now < ref[k].until && cr_subnet_contains(&ref[k].sn, &a);
			bool got = cr_banlist_is_banned(bl, &a, now);
			CHECK_EQ(got, want);
			if (got != want)
				break;
		}
		CHECK_EQ(cr_banlist_count(bl), nref);
		if (cr_banlist_count(bl) != (size_t)nref)
			break;
		now += (int64_t)(check_rand(&s) % 3);
	}
	cr_banlist_free(bl);
}

static void test_banlist_discourage(void)
{
	struct cr_banlist *bl = cr_banlist_new(6, 6);
	struct cr_netaddr a = A("1.2.3.4"), b = A("1.2.3.5"), m;
	uint8_t ip[16] = {[10] = 0xff, [11] = 0xff, 1, 2, 3, 4};
	cr_addr_set_ipv6(&m, ip);
	CHECK(!cr_banlist_is_discouraged(bl, &a));
	cr_banlist_discourage(bl, &a);
	CHECK(cr_banlist_is_discouraged(bl, &a));
	CHECK(cr_banlist_is_discouraged(bl, &m));
	CHECK(!cr_banlist_is_discouraged(bl, &b));
	CHECK(!cr_banlist_is_banned(bl, &a, 0)); /* discouraged is not banned */
	/* Bounded: 50,000 more discouragements push the first one out. */
	for (uint32_t i = 0; i < 80000; i++) {
		struct cr_netaddr x;
		cr_addr_set_ipv4(&x, 0x20000000 + i);
		cr_banlist_discourage(bl, &x);
	}
	CHECK(!cr_banlist_is_discouraged(bl, &a));
	cr_banlist_free(bl);
}

static void test_banlist_store(void)
{
	char dir[] = "/tmp/cr_ban_XXXXXX", path[128], why[512];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/banlist.dat", dir);
	struct cr_banlist *bl = cr_banlist_new(7, 7), *b2 = cr_banlist_new(8, 8);
	const char *subs[] = {"1.2.3.4", "10.0.0.0/8", "2001:db8::/32", "::1",
			      "pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion",
			      "ukeu3k5oycgaauneqgtnvselmt4yemvoilkln7jpvamvfx7dnkdq.b32.i2p"};
	for (int i = 0; i < 6; i++) {
		struct cr_subnet sn = SN(subs[i]);
		CHECK_EQ(cr_banlist_ban(bl, &sn, 1000, 100 + i), 0);
	}
	CHECK_EQ(cr_banlist_load(b2, path, 1000, why, sizeof(why)), -ENOENT);
	CHECK_EQ(cr_banlist_save(bl, path), 0);
	CHECK_EQ(cr_banlist_load(b2, path, 1000, why, sizeof(why)), 0);
	CHECK_EQ(cr_banlist_count(b2), 6);
	for (size_t i = 0; i < cr_banlist_count(bl); i++) {
		const struct cr_ban *x = cr_banlist_at(bl, i);
		bool found = false;
		for (size_t k = 0; k < cr_banlist_count(b2); k++) {
			const struct cr_ban *y = cr_banlist_at(b2, k);
			found |= cr_subnet_equal(&x->subnet, &y->subnet) &&
				 x->created == y->created && x->until == y->until;
		}
		CHECK(found);
	}
	/* Loading later drops what has expired by then. */
	CHECK_EQ(cr_banlist_load(b2, path, 1103, why, sizeof(why)), 0);
	CHECK_EQ(cr_banlist_count(b2), 2);
	CHECK(banned(b2, "ukeu3k5oycgaauneqgtnvselmt4yemvoilkln7jpvamvfx7dnkdq.b32.i2p", 1104));

	/* Every truncation of the body is refused, never half-loaded. */
	uint8_t *body;
	size_t len;
	CHECK_EQ(cr_banlist_encode(bl, &body, &len), 0);
	for (size_t cut = 0; cut < len; cut++)
		if (cr_banlist_decode(b2, body, cut, 0) != CR_E_STORE_BODY ||
		    cr_banlist_count(b2) != 0) {
			CHECK(0);
			break;
		}
	/* A count larger than the bytes present is refused before use. */
	uint8_t lie[4] = {0xff, 0xff, 0x01, 0x00};
	CHECK_EQ(cr_banlist_decode(b2, lie, 4, 0), CR_E_STORE_BODY);
	/* A body that checksums fine but does not decode goes aside. */
	body[4] = 99; /* unknown network */
	CHECK_EQ(cr_store_save(path, CR_BANLIST_MAGIC, CR_BANLIST_VERSION, body, len), 0);
	CHECK_EQ(cr_banlist_load(b2, path, 0, why, sizeof(why)), CR_E_STORE_BODY);
	CHECK(strstr(why, "moved aside") != NULL);
	CHECK_EQ(cr_banlist_count(b2), 0);
	struct stat st;
	CHECK(stat(path, &st) < 0);
	char bad[160];
	snprintf(bad, sizeof(bad), "%s.bad-1", path);
	CHECK(stat(bad, &st) == 0);
	/* A corrupt file goes aside too, and the next save starts fresh. */
	CHECK_EQ(cr_banlist_save(bl, path), 0);
	FILE *f = fopen(path, "r+b");
	fseek(f, 20, SEEK_SET);
	fputc(0x5a, f);
	fclose(f);
	CHECK_EQ(cr_banlist_load(b2, path, 0, why, sizeof(why)), CR_E_STORE_CHECKSUM);
	CHECK(strstr(why, "bad-2") != NULL);
	free(body);
	unlink(bad);
	snprintf(bad, sizeof(bad), "%s.bad-2", path);
	unlink(bad);
	rmdir(dir);
	cr_banlist_free(bl);
	cr_banlist_free(b2);
}

/* A snapshot answers as the list did when it was taken, refuses changes,
 * and is not touched by later changes to the list. */
/* The filter in front of the table (banlist.c) never hides a ban: random
 * bans of every prefix length of IPv4, IPv6, Tor v3 and CJDNS (many
 * lengths, so the filter has many bits set and returns "maybe" often),
 * unbans in between (their bits stay set until a rebuild), and random
 * addresses, some inside a ban, checked on the list and on a snapshot
 * against a linear scan. */
static void random_addr(uint64_t *s, struct cr_netaddr *a)
{
	uint8_t ip[32];
	for (int i = 0; i < 32; i += 8) {
		uint64_t r = check_rand(s);
		memcpy(ip + i, &r, 8);
	}
	switch (check_rand(s) % 4) {
	case 0:
		cr_addr_set_ipv4(a, 0x01000000u | (uint32_t)check_rand(s));
		break;
	case 1:
		ip[0] = 0x2a;
		cr_addr_set_ipv6(a, ip);
		break;
	case 2:
		memset(a, 0, sizeof(*a));
		a->net = CR_NET_TORV3;
		a->len = 32;
		memcpy(a->addr, ip, 32);
		break;
	default:
		memset(a, 0, sizeof(*a));
		a->net = CR_NET_CJDNS;
		a->len = 16;
		memcpy(a->addr, ip, 16);
		a->addr[0] = 0xfc;
		break;
	}
}

static bool scan(const struct ref *ref, int n, const struct cr_netaddr *a, int64_t now)
{
	for (int k = 0; k < n; k++)
		if (now < ref[k].until && cr_subnet_contains(&ref[k].sn, a))
			return true;
	return false;
}

static void test_banlist_filter_vs_scan(void)
{
	uint64_t s = seed ^ 0x5eed;
	int rounds = getenv("CR_SANITIZE") ? 4 : 20;
	static struct ref ref[3000];
	static struct cr_netaddr near[3000];
	for (int round = 0; round < rounds; round++) {
		struct cr_banlist *bl = cr_banlist_new(check_rand(&s), 9);
		int n = 0, nbans = 1 + (int)(check_rand(&s) % 3000);
		const int64_t now = 1000;
		while (n < nbans) {
			struct cr_netaddr a;
			random_addr(&s, &a);
			unsigned bits = a.len * 8u;
			/* half single addresses, the rest any length */
			unsigned prefix = check_rand(&s) & 1 ? bits : (unsigned)(check_rand(&s) % (bits + 1));
			if (a.net == CR_NET_TORV3)
				prefix = bits; /* a key, not a routing prefix */
			else if (a.net == CR_NET_CJDNS && prefix < 8)
				prefix = 8; /* not outside fc00::/8 */
			struct cr_subnet sn;
			CHECK_EQ(cr_subnet_init(&sn, &a, prefix), 0);
			if (cr_banlist_find(bl, &sn, INT64_MIN)) /* expired ones too */
				continue;
			int64_t until = now + (int64_t)(check_rand(&s) % 3); /* some expired */
			CHECK_EQ(cr_banlist_ban_until(bl, &sn, now - 1, until), 0);
			ref[n] = (struct ref){sn, until};
			near[n] = a;
			near[n].addr[a.len - 1] ^= (uint8_t)(check_rand(&s) & 1);
			n++;
		}
		/* unban a tenth: their filter bits stay set in the list */
		for (int k = 0; k < n / 10; k++) {
			int i = (int)(check_rand(&s) % (uint64_t)n);
			CHECK(cr_banlist_unban(bl, &ref[i].sn));
			ref[i] = ref[--n];
			near[i] = near[n];
		}
		struct cr_banlist *snap = cr_banlist_snapshot(bl);
		CHECK(snap != NULL);
		for (int q = 0; q < 4000; q++) {
			struct cr_netaddr a;
			if (q % 2 && n)
				a = near[check_rand(&s) % (uint64_t)n];
			else
				random_addr(&s, &a);
			bool want = scan(ref, n, &a, now);
			CHECK_EQ(cr_banlist_is_banned(bl, &a, now), want);
			CHECK_EQ(cr_banlist_is_banned(snap, &a, now), want);
			if (cr_banlist_is_banned(bl, &a, now) != want) {
				fprintf(stderr, "round %d query %d differs\n", round, q);
				break;
			}
		}
		cr_banlist_free(snap);
		cr_banlist_free(bl);
	}
}

static void test_banlist_snapshot(void)
{
	struct cr_banlist *bl = cr_banlist_new(3, 3);
	const int64_t t = 1700000000;
	struct cr_banlist *empty = cr_banlist_snapshot(bl);
	CHECK(empty != NULL);
	CHECK(!banned(empty, "1.2.3.4", t));
	CHECK_EQ(cr_banlist_count(empty), 0);
	cr_banlist_free(empty);
	for (int i = 0; i < 300; i++) {
		char s[32];
		snprintf(s, sizeof s, "10.%d.%d.0/%d", i / 200, i % 200, i % 3 ? 24 : 32);
		struct cr_subnet sn = SN(s);
		CHECK_EQ(cr_banlist_ban(bl, &sn, t, i % 2 ? 100 : 0), 0);
	}
	struct cr_subnet v6 = SN("2001:db8:1::/48");
	CHECK_EQ(cr_banlist_ban(bl, &v6, t, 0), 0);
	struct cr_netaddr d = A("7.7.7.7");
	cr_banlist_discourage(bl, &d);
	struct cr_banlist *snap = cr_banlist_snapshot(bl);
	CHECK(snap != NULL);
	CHECK_EQ(cr_banlist_count(snap), cr_banlist_count(bl));
	uint64_t r = seed;
	for (int i = 0; i < 20000; i++) {
		struct cr_netaddr a;
		cr_addr_set_ipv4(&a, 0x0a000000u | (uint32_t)(check_rand(&r) & 0x1ffff));
		int64_t now = t + (int64_t)(check_rand(&r) % 200);
		CHECK_EQ(cr_banlist_is_banned(snap, &a, now), cr_banlist_is_banned(bl, &a, now));
	}
	CHECK(banned(snap, "2001:db8:1:2::5", t));
	CHECK(banned(snap, "10.0.1.7", t + 50));
	CHECK(!banned(snap, "10.0.1.7", t + 100)); /* expiry still applies */
	/* the filter is not copied; changes are refused */
	CHECK(cr_banlist_is_discouraged(bl, &d));
	CHECK(!cr_banlist_is_discouraged(snap, &d));
	cr_banlist_discourage(snap, &d);
	struct cr_subnet sn = SN("99.0.0.1");
	CHECK_EQ(cr_banlist_ban(snap, &sn, t, 0), CR_E_INVAL);
	CHECK(!cr_banlist_unban(snap, &v6));
	CHECK_EQ(cr_banlist_sweep(snap, t + 1000), 0);
	cr_banlist_clear(snap);
	CHECK(banned(snap, "2001:db8:1:2::5", t));
	/* later changes to the list do not reach the snapshot */
	CHECK(cr_banlist_unban(bl, &v6));
	cr_banlist_clear(bl);
	CHECK(banned(snap, "2001:db8:1:2::5", t));
	CHECK(!banned(bl, "2001:db8:1:2::5", t));
	cr_banlist_free(snap);
	cr_banlist_free(bl);
}

int main(int argc, char **argv)
{
	seed = check_seed(argc, argv);
	RUN(test_banlist_expiry);
	RUN(test_banlist_subnets);
	RUN(test_banlist_limit);
	RUN(test_banlist_random_vs_scan);
	RUN(test_banlist_filter_vs_scan);
	RUN(test_banlist_discourage);
	RUN(test_banlist_store);
	RUN(test_banlist_snapshot);
	return check_done();
}
