/* Raw peers for the address-relay engine tests: a loopback listener the
 * engine connects out to (cr_add_connection), inbound and outbound peers
 * through the handshake, a bounded reader of whole V1 messages, and addr
 * payloads of routable test addresses. Header-only,
 * tests only; expects check.h, engine_util.h and raw_peer.h first. */
#ifndef CR_TESTS_ADDR_PEER_H
#define CR_TESTS_ADDR_PEER_H

#include <poll.h>
#include <stdlib.h>
#include <time.h>

#include "proto/services.h"

/* A listener on 127.0.0.1, any free port. */
static inline int ap_listen(uint16_t *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK_EQ(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	CHECK_EQ(listen(fd, 16), 0);
	socklen_t len = sizeof sa;
	getsockname(fd, (struct sockaddr *)&sa, &len);
	*port = ntohs(sa.sin_port);
	return fd;
}

/* Accepts one connection within ms; -1 when none came. */
static inline int ap_accept(int lfd, int ms)
{
	struct pollfd pf = { .fd = lfd, .events = POLLIN };
	if (poll(&pf, 1, ms) != 1)
		return -1;
	return accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
}

static inline uint64_t ap_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Reads exactly n bytes before the deadline: 1, 0 on EOF, -1 on timeout. */
static inline int ap_read_full(int fd, uint8_t *out, size_t n, uint64_t deadline_ms)
{
	size_t got = 0;
	while (got < n) {
		uint64_t now = ap_now_ms();
		if (now >= deadline_ms)
			return -1;
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		if (poll(&pf, 1, (int)(deadline_ms - now)) != 1)
			return -1;
		ssize_t r = read(fd, out + got, n - got);
		if (r <= 0)
			return 0;
		got += (size_t)r;
	}
	return 1;
}

/* One message: its command and payload (malloc'd into *payload, free it).
 * Returns 1, 0 on EOF, -1 on timeout (ms from now). */
static inline int ap_read_msg(int fd, char cmd[13], uint8_t **payload, size_t *len, int ms)
{
	uint8_t h[CR_V1_HEADER_SIZE];
	uint64_t deadline = ap_now_ms() + (uint64_t)ms;
	*payload = NULL;
	*len = 0;
	int r = ap_read_full(fd, h, sizeof h, deadline);
	if (r != 1)
		return r;
	memcpy(cmd, h + 4, 12);
	cmd[12] = '\0';
	uint32_t n = (uint32_t)h[16] | (uint32_t)h[17] << 8 | (uint32_t)h[18] << 16 | (uint32_t)h[19] << 24;
	CHECK(n <= 4000000);
	*payload = malloc(n ? n : 1);
	*len = n;
	r = ap_read_full(fd, *payload, n, deadline);
	if (r != 1) {
		free(*payload);
		*payload = NULL;
	}
	return r;
}

/* Any size of message (raw_send stops at 4 KiB). */
static inline void ap_send(int fd, const char *cmd, const uint8_t *payload, size_t len)
{
	uint8_t *buf = malloc(CR_V1_HEADER_SIZE + len);
	if (len)
		memcpy(buf + CR_V1_HEADER_SIZE, payload, len);
	int n = cr_v1_encode(buf, CR_V1_HEADER_SIZE + len, cr_chain_get(CR_CHAIN_REGTEST)->magic, cmd,
			     (uint32_t)len);
	CHECK(n > 0);
	if (n > 0)
		raw_write(fd, buf, (size_t)n);
	free(buf);
}

/* The i-th test address: 11.x.y.z (i < 2^24 - 2^16), routable, never connected to (the
 * engines of these tests open no automatic connections). */
static inline struct cr_peeraddr ap_addr(uint32_t i, uint32_t time)
{
	struct cr_peeraddr a;
	memset(&a, 0, sizeof a);
	a.na.net = CR_NET_IPV4;
	a.na.len = 4;
	/* the low byte in the /16, so that addresses spread over netgroups
	 * (the address manager's buckets are per netgroup) */
	a.na.addr[0] = 11;
	a.na.addr[1] = (uint8_t)i;
	a.na.addr[2] = (uint8_t)(i >> 8);
	a.na.addr[3] = (uint8_t)((i >> 16) + 1);
	a.port = 18444;
	a.time = time;
	a.services = CR_NODE_NETWORK | CR_NODE_WITNESS;
	return a;
}

static inline uint32_t ap_time_now(void)
{
	return (uint32_t)time(NULL);
}

/* Sends an addr message of addresses first .. first + n - 1 (n <= 1000). */
static inline void ap_send_addrs(int fd, uint32_t first, size_t n, uint32_t t)
{
	struct cr_peeraddr *v = malloc((n ? n : 1) * sizeof *v);
	for (size_t i = 0; i < n; i++)
		v[i] = ap_addr(first + (uint32_t)i, t);
	size_t cap = 3 + n * CR_MSG_ADDR_ENTRY_SIZE;
	uint8_t *p = malloc(cap);
	struct cr_addr_list l = { .entries = v, .cap = n, .count = n };
	int len = cr_msg_addr_encode(p, cap, &l);
	CHECK(len > 0);
	if (len > 0)
		ap_send(fd, "addr", p, (size_t)len);
	free(p);
	free(v);
}

/* Reads messages for up to ms until one named want (and, when
 * want_payload is not NULL, with that payload) arrives: 1 when it did (its
 * payload into *payload when not NULL, else freed), 0 on EOF, -1 on
 * timeout. Counts the addr/addrv2/getaddr messages seen on the way into
 * *addr_msgs and their entries into *entries (either may be NULL). */
static inline int ap_read_until(int fd, const char *want, const uint8_t *want_payload, size_t want_len,
				unsigned *addr_msgs, size_t *entries, uint8_t **payload, size_t *len, int ms)
{
	uint64_t deadline = ap_now_ms() + (uint64_t)ms;
	for (;;) {
		uint64_t now = ap_now_ms();
		if (now >= deadline)
			return -1;
		char cmd[13];
		uint8_t *p;
		size_t n;
		int r = ap_read_msg(fd, cmd, &p, &n, (int)(deadline - now));
		if (r != 1)
			return r;
		if (!strcmp(cmd, "addr") || !strcmp(cmd, "addrv2") || !strcmp(cmd, "getaddr")) {
			if (addr_msgs)
				++*addr_msgs;
			if (entries && n) {
				struct cr_peeraddr v[1000];
				struct cr_addr_list l = { .entries = v, .cap = 1000 };
				if ((!strcmp(cmd, "addr") ? cr_msg_addr_decode(&l, p, n)
							  : cr_msg_addrv2_decode(&l, p, n)) == 0)
					*entries += l.count;
			}
		}
		if (!strcmp(cmd, want) && (!want_payload || (n == want_len && !memcmp(p, want_payload, n)))) {
			if (payload) {
				*payload = p;
				*len = n;
			} else {
				free(p);
			}
			return 1;
		}
		free(p);
	}
}

/* Waits for the engine's pong to a ping sent now: the engine handles a
 * peer's messages in order, so everything sent before was processed.
 * Counts as ap_read_until. 1 on the pong. */
static inline int ap_barrier(int fd, unsigned *addr_msgs, size_t *entries, int ms)
{
	uint8_t ping[8] = { 0x42, 1, 2, 3, 4, 5, 6, 7 };
	raw_send(fd, "ping", ping, sizeof ping);
	return ap_read_until(fd, "pong", ping, sizeof ping, addr_msgs, entries, NULL, NULL, ms);
}

/* Reads messages for up to ms until one named cmd arrives (see
 * ap_read_until). */
static inline int ap_wait_cmd(int fd, const char *want, uint8_t **payload, size_t *len, int ms)
{
	return ap_read_until(fd, want, NULL, 0, NULL, NULL, payload, len, ms);
}

/* An inbound peer of ours: connected and through the handshake. */
static inline int ap_inbound(struct cr_engine *e, struct rec *r)
{
	unsigned ready = rec_get(r, &r->ready);
	int fd = raw_connect(cr_engine_port(e));
	raw_handshake(fd);
	CHECK(WAIT_FOR(rec_get(r, &r->ready) > ready, 5000));
	return fd;
}

/* The engine connects out to our listener as type (V1); we take the
 * connection, read its version (into *v when not NULL) and finish the
 * handshake. Returns our end, or -1. */
static inline int ap_outbound(struct cr_engine *e, struct rec *r, int lfd, uint16_t port,
			      enum cr_conn_type type, struct cr_version *v)
{
	char hp[32];
	snprintf(hp, sizeof hp, "127.0.0.1:%u", port);
	unsigned ready = rec_get(r, &r->ready);
	CHECK_EQ(cr_add_connection(e, hp, type, CR_CONNECT_V1), 0);
	int fd = ap_accept(lfd, 5000);
	CHECK(fd >= 0);
	if (fd < 0)
		return -1;
	uint8_t *p = NULL;
	size_t len = 0;
	CHECK_EQ(ap_wait_cmd(fd, "version", &p, &len, 5000), 1);
	if (p) {
		if (v)
			CHECK_EQ(cr_msg_version_decode(v, p, len), 0);
		free(p);
	}
	raw_handshake(fd);
	CHECK(WAIT_FOR(rec_get(r, &r->ready) > ready, 5000));
	return fd;
}

static inline struct cr_totals ap_totals(struct cr_engine *e)
{
	struct cr_totals t;
	cr_engine_totals(e, &t, sizeof t);
	return t;
}

#endif
