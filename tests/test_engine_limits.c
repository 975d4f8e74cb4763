/* Engine limits over loopback: the inbound-full rule, flood-size pausing,
 * the bound on a never-reading peer's send queue, Core's fPauseSend (no
 * input processed while the queue is full), the handshake's message limit,
 * a 1 MiB broadcast with no userspace payload copy, self-connection
 * detection, and a clean stop with traffic in flight. Gauges of held
 * memory and pools return to zero once peers are gone. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "engine_util.h"
#include "raw_peer.h"

/* Creates and starts an engine from c (freed here), recorded in r. */
static struct cr_engine *start(struct cr_config *c, struct rec *r)
{
	struct cr_engine *e = NULL;
	CHECK_EQ(cr_engine_new(&e, c), 0);
	cr_config_free(c);
	if (e)
		r->e = e;
	if (e)
		CHECK_EQ(cr_engine_start(e), 0);
	return e;
}

static void connect_to(struct cr_engine *from, struct cr_engine *to, unsigned flags)
{
	char hp[64];
	snprintf(hp, sizeof hp, "127.0.0.1:%u", cr_engine_port(to));
	CHECK_EQ(cr_connect(from, hp, flags), 0);
}

static void test_engine_inbound_full(void)
{
	struct rec ra, rb;
	struct cr_config *ca, *cb;
	ca = test_config(&ra, "A", TEST_BIND);
	cb = test_config(&rb, "B", NULL);
	CHECK_EQ(cr_config_set_max_connections(ca, 2), 0);
	CHECK_EQ(cr_config_set_outbound_slots(ca, 0), 0); /* inbound slots = 2 */
	struct cr_engine *a = start(ca, &ra), *b = start(cb, &rb);
	for (int i = 0; i < 3; i++)
		connect_to(b, a, CR_CONNECT_V1);
	CHECK(WAIT_FOR(rec_get(&ra, &ra.ready) == 2 && rec_get(&rb, &rb.closed) == 1, 10000));
	struct cr_totals t;
	cr_engine_totals(a, &t, sizeof t);
	CHECK_EQ(t.accept_refused, 1);
	CHECK_EQ(t.inbound, 2);
	CHECK_EQ(rec_get(&rb, &rb.ready), 2);
	CHECK(!rb.closed_was_ready[0]);
	/* a freed slot takes the next newcomer */
	CHECK_EQ(cr_disconnect(a, ra.ready_ids[0]), 0);
	CHECK(WAIT_FOR(rec_get(&ra, &ra.closed) == 1, 5000));
	connect_to(b, a, CR_CONNECT_V1);
	CHECK(WAIT_FOR(rec_get(&ra, &ra.ready) == 3, 5000));
	cr_engine_free(b);
	cr_engine_free(a);
}

static void test_engine_flood_pause(void)
{
	struct rec ra, rb;
	struct cr_config *ca, *cb;
	ca = test_config(&ra, "A", TEST_BIND);
	cb = test_config(&rb, "B", NULL);
	CHECK_EQ(cr_config_set_recv_flood_bytes(ca, 200000), 0);
	ra.hold = true;
	struct cr_engine *a = start(ca, &ra), *b = start(cb, &rb);
	connect_to(b, a, 0);
	CHECK(WAIT_FOR(rec_get(&ra, &ra.ready) == 1 && rec_get(&rb, &rb.ready) == 1, 10000));
	static uint8_t blob[50000];
	memset(blob, 0x5a, sizeof blob);
	for (int i = 0; i < 40; i++)
		CHECK_EQ(cr_send(b, rb.ready_ids[0], "blob", blob, sizeof blob), 0);
	struct cr_peer_info info;
	CHECK(WAIT_FOR(cr_peer_info(a, ra.ready_ids[0], &info, sizeof info) == 0 && info.recv_paused, 5000));
	sleep_ms(200);
	unsigned got = rec_get(&ra, &ra.msgs);
	sleep_ms(200);
	CHECK_EQ(rec_get(&ra, &ra.msgs), got); /* no progress while paused */
	CHECK(got < 40);
	CHECK(got >= 4); /* 200,000 bytes held before the pause */
	struct cr_totals t;
	cr_engine_totals(a, &t, sizeof t);
	CHECK(t.recv_pauses >= 1);
	/* the application catches up: receiving resumes */
	pthread_mutex_lock(&ra.mu);
	ra.hold = false;
	uint64_t held = ra.held;
	pthread_mutex_unlock(&ra.mu);
	CHECK_EQ(cr_recv_done(a, ra.ready_ids[0], held), 0);
	CHECK(WAIT_FOR(rec_get(&ra, &ra.msgs) == 40, 10000));
	CHECK_EQ(cr_peer_info(a, ra.ready_ids[0], &info, sizeof info), 0);
	CHECK(!info.recv_paused);
	cr_engine_free(b);
	cr_engine_free(a);
}

/* The hard bound: an application that ignores writability cannot grow a
 * never-reading peer's queue past send_queue_max_bytes; the peer is closed
 * with a reason, and nothing it held is left. (This test used to assert
 * that the queue passed send_buffer_bytes, the opposite of a bound.) */
static void test_engine_send_bound(void)
{
	struct rec ra;
	struct cr_config *ca = test_config(&ra, "A", TEST_BIND);
	const size_t max = 3000000;
	CHECK_EQ(cr_config_set_send_queue_max_bytes(ca, max), 0);
	struct cr_engine *a = start(ca, &ra);
	int fd = raw_connect_buf(cr_engine_port(a), 4096);
	raw_handshake(fd);
	CHECK(WAIT_FOR(rec_get(&ra, &ra.ready) == 1, 5000));
	uint64_t id = ra.ready_ids[0];
	CHECK_EQ(ra.ready_info[0].transport, 1);
	CHECK(strcmp(ra.ready_info[0].user_agent, "/raw:1") == 0);
	CHECK_EQ(cr_peer_writable(a, id), 1);
	static uint8_t blob[100000];
	size_t seen_max = 0;
	bool was_unwritable = false;
	int sent = 0;
	for (int i = 0; i < 400 && rec_get(&ra, &ra.closed) == 0; i++) {
		if (cr_send(a, id, "blob", blob, sizeof blob) != 0)
			break;
		sent++;
		struct cr_peer_info info;
		if (cr_peer_info(a, id, &info, sizeof info) == 0) {
			if (info.send_queue_bytes > seen_max)
				seen_max = info.send_queue_bytes;
			was_unwritable |= !info.writable;
		}
	}
	CHECK(WAIT_FOR(rec_get(&ra, &ra.closed) == 1, 5000));
	printf("  %d sends taken, queue at most %zu bytes (bound %zu)\n", sent, seen_max, max);
	CHECK(seen_max <= max);
	CHECK(was_unwritable);
	CHECK_EQ(ra.closed_reason[0], CR_CLOSE_RESOURCES);
	struct cr_totals t;
	cr_engine_totals(a, &t, sizeof t);
	CHECK_EQ(t.send_limit_closes, 1);
	check_nothing_held(a, "send bound");
	cr_engine_free(a);
	close(fd);
}

/* Reads whatever is there without blocking; returns bytes read. */
static size_t drain_some(int fd)
{
	static uint8_t buf[65536];
	size_t got = 0;
	ssize_t n;
	while ((n = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0)
		got += (size_t)n;
	return got;
}

static uint32_t stat_of(const struct cr_peer_info *i, const char *cmd, bool sent)
{
	for (unsigned k = 0; k < i->nmsg_stats; k++)
		if (strcmp(i->msg_stats[k].command, cmd) == 0)
			return sent ? i->msg_stats[k].msgs_sent : i->msg_stats[k].msgs_recv;
	return 0;
}

/* The kernel's largest TCP send buffer (tcp_wmem's third field; 4 MiB
 * when it cannot be read). */
static size_t tcp_wmem_max(void)
{
	unsigned long lo, def, max = 4u << 20;
	FILE *f = fopen("/proc/sys/net/ipv4/tcp_wmem", "r");
	if (f) {
		if (fscanf(f, "%lu %lu %lu", &lo, &def, &max) != 3)
			max = 4u << 20;
		fclose(f);
	}
	return max;
}

/* Core's fPauseSend: once a peer's queue is past send_buffer_bytes the
 * engine processes none of its input (its pings get no pongs, so a peer
 * that never reads cannot grow our queue by asking), and picks up where it
 * stopped, in order, once the peer reads. */
static void test_engine_pause_send(void)
{
	struct rec ra;
	struct cr_config *ca = test_config(&ra, "A", TEST_BIND);
	CHECK_EQ(cr_config_set_send_buffer_bytes(ca, 100000), 0);
	CHECK_EQ(cr_config_set_send_queue_max_bytes(ca, 64u << 20), 0);
	struct cr_engine *a = start(ca, &ra);
	int fd = raw_connect_buf(cr_engine_port(a), 4096);
	raw_handshake(fd);
	CHECK(WAIT_FOR(rec_get(&ra, &ra.ready) == 1, 5000));
	uint64_t id = ra.ready_ids[0];
	static uint8_t blob[50000];
	/* fill the kernel's buffers, then our queue past send_buffer_bytes:
	 * the kernel's send buffer may grow to tcp_wmem's maximum, so send
	 * that and 1 MB more; whatever the kernel took, our queue then stays
	 * above the 100,000-byte send buffer until the peer reads */
	size_t total = tcp_wmem_max() + 1000000, sent = 0;
	for (; sent < total; sent += sizeof blob)
		CHECK_EQ(cr_send(a, id, "blob", blob, sizeof blob), 0);
	CHECK(WAIT_FOR(cr_peer_writable(a, id) == 0, 5000));
	struct cr_peer_info before, after;
	CHECK_EQ(cr_peer_info(a, id, &before, sizeof before), 0);
	/* 3,000 pings (96 KB) from the peer that does not read */
	const int pings = 3000;
	for (int i = 0; i < pings; i++) {
		uint8_t nonce[8];
		memcpy(nonce, &i, sizeof i);
		memset(nonce + 4, 0x77, 4);
		raw_send(fd, "ping", nonce, 8);
	}
	/* wait until the worker has seen the pings and paused (a busy machine
	 * may take longer than any fixed sleep), then give it 300 ms in which
	 * a wrong engine would answer some */
	struct cr_totals t;
	CHECK(WAIT_FOR((cr_engine_totals(a, &t, sizeof t), t.recv_send_pauses >= 1) &&
			       cr_peer_info(a, id, &after, sizeof after) == 0 && after.recv_paused,
		       10000));
	sleep_ms(300);
	CHECK_EQ(cr_peer_info(a, id, &after, sizeof after), 0);
	cr_engine_totals(a, &t, sizeof t);
	printf("  queue %zu -> %zu bytes, pongs %u -> %u while paused, %llu pauses\n",
	       before.send_queue_bytes, after.send_queue_bytes, stat_of(&before, "pong", true),
	       stat_of(&after, "pong", true), (unsigned long long)t.recv_send_pauses);
	CHECK(t.recv_send_pauses >= 1);
	CHECK_EQ(stat_of(&after, "pong", true), stat_of(&before, "pong", true));
	CHECK(after.send_queue_bytes <= before.send_queue_bytes);
	CHECK(after.recv_paused);
	/* the peer reads: every ping is answered, in the end */
	bool all = false;
	for (int k = 0; k < 1000 && !all; k++) {
		drain_some(fd);
		CHECK_EQ(cr_peer_info(a, id, &after, sizeof after), 0);
		all = stat_of(&after, "pong", true) >= stat_of(&before, "pong", true) + (uint32_t)pings;
		if (!all)
			sleep_ms(10);
	}
	CHECK(all);
	CHECK_EQ(stat_of(&after, "ping", false), stat_of(&before, "ping", false) + (uint32_t)pings);
	CHECK_EQ(rec_get(&ra, &ra.closed), 0);
	close(fd);
	check_nothing_held(a, "pause send");
	cr_engine_free(a);
}

static void test_engine_raw_faults(void)
{
	struct rec ra;
	struct cr_config *ca;
	ca = test_config(&ra, "A", TEST_BIND);
	CHECK_EQ(cr_config_set_handshake_timeout_ms(ca, 300), 0);
	struct cr_engine *a = start(ca, &ra);
	uint16_t port = cr_engine_port(a);
	/* garbage: not V1, so taken for a V2 key, and no garbage terminator
	 * within 4095 bytes (BIP324) */
	int g = raw_connect(port);
	static uint8_t junk[64 + 4095 + 16 + 100];
	memset(junk, 'G', sizeof junk);
	CHECK_EQ(write(g, junk, sizeof junk), (ssize_t)sizeof junk);
	/* oversized length: a header declaring 4,000,001 bytes */
	int o = raw_connect(port);
	raw_handshake(o);
	uint8_t hdr[CR_V1_HEADER_SIZE];
	cr_v1_encode_header(hdr, cr_chain_get(CR_CHAIN_REGTEST)->magic, "blob", NULL, 0);
	cr_put_le32(hdr + 16, CR_V1_MAX_PAYLOAD + 1);
	/* before the handshake, a length a version exchange does not need */
	int big = raw_connect(port);
	uint8_t bhdr[CR_V1_HEADER_SIZE];
	cr_v1_encode_header(bhdr, cr_chain_get(CR_CHAIN_REGTEST)->magic, "version", NULL, 0);
	cr_put_le32(bhdr + 16, 100000);
	CHECK_EQ(write(big, bhdr, sizeof bhdr), (ssize_t)sizeof bhdr);
	/* handshake timeout: says nothing */
	int s = raw_connect(port);
	CHECK(WAIT_FOR(rec_get(&ra, &ra.ready) == 1, 5000));
	/* a bad checksum only drops that message (Core); then the bad length */
	uint8_t bad[CR_V1_HEADER_SIZE + 4] = { 0 };
	cr_v1_encode_header(bad, cr_chain_get(CR_CHAIN_REGTEST)->magic, "hello", (const uint8_t *)"abcd", 4);
	bad[20] ^= 1;
	memcpy(bad + CR_V1_HEADER_SIZE, "abcd", 4);
	CHECK_EQ(write(o, bad, sizeof bad), (ssize_t)sizeof bad);
	raw_send(o, "hello", (const uint8_t *)"ok", 2);
	CHECK(WAIT_FOR(rec_get(&ra, &ra.msgs) == 1, 5000));
	CHECK_EQ(write(o, hdr, sizeof hdr), (ssize_t)sizeof hdr);
	CHECK(WAIT_FOR(rec_get(&ra, &ra.closed) == 4, 5000));
	unsigned proto = 0, timeout = 0;
	for (unsigned i = 0; i < 4; i++) {
		proto += ra.closed_reason[i] == CR_CLOSE_PROTOCOL;
		timeout += ra.closed_reason[i] == CR_CLOSE_HANDSHAKE_TIMEOUT;
	}
	CHECK_EQ(proto, 3);
	CHECK_EQ(timeout, 1);
	/* each was closed by the engine: reads see EOF */
	char c;
	CHECK_EQ(read(s, &c, 1), 0);
	close(g);
	close(o);
	close(s);
	close(big);
	check_nothing_held(a, "raw faults");
	cr_engine_free(a);
}

/* One 1 MiB broadcast to two V1 peers and a V2 peer. With zc_loopback the
 * shared V1 buffer goes zero-copy; by default loopback peers get plain
 * sends (the kernel would copy them anyway). */
static void broadcast_zero_copy(bool zc_loopback)
{
	struct rec ra, rb;
	struct cr_config *ca, *cb;
	ca = test_config(&ra, "A", TEST_BIND);
	CHECK_EQ(cr_config_set_zc_loopback(ca, zc_loopback), 0);
	cb = test_config(&rb, "B", NULL);
	/* 32 KiB of receive buffers for three 1 MiB messages arriving at once:
	 * the ring runs dry whatever the timing (it used to be 256 KiB, which
	 * a quick switch to direct receive could get by with) */
	CHECK_EQ(cr_config_set_recv_buf_count(cb, 2), 0);
	struct cr_engine *a = start(ca, &ra), *b = start(cb, &rb);
	connect_to(b, a, CR_CONNECT_V1);
	connect_to(b, a, CR_CONNECT_V1);
	connect_to(b, a, 0); /* V2 */
	CHECK(WAIT_FOR(rec_get(&ra, &ra.ready) == 3 && rec_get(&rb, &rb.ready) == 3, 10000));
	struct cr_msgbuf *m = cr_msgbuf_new(1 << 20);
	CHECK(m != NULL);
	uint8_t *d = cr_msgbuf_data(m);
	for (size_t i = 0; i < (1u << 20); i++)
		d[i] = (uint8_t)(i >> 8);
	CHECK_EQ(cr_broadcast_buf(a, NULL, 0, "block", m), 0);
	CHECK(WAIT_FOR(rec_get(&rb, &rb.msgs) == 3, 10000));
	CHECK_EQ(rb.msg_bytes, 3u << 20);
	CHECK_EQ(rb.first_byte, 0);
	CHECK_EQ(rb.last_byte, 0xff);
	uint64_t sum = 0;
	for (size_t i = 0; i < (1u << 20); i++)
		sum += (uint64_t)(uint8_t)(i >> 8) * (i % 251 + 1);
	CHECK_EQ(rb.sum, 3 * sum); /* every byte arrived intact at every peer */
	struct cr_totals t, tb;
	cr_engine_totals(b, &tb, sizeof tb);
	/* the V1 peers took part of the payload straight into place (on
	 * loopback much of it is already in the socket when the header is
	 * parsed, and the multishot recv takes that into the ring) */
	CHECK(tb.recv_enobufs > 0); /* the tiny ring ran dry and recv re-armed */
	CHECK(tb.recv_direct_bytes > 0);
	cr_engine_totals(a, &t, sizeof t);
	CHECK_EQ(t.payload_copy_bytes, 0);
	if (zc_loopback)
		CHECK(t.send_zc >= 2); /* the V1 peers' shared buffer went zero-copy */
	else
		CHECK_EQ(t.send_zc, 0);
	cr_engine_free(b);
	cr_engine_free(a);
}

static void test_engine_broadcast_zero_copy(void)
{
	broadcast_zero_copy(true);
}

static void test_engine_broadcast_no_zc_on_loopback(void)
{
	broadcast_zero_copy(false);
}

static void test_engine_self_connect(void)
{
	struct rec ra;
	struct cr_config *ca;
	ca = test_config(&ra, "A", TEST_BIND);
	struct cr_engine *a = start(ca, &ra);
	connect_to(a, a, CR_CONNECT_V1);
	CHECK(WAIT_FOR(rec_get(&ra, &ra.closed) == 2, 5000));
	bool self = ra.closed_reason[0] == CR_CLOSE_SELF || ra.closed_reason[1] == CR_CLOSE_SELF;
	CHECK(self);
	CHECK_EQ(rec_get(&ra, &ra.ready), 0);
	cr_engine_free(a);
}

static void test_engine_stop_in_flight(void)
{
	struct rec ra, rb;
	struct cr_config *ca, *cb;
	ca = test_config(&ra, "A", TEST_BIND);
	cb = test_config(&rb, "B", NULL);
	CHECK_EQ(cr_config_set_stop_flush_ms(cb, 200), 0);
	struct cr_engine *a = start(ca, &ra), *b = start(cb, &rb);
	for (int i = 0; i < 4; i++)
		connect_to(b, a, i % 2 ? CR_CONNECT_V1 : 0);
	CHECK(WAIT_FOR(rec_get(&rb, &rb.ready) == 4, 10000));
	static uint8_t blob[300000];
	for (int k = 0; k < 5; k++)
		for (unsigned i = 0; i < 4; i++)
			cr_send(b, rb.ready_ids[i], "blob", blob, sizeof blob);
	cr_engine_free(b); /* mid-message for some peers */
	CHECK_EQ(rb.closed, 4);
	CHECK(WAIT_FOR(rec_get(&ra, &ra.closed) == 4, 5000));
	cr_engine_free(a);
}

int main(void)
{
	test_watchdog();
	RUN(test_engine_inbound_full);
	RUN(test_engine_flood_pause);
	RUN(test_engine_send_bound);
	RUN(test_engine_pause_send);
	RUN(test_engine_raw_faults);
	RUN(test_engine_broadcast_zero_copy);
	RUN(test_engine_broadcast_no_zc_on_loopback);
	RUN(test_engine_self_connect);
	RUN(test_engine_stop_in_flight);
	return check_done();
}
