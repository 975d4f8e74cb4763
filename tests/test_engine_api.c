/* The public API's contracts that are not about traffic: config setters
 * (defaults, ranges, lists, addresses), error texts for every layer's
 * codes, version, log category names, cr_send's one contract for a peer
 * still in its handshake, and the size-prefixed snapshots. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "engine_util.h"
#include "addr/err.h"

static void test_engine_api_config_ranges(void)
{
	struct cr_config *c = cr_config_new();
	CHECK(c != NULL);
	if (!c)
		return;
	CHECK_EQ(cr_config_set_workers(c, 64), 0);
	CHECK_EQ(cr_config_set_workers(c, 65), CR_E_CONFIG_RANGE);
	CHECK_EQ(cr_config_set_chain(c, CR_CHAIN_REGTEST), 0);
	CHECK_EQ(cr_config_set_chain(c, CR_CHAIN_COUNT), CR_E_CONFIG_RANGE);
	CHECK_EQ(cr_config_set_chain(c, (enum cr_chain_id)-1), CR_E_CONFIG_RANGE);
	CHECK_EQ(cr_config_set_max_connections(c, 0), CR_E_CONFIG_RANGE);
	CHECK_EQ(cr_config_set_max_connections(c, 1), 0);
	CHECK_EQ(cr_config_set_recv_buf_count(c, 1000), CR_E_CONFIG_RANGE); /* not a power of two */
	CHECK_EQ(cr_config_set_recv_buf_count(c, 65536), CR_E_CONFIG_RANGE);
	CHECK_EQ(cr_config_set_recv_buf_count(c, 32768), 0);
	CHECK_EQ(cr_config_set_recv_buf_size(c, 511), CR_E_CONFIG_RANGE);
	CHECK_EQ(cr_config_set_ring_entries(c, 63), CR_E_CONFIG_RANGE);
	CHECK_EQ(cr_config_set_protocol_version(c, 31799), CR_E_CONFIG_RANGE);
	CHECK_EQ(cr_config_set_protocol_version(c, 70016), 0);
	CHECK_EQ(cr_config_set_handshake_timeout_ms(c, 0), CR_E_CONFIG_RANGE);
	CHECK_EQ(cr_config_set_stop_flush_ms(c, 0), 0);
	char ua[CR_UA_MAX + 2];
	memset(ua, 'u', sizeof ua);
	ua[CR_UA_MAX] = '\0';
	CHECK_EQ(cr_config_set_user_agent(c, ua), 0);
	ua[CR_UA_MAX] = 'u';
	ua[CR_UA_MAX + 1] = '\0';
	CHECK_EQ(cr_config_set_user_agent(c, ua), CR_E_CONFIG_RANGE);
	cr_config_free(c);
	cr_config_free(NULL);
}

static void test_engine_api_config_addresses(void)
{
	struct cr_config *c = cr_config_new();
	if (!c)
		return;
	/* bind: numeric, port 0 allowed, at most 8 */
	CHECK_EQ(cr_config_add_bind(c, "localhost"), CR_E_BAD_ADDRESS);
	CHECK_EQ(cr_config_add_bind(c, "1.2.3.4:65536"), CR_E_BAD_ADDRESS);
	CHECK_EQ(cr_config_add_bind(c, "[::1"), CR_E_BAD_ADDRESS);
	CHECK_EQ(cr_config_add_bind(c, NULL), CR_E_BAD_ADDRESS);
	CHECK_EQ(cr_config_add_bind(c, "[::1]:0"), 0);
	for (int i = 1; i < 8; i++)
		CHECK_EQ(cr_config_add_bind(c, "127.0.0.1"), 0);
	CHECK_EQ(cr_config_add_bind(c, "127.0.0.1"), CR_E_CONFIG_FULL);
	/* proxy: numeric ip[:port] or nothing */
	CHECK_EQ(cr_config_set_proxy(c, "tor:9050"), CR_E_BAD_ADDRESS);
	CHECK_EQ(cr_config_set_proxy(c, "127.0.0.1:0"), CR_E_BAD_ADDRESS);
	CHECK_EQ(cr_config_set_proxy(c, "127.0.0.1:9050"), 0);
	CHECK_EQ(cr_config_set_proxy(c, "[::1]"), 0);
	CHECK_EQ(cr_config_set_proxy(c, ""), 0);
	/* manual peers: host[:port] text, a name allowed (for a proxy) */
	CHECK_EQ(cr_config_add_connect(c, "example.org:8333"), 0);
	CHECK_EQ(cr_config_add_addnode(c, "[2001:db8::1]:8333"), 0);
	CHECK_EQ(cr_config_add_connect(c, "a b"), CR_E_BAD_ADDRESS);
	CHECK_EQ(cr_config_add_connect(c, ":8333"), CR_E_BAD_ADDRESS);
	CHECK_EQ(cr_config_add_addnode(c, "h:0"), CR_E_BAD_ADDRESS);
	char big[200];
	memset(big, 'a', sizeof big);
	big[127] = '\0';
	CHECK_EQ(cr_config_add_connect(c, big), 0);
	big[127] = 'a';
	big[128] = '\0';
	CHECK_EQ(cr_config_add_connect(c, big), CR_E_BAD_ADDRESS);
	/* the engine copies the config: freeing it after new is fine; a
	 * name without a proxy is refused at start, with the code */
	struct cr_engine *e = NULL;
	CHECK_EQ(cr_config_set_listen(c, false), 0);
	CHECK_EQ(cr_engine_new(&e, c), 0);
	cr_config_free(c);
	CHECK_EQ(cr_engine_start(e), CR_E_BAD_ADDRESS);
	cr_engine_free(e);
	CHECK_EQ(cr_engine_new(&e, NULL), -EINVAL);
	CHECK(e == NULL);
}

static void test_engine_api_errors_and_names(void)
{
	/* every layer's codes have their own text, none "Unknown error" */
	int codes[] = { CR_E_NOT_READY, CR_E_BAD_ADDRESS, CR_E_CONFIG_RANGE, CR_E_CONFIG_FULL,
			CR_E_V2_STATE, CR_E_SOCKS_REPLY, CR_E_ADDR_PORT };
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		const char *t = cr_strerror(codes[i]);
		CHECK(t && *t && strcmp(t, "unknown error") != 0 && strncmp(t, "Unknown error", 13) != 0);
		for (size_t k = 0; k < i; k++)
			CHECK(strcmp(t, cr_strerror(codes[k])) != 0);
	}
	CHECK(strcmp(cr_strerror(CR_E_ADDR_PORT), "addr: bad port") == 0);
	CHECK(strcmp(cr_strerror(CR_E_V2_STATE), cr_proto_strerror(CR_E_V2_STATE)) == 0);
	CHECK(strcmp(cr_strerror(-ESTALE), strerror(ESTALE)) == 0);
	CHECK(strcmp(cr_strerror(-1699), "unknown error") == 0);
	CHECK(strcmp(cr_strerror(7), "unknown error") == 0);
	CHECK_EQ(cr_version(), CR_VERSION_HEX);
	CHECK(strcmp(cr_version_string(), CR_VERSION) == 0);
	CHECK_EQ(CR_VERSION_HEX >> 16, CR_VERSION_MAJOR);
	/* categories: bitcoind's names, each one bit */
	const enum cr_log_category cats[] = { CR_LOG_NET, CR_LOG_PROXY, CR_LOG_ADDRMAN, CR_LOG_RPC };
	unsigned all = 0;
	for (size_t i = 0; i < sizeof cats / sizeof cats[0]; i++) {
		CHECK_EQ(cr_log_category_by_name(cr_log_category_str(cats[i])), cats[i]);
		CHECK_EQ(cats[i] & (cats[i] - 1), 0);
		all |= cats[i];
	}
	CHECK_EQ(cr_log_category_by_name("all"), all);
	CHECK_EQ(all, CR_LOG_ALL);
	CHECK_EQ(cr_log_category_by_name("mempool"), 0);
	CHECK(strcmp(cr_log_category_str(CR_LOG_GENERAL), "") == 0);
	CHECK(strcmp(cr_log_category_str((enum cr_log_category)(1u << 20)), "?") == 0);
}

/* A raw TCP connection that never sends a version: its peer stays in the
 * handshake, so cr_send must refuse it the same way from any thread. */
static void test_engine_api_send_not_ready(void)
{
	struct rec ra;
	struct cr_config *ca = test_config(&ra, "A", TEST_BIND);
	struct cr_engine *a = NULL;
	CHECK_EQ(cr_engine_new(&a, ca), 0);
	cr_config_free(ca);
	CHECK_EQ(cr_engine_start(a), 0);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(cr_engine_port(a)) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK_EQ(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	uint64_t id = 0;
	CHECK(WAIT_FOR(cr_engine_peers(a, &id, 1) == 1, 5000));
	uint8_t x = 1;
	CHECK_EQ(cr_send(a, id, "hello", &x, 1), CR_E_NOT_READY);
	struct cr_msgbuf *m = cr_msgbuf_new(1);
	CHECK(m != NULL);
	if (m)
		CHECK_EQ(cr_send_buf(a, id, "hello", m), CR_E_NOT_READY);
	CHECK_EQ(cr_peer_writable(a, id), 1);
	/* snapshots copy as far as the caller's struct reaches */
	struct cr_peer_info info;
	memset(&info, 0xa5, sizeof info);
	CHECK_EQ(cr_peer_info(a, id, &info, offsetof(struct cr_peer_info, addr)), 0);
	CHECK_EQ(info.id, id);
	CHECK(info.inbound);
	CHECK_EQ(((uint8_t *)&info)[offsetof(struct cr_peer_info, addr)], 0xa5);
	struct cr_totals t;
	memset(&t, 0xa5, sizeof t);
	cr_engine_totals(a, &t, sizeof(uint64_t));
	CHECK_EQ(t.peers, 1);
	CHECK_EQ(t.inbound, 0xa5a5a5a5a5a5a5a5ull);
	cr_engine_stop(a);
	CHECK_EQ(cr_send(a, id, "hello", &x, 1), -ESHUTDOWN);
	cr_engine_free(a);
	close(fd);
}

int main(void)
{
	test_watchdog();
	RUN(test_engine_api_config_ranges);
	RUN(test_engine_api_config_addresses);
	RUN(test_engine_api_errors_and_names);
	RUN(test_engine_api_send_not_ready);
	return check_done();
}
