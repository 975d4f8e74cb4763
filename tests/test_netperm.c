/* Tests of addr/netperm: Core's permission names and their implications,
 * directions, implicit (legacy) whitelisting, matching by subnet and
 * direction, Core's error texts for every refusal, and the ToStrings order. */
#include <string.h>

#include "addr/addrstr.h"
#include "addr/netclass.h"
#include "addr/netperm.h"
#include "proto/err.h"
#include "check.h"

static char err[256];

static uint32_t wl_flags(const char *s)
{
	struct cr_whitelist w;
	CHECK_EQ(cr_whitelist_parse(&w, s, strlen(s), err, sizeof err), 0);
	return w.flags;
}

static bool wl_fails(const char *s, const char *msg)
{
	struct cr_whitelist w;
	memset(&w, 0x55, sizeof w);
	int rc = cr_whitelist_parse(&w, s, strlen(s), err, sizeof err);
	static const struct cr_whitelist zero;
	bool ok = rc == CR_E_INVAL && strcmp(err, msg) == 0 && memcmp(&w, &zero, sizeof w) == 0;
	if (!ok)
		fprintf(stderr, "'%s': got '%s'\n", s, err);
	return ok;
}

static bool wb_fails(const char *s, const char *msg)
{
	struct cr_whitebind w;
	int rc = cr_whitebind_parse(&w, s, strlen(s), err, sizeof err);
	bool ok = rc == CR_E_INVAL && strcmp(err, msg) == 0 && w.port == 0 && w.flags == 0;
	if (!ok)
		fprintf(stderr, "'%s': got '%s'\n", s, err);
	return ok;
}

static const char *fmt(uint32_t flags)
{
	static char out[128];
	CHECK(cr_perm_format(out, sizeof out, flags) >= 0);
	return out;
}

static void test_perm_names(void)
{
	CHECK_EQ(wl_flags("noban@1.2.3.4"), CR_PERM_NOBAN);
	CHECK(cr_perm_has(wl_flags("noban@1.2.3.4"), CR_PERM_DOWNLOAD)); /* implied */
	CHECK_EQ(wl_flags("bloom@1.2.3.4"), CR_PERM_BLOOMFILTER);
	CHECK_EQ(wl_flags("bloomfilter@1.2.3.4"), CR_PERM_BLOOMFILTER);
	CHECK(cr_perm_has(wl_flags("forcerelay@1.2.3.4"), CR_PERM_RELAY));
	CHECK_EQ(wl_flags("addr,mempool@1.2.3.4"), CR_PERM_ADDR | CR_PERM_MEMPOOL);
	CHECK_EQ(wl_flags("all@1.2.3.4"), CR_PERM_ALL);
	/* empty and repeated names are allowed, as in Core */
	CHECK_EQ(wl_flags("noban,,relay,noban@1.2.3.4"), CR_PERM_NOBAN | CR_PERM_RELAY);
	CHECK_EQ(wl_flags("@1.2.3.4"), CR_PERM_NONE);
	CHECK_EQ(wl_flags("1.2.3.4"), CR_PERM_IMPLICIT);
	CHECK(strcmp(fmt(CR_PERM_ALL), "bloomfilter,noban,forcerelay,relay,mempool,download,addr") == 0);
	CHECK(strcmp(fmt(CR_PERM_NOBAN), "noban,download") == 0);
	CHECK(strcmp(fmt(0), "") == 0);
	char tiny[8];
	CHECK_EQ(cr_perm_format(tiny, sizeof tiny, CR_PERM_ALL), CR_E_OVERFLOW);
	CHECK_EQ(tiny[0], 0);
	CHECK_EQ(cr_perm_format(tiny, sizeof tiny, CR_PERM_ADDR), 4);
}

static void test_perm_directions(void)
{
	struct cr_whitelist w;
	CHECK_EQ(cr_whitelist_parse(&w, "noban,out@10.0.0.0/8", 20, err, sizeof err), 0);
	CHECK_EQ(w.dirs, CR_PERM_DIR_OUT);
	CHECK_EQ(cr_whitelist_parse(&w, "in,out,addr@10.0.0.0/8", 22, err, sizeof err), 0);
	CHECK_EQ(w.dirs, CR_PERM_DIR_IN | CR_PERM_DIR_OUT);
	CHECK_EQ(cr_whitelist_parse(&w, "addr@10.0.0.0/8", 15, err, sizeof err), 0);
	CHECK_EQ(w.dirs, CR_PERM_DIR_IN);
	CHECK_EQ(cr_whitelist_parse(&w, "10.0.0.0/8", 10, err, sizeof err), 0);
	CHECK_EQ(w.dirs, CR_PERM_DIR_IN);
	CHECK_EQ(w.subnet.prefix, 8);
}

static void test_perm_refusals(void)
{
	CHECK(wl_fails("bogus@1.2.3.4", "Invalid P2P permission: 'bogus'"));
	CHECK(wl_fails("noban,Relay@1.2.3.4", "Invalid P2P permission: 'Relay'"));
	CHECK(wl_fails("in@1.2.3.4", "Only direction was set, no permissions: 'in@1.2.3.4'"));
	CHECK(wl_fails("out,in@1.2.3.4", "Only direction was set, no permissions: 'out,in@1.2.3.4'"));
	CHECK(wl_fails("noban@nothing", "Invalid netmask specified in -whitelist: 'nothing'"));
	CHECK(wl_fails("1.2.3.4/33", "Invalid netmask specified in -whitelist: '1.2.3.4/33'"));
	CHECK(wl_fails("", "Invalid netmask specified in -whitelist: ''"));
	CHECK(wl_fails("noban@127.0.0.1:230", "Invalid netmask specified in -whitelist: '127.0.0.1:230'"));
	CHECK(wb_fails("127.0.0.1", "Need to specify a port with -whitebind: '127.0.0.1'"));
	CHECK(wb_fails("noban@[::1]", "Need to specify a port with -whitebind: '[::1]'"));
	CHECK(wb_fails("localhost:7", "Cannot resolve -whitebind address: 'localhost:7'"));
	CHECK(wb_fails("999.1.1.1:5", "Cannot resolve -whitebind address: '999.1.1.1:5'"));
	CHECK(wb_fails("noban@127.0.0.1/10", "Cannot resolve -whitebind address: '127.0.0.1/10'"));
	CHECK(wb_fails("out@127.0.0.1:7",
		       "whitebind may only be used for incoming connections (\"out\" was passed)"));
	CHECK(wb_fails("bogus@127.0.0.1:7", "Invalid P2P permission: 'bogus'"));
	CHECK(wb_fails("in@127.0.0.1:7", "Only direction was set, no permissions: 'in@127.0.0.1:7'"));
	/* a huge name is quoted cut short, and the message stays bounded */
	char big[600];
	memset(big, 'x', sizeof big);
	big[sizeof big - 1] = 0;
	big[500] = '@';
	struct cr_whitelist w;
	char small[16];
	CHECK_EQ(cr_whitelist_parse(&w, big, strlen(big), small, sizeof small), CR_E_INVAL);
	CHECK_EQ(strlen(small), 15);
	CHECK_EQ(cr_whitelist_parse(&w, big, strlen(big), err, sizeof err), CR_E_INVAL);
	CHECK(strlen(err) < 150);
	/* no buffer for the message at all */
	CHECK_EQ(cr_whitelist_parse(&w, "x@1.2.3.4", 9, NULL, 0), CR_E_INVAL);
}

static void test_whitebind_ok(void)
{
	struct cr_whitebind b;
	CHECK_EQ(cr_whitebind_parse(&b, "noban,addr@127.0.0.1:18444", 26, err, sizeof err), 0);
	CHECK_EQ(b.port, 18444);
	CHECK_EQ(b.flags, CR_PERM_NOBAN | CR_PERM_ADDR);
	CHECK_EQ(b.addr.net, CR_NET_IPV4);
	CHECK_EQ(cr_whitebind_parse(&b, "[::1]:8333", 10, err, sizeof err), 0);
	CHECK_EQ(b.flags, CR_PERM_IMPLICIT);
	CHECK_EQ(b.addr.net, CR_NET_IPV6);
	CHECK_EQ(cr_whitebind_parse(&b, "in,relay@127.0.0.1:7", 20, err, sizeof err), 0);
	CHECK_EQ(b.flags, CR_PERM_RELAY);
}

static struct cr_netaddr A(const char *s)
{
	struct cr_netaddr a;
	CHECK_EQ(cr_addrstr_parse_host(&a, s, strlen(s), 0), 0);
	return a;
}

static void test_whitelist_match(void)
{
	struct cr_whitelist wl[3];
	const char *v[3] = { "addr@10.0.0.0/8", "noban,out@10.1.0.0/16", "192.168.1.1" };
	for (int i = 0; i < 3; i++)
		CHECK_EQ(cr_whitelist_parse(&wl[i], v[i], strlen(v[i]), err, sizeof err), 0);
	struct cr_netaddr a = A("10.1.2.3"), b = A("192.168.1.1"), c = A("11.0.0.1");
	CHECK_EQ(cr_whitelist_match(0, wl, 3, &a, CR_PERM_DIR_IN, true, false), CR_PERM_ADDR);
	CHECK_EQ(cr_whitelist_match(0, wl, 3, &a, CR_PERM_DIR_OUT, true, false), CR_PERM_NOBAN);
	CHECK_EQ(cr_whitelist_match(0, wl, 3, &c, CR_PERM_DIR_IN, true, false), 0);
	/* implicit: Core's legacy set, relay per -whitelistrelay */
	CHECK_EQ(cr_whitelist_match(0, wl, 3, &b, CR_PERM_DIR_IN, true, false),
		 CR_PERM_NOBAN | CR_PERM_MEMPOOL | CR_PERM_RELAY);
	CHECK_EQ(cr_whitelist_match(0, wl, 3, &b, CR_PERM_DIR_IN, false, false),
		 CR_PERM_NOBAN | CR_PERM_MEMPOOL);
	CHECK_EQ(cr_whitelist_match(0, wl, 3, &b, CR_PERM_DIR_IN, false, true),
		 CR_PERM_NOBAN | CR_PERM_MEMPOOL | CR_PERM_FORCERELAY);
	/* a whitebind's flags are the starting point */
	CHECK_EQ(cr_whitelist_match(CR_PERM_BLOOMFILTER, wl, 3, &a, CR_PERM_DIR_IN, true, false),
		 CR_PERM_ADDR | CR_PERM_BLOOMFILTER);
	CHECK_EQ(cr_whitelist_match(CR_PERM_IMPLICIT, NULL, 0, &c, CR_PERM_DIR_IN, true, false),
		 CR_PERM_NOBAN | CR_PERM_MEMPOOL | CR_PERM_RELAY);
	/* an IPv4-mapped peer address matches its IPv4 subnet */
	uint8_t ip[16] = {[10] = 0xff, [11] = 0xff, 10, 9, 9, 9};
	struct cr_netaddr m;
	cr_addr_set_ipv6(&m, ip);
	CHECK_EQ(cr_whitelist_match(0, wl, 3, &m, CR_PERM_DIR_IN, true, false), CR_PERM_ADDR);
}

int main(void)
{
	RUN(test_perm_names);
	RUN(test_perm_directions);
	RUN(test_perm_refusals);
	RUN(test_whitebind_ok);
	RUN(test_whitelist_match);
	return check_done();
}
