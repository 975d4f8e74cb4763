/* The coordinator thread: it owns the connection counts, the table of peer
 * summaries (summary.h), the manual connections and (guard.c, evict_run.c)
 * the ban list, inbound admission and eviction. It sets the inbound
 * budget (max_connections minus the outbound slots) that workers take from
 * when they accept; places each outbound connection on the least-loaded
 * worker; and keeps every connect= and addnode= entry (and cr_connect with
 * CR_CONNECT_PERSISTENT) connected, retrying with btcd's connmgr backoff:
 * the n-th consecutive failure waits n x manual_retry_ms, capped at
 * manual_retry_max_ms. It sees peers only through events the workers post
 * (ready, update, closed), never their memory. It has its own ring and
 * sleeps in it; a timeout is armed only while something waits.
 * cr__coord_peer_event and cr__coord_connect_failed may be called by any
 * engine thread; the rest runs on the coordinator thread or the thread
 * starting/stopping the engine. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/coord_sched.h"
#include "engine/internal.h"
#include "engine/summary.h"

#define COORD_TICK_MS 100
#define COORD_RING_ENTRIES 256 /* doorbells, MSG_RING posts to workers, wake-ups */

void cr__coord_peer_event(struct cr_worker *w, struct cr_peer *p, enum cr_mail_kind kind,
			  bool ready, enum cr_close_reason why)
{
	struct cr_engine *e = w->e;
	struct cr_mail *c = cr__mail_new(kind, 0);
	if (!c) {
		cr__log(e, CR_LOG_WARN, CR_LOG_NET, "peer=%llx: event for the coordinator lost (out of memory)",
			(unsigned long long)cr__peer_id(w, p));
		return;
	}
	c->peer = cr__peer_id(w, p);
	c->manual = p->manual;
	c->addr = p->addr;
	struct cr__peer_ev *ev = &c->ev;
	ev->token = p->token;
	ev->type = p->type;
	ev->ready = ready;
	ev->transport = p->t && (p->flags & PF_T_INIT) && cr_transport_kind(p->t) == CR_TRANSPORT_V2 ? 2 : 1;
	ev->relay = p->relay;
	ev->version = p->version;
	ev->services = p->services;
	ev->connected_us = p->connected_wall_us;
	ev->min_ping_us = p->ping_min_us;
	ev->last_block_us = p->last_block_us;
	ev->last_tx_us = p->last_tx_us;
	ev->close_reason = why;
	ev->permissions = p->perms;
	ev->prefer_evict = p->prefer_evict;
	ev->addr_relay = p->ar != NULL;
	ev->addrv2 = (p->flags & PF_WANTS_ADDRV2) != 0;
	p->ev_sent_us = cr__now_us();
	cr__mailbox_post(e, &e->co.mb, c);
}

void cr__coord_connect_failed(struct cr_engine *e, const struct cr_mail *connect)
{
	struct cr_mail *c = cr__mail_new(MAIL_EV_CLOSED, 0);
	if (!c)
		return;
	c->peer = CR_PEER_NONE;
	c->manual = connect->manual;
	c->addr = connect->addr;
	c->ev = connect->ev;
	c->ev.ready = false;
	c->ev.close_reason = CR_CLOSE_RESOURCES;
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

void cr__coord_place(struct cr_engine *e, const struct sockaddr_storage *addr, const char *host,
		     unsigned flags, uint32_t manual, enum cr_conn_type type, uint64_t token)
{
	struct cr_mail *c = cr__mail_new(MAIL_CONNECT, 0);
	if (!c)
		return;
	c->addr = *addr;
	c->flags = flags | CR_CONNECT_PLACED;
	c->manual = manual;
	c->ev.type = (uint8_t)type;
	c->ev.token = token;
	snprintf(c->host, sizeof c->host, "%s", host);
	struct cr_worker *w = least_loaded(e);
	/* counted until the worker takes it, so a burst spreads out */
	atomic_fetch_add_explicit(&w->placing, 1, memory_order_relaxed);
	cr__mailbox_post(e, &w->mb, c);
}

int cr__coord_add_manual(struct cr_engine *e, const char *hostport, const struct sockaddr_storage *addr,
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

static void manual_event(struct cr_engine *e, struct cr_mail *c)
{
	struct cr_coord *co = &e->co;
	if (c->manual >= co->nmanual)
		return;
	struct cr_manual *m = &co->manual[c->manual];
	if (c->kind == MAIL_EV_READY) {
		m->connected = true;
		m->pending = false;
		m->retries = 0;
	} else if (c->kind == MAIL_EV_CLOSED) {
		if (c->ev.close_reason == CR_CLOSE_STOP)
			return;
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

static void on_event(struct cr_engine *e, struct cr_mail *c)
{
	struct cr_coord *co = &e->co;
	switch (c->kind) {
	case MAIL_CO_CONNECT:
		if (c->flags & CR_CONNECT_PERSISTENT) {
			if (cr__coord_add_manual(e, c->host, &c->addr, c->flags) < 0)
				cr__log(e, CR_LOG_WARN, CR_LOG_NET, "addnode %s: out of memory", c->host);
		} else {
			/* Core's "addnode onetry": a manual connection, or
			 * cr_add_connection's automatic type */
			cr__coord_place(e, &c->addr, c->host, c->flags, UINT32_MAX,
					c->ev.type ? (enum cr_conn_type)c->ev.type : CR_CONN_MANUAL, 0);
		}
		return;
	case MAIL_STOP:
		co->stop = true;
		return;
	case MAIL_CO_SNAPSHOT:
		cr__summary_answer(e, c->waiter, 0);
		return;
	case MAIL_NET_OP:
		cr__coord_net_mail(e, c);
		return;
	case MAIL_CO_TIP:
		co->last_tip_us = (int64_t)cr__now_us();
		co->tip_block_us = c->ev.last_block_us;
		return;
	case MAIL_EV_READY:
		cr__sched_event(e, c);
		if (c->peer && !cr__summary_add(&co->sum, c->peer, &c->ev, &c->addr))
			cr__log(e, CR_LOG_WARN, CR_LOG_NET, "peer summary table: out of memory");
		break;
	case MAIL_EV_UPDATE:
		cr__summary_update(&co->sum, c->peer, &c->ev);
		return;
	case MAIL_EV_CLOSED:
		cr__sched_event(e, c);
		if (c->peer)
			cr__summary_remove(&co->sum, c->peer, NULL);
		break;
	default:
		return;
	}
	if (c->manual != UINT32_MAX)
		manual_event(e, c);
}

/* Starts due manual connections; returns true while some retry waits. */
static bool run_manual(struct cr_engine *e)
{
	struct cr_coord *co = &e->co;
	uint64_t now = cr__now_us();
	bool waiting = false;
	if (!cr__net_active(e))
		return false; /* setnetworkactive false: nothing opens (coord_net.c restarts them) */
	for (unsigned i = 0; i < co->nmanual; i++) {
		struct cr_manual *m = &co->manual[i];
		if (m->connected || m->pending || m->removed)
			continue;
		if (m->next_us > now) {
			waiting = true;
			continue;
		}
		m->pending = true;
		cr__coord_place(e, &m->addr, m->hostport, m->flags, i, CR_CONN_MANUAL, 0);
	}
	return waiting;
}

void cr__coord_wake_at(struct cr_engine *e, uint64_t due_us)
{
	if (due_us < e->co.wake_want_us)
		e->co.wake_want_us = due_us;
}

/* One absolute timeout (CLOCK_MONOTONIC, cr__now_us's clock) for the
 * earliest deadline of this iteration: armed, or moved to it. An update
 * that meets a timeout which has just fired fails (-ENOENT) harmlessly:
 * that completion wakes the loop, which arms again. */
static void arm_wake(struct cr_coord *co)
{
	uint64_t due = co->wake_want_us;
	if (due == UINT64_MAX || due == co->wake_armed_us)
		return; /* none asked (a timeout still armed wakes us once, harmless) */
	if (!due)
		due = 1;
	struct __kernel_timespec *ts = co->wake_armed_us ? &co->wake_ts_upd : &co->wake_ts;
	ts->tv_sec = (int64_t)(due / 1000000u);
	ts->tv_nsec = (long long)(due % 1000000u) * 1000;
	struct io_uring_sqe *sqe = cr__sqe(&co->ring);
	if (co->wake_armed_us) {
		io_uring_prep_timeout_update(sqe, ts, cr__ud(OP_TICK, 0, 0), IORING_TIMEOUT_ABS);
		sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
		io_uring_sqe_set_data64(sqe, cr__ud(OP_CANCEL, 0, 0));
	} else {
		io_uring_prep_timeout(sqe, ts, 0, IORING_TIMEOUT_ABS);
		io_uring_sqe_set_data64(sqe, cr__ud(OP_TICK, 0, 0));
	}
	co->wake_armed_us = due;
}

static void *coord_main(void *arg)
{
	struct cr_engine *e = arg;
	struct cr_coord *co = &e->co;
	cr__cur_coord = co;
	/* named for top -H, perf and bench/idle-coord (15 characters max) */
	pthread_setname_np(pthread_self(), "cr-coord");
	cr__enable_rings(&co->ring);
	atomic_store(&co->mb.rung, 0);
	while (!co->stop) {
		struct cr_mail *c;
		co->wake_want_us = UINT64_MAX; /* each iteration asks anew */
		cr__mailbox_rearm(&co->mb);
		while ((c = cr__mailbox_pop(&co->mb))) {
			if (cr__guard_mail(e, c))
				continue; /* kept (an admission answered later) */
			if (cr__coord_addr_mail(e, c))
				continue; /* freed */
			on_event(e, c);
			cr__mail_free(c);
		}
		if (co->stop)
			break;
		uint64_t now = cr__now_us();
		bool guard_tick = cr__guard_tick(e, now);
		if (run_manual(e) | guard_tick)
			cr__coord_wake_at(e, now + COORD_TICK_MS * 1000u);
		cr__coord_wake_at(e, cr__coord_am_tick(e, now));
		cr__coord_addr_gauge(e); /* after addpeeraddress or an import too */
		uint64_t sched_due = cr__sched_tick(e, now);
		if (sched_due != UINT64_MAX)
			cr__coord_wake_at(e, sched_due);
		arm_wake(co);
		if (cr__ring_wait(e, &co->ring, "coordinator") < 0)
			break;
		unsigned head, n = 0;
		struct io_uring_cqe *cqe;
		io_uring_for_each_cqe(&co->ring, head, cqe) {
			if (cr__ud_op(cqe->user_data) == OP_TICK)
				co->wake_armed_us = 0; /* fired (or cancelled): none in flight */
			else if (cr__ud_op(cqe->user_data) == OP_BELL)
				cr__bell_failed(e, cqe->user_data, cqe->res);
			n++;
		}
		io_uring_cq_advance(&co->ring, n);
	}
	cr__sched_stop(e);
	cr__coord_am_stop(e);
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
		int ret = cr__coord_add_manual(e, hp, &ss, 0);
		if (ret)
			return ret;
		co->manual[co->nmanual - 1].connect_opt = i < c->connect.n;
	}
	int ret = cr__coord_am_start(e);
	if (ret)
		return ret;
	uint64_t keys[3];
	cr__random(keys, sizeof keys);
	/* the engine's netgroup secret: eviction and the flood defence key
	 * netgroups alike */
	ret = cr__summaries_init(&co->sum, e->netgroup_secret, keys[1], keys[2], co->asmap,
				     c->routable127 ? CR_NETGROUP_LOOPBACK_ROUTABLE : 0);
	if (ret)
		return ret;
	co->sum_ok = true;
	ret = cr__sched_start(e);
	if (ret)
		return ret;
	ret = cr__guard_new(e);
	if (ret)
		return ret;
	ret = cr__coord_addr_new(e);
	if (ret)
		return ret;
	ret = cr__ring_setup(e, &co->ring, COORD_RING_ENTRIES, true);
	if (ret)
		return ret;
	co->ring_ok = true;
	cr__mailbox_init(&co->mb, co->ring.ring_fd);
	co->mb.bell_id = CR_BELL_COORD;
	/* the ring starts disabled (single issuer): the thread enables it;
	 * hold doorbells until then */
	atomic_store(&co->mb.rung, 1);
	ret = pthread_create(&co->thread, NULL, coord_main, e);
	if (ret)
		return -ret;
	co->thread_started = true;
	return 0;
}

/* Answers the mail left in a stopped coordinator's mailbox (waiters get
 * -ESHUTDOWN). Several threads may do this at once, hence the lock. */
void cr__coord_drain_dead(struct cr_engine *e)
{
	struct cr_mail *c;
	if (!e->co.mb.head)
		return; /* the engine never got as far as the coordinator */
	pthread_mutex_lock(&e->bell_lock);
	while ((c = cr__mailbox_pop(&e->co.mb))) {
		if (c->kind == MAIL_CO_SNAPSHOT)
			cr__summary_answer(e, c->waiter, -ESHUTDOWN);
		else if (c->waiter)
			cr__waiter_done(c->waiter, -ESHUTDOWN);
		if (c->kind == MAIL_ADDRS || c->kind == MAIL_GETADDR)
			cr__addr_mail_done(e, c);
		else
			cr__mail_free(c);
	}
	pthread_mutex_unlock(&e->bell_lock);
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
	/* closed once the thread is gone: a ban caller that comes later sees
	 * it and drains its own mail, so no waiter is left */
	atomic_store(&co->mb.closed, 1);
}

/* After the workers stopped: they may have posted events (a pong, a
 * close) after the coordinator's thread ended, so its mailbox and ring
 * live until now. */
void cr__coord_finish(struct cr_engine *e)
{
	struct cr_coord *co = &e->co;
	cr__coord_stop(e);
	if (co->ring_ok) {
		cr__coord_drain_dead(e);
		io_uring_queue_exit(&co->ring);
		co->ring_ok = false;
	}
	cr__guard_free(e);
	cr__coord_addr_free(e);
	cr__sched_finish(e);
	cr__coord_am_finish(e);
	if (co->sum_ok) {
		cr__summaries_clear(&co->sum);
		co->sum_ok = false;
	}
	free(co->manual);
	co->manual = NULL;
	co->nmanual = co->cap_manual = 0;
}
