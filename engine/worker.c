/* The workers, whole life: set-up (ring, fixed-file table, provided-buffer
 * ring, peer slab), the thread with its one completion switch and the work
 * after each completion batch (buffers back to the ring, recv re-arms,
 * output flushes, freeing closed peers, the stop sequence), and stop and
 * teardown. Mail from other threads arrives through the mailbox, woken by
 * a MSG_RING doorbell; the thread sleeps in cr__ring_wait otherwise.
 * cr__workers_setup, _run and _stop run on the thread calling
 * cr_engine_start or cr_engine_stop (before the worker threads start or
 * after they ended); everything else on the worker's own thread. */
#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "engine/internal.h"
#include "proto/err.h"

/* The table size when RLIMIT_NOFILE cannot be read: Linux's default soft limit. */
#define RLIMIT_NOFILE_FALLBACK 1024

/* The fixed-file table is capped by RLIMIT_NOFILE (the kernel checks the
 * table size against it), so raise the soft limit to the hard one first. */
static unsigned file_table_cap(struct cr_engine *e)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		rl.rlim_cur = RLIMIT_NOFILE_FALLBACK;
	unsigned cap = rl.rlim_cur > (1u << CR_SLOT_BITS) - 1 ? (1u << CR_SLOT_BITS) - 1
							    : (unsigned)rl.rlim_cur;
	if (e->cfg.max_peers_per_worker && e->cfg.max_peers_per_worker < cap)
		cap = e->cfg.max_peers_per_worker;
	return cap;
}

/* Buffers handed to the kernel at start: 64 of 16 KiB is 1 MiB per worker,
 * enough for hundreds of quiet peers; a busy worker grows to recv_buf_count. */
#define BUFS_INITIAL 64

static int setup_bufs(struct cr_worker *w)
{
	struct cr_engine *e = w->e;
	w->nbufs = e->cfg.recv_buf_count;
	w->buf_size = e->cfg.recv_buf_size;
	w->buf_mask = (unsigned)io_uring_buf_ring_mask(w->nbufs);
	size_t ring_bytes = w->nbufs * sizeof(struct io_uring_buf);
	if (posix_memalign((void **)&w->br, 4096, ring_bytes))
		return -ENOMEM;
	w->bufs = malloc((size_t)w->nbufs * w->buf_size);
	if (!w->bufs)
		return -ENOMEM;
	io_uring_buf_ring_init(w->br);
	struct io_uring_buf_reg reg = {
		.ring_addr = (uint64_t)(uintptr_t)w->br,
		.ring_entries = w->nbufs,
		.bgid = 0,
	};
	int ret = io_uring_register_buf_ring(&w->ring, &reg, 0);
	if (ret) {
		cr__log(e, CR_LOG_ERROR, CR_LOG_GENERAL, "io_uring_register_buf_ring: %s", strerror(-ret));
		return ret;
	}
	w->nbufs_given = w->nbufs < BUFS_INITIAL ? w->nbufs : BUFS_INITIAL;
	for (unsigned i = 0; i < w->nbufs_given; i++)
		io_uring_buf_ring_add(w->br, w->bufs + (size_t)i * w->buf_size, w->buf_size,
				      (unsigned short)i, (int)w->buf_mask, (int)i);
	io_uring_buf_ring_advance(w->br, (int)w->nbufs_given);
	return 0;
}

/* A recv found the ring empty: hand the kernel as many buffers again as it
 * has (up to recv_buf_count), published with this batch's returns. The
 * memory was reserved at set-up; only buffers the kernel writes become
 * resident, so a quiet worker stays small. */
void cr__bufs_grow(struct cr_worker *w)
{
	unsigned add = w->nbufs_given;
	if (add > w->nbufs - w->nbufs_given)
		add = w->nbufs - w->nbufs_given;
	for (unsigned i = 0; i < add; i++) {
		unsigned bid = w->nbufs_given + i;
		io_uring_buf_ring_add(w->br, w->bufs + (size_t)bid * w->buf_size, w->buf_size,
				      (unsigned short)bid, (int)w->buf_mask, (int)w->br_added);
		w->br_added++;
	}
	w->nbufs_given += add;
}

/* Hands a provided buffer back to the kernel. The ring's tail moves once
 * per completion batch (after_batch) so one store covers many buffers. */
void cr__buf_return(struct cr_worker *w, unsigned bid)
{
	io_uring_buf_ring_add(w->br, w->bufs + (size_t)bid * w->buf_size, w->buf_size,
			      (unsigned short)bid, (int)w->buf_mask, (int)w->br_added);
	w->br_added++;
}

static int setup_slab(struct cr_worker *w)
{
	w->tsize = (cr_transport_size() + 63) & ~(size_t)63;
	w->peers = calloc(w->cap, sizeof *w->peers);
	w->tmem = calloc(w->cap, w->tsize);
	w->pub = calloc(w->cap, sizeof *w->pub);
	w->free_slots = malloc(w->cap * sizeof *w->free_slots);
	w->zc = calloc(CR_ZC_MAX, sizeof *w->zc);
	if (!w->peers || !w->tmem || !w->pub || !w->free_slots || !w->zc)
		return -ENOMEM;
	/* Nothing is written here: a slot is initialised when first handed
	 * out (cr__peer_alloc), so the slab costs memory only as peers come. */
	w->nstack = 0;
	w->fresh = 0;
	w->nfree = w->cap;
	w->zc_free = CR_ZC_MAX;
	w->zc_fresh = 0;
	return 0;
}

static int setup_one(struct cr_worker *w)
{
	struct cr_engine *e = w->e;
	int ret = cr__ring_setup(e, &w->ring, e->cfg.ring_entries, true);
	if (ret)
		return ret;
	w->ring_ok = true;
	w->cap = file_table_cap(e);
	ret = io_uring_register_files_sparse(&w->ring, w->cap);
	if (ret) {
		cr__log(e, CR_LOG_ERROR, CR_LOG_GENERAL, "io_uring_register_files_sparse(%u): %s", w->cap, strerror(-ret));
		return ret;
	}
	ret = setup_bufs(w);
	if (ret)
		return ret;
	ret = setup_slab(w);
	if (ret)
		return ret;
	cr__mailbox_init(&w->mb, w->ring.ring_fd);
	w->mb.bell_id = w->idx;
	/* no doorbell until the thread enabled the ring; it drains first */
	atomic_store(&w->mb.rung, 1);
	cr__wheel_init(&w->wheel);
	uint8_t seed[32];
	cr__random(seed, sizeof seed);
	w->secp = cr_secp_new(seed);
	if (!w->secp)
		return -ENOMEM;
	return 0;
}

static void teardown_one(struct cr_worker *w)
{
	if (w->peers) {
		for (uint32_t i = 0; i < w->fresh; i++)
			if (w->peers[i].t && (w->peers[i].flags & PF_T_INIT))
				cr_transport_clear(w->peers[i].t);
	}
	cr__sendq_pools_free(w);
	for (uint32_t i = 0; w->peers && i < w->fresh; i++)
		cr__addr_peer_free(&w->peers[i]);
	free(w->addr_scratch);
	w->addr_scratch = NULL;
	free(w->addr_wire);
	w->addr_wire = NULL;
	cr__bansnap_unref(w->bans);
	w->bans = NULL;
	explicit_bzero(w->rnd, sizeof w->rnd);
	w->rnd_left = 0;
	if (w->ring_ok) {
		io_uring_queue_exit(&w->ring);
		w->ring_ok = false;
	}
	for (unsigned i = 0; i < w->nls; i++)
		if (w->ls[i].fd >= 0)
			close(w->ls[i].fd);
	w->nls = 0;
	if (w->secp)
		cr_secp_free(w->secp);
	free(w->br);
	free(w->bufs);
	free(w->peers);
	free(w->tmem);
	free(w->pub);
	free(w->free_slots);
	free(w->zc);
	w->secp = NULL;
	w->br = NULL;
	w->bufs = NULL;
	w->peers = NULL;
	w->tmem = NULL;
	w->pub = NULL;
	w->free_slots = NULL;
	w->zc = NULL;
}

void cr__waiter_done(struct cr_waiter *wt, int ret)
{
	wt->ret = ret;
	atomic_store_explicit(&wt->done, 1, memory_order_release);
	syscall(SYS_futex, &wt->done, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* An application message for p, unless the send budget is exceeded and
 * p is not writable: then it is skipped and counted (budget.c). */
static void app_send(struct cr_worker *w, struct cr_peer *p, struct cr_mail *c, bool over)
{
	if (over && p->sq_bytes > w->e->cfg.send_buffer_bytes) {
		CR_STAT_ADD(w, send_skipped, 1);
		return;
	}
	cr__sendq_shared(w, p, c->command, c->buf, true);
}

/* Snapshots of up to wt->cap live peers from slot wt->slot on, in one
 * go: a bulk reader costs each worker one mail per chunk, not one per
 * peer. A slot is live when its public word has a generation. */
static void info_bulk(struct cr_worker *w, struct cr_waiter *wt)
{
	size_t n = 0;
	uint32_t s = wt->slot;
	for (; s < w->cap && n < wt->cap; s++) {
		uint64_t pub = atomic_load_explicit(&w->pub[s], memory_order_relaxed);
		if ((uint32_t)pub == 0)
			continue;
		cr__peer_fill_info(w, &w->peers[s], &wt->info[n++]);
	}
	wt->slot = s;
	cr__waiter_done(wt, (int)n);
}

static void bcast(struct cr_worker *w, struct cr_mail *c)
{
	bool over = cr__send_over_budget(w->e);
	if (c->nids == 0) {
		for (uint32_t i = 0; i < w->fresh; i++) {
			struct cr_peer *p = &w->peers[i];
			if (p->state == PS_READY)
				app_send(w, p, c, over);
		}
		return;
	}
	for (size_t i = 0; i < c->nids; i++) {
		struct cr_peer *p = cr__peer_by_id(w, c->ids[i]);
		if (!p || p->state != PS_READY) {
			CR_STAT_ADD(w, stale_ids, 1);
			continue;
		}
		app_send(w, p, c, over);
	}
}

static void begin_stop(struct cr_worker *w)
{
	if (w->stopping)
		return;
	w->stopping = true;
	w->stop_deadline_us = cr__now_us() + (uint64_t)w->e->cfg.stop_flush_ms * 1000u;
	cr__listen_close(w);
}

/* Runs one piece of mail; frees it (a waiter belongs to its caller). */
void cr__worker_mail(struct cr_worker *w, struct cr_mail *c)
{
	CR_STAT_ADD(w, mailbox_msgs, 1);
	struct cr_peer *p = NULL;
	switch (c->kind) {
	case MAIL_SEND:
		p = cr__peer_by_id(w, c->peer);
		if (p)
			app_send(w, p, c, cr__send_over_budget(w->e));
		else
			CR_STAT_ADD(w, stale_ids, 1);
		break;
	case MAIL_BCAST:
		bcast(w, c);
		break;
	case MAIL_DISCONNECT: /* reason: 0 (cr_disconnect) or the coordinator's, e.g. evicted */
		p = cr__peer_by_id(w, c->peer);
		if (p)
			cr__peer_close(w, p, c->reason ? (enum cr_close_reason)c->reason : CR_CLOSE_LOCAL,
				       c->host[0] ? c->host : NULL);
		else
			CR_STAT_ADD(w, stale_ids, 1);
		break;
	case MAIL_ADMITTED:
		cr__accept_admitted(w, c);
		break;
	case MAIL_BANS:
		cr__bans_install(w, c->ptr);
		break;
	case MAIL_MISBEHAVE:
		p = cr__peer_by_id(w, c->peer);
		if (p)
			cr__peer_misbehaving(w, p, (uint32_t)c->t, false, c->host);
		else
			CR_STAT_ADD(w, stale_ids, 1);
		break;
	case MAIL_RECV_DONE:
		p = cr__peer_by_id(w, c->peer);
		if (p)
			cr__recv_release(w, p, c->n);
		break;
	case MAIL_INFO:
		p = cr__peer_by_id(w, c->peer);
		if (p)
			cr__peer_fill_info(w, p, c->waiter->info);
		cr__waiter_done(c->waiter, p ? 0 : -ESTALE);
		break;
	case MAIL_INFO_BULK:
		info_bulk(w, c->waiter);
		break;
	case MAIL_CONNECT:
		cr__connect_start(w, c); /* counts the peer before uncounting the placement */
		if (c->flags & CR_CONNECT_PLACED)
			atomic_fetch_sub_explicit(&w->placing, 1, memory_order_relaxed);
		break;
	case MAIL_STOP:
		begin_stop(w);
		break;
	case MAIL_NET_WORKER:
		cr__worker_net_mail(w, c);
		break;
	case MAIL_ADDR_PUSH:
	case MAIL_ADDR_SEND:
		cr__addr_mail(w, c);
		cr__addr_mail_done(w->e, c);
		return;
	default:
		break;
	}
	if (c->buf)
		cr__sendq_buf_unref(w, c->buf);
	cr__mail_free(c);
}

static void drain_mailbox(struct cr_worker *w)
{
	cr__mailbox_rearm(&w->mb);
	struct cr_mail *c;
	while ((c = cr__mailbox_pop(&w->mb)))
		cr__worker_mail(w, c);
}

static void peer_cqe(struct cr_worker *w, enum cr_op op, struct io_uring_cqe *cqe)
{
	uint32_t slot = cr__ud_idx(cqe->user_data), gen = cr__ud_gen(cqe->user_data);
	struct cr_peer *p = cr__peer_get(w, slot, gen);
	if (!p) {
		/* cannot happen while slots wait for their operations; still,
		 * never leak a buffer or a descriptor */
		if (op == OP_RECV && (cqe->flags & IORING_CQE_F_BUFFER))
			cr__buf_return(w, cqe->flags >> IORING_CQE_BUFFER_SHIFT);
		if (op == OP_PEERNAME && cqe->res >= 0)
			close(cqe->res);
		return;
	}
	switch (op) {
	case OP_RECV: cr__recv_complete(w, p, cqe->res, cqe->flags); break;
	case OP_SEND: cr__sendq_complete(w, p, cqe->res, cqe->flags); break;
	case OP_SOCKET: cr__socket_complete(w, p, cqe->res); break;
	case OP_CONNECT: cr__connect_complete(w, p, cqe->res); break;
	case OP_PEERNAME: cr__peername_complete(w, p, cqe->res); break;
	case OP_PEERNAME_CMD: cr__peername_cmd_complete(w, p, cqe->res); break;
	case OP_DIRECT_RECV: cr__recv_direct_complete(w, p, cqe->res); break;
	case OP_ABORT: cr__peer_op_done(w, p); break;
	default: break;
	}
}

static void handle_cqe(struct cr_worker *w, struct io_uring_cqe *cqe)
{
	enum cr_op op = cr__ud_op(cqe->user_data);
	switch (op) {
	case OP_ACCEPT:
		cr__accept_complete(w, cr__ud_idx(cqe->user_data), cqe->res, cqe->flags);
		break;
	case OP_ACCEPT_RETRY:
		cr__accept_retry(w, cr__ud_idx(cqe->user_data));
		break;
	case OP_SEND_ZC:
		cr__sendq_zc_notif(w, cr__ud_idx(cqe->user_data), cqe->res, cqe->flags);
		break;
	case OP_TICK:
		cr__wheel_tick(w);
		break;
	case OP_DOORBELL:
		drain_mailbox(w);
		break;
	case OP_BELL:
		cr__bell_failed(w->e, cqe->user_data, cqe->res);
		break;
	case OP_RECV: case OP_SEND: case OP_SOCKET: case OP_CONNECT:
	case OP_PEERNAME: case OP_PEERNAME_CMD: case OP_DIRECT_RECV: case OP_ABORT:
		peer_cqe(w, op, cqe);
		break;
	default:
		break; /* cancel, shutdown, close, link timeouts: nothing to do */
	}
}

/* Stop: peers whose output is flushed close now, the rest at the deadline. */
static void stop_step(struct cr_worker *w)
{
	bool late = cr__now_us() >= w->stop_deadline_us;
	/* The slab is walked again only while some peer still flushes (or
	 * once at the deadline): walking 20,000 slots after every batch of
	 * close completions made stopping 100,000 peers take 17 s. */
	if (w->stop_walked && !w->stop_flushing && !(late && !w->stop_late_walked))
		goto check;
	w->stop_walked = true;
	w->stop_late_walked = late;
	w->stop_flushing = false;
	for (uint32_t i = 0; i < w->fresh; i++) {
		struct cr_peer *p = &w->peers[i];
		if (p->state == PS_FREE || p->state == PS_CLOSING)
			continue;
		if (late || (!p->sq_head && !(p->flags & PF_SEND_INFLIGHT)) || p->state != PS_READY)
			cr__peer_close(w, p, CR_CLOSE_STOP, NULL);
		else
			w->stop_flushing = true;
	}
check:
	cr__wheel_wake_soon(w); /* check the deadline even with no peer timers */
	if (atomic_load(&w->npeers) == 0 && !w->closing)
		w->done = true;
}

static void after_batch(struct cr_worker *w)
{
	if (w->br_added) {
		io_uring_buf_ring_advance(w->br, (int)w->br_added);
		w->br_added = 0;
	}
	cr__recv_rearm_all(w);
	while (w->dirty) {
		struct cr_peer *p = w->dirty;
		w->dirty = p->next_dirty;
		p->flags &= ~PF_IN_DIRTY;
		cr__sendq_flush(w, p);
	}
	cr__reap_closing(w);
	cr__budget_scan(w);
	if (w->stopping)
		stop_step(w);
}

static void pin(struct cr_worker *w)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	if (!w->e->cfg.pin_workers || cores < 1)
		return;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET((int)(w->idx % (unsigned)cores), &set);
	pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static void *worker_main(void *arg)
{
	struct cr_worker *w = arg;
	cr__cur_worker = w;
	char name[16];
	snprintf(name, sizeof name, "cr-worker%u", (unsigned)(w - w->e->w));
	pthread_setname_np(pthread_self(), name);
	uint64_t seed;
	cr__wrandom(w, &seed, sizeof seed);
	cr_rng_seed(&w->addr_rng, seed); /* address relay's policy RNG */
	/* the ring was set up disabled by the starting thread: enabling it
	 * here makes this thread its single issuer */
	int en = cr__enable_rings(&w->ring);
	if (en < 0) {
		cr__log(w->e, CR_LOG_ERROR, CR_LOG_GENERAL, "worker %u: io_uring_enable_rings: %s", w->idx,
			strerror(-en));
		return NULL;
	}
	pin(w);
	for (unsigned i = 0; i < w->nls; i++)
		cr__accept_arm(w, i);
	drain_mailbox(w);
	/* a stop that came before the thread ran was just taken: step it
	 * now, since no completion may ever come to run after_batch */
	after_batch(w);
	char who[32];
	snprintf(who, sizeof who, "worker %u", w->idx);
	while (!w->done) {
		if (cr__ring_wait(w->e, &w->ring, who) < 0)
			break;
		unsigned head, n = 0;
		struct io_uring_cqe *cqe;
		io_uring_for_each_cqe(&w->ring, head, cqe) {
			handle_cqe(w, cqe);
			n++;
		}
		io_uring_cq_advance(&w->ring, n);
		after_batch(w);
	}
	io_uring_submit(&w->ring);
	return NULL;
}

/* Answers and frees mail left for a worker whose thread has ended. Once
 * the mailbox is marked closed several threads may do this (the stopping
 * one, and a cr_peer_info caller whose mail came after the stop's drain):
 * bell_lock makes each drain the queue's single consumer. */
void cr__worker_drain_dead(struct cr_worker *w)
{
	struct cr_mail *c;
	pthread_mutex_lock(&w->e->bell_lock);
	while ((c = cr__mailbox_pop(&w->mb))) {
		if (c->waiter)
			cr__waiter_done(c->waiter, -ESHUTDOWN);
		if (c->kind == MAIL_BANS)
			cr__bansnap_unref(c->ptr);
		if (c->buf)
			cr__sendq_buf_unref(NULL, c->buf);
		if (c->kind == MAIL_ADDR_PUSH || c->kind == MAIL_ADDR_SEND)
			cr__addr_mail_done(w->e, c);
		else
			cr__mail_free(c);
	}
	pthread_mutex_unlock(&w->e->bell_lock);
}

/* What the planner assumes a connected peer costs: its slot, transport
 * and queues in our memory, and its socket in the kernel's (measured on
 * loopback: ~4.7 KB per socket end). Only for the start-up warning. */
#define PLAN_USER_BYTES 3072
#define PLAN_KERNEL_BYTES 5120

static long mem_available_kib(void)
{
	char line[128];
	long kib = -1;
	FILE *f = fopen("/proc/meminfo", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "MemAvailable: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* How many workers: -workers when given; else one per core, more when
 * -maxconnections needs them (each ring holds at most cap peers, the
 * fixed-file table's cap, which is RLIMIT_NOFILE: 20,000 in some
 * sandboxes, 1,048,576 (fs.nr_open) where the hard limit may be raised).
 * SO_REUSEPORT spreads inbound peers by hash, not evenly: 10% room. A
 * -maxconnections the process cannot reach (too few slots, too little
 * memory) is said at start, with the reason. */
static unsigned plan_workers(struct cr_engine *e, unsigned cap)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned ncores = cores > 0 ? (unsigned)cores : 1;
	unsigned want = e->cfg.max_connections;
	uint64_t need64 = ((uint64_t)want * 11 / 10 + cap - 1) / cap;
	unsigned need = need64 > UINT32_MAX ? UINT32_MAX : (unsigned)need64;
	unsigned n = e->cfg.workers;
	if (!n) {
		n = need > ncores ? need : ncores;
		if (n > CR_MAX_WORKERS)
			n = CR_MAX_WORKERS;
		cr__log(e, CR_LOG_INFO, CR_LOG_GENERAL,
			"workers: %u (%u cores; -maxconnections=%u with up to %u peers per worker, "
			"the fixed-file cap set by RLIMIT_NOFILE, needs %u with 10%% room)",
			n, ncores, want, cap, need);
	}
	uint64_t capacity = (uint64_t)n * cap;
	if (capacity < want)
		cr__log(e, CR_LOG_WARN, CR_LOG_GENERAL,
			"capacity %llu peers is below -maxconnections=%u: %u workers x %u peers "
			"(a ring's fixed-file table is capped by RLIMIT_NOFILE; raise the hard limit "
			"or run %s workers)", (unsigned long long)capacity, want, n, cap,
			need <= CR_MAX_WORKERS ? "more" : "fewer peers per process: at most 64");
	long avail = mem_available_kib();
	uint64_t mem_kib = (uint64_t)want * (PLAN_USER_BYTES + PLAN_KERNEL_BYTES) / 1024;
	if (avail >= 0 && mem_kib > (uint64_t)avail)
		cr__log(e, CR_LOG_WARN, CR_LOG_GENERAL,
			"-maxconnections=%u may need ~%llu MiB (about %u B of our memory and %u B of the "
			"kernel's per peer); %ld MiB are available", want,
			(unsigned long long)(mem_kib / 1024), PLAN_USER_BYTES, PLAN_KERNEL_BYTES, avail / 1024);
	return n;
}

int cr__workers_setup(struct cr_engine *e)
{
	e->nworkers = plan_workers(e, file_table_cap(e));
	e->w = calloc(e->nworkers, sizeof *e->w);
	if (!e->w)
		return -ENOMEM;
	for (unsigned i = 0; i < e->nworkers; i++) {
		struct cr_worker *w = &e->w[i];
		w->e = e;
		w->idx = i;
		for (unsigned k = 0; k < CR_MAX_LISTENERS; k++)
			w->ls[k].fd = -1;
		int ret = setup_one(w);
		if (ret)
			return ret;
	}
	return 0;
}

int cr__workers_run(struct cr_engine *e)
{
	for (unsigned i = 0; i < e->nworkers; i++) {
		int ret = -pthread_create(&e->w[i].thread, NULL, worker_main, &e->w[i]);
		if (ret)
			return ret;
		e->w[i].thread_started = true;
	}
	return 0;
}

/* Every worker gets MAIL_STOP (each closes its peers within
 * stop_flush_ms), then each is joined and torn down; mail that arrived
 * after its thread ended is answered with -ESHUTDOWN. */
void cr__workers_stop(struct cr_engine *e)
{
	if (!e->w)
		return;
	for (unsigned i = 0; i < e->nworkers; i++) {
		struct cr_worker *w = &e->w[i];
		if (!w->thread_started)
			continue;
		struct cr_mail *c = cr__mail_new(MAIL_STOP, 0);
		if (c)
			cr__mailbox_post(e, &w->mb, c);
	}
	for (unsigned i = 0; i < e->nworkers; i++) {
		struct cr_worker *w = &e->w[i];
		if (w->thread_started)
			pthread_join(w->thread, NULL);
		w->thread_started = false;
		/* closed before the drain: a poster that comes later sees it and
		 * drains its own mail (cr_peer_info), so no waiter is left */
		atomic_store(&w->mb.closed, 1);
		if (w->ring_ok)
			cr__worker_drain_dead(w);
		teardown_one(w);
	}
}
