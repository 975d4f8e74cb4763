/* Inbound connections: each worker owns one SO_REUSEPORT listen socket per
 * bind and whitebind address (so the kernel spreads newcomers over the
 * workers) with a multishot accept that installs each new socket straight
 * into the ring's fixed-file table. With few free slots left it accepts one
 * connection at a time, and with none it stops accepting (newcomers wait in
 * the backlog) until a slot frees, because a connection accepted into a
 * full table is dropped. Other accept errors back off with a growing
 * timeout instead of re-arming at once.
 *
 * Admission, before any byte is read and before a transport is allocated:
 * the newcomer holds only its slot while its address is read (SO_PEERNAME);
 * then its permissions (whitebind, whitelist) and keyed netgroup are set,
 * the worker's ban snapshot is checked (a banned newcomer is closed at once)
 * and the coordinator decides the rest (flood defence, discouragement, a
 * free slot or an eviction; guard.c); last the embedder's on_accept has its
 * say. Only then does the transport start and the first receive go out. A
 * refused newcomer is closed without any callback: the application never
 * hears of it. cr__listen_open runs on the thread starting the engine; the
 * rest on the owner worker. */
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

/* One listen address on every worker, with the permissions its peers get. */
static int listen_on(struct cr_engine *e, struct sockaddr_storage *ss, uint32_t perms)
{
	bool any_port = cr__sockaddr_port(ss) == 0;
	int ret;
	if (!any_port && (ret = probe_free(e, ss)) != 0)
		return ret;
	for (unsigned k = 0; k < e->nworkers; k++) {
		struct cr_worker *w = &e->w[k];
		if (any_port && e->port)
			cr__sockaddr_set_port(ss, e->port);
		int fd = -1;
		ret = open_one(e, ss, &fd);
		if (ret)
			return ret;
		struct cr_listener *l = &w->ls[w->nls++];
		l->fd = fd;
		l->family = ss->ss_family;
		l->backoff_ms = 0;
		l->armed = false;
		l->perms = perms;
		l->local = *ss;
		struct sockaddr_storage got;
		socklen_t gl = sizeof got;
		if (getsockname(fd, (struct sockaddr *)&got, &gl) == 0) {
			l->local = got;
			if (!e->port)
				e->port = cr__sockaddr_port(&got);
		}
	}
	return 0;
}

/* Opens every worker's listen sockets: each -bind, then each -whitebind
 * (with its permissions); with neither, 0.0.0.0 and [::] (Core's rule). A
 * port of 0 takes the port the first socket got, so all workers and
 * families share one port. */
int cr__listen_open(struct cr_engine *e)
{
	const struct cr_config *c = &e->cfg;
	static const char *const defaults[2] = { "0.0.0.0", "[::]" };
	bool none = !c->bind.n && !c->nwhitebind;
	unsigned n = none ? 2 : c->bind.n;
	uint16_t port = c->port ? c->port : e->chain->default_port;
	for (unsigned i = 0; i < n; i++) {
		struct sockaddr_storage ss;
		const char *a = none ? defaults[i] : c->bind.v[i];
		int ret = cr__sockaddr_parse(&ss, a, port, CR_ADDRSTR_PORT0);
		if (ret) {
			cr__log(e, CR_LOG_ERROR, CR_LOG_GENERAL, "bad bind address '%s'", a);
			return ret;
		}
		if ((ret = listen_on(e, &ss, 0)) != 0)
			return ret;
	}
	for (unsigned i = 0; i < c->nwhitebind; i++) {
		const struct cr_whitebind *wb = &c->whitebind[i];
		struct sockaddr_storage ss;
		memset(&ss, 0, sizeof ss);
		if (wb->addr.net == CR_NET_IPV4) {
			struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
			a4->sin_family = AF_INET;
			memcpy(&a4->sin_addr, wb->addr.addr, 4);
			a4->sin_port = htons(wb->port);
		} else {
			struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
			a6->sin6_family = AF_INET6;
			memcpy(&a6->sin6_addr, wb->addr.addr, 16);
			a6->sin6_port = htons(wb->port);
		}
		int ret = listen_on(e, &ss, wb->flags);
		if (ret)
			return ret;
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

static const char *verdict_str(unsigned v)
{
	if (v == CR_VERDICT_FULL)
		return "inbound full, every peer protected";
	if (v == CR_VERDICT_EVICT_WAIT)
		return "inbound full, no slot freed in time";
	if (v == CR_VERDICT_EMBEDDER)
		return "on_accept said no";
	if (v == CR_VERDICT_GONE)
		return "gone before its address was read";
	return cr_accept_verdict_str((enum cr_accept_verdict)v);
}

/* Closes a newcomer that was not admitted: no callback ever names it. */
static void refuse(struct cr_worker *w, struct cr_peer *p, unsigned v)
{
	CR_STAT_ADD(w, accept_refused, 1);
	switch (v) {
	case CR_ACCEPT_REFUSE_BANNED: CR_STAT_ADD(w, refused_banned, 1); break;
	case CR_ACCEPT_REFUSE_RATE: CR_STAT_ADD(w, refused_flood_rate, 1); break;
	case CR_ACCEPT_REFUSE_GROUP_CAP: CR_STAT_ADD(w, refused_flood_cap, 1); break;
	case CR_ACCEPT_REFUSE_DISCOURAGED: CR_STAT_ADD(w, refused_discouraged, 1); break;
	case CR_VERDICT_FULL: CR_STAT_ADD(w, refused_full, 1); break;
	case CR_VERDICT_EVICT_WAIT: CR_STAT_ADD(w, refused_evict_wait, 1); break;
	case CR_VERDICT_EMBEDDER: CR_STAT_ADD(w, refused_embedder, 1); break;
	default: break;
	}
	char a[64];
	cr__sockaddr_str(&p->addr, a, sizeof a);
	cr__log(w->e, CR_LOG_DEBUG, CR_LOG_NET, "refused inbound %s: %s", a, verdict_str(v));
	cr__peer_close(w, p, CR_CLOSE_INBOUND_FULL, verdict_str(v));
}

/* The address is known (or cannot be): set who the newcomer is, check the
 * ban snapshot, then ask the coordinator. */
static void admit_start(struct cr_worker *w, struct cr_peer *p, bool addr_expected)
{
	struct cr_engine *e = w->e;
	cr__peer_identify(w, p, CR_PERM_DIR_IN);
	if (addr_expected && !(p->flags & PF_IDENTIFIED)) {
		refuse(w, p, CR_VERDICT_GONE);
		return;
	}
	if (cr__peer_banned(w, p)) {
		refuse(w, p, CR_ACCEPT_REFUSE_BANNED);
		return;
	}
	struct cr_mail *m = atomic_load(&e->stop_flag) ? NULL : cr__mail_new(MAIL_ADMIT, 0);
	if (!m) {
		cr__peer_close(w, p, CR_CLOSE_RESOURCES, "no mail for admission");
		return;
	}
	m->peer = cr__peer_id(w, p);
	m->admit.na = p->na;
	m->admit.keyed_netgroup = p->keyed_netgroup;
	m->admit.perms = p->perms;
	m->admit.local = p->is_local;
	cr__mailbox_post(e, &e->co.mb, m);
}

/* The embedder's say (Core's EventNewConnectionAccepted). */
static bool embedder_accepts(struct cr_worker *w, struct cr_peer *p, const struct cr_admit *a)
{
	struct cr_engine *e = w->e;
	if (!e->cfg.on_accept)
		return true;
	struct cr_accept_info info = {
		.peer = p->addr,
		.local = w->ls[p->listener].local,
		.keyed_netgroup = p->keyed_netgroup,
		.permissions = p->perms,
		.discouraged = a->discouraged,
		.inbound = a->inbound,
		.inbound_max = a->inbound_max,
		.outbound = a->outbound,
		.group_inbound = a->group_inbound,
	};
	return e->cfg.on_accept(e->cfg.user, &info);
}

/* The coordinator's answer (MAIL_ADMITTED; the mail is freed by the caller). */
void cr__accept_admitted(struct cr_worker *w, struct cr_mail *c)
{
	struct cr_engine *e = w->e;
	const struct cr_admit *a = &c->admit;
	struct cr_peer *p = cr__peer_get(w, cr__id_slot(c->peer), cr__id_gen(c->peer));
	if (!p || p->state != PS_ACCEPTING) {
		if (a->verdict == CR_ACCEPT_OK) { /* gone meanwhile: hand the slot back */
			atomic_fetch_sub(&e->inbound_now, 1);
			struct cr_mail *m = atomic_load(&e->stop_flag) ? NULL : cr__mail_new(MAIL_INBOUND_DOWN, 0);
			if (m) {
				m->peer = c->peer;
				m->admit.keyed_netgroup = a->keyed_netgroup;
				cr__mailbox_post(e, &e->co.mb, m);
			}
		}
		return;
	}
	if (a->verdict != CR_ACCEPT_OK) {
		refuse(w, p, a->verdict);
		return;
	}
	p->flags |= PF_COUNTED_INBOUND; /* the coordinator took the slot for it */
	p->prefer_evict = a->discouraged;
	if (!embedder_accepts(w, p, a)) {
		refuse(w, p, CR_VERDICT_EMBEDDER);
		return;
	}
	CR_STAT_ADD(w, accepted, 1);
	CR_STAT_ADD(w, inbound, 1);
	p->state = PS_OPEN;
	p->open_us = cr__now_us();
	cr__peer_publish(w, p);
	int ret = cr__peer_transport_start(w, p, false, e->cfg.v2transport);
	if (ret < 0) {
		cr__peer_close(w, p, CR_CLOSE_RESOURCES, "transport init failed");
		return;
	}
	char addr[64];
	cr__sockaddr_str(&p->addr, addr, sizeof addr);
	cr__log(e, CR_LOG_INFO, CR_LOG_NET, "connect peer=%llx inbound from %s",
		(unsigned long long)cr__peer_id(w, p), addr);
	cr__node_open(w, p);
	cr__recv_arm(w, p);
}

/* A newcomer: a slot and its descriptor, nothing else until admitted. */
static void accepted(struct cr_worker *w, unsigned li, int fd)
{
	CR_STAT_ADD(w, fixed_files, 1); /* closed with its peer or by close_fixed */
	if (!cr__net_active(w->e)) {
		/* Core's AcceptConnection: "not accepting new connections" */
		CR_STAT_ADD(w, accept_refused, 1);
		close_fixed(w, fd);
		return;
	}
	if (w->stopping) {
		close_fixed(w, fd);
		return;
	}
	struct cr_peer *p = cr__peer_alloc(w);
	if (!p) {
		CR_STAT_ADD(w, accept_refused, 1);
		close_fixed(w, fd);
		return;
	}
	p->fd = fd;
	p->flags |= PF_INBOUND;
	p->type = CR_CONN_INBOUND;
	p->listener = (uint8_t)li;
	p->state = PS_ACCEPTING;
	cr__peer_publish(w, p);
	ask_peername(w, p, w->ls[li].family);
	if (!(p->ops))
		admit_start(w, p, false); /* no way to read the address: admit without it */
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
		accepted(w, li, res);
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

void cr__peername_complete(struct cr_worker *w, struct cr_peer *p, int res)
{
	cr__peer_op_done(w, p);
	if (res >= 0) {
		socklen_t len = sizeof p->addr;
		if (getpeername(res, (struct sockaddr *)&p->addr, &len) < 0)
			memset(&p->addr, 0, sizeof p->addr);
		close(res);
		cr__sendq_zc_for(w, p, &p->addr);
	}
	if (p->state == PS_ACCEPTING)
		admit_start(w, p, true);
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
		if (p->state == PS_ACCEPTING) {
			ask_peername(w, p, AF_UNSPEC);
			if (!p->ops)
				admit_start(w, p, false);
		}
		return;
	}
	if (res < 0)
		memset(&p->addr, 0, sizeof p->addr);
	cr__sendq_zc_for(w, p, &p->addr);
	if (p->state == PS_ACCEPTING)
		admit_start(w, p, true);
}

/* Stop accepting: close the listen sockets (their multishot accepts end
 * with an error completion). */
void cr__listen_close(struct cr_worker *w)
{
	cancel_accepts(w);
}
