/* Loopback ports for tests that must name one before a server binds it
 * (a daemon's -port, a proxy's config, a port nobody listens on). Header-
 * only, for tests/ only.
 *
 * Why not bind to port 0, read the port and close: the kernel hands out
 * that port from the ephemeral range (ip_local_port_range, 32768-60999 by
 * default), the range every outgoing connection also takes its source port
 * from, so under `ctest -j 2` with load tests opening thousands of
 * connections the port is soon in use again. These are drawn at random
 * below that range, where only another test's own random pick can collide;
 * callers that can retry on EADDRINUSE do (tests/crdaemon.py). */
#ifndef CR_TESTS_PORT_UTIL_H
#define CR_TESTS_PORT_UTIL_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#define CR_TEST_PORT_LO 20000
#define CR_TEST_PORT_HI 32000

/* A port in [LO, HI) that nothing on 127.0.0.1 is bound to right now, or
 * -1 when 200 random tries all found one taken. */
static inline int cr_test_free_port(void)
{
	for (int i = 0; i < 200; i++) {
		uint32_t r = 0;
		if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
			r = (uint32_t)getpid() * 2654435761u + (uint32_t)i;
		int port = CR_TEST_PORT_LO + (int)(r % (CR_TEST_PORT_HI - CR_TEST_PORT_LO));
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		int ok = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
		close(fd);
		if (ok)
			return port;
	}
	return -1;
}

#endif
