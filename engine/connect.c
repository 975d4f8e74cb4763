/* Outbound connections: a socket created straight into the fixed-file table,
 * TCP_NODELAY set through io_uring, connect linked to a timeout
 * (connect_timeout_ms), then optionally a SOCKS5 exchange through the
 * sans-IO client of proto/socks5.h, then the transport and the handshake.
 * A V2 attempt the peer refuses is redone once with V1. Owner worker thread
 * only. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr/addrstr.h"
#include "engine/internal.h"
#include "proto/err.h"
#include "proto/socks5.h"

/* Where the TCP connection goes: the proxy if one is configured. */
static const struct sockaddr_storage *target(struct cr_worker *w, struct cr_peer *p)
{
	return w->e->has_proxy ? &w->e->proxy : &p->addr;
}

void cr__connect_start(struct cr_worker *w, struct cr_mail *c)
{
	struct cr_engine *e = w->e;
	/* Core's OpenNetworkConnection: nothing opens while the network is
	 * inactive */
	bool active = cr__net_active(e);
	struct cr_peer *p = active && !w->stopping ? cr__peer_alloc(w) : NULL;
	if (!p) {
		if (active)
			cr__log(e, CR_LOG_WARN, CR_LOG_NET, "outbound to %s: no free peer slot", c->host);
		if (c->manual != UINT32_MAX || c->ev.token)
			cr__coord_connect_failed(e, c);
		return;
	}
	atomic_fetch_add(&e->outbound_now, 1);
	CR_STAT_ADD(w, outbound, 1);
	CR_STAT_ADD(w, connects, 1);
	p->flags &= ~PF_INBOUND;
	p->manual = c->manual;
	p->connect_flags = c->flags;
	p->token = c->ev.token;
	/* the coordinator names the type of every connection it places */
	p->type = (c->flags & CR_CONNECT_PERSISTENT) || c->manual != UINT32_MAX ? CR_CONN_MANUAL
		  : c->ev.type ? c->ev.type : CR_CONN_MANUAL;
	p->addr = c->addr;
	snprintf(p->host, sizeof p->host, "%s", e->has_proxy ? c->host : "");
	cr__peer_identify(w, p, CR_PERM_DIR_OUT); /* nothing for a name behind a proxy */
	cr__peer_flag(p, PF_TRY_V2, e->cfg.v2transport && !(c->flags & CR_CONNECT_V1));
	int fam = target(w, p)->ss_family;
	struct io_uring_sqe *sqe = cr__sqe(&w->ring);
	io_uring_prep_socket_direct_alloc(sqe, fam, SOCK_STREAM, 0, 0);
	io_uring_sqe_set_data64(sqe, cr__ud(OP_SOCKET, p->slot, p->gen));
	p->ops++;
	cr__node_open(w, p); /* the handshake clock covers connect and proxy too */
}

/* TCP_NODELAY through IORING_OP_URING_CMD (SOCKET_URING_OP_SETSOCKOPT,
 * 6.7+): a direct descriptor has no setsockopt(). The field layout is the
 * kernel's; liburing 2.3 predates it. A refusal is harmless. */
static void set_nodelay(struct cr_worker *w, struct cr_peer *p)
{
	static const int one = 1;
	struct io_uring_sqe *sqe = cr__sqe(&w->ring);
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, p->fd, NULL, 0, 0);
	sqe->off = 3; /* cmd_op = SOCKET_URING_OP_SETSOCKOPT */
	sqe->addr = (uint64_t)IPPROTO_TCP | (uint64_t)TCP_NODELAY << 32; /* level, optname */
	sqe->file_index = sizeof one;                                       /* optlen */
	sqe->addr3 = (uint64_t)(uintptr_t)&one;                             /* optval */
	sqe->flags |= IOSQE_FIXED_FILE | IOSQE_CQE_SKIP_SUCCESS;
	io_uring_sqe_set_data64(sqe, cr__ud(OP_CANCEL, 0, 0));
}

void cr__socket_complete(struct cr_worker *w, struct cr_peer *p, int res)
{
	cr__peer_op_done(w, p);
	if (res >= 0) {
		p->fd = res; /* closed with the slot if the peer is closing */
		CR_STAT_ADD(w, fixed_files, 1);
	}
	if (p->state == PS_CLOSING)
		return;
	if (res < 0) {
		CR_STAT_ADD(w, connect_failures, 1);
		cr__peer_close(w, p, CR_CLOSE_CONNECT_FAILED, strerror(-res));
		return;
	}
	set_nodelay(w, p);
	const struct sockaddr_storage *to = target(w, p);
	/* the kernel reads the address when it issues the connect, which may
	 * be after this function: keep it in the peer */
	p->conn_to = *to;
	cr__sendq_zc_for(w, p, to);
	struct io_uring_sqe *sqe = cr__sqe(&w->ring);
	io_uring_prep_connect(sqe, p->fd, (struct sockaddr *)&p->conn_to, cr__sockaddr_len(to));
	sqe->flags |= IOSQE_FIXED_FILE | IOSQE_IO_LINK;
	io_uring_sqe_set_data64(sqe, cr__ud(OP_CONNECT, p->slot, p->gen));
	p->ops++;
	unsigned ms = w->e->cfg.connect_timeout_ms;
	w->connect_ts.tv_sec = ms / 1000;
	w->connect_ts.tv_nsec = (long long)(ms % 1000) * 1000000;
	sqe = cr__sqe(&w->ring);
	io_uring_prep_link_timeout(sqe, &w->connect_ts, 0);
	io_uring_sqe_set_data64(sqe, cr__ud(OP_CANCEL, 0, 0));
}

static void open_transport(struct cr_worker *w, struct cr_peer *p)
{
	p->state = PS_OPEN;
	p->open_us = cr__now_us();
	int ret = cr__peer_transport_start(w, p, true, (p->flags & PF_TRY_V2));
	if (ret < 0) {
		cr__peer_close(w, p, CR_CLOSE_RESOURCES, cr_strerror(ret));
		return;
	}
	char a[64];
	cr__sockaddr_str(&p->addr, a, sizeof a);
	cr__log(w->e, CR_LOG_DEBUG, CR_LOG_NET, "connect peer=%llx outbound to %s%s%s (%s)",
	       (unsigned long long)cr__peer_id(w, p), p->host[0] ? p->host : a,
	       p->host[0] ? " via proxy" : "", "", (p->flags & PF_TRY_V2) ? "v2" : "v1");
	cr__node_open(w, p);
	cr__sendq_pump_transport(w, p);
	cr__recv_arm(w, p);
}

static void proxy_pump(struct cr_worker *w, struct cr_peer *p)
{
	const uint8_t *out;
	size_t n = cr_socks5_pending(p->socks, &out);
	if (!n)
		return;
	struct cr_sbuf *b = cr__sendq_buf_new(w, n);
	if (!b) {
		cr__peer_close(w, p, CR_CLOSE_RESOURCES, "out of memory");
		return;
	}
	memcpy(b->data, out, n);
	b->len = n;
	cr_socks5_sent(p->socks, n);
	cr__sendq_push(w, p, b, 0, n);
	cr__sendq_buf_unref(w, b);
}

/* The proxy target was split by addr/ (host[:port], [v6][:port]); the
 * host goes to the proxy as text, without brackets. */
static int start_proxy(struct cr_worker *w, struct cr_peer *p)
{
	char host[CR_HOSTPORT_MAX];
	size_t host_len;
	uint16_t port;
	int ret = cr_addrstr_split(&host_len, &port, p->host, strlen(p->host),
				   w->e->chain->default_port, 0);
	if (ret < 0)
		return ret;
	const char *h = p->host;
	if (h[0] == '[') {
		h++;
		host_len -= 2;
	}
	memcpy(host, h, host_len);
	host[host_len] = '\0';
	p->socks = calloc(1, sizeof(struct cr_socks5));
	if (!p->socks)
		return -ENOMEM;
	ret = cr_socks5_init(p->socks, host, port);
	if (ret < 0)
		return ret;
	p->state = PS_PROXY;
	proxy_pump(w, p);
	cr__recv_arm(w, p);
	return 0;
}

void cr__connect_complete(struct cr_worker *w, struct cr_peer *p, int res)
{
	cr__peer_op_done(w, p);
	if (p->state == PS_CLOSING)
		return;
	if (res < 0) {
		CR_STAT_ADD(w, connect_failures, 1);
		cr__peer_close(w, p, CR_CLOSE_CONNECT_FAILED,
			      res == -ECANCELED ? "connect timed out" : strerror(-res));
		return;
	}
	if (p->host[0]) {
		int ret = start_proxy(w, p);
		if (ret < 0)
			cr__peer_close(w, p, CR_CLOSE_PROXY, cr_strerror(ret));
		return;
	}
	open_transport(w, p);
}

/* Bytes from the proxy during the SOCKS5 exchange. Anything after the
 * server's final reply already belongs to the peer's transport. */
int cr__proxy_recv(struct cr_worker *w, struct cr_peer *p, const uint8_t *in, size_t len)
{
	int n = cr_socks5_recv(p->socks, in, len);
	if (n < 0) {
		cr__peer_close(w, p, CR_CLOSE_PROXY, cr_strerror(n));
		return n;
	}
	proxy_pump(w, p);
	if (!cr_socks5_done(p->socks))
		return 0;
	free(p->socks);
	p->socks = NULL;
	open_transport(w, p);
	if ((size_t)n < len && p->state == PS_OPEN)
		cr__recv_feed(w, p, in + n, len - (size_t)n);
	return 0;
}

/* The peer closed during our V2 key exchange: try once more with V1 (the
 * closing attempt's slot is freed separately). */
void cr__connect_retry_v1(struct cr_worker *w, struct cr_peer *old)
{
	struct cr_mail *c = cr__mail_new(MAIL_CONNECT, 0);
	if (!c)
		return;
	c->addr = old->addr;
	c->flags = old->connect_flags | CR_CONNECT_V1;
	c->manual = old->manual;
	c->ev.token = old->token;
	c->ev.type = old->type;
	snprintf(c->host, sizeof c->host, "%s", old->host);
	if (!c->host[0])
		cr__sockaddr_str(&old->addr, c->host, sizeof c->host);
	CR_STAT_ADD(w, v1_fallbacks, 1);
	cr__connect_start(w, c);
	cr__mail_free(c);
}
