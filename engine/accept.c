/* Inbound connections: each worker owns one SO_REUSEPORT listen socket per
 * bind address (so the kernel spreads newcomers over the workers) with a
 * multishot accept that installs each new socket straight into the ring's
 * fixed-file table. With few free slots left it accepts one connection at a
 * time, and with none it stops accepting (newcomers wait in the backlog)
 * until a slot frees, because a connection accepted into a full table is
 * dropped. Other accept errors back off with a growing timeout instead of
 * re-arming at once. The inbound budget is the coordinator's limit; a
 * newcomer over it is refused (closed at once, no callback).
 * cr__listen_open runs on the thread starting the engine; the rest on the
 * owner worker. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "addr/addrstr.h"
#include "engine/internal.h"

#define ACCEPT_BACKOFF_MIN_MS 10
#define ACCEPT_BACKOFF_MAX_MS 1000
/* A multishot accept takes every connection in the backlog at once, and
 * one it cannot install in the fixed-file table is dropped. With fewer free
 * slots than this, accept one connection at a time instead. */
#define ACCEPT_SINGLE_BELOW 64
/* listen() backlog: newcomers wait here while every slot is taken (the
 * kernel caps it at net.core.somaxconn). */
#define LISTEN_BACKLOG 4096

static int open_one(struct cr_engine *e, const struct sockaddr_storage *ss, int *out)
{
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
	/* accepted sockets inherit it: replies (pongs, V2 handshake steps)
	 * must not wait for the peer's delayed ACK, as Core sets it per socket */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (ss->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (bind(fd, (const struct sockaddr *)ss, cr__sockaddr_len(ss)) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
		int err = -errno;
		char a[64];
		cr__sockaddr_str(ss, a, sizeof a);
		cr__log(e, CR_LOG_ERROR, CR_LOG_GENERAL, "listen on %s: %s", a, strerror(errno));
		close(fd);
		return err;
	}
	*out = fd;
	return 0;
}

/* SO_REUSEPORT would let a second daemon share our port and split the
 * newcomers with us. A plain bind first fails with EADDRINUSE if anyone
 * holds the address, as bitcoind's "Unable to bind" does. */
static int probe_free(struct cr_engine *e, const struct sockaddr_storage *ss)
{
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (ss->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	int ret = bind(fd, (const struct sockaddr *)ss, cr__sockaddr_len(ss)) < 0 ? -errno : 0;
	close(fd);
	if (ret) {
		char a[64];
		cr__sockaddr_str(ss, a, sizeof a);
		cr__log(e, CR_LOG_ERROR, CR_LOG_GENERAL, "unable to bind %s: %s", a, strerror(-ret));
	}
	return ret;
}

/* Opens every worker's listen sockets. A port of 0 takes the port the
 * first socket got, so all workers and families share one port. */
int cr__listen_open(struct cr_engine *e)
{
	const struct cr_config *c = &e->cfg;
	static const char *const defaults[2] = { "0.0.0.0", "[::]" };
	unsigned n = c->bind.n ? c->bind.n : 2;
	uint16_t port = c->port ? c->port : e->chain->default_port;
	for (unsigned i = 0; i < n; i++) {
		struct sockaddr_storage ss;
		const char *a = c->bind.n ? c->bind.v[i] : defaults[i];
		int ret = cr__sockaddr_parse(&ss, a, port, CR_ADDRSTR_PORT0);
		if (ret) {
			cr__log(e, CR_LOG_ERROR, CR_LOG_GENERAL, "bad bind address '%s'", a);
			return ret;
		}
		bool any_port = cr__sockaddr_port(&ss) == 0;
		if (!any_port && (ret = probe_free(e, &ss)) != 0)
			return ret;
		for (unsigned k = 0; k < e->nworkers; k++) {
			struct cr_worker *w = &e->w[k];
			if (any_port && e->port)
				cr__sockaddr_set_port(&ss, e->port);
			int fd = -1;
			ret = open_one(e, &ss, &fd);
			if (ret)
				return ret;
			struct cr_listener *l = &w->ls[w->nls++];
			l->fd = fd;
			l->family = ss.ss_family;
			l->backoff_ms = 0;
			l->armed = false;
			struct sockaddr_storage got;
			socklen_t gl = sizeof got;
			if (getsockname(fd, (struct sockaddr *)&got, &gl) == 0 && !e->port)
				e->port = cr__sockaddr_port(&got);
		}
	}
	return 0;
}

void cr__accept_arm(struct cr_worker *w, unsigned li)
{
	struct cr_listener *l = &w->ls[li];
	if (l->armed || l->fd < 0 || w->stopping || w->accept_paused || !w->nfree)
		return;
	struct io_uring_sqe *sqe = cr__sqe(&w->ring);
	l->multi = w->nfree > ACCEPT_SINGLE_BELOW;
	if (l->multi)
		io_uring_prep_multishot_accept_direct(sqe, l->fd, NULL, NULL, 0);
	else /* "- 1": liburing adds one to the index it is given */
		io_uring_prep_accept_direct(sqe, l->fd, NULL, NULL, 0, IORING_FILE_INDEX_ALLOC - 1);
	io_uring_sqe_set_data64(sqe, cr__ud(OP_ACCEPT, li, 0));
	l->armed = true;
}

static void backoff(struct cr_worker *w, unsigned li)
{
	CR_STAT_ADD(w, accept_backoffs, 1);
	struct cr_listener *l = &w->ls[li];
	l->backoff_ms = l->backoff_ms ? l->backoff_ms * 2 : ACCEPT_BACKOFF_MIN_MS;
	if (l->backoff_ms > ACCEPT_BACKOFF_MAX_MS)
		l->backoff_ms = ACCEPT_BACKOFF_MAX_MS;
	l->ts.tv_sec = l->backoff_ms / 1000;
	l->ts.tv_nsec = (long long)(l->backoff_ms % 1000) * 1000000;
	struct io_uring_sqe *sqe = cr__sqe(&w->ring);
	io_uring_prep_timeout(sqe, &l->ts, 0, 0);
	io_uring_sqe_set_data64(sqe, cr__ud(OP_ACCEPT_RETRY, li, 0));
}

void cr__accept_retry(struct cr_worker *w, unsigned li)
{
	cr__accept_arm(w, li);
}

static void close_fixed(struct cr_worker *w, int fd)
{
	CR_STAT_ADD(w, fixed_files, -1ull);
	struct io_uring_sqe *sqe = cr__sqe(&w->ring);
	io_uring_prep_close_direct(sqe, (unsigned)fd);
	sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
	io_uring_sqe_set_data64(sqe, cr__ud(OP_CLOSE, 0, 0));
}

static void cancel_accept(struct cr_worker *w, unsigned li)
{
	struct io_uring_sqe *sqe = cr__sqe(&w->ring);
	io_uring_prep_cancel64(sqe, cr__ud(OP_ACCEPT, li, 0), 0);
	sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
	io_uring_sqe_set_data64(sqe, cr__ud(OP_CANCEL, 0, 0));
}

static void cancel_accepts(struct cr_worker *w)
{
	for (unsigned i = 0; i < w->nls; i++)
		if (w->ls[i].fd >= 0 && w->ls[i].armed)
			cancel_accept(w, i);
}

/* Every slot (and so every fixed-file entry) is taken. An accept now would
 * take the connection from the kernel and then fail to install it, which
 * drops it; better leave newcomers in the backlog until a slot frees. */
void cr__accept_pause(struct cr_worker *w)
{
	w->accept_paused = true;
	cancel_accepts(w);
}

/* A slot freed (its close is queued ahead of this accept). */
void cr__accept_resume(struct cr_worker *w)
{
	if (!w->accept_paused || w->stopping)
		return;
	w->accept_paused = false;
	for (unsigned i = 0; i < w->nls; i++)
		cr__accept_arm(w, i);
}

/* Takes one inbound slot from the coordinator's budget, or refuses. */
static bool take_inbound(struct cr_engine *e)
{
	unsigned cur = atomic_load(&e->inbound_now);
	do {
		if (cur >= atomic_load(&e->inbound_max))
			return false;
	} while (!atomic_compare_exchange_weak(&e->inbound_now, &cur, cur + 1));
	return true;
}

/* Reads an accepted direct descriptor's peer address: SO_PEERNAME in one
 * URING_CMD where the kernel has it (no syscall, no descriptor), else a
 * normal descriptor installed briefly for getpeername(). */
static void ask_peername(struct cr_worker *w, struct cr_peer *p, int family)
{
	struct cr_engine *e = w->e;
	struct io_uring_sqe *sqe;
	if (!atomic_load_explicit(&e->no_peername_cmd, memory_order_relaxed)) {
		/* the kernel refuses a length above the address's own */
		uint32_t len = family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
		sqe = cr__sqe(&w->ring);
		cr__prep_getsockopt(sqe, p->fd, SOL_SOCKET, SO_PEERNAME, &p->addr, len);
		sqe->flags |= IOSQE_FIXED_FILE;
		io_uring_sqe_set_data64(sqe, cr__ud(OP_PEERNAME_CMD, p->slot, p->gen));
		p->ops++;
		return;
	}
	if (!e->feat_fd_install)
		return;
	/* Direct descriptors have no getpeername(): install a normal
	 * descriptor briefly to read the address (see cr__peername_complete). */
	sqe = cr__sqe(&w->ring);
	cr__prep_fixed_fd_install(sqe, p->fd);
	io_uring_sqe_set_data64(sqe, cr__ud(OP_PEERNAME, p->slot, p->gen));
	p->ops++;
}

static void accepted(struct cr_worker *w, int family, int fd)
{
	struct cr_engine *e = w->e;
	CR_STAT_ADD(w, fixed_files, 1); /* closed with its peer or by close_fixed */
	if (w->stopping) {
		close_fixed(w, fd);
		return;
	}
	if (!take_inbound(e)) {
		/* inbound full: refuse the newcomer (eviction is a later policy) */
		CR_STAT_ADD(w, accept_refused, 1);
		cr__log(e, CR_LOG_DEBUG, CR_LOG_NET, "inbound full (%u): refused a connection",
		       atomic_load(&e->inbound_max));
		close_fixed(w, fd);
		return;
	}
	struct cr_peer *p = cr__peer_alloc(w);
	if (!p) {
		atomic_fetch_sub(&e->inbound_now, 1);
		CR_STAT_ADD(w, accept_refused, 1);
		close_fixed(w, fd);
		return;
	}
	CR_STAT_ADD(w, accepted, 1);
	CR_STAT_ADD(w, inbound, 1);
	p->fd = fd;
	p->flags |= PF_INBOUND;
	p->flags |= PF_COUNTED_INBOUND;
	p->type = CR_CONN_INBOUND;
	p->state = PS_OPEN;
	cr__peer_publish(w, p);
	int ret = cr__peer_transport_start(w, p, false, e->cfg.v2transport);
	if (ret < 0) {
		cr__peer_close(w, p, CR_CLOSE_RESOURCES, "transport init failed");
		return;
	}
	ask_peername(w, p, family);
	cr__node_open(w, p);
	cr__recv_arm(w, p);
	if (w->nfree <= ACCEPT_SINGLE_BELOW)
		for (unsigned i = 0; i < w->nls; i++)
			if (w->ls[i].armed && w->ls[i].multi)
				cancel_accept(w, i); /* re-armed single-shot when it ends */
}

void cr__accept_complete(struct cr_worker *w, unsigned li, int res, uint32_t flags)
{
	struct cr_listener *l = &w->ls[li];
	if (!(flags & IORING_CQE_F_MORE))
		l->armed = false;
	if (res >= 0) {
		l->backoff_ms = 0;
		accepted(w, l->family, res);
		if (!l->armed)
			cr__accept_arm(w, li);
		return;
	}
	if (w->stopping || w->accept_paused)
		return;
	if (res == -ECANCELED) { /* switching to single-shot accepts */
		cr__accept_arm(w, li);
		return;
	}
	if (res != -EAGAIN && res != -EINTR && res != -ECONNABORTED)
		cr__log(w->e, CR_LOG_WARN, CR_LOG_NET, "accept: %s (backing off)", strerror(-res));
	if (!l->armed)
		backoff(w, li);
}

static void log_inbound(struct cr_worker *w, struct cr_peer *p)
{
	if (p->state != PS_CLOSING) {
		char a[64];
		cr__sockaddr_str(&p->addr, a, sizeof a);
		/* debug: the application logs the one line per peer (connringd
		 * at the handshake), as Core keeps these under -debug=net */
		cr__log(w->e, CR_LOG_DEBUG, CR_LOG_NET, "connect peer=%llx inbound from %s",
		       (unsigned long long)cr__peer_id(w, p), a);
	}
}

void cr__peername_complete(struct cr_worker *w, struct cr_peer *p, int res)
{
	cr__peer_op_done(w, p);
	if (res < 0)
		return;
	socklen_t len = sizeof p->addr;
	if (getpeername(res, (struct sockaddr *)&p->addr, &len) < 0)
		memset(&p->addr, 0, sizeof p->addr);
	close(res);
	cr__sendq_zc_for(w, p, &p->addr);
	log_inbound(w, p);
}

/* res: the address length, or -ENOTCONN (the peer already left: address
 * unknown, as with getpeername), or a refusal from a kernel without socket
 * getsockopt commands: then this peer and all later ones fall back. */
void cr__peername_cmd_complete(struct cr_worker *w, struct cr_peer *p, int res)
{
	cr__peer_op_done(w, p);
	if (res < 0 && res != -ENOTCONN) {
		memset(&p->addr, 0, sizeof p->addr);
		if (!atomic_exchange(&w->e->no_peername_cmd, true))
			cr__log(w->e, CR_LOG_WARN, CR_LOG_GENERAL, "io_uring: SO_PEERNAME command refused (%s): "
			       "reading peer addresses with FIXED_FD_INSTALL", strerror(-res));
		if (p->state != PS_CLOSING)
			ask_peername(w, p, AF_UNSPEC);
		return;
	}
	if (res < 0)
		memset(&p->addr, 0, sizeof p->addr);
	cr__sendq_zc_for(w, p, &p->addr);
	log_inbound(w, p);
}

/* Stop accepting: close the listen sockets (their multishot accepts end
 * with an error completion). */
void cr__listen_close(struct cr_worker *w)
{
	cancel_accepts(w);
}
