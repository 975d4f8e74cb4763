/* The Prometheus text writer and the /metrics server; see metrics.h. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "addr/addrstr.h"
#include "cmd/metrics.h"
#include "cmd/rpc_net.h"
#include "cmd/rpc_server.h"

static void header(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value with the format's three escapes. */
static void label_value(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\')
			fputs("\\\\", f);
		else if (*v == '"')
			fputs("\\\"", f);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void sample1(FILE *f, const char *name, const char *label, const char *value, uint64_t v)
{
	fprintf(f, "%s{%s=\"", name, label);
	label_value(f, value);
	fprintf(f, "\"} %" PRIu64 "\n", v);
}

static void counter(FILE *f, const char *name, const char *help, uint64_t v)
{
	header(f, name, "counter", help);
	fprintf(f, "%s %" PRIu64 "\n", name, v);
}

static void gauge(FILE *f, const char *name, const char *help, double v)
{
	header(f, name, "gauge", help);
	fprintf(f, "%s %.17g\n", name, v);
}

static void engine_totals(FILE *f, const struct cr_totals *t)
{
	header(f, "connring_peers", "gauge", "Connected peers (handshake done or not) by direction.");
	sample1(f, "connring_peers", "direction", "inbound", t->inbound);
	sample1(f, "connring_peers", "direction", "outbound", t->outbound);
	gauge(f, "connring_handshaked_peers", "Peers that completed the version handshake.",
	      (double)t->handshaked);
	counter(f, "connring_accepted_connections_total", "Inbound connections accepted.", t->accepted);
	counter(f, "connring_accept_refusals_total", "Inbound connections refused (no slot left).",
		t->accept_refused);
	counter(f, "connring_outbound_connects_total", "Outbound connection attempts.", t->connects);
	counter(f, "connring_outbound_connect_failures_total", "Outbound connection attempts that failed.",
		t->connect_failures);
	counter(f, "connring_v1_fallbacks_total", "BIP324 V2 attempts redone with V1.", t->v1_fallbacks);
	header(f, "connring_network_bytes_total", "counter", "Bytes on the wire, transport framing included.");
	sample1(f, "connring_network_bytes_total", "direction", "sent", t->bytes_sent);
	sample1(f, "connring_network_bytes_total", "direction", "received", t->bytes_recv);
	header(f, "connring_messages_total", "counter", "P2P messages by direction.");
	sample1(f, "connring_messages_total", "direction", "sent", t->msgs_sent);
	sample1(f, "connring_messages_total", "direction", "received", t->msgs_recv);
	counter(f, "connring_recv_buffer_exhausted_total",
		"Times a worker's provided receive buffers ran dry.", t->recv_enobufs);
	counter(f, "connring_recv_flood_pauses_total", "Peers paused for unprocessed input over the flood limit.",
		t->recv_pauses);
	counter(f, "connring_stale_peer_ids_total", "Commands that named a peer that was gone.", t->stale_ids);
	counter(f, "connring_accept_backoffs_total", "Accept errors answered with a delayed re-arm.",
		t->accept_backoffs);
	/* What peers make the engine hold right now (README's Limits): the
	 * attack tests check these return to their start values. */
	gauge(f, "connring_fixed_files", "Direct descriptors the engine holds (peers' sockets).",
	      (double)t->fixed_files);
	gauge(f, "connring_recv_held_bytes", "Receive buffers of all peers (partial messages, paused input).",
	      (double)t->recv_held_bytes);
	gauge(f, "connring_recv_reserved_bytes", "Receive budget reserved by large messages in progress.",
	      (double)t->recv_reserved_bytes);
	gauge(f, "connring_send_queued_bytes", "Bytes in all send queues.", (double)t->send_queued_bytes);
	gauge(f, "connring_send_memory_bytes", "Send buffer memory alive (a shared buffer once).",
	      (double)t->send_mem_bytes);
	gauge(f, "connring_send_pool_buffers", "Small send buffers out of the workers' pools.",
	      (double)t->pool_bufs_in_use);
	gauge(f, "connring_send_pool_segments", "Send queue segments out of the workers' pools.",
	      (double)t->pool_segs_in_use);
}

/* Peers by connection type, transport and network, from one snapshot. */
static void peer_breakdown(FILE *f, struct cr_engine *e)
{
	struct cr_peer_info *pi;
	size_t np;
	if (cr_rpc_collect_peers(e, &pi, &np) != 0)
		return;
	static const char *const types[] = {"inbound", "outbound-full-relay", "manual"};
	static const char *const nets[] = {"ipv4", "ipv6", "onion", "i2p", "cjdns", "internal",
					   "not_publicly_routable"};
	uint64_t by_type[3] = {0}, by_tp[3] = {0}, by_net[7] = {0};
	for (size_t i = 0; i < np; i++) {
		by_type[pi[i].conn_type == CR_CONN_INBOUND ? 0 : pi[i].conn_type == CR_CONN_MANUAL ? 2 : 1]++;
		by_tp[pi[i].transport == 2 ? 2 : pi[i].transport == 1 ? 1 : 0]++;
		struct cr_netaddr a = {0};
		uint16_t port;
		cr_addrstr_parse(&a, &port, pi[i].addr_str, strlen(pi[i].addr_str), 0, 0);
		const char *name = cr_rpc_network_name(&a);
		for (size_t k = 0; k < 7; k++)
			if (strcmp(name, nets[k]) == 0)
				by_net[k]++;
	}
	free(pi);
	header(f, "connring_peers_by_connection_type", "gauge", "Connected peers by connection type.");
	for (size_t k = 0; k < 3; k++)
		sample1(f, "connring_peers_by_connection_type", "connection_type", types[k], by_type[k]);
	static const char *const tps[] = {"detecting", "v1", "v2"};
	header(f, "connring_peers_by_transport", "gauge", "Connected peers by transport.");
	for (size_t k = 0; k < 3; k++)
		sample1(f, "connring_peers_by_transport", "transport", tps[k], by_tp[k]);
	header(f, "connring_peers_by_network", "gauge", "Connected peers by network.");
	for (size_t k = 0; k < 7; k++)
		sample1(f, "connring_peers_by_network", "network", nets[k], by_net[k]);
}

static void process_metrics(FILE *f, const struct cr_rpc_node *n)
{
	long tick = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	FILE *s = fopen("/proc/self/stat", "r");
	unsigned long utime = 0, stime = 0;
	if (s) {
		char buf[1024];
		size_t len = fread(buf, 1, sizeof(buf) - 1, s);
		buf[len] = '\0';
		fclose(s);
		/* fields after the command name, which may hold spaces */
		char *p = strrchr(buf, ')');
		if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
			utime = stime = 0;
	}
	unsigned long vsz = 0, rss = 0;
	FILE *m = fopen("/proc/self/statm", "r");
	if (m) {
		if (fscanf(m, "%lu %lu", &vsz, &rss) != 2)
			vsz = rss = 0;
		fclose(m);
	}
	unsigned fds = 0;
	DIR *d = opendir("/proc/self/fd");
	for (struct dirent *de; d && (de = readdir(d));)
		fds += de->d_name[0] != '.';
	if (d)
		closedir(d);
	header(f, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.");
	fprintf(f, "process_cpu_seconds_total %.2f\n", (double)(utime + stime) / (double)(tick > 0 ? tick : 100));
	gauge(f, "process_resident_memory_bytes", "Resident memory size in bytes.", (double)rss * (double)page);
	gauge(f, "process_virtual_memory_bytes", "Virtual memory size in bytes.", (double)vsz * (double)page);
	gauge(f, "process_open_fds", "Number of open file descriptors.", fds ? fds - 1 : 0);
	gauge(f, "process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
	      (double)n->started);
}

char *cr_metrics_text(struct cr_rpc_node *n, size_t *len)
{
	char *buf = NULL;
	*len = 0;
	FILE *f = open_memstream(&buf, len);
	if (!f)
		return NULL;
	struct cr_totals t;
	cr_engine_totals(n->e, &t, sizeof t);
	engine_totals(f, &t);
	peer_breakdown(f, n->e);
	gauge(f, "connring_workers", "io_uring worker threads.", cr_engine_workers(n->e));
	gauge(f, "connring_peer_capacity", "Peers the engine can hold in all.", (double)cr_engine_capacity(n->e));
	process_metrics(f, n);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* ---- the server ---- */

struct cr_metrics_server {
	struct MHD_Daemon *d;
	struct cr_rpc_node *n;
	unsigned port;
};

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **state)
{
	struct cr_metrics_server *s = cls;
	(void)version;
	(void)upload;
	(void)state;
	if (*upload_size)
		return MHD_NO; /* nothing to upload here */
	unsigned status = 200;
	size_t len = 0;
	char *body = NULL;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		status = 405;
	else if (strcmp(url, "/metrics") != 0)
		status = 404;
	else if (!(body = cr_metrics_text(s->n, &len)))
		status = 500;
	struct MHD_Response *r = body ? MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE)
				      : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	if (body)
		MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

int cr_metrics_start(struct cr_metrics_server **out, const char *bind, struct cr_rpc_node *n,
		     char *err, size_t err_len)
{
	*out = NULL;
	struct sockaddr_storage ss;
	socklen_t len;
	/* The bind must carry its port ("ADDR:PORT" or "[V6]:PORT"). */
	if (cr_rpc_parse_bind(&ss, &len, bind, 0) != 0 || !strchr(bind, ':') ||
	    (bind[0] != '[' && strchr(bind, ':') != strrchr(bind, ':')) ||
	    (bind[0] == '[' && !strstr(bind, "]:"))) {
		snprintf(err, err_len, "-metricsbind=%s: expected ADDR:PORT", bind);
		return -EINVAL;
	}
	int fd = cr_rpc_listen(&ss, len);
	if (fd < 0) {
		snprintf(err, err_len, "-metricsbind=%s: %s", bind, strerror(-fd));
		return fd;
	}
	struct cr_metrics_server *s = calloc(1, sizeof(*s));
	if (!s) {
		close(fd);
		return -ENOMEM;
	}
	s->n = n;
	s->port = cr_rpc_sock_port(fd);
	/* One polling thread: scrapes are rare and each is one short request. */
	s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, 0, NULL, NULL, on_request, s,
				MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_TIMEOUT, 10u,
				MHD_OPTION_CONNECTION_LIMIT, 16u, MHD_OPTION_END);
	if (!s->d) {
		close(fd);
		free(s);
		snprintf(err, err_len, "-metricsbind=%s: libmicrohttpd could not start", bind);
		return -EIO;
	}
	*out = s;
	return 0;
}

unsigned cr_metrics_port(const struct cr_metrics_server *s)
{
	return s ? s->port : 0;
}

void cr_metrics_stop(struct cr_metrics_server *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->d);
	free(s);
}
