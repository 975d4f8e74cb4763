/* The coordinator thread: it owns the connection counts and the
 * manual connections. It sets the inbound budget (max_connections minus the
 * outbound slots) that workers take from when they accept; places each
 * outbound connection on the least-loaded worker; and keeps every connect=
 * and addnode= entry (and cr_connect with CR_CONNECT_PERSISTENT) connected,
 * retrying with btcd's connmgr backoff: the n-th consecutive failure waits
 * n x manual_retry_ms, capped at manual_retry_max_ms. It sees peers only
 * through events the workers post (up, down), never their memory. It has
 * its own ring and sleeps in it; a timeout is armed only while a retry
 * waits. cr__coord_event may be called by any engine thread; the rest runs
 * on the coordinator thread or the thread starting/stopping the engine. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"

#define COORD_TICK_MS 100
#define COORD_RING_ENTRIES 256 /* doorbells, MSG_RING posts to workers, one timeout */

void cr__coord_event(struct cr_engine *e, enum cr_mail_kind kind, uint32_t manual, bool was_ready)
{
	struct cr_mail *c = cr__mail_new(kind, 0);
	if (!c)
		return; /* the entry then waits for the next event; logged below */
	c->manual = manual;
	c->reason = was_ready;
	cr__mailbox_post(e, &e->co.mb, c);
}

/* The worker with the fewest peers (ties: the lowest index). */
static struct cr_worker *least_loaded(struct cr_engine *e)
{
	struct cr_worker *best = &e->w[0];
	uint32_t best_n = atomic_load_explicit(&best->npeers, memory_order_relaxed) +
			  atomic_load_explicit(&best->placing, memory_order_relaxed);
	for (unsigned i = 1; i < e->nworkers; i++) {
		uint32_t n = atomic_load_explicit(&e->w[i].npeers, memory_order_relaxed) +
			     atomic_load_explicit(&e->w[i].placing, memory_order_relaxed);
		if (n < best_n) {
			best = &e->w[i];
			best_n = n;
		}
	}
	return best;
}

static void place(struct cr_engine *e, const struct sockaddr_storage *addr, const char *host,
		  unsigned flags, uint32_t manual)
{
	struct cr_mail *c = cr__mail_new(MAIL_CONNECT, 0);
	if (!c)
		return;
	c->addr = *addr;
	c->flags = flags | CR_CONNECT_PLACED;
	c->manual = manual;
	snprintf(c->host, sizeof c->host, "%s", host);
	struct cr_worker *w = least_loaded(e);
	/* counted until the worker takes it, so a burst spreads out */
	atomic_fetch_add_explicit(&w->placing, 1, memory_order_relaxed);
	cr__mailbox_post(e, &w->mb, c);
}

static int add_manual(struct cr_engine *e, const char *hostport, const struct sockaddr_storage *addr,
		      unsigned flags)
{
	struct cr_coord *co = &e->co;
	if (co->nmanual == co->cap_manual) {
		unsigned cap = co->cap_manual ? co->cap_manual * 2 : 16;
		struct cr_manual *m = realloc(co->manual, cap * sizeof *m);
		if (!m)
			return -ENOMEM;
		co->manual = m;
		co->cap_manual = cap;
	}
	struct cr_manual *m = &co->manual[co->nmanual++];
	memset(m, 0, sizeof *m);
	snprintf(m->hostport, sizeof m->hostport, "%s", hostport);
	m->addr = *addr;
	m->flags = flags | CR_CONNECT_PERSISTENT;
	return 0;
}

static void on_event(struct cr_engine *e, struct cr_mail *c)
{
	struct cr_coord *co = &e->co;
	if (c->kind == MAIL_CO_CONNECT) {
		if (c->flags & CR_CONNECT_PERSISTENT) {
			if (add_manual(e, c->host, &c->addr, c->flags) < 0)
				cr__log(e, CR_LOG_WARN, CR_LOG_NET, "addnode %s: out of memory", c->host);
		} else {
			place(e, &c->addr, c->host, c->flags, UINT32_MAX);
		}
		return;
	}
	if (c->kind == MAIL_STOP) {
		co->stop = true;
		return;
	}
	if (c->manual >= co->nmanual)
		return;
	struct cr_manual *m = &co->manual[c->manual];
	if (c->kind == MAIL_EV_UP) {
		m->connected = true;
		m->pending = false;
		m->retries = 0;
	} else if (c->kind == MAIL_EV_DOWN) {
		m->connected = false;
		m->pending = false;
		m->retries++;
		uint64_t delay = (uint64_t)e->cfg.manual_retry_ms * m->retries;
		if (delay > e->cfg.manual_retry_max_ms)
			delay = e->cfg.manual_retry_max_ms;
		m->next_us = cr__now_us() + delay * 1000u;
		cr__log(e, CR_LOG_INFO, CR_LOG_NET, "manual peer %s down; retry %u in %llu ms", m->hostport,
		       m->retries, (unsigned long long)delay);
	}
}

/* Starts due manual connections; returns true while some retry waits. */
static bool run_manual(struct cr_engine *e)
{
	struct cr_coord *co = &e->co;
	uint64_t now = cr__now_us();
	bool waiting = false;
	for (unsigned i = 0; i < co->nmanual; i++) {
		struct cr_manual *m = &co->manual[i];
		if (m->connected || m->pending)
			continue;
		if (m->next_us > now) {
			waiting = true;
			continue;
		}
		m->pending = true;
		place(e, &m->addr, m->hostport, m->flags, i);
	}
	return waiting;
}

static void arm_tick(struct cr_coord *co)
{
	if (co->tick_pending)
		return;
	co->ts.tv_sec = 0;
	co->ts.tv_nsec = COORD_TICK_MS * 1000000ll;
	struct io_uring_sqe *sqe = cr__sqe(&co->ring);
	io_uring_prep_timeout(sqe, &co->ts, 0, 0);
	io_uring_sqe_set_data64(sqe, cr__ud(OP_TICK, 0, 0));
	co->tick_pending = true;
}

static void *coord_main(void *arg)
{
	struct cr_engine *e = arg;
	struct cr_coord *co = &e->co;
	cr__cur_coord = co;
	cr__enable_rings(&co->ring);
	atomic_store(&co->mb.rung, 0);
	while (!co->stop) {
		struct cr_mail *c;
		cr__mailbox_rearm(&co->mb);
		while ((c = cr__mailbox_pop(&co->mb))) {
			on_event(e, c);
			cr__mail_free(c);
		}
		if (co->stop)
			break;
		if (run_manual(e))
			arm_tick(co);
		if (cr__ring_wait(e, &co->ring, "coordinator") < 0)
			break;
		unsigned head, n = 0;
		struct io_uring_cqe *cqe;
		io_uring_for_each_cqe(&co->ring, head, cqe) {
			if (cr__ud_op(cqe->user_data) == OP_TICK)
				co->tick_pending = false;
			n++;
		}
		io_uring_cq_advance(&co->ring, n);
	}
	return NULL;
}

int cr__coord_start(struct cr_engine *e)
{
	struct cr_coord *co = &e->co;
	const struct cr_config *c = &e->cfg;
	unsigned out = c->outbound_slots < c->max_connections ? c->outbound_slots : c->max_connections;
	atomic_store(&e->inbound_max, c->max_connections - out);
	for (unsigned i = 0; i < c->connect.n + c->addnode.n; i++) {
		const char *hp = i < c->connect.n ? c->connect.v[i] : c->addnode.v[i - c->connect.n];
		struct sockaddr_storage ss;
		int bad = cr__sockaddr_parse(&ss, hp, e->chain->default_port, 0);
		if (bad && !e->has_proxy) {
			cr__log(e, CR_LOG_ERROR, CR_LOG_GENERAL, "bad address '%s' (numeric host:port expected)", hp);
			return bad;
		}
		int ret = add_manual(e, hp, &ss, 0);
		if (ret)
			return ret;
	}
	int ret = cr__ring_setup(e, &co->ring, COORD_RING_ENTRIES, true);
	if (ret)
		return ret;
	co->ring_ok = true;
	cr__mailbox_init(&co->mb, co->ring.ring_fd);
	/* the ring starts disabled (single issuer): the thread enables it;
	 * hold doorbells until then */
	atomic_store(&co->mb.rung, 1);
	ret = pthread_create(&co->thread, NULL, coord_main, e);
	if (ret)
		return -ret;
	co->thread_started = true;
	return 0;
}

void cr__coord_stop(struct cr_engine *e)
{
	struct cr_coord *co = &e->co;
	if (co->thread_started) {
		struct cr_mail *c = cr__mail_new(MAIL_STOP, 0);
		if (c) {
			/* the bell may be held (rung) if the thread never enabled its
			 * ring; force a fresh doorbell */
			atomic_store(&co->mb.rung, 0);
			cr__mailbox_post(e, &co->mb, c);
		}
		pthread_join(co->thread, NULL);
		co->thread_started = false;
	}
	if (co->ring_ok) {
		struct cr_mail *c;
		while ((c = cr__mailbox_pop(&co->mb)))
			cr__mail_free(c);
		io_uring_queue_exit(&co->ring);
		co->ring_ok = false;
	}
	free(co->manual);
	co->manual = NULL;
	co->nmanual = co->cap_manual = 0;
}
