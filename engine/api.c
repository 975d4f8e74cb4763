/* The public API of <connring/connring.h> that is not about one peer:
 * version, error texts, names of enums, and the engine's lifecycle and
 * counters. Thread rules are in connring.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr/err.h"
#include "engine/internal.h"

/* The shared ring for doorbells rung by threads that own none: MSG_RING
 * requests only, submitted one at a time under bell_lock. */
#define BELL_RING_ENTRIES 64

unsigned cr_version(void)
{
	return CR_VERSION_HEX;
}

const char *cr_version_string(void)
{
	return CR_VERSION;
}

static const struct {
	int code;
	const char *text;
} reasons[] = {
	{ CR_E_NOT_READY, "peer not ready (handshake not finished)" },
	{ CR_E_BAD_ADDRESS, "not a numeric IPv4/IPv6 host[:port]" },
	{ CR_E_CONFIG_RANGE, "config: value out of range" },
	{ CR_E_CONFIG_FULL, "config: list full" },
};

const char *cr_strerror(int err)
{
	for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
		if (reasons[i].code == err)
			return reasons[i].text;
	return cr_addr_strerror(err);
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
	case CR_CLOSE_EVICTED: return "evicted";
	case CR_CLOSE_BANNED: return "banned";
	case CR_CLOSE_MISBEHAVED: return "misbehaved";
	case CR_CLOSE_FEELER_DONE: return "feeler done";
	case CR_CLOSE_ADDR_FETCH_DONE: return "addr-fetch done";
	}
	return "unknown";
}

const char *cr_conn_type_str(enum cr_conn_type t)
{
	switch (t) {
	case CR_CONN_INBOUND: return "inbound";
	case CR_CONN_OUTBOUND_FULL_RELAY: return "outbound-full-relay";
	case CR_CONN_MANUAL: return "manual";
	case CR_CONN_FEELER: return "feeler";
	case CR_CONN_BLOCK_RELAY: return "block-relay-only";
	case CR_CONN_ADDR_FETCH: return "addr-fetch";
	}
	return "unknown";
}

/* The proxy is parsed once, here: numeric ip:port (cr_config_set_proxy
 * checked it), the port defaulting to 1080. */
static int parse_proxy(struct cr_engine *e)
{
	if (!e->cfg.proxy[0])
		return 0;
	int ret = cr__sockaddr_parse(&e->proxy, e->cfg.proxy, 1080, 0);
	if (ret < 0)
		return ret;
	e->has_proxy = true;
	return 0;
}

int cr_engine_new(struct cr_engine **out, const struct cr_config *cfg)
{
	*out = NULL;
	if (!cfg)
		return -EINVAL;
	struct cr_engine *e = calloc(1, sizeof *e);
	if (!e)
		return -ENOMEM;
	if (cr__config_copy(&e->cfg, cfg) < 0) {
		free(e);
		return -ENOMEM;
	}
	e->chain = cr_chain_get(e->cfg.chain);
	cr__random(&e->netgroup_secret, sizeof e->netgroup_secret);
	int ret = parse_proxy(e);
	if (ret < 0) {
		cr__config_clear(&e->cfg);
		free(e);
		return ret;
	}
	if (e->cfg.user_agent[0])
		snprintf(e->user_agent, sizeof e->user_agent, "%s", e->cfg.user_agent);
	else
		snprintf(e->user_agent, sizeof e->user_agent, "/connring:%s/", CR_VERSION);
	pthread_mutex_init(&e->bell_lock, NULL);
	cr__addr_engine_init(e);
	*out = e;
	return 0;
}

int cr_engine_start(struct cr_engine *e)
{
	if (e->started)
		return -EALREADY;
	e->started = true;
	int ret = cr__ring_setup(e, &e->bell, BELL_RING_ENTRIES, false);
	if (ret)
		goto fail;
	e->bell_ok = true;
	cr__ring_probe(e, &e->bell);
	ret = cr__workers_setup(e);
	if (ret)
		goto fail;
	cr__budget_setup(e);
	if (e->cfg.listen && (ret = cr__listen_open(e)) != 0)
		goto fail;
	ret = cr__coord_start(e);
	if (ret)
		goto fail;
	ret = cr__workers_run(e);
	if (ret)
		goto fail;
	cr__log(e, CR_LOG_INFO, CR_LOG_GENERAL, "connring %s: %u workers, capacity %zu peers, %s, port %u%s",
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
	cr__coord_stop(e);
	cr__workers_stop(e);
	cr__coord_finish(e); /* what workers mailed it while they stopped */
	/* under the lock: a cr_peer_info caller racing the stop may be about
	 * to ring through the bell */
	pthread_mutex_lock(&e->bell_lock);
	if (e->bell_ok) {
		io_uring_queue_exit(&e->bell);
		e->bell_ok = false;
	}
	pthread_mutex_unlock(&e->bell_lock);
}

void cr_engine_free(struct cr_engine *e)
{
	if (!e)
		return;
	cr_engine_stop(e);
	free(e->w);
	cr__config_clear(&e->cfg);
	free(e->import);
	pthread_mutex_destroy(&e->bell_lock);
	pthread_mutex_destroy(&e->inv_lock);
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

void cr_engine_totals(const struct cr_engine *e, struct cr_totals *out, size_t out_size)
{
	struct cr_totals t;
	uint64_t *o = (uint64_t *)&t;
	size_t n = sizeof t / sizeof(uint64_t);
	memset(&t, 0, sizeof t);
	for (unsigned i = 0; i < e->nworkers; i++)
		for (size_t k = 0; k < n; k++)
			o[k] += atomic_load_explicit(&e->w[i].stats.v[k], memory_order_relaxed);
	for (size_t k = 0; k < n; k++)
		o[k] += atomic_load_explicit(&e->co.stats.v[k], memory_order_relaxed);
	t.payload_copy_bytes += atomic_load_explicit(&e->api_copy_bytes, memory_order_relaxed);
	t.send_mem_bytes = atomic_load_explicit(&e->send_mem, memory_order_relaxed);
	for (unsigned i = 0; i < e->nworkers; i++) {
		t.addr_mail_bytes += atomic_load_explicit(&e->w[i].addr_mail_bytes, memory_order_relaxed);
		uint64_t peak = atomic_load_explicit(&e->w[i].addr_mail_peak, memory_order_relaxed);
		if (peak > t.addr_mail_peak)
			t.addr_mail_peak = peak;
	}
	/* a caller built against a shorter (older) struct gets its prefix; a
	 * longer one gets zeros beyond ours */
	size_t n_copy = out_size < sizeof t ? out_size : sizeof t;
	memcpy(out, &t, n_copy);
	if (out_size > n_copy)
		memset((uint8_t *)out + n_copy, 0, out_size - n_copy);
}
