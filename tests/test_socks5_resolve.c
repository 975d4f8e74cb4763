/* Tor's SOCKS5 RESOLVE extension in the sans-IO client (proto/socks5.h):
 * the request bytes, IPv4 and IPv6 answers fed whole and byte by byte,
 * a domain answer and a refusal, and the bounds on the name. A real
 * exchange over a socket with a SOCKS5 server that implements RESOLVE is
 * in test_dns_proxy.c (the seed resolver through a proxy). */
#include <string.h>

#include "proto/err.h"
#include "proto/socks5.h"
#include "tests/check.h"

/* Runs greeting and request, then feeds reply chunk bytes at a time.
 * Returns the last recv result. */
static int run(struct cr_socks5 *s, const uint8_t *reply, size_t len, size_t chunk,
	       uint8_t *req, size_t *req_len)
{
	const uint8_t *p;
	size_t n = cr_socks5_pending(s, &p);
	CHECK_EQ(n, 3); /* greeting: no authentication */
	cr_socks5_sent(s, n);
	static const uint8_t method[] = {5, 0};
	CHECK_EQ(cr_socks5_recv(s, method, 2), 2);
	n = cr_socks5_pending(s, &p);
	memcpy(req, p, n);
	*req_len = n;
	cr_socks5_sent(s, n);
	int r = 0;
	for (size_t off = 0; off < len; off += chunk) {
		size_t take = len - off < chunk ? len - off : chunk;
		r = cr_socks5_recv(s, reply + off, take);
		if (r < 0)
			return r;
	}
	return r;
}

static void test_resolve_request_and_ipv4(void)
{
	struct cr_socks5 s;
	CHECK_EQ(cr_socks5_init_resolve(&s, "x9.seed.example"), 0);
	static const uint8_t reply[] = {5, 0, 0, 1, 127, 3, 4, 5, 0, 0};
	uint8_t req[300];
	size_t req_len;
	for (size_t chunk = 1; chunk <= sizeof reply; chunk++) {
		CHECK_EQ(cr_socks5_init_resolve(&s, "x9.seed.example"), 0);
		CHECK(run(&s, reply, sizeof reply, chunk, req, &req_len) >= 0);
		CHECK(cr_socks5_done(&s));
		CHECK_EQ(s.bound_atyp, 1);
		CHECK_EQ(s.bound_len, 4);
		CHECK(memcmp(s.bound_addr, reply + 4, 4) == 0);
	}
	static const char name[] = "x9.seed.example";
	CHECK_EQ(req_len, 7 + strlen(name));
	CHECK_EQ(req[0], 5);
	CHECK_EQ(req[1], 0xf0); /* RESOLVE */
	CHECK_EQ(req[2], 0);
	CHECK_EQ(req[3], 3); /* a domain */
	CHECK_EQ(req[4], strlen(name));
	CHECK(memcmp(req + 5, name, strlen(name)) == 0);
}

static void test_resolve_ipv6_domain_refused(void)
{
	struct cr_socks5 s;
	uint8_t req[300];
	size_t req_len;
	uint8_t v6[4 + 16 + 2] = {5, 0, 0, 4, 0x2a, 0x01};
	CHECK_EQ(cr_socks5_init_resolve(&s, "host.example"), 0);
	CHECK(run(&s, v6, sizeof v6, 3, req, &req_len) >= 0);
	CHECK(cr_socks5_done(&s));
	CHECK_EQ(s.bound_atyp, 4);
	CHECK_EQ(s.bound_len, 16);
	CHECK_EQ(s.bound_addr[0], 0x2a);
	/* a name back is no answer to RESOLVE */
	static const uint8_t dom[] = {5, 0, 0, 3, 3, 'a', 'b', 'c', 0, 0};
	CHECK_EQ(cr_socks5_init_resolve(&s, "host.example"), 0);
	CHECK_EQ(run(&s, dom, sizeof dom, 1, req, &req_len), CR_E_SOCKS_ADDR);
	CHECK(!cr_socks5_done(&s));
	/* a proxy without the extension, or a name that does not resolve */
	static const uint8_t no_cmd[] = {5, 7, 0, 1, 0, 0, 0, 0, 0, 0};
	CHECK_EQ(cr_socks5_init_resolve(&s, "host.example"), 0);
	CHECK_EQ(run(&s, no_cmd, sizeof no_cmd, 10, req, &req_len), CR_E_SOCKS_REPLY);
	CHECK_EQ(s.reply_code, CR_SOCKS5_CMD_UNSUPPORTED);
	static const uint8_t unreach[] = {5, 4, 0, 1, 0, 0, 0, 0, 0, 0};
	CHECK_EQ(cr_socks5_init_resolve(&s, "host.example"), 0);
	CHECK_EQ(run(&s, unreach, sizeof unreach, 10, req, &req_len), CR_E_SOCKS_REPLY);
	/* sticky */
	CHECK_EQ(cr_socks5_recv(&s, unreach, 1), CR_E_SOCKS_REPLY);
}

static void test_resolve_name_bounds(void)
{
	struct cr_socks5 s;
	char name[300];
	memset(name, 'a', sizeof name);
	name[255] = '\0';
	CHECK_EQ(cr_socks5_init_resolve(&s, name), 0);
	name[255] = 'a';
	name[256] = '\0';
	CHECK_EQ(cr_socks5_init_resolve(&s, name), CR_E_SOCKS_HOST);
	CHECK_EQ(cr_socks5_init_resolve(&s, ""), CR_E_INVAL);
	CHECK_EQ(cr_socks5_init_resolve(&s, NULL), CR_E_INVAL);
	CHECK_EQ(cr_socks5_init_resolve(&s, "bad name"), CR_E_INVAL);
	const uint8_t *p;
	CHECK_EQ(cr_socks5_pending(&s, &p), 0); /* failed: nothing to send */
}

int main(void)
{
	RUN(test_resolve_request_and_ipv4);
	RUN(test_resolve_ipv6_domain_refused);
	RUN(test_resolve_name_bounds);
	return check_done();
}
