/* Tests of the sans-IO SOCKS5 client: scripted proxy transcripts fed whole,
 * in every split and byte by byte; every reply code; every bound at n-1, n,
 * n+1; and real proxies from Debian (danted without authentication,
 * microsocks with RFC 1929 username/password) started by this test on
 * loopback, relaying to an echo server in this process. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proto/err.h"
#include "proto/socks5.h"
#include "tests/check.h"
#include "tests/port_util.h"

/* Runs the client against a scripted proxy. The proxy answers a request only
 * once it has been fully sent, as a real one does: its bytes come in rounds
 * (method choice: 2 bytes; authentication status when it chose
 * username/password: 2 bytes; then the CONNECT reply and any peer data), each
 * released when the client finished sending its next message, and delivered
 * chunk bytes at a time (0 = a whole round at once). Everything the client
 * sent is collected in sent. Returns the last recv result; *consumed counts
 * the proxy bytes taken. */
static int drive(struct cr_socks5 *s, const uint8_t *reply, size_t reply_len, size_t chunk,
		 uint8_t *sent, size_t *sent_len, size_t *consumed)
{
	size_t rounds[3], nrounds = 0, off = 0, avail = 0, released = 0;
	rounds[nrounds++] = reply_len < 2 ? reply_len : 2;
	if (reply_len > 2 && reply[1] == 2)
		rounds[nrounds++] = reply_len < 4 ? reply_len - 2 : 2;
	size_t sum = 0;
	for (size_t i = 0; i < nrounds; i++)
		sum += rounds[i];
	if (sum < reply_len)
		rounds[nrounds++] = reply_len - sum;
	int r = 0;
	bool was_sending = false;
	*sent_len = 0;
	*consumed = 0;
	for (int guard = 0; guard < 10000; guard++) {
		const uint8_t *p;
		size_t n = cr_socks5_pending(s, &p);
		if (n) {
			/* Send in two parts to exercise partial sends. */
			size_t half = n > 1 ? n / 2 : n;
			memcpy(sent + *sent_len, p, half);
			*sent_len += half;
			cr_socks5_sent(s, half);
			was_sending = true;
			continue;
		}
		if (was_sending && released < nrounds)
			avail += rounds[released++];
		was_sending = false;
		if (off >= avail || cr_socks5_done(s))
			break;
		size_t take = chunk ? chunk : avail - off;
		if (take > avail - off)
			take = avail - off;
		r = cr_socks5_recv(s, reply + off, take);
		if (r < 0)
			return r;
		*consumed += (size_t)r;
		if ((size_t)r < take)
			break; /* done: the rest belongs to the peer */
		off += take;
	}
	return r;
}

static const uint8_t ok_v4_reply[] = {5, 0, 0, 1, 10, 0, 0, 7, 0x20, 0x8d};

static void test_socks5_noauth_ipv4_request_bytes(void)
{
	struct cr_socks5 s;
	uint8_t server[2 + sizeof(ok_v4_reply)] = {5, 0};
	memcpy(server + 2, ok_v4_reply, sizeof(ok_v4_reply));
	uint8_t sent[1024];
	size_t sent_len, used;
	CHECK_EQ(cr_socks5_init(&s, "1.2.3.4", 8333), 0);
	CHECK(!cr_socks5_done(&s));
	int r = drive(&s, server, sizeof(server), 0, sent, &sent_len, &used);
	CHECK(r >= 0);
	CHECK(cr_socks5_done(&s));
	static const uint8_t want[] = {5, 1, 0, 5, 1, 0, 1, 1, 2, 3, 4, 0x20, 0x8d};
	CHECK_EQ(sent_len, sizeof(want));
	CHECK_MEM(sent, want, sizeof(want));
	CHECK_EQ(used, sizeof(server));
	CHECK_EQ(s.bound_atyp, 1);
	CHECK_EQ(s.bound_len, 4);
	CHECK_MEM(s.bound_addr, ((uint8_t[]){10, 0, 0, 7}), 4);
	CHECK_EQ(s.bound_port, 8333);
	const uint8_t *p;
	CHECK_EQ(cr_socks5_pending(&s, &p), 0);
}

static void test_socks5_ipv6_and_domain_requests(void)
{
	struct cr_socks5 s;
	const uint8_t *p;
	CHECK_EQ(cr_socks5_init(&s, "[2001:db8::1]", 18333), 0);
	CHECK_EQ(s.req_len, 4 + 16 + 2);
	CHECK_EQ(s.req[3], 4);
	CHECK_EQ(s.req[4], 0x20);
	CHECK_EQ(s.req[5], 0x01);
	CHECK_EQ(s.req[19], 0x01);
	CHECK_EQ(s.req[20], 18333 >> 8);
	CHECK_EQ(s.req[21], 18333 & 0xff);
	CHECK_EQ(cr_socks5_init(&s, "::1", 1), 0);
	CHECK_EQ(s.req[3], 4);
	CHECK_EQ(cr_socks5_init(&s, "example.onion", 8333), 0);
	CHECK_EQ(s.req[3], 3);
	CHECK_EQ(s.req[4], 13);
	CHECK_MEM(s.req + 5, "example.onion", 13);
	CHECK_EQ(s.req_len, 5 + 13 + 2);
	/* Greeting without credentials offers only "no authentication". */
	CHECK_EQ(cr_socks5_pending(&s, &p), 3);
	CHECK_MEM(p, ((uint8_t[]){5, 1, 0}), 3);
}

static void test_socks5_host_bounds(void)
{
	struct cr_socks5 s;
	char host[300];
	memset(host, 'a', sizeof(host));
	host[254] = '\0';
	CHECK_EQ(cr_socks5_init(&s, host, 1), 0);
	host[254] = 'a';
	host[255] = '\0';
	CHECK_EQ(cr_socks5_init(&s, host, 1), 0);
	CHECK_EQ(s.req[4], 255);
	CHECK_EQ(s.req_len, 5 + 255 + 2);
	host[255] = 'a';
	host[256] = '\0';
	CHECK_EQ(cr_socks5_init(&s, host, 1), CR_E_SOCKS_HOST);
	host[299] = '\0';
	CHECK_EQ(cr_socks5_init(&s, host, 1), CR_E_SOCKS_HOST);
	/* A failed init stays failed. */
	const uint8_t *p;
	CHECK_EQ(cr_socks5_pending(&s, &p), 0);
	CHECK_EQ(cr_socks5_recv(&s, (const uint8_t *)"\x05\x00", 2), CR_E_SOCKS_HOST);
	CHECK(!cr_socks5_done(&s));
	CHECK_EQ(cr_socks5_init(&s, "", 1), CR_E_INVAL);
	CHECK_EQ(cr_socks5_init(&s, "a b", 1), CR_E_INVAL);
	CHECK_EQ(cr_socks5_init(&s, "a\nb", 1), CR_E_INVAL);
	CHECK_EQ(cr_socks5_init(&s, "host", 0), CR_E_INVAL);
	CHECK_EQ(cr_socks5_init(&s, NULL, 1), CR_E_INVAL);
}

static void test_socks5_credential_bounds(void)
{
	struct cr_socks5 s;
	char cred[300];
	memset(cred, 'u', sizeof(cred));
	CHECK_EQ(cr_socks5_init_auth(&s, "1.2.3.4", 1, cred, 254, cred, 254), 0);
	CHECK_EQ(cr_socks5_init_auth(&s, "1.2.3.4", 1, cred, 255, cred, 255), 0);
	CHECK_EQ(cr_socks5_init_auth(&s, "1.2.3.4", 1, cred, 256, cred, 1), CR_E_INVAL);
	CHECK_EQ(cr_socks5_init_auth(&s, "1.2.3.4", 1, cred, 1, cred, 256), CR_E_INVAL);
	CHECK_EQ(cr_socks5_init_auth(&s, "1.2.3.4", 1, NULL, 0, NULL, 0), 0);

	/* The full 255/255 authentication message goes out intact. */
	uint8_t server[4 + sizeof(ok_v4_reply)] = {5, 2, 1, 0};
	memcpy(server + 4, ok_v4_reply, sizeof(ok_v4_reply));
	uint8_t sent[2048];
	size_t sent_len, used;
	char pass[255];
	memset(pass, 'p', sizeof(pass));
	CHECK_EQ(cr_socks5_init_auth(&s, "1.2.3.4", 1, cred, 255, pass, 255), 0);
	CHECK(drive(&s, server, sizeof(server), 1, sent, &sent_len, &used) >= 0);
	CHECK(cr_socks5_done(&s));
	CHECK_EQ(sent_len, 4 + 3 + 255 + 255 + 10);
	CHECK_MEM(sent, ((uint8_t[]){5, 2, 0, 2, 1, 255}), 6);
	CHECK_EQ(sent[4 + 2 + 255], 255);
	CHECK_EQ(sent[4 + 3 + 255], 'p');
	CHECK_EQ(sent[4 + 3 + 255 + 254], 'p');
	/* No copy of the secret remains once the CONNECT is under way. */
	CHECK(memchr(s.cred, 'u', sizeof(s.cred)) == NULL);
	CHECK(memchr(s.out, 'p', sizeof(s.out)) == NULL);
}

/* A full transcript fed in every possible split, and byte by byte, gives the
 * same result and the same bytes sent. */
static void test_socks5_chunking(void)
{
	uint8_t server[512];
	size_t n = 0;
	server[n++] = 5;
	server[n++] = 2; /* user/pass */
	server[n++] = 1;
	server[n++] = 0; /* accepted */
	server[n++] = 5;
	server[n++] = 0;
	server[n++] = 0;
	server[n++] = 3; /* domain */
	server[n++] = 255;
	for (int i = 0; i < 255; i++)
		server[n++] = (uint8_t)('a' + i % 26);
	server[n++] = 0x12;
	server[n++] = 0x34;
	size_t reply_end = n;
	memcpy(server + n, "PEERDATA", 8);
	n += 8;

	uint8_t ref[2048];
	size_t ref_len = 0;
	for (size_t chunk = 0; chunk <= n; chunk++) {
		struct cr_socks5 s;
		uint8_t sent[2048];
		size_t sent_len, used;
		CHECK_EQ(cr_socks5_init_auth(&s, "node.example", 8333, "user", 4, "pw", 2), 0);
		int r = drive(&s, server, n, chunk, sent, &sent_len, &used);
		CHECK(r >= 0);
		CHECK(cr_socks5_done(&s));
		CHECK_EQ(used, reply_end);
		CHECK_EQ(s.bound_atyp, 3);
		CHECK_EQ(s.bound_len, 255);
		CHECK_EQ(s.bound_port, 0x1234);
		CHECK_EQ(s.bound_addr[254], 'a' + 254 % 26);
		if (chunk == 0) {
			memcpy(ref, sent, sent_len);
			ref_len = sent_len;
		} else {
			CHECK_EQ(sent_len, ref_len);
			CHECK_MEM(sent, ref, ref_len);
		}
		/* After done nothing more is consumed. */
		CHECK_EQ(cr_socks5_recv(&s, (const uint8_t *)"x", 1), 0);
	}
}

/* Every reply code: success completes, every other one fails with its code. */
static void test_socks5_reply_codes(void)
{
	for (int code = 0; code <= 0xff; code++) {
		struct cr_socks5 s;
		uint8_t server[12] = {5, 0, 5, (uint8_t)code, 0, 1, 127, 0, 0, 1, 0, 80};
		uint8_t sent[64];
		size_t sent_len, used;
		CHECK_EQ(cr_socks5_init(&s, "10.0.0.1", 8333), 0);
		int r = drive(&s, server, sizeof(server), code % 3, sent, &sent_len, &used);
		if (code == 0) {
			CHECK(r >= 0);
			CHECK(cr_socks5_done(&s));
		} else {
			CHECK_EQ(r, CR_E_SOCKS_REPLY);
			CHECK_EQ(s.reply_code, code);
			CHECK(!cr_socks5_done(&s));
			/* Sticky. */
			CHECK_EQ(cr_socks5_recv(&s, server, 1), CR_E_SOCKS_REPLY);
		}
		CHECK(cr_socks5_reply_str((uint8_t)code) != NULL);
	}
	CHECK(strcmp(cr_socks5_reply_str(5), "connection refused") == 0);
	CHECK(strcmp(cr_socks5_reply_str(0xf6), "onion service invalid address") == 0);
	CHECK(strcmp(cr_socks5_reply_str(0x42), "unknown SOCKS5 reply code") == 0);
	CHECK(strcmp(cr_proto_strerror(CR_E_SOCKS_REPLY), "socks5: connect refused by proxy") == 0);
}

static int run_bytes(bool auth, const uint8_t *server, size_t n)
{
	struct cr_socks5 s;
	uint8_t sent[1024];
	size_t sent_len, used;
	if (auth)
		cr_socks5_init_auth(&s, "10.0.0.1", 8333, "u", 1, "p", 1);
	else
		cr_socks5_init(&s, "10.0.0.1", 8333);
	int r = drive(&s, server, n, 1, sent, &sent_len, &used);
	return r < 0 ? r : cr_socks5_done(&s) ? 1 : 0;
}

static void test_socks5_protocol_errors(void)
{
	/* Wrong version in the method reply, the auth reply and the CONNECT reply. */
	CHECK_EQ(run_bytes(false, (uint8_t[]){4, 0}, 2), CR_E_SOCKS_VERSION);
	CHECK_EQ(run_bytes(true, (uint8_t[]){5, 2, 5, 0}, 4), CR_E_SOCKS_VERSION);
	CHECK_EQ(run_bytes(false, (uint8_t[]){5, 0, 4, 0, 0, 1, 0, 0, 0, 0, 0, 0}, 12), CR_E_SOCKS_VERSION);
	/* No acceptable method; a method not offered (user/pass, GSSAPI). */
	CHECK_EQ(run_bytes(false, (uint8_t[]){5, 0xff}, 2), CR_E_SOCKS_AUTH);
	CHECK_EQ(run_bytes(true, (uint8_t[]){5, 0xff}, 2), CR_E_SOCKS_AUTH);
	CHECK_EQ(run_bytes(false, (uint8_t[]){5, 2}, 2), CR_E_SOCKS_AUTH);
	CHECK_EQ(run_bytes(true, (uint8_t[]){5, 1}, 2), CR_E_SOCKS_AUTH);
	/* Credentials rejected (any non-zero status). */
	CHECK_EQ(run_bytes(true, (uint8_t[]){5, 2, 1, 1}, 4), CR_E_SOCKS_DENIED);
	CHECK_EQ(run_bytes(true, (uint8_t[]){5, 2, 1, 0xff}, 4), CR_E_SOCKS_DENIED);
	/* A server that offered credentials may still choose none. */
	CHECK_EQ(run_bytes(true, (uint8_t[]){5, 0, 5, 0, 0, 1, 0, 0, 0, 0, 0, 0}, 12), 1);
	/* Reserved byte, address types 0, 2, 5, 0xff, zero-length domain. */
	CHECK_EQ(run_bytes(false, (uint8_t[]){5, 0, 5, 0, 1, 1, 0, 0, 0, 0, 0, 0}, 12), CR_E_SOCKS_PROTO);
	CHECK_EQ(run_bytes(false, (uint8_t[]){5, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 12), CR_E_SOCKS_ADDR);
	CHECK_EQ(run_bytes(false, (uint8_t[]){5, 0, 5, 0, 0, 2, 0, 0, 0, 0, 0, 0}, 12), CR_E_SOCKS_ADDR);
	CHECK_EQ(run_bytes(false, (uint8_t[]){5, 0, 5, 0, 0, 5, 0, 0, 0, 0, 0, 0}, 12), CR_E_SOCKS_ADDR);
	CHECK_EQ(run_bytes(false, (uint8_t[]){5, 0, 5, 0, 0, 0xff, 0, 0, 0, 0, 0, 0}, 12), CR_E_SOCKS_ADDR);
	CHECK_EQ(run_bytes(false, (uint8_t[]){5, 0, 5, 0, 0, 3, 0, 0, 0}, 9), CR_E_SOCKS_ADDR);
	/* Domain of length 1 works; truncated replies are simply not done yet. */
	CHECK_EQ(run_bytes(false, (uint8_t[]){5, 0, 5, 0, 0, 3, 1, 'x', 0, 1}, 10), 1);
	CHECK_EQ(run_bytes(false, (uint8_t[]){5, 0, 5, 0, 0, 3, 1, 'x', 0}, 9), 0);
	CHECK_EQ(run_bytes(false, (uint8_t[]){5, 0, 5, 0, 0, 4, 0}, 7), 0);
	/* IPv6 bound address. */
	uint8_t v6[2 + 4 + 16 + 2] = {5, 0, 5, 0, 0, 4};
	v6[6] = 0xfe;
	v6[22] = 0x01;
	v6[23] = 0xbb;
	CHECK_EQ(run_bytes(false, v6, sizeof(v6)), 1);
}

/* A proxy that answers before the request was fully sent is a protocol or
 * bookkeeping error, never silently accepted. */
static void test_socks5_reply_before_sent(void)
{
	struct cr_socks5 s;
	const uint8_t *p;
	CHECK_EQ(cr_socks5_init(&s, "1.2.3.4", 1), 0);
	CHECK_EQ(cr_socks5_pending(&s, &p), 3);
	cr_socks5_sent(&s, 2);
	CHECK_EQ(cr_socks5_recv(&s, (const uint8_t *)"\x05\x00", 2), CR_E_SOCKS_STATE);
	CHECK_EQ(cr_socks5_pending(&s, &p), 0);

	/* Method choice and CONNECT reply in one chunk: the reply cannot exist
	 * before the CONNECT was sent. */
	CHECK_EQ(cr_socks5_init(&s, "1.2.3.4", 1), 0);
	cr_socks5_pending(&s, &p);
	cr_socks5_sent(&s, 3);
	static const uint8_t both[] = {5, 0, 5, 0, 0, 1, 0, 0, 0, 0, 0, 0};
	CHECK_EQ(cr_socks5_recv(&s, both, sizeof(both)), CR_E_SOCKS_STATE);
	/* Over-reporting sent bytes is clamped. */
	CHECK_EQ(cr_socks5_init(&s, "1.2.3.4", 1), 0);
	cr_socks5_sent(&s, 1000);
	CHECK_EQ(cr_socks5_pending(&s, &p), 0);
	CHECK_EQ(cr_socks5_recv(&s, both, 2), 2);
	CHECK_EQ(cr_socks5_pending(&s, &p), 10);
}

/* ---- real proxies ---- */

/* A port below the ephemeral range (see port_util.h). */
static int free_port(void)
{
	return cr_test_free_port();
}

/* Connects to 127.0.0.1:port, retrying until deadline_ms passes. */
static int connect_retry(int port, int deadline_ms)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	for (int waited = 0; waited < deadline_ms; waited += 20) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0)
			return -1;
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
			return fd;
		close(fd);
		usleep(20000);
	}
	return -1;
}

static pid_t spawn(char *const argv[])
{
	pid_t pid = fork();
	if (pid == 0) {
		/* The proxy dies with the test, even if the test crashes. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static void stop(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	for (int i = 0; i < 100; i++) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return;
		usleep(20000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

struct echo {
	int lfd;
	int port;
	int family;
	pthread_t th;
};

/* Echoes every connection until the listening socket is shut down. */
static void *echo_main(void *arg)
{
	struct echo *e = arg;
	for (;;) {
		int c = accept(e->lfd, NULL, NULL);
		if (c < 0)
			return NULL;
		uint8_t buf[4096];
		ssize_t n;
		while ((n = read(c, buf, sizeof(buf))) > 0)
			if (write(c, buf, (size_t)n) != n)
				break;
		close(c);
	}
}

static int echo_start(struct echo *e, int family)
{
	e->family = family;
	e->lfd = socket(family, SOCK_STREAM, 0);
	struct sockaddr_storage ss = {0};
	socklen_t len;
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		len = sizeof(*a);
	}
	if (e->lfd < 0 || bind(e->lfd, (struct sockaddr *)&ss, len) < 0 || listen(e->lfd, 16) < 0 ||
	    getsockname(e->lfd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	e->port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					  : ((struct sockaddr_in6 *)&ss)->sin6_port);
	return pthread_create(&e->th, NULL, echo_main, e) == 0 ? 0 : -1;
}

static void echo_stop(struct echo *e)
{
	shutdown(e->lfd, SHUT_RDWR);
	pthread_join(e->th, NULL);
	close(e->lfd);
}

/* Drives s over a blocking socket to the proxy, reading recv_chunk bytes at
 * a time. Returns the socks5 result (1 done, or negative) and leaves any
 * early peer bytes in extra. */
static int proxy_handshake(int fd, struct cr_socks5 *s, size_t recv_chunk)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	while (!cr_socks5_done(s)) {
		const uint8_t *p;
		size_t n = cr_socks5_pending(s, &p);
		if (n) {
			ssize_t w = write(fd, p, n);
			if (w <= 0)
				return -errno;
			cr_socks5_sent(s, (size_t)w);
			continue;
		}
		if (poll(&pfd, 1, 5000) != 1)
			return -ETIMEDOUT;
		uint8_t buf[512];
		ssize_t got = read(fd, buf, recv_chunk < sizeof(buf) ? recv_chunk : sizeof(buf));
		if (got <= 0)
			return got == 0 ? -ECONNRESET : -errno;
		int r = cr_socks5_recv(s, buf, (size_t)got);
		if (r < 0)
			return r;
		CHECK_EQ(r, got); /* the echo never speaks first */
	}
	return 1;
}

static void echo_through(int fd)
{
	static const char msg[] = "connring through a SOCKS5 proxy";
	CHECK_EQ(write(fd, msg, sizeof(msg)), (ssize_t)sizeof(msg));
	char back[sizeof(msg)];
	size_t got = 0;
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	while (got < sizeof(back) && poll(&pfd, 1, 5000) == 1) {
		ssize_t n = read(fd, back + got, sizeof(back) - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	CHECK_EQ(got, sizeof(msg));
	CHECK_MEM(back, msg, sizeof(msg));
}

static int via_proxy(int proxy_port, struct cr_socks5 *s, size_t chunk, bool echo)
{
	int fd = connect_retry(proxy_port, 5000);
	CHECK(fd >= 0);
	if (fd < 0)
		return -1;
	int r = proxy_handshake(fd, s, chunk);
	if (r == 1 && echo)
		echo_through(fd);
	close(fd);
	return r;
}

static bool have(const char *path)
{
	if (access(path, X_OK) == 0)
		return true;
	fprintf(stderr, "FAIL: %s is not installed (scripts/bootstrap installs it)\n", path);
	CHECK(!"proxy server missing");
	return false;
}

/* danted without authentication: IPv4, IPv6 and a name it resolves, chunked
 * reads, and a real "connection refused" reply. */
static void test_socks5_danted(void)
{
	if (!have("/usr/sbin/danted"))
		return;
	char dir[] = "/tmp/cr-socks5-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	int port = free_port();
	CHECK(port > 0);
	char conf[256], pidf[256];
	snprintf(conf, sizeof(conf), "%s/danted.conf", dir);
	snprintf(pidf, sizeof(pidf), "%s/danted.pid", dir);
	FILE *f = fopen(conf, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	fprintf(f, "logoutput: stderr\n"
		   "internal: 127.0.0.1 port = %d\n"
		   "external: lo\n"
		   "clientmethod: none\n"
		   "socksmethod: none\n"
		   "client pass { from: 127.0.0.0/8 to: 0/0 }\n"
		   "socks pass { from: 127.0.0.0/8 to: 0/0 }\n",
		port);
	fclose(f);
	pid_t pid = spawn((char *[]){"/usr/sbin/danted", "-f", conf, "-N", "1", "-p", pidf, NULL});
	CHECK(pid > 0);
	int probe = connect_retry(port, 10000);
	CHECK(probe >= 0);
	if (probe >= 0)
		close(probe);

	struct echo e4, e6;
	CHECK_EQ(echo_start(&e4, AF_INET), 0);
	CHECK_EQ(echo_start(&e6, AF_INET6), 0);
	struct cr_socks5 s;
	CHECK_EQ(cr_socks5_init(&s, "127.0.0.1", (uint16_t)e4.port), 0);
	CHECK_EQ(via_proxy(port, &s, 512, true), 1);
	CHECK_EQ(s.bound_atyp, 1);
	CHECK_EQ(cr_socks5_init(&s, "127.0.0.1", (uint16_t)e4.port), 0);
	CHECK_EQ(via_proxy(port, &s, 1, true), 1); /* the proxy's reply byte by byte */
	CHECK_EQ(cr_socks5_init(&s, "[::1]", (uint16_t)e6.port), 0);
	CHECK_EQ(via_proxy(port, &s, 3, true), 1);
	CHECK_EQ(cr_socks5_init(&s, "localhost", (uint16_t)e4.port), 0);
	CHECK_EQ(via_proxy(port, &s, 7, true), 1);
	/* A closed port: danted relays the kernel's refusal as reply code 5. */
	int closed = free_port();
	CHECK_EQ(cr_socks5_init(&s, "127.0.0.1", (uint16_t)closed), 0);
	CHECK_EQ(via_proxy(port, &s, 512, false), CR_E_SOCKS_REPLY);
	CHECK_EQ(s.reply_code, CR_SOCKS5_CONN_REFUSED);
	echo_stop(&e4);
	echo_stop(&e6);
	stop(pid);
	unlink(conf);
	unlink(pidf);
	rmdir(dir);
}

/* microsocks with RFC 1929: right credentials, wrong ones, and a client that
 * offers no authentication to a server that requires it. */
static void test_socks5_microsocks_auth(void)
{
	if (!have("/usr/bin/microsocks"))
		return;
	int port = free_port();
	CHECK(port > 0);
	char ports[16];
	snprintf(ports, sizeof(ports), "%d", port);
	pid_t pid = spawn((char *[]){"/usr/bin/microsocks", "-i", "127.0.0.1", "-p", ports,
				     "-u", "alice", "-P", "s3cret", NULL});
	CHECK(pid > 0);
	int probe = connect_retry(port, 10000);
	CHECK(probe >= 0);
	if (probe >= 0)
		close(probe);
	struct echo e4;
	CHECK_EQ(echo_start(&e4, AF_INET), 0);
	struct cr_socks5 s;
	CHECK_EQ(cr_socks5_init_auth(&s, "127.0.0.1", (uint16_t)e4.port, "alice", 5, "s3cret", 6), 0);
	CHECK_EQ(via_proxy(port, &s, 1, true), 1);
	CHECK_EQ(cr_socks5_init_auth(&s, "127.0.0.1", (uint16_t)e4.port, "alice", 5, "wrong", 5), 0);
	CHECK_EQ(via_proxy(port, &s, 512, false), CR_E_SOCKS_DENIED);
	CHECK_EQ(cr_socks5_init(&s, "127.0.0.1", (uint16_t)e4.port), 0);
	CHECK_EQ(via_proxy(port, &s, 512, false), CR_E_SOCKS_AUTH);
	echo_stop(&e4);
	stop(pid);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	RUN(test_socks5_noauth_ipv4_request_bytes);
	RUN(test_socks5_ipv6_and_domain_requests);
	RUN(test_socks5_host_bounds);
	RUN(test_socks5_credential_bounds);
	RUN(test_socks5_chunking);
	RUN(test_socks5_reply_codes);
	RUN(test_socks5_protocol_errors);
	RUN(test_socks5_reply_before_sent);
	RUN(test_socks5_danted);
	RUN(test_socks5_microsocks_auth);
	return check_done();
}
