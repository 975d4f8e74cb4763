/* Bans, discouragement, misbehaviour, permissions and admission in the
 * engine, over loopback with raw V1 peers from chosen 127.x addresses:
 * a banned /24 refused at accept (no byte sent to it, no callback), a new
 * ban closing a live peer, noban peers spared, Core's setban answers
 * (already banned, not banned, past absolute time), bans surviving a
 * restart and a SIGKILL and expiring, discouraged newcomers admitted only
 * with room (and preferred for eviction), misbehaviour in Core mode and in
 * ban score mode, on_accept's say, the per-netgroup flood bucket, and
 * -whitebind/-whitelist permissions in peer info. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "engine_util.h"
#include "port_util.h"
#include "proto/chain.h"
#include "proto/msg.h"
#include "proto/v1.h"

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

/* A TCP connection to the engine from src (a 127.x.y.z address). */
static int raw_from(const char *src, uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in me = { .sin_family = AF_INET };
	inet_pton(AF_INET, src, &me.sin_addr);
	CHECK_EQ(bind(fd, (struct sockaddr *)&me, sizeof me), 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK_EQ(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	return fd;
}

static void raw_send(int fd, const char *cmd, const uint8_t *payload, size_t len)
{
	static uint8_t buf[CR_V1_HEADER_SIZE + 4096];
	if (len)
		memcpy(buf + CR_V1_HEADER_SIZE, payload, len);
	int n = cr_v1_encode(buf, sizeof buf, cr_chain_get(CR_CHAIN_REGTEST)->magic, cmd, (uint32_t)len);
	CHECK(n > 0);
	if (write(fd, buf, (size_t)n) != n)
		return; /* the engine may have closed it: that is what some tests provoke */
}

static void raw_handshake(int fd)
{
	struct cr_version v;
	memset(&v, 0, sizeof v);
	v.version = 70016;
	v.nonce = 0x99;
	uint8_t p[CR_MSG_VERSION_SIZE_MAX];
	int n = cr_msg_version_encode(p, sizeof p, &v);
	CHECK(n > 0);
	raw_send(fd, "version", p, (size_t)n);
	raw_send(fd, "verack", NULL, 0);
}

/* Bytes the engine sends before closing, or -1 if it has not closed
 * within ms. */
static long read_until_eof(int fd, unsigned ms)
{
	long total = 0;
	for (unsigned waited = 0; waited <= ms; waited += 10) {
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, 10) <= 0)
			continue;
		char buf[4096];
		ssize_t r = read(fd, buf, sizeof buf);
		if (r <= 0)
			return total;
		total += r;
	}
	return -1;
}

static struct cr_config *defence_config(struct rec *r, const char *name)
{
	struct cr_config *c = test_config(r, name, TEST_BIND);
	CHECK_EQ(cr_config_set_workers(c, 1), 0);
	return c;
}

static void test_ban_refused_at_accept(void)
{
	struct rec ra;
	struct cr_engine *a = start(defence_config(&ra, "A"), &ra);
	uint16_t port = cr_engine_port(a);
	CHECK_EQ(cr_ban(a, "127.0.3.0/24", 0, false), 0);
	int fd = raw_from("127.0.3.9", port);
	raw_handshake(fd);
	CHECK_EQ(read_until_eof(fd, 3000), 0); /* closed, and not a byte (no version) sent */
	close(fd);
	/* another /24 gets in */
	int ok = raw_from("127.0.4.9", port);
	raw_handshake(ok);
	CHECK(WAIT_FOR(rec_get(&ra, &ra.ready) == 1, 5000));
	struct cr_totals t;
	cr_engine_totals(a, &t, sizeof t);
	CHECK_EQ(t.refused_banned, 1);
	CHECK_EQ(t.accept_refused, 1);
	CHECK_EQ(t.bans, 1);
	CHECK_EQ(rec_get(&ra, &ra.closed), 0); /* the refused one never made a callback */
	close(ok);
	cr_engine_free(a);
}

static void test_ban_closes_live_peer(void)
{
	struct rec ra;
	struct cr_config *c = defence_config(&ra, "A");
	CHECK_EQ(cr_config_add_whitelist(c, "noban@127.0.5.2"), 0);
	struct cr_engine *a = start(c, &ra);
	uint16_t port = cr_engine_port(a);
	int x = raw_from("127.0.5.1", port), y = raw_from("127.0.5.2", port);
	raw_handshake(x);
	raw_handshake(y);
	CHECK(WAIT_FOR(rec_get(&ra, &ra.ready) == 2, 5000));
	CHECK_EQ(cr_ban(a, "127.0.5.0/24", 3600, false), 0);
	CHECK(WAIT_FOR(rec_get(&ra, &ra.closed) == 1, 5000));
	CHECK_EQ(ra.closed_reason[0], CR_CLOSE_BANNED);
	sleep_ms(100);
	CHECK_EQ(rec_get(&ra, &ra.closed), 1); /* the noban peer stays */
	CHECK_EQ(read_until_eof(x, 2000) >= 0, 1);
	struct cr_totals t;
	cr_engine_totals(a, &t, sizeof t);
	CHECK_EQ(t.ban_disconnects, 1);
	/* and a noban newcomer from the banned /24 is admitted */
	int z = raw_from("127.0.5.2", port);
	raw_handshake(z);
	CHECK(WAIT_FOR(rec_get(&ra, &ra.ready) == 3, 5000));
	close(x);
	close(y);
	close(z);
	cr_engine_free(a);
}

static void test_ban_api_answers(void)
{
	struct rec ra;
	struct cr_engine *a = start(defence_config(&ra, "A"), &ra);
	CHECK_EQ(cr_ban(a, "10.0.0.0/8", 0, false), 0);
	CHECK_EQ(cr_ban(a, "10.1.2.3", 0, false), -EEXIST);     /* covered by the /8 */
	CHECK_EQ(cr_ban(a, "10.0.0.0/8", 60, false), -EEXIST);  /* exactly that subnet */
	CHECK_EQ(cr_ban(a, "10.0.0.0/16", 60, false), 0);       /* another subnet */
	CHECK_EQ(cr_ban(a, "1.2.3.4", 1000, true), -EINVAL);    /* absolute, in the past */
	CHECK_EQ(cr_ban(a, "not an address", 0, false), CR_E_BAD_ADDRESS);
	CHECK_EQ(cr_ban(a, "1.2.3.0/255.255.255.0", 4102444800, true), 0); /* until 2100 */
	struct cr_ban_info list[8];
	CHECK_EQ(cr_list_banned(a, list, 8), 3);
	bool found = false;
	for (int i = 0; i < 3; i++)
		if (strcmp(list[i].subnet, "1.2.3.0/24") == 0 && list[i].until == 4102444800)
			found = true;
	CHECK(found);
	CHECK_EQ(cr_list_banned(a, list, 1), 3); /* counts beyond cap */
	CHECK_EQ(cr_list_banned(a, NULL, 0), 3);
	CHECK_EQ(cr_unban(a, "10.0.0.0/16"), 0);
	CHECK_EQ(cr_unban(a, "10.0.0.0/16"), -ENOENT);
	CHECK_EQ(cr_unban(a, "10.1.2.3"), -ENOENT); /* only exact entries are lifted */
	CHECK_EQ(cr_clear_banned(a), 0);
	CHECK_EQ(cr_list_banned(a, list, 8), 0);
	CHECK_EQ(cr_discourage(a, "1.2.3.4"), 0);
	CHECK_EQ(cr_discourage(a, "1.2.3.0/24"), CR_E_BAD_ADDRESS);
	cr_engine_free(a);
	/* an engine that is not running answers at once */
	struct cr_config *c = defence_config(&ra, "B");
	CHECK_EQ(cr_engine_new(&a, c), 0);
	cr_config_free(c);
	CHECK_EQ(cr_ban(a, "1.2.3.4", 0, false), -ESHUTDOWN);
	CHECK_EQ(cr_list_banned(a, NULL, 0), -ESHUTDOWN);
	cr_engine_free(a);
}

static void tmp_path(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "/tmp/cr-bans-%d-%s", (int)getpid(), name);
	unlink(out);
}

/* Bans survive a clean restart; a ban that expired while down is gone. */
static void test_ban_persists(void)
{
	char path[128];
	tmp_path(path, sizeof path, "restart");
	struct rec ra;
	struct cr_config *c = defence_config(&ra, "A");
	CHECK_EQ(cr_config_set_banlist_path(c, path), 0);
	struct cr_engine *a = start(c, &ra);
	CHECK_EQ(cr_ban(a, "192.0.2.0/24", 0, false), 0);
	CHECK_EQ(cr_ban(a, "198.51.100.7", 1, false), 0); /* one second */
	cr_engine_free(a);
	sleep_ms(1100);
	c = defence_config(&ra, "A2");
	CHECK_EQ(cr_config_set_banlist_path(c, path), 0);
	a = start(c, &ra);
	struct cr_ban_info list[4];
	CHECK_EQ(cr_list_banned(a, list, 4), 1);
	CHECK(strcmp(list[0].subnet, "192.0.2.0/24") == 0);
	CHECK(list[0].until - list[0].created == 24 * 3600);
	cr_engine_free(a);
	unlink(path);
}

/* A ban is on disk when cr_ban returns: a SIGKILL right after loses
 * nothing. The engine runs in a child that is killed. */
static void test_ban_survives_sigkill(void)
{
	char path[128];
	tmp_path(path, sizeof path, "kill");
	int pipefd[2];
	CHECK_EQ(pipe(pipefd), 0);
	pid_t pid = fork();
	if (pid == 0) {
		struct rec r;
		struct cr_config *c = defence_config(&r, "child");
		cr_config_set_banlist_path(c, path);
		struct cr_engine *e = NULL;
		if (cr_engine_new(&e, c) || cr_engine_start(e) || cr_ban(e, "203.0.113.0/24", 0, false))
			_exit(1);
		if (write(pipefd[1], "k", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	char b;
	CHECK_EQ(read(pipefd[0], &b, 1), 1);
	kill(pid, SIGKILL);
	int st;
	waitpid(pid, &st, 0);
	CHECK(WIFSIGNALED(st));
	close(pipefd[0]);
	close(pipefd[1]);
	struct rec ra;
	struct cr_config *c = defence_config(&ra, "A");
	CHECK_EQ(cr_config_set_banlist_path(c, path), 0);
	struct cr_engine *a = start(c, &ra);
	struct cr_ban_info list[4];
	CHECK_EQ(cr_list_banned(a, list, 4), 1);
	CHECK(strcmp(list[0].subnet, "203.0.113.0/24") == 0);
	/* the ban is enforced after the restart too */
	cr_engine_free(a);
	unlink(path);
}

/* Discouraged: admitted while there is room (and preferred for
 * eviction), refused once inbound + 1 >= the inbound slots, as Core. */
static void test_discouraged_admission(void)
{
	struct rec ra;
	struct cr_config *c = defence_config(&ra, "A");
	CHECK_EQ(cr_config_set_max_connections(c, 3), 0);
	CHECK_EQ(cr_config_set_outbound_slots(c, 0), 0);
	struct cr_engine *a = start(c, &ra);
	uint16_t port = cr_engine_port(a);
	CHECK_EQ(cr_discourage(a, "127.0.6.6"), 0);
	int d1 = raw_from("127.0.6.6", port);
	raw_handshake(d1);
	CHECK(WAIT_FOR(rec_get(&ra, &ra.ready) == 1, 5000));
	struct cr_peer_info info;
	CHECK_EQ(cr_peer_info(a, ra.ready_ids[0], &info, sizeof info), 0);
	CHECK(info.prefer_evict);
	int o = raw_from("127.0.6.7", port);
	raw_handshake(o);
	CHECK(WAIT_FOR(rec_get(&ra, &ra.ready) == 2, 5000));
	CHECK_EQ(cr_peer_info(a, ra.ready_ids[1], &info, sizeof info), 0);
	CHECK(!info.prefer_evict);
	/* 2 of 3 slots taken: 2 + 1 >= 3, a discouraged newcomer is refused */
	int d2 = raw_from("127.0.6.6", port);
	raw_handshake(d2);
	CHECK_EQ(read_until_eof(d2, 3000), 0);
	struct cr_totals t;
	cr_engine_totals(a, &t, sizeof t);
	CHECK_EQ(t.refused_discouraged, 1);
	close(d1);
	close(o);
	close(d2);
	cr_engine_free(a);
}

/* Core mode: bad magic from a routable peer discourages it; a local peer
 * is only disconnected; a noban peer misbehaving through the API stays. */
static void test_misbehaviour_core(void)
{
	struct rec ra;
	struct cr_config *c = defence_config(&ra, "A");
	CHECK_EQ(cr_config_set_routable127(c, true), 0);
	CHECK_EQ(cr_config_set_max_connections(c, 3), 0);
	CHECK_EQ(cr_config_set_outbound_slots(c, 0), 0);
	CHECK_EQ(cr_config_add_whitelist(c, "noban@127.0.8.8"), 0);
	struct cr_engine *a = start(c, &ra);
	uint16_t port = cr_engine_port(a);
	int m = raw_from("127.0.7.7", port);
	raw_handshake(m);
	CHECK(WAIT_FOR(rec_get(&ra, &ra.ready) == 1, 5000));
	uint8_t bad[CR_V1_HEADER_SIZE];
	cr_v1_encode_header(bad, cr_chain_get(CR_CHAIN_MAIN)->magic, "ping", NULL, 0);
	CHECK_EQ(write(m, bad, sizeof bad), (ssize_t)sizeof bad);
	CHECK(WAIT_FOR(rec_get(&ra, &ra.closed) == 1, 5000));
	CHECK_EQ(ra.closed_reason[0], CR_CLOSE_PROTOCOL);
	struct cr_totals t;
	CHECK(WAIT_FOR((cr_engine_totals(a, &t, sizeof t), t.misbehaved_discouraged == 1), 2000));
	/* now discouraged: with 2 of 3 slots taken it is refused */
	int f1 = raw_from("127.0.9.1", port), f2 = raw_from("127.0.9.2", port);
	raw_handshake(f1);
	raw_handshake(f2);
	CHECK(WAIT_FOR(rec_get(&ra, &ra.ready) == 3, 5000));
	int again = raw_from("127.0.7.7", port);
	raw_handshake(again);
	CHECK_EQ(read_until_eof(again, 3000), 0);
	/* the embedder's rule: a noban peer is kept */
	close(f2);
	CHECK(WAIT_FOR(rec_get(&ra, &ra.closed) == 2, 5000));
	int nb = raw_from("127.0.8.8", port);
	raw_handshake(nb);
	CHECK(WAIT_FOR(rec_get(&ra, &ra.ready) == 4, 5000));
	CHECK_EQ(cr_misbehaving(a, ra.ready_ids[3], 0, "test: noban"), 0);
	sleep_ms(200);
	CHECK_EQ(rec_get(&ra, &ra.closed), 2);
	cr_engine_totals(a, &t, sizeof t);
	CHECK_EQ(t.misbehaved_kept, 1);
	/* and a plain peer reported by the embedder is discouraged and closed */
	CHECK_EQ(cr_misbehaving(a, ra.ready_ids[1], 0, "test: bad tx"), 0);
	CHECK(WAIT_FOR(rec_get(&ra, &ra.closed) == 3, 5000));
	CHECK_EQ(ra.closed_reason[2], CR_CLOSE_MISBEHAVED);
	CHECK_EQ(cr_misbehaving(a, ra.ready_ids[1], 0, "stale"), -ESTALE);
	close(m);
	close(f1);
	close(again);
	close(nb);
	cr_engine_free(a);
	/* without routable127 a loopback peer is local: disconnected only */
	c = defence_config(&ra, "B");
	a = start(c, &ra);
	m = raw_from("127.0.7.7", cr_engine_port(a));
	raw_handshake(m);
	CHECK(WAIT_FOR(rec_get(&ra, &ra.ready) == 1, 5000));
	CHECK_EQ(write(m, bad, sizeof bad), (ssize_t)sizeof bad);
	CHECK(WAIT_FOR(rec_get(&ra, &ra.closed) == 1, 5000));
	cr_engine_totals(a, &t, sizeof t);
	CHECK_EQ(t.misbehaved_discouraged, 0);
	close(m);
	cr_engine_free(a);
}

/* Score mode: points add up; past the threshold the address is banned. */
static void test_misbehaviour_score(void)
{
	struct rec ra;
	struct cr_config *c = defence_config(&ra, "A");
	CHECK_EQ(cr_config_set_routable127(c, true), 0);
	CHECK_EQ(cr_config_set_ban_score_threshold(c, 100), 0);
	struct cr_engine *a = start(c, &ra);
	uint16_t port = cr_engine_port(a);
	int m = raw_from("127.0.10.1", port);
	raw_handshake(m);
	CHECK(WAIT_FOR(rec_get(&ra, &ra.ready) == 1, 5000));
	uint64_t id = ra.ready_ids[0];
	CHECK_EQ(cr_misbehaving(a, id, 60, "test"), 0);
	struct cr_peer_info info;
	CHECK(WAIT_FOR(cr_peer_info(a, id, &info, sizeof info) == 0 && info.misbehavior_score == 60, 2000));
	CHECK_EQ(cr_misbehaving(a, id, 40, "test"), 0); /* 100: not past it */
	CHECK(WAIT_FOR(cr_peer_info(a, id, &info, sizeof info) == 0 && info.misbehavior_score == 100, 2000));
	CHECK_EQ(rec_get(&ra, &ra.closed), 0);
	CHECK_EQ(cr_misbehaving(a, id, 1, "test"), 0);
	CHECK(WAIT_FOR(rec_get(&ra, &ra.closed) == 1, 5000));
	struct cr_ban_info list[2];
	CHECK(WAIT_FOR(cr_list_banned(a, list, 2) == 1, 2000));
	CHECK(strcmp(list[0].subnet, "127.0.10.1/32") == 0);
	int again = raw_from("127.0.10.1", port);
	raw_handshake(again);
	CHECK_EQ(read_until_eof(again, 3000), 0);
	close(m);
	close(again);
	cr_engine_free(a);
}

static struct {
	pthread_mutex_t mu;
	unsigned calls;
	struct cr_accept_info last;
} acc = { .mu = PTHREAD_MUTEX_INITIALIZER };

static bool on_accept(void *user, const struct cr_accept_info *info)
{
	(void)user;
	pthread_mutex_lock(&acc.mu);
	acc.calls++;
	acc.last = *info;
	pthread_mutex_unlock(&acc.mu);
	const struct sockaddr_in *sa = (const struct sockaddr_in *)&info->peer;
	return ((const uint8_t *)&sa->sin_addr)[2] != 66; /* refuse 127.0.66.x */
}

static void test_on_accept(void)
{
	struct rec ra;
	struct cr_config *c = defence_config(&ra, "A");
	CHECK_EQ(cr_config_set_on_accept(c, on_accept), 0);
	CHECK_EQ(cr_config_set_routable127(c, true), 0); /* 127.a.x.x: netgroup 127.a */
	CHECK_EQ(cr_config_set_flood_burst(c, 3), 0);
	CHECK_EQ(cr_config_set_flood_rate(c, 0.01), 0);
	struct cr_engine *a = start(c, &ra);
	uint16_t port = cr_engine_port(a);
	int ok = raw_from("127.0.65.1", port);
	raw_handshake(ok);
	CHECK(WAIT_FOR(rec_get(&ra, &ra.ready) == 1, 5000));
	int no = raw_from("127.0.66.1", port);
	raw_handshake(no);
	CHECK_EQ(read_until_eof(no, 3000), 0);
	pthread_mutex_lock(&acc.mu);
	CHECK_EQ(acc.calls, 2);
	CHECK_EQ(acc.last.inbound, 1);
	CHECK(acc.last.inbound_max > 1);
	CHECK(acc.last.keyed_netgroup != 0);
	CHECK_EQ(acc.last.local.ss_family, AF_INET);
	CHECK_EQ(ntohs(((struct sockaddr_in *)&acc.last.local)->sin_port), port);
	pthread_mutex_unlock(&acc.mu);
	struct cr_totals t;
	cr_engine_totals(a, &t, sizeof t);
	CHECK_EQ(t.refused_embedder, 1);
	CHECK_EQ(t.inbound, 1);
	/* on_accept runs after the engine's own checks: a banned newcomer and
	 * one over its netgroup's flood bucket never reach it */
	CHECK_EQ(cr_ban(a, "127.0.67.0/24", 0, false), 0);
	int banned = raw_from("127.0.67.1", port);
	raw_handshake(banned);
	CHECK_EQ(read_until_eof(banned, 3000), 0);
	close(banned);
	int fl[5];
	for (int i = 0; i < 5; i++) {
		char src[32];
		snprintf(src, sizeof src, "127.88.%d.1", i);
		fl[i] = raw_from(src, port);
		raw_handshake(fl[i]);
	}
	CHECK(WAIT_FOR(rec_get(&ra, &ra.ready) == 4, 5000)); /* the burst of 3 */
	CHECK(WAIT_FOR((cr_engine_totals(a, &t, sizeof t), t.refused_flood_rate == 2), 3000));
	CHECK_EQ(t.refused_banned, 1);
	CHECK_EQ(t.refused_embedder, 1);
	pthread_mutex_lock(&acc.mu);
	CHECK_EQ(acc.calls, 5); /* 2 above and the 3 admitted of 127.88 */
	pthread_mutex_unlock(&acc.mu);
	for (int i = 0; i < 5; i++)
		close(fl[i]);
	close(ok);
	close(no);
	cr_engine_free(a);
}

/* One /16 connecting fast is held to its burst; another /16 is not. */
static void test_flood_bucket(void)
{
	struct rec ra;
	struct cr_config *c = defence_config(&ra, "A");
	CHECK_EQ(cr_config_set_routable127(c, true), 0);
	CHECK_EQ(cr_config_set_flood_burst(c, 3), 0);
	CHECK_EQ(cr_config_set_flood_rate(c, 0.01), 0);
	struct cr_engine *a = start(c, &ra);
	uint16_t port = cr_engine_port(a);
	int fds[8];
	for (int i = 0; i < 8; i++) {
		char src[32];
		snprintf(src, sizeof src, "127.77.%d.1", i);
		fds[i] = raw_from(src, port);
		raw_handshake(fds[i]);
	}
	CHECK(WAIT_FOR(rec_get(&ra, &ra.ready) == 3, 5000));
	int other = raw_from("127.78.0.1", port);
	raw_handshake(other);
	CHECK(WAIT_FOR(rec_get(&ra, &ra.ready) == 4, 5000));
	struct cr_totals t;
	CHECK(WAIT_FOR((cr_engine_totals(a, &t, sizeof t), t.refused_flood_rate == 5), 3000));
	CHECK_EQ(t.flooding, 1);
	for (int i = 0; i < 8; i++)
		close(fds[i]);
	close(other);
	cr_engine_free(a);
}

/* A port for the whitebind listener, below the ephemeral range
 * (port_util.h): bind-then-close in that range hands out a port that a
 * parallel test's outgoing connection may take before the engine binds it. */
static uint16_t free_port(void)
{
	int p = cr_test_free_port();
	CHECK(p > 0);
	return (uint16_t)(p > 0 ? p : 0);
}

static void test_permissions(void)
{
	struct rec ra;
	struct cr_config *c = test_config(&ra, "A", NULL);
	CHECK_EQ(cr_config_set_listen(c, true), 0);
	CHECK_EQ(cr_config_set_workers(c, 1), 0);
	uint16_t wport = free_port();
	char wb[64];
	snprintf(wb, sizeof wb, "addr,relay@127.0.0.1:%u", wport);
	CHECK_EQ(cr_config_add_whitebind(c, wb), 0);
	CHECK_EQ(cr_config_add_whitelist(c, "127.0.12.0/24"), 0); /* implicit: noban, mempool, relay */
	CHECK_EQ(cr_config_add_whitebind(c, "out@127.0.0.1:1"), CR_E_BAD_ADDRESS);
	CHECK_EQ(cr_config_add_whitelist(c, "bogus@1.2.3.4"), CR_E_BAD_ADDRESS);
	struct cr_engine *a = start(c, &ra);
	CHECK_EQ(cr_engine_port(a), wport); /* only the whitebind is listened on */
	int x = raw_from("127.0.11.1", wport), y = raw_from("127.0.12.1", wport);
	raw_handshake(x);
	CHECK(WAIT_FOR(rec_get(&ra, &ra.ready) == 1, 5000));
	raw_handshake(y);
	CHECK(WAIT_FOR(rec_get(&ra, &ra.ready) == 2, 5000));
	struct cr_peer_info info;
	CHECK_EQ(cr_peer_info(a, ra.ready_ids[0], &info, sizeof info), 0);
	CHECK_EQ(info.permissions, CR_PERM_ADDR | CR_PERM_RELAY);
	CHECK(strcmp(info.permissions_str, "relay,addr") == 0);
	CHECK(strcmp(info.netgroup, "local") == 0);
	CHECK_EQ(cr_peer_info(a, ra.ready_ids[1], &info, sizeof info), 0);
	CHECK_EQ(info.permissions, CR_PERM_ADDR | CR_PERM_RELAY | CR_PERM_NOBAN | CR_PERM_MEMPOOL);
	CHECK(strcmp(info.permissions_str, "noban,relay,mempool,download,addr") == 0);
	close(x);
	close(y);
	cr_engine_free(a);
}

int main(void)
{
	test_watchdog();
	RUN(test_ban_survives_sigkill); /* first: forks before any engine thread exists */
	RUN(test_ban_refused_at_accept);
	RUN(test_ban_closes_live_peer);
	RUN(test_ban_api_answers);
	RUN(test_ban_persists);
	RUN(test_discouraged_admission);
	RUN(test_misbehaviour_core);
	RUN(test_misbehaviour_score);
	RUN(test_on_accept);
	RUN(test_flood_bucket);
	RUN(test_permissions);
	return check_done();
}
