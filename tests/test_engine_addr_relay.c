/* Address relay through the coordinator on real loopback sockets (Bitcoin
 * Core's rules): a small fresh addr message reaches 2 other peers with
 * address relay (a reachable address goes to 2), never the sender and
 * never a block-relay-only peer; getaddr from an inbound peer is answered
 * once per connection, from the cache (the same answer for the next
 * peer), at most 1,000 and 23% of the address manager; a flood of big
 * addr messages from many peers keeps the address mail between threads
 * under its cap (2 MiB per worker) and the engine answering. */
#include <pthread.h>
#include <stdatomic.h>

#include "check.h"
#include "engine_util.h"
#include "raw_peer.h"
#include "addr_peer.h"
#include "engine/internal.h"
#include "engine/policy/addrrelay.h"

#define MAIL_CAP_PER_WORKER (2u << 20)

static struct cr_engine *start(struct rec *r, const char *name, bool addr_perm)
{
	struct cr_config *c = test_config(r, name, TEST_BIND);
	CHECK_EQ(cr_config_set_addr_send_interval_ms(c, 20), 0);
	if (addr_perm)
		CHECK_EQ(cr_config_add_whitelist(c, "addr@127.0.0.1"), 0);
	struct cr_engine *e = NULL;
	CHECK_EQ(cr_engine_new(&e, c), 0);
	cr_config_free(c);
	CHECK_EQ(cr_engine_start(e), 0);
	return e;
}



static void test_engine_addr_relay_peers(void)
{
	struct rec r;
	struct cr_engine *e = start(&r, "R", false);
	uint16_t port;
	int lfd = ap_listen(&port);
	int x = ap_outbound(e, &r, lfd, port, CR_CONN_BLOCK_RELAY, NULL);
	int s = ap_inbound(e, &r);
	int peer[3];
	for (int i = 0; i < 3; i++) {
		peer[i] = ap_inbound(e, &r);
		/* an inbound peer relays addresses from its first address
		 * message: a getaddr here */
		raw_send(peer[i], "getaddr", NULL, 0);
		CHECK_EQ(ap_barrier(peer[i], NULL, NULL, 5000), 1);
	}
	ap_send_addrs(s, 77, 1, ap_time_now());
	CHECK_EQ(ap_barrier(s, NULL, NULL, 5000), 1);
	struct cr_totals t;
	CHECK(WAIT_FOR((t = ap_totals(e)).addrs_relayed == 2 && t.addrs_sent >= 2, 10000));
	size_t got = 0;
	unsigned reached = 0;
	for (int i = 0; i < 3; i++) {
		size_t n = 0;
		CHECK_EQ(ap_barrier(peer[i], NULL, &n, 5000), 1);
		reached += n > 0;
		got += n;
	}
	printf("  relayed to %u of 3 peers\n", reached);
	CHECK_EQ(reached, 2);
	CHECK_EQ(got, 2);
	/* never back to the sender, never to the block-relay-only peer */
	unsigned addr_msgs = 0;
	CHECK_EQ(ap_barrier(s, &addr_msgs, NULL, 5000), 1);
	CHECK_EQ(ap_barrier(x, &addr_msgs, NULL, 5000), 1);
	CHECK_EQ(addr_msgs, 0);
	/* an old address is stored, not relayed (from a peer that still has
	 * its first token: the sender spent its own) */
	ap_send_addrs(peer[0], 78, 1, ap_time_now() - 3600);
	CHECK_EQ(ap_barrier(peer[0], NULL, NULL, 5000), 1);
	CHECK(WAIT_FOR(ap_totals(e).addrman_size >= 2, 5000));
	CHECK_EQ(ap_totals(e).addrs_relayed, 2);
	cr_engine_free(e);
	for (int i = 0; i < 3; i++)
		close(peer[i]);
	close(s);
	close(x);
	close(lfd);
}

/* Reads the answer to a getaddr: its entry count, or -1 when none came
 * before the barrier. */
static long getaddr_answer(int fd)
{
	raw_send(fd, "getaddr", NULL, 0);
	unsigned msgs = 0;
	size_t n = 0;
	CHECK_EQ(ap_barrier(fd, &msgs, &n, 5000), 1);
	return msgs ? (long)n : -1;
}

static void test_engine_addr_getaddr_once(void)
{
	struct rec r;
	struct cr_engine *e = start(&r, "G", false);
	uint16_t port;
	int lfd = ap_listen(&port);
	/* an outbound peer's answer fills the address manager */
	int o = ap_outbound(e, &r, lfd, port, CR_CONN_OUTBOUND_FULL_RELAY, NULL);
	CHECK_EQ(ap_wait_cmd(o, "getaddr", NULL, NULL, 5000), 1);
	ap_send_addrs(o, 0, 1000, ap_time_now() - 3600);
	struct cr_totals t;
	CHECK(WAIT_FOR((t = ap_totals(e)).addrman_size >= 500, 5000));
	int a = ap_inbound(e, &r), b = ap_inbound(e, &r);
	long n = getaddr_answer(a);
	printf("  answer: %ld of %llu addresses\n", n, (unsigned long long)t.addrman_size);
	CHECK(n > 0);
	CHECK(n <= 1000 && (uint64_t)n <= t.addrman_size * 23 / 100 + 1);
	CHECK_EQ(getaddr_answer(a), -1); /* once per connection */
	/* the next peer through the same network and address: the cache */
	CHECK_EQ(getaddr_answer(b), n);
	CHECK_EQ(ap_totals(e).getaddr_answered, 2);
	cr_engine_free(e);
	close(a);
	close(b);
	close(o);
	close(lfd);
}

/* Our own address (external_ip) goes to every peer with address relay,
 * inbound and outbound, at its first send time; never to a
 * block-relay-only peer. */
static bool has_addr(const uint8_t *p, size_t len, const struct cr_peeraddr *want)
{
	struct cr_peeraddr v[1000];
	struct cr_addr_list l = { .entries = v, .cap = 1000 };
	if (cr_msg_addr_decode(&l, p, len) != 0)
		return false;
	for (size_t i = 0; i < l.count; i++)
		if (!memcmp(&v[i].na, &want->na, sizeof want->na) && v[i].port == want->port)
			return true;
	return false;
}

static bool wait_self(int fd, const struct cr_peeraddr *self)
{
	for (int i = 0; i < 20; i++) {
		uint8_t *p = NULL;
		size_t len = 0;
		if (ap_wait_cmd(fd, "addr", &p, &len, 5000) != 1)
			return false;
		bool ok = has_addr(p, len, self);
		free(p);
		if (ok)
			return true;
	}
	return false;
}

static void test_engine_addr_self_advertised(void)
{
	struct rec r;
	struct cr_config *c = test_config(&r, "S", TEST_BIND);
	CHECK_EQ(cr_config_set_addr_send_interval_ms(c, 20), 0);
	CHECK_EQ(cr_config_set_external_ip(c, "11.99.0.1:18444"), 0);
	CHECK_EQ(cr_config_set_external_ip(c, "not an address"), CR_E_BAD_ADDRESS);
	struct cr_engine *e = NULL;
	CHECK_EQ(cr_engine_new(&e, c), 0);
	cr_config_free(c);
	CHECK_EQ(cr_engine_start(e), 0);
	struct cr_peeraddr self = ap_addr(0, 0);
	self.na.addr[1] = 99;
	uint16_t port;
	int lfd = ap_listen(&port);
	int x = ap_outbound(e, &r, lfd, port, CR_CONN_BLOCK_RELAY, NULL);
	int o = ap_outbound(e, &r, lfd, port, CR_CONN_OUTBOUND_FULL_RELAY, NULL);
	CHECK(wait_self(o, &self));
	int in = ap_inbound(e, &r);
	raw_send(in, "getaddr", NULL, 0);
	CHECK(wait_self(in, &self));
	unsigned addr_msgs = 0;
	CHECK_EQ(ap_barrier(x, &addr_msgs, NULL, 5000), 1);
	CHECK_EQ(addr_msgs, 0);
	cr_engine_free(e);
	close(x);
	close(o);
	close(in);
	close(lfd);
}

/* Holds every worker's address mail budget (as mail in flight would),
 * up to less than the smallest mail's room; release_last_per_worker then
 * gives each worker room for one small mail, less than any getaddr
 * answer or batch of entries needs. */
struct held {
	struct cr_mail *m[4096];
	size_t n;
};

static void hold_all(struct cr_engine *e, struct held *h)
{
	for (unsigned wi = 0; wi < e->nworkers; wi++) {
		for (size_t big = 1000;; big = 0) {
			struct cr_mail *c;
			while (h->n < 4096 && (c = cr__addr_mail_new(e, MAIL_ADDR_SEND, (uint64_t)wi << 56, big, 0)))
				h->m[h->n++] = c;
			if (!big)
				break;
		}
	}
}

static void release_last_per_worker(struct cr_engine *e, struct held *h)
{
	for (unsigned wi = 0; wi < e->nworkers; wi++)
		for (size_t i = h->n; i-- > 0;)
			if (h->m[i] && cr__id_worker(h->m[i]->peer) == wi) {
				cr__addr_mail_done(e, h->m[i]);
				h->m[i] = NULL;
				break;
			}
}

static void release_all(struct cr_engine *e, struct held *h)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->m[i])
			cr__addr_mail_done(e, h->m[i]);
	h->n = 0;
}

struct sampler {
	struct cr_engine *e;
	atomic_bool stop;
	uint64_t max_mail;
};

static void *sample(void *arg)
{
	struct sampler *s = arg;
	while (!atomic_load(&s->stop)) {
		struct cr_totals t = ap_totals(s->e);
		if (t.addr_mail_bytes > s->max_mail)
			s->max_mail = t.addr_mail_bytes;
		sleep_ms(1);
	}
	return NULL;
}

/* Peers with the addr permission (no token bucket) send 1,000-entry
 * messages as fast as the engine takes them. */
static void test_engine_addr_flood_bounded(void)
{
	struct rec r;
	struct cr_engine *e = start(&r, "M", true);
	enum { PEERS = 8, MSGS = 20 };
	int fd[PEERS];
	for (int i = 0; i < PEERS; i++)
		fd[i] = ap_inbound(e, &r);
	struct sampler s = { .e = e };
	pthread_t th;
	CHECK_EQ(pthread_create(&th, NULL, sample, &s), 0);
	/* the first round meets budgets already full (whether the flood
	 * itself fills them depends on the threads' speeds) */
	static struct held h;
	hold_all(e, &h);
	for (int i = 0; i < PEERS; i++) {
		ap_send_addrs(fd[i], (uint32_t)i * MSGS * 1000, 1000, ap_time_now() - 3600);
		CHECK_EQ(ap_barrier(fd[i], NULL, NULL, 5000), 1);
	}
	CHECK(ap_totals(e).addrs_mail_dropped >= (uint64_t)PEERS * 1000);
	release_all(e, &h);
	for (int m = 1; m < MSGS; m++)
		for (int i = 0; i < PEERS; i++)
			ap_send_addrs(fd[i], (uint32_t)(i * MSGS + m) * 1000, 1000, ap_time_now() - 3600);
	for (int i = 0; i < PEERS; i++)
		CHECK_EQ(ap_barrier(fd[i], NULL, NULL, 20000), 1);
	CHECK(WAIT_FOR(ap_totals(e).addr_mail_bytes == 0, 10000));
	atomic_store(&s.stop, true);
	pthread_join(th, NULL);
	struct cr_totals t = ap_totals(e);
	printf("  %llu entries in, %llu dropped at the mail cap, %llu added; mail in flight at most %llu bytes\n",
	       (unsigned long long)t.addrs_received, (unsigned long long)t.addrs_mail_dropped,
	       (unsigned long long)t.addrs_added, (unsigned long long)s.max_mail);
	CHECK_EQ(t.addrs_received, (uint64_t)PEERS * MSGS * 1000);
	CHECK(t.addrs_mail_dropped > 0);
	CHECK(s.max_mail <= (uint64_t)cr_engine_workers(e) * MAIL_CAP_PER_WORKER);
	/* each worker's own cap, from its high-water mark */
	CHECK(t.addr_mail_peak > 0 && t.addr_mail_peak <= MAIL_CAP_PER_WORKER);
	CHECK(t.addrman_size <= t.addrs_received);
	/* still answering */
	int late = ap_inbound(e, &r);
	CHECK_EQ(ap_barrier(late, NULL, NULL, 5000), 1);
	cr_engine_free(e);
	for (int i = 0; i < PEERS; i++)
		close(fd[i]);
	close(late);
}

/* Many peers (the addr permission: no per-peer bucket) send small fresh
 * addr messages, all relayable: past the engine-wide bucket they are
 * stored, not relayed, and counted; what was relayed stays within the
 * bucket (its burst plus its rate for the time the test ran, 2
 * destinations each). */
static void test_engine_addr_relay_bounded(void)
{
	struct rec r;
	uint64_t t0 = ap_now_ms();
	struct cr_engine *e = start(&r, "K", true);
	enum { PEERS = 8, MSGS = 40, PER = 10 };
	int fd[PEERS];
	for (int i = 0; i < PEERS; i++) {
		fd[i] = ap_inbound(e, &r);
		/* relay on for each first, so that every address has
		 * destinations whatever order the workers read in */
		raw_send(fd[i], "getaddr", NULL, 0);
		CHECK_EQ(ap_barrier(fd[i], NULL, NULL, 5000), 1);
	}
	for (int m = 0; m < MSGS; m++)
		for (int i = 0; i < PEERS; i++)
			ap_send_addrs(fd[i], (uint32_t)(i * MSGS + m) * PER, PER, ap_time_now());
	for (int i = 0; i < PEERS; i++)
		CHECK_EQ(ap_barrier(fd[i], NULL, NULL, 20000), 1);
	struct cr_totals t;
	CHECK(WAIT_FOR((t = ap_totals(e)).addr_mail_bytes == 0, 10000));
	double secs = (double)(ap_now_ms() - t0) / 1000.0 + 1.0;
	double bound = 2.0 * (CR_ADDR_RELAY_ENGINE_BURST + CR_ADDR_RATE_PER_S * PEERS * secs);
	printf("  %llu relayable in, %llu relayed, %llu skipped (bound %.0f for %.1f s)\n",
	       (unsigned long long)t.addrs_received, (unsigned long long)t.addrs_relayed,
	       (unsigned long long)t.addrs_relay_skipped, bound, secs);
	CHECK_EQ(t.addrs_received, (uint64_t)PEERS * MSGS * PER);
	CHECK(t.addrs_relay_skipped > 0);
	CHECK(t.addrs_relayed > 0);
	CHECK((double)t.addrs_relayed <= bound);
	/* every address reached the address manager all the same */
	CHECK_EQ(t.addrs_mail_dropped, 0);
	CHECK(WAIT_FOR(ap_totals(e).addrman_size > (uint64_t)PEERS * MSGS * PER / 2, 5000));
	cr_engine_free(e);
	for (int i = 0; i < PEERS; i++)
		close(fd[i]);
}

/* The address mail cap in both directions, and getaddr not lost to it: a
 * getaddr the worker could not pass on (its budget full) leaves the peer
 * free to ask again; an answer the coordinator could not send back (the
 * budget full that way) is dropped and counted. */
static void test_engine_addr_mail_cap_getaddr(void)
{
	struct rec r;
	struct cr_engine *e = start(&r, "C", false);
	uint16_t port;
	int lfd = ap_listen(&port);
	int o = ap_outbound(e, &r, lfd, port, CR_CONN_OUTBOUND_FULL_RELAY, NULL);
	CHECK_EQ(ap_wait_cmd(o, "getaddr", NULL, NULL, 5000), 1);
	ap_send_addrs(o, 0, 1000, ap_time_now() - 3600);
	CHECK(WAIT_FOR(ap_totals(e).addrman_size >= 500, 5000));
	int a = ap_inbound(e, &r);
	uint64_t ignored = ap_totals(e).addr_msgs_ignored;
	static struct held h;
	hold_all(e, &h);
	/* worker -> coordinator: no room for the getaddr mail */
	CHECK_EQ(getaddr_answer(a), -1);
	CHECK_EQ(ap_totals(e).addr_msgs_ignored, ignored + 1);
	/* room for the getaddr mail, not for its answer: coordinator ->
	 * worker drops it; the same peer's getaddr was taken this time */
	release_last_per_worker(e, &h);
	raw_send(a, "getaddr", NULL, 0);
	CHECK(WAIT_FOR(ap_totals(e).addrs_mail_dropped > 0, 5000));
	CHECK_EQ(getaddr_answer(a), -1);
	struct cr_totals t = ap_totals(e);
	CHECK_EQ(t.addr_msgs_ignored, ignored + 2); /* the repeat after it */
	CHECK_EQ(t.getaddr_answered, 0);
	printf("  answer of %llu entries dropped at the cap\n", (unsigned long long)t.addrs_mail_dropped);
	release_all(e, &h);
	CHECK(WAIT_FOR(ap_totals(e).addr_mail_bytes == 0, 5000));
	int b = ap_inbound(e, &r);
	CHECK(getaddr_answer(b) > 0);
	t = ap_totals(e);
	CHECK(t.addr_mail_peak <= MAIL_CAP_PER_WORKER);
	cr_engine_free(e);
	close(a);
	close(b);
	close(o);
	close(lfd);
}

int main(void)
{
	test_watchdog();
	RUN(test_engine_addr_relay_peers);
	RUN(test_engine_addr_getaddr_once);
	RUN(test_engine_addr_self_advertised);
	RUN(test_engine_addr_flood_bounded);
	RUN(test_engine_addr_relay_bounded);
	RUN(test_engine_addr_mail_cap_getaddr);
	return check_done();
}
