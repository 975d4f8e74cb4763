/* Tests for proto/msg: every codec's round trip and error paths, each
 * count and length at n-1, n, n+1, a hand-checked version vector, and
 * BIP155 addrv2 rules (per-network lengths, unknown networks skipped). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/err.h"
#include "proto/msg.h"
#include "proto/wire.h"
#include "tests/check.h"

static uint64_t seed;

/* The version message example of the Bitcoin wiki's protocol page:
 * protocol 60002, NODE_NETWORK, 2012-12-18, both addresses ::ffff:0.0.0.0
 * port 0 with services 1, "/Satoshi:0.7.2/", height 212672, no relay byte. */
static const char *wiki_version =
	"62ea0000" "0100000000000000" "11b2d05000000000"
	"0100000000000000" "00000000000000000000ffff00000000" "0000"
	"0100000000000000" "00000000000000000000ffff00000000" "0000"
	"3b2eb35d8ce61765" "0f2f5361746f7368693a302e372e322f" "c03e0300";

static void test_version_vector(void)
{
	uint8_t p[200], again[CR_MSG_VERSION_SIZE_MAX];
	long n = check_unhex(p, sizeof(p), wiki_version);
	struct cr_version v;

	CHECK_EQ(n, 4 + 8 + 8 + 26 + 26 + 8 + 16 + 4);
	CHECK_EQ(cr_msg_version_decode(&v, p, (size_t)n), 0);
	CHECK_EQ(v.version, 60002);
	CHECK(v.services == 1);
	CHECK_EQ(v.timestamp, 0x50d0b211);
	CHECK(v.addr_recv.services == 1);
	CHECK_EQ(v.addr_recv.ip[10], 0xff);
	CHECK_EQ(v.addr_recv.port, 0);
	CHECK(v.nonce == 0x6517e68c5db32e3bull);
	CHECK_EQ(v.user_agent_len, 15);
	CHECK(strcmp(v.user_agent, "/Satoshi:0.7.2/") == 0);
	CHECK_EQ(v.start_height, 212672);
	CHECK_EQ(v.omitted, 1);
	CHECK(v.relay); /* BIP37 default when absent */
	CHECK_EQ(cr_msg_version_encode(again, sizeof(again), &v), n);
	CHECK_MEM(again, p, (size_t)n);
}

static void fill_version(struct cr_version *v, uint64_t *rng)
{
	memset(v, 0, sizeof(*v));
	v->version = (int32_t)check_rand(rng);
	v->services = check_rand(rng);
	v->timestamp = (int64_t)check_rand(rng);
	v->addr_recv.services = check_rand(rng);
	v->addr_from.services = check_rand(rng);
	for (int i = 0; i < 16; i++) {
		v->addr_recv.ip[i] = (uint8_t)check_rand(rng);
		v->addr_from.ip[i] = (uint8_t)check_rand(rng);
	}
	v->addr_recv.port = (uint16_t)check_rand(rng);
	v->addr_from.port = (uint16_t)check_rand(rng);
	v->nonce = check_rand(rng);
	v->user_agent_len = (uint16_t)(check_rand(rng) % (CR_MSG_UA_MAX + 1));
	for (int i = 0; i < v->user_agent_len; i++)
		v->user_agent[i] = (char)check_rand(rng); /* raw bytes, NULs included */
	v->start_height = (int32_t)check_rand(rng);
	v->relay = check_rand(rng) & 1;
	v->omitted = (uint8_t)(check_rand(rng) % 5);
}

static bool version_equal(const struct cr_version *a, const struct cr_version *b)
{
	return a->version == b->version && a->services == b->services &&
	       a->timestamp == b->timestamp &&
	       memcmp(&a->addr_recv.ip, &b->addr_recv.ip, 16) == 0 &&
	       a->addr_recv.services == b->addr_recv.services && a->addr_recv.port == b->addr_recv.port &&
	       memcmp(&a->addr_from.ip, &b->addr_from.ip, 16) == 0 &&
	       a->addr_from.services == b->addr_from.services && a->addr_from.port == b->addr_from.port &&
	       a->nonce == b->nonce && a->user_agent_len == b->user_agent_len &&
	       memcmp(a->user_agent, b->user_agent, a->user_agent_len) == 0 &&
	       a->start_height == b->start_height && a->relay == b->relay && a->omitted == b->omitted;
}

static void test_version_roundtrip(void)
{
	uint64_t rng = seed;
	uint8_t buf[CR_MSG_VERSION_SIZE_MAX];
	int bad = 0;
	for (int it = 0; it < 2000; it++) {
		struct cr_version v, w;
		fill_version(&v, &rng);
		if (v.omitted >= 4) {
			memset(&v.addr_from, 0, sizeof(v.addr_from));
			v.nonce = 0;
		}
		if (v.omitted >= 3) {
			v.user_agent_len = 0;
			memset(v.user_agent, 0, sizeof(v.user_agent));
		}
		if (v.omitted >= 2)
			v.start_height = 0;
		if (v.omitted >= 1)
			v.relay = true;
		int n = cr_msg_version_encode(buf, sizeof(buf), &v);
		bad += n <= 0;
		bad += cr_msg_version_decode(&w, buf, (size_t)n) != 0;
		bad += !version_equal(&v, &w);
		/* The encoder's room check at n-1 and n. */
		bad += cr_msg_version_encode(buf, (size_t)n - 1, &v) != CR_E_OVERFLOW;
		bad += cr_msg_version_encode(buf, (size_t)n, &v) != n;
	}
	CHECK_EQ(bad, 0);
}

/* Cut a full version after every byte: it decodes only at the group
 * boundaries Core accepts, and then with the right `omitted`. */
static void test_version_truncation(void)
{
	uint8_t buf[CR_MSG_VERSION_SIZE_MAX];
	struct cr_version v, w;
	uint64_t rng = seed;

	fill_version(&v, &rng);
	v.omitted = 0;
	v.user_agent_len = 20;
	int n = cr_msg_version_encode(buf, sizeof(buf), &v);
	CHECK_EQ(n, 46 + 34 + 21 + 4 + 1);
	for (int cut = 0; cut <= n; cut++) {
		int err = cr_msg_version_decode(&w, buf, (size_t)cut);
		int omitted = cut == 46 ? 4 : cut == 80 ? 3 : cut == 101 ? 2 : cut == 105 ? 1 : cut == 106 ? 0 : -1;
		if (omitted < 0) {
			CHECK_EQ(err, CR_E_SHORT);
			CHECK_EQ(w.version, 0); /* zeroed on failure */
			CHECK_EQ(w.omitted, 0);
		} else {
			CHECK_EQ(err, 0);
			CHECK_EQ(w.omitted, omitted);
		}
	}
	/* Bytes after the relay flag: tolerated, as Core does. */
	buf[n] = 0x99;
	CHECK_EQ(cr_msg_version_decode(&w, buf, (size_t)n + 1), 0);
	CHECK(version_equal(&v, &w));
	/* Any non-zero relay byte is true. */
	buf[n - 1] = 2;
	CHECK_EQ(cr_msg_version_decode(&w, buf, (size_t)n), 0);
	CHECK(w.relay);
	buf[n - 1] = 0;
	CHECK_EQ(cr_msg_version_decode(&w, buf, (size_t)n), 0);
	CHECK(!w.relay);
}

/* User agent at 255, 256 (the limit) and 257 bytes, both directions. */
static void test_version_user_agent_limit(void)
{
	uint8_t buf[CR_MSG_VERSION_SIZE_MAX + 16];
	struct cr_version v, w;
	uint64_t rng = seed;

	for (int len = CR_MSG_UA_MAX - 1; len <= CR_MSG_UA_MAX + 1; len++) {
		fill_version(&v, &rng);
		v.omitted = 0;
		v.user_agent_len = (uint16_t)len;
		int n = cr_msg_version_encode(buf, sizeof(buf), &v);
		if (len <= CR_MSG_UA_MAX) {
			CHECK(n > 0);
			CHECK_EQ(cr_msg_version_decode(&w, buf, (size_t)n), 0);
			CHECK_EQ(w.user_agent_len, len);
			CHECK_EQ(w.user_agent[len], '\0');
		} else {
			CHECK_EQ(n, CR_E_MSG_UA);
		}
	}
	/* Hand-built 257-byte user agent on the wire. */
	struct cr_writer wr;
	char ua[300];
	memset(ua, 'u', sizeof(ua));
	cr_writer_init(&wr, buf, sizeof(buf));
	cr_write_bytes(&wr, (uint8_t[80]){0}, 80);
	cr_write_varstr(&wr, ua, CR_MSG_UA_MAX + 1);
	cr_write_u32le(&wr, 5);
	cr_write_u8(&wr, 1);
	CHECK_EQ(cr_msg_version_decode(&w, buf, wr.len), CR_E_MSG_UA);
	CHECK_EQ(w.user_agent_len, 0);
	/* Non-canonical length prefix for the user agent. */
	static const uint8_t nc[3] = {0xfd, 0x05, 0x00};
	memcpy(buf + 80, nc, 3);
	CHECK_EQ(cr_msg_version_decode(&w, buf, 90), CR_E_NONCANONICAL);
	v.omitted = 5;
	v.user_agent_len = 1;
	CHECK_EQ(cr_msg_version_encode(buf, sizeof(buf), &v), CR_E_INVAL);
}

static void test_fixed_messages(void)
{
	uint8_t buf[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
	struct cr_ping p;
	struct cr_feefilter f;
	struct cr_sendcmpct c;

	/* 8-byte bodies at n-1, n, n+1. */
	CHECK_EQ(cr_msg_ping_decode(&p, buf, 7), CR_E_SHORT);
	CHECK(p.nonce == 0);
	CHECK_EQ(cr_msg_ping_decode(&p, buf, 8), 0);
	CHECK(p.nonce == 0x0807060504030201ull);
	CHECK_EQ(cr_msg_ping_decode(&p, buf, 9), CR_E_MSG_TRAILING);
	CHECK(p.nonce == 0);
	CHECK_EQ(cr_msg_pong_decode(&p, buf, 7), CR_E_SHORT);
	CHECK_EQ(cr_msg_pong_decode(&p, buf, 9), CR_E_MSG_TRAILING);
	CHECK_EQ(cr_msg_pong_decode(&p, buf, 8), 0);
	uint8_t out[9];
	CHECK_EQ(cr_msg_pong_encode(out, 7, &p), CR_E_OVERFLOW);
	CHECK_EQ(cr_msg_pong_encode(out, 8, &p), 8);
	CHECK_MEM(out, buf, 8);
	CHECK_EQ(cr_msg_ping_encode(out, 9, &p), 8);

	CHECK_EQ(cr_msg_feefilter_decode(&f, buf, 7), CR_E_SHORT);
	CHECK_EQ(cr_msg_feefilter_decode(&f, buf, 9), CR_E_MSG_TRAILING);
	CHECK_EQ(f.feerate, 0);
	static const uint8_t neg[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	CHECK_EQ(cr_msg_feefilter_decode(&f, neg, 8), 0);
	CHECK_EQ(f.feerate, -1); /* decoded as sent; Core then ignores it */
	f.feerate = 1000;
	CHECK_EQ(cr_msg_feefilter_encode(out, 7, &f), CR_E_OVERFLOW);
	CHECK_EQ(cr_msg_feefilter_encode(out, 8, &f), 8);
	CHECK_EQ(cr_msg_feefilter_decode(&f, out, 8), 0);
	CHECK_EQ(f.feerate, 1000);

	/* sendcmpct: 9 bytes. */
	CHECK_EQ(cr_msg_sendcmpct_decode(&c, buf, 8), CR_E_SHORT);
	CHECK_EQ(cr_msg_sendcmpct_decode(&c, buf, 10), CR_E_MSG_TRAILING);
	CHECK(!c.announce && c.version == 0);
	CHECK_EQ(cr_msg_sendcmpct_decode(&c, buf, 9), 0);
	CHECK(c.announce);
	CHECK(c.version == 0x0908070605040302ull);
	c.version = 2;
	CHECK_EQ(cr_msg_sendcmpct_encode(out, 8, &c), CR_E_OVERFLOW);
	CHECK_EQ(cr_msg_sendcmpct_encode(out, 9, &c), 9);
	static const uint8_t want[9] = {1, 2, 0, 0, 0, 0, 0, 0, 0};
	CHECK_MEM(out, want, 9);

	/* Empty messages at 0 and 1 byte. */
	CHECK_EQ(cr_msg_empty_decode(NULL, 0), 0);
	CHECK_EQ(cr_msg_verack_decode(buf, 1), CR_E_MSG_TRAILING);
	CHECK_EQ(cr_msg_getaddr_decode(buf, 0), 0);
	CHECK_EQ(cr_msg_sendaddrv2_decode(buf, 1), CR_E_MSG_TRAILING);
	CHECK_EQ(cr_msg_wtxidrelay_decode(buf, 1), CR_E_MSG_TRAILING);
	CHECK_EQ(cr_msg_sendheaders_decode(buf, 1), CR_E_MSG_TRAILING);
	CHECK_EQ(cr_msg_empty_encode(out, 0), 0);
}

static void test_types(void)
{
	for (int t = 1; t < CR_MSG_TYPE_COUNT; t++) {
		const char *c = cr_msg_command((enum cr_msg_type)t);
		CHECK(c[0] != '\0');
		CHECK_EQ(cr_msg_type(c), t);
	}
	CHECK_EQ(cr_msg_type("block"), CR_MSG_OTHER);
	CHECK_EQ(cr_msg_type("versio"), CR_MSG_OTHER);
	CHECK_EQ(cr_msg_type("versionx"), CR_MSG_OTHER);
	CHECK_EQ(cr_msg_type(""), CR_MSG_OTHER);
	CHECK(strcmp(cr_msg_command(CR_MSG_OTHER), "") == 0);
	CHECK(strcmp(cr_msg_command(CR_MSG_TYPE_COUNT), "") == 0);
	CHECK(strcmp(cr_msg_command(CR_MSG_SENDCMPCT), "sendcmpct") == 0);
}

/* Writes an addr (v1) message of n entries, all ::ffff:10.0.x.y. */
static size_t make_addr(uint8_t *buf, size_t cap, uint64_t count, size_t n)
{
	struct cr_writer w;
	cr_writer_init(&w, buf, cap);
	cr_write_compact(&w, count);
	for (size_t i = 0; i < n; i++) {
		static const uint8_t pre[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		cr_write_u32le(&w, (uint32_t)(1700000000 + i));
		cr_write_u64le(&w, 1033);
		cr_write_bytes(&w, pre, 12);
		cr_write_u8(&w, 10);
		cr_write_u8(&w, 0);
		cr_write_u8(&w, (uint8_t)(i >> 8));
		cr_write_u8(&w, (uint8_t)i);
		cr_write_u16be(&w, 8333);
	}
	CHECK_EQ(w.err, 0);
	return w.len;
}

static struct cr_peeraddr entries[CR_MSG_ADDR_MAX + 2];
static uint8_t big[CR_MSG_ADDRV2_SIZE_MAX + 64];

static void test_addr_count_limit(void)
{
	struct cr_addr_list l = {.entries = entries, .cap = CR_MSG_ADDR_MAX};
	for (size_t n = CR_MSG_ADDR_MAX - 1; n <= CR_MSG_ADDR_MAX + 1; n++) {
		size_t len = make_addr(big, sizeof(big), n, n);
		int err = cr_msg_addr_decode(&l, big, len);
		if (n <= CR_MSG_ADDR_MAX) {
			CHECK_EQ(err, 0);
			CHECK_EQ(l.count, n);
			CHECK_EQ(l.entries[n - 1].na.net, CR_NET_IPV4);
			CHECK_EQ(l.entries[n - 1].na.addr[3], (uint8_t)(n - 1));
			/* Re-encodes to the same bytes. */
			uint8_t *again = malloc(len);
			CHECK_EQ(cr_msg_addr_encode(again, len - 1, &l), CR_E_OVERFLOW);
			CHECK_EQ(cr_msg_addr_encode(again, len, &l), (long long)len);
			CHECK_MEM(again, big, len);
			free(again);
		} else {
			CHECK_EQ(err, CR_E_MSG_COUNT);
			CHECK_EQ(l.count, 0);
		}
	}
	/* The caller's array: cap at n-1 fails, n works. */
	size_t len = make_addr(big, sizeof(big), 10, 10);
	l.cap = 9;
	CHECK_EQ(cr_msg_addr_decode(&l, big, len), CR_E_OVERFLOW);
	CHECK_EQ(l.count, 0);
	CHECK_EQ(entries[0].port, 0); /* zeroed on failure */
	l.cap = 10;
	CHECK_EQ(cr_msg_addr_decode(&l, big, len), 0);
	CHECK_EQ(entries[0].port, 8333);
	CHECK(entries[0].services == 1033);
	CHECK_EQ(entries[0].time, 1700000000);
	/* Declared 10, 9 present; one byte short; one byte extra. */
	CHECK_EQ(cr_msg_addr_decode(&l, big, len - 30), CR_E_SHORT);
	CHECK_EQ(cr_msg_addr_decode(&l, big, len - 1), CR_E_SHORT);
	CHECK_EQ(cr_msg_addr_decode(&l, big, len + 1), CR_E_MSG_TRAILING);
	CHECK_EQ(l.count, 0);
	/* Encoder count at 1000 and 1001. */
	l.count = CR_MSG_ADDR_MAX + 1;
	CHECK_EQ(cr_msg_addr_encode(big, sizeof(big), &l), CR_E_MSG_COUNT);
	CHECK_EQ(cr_msg_addrv2_encode(big, sizeof(big), &l), CR_E_MSG_COUNT);
	/* A count that is not canonical, and one above MAX_SIZE. */
	static const uint8_t nc[3] = {0xfd, 0x01, 0x00};
	CHECK_EQ(cr_msg_addr_decode(&l, nc, 3), CR_E_NONCANONICAL);
	static const uint8_t huge[5] = {0xfe, 0xff, 0xff, 0xff, 0xff};
	CHECK_EQ(cr_msg_addr_decode(&l, huge, 5), CR_E_TOOLARGE);
	CHECK_EQ(cr_msg_addrv2_decode(&l, huge, 5), CR_E_TOOLARGE);
}

static void test_addr_networks(void)
{
	uint8_t buf[256];
	struct cr_addr_list l = {.entries = entries, .cap = 8};
	struct cr_writer w;
	static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
	static const uint8_t onion[16] = {0xfd, 0x87, 0xd8, 0x7e, 0xeb, 0x43, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
	static const uint8_t internal[16] = {0xfd, 0x6b, 0x88, 0xc0, 0x87, 0x24, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
	const uint8_t *ips[3] = {v6, onion, internal};

	cr_writer_init(&w, buf, sizeof(buf));
	cr_write_compact(&w, 3);
	for (int i = 0; i < 3; i++) {
		cr_write_u32le(&w, 7);
		cr_write_u64le(&w, 9);
		cr_write_bytes(&w, ips[i], 16);
		cr_write_u16be(&w, 18333);
	}
	CHECK_EQ(cr_msg_addr_decode(&l, buf, w.len), 0);
	CHECK_EQ(l.count, 1);
	CHECK_EQ(l.skipped, 2);
	CHECK_EQ(entries[0].na.net, CR_NET_IPV6);
	CHECK_EQ(entries[0].na.len, 16);
	CHECK_MEM(entries[0].na.addr, v6, 16);
	CHECK_EQ(entries[0].port, 18333);

	/* Encoder: networks addr cannot carry. */
	struct cr_peeraddr a = {.na = {.net = CR_NET_TORV3, .len = 32}};
	struct cr_addr_list one = {.entries = &a, .count = 1};
	CHECK_EQ(cr_msg_addr_encode(buf, sizeof(buf), &one), CR_E_MSG_ADDR);
	a.na.net = CR_NET_IPV4;
	a.na.len = 16;
	CHECK_EQ(cr_msg_addr_encode(buf, sizeof(buf), &one), CR_E_MSG_ADDR);
	a.na.net = CR_NET_IPV6;
	memcpy(a.na.addr, onion, 16);
	CHECK_EQ(cr_msg_addr_encode(buf, sizeof(buf), &one), CR_E_MSG_ADDR);
	memcpy(a.na.addr, v6, 16);
	CHECK_EQ(cr_msg_addr_encode(buf, sizeof(buf), &one), 31);
}

/* One addrv2 entry, hand-built. */
static void put_v2(struct cr_writer *w, uint64_t services, uint8_t net, uint64_t alen, uint8_t fill,
		   uint16_t port)
{
	cr_write_u32le(w, 1234);
	cr_write_compact(w, services);
	cr_write_u8(w, net);
	cr_write_compact(w, alen);
	for (uint64_t i = 0; i < alen; i++)
		cr_write_u8(w, i == 0 && net == CR_NET_CJDNS ? 0xfc : fill);
	cr_write_u16be(w, port);
}

static int decode_one_v2(uint8_t net, uint64_t alen, struct cr_addr_list *l)
{
	struct cr_writer w;
	cr_writer_init(&w, big, sizeof(big));
	cr_write_compact(&w, 1);
	put_v2(&w, 1, net, alen, 0x42, 8333);
	return cr_msg_addrv2_decode(l, big, w.len);
}

static void test_addrv2_lengths(void)
{
	struct cr_addr_list l = {.entries = entries, .cap = 8};
	static const uint8_t nets[] = {CR_NET_IPV4, CR_NET_IPV6, CR_NET_TORV2, CR_NET_TORV3, CR_NET_I2P,
				       CR_NET_CJDNS};
	for (size_t i = 0; i < sizeof(nets); i++) {
		uint8_t want = cr_net_addr_len(nets[i]);
		CHECK_EQ(decode_one_v2(nets[i], want - 1u, &l), CR_E_MSG_ADDR);
		CHECK_EQ(decode_one_v2(nets[i], want + 1u, &l), CR_E_MSG_ADDR);
		CHECK_EQ(decode_one_v2(nets[i], want, &l), 0);
		if (nets[i] == CR_NET_TORV2) {
			CHECK_EQ(l.count, 0); /* BIP155: ignored on receive */
			CHECK_EQ(l.skipped, 1);
			continue;
		}
		CHECK_EQ(l.count, 1);
		CHECK_EQ(entries[0].na.net, nets[i]);
		CHECK_EQ(entries[0].na.len, want);
		CHECK_EQ(entries[0].na.addr[want - 1], 0x42);
		CHECK_EQ(entries[0].port, 8333);
		CHECK_EQ(entries[0].time, 1234);
	}
	/* Unknown network: skipped at any length up to 512; 513 is fatal. */
	CHECK_EQ(decode_one_v2(7, 16, &l), 0);
	CHECK_EQ(l.count, 0);
	CHECK_EQ(l.skipped, 1);
	CHECK_EQ(decode_one_v2(200, 0, &l), 0);
	CHECK_EQ(decode_one_v2(200, CR_MSG_ADDRV2_LEN_MAX - 1, &l), 0);
	CHECK_EQ(decode_one_v2(200, CR_MSG_ADDRV2_LEN_MAX, &l), 0);
	CHECK_EQ(l.skipped, 1);
	CHECK_EQ(decode_one_v2(200, CR_MSG_ADDRV2_LEN_MAX + 1, &l), CR_E_TOOLARGE);
	CHECK_EQ(decode_one_v2(CR_NET_IPV4, CR_MSG_ADDRV2_LEN_MAX + 1, &l), CR_E_TOOLARGE);
	CHECK_EQ(l.skipped, 0);
}

static void test_addrv2_skips_and_services(void)
{
	struct cr_addr_list l = {.entries = entries, .cap = 8};
	struct cr_writer w;

	cr_writer_init(&w, big, sizeof(big));
	cr_write_compact(&w, 6);
	put_v2(&w, 0x0409, CR_NET_IPV4, 4, 1, 1);
	put_v2(&w, UINT64_MAX, CR_NET_TORV3, 32, 2, 0); /* services need not be a size */
	put_v2(&w, 1, 99, 5, 3, 3);                     /* unknown network */
	cr_write_u32le(&w, 1);                          /* IPv6 that is really IPv4 */
	cr_write_compact(&w, 1);
	cr_write_u8(&w, CR_NET_IPV6);
	cr_write_compact(&w, 16);
	cr_write_bytes(&w, (uint8_t[16]){0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4}, 16);
	cr_write_u16be(&w, 1);
	cr_write_u32le(&w, 1); /* CJDNS outside fc00::/8 */
	cr_write_compact(&w, 1);
	cr_write_u8(&w, CR_NET_CJDNS);
	cr_write_compact(&w, 16);
	cr_write_bytes(&w, (uint8_t[16]){0xfd}, 16);
	cr_write_u16be(&w, 1);
	put_v2(&w, 5, CR_NET_I2P, 32, 6, 0);
	CHECK_EQ(cr_msg_addrv2_decode(&l, big, w.len), 0);
	CHECK_EQ(l.count, 3);
	CHECK_EQ(l.skipped, 3);
	CHECK_EQ(entries[0].na.net, CR_NET_IPV4);
	CHECK(entries[0].services == 0x0409);
	CHECK_EQ(entries[1].na.net, CR_NET_TORV3);
	CHECK(entries[1].services == UINT64_MAX);
	CHECK_EQ(entries[2].na.net, CR_NET_I2P);
	/* Re-encode and decode again: the same three. */
	uint8_t again[512];
	int n = cr_msg_addrv2_encode(again, sizeof(again), &l);
	CHECK(n > 0);
	CHECK_EQ(cr_msg_addrv2_encode(again, (size_t)n - 1, &l), CR_E_OVERFLOW);
	struct cr_peeraddr e2[4];
	struct cr_addr_list l2 = {.entries = e2, .cap = 4};
	CHECK_EQ(cr_msg_addrv2_decode(&l2, again, (size_t)n), 0);
	CHECK_EQ(l2.count, 3);
	CHECK_MEM(e2, entries, 3 * sizeof(e2[0]));

	/* Non-canonical services, truncated entry, trailing byte. */
	cr_writer_init(&w, big, sizeof(big));
	cr_write_compact(&w, 1);
	cr_write_u32le(&w, 1);
	cr_write_bytes(&w, (uint8_t[3]){0xfd, 0x05, 0x00}, 3);
	CHECK_EQ(cr_msg_addrv2_decode(&l, big, w.len), CR_E_NONCANONICAL);
	cr_writer_init(&w, big, sizeof(big));
	cr_write_compact(&w, 1);
	put_v2(&w, 1, CR_NET_IPV4, 4, 1, 1);
	CHECK_EQ(cr_msg_addrv2_decode(&l, big, w.len - 1), CR_E_SHORT);
	CHECK_EQ(cr_msg_addrv2_decode(&l, big, w.len + 1), CR_E_MSG_TRAILING);
	CHECK_EQ(cr_msg_addrv2_decode(&l, big, w.len), 0);

	/* Encoder refuses what the decoder would skip. */
	struct cr_peeraddr a = {.na = {.net = CR_NET_TORV2, .len = 10}};
	struct cr_addr_list one = {.entries = &a, .count = 1};
	CHECK_EQ(cr_msg_addrv2_encode(again, sizeof(again), &one), CR_E_MSG_ADDR);
	a.na.net = 9;
	CHECK_EQ(cr_msg_addrv2_encode(again, sizeof(again), &one), CR_E_MSG_ADDR);
	a.na.net = CR_NET_CJDNS;
	a.na.len = 16;
	CHECK_EQ(cr_msg_addrv2_encode(again, sizeof(again), &one), CR_E_MSG_ADDR);
	a.na.addr[0] = 0xfc;
	CHECK_EQ(cr_msg_addrv2_encode(again, sizeof(again), &one), 1 + 4 + 1 + 1 + 1 + 16 + 2);
	a.na.len = 15;
	CHECK_EQ(cr_msg_addrv2_encode(again, sizeof(again), &one), CR_E_MSG_ADDR);
}

static void test_addrv2_count_limit(void)
{
	struct cr_addr_list l = {.entries = entries, .cap = CR_MSG_ADDR_MAX};
	for (size_t n = CR_MSG_ADDR_MAX - 1; n <= CR_MSG_ADDR_MAX + 1; n++) {
		struct cr_writer w;
		cr_writer_init(&w, big, sizeof(big));
		cr_write_compact(&w, n);
		for (size_t i = 0; i < n; i++)
			put_v2(&w, i, CR_NET_TORV3, 32, (uint8_t)i, 0);
		int err = cr_msg_addrv2_decode(&l, big, w.len);
		CHECK_EQ(err, n <= CR_MSG_ADDR_MAX ? 0 : CR_E_MSG_COUNT);
		CHECK_EQ(l.count, n <= CR_MSG_ADDR_MAX ? n : 0);
		if (n <= CR_MSG_ADDR_MAX) {
			static uint8_t again[CR_MSG_ADDRV2_SIZE_MAX];
			CHECK_EQ(cr_msg_addrv2_encode(again, sizeof(again), &l), (long long)w.len);
			CHECK_MEM(again, big, w.len);
		}
	}
	/* The largest message the size constant promises room for. */
	for (size_t i = 0; i < CR_MSG_ADDR_MAX; i++) {
		memset(&entries[i], 0, sizeof(entries[i]));
		entries[i].services = UINT64_MAX;
		entries[i].na.net = CR_NET_I2P;
		entries[i].na.len = 32;
	}
	l.count = CR_MSG_ADDR_MAX;
	CHECK_EQ(cr_msg_addrv2_encode(big, CR_MSG_ADDRV2_SIZE_MAX, &l), CR_MSG_ADDRV2_SIZE_MAX);
}

/* Bitcoin Core's fixture (src/test/netbase_tests.cpp: stream_addrv1_hex,
 * stream_addrv2_hex): three entries for ::1 in both formats. Both decode
 * to the same entries and re-encode to exactly Core's bytes. */
#define LOOPBACK6 "00000000000000000000000000000001"
static const char *core_addrv1 = "03"
	"61bc6649" "0000000000000000" LOOPBACK6 "0000"
	"79627683" "0100000000000000" LOOPBACK6 "00f1"
	"ffffffff" "4804000000000000" LOOPBACK6 "f1f2";
static const char *core_addrv2 = "03"
	"61bc6649" "00" "02" "10" LOOPBACK6 "0000"
	"79627683" "01" "02" "10" LOOPBACK6 "00f1"
	"ffffffff" "fd4804" "02" "10" LOOPBACK6 "f1f2";

static void test_addr_core_fixture(void)
{
	static const uint32_t times[3] = {1231469665u, 2205573753u, 0xffffffffu};
	static const uint64_t services[3] = {0, 1, 0x448};
	static const uint16_t ports[3] = {0, 0xf1, 0xf1f2};
	const char *hex[2] = {core_addrv1, core_addrv2};

	for (int v2 = 0; v2 < 2; v2++) {
		uint8_t raw[128], again[128];
		long n = check_unhex(raw, sizeof(raw), hex[v2]);
		struct cr_addr_list l = {.entries = entries, .cap = 3};
		CHECK(n > 0);
		CHECK_EQ(v2 ? cr_msg_addrv2_decode(&l, raw, (size_t)n) : cr_msg_addr_decode(&l, raw, (size_t)n), 0);
		CHECK_EQ(l.count, 3);
		for (int i = 0; i < 3; i++) {
			CHECK_EQ(entries[i].time, times[i]);
			CHECK(entries[i].services == services[i]);
			CHECK_EQ(entries[i].port, ports[i]);
			CHECK_EQ(entries[i].na.net, CR_NET_IPV6);
			CHECK_EQ(entries[i].na.len, 16);
			CHECK_EQ(entries[i].na.addr[15], 1);
			CHECK_EQ(entries[i].na.addr[0], 0);
		}
		int m = v2 ? cr_msg_addrv2_encode(again, sizeof(again), &l) : cr_msg_addr_encode(again, sizeof(again), &l);
		CHECK_EQ(m, n);
		CHECK_MEM(again, raw, (size_t)n);
	}
}

static void test_addr_random_roundtrip(void)
{
	uint64_t rng = seed;
	static const uint8_t nets[] = {CR_NET_IPV4, CR_NET_IPV6, CR_NET_TORV3, CR_NET_I2P, CR_NET_CJDNS};
	static struct cr_peeraddr back[CR_MSG_ADDR_MAX];
	int bad = 0;
	for (int it = 0; it < 50; it++) {
		size_t n = check_rand(&rng) % 50;
		bool v1 = it & 1;
		for (size_t i = 0; i < n; i++) {
			struct cr_peeraddr *a = &entries[i];
			memset(a, 0, sizeof(*a));
			a->na.net = nets[check_rand(&rng) % (v1 ? 2 : 5)];
			a->na.len = cr_net_addr_len(a->na.net);
			for (int k = 0; k < a->na.len; k++)
				a->na.addr[k] = (uint8_t)check_rand(&rng);
			if (a->na.net == CR_NET_IPV6)
				a->na.addr[0] = 0x20;
			if (a->na.net == CR_NET_CJDNS)
				a->na.addr[0] = 0xfc;
			a->port = (uint16_t)check_rand(&rng);
			a->time = (uint32_t)check_rand(&rng);
			a->services = check_rand(&rng) >> (check_rand(&rng) % 64);
		}
		struct cr_addr_list l = {.entries = entries, .count = n};
		struct cr_addr_list o = {.entries = back, .cap = CR_MSG_ADDR_MAX};
		int len = v1 ? cr_msg_addr_encode(big, sizeof(big), &l) : cr_msg_addrv2_encode(big, sizeof(big), &l);
		bad += len <= 0;
		int err = v1 ? cr_msg_addr_decode(&o, big, (size_t)len) : cr_msg_addrv2_decode(&o, big, (size_t)len);
		bad += err != 0 || o.count != n || o.skipped != 0;
		bad += n && memcmp(back, entries, n * sizeof(back[0])) != 0;
	}
	CHECK_EQ(bad, 0);
}

int main(int argc, char **argv)
{
	seed = check_seed(argc, argv);
	RUN(test_version_vector);
	RUN(test_version_roundtrip);
	RUN(test_version_truncation);
	RUN(test_version_user_agent_limit);
	RUN(test_fixed_messages);
	RUN(test_types);
	RUN(test_addr_count_limit);
	RUN(test_addr_networks);
	RUN(test_addrv2_lengths);
	RUN(test_addrv2_skips_and_services);
	RUN(test_addrv2_count_limit);
	RUN(test_addr_core_fixture);
	RUN(test_addr_random_roundtrip);
	return check_done();
}
