/* peers.dat decoding. Files are built here byte by byte as Core's
 * feature_addrman.py lays them out (magic, format, lowest compatible + 32,
 * key, nNew, nTried, 1024 ^ 2^30, the buckets, SHA256d), with entries in
 * the V1 form (formats 0-2) and the BIP155 form (formats 3-4), with and
 * without the asmap checksum. Every truncation and every flipped byte of a
 * file with entries is refused, and the refusals feature_addrman.py checks
 * (compat below 32, a format from the future, another chain's magic, a
 * mocked checksum, counts out of range, a zero key) say Core's reasons. */
#include "check.h"
#include "addr/peersdat.h"
#include "proto/chain.h"
#include "proto/crypto.h"
#include "addr/err.h"

struct file {
	uint8_t b[1 << 16];
	size_t n;
};

static void put(struct file *f, const void *p, size_t n)
{
	memcpy(f->b + f->n, p, n);
	f->n += n;
}
static void u8(struct file *f, uint8_t v) { put(f, &v, 1); }
static void u16be(struct file *f, uint16_t v) { u8(f, (uint8_t)(v >> 8)); u8(f, (uint8_t)v); }
static void u32(struct file *f, uint32_t v) { for (int i = 0; i < 4; i++) u8(f, (uint8_t)(v >> (8 * i))); }
static void u64(struct file *f, uint64_t v) { for (int i = 0; i < 8; i++) u8(f, (uint8_t)(v >> (8 * i))); }

struct ent {
	uint8_t net;      /* BIP155 id */
	uint8_t len;
	uint8_t addr[32];
	uint16_t port;
	uint32_t time;
	uint64_t services;
};

/* V1 (16-byte) form; IPv4 as ::ffff:a.b.c.d */
static void addr_v1(struct file *f, const struct ent *e)
{
	uint8_t ip[16] = {0};
	if (e->net == CR_NET_IPV4) {
		ip[10] = ip[11] = 0xff;
		memcpy(ip + 12, e->addr, 4);
	} else {
		memcpy(ip, e->addr, 16);
	}
	put(f, ip, 16);
}

static void addr_v2(struct file *f, const struct ent *e)
{
	u8(f, e->net);
	u8(f, e->len); /* CompactSize below 253 */
	put(f, e->addr, e->len);
}

static void entry(struct file *f, const struct ent *e, bool v2)
{
	u32(f, 220000 | (v2 ? 1u << 29 : 0));
	u32(f, e->time);
	if (v2)
		u8(f, (uint8_t)e->services); /* CompactSize, small values */
	else
		u64(f, e->services);
	if (v2)
		addr_v2(f, e);
	else
		addr_v1(f, e);
	u16be(f, e->port);
	struct ent src = {.net = CR_NET_IPV4, .len = 4, .addr = {8, 8, 4, 4}};
	if (v2)
		addr_v2(f, &src);
	else
		addr_v1(f, &src);
	u64(f, 1700000000);  /* last success */
	u32(f, 2);           /* attempts */
}

struct opts {
	int format, lowest_compatible;
	enum cr_chain_id chain;
	uint8_t key;
	int64_t len_new, len_tried; /* -2 = count of the entries */
	bool mock_checksum;
	const struct ent *ents;
	size_t nnew, ntried;
};

/* feature_addrman.py's serialize_addrman, with entries. */
static void build(struct file *f, const struct opts *o)
{
	f->n = 0;
	put(f, cr_chain_get(o->chain)->magic, 4);
	u8(f, (uint8_t)o->format);
	u8(f, (uint8_t)(32 + o->lowest_compatible));
	uint8_t key[32] = {o->key};
	put(f, key, 32);
	u32(f, (uint32_t)(o->len_new == -2 ? (int64_t)o->nnew : o->len_new));
	u32(f, (uint32_t)(o->len_tried == -2 ? (int64_t)o->ntried : o->len_tried));
	u32(f, 1024u ^ (o->format >= 1 ? 1u << 30 : 0));
	for (size_t i = 0; i < o->nnew + o->ntried; i++)
		entry(f, &o->ents[i], o->format >= 3);
	for (int b = 0; b < 1024; b++) {
		/* new entry i sits in bucket i */
		if ((size_t)b < o->nnew) {
			u32(f, 1);
			u32(f, (uint32_t)b);
		} else {
			u32(f, 0);
		}
	}
	if (o->format >= 2) {
		uint8_t asmap[32] = {0};
		put(f, asmap, 32);
	}
	uint8_t sum[32];
	cr_sha256d(sum, f->b, f->n);
	if (o->mock_checksum)
		memset(sum, 0xab, 32);
	put(f, sum, 32);
}

static struct opts defaults(void)
{
	return (struct opts){.format = 1, .lowest_compatible = 4, .chain = CR_CHAIN_REGTEST, .key = 1,
			     .len_new = -2, .len_tried = -2};
}

static int decode(const struct file *f, struct cr_peersdat *p, char *why)
{
	return cr_peersdat_decode(p, f->b, f->n, cr_chain_get(CR_CHAIN_REGTEST)->magic, why, 256);
}

static struct file f;

static void test_core_refusals(void)
{
	struct cr_peersdat p;
	char why[256];
	struct opts o = defaults();
	build(&f, &o);
	CHECK_EQ(decode(&f, &p, why), 0);
	CHECK_EQ(p.n, 0);
	CHECK(!p.has_asmap_checksum);
	cr_peersdat_clear(&p);

	o = defaults();
	o.lowest_compatible = -32;
	build(&f, &o);
	CHECK_EQ(decode(&f, &p, why), CR_E_ADDRMAN_CORRUPT);
	CHECK(strstr(why, "compat value (0) is lower than the expected minimum value 32"));

	o = defaults();
	o.lowest_compatible = 111;
	build(&f, &o);
	CHECK_EQ(decode(&f, &p, why), CR_E_STORE_VERSION);

	o = defaults();
	build(&f, &o);
	f.n--;
	CHECK(decode(&f, &p, why) < 0);

	o = defaults();
	o.chain = CR_CHAIN_SIGNET;
	build(&f, &o);
	CHECK_EQ(decode(&f, &p, why), CR_E_STORE_MAGIC);
	CHECK(strstr(why, "Invalid network magic number"));

	o = defaults();
	o.mock_checksum = true;
	build(&f, &o);
	CHECK_EQ(decode(&f, &p, why), CR_E_STORE_CHECKSUM);
	CHECK(strstr(why, "Checksum mismatch"));

	int64_t bad[][2] = {{0, -1}, {0, 256 * 64 + 1}, {-1, 0}, {1024 * 64 + 1, 0}};
	for (size_t i = 0; i < 4; i++) {
		o = defaults();
		o.len_new = bad[i][0];
		o.len_tried = bad[i][1];
		build(&f, &o);
		CHECK_EQ(decode(&f, &p, why), CR_E_ADDRMAN_CORRUPT);
		CHECK(strstr(why, "Corrupt AddrMan serialization"));
	}

	o = defaults();
	o.key = 0;
	build(&f, &o);
	CHECK_EQ(decode(&f, &p, why), CR_E_ADDRMAN_CORRUPT);
	CHECK(strstr(why, "-16"));

	o = defaults();
	build(&f, &o);
	f.b[f.n++] = 0; /* bytes after the checksum */
	CHECK(decode(&f, &p, why) < 0);
}

static const struct ent ents[] = {
	{.net = CR_NET_IPV4, .len = 4, .addr = {1, 2, 3, 4}, .port = 8333, .time = 1700000100, .services = 9},
	{.net = CR_NET_IPV6, .len = 16, .addr = {0x20, 0x01, 0x0d, 0xb9, 1}, .port = 8334, .time = 1700000200,
	 .services = 1},
	{.net = CR_NET_TORV3, .len = 32, .addr = {7, 7, 7}, .port = 9050, .time = 1700000300, .services = 8},
	{.net = CR_NET_IPV4, .len = 4, .addr = {5, 6, 7, 8}, .port = 18444, .time = 1700000400, .services = 1},
	{.net = CR_NET_I2P, .len = 32, .addr = {9}, .port = 0, .time = 1700000500, .services = 1},
	{.net = CR_NET_CJDNS, .len = 16, .addr = {0xfc, 1}, .port = 8333, .time = 1700000600, .services = 1},
	{.net = 42, .len = 3, .addr = {1, 2, 3}, .port = 1, .time = 1, .services = 1},        /* unknown net */
	{.net = CR_NET_TORV2, .len = 10, .addr = {1}, .port = 1, .time = 1, .services = 1}, /* dead */
	{.net = CR_NET_IPV4, .len = 4, .addr = {9, 9, 9, 9}, .port = 8333, .time = 1700000700, .services = 1},
};

static void check_entries(const struct cr_peersdat *p, bool v2)
{
	/* V1 files carry IPv4 and IPv6 only (entries 0, 1, 3 new; 8 tried);
	 * V2 ones all but the unknown network and Tor v2. */
	CHECK_EQ(p->n, v2 ? 7u : 4u);
	const struct cr_peersdat_entry *e = &p->entries[0];
	CHECK_EQ(e->addr.na.net, CR_NET_IPV4);
	CHECK_MEM(e->addr.na.addr, ents[0].addr, 4);
	CHECK_EQ(e->addr.port, 8333);
	CHECK_EQ(e->addr.time, 1700000100u);
	CHECK_EQ(e->addr.services, 9);
	CHECK_EQ(e->last_success, 1700000000);
	CHECK_EQ(e->attempts, 2);
	CHECK_EQ(e->source.net, CR_NET_IPV4);
	CHECK(!e->tried);
	CHECK(p->entries[p->n - 1].tried);
	CHECK_MEM(p->entries[p->n - 1].addr.na.addr, ents[8].addr, 4);
	if (v2) {
		CHECK_EQ(p->entries[2].addr.na.net, CR_NET_TORV3);
		CHECK_EQ(p->entries[4].addr.na.net, CR_NET_I2P);
		CHECK_EQ(p->entries[5].addr.na.net, CR_NET_CJDNS);
		CHECK_EQ(p->skipped, 2u); /* unknown network, Tor v2 */
	}
}

static void test_formats(void)
{
	for (int format = 0; format <= 4; format++) {
		struct opts o = defaults();
		o.format = format;
		o.lowest_compatible = format;
		bool v2 = format >= 3;
		/* V1 forms cannot say Tor v3, I2P, CJDNS or unknown networks. */
		const struct ent v1ents[] = {ents[0], ents[1], ents[3], ents[8]};
		o.ents = v2 ? ents : v1ents;
		o.nnew = v2 ? 8 : 3;
		o.ntried = 1;
		build(&f, &o);
		struct cr_peersdat p;
		char why[256];
		int r = decode(&f, &p, why);
		CHECK_EQ(r, 0);
		if (r)
			fprintf(stderr, "format %d: %s\n", format, why);
		CHECK_EQ(p.format, format);
		CHECK_EQ(p.has_asmap_checksum, format >= 2);
		CHECK_EQ(p.nnew, o.nnew);
		CHECK_EQ(p.ntried, 1);
		CHECK_EQ(p.nbuckets, 1024);
		check_entries(&p, v2);
		cr_peersdat_clear(&p);
	}
}

/* Every truncation and every single flipped byte is refused. */
static void test_damage(void)
{
	for (int format = 2; format <= 4; format += 2) {
		struct opts o = defaults();
		o.format = format;
		o.lowest_compatible = format;
		const struct ent v1ents[] = {ents[0], ents[1], ents[3], ents[8]};
		o.ents = format >= 3 ? ents : v1ents;
		o.nnew = format >= 3 ? 8 : 3;
		o.ntried = 1;
		build(&f, &o);
		struct file copy = f;
		struct cr_peersdat p;
		char why[256];
		int accepted = 0;
		for (size_t len = 0; len < f.n; len++) {
			if (cr_peersdat_decode(&p, f.b, len, cr_chain_get(CR_CHAIN_REGTEST)->magic, why, 256) == 0) {
				accepted++;
				cr_peersdat_clear(&p);
			}
			CHECK(p.entries == NULL && p.n == 0);
		}
		CHECK_EQ(accepted, 0);
		for (size_t i = 0; i < f.n; i++) {
			for (int bit = 0; bit < 8; bit += 7) {
				f.b[i] ^= (uint8_t)(1u << bit);
				if (decode(&f, &p, why) == 0) {
					accepted++;
					cr_peersdat_clear(&p);
				}
				f.b[i] ^= (uint8_t)(1u << bit);
			}
		}
		CHECK_EQ(accepted, 0);
		CHECK_MEM(copy.b, f.b, f.n); /* the input is never written */
	}
}

int main(void)
{
	RUN(test_core_refusals);
	RUN(test_formats);
	RUN(test_damage);
	return check_done();
}
