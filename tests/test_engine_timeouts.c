/* Timers and faults over loopback: connect timeout (a listener whose
 * backlog is full drops our SYNs), ping and inactivity timeouts against a
 * raw peer that completes the V1 handshake and then stays silent, IPv6, a
 * reset in the middle of a message and a corrupted V2 packet tag (each
 * leaving another peer of the engine unaffected). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "engine_util.h"
#include "proto/chain.h"
#include "proto/msg.h"
#include "proto/ellswift.h"
#include "proto/transport.h"
#include "proto/v1.h"
#include "proto/wire.h"

/* Creates and starts an engine from c (freed here). */
static struct cr_engine *start(struct cr_config *c)
{
	struct cr_engine *e = NULL;
	CHECK_EQ(cr_engine_new(&e, c), 0);
	cr_config_free(c);
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
	struct cr_config *cb;
	cb = test_config(&rb, "B", NULL);
	CHECK_EQ(cr_config_set_connect_timeout_ms(cb, 300), 0);
	struct cr_engine *b = start(cb);
	char hp[64];
	snprintf(hp, sizeof hp, "127.0.0.1:%u", port);
	CHECK_EQ(cr_connect(b, hp, CR_CONNECT_V1), 0);
	CHECK(WAIT_FOR(rec_get(&rb, &rb.closed) == 1, 5000));
	CHECK_EQ(rb.closed_reason[0], CR_CLOSE_CONNECT_FAILED);
	struct cr_totals t;
	cr_engine_totals(b, &t, sizeof t);
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
	struct cr_config *ca;
	ca = test_config(&ra, "A", TEST_BIND);
	CHECK_EQ(cr_config_set_ping_timeout_ms(ca, 300), 0);
	struct cr_engine *a = start(ca);
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
	struct cr_config *ca;
	ca = test_config(&ra, "A", TEST_BIND);
	CHECK_EQ(cr_config_set_inactivity_timeout_ms(ca, 300), 0);
	struct cr_engine *a = start(ca);
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
	struct cr_config *ca, *cb;
	ca = test_config(&ra, "A", "[::1]:0");
	cb = test_config(&rb, "B", NULL);
	struct cr_engine *a = start(ca), *b = start(cb);
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

/* A healthy engine peer next to the faulty raw one must be unaffected. */
struct bystander {
	struct rec rb;
	struct cr_engine *b;
};

static void bystander_start(struct bystander *s, struct cr_engine *a)
{
	struct cr_config *cb;
	cb = test_config(&s->rb, "B", NULL);
	s->b = start(cb);
	char hp[64];
	snprintf(hp, sizeof hp, "127.0.0.1:%u", cr_engine_port(a));
	CHECK_EQ(cr_connect(s->b, hp, 0), 0);
	CHECK(WAIT_FOR(rec_get(&s->rb, &s->rb.ready) == 1, 10000));
}

static void bystander_check(struct bystander *s, struct rec *ra)
{
	/* still connected, and it still works both ways */
	CHECK_EQ(rec_get(&s->rb, &s->rb.closed), 0);
	unsigned before = rec_get(ra, &ra->msgs);
	CHECK_EQ(cr_send(s->b, s->rb.ready_ids[0], "hello", (const uint8_t *)"x", 1), 0);
	CHECK(WAIT_FOR(rec_get(ra, &ra->msgs) == before + 1, 5000));
	cr_engine_free(s->b);
}

static void test_engine_rst_mid_message(void)
{
	struct rec ra;
	struct cr_config *ca;
	ca = test_config(&ra, "A", TEST_BIND);
	struct cr_engine *a = start(ca);
	struct bystander by;
	bystander_start(&by, a);
	int fd = silent_peer(cr_engine_port(a));
	CHECK(WAIT_FOR(rec_get(&ra, &ra.ready) == 2, 5000));
	/* half of a 1,000-byte message, then an RST (linger 0) */
	uint8_t hdr[CR_V1_HEADER_SIZE + 500];
	memset(hdr, 7, sizeof hdr);
	cr_v1_encode_header(hdr, cr_chain_get(CR_CHAIN_REGTEST)->magic, "blob", NULL, 0);
	cr_put_le32(hdr + 16, 1000);
	CHECK_EQ(write(fd, hdr, sizeof hdr), (ssize_t)sizeof hdr);
	sleep_ms(50);
	struct linger lg = { 1, 0 };
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	close(fd);
	CHECK(WAIT_FOR(rec_get(&ra, &ra.closed) == 1, 5000));
	CHECK(ra.closed_reason[0] == CR_CLOSE_SOCKET || ra.closed_reason[0] == CR_CLOSE_EOF);
	bystander_check(&by, &ra);
	cr_engine_free(a);
}

/* A raw V2 initiator built from proto/transport: handshake, one good
 * message, then a packet with one bit of its tag flipped. */
static void test_engine_v2_tag_corruption(void)
{
	struct rec ra;
	struct cr_config *ca;
	ca = test_config(&ra, "A", TEST_BIND);
	struct cr_engine *a = start(ca);
	struct bystander by;
	bystander_start(&by, a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(cr_engine_port(a)) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK_EQ(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	uint8_t seed[32] = { 9 };
	struct cr_secp *secp = cr_secp_new(seed);
	struct cr_transport *t = calloc(1, cr_transport_size());
	static struct cr_v2_entropy rnd;
	for (int i = 0; i < 32; i++)
		rnd.seckey[i] = (uint8_t)(i + 1), rnd.ell_rnd[i] = (uint8_t)(3 * i);
	CHECK_EQ(cr_transport_init_v2(t, cr_chain_get(CR_CHAIN_REGTEST), secp, true, &rnd), 0);
	const uint8_t *out;
	size_t n;
	uint8_t buf[4096];
	/* key exchange until the transport is ready */
	for (int round = 0; round < 50 && !cr_transport_ready(t); round++) {
		while ((n = cr_transport_pending(t, &out)) > 0) {
			CHECK_EQ(write(fd, out, n), (ssize_t)n);
			cr_transport_pending_sent(t, n);
		}
		ssize_t r = read(fd, buf, sizeof buf);
		if (r <= 0)
			break;
		struct cr_msg m;
		for (size_t off = 0; off < (size_t)r;) {
			int k = cr_transport_recv(t, &m, buf + off, (size_t)r - off);
			if (k <= 0)
				break;
			off += (size_t)k;
		}
	}
	CHECK(cr_transport_ready(t));
	while ((n = cr_transport_pending(t, &out)) > 0) {
		CHECK_EQ(write(fd, out, n), (ssize_t)n);
		cr_transport_pending_sent(t, n);
	}
	/* version + verack so the engine counts it ready, then a bad tag */
	struct cr_version v;
	memset(&v, 0, sizeof v);
	v.version = 70016;
	v.nonce = 7;
	uint8_t p[CR_MSG_VERSION_SIZE_MAX];
	int vn = cr_msg_version_encode(p, sizeof p, &v);
	bool follows;
	int k = cr_transport_frame(t, buf, sizeof buf, "version", p, (size_t)vn, &follows);
	CHECK(k > 0);
	CHECK_EQ(write(fd, buf, (size_t)k), k);
	k = cr_transport_frame(t, buf, sizeof buf, "verack", NULL, 0, &follows);
	CHECK_EQ(write(fd, buf, (size_t)k), k);
	CHECK(WAIT_FOR(rec_get(&ra, &ra.ready) == 2, 5000));
	k = cr_transport_frame(t, buf, sizeof buf, "hello", (const uint8_t *)"abc", 3, &follows);
	buf[k - 1] ^= 0x01; /* last byte of the Poly1305 tag */
	CHECK_EQ(write(fd, buf, (size_t)k), k);
	CHECK(WAIT_FOR(rec_get(&ra, &ra.closed) == 1, 5000));
	CHECK_EQ(ra.closed_reason[0], CR_CLOSE_PROTOCOL);
	unsigned msgs_from_raw = rec_get(&ra, &ra.msgs);
	CHECK_EQ(msgs_from_raw, 0); /* the corrupted message was not delivered */
	bystander_check(&by, &ra);
	cr_transport_clear(t);
	free(t);
	cr_secp_free(secp);
	close(fd);
	cr_engine_free(a);
}

int main(void)
{
	test_watchdog();
	RUN(test_engine_connect_timeout);
	RUN(test_engine_ping_timeout);
	RUN(test_engine_inactivity_timeout);
	RUN(test_engine_ipv6);
	RUN(test_engine_rst_mid_message);
	RUN(test_engine_v2_tag_corruption);
	return check_done();
}
