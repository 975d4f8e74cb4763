/* The per-peer calls of <connring/connring.h>: connect, send, broadcast,
 * disconnect, flow-control release and peer snapshots. A call made on the
 * peer's own worker runs at once; any other becomes mail to that worker. The
 * generation check against the slot's public word rejects most stale ids
 * at the call; the worker checks again when the mail arrives, so an id
 * that goes stale in between is rejected there (counted in stale_ids). */
#include <errno.h>
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>

#include "engine/internal.h"
#include "proto/v1.h"

/* The worker of a live peer id, or NULL (-ESTALE). Any thread. */
struct cr_worker *cr__worker_of(const struct cr_engine *e, uint64_t id)
{
	unsigned wi = cr__id_worker(id);
	if (!e->w || wi >= e->nworkers || atomic_load(&e->stop_flag))
		return NULL;
	struct cr_worker *w = &e->w[wi];
	uint32_t slot = cr__id_slot(id);
	if (slot >= w->cap || !w->pub)
		return NULL;
	uint64_t pub = atomic_load_explicit(&w->pub[slot], memory_order_acquire);
	if ((uint32_t)pub == 0 || (uint32_t)pub != cr__id_gen(id))
		return NULL;
	return w;
}

/* The worker of a peer that can take messages: -ESTALE for an id that is
 * not a live peer, CR_E_NOT_READY for one still in its handshake. The
 * public word says so on every thread, so cr_send answers alike wherever
 * it is called; the worker checks again when the mail arrives. */
static int ready_worker(const struct cr_engine *e, uint64_t id, struct cr_worker **out)
{
	struct cr_worker *w = cr__worker_of(e, id);
	*out = w;
	if (!w)
		return -ESTALE;
	uint64_t pub = atomic_load_explicit(&w->pub[cr__id_slot(id)], memory_order_acquire);
	if (!(pub & CR_PUB_READY))
		return CR_E_NOT_READY;
	/* over the send budget a peer that is not writable takes nothing more */
	if (!(pub & CR_PUB_WRITABLE) && cr__send_over_budget(e))
		return -EAGAIN;
	return 0;
}

/* On the peer's own worker: the live, ready peer, or NULL with *ret set. */
static struct cr_peer *ready_peer(struct cr_worker *w, uint64_t id, int *ret)
{
	struct cr_peer *p = cr__peer_by_id(w, id);
	*ret = !p ? -ESTALE : p->state != PS_READY ? CR_E_NOT_READY : 0;
	return *ret ? NULL : p;
}

static bool on_worker(const struct cr_worker *w)
{
	return cr__cur_worker == w;
}

static int check_live(struct cr_engine *e)
{
	if (!e->started || atomic_load(&e->stop_flag))
		return -ESHUTDOWN;
	return 0;
}

static int check_command(const char *command, size_t len)
{
	char padded[CR_COMMAND_MAX] = { 0 };
	size_t n = command ? strnlen(command, CR_COMMAND_MAX + 1) : 0;
	if (n == 0 || n > CR_COMMAND_MAX || len > CR_V1_MAX_PAYLOAD)
		return -EINVAL;
	memcpy(padded, command, n);
	return cr_v1_command_valid(padded) ? 0 : -EINVAL;
}

int cr_connect(struct cr_engine *e, const char *hostport, unsigned flags)
{
	/* type 0 (inbound) in a connect mail means a manual connection */
	return cr__post_connect(e, hostport, flags & (CR_CONNECT_PERSISTENT | CR_CONNECT_V1), CR_CONN_INBOUND);
}

struct cr_msgbuf *cr_msgbuf_new(size_t len)
{
	if (len > CR_V1_MAX_PAYLOAD)
		return NULL;
	struct cr_sbuf *b = cr__sendq_buf_shared(len, CR_V1_HEADER_SIZE);
	return (struct cr_msgbuf *)b;
}

uint8_t *cr_msgbuf_data(struct cr_msgbuf *m)
{
	return ((struct cr_sbuf *)m)->data + CR_V1_HEADER_SIZE;
}

void cr_msgbuf_free(struct cr_msgbuf *m)
{
	if (m)
		cr__sendq_buf_unref(NULL, (struct cr_sbuf *)m);
}

/* Writes the V1 header in front of the payload: the same bytes for every
 * V1 peer of the chain, so one buffer serves them all. */
static int seal(struct cr_engine *e, struct cr_sbuf *b, const char *command)
{
	size_t len = b->len - CR_V1_HEADER_SIZE;
	int n = cr_v1_encode(b->data, b->cap, e->chain->magic, command, (uint32_t)len);
	return n < 0 ? -EINVAL : 0;
}

int cr_send_buf(struct cr_engine *e, uint64_t peer, const char *command, struct cr_msgbuf *m)
{
	struct cr_sbuf *b = (struct cr_sbuf *)m;
	int ret = check_live(e);
	if (!ret)
		ret = check_command(command, b->len - CR_V1_HEADER_SIZE);
	if (!ret)
		ret = seal(e, b, command);
	struct cr_worker *w = NULL;
	if (!ret)
		ret = ready_worker(e, peer, &w);
	if (ret) {
		cr__sendq_buf_unref(NULL, b);
		return ret;
	}
	if (on_worker(w)) {
		struct cr_peer *p = ready_peer(w, peer, &ret);
		if (p)
			ret = cr__sendq_shared(w, p, command, b, true);
		cr__sendq_buf_unref(w, b);
		return ret;
	}
	struct cr_mail *c = cr__mail_new(MAIL_SEND, 0);
	if (!c) {
		cr__sendq_buf_unref(NULL, b);
		return -ENOMEM;
	}
	c->peer = peer;
	snprintf(c->command, sizeof c->command, "%s", command);
	c->buf = b;
	cr__mailbox_post(e, &w->mb, c);
	return 0;
}

int cr_send(struct cr_engine *e, uint64_t peer, const char *command, const uint8_t *payload, size_t len)
{
	int ret = check_live(e);
	if (!ret)
		ret = check_command(command, len);
	struct cr_worker *w = NULL;
	if (!ret)
		ret = ready_worker(e, peer, &w);
	if (ret)
		return ret;
	if (on_worker(w)) {
		struct cr_peer *p = ready_peer(w, peer, &ret);
		if (!p)
			return ret;
		if ((p->flags & PF_T_INIT) && cr_transport_kind(p->t) == CR_TRANSPORT_V1)
			CR_STAT_ADD(w, payload_copy_bytes, len); /* copied behind its header */
		return cr__sendq_msg(w, p, command, payload, len);
	}
	struct cr_msgbuf *m = cr_msgbuf_new(len);
	if (!m)
		return -ENOMEM;
	if (len)
		memcpy(cr_msgbuf_data(m), payload, len);
	atomic_fetch_add_explicit(&e->api_copy_bytes, len, memory_order_relaxed);
	return cr_send_buf(e, peer, command, m);
}

/* One piece of mail per worker that has any of the ids (all workers for ids ==
 * NULL), each holding a reference to the one buffer. */
int cr_broadcast_buf(struct cr_engine *e, const uint64_t *ids, size_t n, const char *command,
		     struct cr_msgbuf *m)
{
	struct cr_sbuf *b = (struct cr_sbuf *)m;
	int ret = check_live(e);
	if (!ret)
		ret = check_command(command, b->len - CR_V1_HEADER_SIZE);
	if (!ret)
		ret = seal(e, b, command);
	if (ret) {
		cr__sendq_buf_unref(NULL, b);
		return ret;
	}
	for (unsigned wi = 0; wi < e->nworkers; wi++) {
		size_t k = 0;
		if (ids) {
			for (size_t i = 0; i < n; i++)
				k += cr__id_worker(ids[i]) == wi;
			if (!k)
				continue;
		}
		struct cr_mail *c = cr__mail_new(MAIL_BCAST, k);
		if (!c) {
			ret = -ENOMEM;
			break;
		}
		if (ids)
			for (size_t i = 0, j = 0; i < n; i++)
				if (cr__id_worker(ids[i]) == wi)
					c->ids[j++] = ids[i];
		snprintf(c->command, sizeof c->command, "%s", command);
		cr__sendq_buf_ref(b);
		c->buf = b;
		struct cr_worker *w = &e->w[wi];
		if (on_worker(w))
			cr__worker_mail(w, c);
		else
			cr__mailbox_post(e, &w->mb, c);
	}
	cr__sendq_buf_unref(cr__cur_worker, b);
	return ret;
}

int cr_broadcast(struct cr_engine *e, const uint64_t *ids, size_t n, const char *command,
		 const uint8_t *payload, size_t len)
{
	int ret = check_live(e);
	if (!ret)
		ret = check_command(command, len);
	if (ret)
		return ret;
	struct cr_msgbuf *m = cr_msgbuf_new(len);
	if (!m)
		return -ENOMEM;
	if (len)
		memcpy(cr_msgbuf_data(m), payload, len);
	atomic_fetch_add_explicit(&e->api_copy_bytes, len, memory_order_relaxed);
	return cr_broadcast_buf(e, ids, n, command, m);
}

static int simple(struct cr_engine *e, uint64_t peer, enum cr_mail_kind kind, size_t n)
{
	int ret = check_live(e);
	if (ret)
		return ret;
	struct cr_worker *w = cr__worker_of(e, peer);
	if (!w)
		return -ESTALE;
	struct cr_mail *c = cr__mail_new(kind, 0);
	if (!c)
		return -ENOMEM;
	c->peer = peer;
	c->n = n;
	if (on_worker(w))
		cr__worker_mail(w, c);
	else
		cr__mailbox_post(e, &w->mb, c);
	return 0;
}

int cr_disconnect(struct cr_engine *e, uint64_t peer)
{
	return simple(e, peer, MAIL_DISCONNECT, 0);
}

int cr_recv_done(struct cr_engine *e, uint64_t peer, size_t n)
{
	return simple(e, peer, MAIL_RECV_DONE, n);
}

int cr_peer_writable(const struct cr_engine *e, uint64_t peer)
{
	struct cr_worker *w = cr__worker_of(e, peer);
	if (!w)
		return -ESTALE;
	uint64_t pub = atomic_load_explicit(&w->pub[cr__id_slot(peer)], memory_order_acquire);
	return (pub & CR_PUB_WRITABLE) ? 1 : 0;
}

/* The snapshot is taken in full and copied out as far as the caller's
 * struct reaches (see the ABI note in connring.h). */
static int copy_info(const struct cr_peer_info *full, struct cr_peer_info *out, size_t out_size)
{
	size_t n = out_size < sizeof *full ? out_size : sizeof *full;
	memcpy(out, full, n);
	if (out_size > n)
		memset((uint8_t *)out + n, 0, out_size - n);
	return 0;
}

static int peer_info(struct cr_engine *e, uint64_t peer, struct cr_peer_info *out);

int cr_peer_info(struct cr_engine *e, uint64_t peer, struct cr_peer_info *out, size_t out_size)
{
	struct cr_peer_info full;
	int ret = peer_info(e, peer, &full);
	if (ret) {
		memset(out, 0, out_size);
		return ret;
	}
	return copy_info(&full, out, out_size);
}

/* Waits for a worker's answer. A worker answers within microseconds; one
 * that has not after a second gets its doorbell rung again (and the event
 * logged), so a lost wake-up cannot hang the caller. Once cr_engine_stop
 * has begun (checked every 50 ms then), the worker may be gone before it
 * read our mail, and the stop's own drain may have run before we posted:
 * then we drain the closed mailbox ourselves, which answers us with
 * -ESHUTDOWN (a neighbour still linking its mail in may need a retry). */
static void wait_worker(struct cr_engine *e, struct cr_worker *w, struct cr_waiter *wt)
{
	while (!atomic_load_explicit(&wt->done, memory_order_acquire)) {
		bool stopping = atomic_load(&e->stop_flag);
		struct timespec ts = { stopping ? 0 : 1, stopping ? 50000000 : 0 };
		long r = syscall(SYS_futex, &wt->done, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
		if (atomic_load_explicit(&wt->done, memory_order_acquire))
			break;
		if (atomic_load(&w->mb.closed)) {
			cr__worker_drain_dead(w);
			continue;
		}
		if (r < 0 && errno == ETIMEDOUT && !stopping) {
			cr__log(e, CR_LOG_WARN, CR_LOG_GENERAL, "worker %u did not answer a snapshot in 1 s: "
			       "ringing its doorbell again", w->idx);
			cr__mailbox_kick(e, &w->mb);
		}
	}
}

static int peer_info(struct cr_engine *e, uint64_t peer, struct cr_peer_info *out)
{
	memset(out, 0, sizeof *out);
	int ret = check_live(e);
	if (ret)
		return ret;
	struct cr_worker *w = cr__worker_of(e, peer);
	if (!w)
		return -ESTALE;
	if (on_worker(w)) {
		struct cr_peer *p = cr__peer_by_id(w, peer);
		if (!p)
			return -ESTALE;
		cr__peer_fill_info(w, p, out);
		return 0;
	}
	if ((cr__cur_worker && cr__cur_worker->e == e) || cr__cur_coord == &e->co)
		return -EDEADLK; /* two workers waiting on each other could deadlock */
	struct cr_waiter wt = { .info = out };
	atomic_init(&wt.done, 0);
	struct cr_mail *c = cr__mail_new(MAIL_INFO, 0);
	if (!c)
		return -ENOMEM;
	c->peer = peer;
	c->waiter = &wt;
	cr__mailbox_post(e, &w->mb, c);
	wait_worker(e, w, &wt);
	if (wt.ret)
		memset(out, 0, sizeof *out);
	return wt.ret;
}

/* Peers per bulk mail: bounds how long one answer keeps a worker from
 * its ring (~1 µs a peer). */
#define BULK_CHUNK 2048

long cr_engine_peer_infos(struct cr_engine *e, struct cr_peer_info *out, size_t cap, size_t out_size)
{
	int ret = check_live(e);
	if (ret)
		return ret;
	if (cr__cur_worker || cr__cur_coord)
		return -EDEADLK;
	bool direct = out_size == sizeof(struct cr_peer_info);
	struct cr_peer_info *chunk = direct ? NULL : malloc(BULK_CHUNK * sizeof(*chunk));
	if (!direct && !chunk)
		return -ENOMEM;
	size_t n = 0;
	for (unsigned wi = 0; wi < e->nworkers && n < cap; wi++) {
		struct cr_worker *w = &e->w[wi];
		uint32_t slot = 0;
		while (slot < w->cap && n < cap) {
			size_t want = cap - n < BULK_CHUNK ? cap - n : BULK_CHUNK;
			struct cr_waiter wt = { .info = direct ? out + n : chunk, .cap = want, .slot = slot };
			atomic_init(&wt.done, 0);
			struct cr_mail *c = cr__mail_new(MAIL_INFO_BULK, 0);
			if (!c) {
				free(chunk);
				return -ENOMEM;
			}
			c->waiter = &wt;
			cr__mailbox_post(e, &w->mb, c);
			wait_worker(e, w, &wt);
			if (wt.ret < 0) { /* the engine is stopping */
				free(chunk);
				return wt.ret;
			}
			for (int i = 0; !direct && i < wt.ret; i++)
				copy_info(&chunk[i], (struct cr_peer_info *)((uint8_t *)out + (n + (size_t)i) * out_size),
					  out_size);
			n += (size_t)wt.ret;
			slot = wt.slot;
		}
	}
	free(chunk);
	return (long)n;
}

size_t cr_engine_peers(const struct cr_engine *e, uint64_t *ids, size_t cap)
{
	size_t n = 0;
	if (!e->started || atomic_load(&e->stop_flag))
		return 0;
	for (unsigned wi = 0; wi < e->nworkers && n < cap; wi++) {
		const struct cr_worker *w = &e->w[wi];
		if (!w->pub)
			continue;
		for (uint32_t s = 0; s < w->cap && n < cap; s++) {
			uint64_t pub = atomic_load_explicit(&w->pub[s], memory_order_relaxed);
			if ((uint32_t)pub)
				ids[n++] = cr__id_make(wi, s, (uint32_t)pub);
		}
	}
	return n;
}
