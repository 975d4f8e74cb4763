/* Outbound connections: a socket created straight into the fixed-file table,
 * TCP_NODELAY set through io_uring, connect linked to a timeout
 * (connect_timeout_ms), then optionally a SOCKS5 exchange through the
 * sans-IO client of proto/socks5.h, then the transport and the handshake.
 * A V2 attempt the peer refuses is redone once with V1. Owner worker thread
 * only, except cr_parse_hostport (pure; any thread). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "proto/err.h"
#if __has_include("proto/socks5.h")
#include "proto/socks5.h"
#define CR_HAVE_SOCKS5 1
#endif

/* Parses "1.2.3.4", "1.2.3.4:8333", "[::1]:8333" or "::1" (numeric only). */
int cr_parse_hostport(const char *s, uint16_t default_port, struct sockaddr_storage *out)
{
	char host[128];
	const char *port_s = NULL;
	memset(out, 0, sizeof *out);
	if (!s || strlen(s) >= sizeof host)
		return -EINVAL;
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (!end || (size_t)(end - s - 1) >= sizeof host)
			return -EINVAL;
		memcpy(host, s + 1, (size_t)(end - s - 1));
		host[end - s - 1] = '\0';
		if (end[1] == ':')
			port_s = end + 2;
		else if (end[1] != '\0')
			return -EINVAL;
	} else {
		snprintf(host, sizeof host, "%s", s);
		char *colon = strchr(host, ':');
		if (colon && !strchr(colon + 1, ':')) { /* one colon: host:port */
			*colon = '\0';
			port_s = colon + 1;
		}
	}
	unsigned long port = default_port;
	if (port_s) {
		char *end;
		if (!*port_s)
			return -EINVAL;
		port = strtoul(port_s, &end, 10);
		if (*end || port > 65535)
			return -EINVAL;
	}
	struct sockaddr_in *a4 = (struct sockaddr_in *)out;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)out;
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		return 0;
	}
	return -EINVAL;
}

static socklen_t addr_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

/* Where the TCP connection goes: the proxy if one is configured. */
static const struct sockaddr_storage *target(struct cr_worker *w, struct cr_peer *p,
					     struct sockaddr_storage *tmp)
{
	if (w->e->cfg.proxy[0] && cr_parse_hostport(w->e->cfg.proxy, 1080, tmp) == 0)
		return tmp;
	return &p->addr;
}

void cr_connect_start(struct cr_worker *w, struct cr_cmd *c)
{
	struct cr_engine *e = w->e;
	struct cr_peer *p = w->stopping ? NULL : cr_peer_alloc(w);
	if (!p) {
		cr_log(e, CR_LOG_WARN, "outbound to %s: no free peer slot", c->host);
		if (c->manual != UINT32_MAX)
			cr_coord_event(e, CMD_EV_DOWN, c->manual, false);
		return;
	}
	atomic_fetch_add(&e->outbound_now, 1);
	CR_STAT_ADD(w, outbound, 1);
	CR_STAT_ADD(w, connects, 1);
	p->inbound = false;
	p->manual = c->manual;
	p->connect_flags = c->flags;
	p->type = (c->flags & CR_CONNECT_PERSISTENT) || c->manual != UINT32_MAX ? CR_CONN_MANUAL
										 : CR_CONN_OUTBOUND;
	p->addr = c->addr;
	snprintf(p->host, sizeof p->host, "%s", e->cfg.proxy[0] ? c->host : "");
	p->try_v2 = e->cfg.v2transport && !(c->flags & CR_CONNECT_V1);
	struct sockaddr_storage tmp;
	int fam = target(w, p, &tmp)->ss_family;
	struct io_uring_sqe *sqe = cr_sqe(&w->ring);
	io_uring_prep_socket_direct_alloc(sqe, fam, SOCK_STREAM, 0, 0);
	io_uring_sqe_set_data64(sqe, cr_ud(OP_SOCKET, p->slot, p->gen));
	p->ops++;
	cr_node_open(w, p); /* the handshake clock covers connect and proxy too */
}

/* TCP_NODELAY through IORING_OP_URING_CMD (SOCKET_URING_OP_SETSOCKOPT,
 * 6.7+): a direct descriptor has no setsockopt(). The field layout is the
 * kernel's; liburing 2.3 predates it. A refusal is harmless. */
static void set_nodelay(struct cr_worker *w, struct cr_peer *p)
{
	static const int one = 1;
	struct io_uring_sqe *sqe = cr_sqe(&w->ring);
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, p->fd, NULL, 0, 0);
	sqe->off = 3; /* cmd_op = SOCKET_URING_OP_SETSOCKOPT */
	sqe->addr = (uint64_t)IPPROTO_TCP | (uint64_t)TCP_NODELAY << 32; /* level, optname */
	sqe->file_index = sizeof one;                                       /* optlen */
	sqe->addr3 = (uint64_t)(uintptr_t)&one;                             /* optval */
	sqe->flags |= IOSQE_FIXED_FILE | IOSQE_CQE_SKIP_SUCCESS;
	io_uring_sqe_set_data64(sqe, cr_ud(OP_CANCEL, 0, 0));
}

void cr_socket_complete(struct cr_worker *w, struct cr_peer *p, int res)
{
	cr_peer_op_done(w, p);
	if (res >= 0)
		p->fd = res; /* closed with the slot if the peer is closing */
	if (p->state == PS_CLOSING)
		return;
	if (res < 0) {
		CR_STAT_ADD(w, connect_failures, 1);
		cr_peer_close(w, p, CR_CLOSE_CONNECT_FAILED, strerror(-res));
		return;
	}
	set_nodelay(w, p);
	struct sockaddr_storage tmp;
	const struct sockaddr_storage *to = target(w, p, &tmp);
	/* the kernel reads the address when it issues the connect, which may
	 * be after this function: keep it in the peer */
	p->conn_to = *to;
	cr_peer_zc_for(w, p, to);
	struct io_uring_sqe *sqe = cr_sqe(&w->ring);
	io_uring_prep_connect(sqe, p->fd, (struct sockaddr *)&p->conn_to, addr_len(to));
	sqe->flags |= IOSQE_FIXED_FILE | IOSQE_IO_LINK;
	io_uring_sqe_set_data64(sqe, cr_ud(OP_CONNECT, p->slot, p->gen));
	p->ops++;
	unsigned ms = w->e->cfg.connect_timeout_ms;
	w->connect_ts.tv_sec = ms / 1000;
	w->connect_ts.tv_nsec = (long long)(ms % 1000) * 1000000;
	sqe = cr_sqe(&w->ring);
	io_uring_prep_link_timeout(sqe, &w->connect_ts, 0);
	io_uring_sqe_set_data64(sqe, cr_ud(OP_CANCEL, 0, 0));
}

static void open_transport(struct cr_worker *w, struct cr_peer *p)
{
	p->state = PS_OPEN;
	p->open_us = cr_now_us();
	int ret = cr_transport_start(w, p, true, p->try_v2);
	if (ret < 0) {
		cr_peer_close(w, p, CR_CLOSE_RESOURCES, cr_strerror(ret));
		return;
	}
	char a[64];
	cr_addr_str(&p->addr, a, sizeof a);
	cr_log(w->e, CR_LOG_INFO, "connect peer=%llx outbound to %s%s%s (%s)",
	       (unsigned long long)cr_peer_id(w, p), p->host[0] ? p->host : a,
	       p->host[0] ? " via proxy" : "", "", p->try_v2 ? "v2" : "v1");
	cr_node_open(w, p);
	cr_pump_transport(w, p);
	cr_recv_arm(w, p);
}

#ifdef CR_HAVE_SOCKS5
static void proxy_pump(struct cr_worker *w, struct cr_peer *p)
{
	const uint8_t *out;
	size_t n = cr_socks5_pending(p->socks, &out);
	if (!n)
		return;
	struct cr_sbuf *b = cr_sbuf_new(w, n);
	if (!b) {
		cr_peer_close(w, p, CR_CLOSE_RESOURCES, "out of memory");
		return;
	}
	memcpy(b->data, out, n);
	b->len = n;
	cr_socks5_sent(p->socks, n);
	cr_sendq_push(w, p, b, 0, n);
	cr_sbuf_unref(w, b);
}
#endif

static int start_proxy(struct cr_worker *w, struct cr_peer *p)
{
#ifdef CR_HAVE_SOCKS5
	char host[128];
	uint16_t port = 0;
	snprintf(host, sizeof host, "%s", p->host);
	char *colon = strrchr(host, ':');
	if (colon) {
		*colon = '\0';
		port = (uint16_t)atoi(colon + 1);
	}
	char *h = host;
	if (h[0] == '[') { /* "[v6]:port" */
		h++;
		char *end = strchr(h, ']');
		if (end)
			*end = '\0';
	}
	p->socks = calloc(1, sizeof(struct cr_socks5));
	if (!p->socks)
		return -ENOMEM;
	int ret = cr_socks5_init(p->socks, h, port);
	if (ret < 0)
		return ret;
	p->state = PS_PROXY;
	proxy_pump(w, p);
	cr_recv_arm(w, p);
	return 0;
#else
	(void)w;
	(void)p;
	return -ENOTSUP;
#endif
}

void cr_connect_complete(struct cr_worker *w, struct cr_peer *p, int res)
{
	cr_peer_op_done(w, p);
	if (p->state == PS_CLOSING)
		return;
	if (res < 0) {
		CR_STAT_ADD(w, connect_failures, 1);
		cr_peer_close(w, p, CR_CLOSE_CONNECT_FAILED,
			      res == -ECANCELED ? "connect timed out" : strerror(-res));
		return;
	}
	if (p->host[0]) {
		int ret = start_proxy(w, p);
		if (ret < 0)
			cr_peer_close(w, p, CR_CLOSE_PROXY, cr_strerror(ret));
		return;
	}
	open_transport(w, p);
}

/* Bytes from the proxy during the SOCKS5 exchange. Anything after the
 * server's final reply already belongs to the peer's transport. */
int cr_proxy_recv(struct cr_worker *w, struct cr_peer *p, const uint8_t *in, size_t len)
{
#ifdef CR_HAVE_SOCKS5
	int n = cr_socks5_recv(p->socks, in, len);
	if (n < 0) {
		cr_peer_close(w, p, CR_CLOSE_PROXY, cr_strerror(n));
		return n;
	}
	proxy_pump(w, p);
	if (!cr_socks5_done(p->socks))
		return 0;
	free(p->socks);
	p->socks = NULL;
	open_transport(w, p);
	if ((size_t)n < len && p->state == PS_OPEN)
		cr_recv_feed(w, p, in + n, len - (size_t)n);
	return 0;
#else
	(void)in;
	(void)len;
	cr_peer_close(w, p, CR_CLOSE_PROXY, "SOCKS5 support not built");
	return -ENOTSUP;
#endif
}

/* The peer closed during our V2 key exchange: try once more with V1 (the
 * closing attempt's slot is freed separately). */
void cr_connect_retry_v1(struct cr_worker *w, struct cr_peer *old)
{
	struct cr_cmd *c = cr_cmd_new(CMD_CONNECT, 0);
	if (!c)
		return;
	c->addr = old->addr;
	c->flags = old->connect_flags | CR_CONNECT_V1;
	c->manual = old->manual;
	snprintf(c->host, sizeof c->host, "%s", old->host);
	if (!c->host[0])
		cr_addr_str(&old->addr, c->host, sizeof c->host);
	CR_STAT_ADD(w, v1_fallbacks, 1);
	cr_connect_start(w, c);
	cr_cmd_free(c);
}
