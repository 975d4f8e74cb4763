/* The added-node and network-activity calls (cr_addnode, cr_removenode,
 * cr_added_nodes, cr_set_network_active, cr_network_active) between two
 * engines on loopback: an added node connects and is listed connected;
 * Core's refusals (added twice, by text or by address; removing what was
 * not added; a name without a proxy); a removed node's entry comes back
 * when added again; with the network inactive every peer closes, a new
 * inbound connection is closed before any byte and the added node does
 * not reconnect until it is active again. The list's bounds: at most
 * CR_ADDED_NODES_MAX added, a removed node's own tombstone included, and
 * adding and removing distinct nodes reuses the entries no peer names;
 * cr_node_addresses refuses a network id past CR_ADDR_NETS. */
#include "check.h"
#include "engine/internal.h"
#include "engine_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* A raw TCP connection to port: true when it was closed before a byte. */
static bool closed_silently(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct timeval tv = { .tv_sec = 5 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	bool silent = false;
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
		uint8_t b[24];
		ssize_t n = recv(fd, b, sizeof b, 0);
		silent = n == 0 || (n < 0 && errno == ECONNRESET);
	}
	close(fd);
	return silent;
}

static bool listed_connected(struct cr_engine *e, const char *hp)
{
	struct cr_added_node a[4];
	int n = cr_added_nodes(e, a, 4);
	return n == 1 && strcmp(a[0].addednode, hp) == 0 && a[0].connected;
}

static void test_engine_netctl(void)
{
	struct rec ra, rb;
	struct cr_config *ca = test_config(&ra, "A", TEST_BIND), *cb = test_config(&rb, "B", NULL);
	CHECK_EQ(cr_config_set_manual_retry_ms(cb, 50), 0);
	CHECK_EQ(cr_config_set_manual_retry_max_ms(cb, 200), 0);
	struct cr_engine *a = NULL, *b = NULL;
	CHECK_EQ(cr_engine_new(&a, ca), 0);
	CHECK_EQ(cr_engine_new(&b, cb), 0);
	cr_config_free(ca);
	cr_config_free(cb);
	CHECK_EQ(cr_engine_start(a), 0);
	CHECK_EQ(cr_engine_start(b), 0);
	char hp[64], same[64];
	snprintf(hp, sizeof hp, "127.0.0.1:%u", cr_engine_port(a));
	snprintf(same, sizeof same, "[::ffff:127.0.0.1]:%u", cr_engine_port(a));

	struct cr_added_node none[1];
	CHECK_EQ(cr_added_nodes(b, none, 1), 0);
	CHECK_EQ(cr_addnode(b, hp), 0);
	CHECK_EQ(cr_addnode(b, hp), -EEXIST);
	CHECK_EQ(cr_addnode(b, same), -EEXIST); /* the same address in other words */
	CHECK_EQ(cr_addnode(b, "no.such.name:8333"), CR_E_BAD_ADDRESS);
	CHECK_EQ(cr_removenode(b, "127.0.0.1:1"), -ENOENT);
	/* the coordinator may hear of the handshake before B's callback ran */
	CHECK(WAIT_FOR(listed_connected(b, hp) && rec_get(&rb, &rb.ready) == 1, 5000));
	CHECK(WAIT_FOR(rec_get(&ra, &ra.ready) == 1, 5000));
	pthread_mutex_lock(&rb.mu);
	CHECK_EQ(rb.ready_info[0].conn_type, CR_CONN_MANUAL);
	pthread_mutex_unlock(&rb.mu);

	/* removed: not listed, its connection stays (Core); back when added */
	CHECK_EQ(cr_removenode(b, hp), 0);
	CHECK_EQ(cr_removenode(b, hp), -ENOENT);
	CHECK_EQ(cr_added_nodes(b, none, 1), 0);
	CHECK_EQ(rec_get(&rb, &rb.closed), 0u);
	CHECK_EQ(cr_addnode(b, hp), 0);
	CHECK(WAIT_FOR(listed_connected(b, hp), 5000));

	/* inactive: peers closed, newcomers refused, nothing reconnects */
	CHECK(cr_network_active(a));
	CHECK_EQ(cr_set_network_active(a, false), 0);
	CHECK(!cr_network_active(a));
	CHECK(WAIT_FOR(rec_get(&ra, &ra.closed) == 1 && rec_get(&rb, &rb.closed) == 1, 5000));
	pthread_mutex_lock(&ra.mu);
	CHECK_EQ(ra.closed_reason[0], CR_CLOSE_LOCAL);
	pthread_mutex_unlock(&ra.mu);
	CHECK(closed_silently(cr_engine_port(a)));
	CHECK_EQ(cr_set_network_active(b, false), 0);
	sleep_ms(300); /* B's manual entry would be retried every 50-200 ms */
	CHECK_EQ(rec_get(&rb, &rb.ready), 1u);
	CHECK(!listed_connected(b, hp));
	/* active again: B's entry reconnects at once, A takes it */
	CHECK_EQ(cr_set_network_active(a, true), 0);
	CHECK_EQ(cr_set_network_active(b, true), 0);
	CHECK(cr_network_active(a) && cr_network_active(b));
	CHECK(WAIT_FOR(listed_connected(b, hp) && rec_get(&ra, &ra.ready) == 2, 5000));
	cr_engine_free(b);
	cr_engine_free(a);
}

/* Fills L's list with nodes where nothing listens (retried only after a
 * minute) and one connected to A, whose tombstone stays when removed. */
static void test_added_cap(void)
{
	struct rec ra, rl;
	struct cr_config *ca = test_config(&ra, "A", TEST_BIND), *cl = test_config(&rl, "L", NULL);
	CHECK_EQ(cr_config_set_manual_retry_ms(cl, 60000), 0);
	CHECK_EQ(cr_config_set_manual_retry_max_ms(cl, 60000), 0);
	struct cr_engine *a = NULL, *e = NULL;
	CHECK_EQ(cr_engine_new(&a, ca), 0);
	CHECK_EQ(cr_engine_new(&e, cl), 0);
	cr_config_free(ca);
	cr_config_free(cl);
	CHECK_EQ(cr_engine_start(a), 0);
	CHECK_EQ(cr_engine_start(e), 0);
	char hp[64], up[64];
	snprintf(up, sizeof up, "127.0.0.1:%u", cr_engine_port(a));
	CHECK_EQ(cr_addnode(e, up), 0);
	CHECK(WAIT_FOR(rec_get(&rl, &rl.ready) == 1, 5000));
	for (unsigned i = 1; i < CR_ADDED_NODES_MAX; i++) {
		snprintf(hp, sizeof hp, "127.0.%u.%u:1", i / 256, i % 256);
		CHECK_EQ(cr_addnode(e, hp), 0);
	}
	CHECK_EQ(cr_addnode(e, "127.9.9.9:1"), -ENOSPC);
	/* the connected node's tombstone does not get past the cap */
	CHECK_EQ(cr_removenode(e, up), 0);
	CHECK_EQ(cr_addnode(e, "127.9.9.9:1"), 0);
	CHECK_EQ(cr_addnode(e, up), -ENOSPC);
	static struct cr_added_node all[CR_ADDED_NODES_MAX + 1];
	CHECK_EQ(cr_added_nodes(e, all, CR_ADDED_NODES_MAX + 1), CR_ADDED_NODES_MAX);
	cr_engine_free(e);
	cr_engine_free(a);
}

/* With the network inactive nothing connects, so a removed entry is idle
 * at once. e->co.nmanual is read after a call the coordinator answered
 * (its write happens before the answer). */
static void test_added_reuse(void)
{
	struct rec r;
	struct cr_config *cfg = test_config(&r, "L", NULL);
	struct cr_engine *e = NULL;
	CHECK_EQ(cr_engine_new(&e, cfg), 0);
	cr_config_free(cfg);
	CHECK_EQ(cr_engine_start(e), 0);
	CHECK_EQ(cr_set_network_active(e, false), 0);
	char hp[64];
	for (unsigned i = 0; i < CR_ADDED_NODES_MAX; i++) {
		snprintf(hp, sizeof hp, "127.0.%u.%u:1", i / 256, i % 256);
		CHECK_EQ(cr_addnode(e, hp), 0);
	}
	CHECK_EQ(e->co.nmanual, (unsigned)CR_ADDED_NODES_MAX);
	for (unsigned i = 0; i < 2 * CR_ADDED_NODES_MAX; i++) {
		snprintf(hp, sizeof hp, "127.1%u.%u.%u:2", i / 65536, i / 256 % 256, i % 256);
		CHECK_EQ(cr_removenode(e, "127.0.0.0:1"), 0);
		CHECK_EQ(cr_addnode(e, hp), 0);
		CHECK_EQ(cr_addnode(e, "127.0.0.0:1"), -ENOSPC);
		CHECK_EQ(cr_removenode(e, hp), 0);
		CHECK_EQ(cr_addnode(e, "127.0.0.0:1"), 0);
	}
	CHECK_EQ(e->co.nmanual, (unsigned)CR_ADDED_NODES_MAX);
	static struct cr_added_node all[CR_ADDED_NODES_MAX + 1];
	CHECK_EQ(cr_added_nodes(e, all, CR_ADDED_NODES_MAX + 1), CR_ADDED_NODES_MAX);
	/* cr_node_addresses' network id names a bit: one past the ids is refused */
	struct cr_addr_entry a[2];
	CHECK(cr_node_addresses(e, a, 2, CR_ADDR_NETS - 1) >= 0);
	CHECK_EQ(cr_node_addresses(e, a, 2, CR_ADDR_NETS), -EINVAL);
	CHECK_EQ(cr_node_addresses(e, a, 2, 40), -EINVAL);
	cr_engine_free(e);
}

int main(void)
{
	test_watchdog();
	RUN(test_engine_netctl);
	RUN(test_added_cap);
	RUN(test_added_reuse);
	return check_done();
}
