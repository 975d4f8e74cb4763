/* Outbound through a SOCKS5 proxy: microsocks (Debian's) started by this
 * test on loopback relays an engine's V1 and V2 connections to another
 * engine, for a numeric target and a host name the proxy resolves; with
 * the proxy down, the same connect fails. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "engine_util.h"
#include "port_util.h"

/* A port for microsocks, below the ephemeral range (port_util.h). */
static uint16_t free_port(void)
{
	int p = cr_test_free_port();
	CHECK(p > 0);
	return (uint16_t)(p > 0 ? p : 1);
}

static bool port_open(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bool ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
	close(fd);
	return ok;
}

static pid_t spawn_microsocks(uint16_t port)
{
	char ports[16];
	snprintf(ports, sizeof ports, "%u", port);
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* dies with the test */
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		execl("/usr/bin/microsocks", "microsocks", "-i", "127.0.0.1", "-p", ports, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static void stop_child(pid_t pid)
{
	kill(pid, SIGTERM);
	for (int i = 0; i < 100; i++) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return;
		sleep_ms(20);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void test_engine_socks5(void)
{
	if (access("/usr/bin/microsocks", X_OK) != 0) {
		/* not a pass: ctest reports the test as skipped, with why */
		check_skip("/usr/bin/microsocks missing (scripts/bootstrap installs it)");
	}
	uint16_t pport = free_port();
	pid_t pid = spawn_microsocks(pport);
	CHECK(WAIT_FOR(port_open(pport), 5000));
	struct rec ra, rb;
	struct cr_config *ca, *cb;
	ca = test_config(&ra, "A", TEST_BIND);
	cb = test_config(&rb, "B", NULL);
	char proxy[64];
	snprintf(proxy, sizeof proxy, "127.0.0.1:%u", pport);
	CHECK_EQ(cr_config_set_proxy(cb, proxy), 0);
	struct cr_engine *a = NULL, *b = NULL;
	CHECK_EQ(cr_engine_new(&a, ca), 0);
	cr_config_free(ca);
	CHECK_EQ(cr_engine_start(a), 0);
	CHECK_EQ(cr_engine_new(&b, cb), 0);
	cr_config_free(cb);
	CHECK_EQ(cr_engine_start(b), 0);
	char hp[64], name[64];
	snprintf(hp, sizeof hp, "127.0.0.1:%u", cr_engine_port(a));
	snprintf(name, sizeof name, "localhost:%u", cr_engine_port(a));
	CHECK_EQ(cr_connect(b, hp, CR_CONNECT_V1), 0);
	CHECK(WAIT_FOR(rec_get(&rb, &rb.ready) == 1, 10000));
	CHECK_EQ(cr_connect(b, name, 0), 0); /* V2, host name resolved by the proxy */
	CHECK(WAIT_FOR(rec_get(&rb, &rb.ready) == 2 && rec_get(&ra, &ra.ready) == 2, 10000));
	CHECK_EQ(rb.ready_info[0].transport, 1);
	CHECK_EQ(rb.ready_info[1].transport, 2);
	CHECK(strcmp(rb.ready_info[1].addr_str, name) == 0);
	/* messages cross the proxy both ways */
	CHECK_EQ(cr_send(b, rb.ready_ids[1], "hello", (const uint8_t *)"via", 3), 0);
	CHECK(WAIT_FOR(rec_get(&ra, &ra.msgs) == 1, 5000));
	/* with the proxy gone, the same connect fails */
	stop_child(pid);
	CHECK_EQ(cr_connect(b, hp, CR_CONNECT_V1), 0);
	/* the two relayed peers drop with it, then the new attempt fails */
	CHECK(WAIT_FOR(rec_get(&rb, &rb.closed) >= 3, 10000));
	CHECK_EQ(rb.ready, 2);
	bool failed = false;
	for (unsigned i = 0; i < rb.closed && i < REC_MAX; i++)
		failed |= rb.closed_reason[i] == CR_CLOSE_CONNECT_FAILED;
	CHECK(failed);
	cr_engine_free(b);
	cr_engine_free(a);
}

int main(void)
{
	test_watchdog();
	RUN(test_engine_socks5);
	return check_done();
}
