/* engine/dns.c against a real DNS server: dnsmasq (Debian's dnsmasq-base,
 * installed by scripts/bootstrap) started here on a loopback port with
 * fixed records, killed by pid at the end (and by PR_SET_PDEATHSIG if this
 * test dies first). The test is the event loop: poll() on
 * cr__dns_pollfds() for at most cr__dns_timeout_us(), then
 * cr__dns_process(). Cases: one address, 100 A records (at most 32, a
 * random draw, over TCP after the truncated UDP answer), AAAA, both
 * families crowded (16 of each), NXDOMAIN, a refusing port, a server that
 * never answers (c-ares's timeout, then our own deadline), the cap on
 * concurrent lookups, cancellation by cr__dns_free, answers c-ares gives
 * at once, bad arguments. Bounded: every loop ends after a few seconds, ~5 s in all. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "engine/dns.h"
#include "engine/policy/dnsseed.h"
#include "port_util.h"

#define DNSMASQ "/usr/sbin/dnsmasq"

static char tmpdir[] = "/tmp/cr_dns_XXXXXX";
static pid_t dnsmasq_pid = -1;
static char server[64];

struct result {
	int calls;
	int status;
	size_t n;
	struct cr_netaddr a[CR_DNSSEED_MAX_IPS];
};

static void on_result(void *arg, int status, const struct cr_netaddr *addrs, size_t n)
{
	struct result *r = arg;
	r->calls++;
	r->status = status;
	r->n = n;
	if (n <= CR_DNSSEED_MAX_IPS)
		memcpy(r->a, addrs, n * sizeof(addrs[0]));
}

static int64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The event loop: until no lookup is pending or limit_ms passed. */
static void run(struct cr__dns *d, int limit_ms)
{
	int64_t end = mono_us() + (int64_t)limit_ms * 1000;
	while (cr__dns_pending(d) > 0 && mono_us() < end) {
		struct pollfd p[CR__DNS_MAX_FDS];
		int n = cr__dns_pollfds(d, p, CR__DNS_MAX_FDS);
		int64_t t = cr__dns_timeout_us(d);
		int64_t left = end - mono_us();
		if (t < 0 || t > left)
			t = left > 0 ? left : 0;
		poll(p, (nfds_t)n, (int)((t + 999) / 1000));
		cr__dns_process(d);
	}
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static bool port_open(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* Starts dnsmasq on a free loopback port; false if it never came up. */
static bool start_dnsmasq(void)
{
	char hosts[256], pidf[256], port_arg[32], hosts_arg[300], pid_arg[300];
	snprintf(hosts, sizeof(hosts), "%s/hosts", tmpdir);
	snprintf(pidf, sizeof(pidf), "%s/pid", tmpdir);
	/* many.test: 100 A records (an answer of ~1.7 KB: truncated over UDP);
	 * mixed.test: 60 A and 60 AAAA */
	static char text[16384];
	size_t off = 0;
	for (int i = 1; i <= 100; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off, "127.9.0.%d many.test\n", i);
	for (int i = 1; i <= 60; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
					"127.8.0.%d mixed.test\nfd00::8:%x mixed.test\n", i, i);
	write_file(hosts, text);
	snprintf(hosts_arg, sizeof(hosts_arg), "--addn-hosts=%s", hosts);
	snprintf(pid_arg, sizeof(pid_arg), "--pid-file=%s", pidf);
	for (int attempt = 0; attempt < 5; attempt++) {
		int port = cr_test_free_port();
		if (port < 0)
			return false;
		snprintf(port_arg, sizeof(port_arg), "--port=%d", port);
		pid_t pid = fork();
		if (pid < 0)
			return false;
		if (pid == 0) {
			/* dies with this test, even by a crash; dnsmasq keeps
			 * the signal only if it changes no uid or gid (the
			 * kernel clears it then), hence root:root as root */
			prctl(PR_SET_PDEATHSIG, SIGTERM);
			int null = open("/dev/null", O_WRONLY);
			if (null >= 0)
				dup2(null, STDOUT_FILENO);
			const char *argv[32];
			int a = 0;
			argv[a++] = DNSMASQ;
			argv[a++] = "--keep-in-foreground";
			argv[a++] = "--conf-file=/dev/null";
			if (geteuid() == 0) {
				argv[a++] = "--user=root";
				argv[a++] = "--group=root";
			}
			argv[a++] = "--no-resolv";
			argv[a++] = "--no-hosts";
			argv[a++] = "--local=/test/"; /* NXDOMAIN for other .test names */
			argv[a++] = port_arg;
			argv[a++] = "--listen-address=127.0.0.1";
			argv[a++] = "--bind-interfaces";
			argv[a++] = pid_arg;
			argv[a++] = hosts_arg;
			argv[a++] = "--host-record=seed.test,127.1.2.3";
			argv[a++] = "--host-record=v6.test,fd00::1";
			argv[a++] = "--host-record=v6.test,fd00::2";
			argv[a++] = "--host-record=both.test,127.1.2.4,fd00::3";
			argv[a++] = "--log-facility=/dev/null";
			argv[a] = NULL;
			execv(DNSMASQ, (char *const *)argv);
			_exit(127);
		}
		for (int i = 0; i < 100; i++) { /* up to 5 s */
			int st;
			if (waitpid(pid, &st, WNOHANG) == pid) {
				pid = -1; /* exited: port taken, or no dnsmasq */
				break;
			}
			if (port_open(port)) {
				dnsmasq_pid = pid;
				snprintf(server, sizeof(server), "127.0.0.1:%d", port);
				printf("dnsmasq pid %d on %s\n", (int)pid, server);
				return true;
			}
			usleep(50000);
		}
		if (pid > 0) {
			kill(pid, SIGTERM);
			waitpid(pid, NULL, 0);
		}
	}
	return false;
}

static void stop_dnsmasq(void)
{
	if (dnsmasq_pid > 0) {
		kill(dnsmasq_pid, SIGTERM);
		waitpid(dnsmasq_pid, NULL, 0);
		dnsmasq_pid = -1;
	}
	char path[300];
	snprintf(path, sizeof(path), "%s/hosts", tmpdir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/pid", tmpdir);
	unlink(path);
	rmdir(tmpdir);
}

static struct cr__dns *new_dns(const char *srv)
{
	int err = 1;
	struct cr__dns *d = cr__dns_new(srv, &err);
	CHECK(d != NULL);
	CHECK_EQ(err, 0);
	return d;
}

/* Resolves one name and returns its result. */
static struct result resolve(struct cr__dns *d, const char *name)
{
	struct result r = {0};
	CHECK_EQ(cr__dns_lookup(d, name, 8333, on_result, &r), 0);
	run(d, 5000);
	CHECK_EQ(r.calls, 1);
	return r;
}

static bool is_v4(const struct cr_netaddr *a, uint8_t b0, uint8_t b1, uint8_t b2)
{
	return a->net == CR_NET_IPV4 && a->len == 4 && a->addr[0] == b0 && a->addr[1] == b1 && a->addr[2] == b2;
}

static void test_dns_one_address(void)
{
	struct cr__dns *d = new_dns(server);
	struct result r = resolve(d, "seed.test");
	CHECK_EQ(r.status, 0);
	CHECK_EQ(r.n, 1);
	const uint8_t want[4] = {127, 1, 2, 3};
	CHECK(r.a[0].net == CR_NET_IPV4 && r.a[0].len == 4);
	CHECK_MEM(r.a[0].addr, want, 4);
	CHECK_EQ(cr__dns_pending(d), 0);
	CHECK_EQ(cr__dns_timeout_us(d), -1);
	CHECK_EQ(cr__dns_fds(d, (int[CR__DNS_MAX_FDS]){0}, CR__DNS_MAX_FDS), 0);
	cr__dns_free(d);
}

/* 100 A records: exactly 32 come back, distinct, all of the 100 (32 is
 * more than a 512-byte UDP answer holds, 16 bytes per A record after the
 * header and question, so this also shows c-ares went on over TCP); four
 * lookups draw different subsets (taking the first 32 of the answer each
 * time would give the same 32: a union of more than 32 shows the draw;
 * four equal uniform draws of 32 of 100 are not going to happen). */
static void test_dns_many_capped(void)
{
	struct cr__dns *d = new_dns(server);
	bool seen[256] = {0};
	int seen_n = 0;
	for (int round = 0; round < 4; round++) {
		struct result r = resolve(d, "many.test");
		CHECK_EQ(r.status, 0);
		CHECK_EQ(r.n, CR_DNSSEED_MAX_IPS);
		bool here[256] = {0};
		for (size_t i = 0; i < r.n && i < CR_DNSSEED_MAX_IPS; i++) {
			uint8_t last = r.a[i].addr[3];
			CHECK(is_v4(&r.a[i], 127, 9, 0) && last >= 1 && last <= 100);
			CHECK(!here[last]);
			here[last] = true;
			if (!seen[last])
				seen_n++;
			seen[last] = true;
		}
	}
	printf("many.test: %d distinct addresses over 4 lookups\n", seen_n);
	CHECK(seen_n > CR_DNSSEED_MAX_IPS);
	cr__dns_free(d);
}

static void test_dns_aaaa(void)
{
	struct cr__dns *d = new_dns(server);
	struct result r = resolve(d, "v6.test");
	CHECK_EQ(r.status, 0);
	CHECK_EQ(r.n, 2);
	struct in6_addr w1, w2;
	inet_pton(AF_INET6, "fd00::1", &w1);
	inet_pton(AF_INET6, "fd00::2", &w2);
	int got1 = 0, got2 = 0;
	for (size_t i = 0; i < r.n && i < 2; i++) {
		CHECK(r.a[i].net == CR_NET_IPV6 && r.a[i].len == 16);
		got1 += memcmp(r.a[i].addr, &w1, 16) == 0;
		got2 += memcmp(r.a[i].addr, &w2, 16) == 0;
	}
	CHECK(got1 == 1 && got2 == 1);

	r = resolve(d, "both.test"); /* one of each family */
	CHECK_EQ(r.status, 0);
	CHECK_EQ(r.n, 2);
	int v4 = 0, v6 = 0;
	for (size_t i = 0; i < r.n && i < 2; i++) {
		v4 += r.a[i].net == CR_NET_IPV4;
		v6 += r.a[i].net == CR_NET_IPV6;
	}
	CHECK(v4 == 1 && v6 == 1);
	cr__dns_free(d);
}

/* 60 A and 60 AAAA: 16 of each family, not 32 of whichever came first. */
static void test_dns_mixed_split(void)
{
	struct cr__dns *d = new_dns(server);
	struct result r = resolve(d, "mixed.test");
	CHECK_EQ(r.status, 0);
	CHECK_EQ(r.n, CR_DNSSEED_MAX_IPS);
	int v4 = 0, v6 = 0;
	for (size_t i = 0; i < r.n && i < CR_DNSSEED_MAX_IPS; i++) {
		v4 += is_v4(&r.a[i], 127, 8, 0);
		v6 += r.a[i].net == CR_NET_IPV6 && r.a[i].addr[0] == 0xfd;
	}
	CHECK_EQ(v4, CR_DNSSEED_MAX_IPS / 2);
	CHECK_EQ(v6, CR_DNSSEED_MAX_IPS / 2);
	cr__dns_free(d);
}

static void test_dns_nxdomain(void)
{
	struct cr__dns *d = new_dns(server);
	struct result r = resolve(d, "nx.test");
	CHECK_EQ(r.status, -ENOENT);
	CHECK_EQ(r.n, 0);
	cr__dns_free(d);
}

/* Nothing listens on the port: the kernel's port-unreachable ends the
 * lookup with a refusal rather than a timeout. */
static void test_dns_refused_port(void)
{
	char srv[64];
	snprintf(srv, sizeof(srv), "127.0.0.1:%d", cr_test_free_port());
	struct cr__dns *d = new_dns(srv);
	struct result r = resolve(d, "seed.test");
	CHECK_EQ(r.status, -ECONNREFUSED);
	CHECK_EQ(r.n, 0);
	cr__dns_free(d);
}

/* A UDP socket bound and never read: a server that swallows queries. */
static int blackhole(char *srv, size_t cap)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(a);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		CHECK(!"blackhole socket");
		return -1;
	}
	snprintf(srv, cap, "127.0.0.1:%d", ntohs(a.sin_port));
	return fd;
}

/* c-ares gives up after 300 ms + 600 ms (2 tries, the second twice as
 * long), before our 5 s deadline: -ETIMEDOUT, not before the first try's
 * 300 ms. */
static void test_dns_timeout_cares(void)
{
	char srv[64];
	int fd = blackhole(srv, sizeof(srv));
	int err = 1;
	struct cr__dns *d = cr__dns_new_opts(srv, 300, 2, 5000, &err);
	CHECK(d != NULL);
	struct result r = {0};
	int64_t t0 = mono_us();
	CHECK_EQ(cr__dns_lookup(d, "seed.test", 8333, on_result, &r), 0);
	run(d, 4000);
	CHECK_EQ(r.calls, 1);
	CHECK_EQ(r.status, -ETIMEDOUT);
	CHECK(mono_us() - t0 >= 300000);
	CHECK_EQ(cr__dns_pending(d), 0);
	cr__dns_free(d);
	close(fd);
}

/* Our deadline (400 ms) ends the lookup while c-ares would still wait
 * (5 s, then 10 s): -ETIMEDOUT once; the slot stays counted until c-ares
 * is done; cr__dns_free then runs no callback again. */
static void test_dns_timeout_deadline(void)
{
	char srv[64];
	int fd = blackhole(srv, sizeof(srv));
	int err = 1;
	struct cr__dns *d = cr__dns_new_opts(srv, 5000, 2, 400, &err);
	CHECK(d != NULL);
	struct result r = {0};
	int64_t t0 = mono_us();
	CHECK_EQ(cr__dns_lookup(d, "seed.test", 8333, on_result, &r), 0);
	int64_t end = t0 + 4000000; /* a generous bound for a loaded machine */
	while (r.calls == 0 && mono_us() < end) {
		struct pollfd p[CR__DNS_MAX_FDS];
		int n = cr__dns_pollfds(d, p, CR__DNS_MAX_FDS);
		int64_t t = cr__dns_timeout_us(d);
		CHECK(t >= 0);
		poll(p, (nfds_t)n, (int)((t + 999) / 1000));
		cr__dns_process(d);
	}
	CHECK_EQ(r.calls, 1);
	CHECK_EQ(r.status, -ETIMEDOUT);
	CHECK(mono_us() - t0 >= 400000);
	CHECK_EQ(cr__dns_pending(d), 1); /* c-ares still holds it */
	cr__dns_free(d);
	CHECK_EQ(r.calls, 1);
	close(fd);
}

/* CR__DNS_MAX_LOOKUPS at once are taken, one more is refused; freeing
 * cancels them all, each callback once with -ECANCELED. */
static void test_dns_cap_and_cancel(void)
{
	char srv[64];
	int fd = blackhole(srv, sizeof(srv));
	struct cr__dns *d = new_dns(srv);
	static struct result r[CR__DNS_MAX_LOOKUPS + 1];
	memset(r, 0, sizeof(r));
	char name[64];
	for (int i = 0; i < CR__DNS_MAX_LOOKUPS; i++) {
		snprintf(name, sizeof(name), "n%d.test", i);
		CHECK_EQ(cr__dns_lookup(d, name, 8333, on_result, &r[i]), 0);
	}
	CHECK_EQ(cr__dns_pending(d), CR__DNS_MAX_LOOKUPS);
	CHECK_EQ(cr__dns_lookup(d, "one-more.test", 8333, on_result, &r[CR__DNS_MAX_LOOKUPS]), -EBUSY);
	int fds[CR__DNS_MAX_FDS];
	CHECK(cr__dns_fds(d, fds, CR__DNS_MAX_FDS) >= 1);
	int64_t t = cr__dns_timeout_us(d);
	CHECK(t > 0 && t <= (int64_t)CR__DNS_TIMEOUT_MS * 1000);
	cr__dns_process(d); /* nothing ready, nothing due */
	for (int i = 0; i <= CR__DNS_MAX_LOOKUPS; i++)
		CHECK_EQ(r[i].calls, 0);
	cr__dns_free(d);
	for (int i = 0; i < CR__DNS_MAX_LOOKUPS; i++) {
		CHECK_EQ(r[i].calls, 1);
		CHECK_EQ(r[i].status, -ECANCELED);
	}
	CHECK_EQ(r[CR__DNS_MAX_LOOKUPS].calls, 0);
	close(fd);
}

/* The cap against a live server: the refused lookup can be made once the
 * others ended. */
static void test_dns_cap_then_room(void)
{
	struct cr__dns *d = new_dns(server);
	static struct result r[CR__DNS_MAX_LOOKUPS];
	memset(r, 0, sizeof(r));
	for (int i = 0; i < CR__DNS_MAX_LOOKUPS; i++)
		CHECK_EQ(cr__dns_lookup(d, i % 2 ? "seed.test" : "nx.test", 8333, on_result, &r[i]), 0);
	struct result extra = {0};
	CHECK_EQ(cr__dns_lookup(d, "seed.test", 8333, on_result, &extra), -EBUSY);
	run(d, 5000);
	for (int i = 0; i < CR__DNS_MAX_LOOKUPS; i++) {
		CHECK_EQ(r[i].calls, 1);
		CHECK_EQ(r[i].status, i % 2 ? 0 : -ENOENT);
	}
	extra = resolve(d, "seed.test");
	CHECK_EQ(extra.status, 0);
	cr__dns_free(d);
}

/* c-ares 1.18 answers some names inside ares_getaddrinfo (an IPv6
 * literal; a malformed name; .onion, RFC 7686): the callback still waits
 * for cr__dns_process. */
static void test_dns_immediate_deferred(void)
{
	struct cr__dns *d = new_dns(server);
	struct result r1 = {0}, r2 = {0}, r3 = {0};
	CHECK_EQ(cr__dns_lookup(d, "::1", 8333, on_result, &r1), 0);
	CHECK_EQ(cr__dns_lookup(d, "a..b", 8333, on_result, &r2), 0);
	CHECK_EQ(cr__dns_lookup(d, "seed.onion", 8333, on_result, &r3), 0);
	CHECK(r1.calls == 0 && r2.calls == 0 && r3.calls == 0);
	CHECK_EQ(cr__dns_timeout_us(d), 0);
	cr__dns_process(d);
	CHECK(r1.calls == 1 && r2.calls == 1 && r3.calls == 1);
	CHECK_EQ(r1.status, 0);
	CHECK_EQ(r1.n, 1);
	CHECK(r1.a[0].net == CR_NET_IPV6 && r1.a[0].addr[15] == 1);
	CHECK_EQ(r2.status, -EINVAL);
	CHECK_EQ(r3.status, -ENOENT);
	CHECK_EQ(cr__dns_pending(d), 0);
	cr__dns_free(d);
}

static void test_dns_bad_args(void)
{
	int err = 0;
	CHECK(cr__dns_new("", &err) == NULL);
	CHECK_EQ(err, -EINVAL);
	CHECK(cr__dns_new("not an address", &err) == NULL);
	CHECK_EQ(err, -EINVAL);
	CHECK(cr__dns_new_opts(server, 0, 2, 1000, &err) == NULL);
	CHECK_EQ(err, -EINVAL);
	struct cr__dns *d = new_dns(server);
	struct result r = {0};
	char longname[300];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	CHECK_EQ(cr__dns_lookup(d, "", 8333, on_result, &r), -EINVAL);
	CHECK_EQ(cr__dns_lookup(d, longname, 8333, on_result, &r), -EINVAL);
	CHECK_EQ(cr__dns_lookup(d, "seed.test", 0, on_result, &r), -EINVAL);
	CHECK_EQ(cr__dns_lookup(d, "seed.test", 8333, NULL, &r), -EINVAL);
	CHECK_EQ(cr__dns_pending(d), 0);
	cr__dns_free(d);
	cr__dns_free(NULL);
	CHECK_EQ(r.calls, 0);
}

/* The system's resolver config is read (no lookup is made: only
 * loopback is ever a target here). */
static void test_dns_system_config(void)
{
	int err = 1;
	struct cr__dns *d = cr__dns_new(NULL, &err);
	CHECK(d != NULL);
	CHECK_EQ(err, 0);
	if (d) {
		CHECK_EQ(cr__dns_pending(d), 0);
		CHECK_EQ(cr__dns_timeout_us(d), -1);
		cr__dns_process(d);
	}
	cr__dns_free(d);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (access(DNSMASQ, X_OK) != 0) {
		fprintf(stderr, "FAIL: %s missing (scripts/bootstrap installs dnsmasq-base)\n", DNSMASQ);
		return 1;
	}
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	if (!start_dnsmasq()) {
		fprintf(stderr, "FAIL: dnsmasq did not start\n");
		stop_dnsmasq();
		return 1;
	}
	RUN(test_dns_one_address);
	RUN(test_dns_many_capped);
	RUN(test_dns_aaaa);
	RUN(test_dns_mixed_split);
	RUN(test_dns_nxdomain);
	RUN(test_dns_refused_port);
	RUN(test_dns_timeout_cares);
	RUN(test_dns_timeout_deadline);
	RUN(test_dns_cap_and_cancel);
	RUN(test_dns_cap_then_room);
	RUN(test_dns_immediate_deferred);
	RUN(test_dns_bad_args);
	RUN(test_dns_system_config);
	stop_dnsmasq();
	return check_done();
}
