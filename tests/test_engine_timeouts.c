/* Timers over loopback: connect timeout (a listener whose backlog is full
 * drops our SYNs), ping timeout and inactivity timeout against a raw peer
 * that completes the V1 handshake and then stays silent, and IPv6. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "engine_util.h"
#include "proto/chain.h"
#include "proto/msg.h"
#include "proto/v1.h"

static struct cr_engine *start(struct cr_config *c)
{
	struct cr_engine *e = NULL;
	CHECK_EQ(cr_engine_new(&e, c), 0);
	if (e)
		CHECK_EQ(cr_engine_start(e), 0);
	return e;
}

static int tcp_connect(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	connect(fd, (struct sockaddr *)&sa, sizeof sa);
	return fd;
}

static void test_engine_connect_timeout(void)
{
	/* a listener that never accepts, its backlog filled by us: further
	 * SYNs are dropped and connect hangs */
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof sa;
	CHECK_EQ(bind(l, (struct sockaddr *)&sa, sizeof sa), 0);
	CHECK_EQ(listen(l, 0), 0);
	getsockname(l, (struct sockaddr *)&sa, &len);
	uint16_t port = ntohs(sa.sin_port);
	int fill[4];
	for (int i = 0; i < 4; i++)
		fill[i] = tcp_connect(port);
	sleep_ms(100);
	struct rec rb;
	struct cr_config cb;
	test_config(&cb, &rb, "B", false);
	cb.connect_timeout_ms = 300;
	struct cr_engine *b = start(&cb);
	char hp[64];
	snprintf(hp, sizeof hp, "127.0.0.1:%u", port);
	CHECK_EQ(cr_connect(b, hp, CR_CONNECT_V1), 0);
	CHECK(WAIT_FOR(rec_get(&rb, &rb.closed) == 1, 5000));
	CHECK_EQ(rb.closed_reason[0], CR_CLOSE_CONNECT_FAILED);
	struct cr_totals t;
	cr_engine_totals(b, &t);
	CHECK_EQ(t.connect_failures, 1);
	cr_engine_free(b);
	for (int i = 0; i < 4; i++)
		close(fill[i]);
	close(l);
}

static void raw_send(int fd, const char *cmd, const uint8_t *payload, size_t len)
{
	uint8_t buf[CR_V1_HEADER_SIZE + 512];
	if (len)
		memcpy(buf + CR_V1_HEADER_SIZE, payload, len);
	int n = cr_v1_encode(buf, sizeof buf, cr_chain_get(CR_CHAIN_REGTEST)->magic, cmd, (uint32_t)len);
	CHECK_EQ(write(fd, buf, (size_t)n), n);
}

/* A raw V1 peer: version + verack, then silence. */
static int silent_peer(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK_EQ(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	struct cr_version v;
	memset(&v, 0, sizeof v);
	v.version = 70016;
	v.nonce = 99;
	uint8_t p[CR_MSG_VERSION_SIZE_MAX];
	int n = cr_msg_version_encode(p, sizeof p, &v);
	raw_send(fd, "version", p, (size_t)n);
	raw_send(fd, "verack", NULL, 0);
	return fd;
}

static void test_engine_ping_timeout(void)
{
	struct rec ra;
	struct cr_config ca;
	test_config(&ca, &ra, "A", true);
	ca.ping_timeout_ms = 300;
	struct cr_engine *a = start(&ca);
	int fd = silent_peer(cr_engine_port(a));
	CHECK(WAIT_FOR(rec_get(&ra, &ra.ready) == 1, 5000));
	CHECK(WAIT_FOR(rec_get(&ra, &ra.closed) == 1, 5000));
	CHECK_EQ(ra.closed_reason[0], CR_CLOSE_PING_TIMEOUT);
	close(fd);
	cr_engine_free(a);
}

static void test_engine_inactivity_timeout(void)
{
	struct rec ra;
	struct cr_config ca;
	test_config(&ca, &ra, "A", true);
	ca.inactivity_timeout_ms = 300;
	struct cr_engine *a = start(&ca);
	int fd = silent_peer(cr_engine_port(a));
	CHECK(WAIT_FOR(rec_get(&ra, &ra.ready) == 1, 5000));
	CHECK(WAIT_FOR(rec_get(&ra, &ra.closed) == 1, 5000));
	CHECK_EQ(ra.closed_reason[0], CR_CLOSE_INACTIVITY);
	close(fd);
	cr_engine_free(a);
}

static void test_engine_ipv6(void)
{
	struct rec ra, rb;
	struct cr_config ca, cb;
	test_config(&ca, &ra, "A", true);
	test_config(&cb, &rb, "B", false);
	snprintf(ca.bind[0], sizeof ca.bind[0], "[::1]:0");
	struct cr_engine *a = start(&ca), *b = start(&cb);
	char hp[64];
	snprintf(hp, sizeof hp, "[::1]:%u", cr_engine_port(a));
	CHECK_EQ(cr_connect(b, hp, 0), 0);
	CHECK(WAIT_FOR(rec_get(&ra, &ra.ready) == 1 && rec_get(&rb, &rb.ready) == 1, 10000));
	CHECK(strncmp(ra.ready_info[0].addr_str, "[::1]:", 6) == 0 || ra.ready_info[0].addr_str[0] == '?');
	CHECK(strcmp(rb.ready_info[0].addr_str, hp) == 0);
	CHECK_EQ(rb.ready_info[0].transport, 2);
	cr_engine_free(b);
	cr_engine_free(a);
}

int main(void)
{
	RUN(test_engine_connect_timeout);
	RUN(test_engine_ping_timeout);
	RUN(test_engine_inactivity_timeout);
	RUN(test_engine_ipv6);
	return check_done();
}
