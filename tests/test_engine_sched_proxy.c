/* The scheduler opens a Tor v3 address through the -proxy by name: an
 * engine with automatic connections, a proxy and only an onion address in
 * its address manager must ask the proxy for "<name>.onion:port" (SOCKS5
 * domain-name request). The proxy here is this test's listening socket: it
 * reads the greeting and the CONNECT request, answers the greeting, and
 * closes. Bounded by the poll timeouts. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "engine_util.h"

/* Reads exactly n bytes within ms; false on timeout, error or EOF. */
static bool read_full(int fd, uint8_t *buf, size_t n, int ms)
{
	size_t got = 0;
	while (got < n) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, ms) <= 0)
			return false;
		ssize_t r = read(fd, buf + got, n - got);
		if (r <= 0)
			return false;
		got += (size_t)r;
	}
	return true;
}

static void test_engine_sched_onion_by_name(void)
{
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(lfd >= 0);
	struct sockaddr_in sa = { .sin_family = AF_INET };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK_EQ(bind(lfd, (struct sockaddr *)&sa, sizeof sa), 0);
	CHECK_EQ(listen(lfd, 8), 0);
	socklen_t sl = sizeof sa;
	CHECK_EQ(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);

	struct rec r;
	struct cr_config *c = test_config(&r, "A", NULL);
	char proxy[64];
	snprintf(proxy, sizeof proxy, "127.0.0.1:%u", ntohs(sa.sin_port));
	CHECK_EQ(cr_config_set_proxy(c, proxy), 0);
	CHECK_EQ(cr_config_set_auto_connect(c, true), 0);
	CHECK_EQ(cr_config_set_dnsseed(c, false), 0);
	CHECK_EQ(cr_config_set_fixedseeds(c, false), 0);
	struct cr_engine *e = NULL;
	CHECK_EQ(cr_engine_new(&e, c), 0);
	cr_config_free(c);
	CHECK_EQ(cr_engine_start(e), 0);

	struct cr_addr_entry a = { .net = 4, .len = 32, .port = 18444, .services = 1 | 8 };
	for (unsigned i = 0; i < 32; i++)
		a.addr[i] = (uint8_t)(0x40 + 7 * i);
	a.time = time(NULL);
	CHECK_EQ(cr_add_peer_address(e, &a, false), 1);

	/* the scheduler's pass (every 500 ms while slots are free) opens it */
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	CHECK_EQ(poll(&p, 1, 10000), 1);
	int fd = accept(lfd, NULL, NULL);
	CHECK(fd >= 0);
	uint8_t g[2], methods[255];
	CHECK(read_full(fd, g, 2, 5000));
	CHECK_EQ(g[0], 5);
	CHECK(g[1] >= 1 && read_full(fd, methods, g[1], 5000));
	static const uint8_t none[2] = { 5, 0 };
	CHECK_EQ(write(fd, none, 2), 2);
	uint8_t req[5], name[256];
	CHECK(read_full(fd, req, 5, 5000)); /* VER CMD RSV ATYP LEN */
	CHECK_EQ(req[0], 5);
	CHECK_EQ(req[1], 1); /* CONNECT */
	CHECK_EQ(req[3], 3); /* a domain name, not an IP */
	uint8_t port[2];
	CHECK(read_full(fd, name, req[4], 5000) && read_full(fd, port, 2, 5000));
	name[req[4]] = 0;
	CHECK(req[4] == 56 + 6 && strcmp((char *)name + 56, ".onion") == 0);
	CHECK_EQ((unsigned)port[0] << 8 | port[1], 18444u);
	close(fd);
	cr_engine_free(e);
	close(lfd);
}

int main(void)
{
	test_watchdog();
	RUN(test_engine_sched_onion_by_name);
	return check_done();
}
