/* The public API of engine/connring.h: configuration, lifecycle, and the
 * calls that reach a peer's worker through its mailbox (or directly, when
 * the caller already runs on that worker). Thread rules are in connring.h. */
#include <errno.h>
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "engine/internal.h"
#include "proto/err.h"
#include "proto/v1.h"

void cr_config_default(struct cr_config *c)
{
	memset(c, 0, sizeof *c);
	c->chain = CR_CHAIN_MAIN;
	c->listen = true;
	c->max_connections = 125;
	c->outbound_slots = 11; /* Core: 8 full-relay + 2 block-relay + 1 feeler */
	c->manual_retry_ms = 5000;
	c->manual_retry_max_ms = 300000;
	c->v2transport = true;
	c->protocol_version = 70016;
	c->relay = true;
	c->connect_timeout_ms = 5000;
	c->handshake_timeout_ms = 60000;
	c->inactivity_timeout_ms = 20 * 60 * 1000;
	c->ping_interval_ms = 2 * 60 * 1000;
	c->ping_timeout_ms = 20 * 60 * 1000;
	c->stop_flush_ms = 2000;
	c->recv_flood_bytes = 5000000;
	c->send_buffer_bytes = 1000000;
	c->zc_threshold_bytes = 65536;
	c->recv_buf_count = 1024;
	c->recv_buf_size = 16384;
	c->ring_entries = 4096;
}

const char *cr_close_reason_str(enum cr_close_reason r)
{
	switch (r) {
	case CR_CLOSE_EOF: return "peer closed";
	case CR_CLOSE_SOCKET: return "socket error";
	case CR_CLOSE_PROTOCOL: return "protocol error";
	case CR_CLOSE_HANDSHAKE_TIMEOUT: return "handshake timeout";
	case CR_CLOSE_INACTIVITY: return "inactivity timeout";
	case CR_CLOSE_PING_TIMEOUT: return "ping timeout";
	case CR_CLOSE_SELF: return "connected to self";
	case CR_CLOSE_LOCAL: return "disconnect requested";
	case CR_CLOSE_STOP: return "engine stopping";
	case CR_CLOSE_CONNECT_FAILED: return "connect failed";
	case CR_CLOSE_INBOUND_FULL: return "inbound full";
	case CR_CLOSE_PROXY: return "proxy failed";
	case CR_CLOSE_V1_RETRY: return "retrying with v1";
	case CR_CLOSE_VERSION: return "unacceptable version";
	case CR_CLOSE_RESOURCES: return "out of resources";
	}
	return "unknown";
}

const char *cr_conn_type_str(enum cr_conn_type t)
{
	switch (t) {
	case CR_CONN_INBOUND: return "inbound";
	case CR_CONN_OUTBOUND: return "outbound";
	case CR_CONN_MANUAL: return "manual";
	}
	return "unknown";
}

static bool pow2(unsigned v)
{
	return v && !(v & (v - 1));
}

int cr_engine_new(struct cr_engine **out, const struct cr_config *cfg)
{
	*out = NULL;
	const struct cr_chain *chain = cr_chain_get(cfg->chain);
	if (!chain || cfg->workers > CR_MAX_WORKERS || cfg->nbind > CR_BIND_MAX ||
	    cfg->nconnect > CR_MANUAL_MAX || cfg->naddnode > CR_MANUAL_MAX ||
	    !pow2(cfg->recv_buf_count) || cfg->recv_buf_count > 32768 ||
	    cfg->recv_buf_size < 512 || cfg->ring_entries < 64 || cfg->max_connections == 0)
		return -EINVAL;
	struct cr_engine *e = calloc(1, sizeof *e);
	if (!e)
		return -ENOMEM;
	e->cfg = *cfg;
	e->chain = chain;
	if (cfg->user_agent[0])
		snprintf(e->user_agent, sizeof e->user_agent, "%s", cfg->user_agent);
	else
		snprintf(e->user_agent, sizeof e->user_agent, "/connring:%s/", CR_VERSION);
	pthread_mutex_init(&e->bell_lock, NULL);
	*out = e;
	return 0;
}

/* Kernel features beyond what every 6.1 ring has, probed once. */
static void probe(struct cr_engine *e, struct io_uring *ring)
{
	struct io_uring_probe *pr = io_uring_get_probe_ring(ring);
	if (!pr)
		return;
	e->feat_fd_install = io_uring_opcode_supported(pr, CR_IORING_OP_FIXED_FD_INSTALL);
	/* REPORT_USAGE (6.2) predates FIXED_FD_INSTALL (6.8): use one as the
	 * witness of the other; a refused flag would fail the send visibly. */
	e->feat_zc_report = e->feat_fd_install && io_uring_opcode_supported(pr, IORING_OP_SEND_ZC);
	if (!io_uring_opcode_supported(pr, IORING_OP_SEND_ZC))
		e->cfg.zc_threshold_bytes = 0;
	if (!e->feat_fd_install)
		cr_log(e, CR_LOG_WARN, "io_uring: no FIXED_FD_INSTALL (kernel < 6.8): inbound peer "
		       "addresses unknown");
	io_uring_free_probe(pr);
}

static void drain_dead_mailbox(struct cr_worker *w)
{
	struct cr_cmd *c;
	while ((c = cr_mailbox_pop(&w->mb))) {
		if (c->waiter) {
			c->waiter->ret = -ESHUTDOWN;
			atomic_store(&c->waiter->done, 1);
			syscall(SYS_futex, &c->waiter->done, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
		}
		if (c->buf)
			cr_sbuf_unref(NULL, c->buf);
		cr_cmd_free(c);
	}
}

int cr_engine_start(struct cr_engine *e)
{
	if (e->started)
		return -EALREADY;
	e->started = true;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	e->nworkers = e->cfg.workers ? e->cfg.workers : (unsigned)(cores > 0 ? cores : 1);
	if (e->nworkers > CR_MAX_WORKERS)
		e->nworkers = CR_MAX_WORKERS;
	e->w = calloc(e->nworkers, sizeof *e->w);
	if (!e->w)
		return -ENOMEM;
	int ret = cr_ring_setup(e, &e->bell, 64, false);
	if (ret)
		goto fail;
	e->bell_ok = true;
	probe(e, &e->bell);
	for (unsigned i = 0; i < e->nworkers; i++) {
		struct cr_worker *w = &e->w[i];
		w->e = e;
		w->idx = i;
		for (unsigned k = 0; k < CR_MAX_LISTENERS; k++)
			w->ls[k].fd = -1;
		ret = cr_worker_setup(w);
		if (ret)
			goto fail;
	}
	if (e->cfg.listen && (ret = cr_listen_open(e)) != 0)
		goto fail;
	ret = cr_coord_start(e);
	if (ret)
		goto fail;
	for (unsigned i = 0; i < e->nworkers; i++) {
		ret = -pthread_create(&e->w[i].thread, NULL, cr_worker_main, &e->w[i]);
		if (ret)
			goto fail;
		e->w[i].thread_started = true;
	}
	cr_log(e, CR_LOG_INFO, "connring %s: %u workers, capacity %zu peers, %s, port %u%s",
	       CR_VERSION, e->nworkers, cr_engine_capacity(e),
	       e->feat_defer ? "single-issuer rings" : "shared rings", e->port,
	       e->cfg.listen ? "" : " (not listening)");
	return 0;
fail:
	cr_engine_stop(e);
	return ret;
}

void cr_engine_stop(struct cr_engine *e)
{
	if (!e->started || e->stopped)
		return;
	e->stopped = true;
	atomic_store(&e->stop_flag, 1);
	cr_coord_stop(e);
	for (unsigned i = 0; i < e->nworkers; i++) {
		struct cr_worker *w = &e->w[i];
		if (!w->thread_started)
			continue;
		struct cr_cmd *c = cr_cmd_new(CMD_STOP, 0);
		if (c)
			cr_mailbox_post(e, &w->mb, c);
	}
	for (unsigned i = 0; i < e->nworkers; i++) {
		struct cr_worker *w = &e->w[i];
		if (w->thread_started)
			pthread_join(w->thread, NULL);
		w->thread_started = false;
		if (w->ring_ok)
			drain_dead_mailbox(w);
		cr_worker_teardown(w);
	}
	if (e->bell_ok) {
		io_uring_queue_exit(&e->bell);
		e->bell_ok = false;
	}
}

void cr_engine_free(struct cr_engine *e)
{
	if (!e)
		return;
	cr_engine_stop(e);
	free(e->w);
	pthread_mutex_destroy(&e->bell_lock);
	free(e);
}

uint16_t cr_engine_port(const struct cr_engine *e)
{
	return e->port;
}

unsigned cr_engine_workers(const struct cr_engine *e)
{
	return e->nworkers;
}

size_t cr_engine_capacity(const struct cr_engine *e)
{
	size_t n = 0;
	for (unsigned i = 0; i < e->nworkers; i++)
		n += e->w[i].cap;
	return n;
}

void cr_engine_totals(const struct cr_engine *e, struct cr_totals *out)
{
	uint64_t *o = (uint64_t *)out;
	size_t n = sizeof *out / sizeof(uint64_t);
	memset(out, 0, sizeof *out);
	for (unsigned i = 0; i < e->nworkers; i++)
		for (size_t k = 0; k < n; k++)
			o[k] += atomic_load_explicit(&e->w[i].stats.v[k], memory_order_relaxed);
	out->payload_copy_bytes += atomic_load_explicit(&e->api_copy_bytes, memory_order_relaxed);
}
