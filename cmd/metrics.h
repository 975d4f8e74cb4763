/* Prometheus metrics for connringd: a writer of the text exposition format
 * (version 0.0.4) over the engine's public API and /proc/self, and a small
 * libmicrohttpd server answering GET /metrics on -metricsbind (off by
 * default; no auth, as Prometheus scrapes; bind it to loopback or a
 * private address).
 *
 * Names follow Prometheus' conventions: the connring_ prefix, base units
 * (bytes, seconds), counters ending in _total, one label per dimension
 * (direction, connection_type, transport, network). The process_* metrics
 * are the standard ones client libraries export.
 *
 * Threads: the writer may run on any non-engine thread (it blocks on the
 * workers for peer snapshots); the server's handler runs on its own
 * thread. */
#ifndef CR_CMD_METRICS_H
#define CR_CMD_METRICS_H

#include <stddef.h>

#include "cmd/rpc_node.h"

/* Writes every metric into a malloc'd text (*len bytes). NULL on ENOMEM. */
char *cr_metrics_text(struct cr_rpc_node *n, size_t *len);

struct cr_metrics_server;

/* Serves cr_metrics_text(n) at http://bind/metrics. bind is "ADDR:PORT"
 * or "[V6]:PORT" (a port is required; 0 picks a free one). Returns 0 and
 * *out, or -errno with err filled. */
int cr_metrics_start(struct cr_metrics_server **out, const char *bind, struct cr_rpc_node *n,
		     char *err, size_t err_len);
unsigned cr_metrics_port(const struct cr_metrics_server *s);
void cr_metrics_stop(struct cr_metrics_server *s);

#endif
