/* Reporting and option helpers for the bench/ load tools: the summary
 * (text or one JSON object), error texts, a process's RSS from /proc, and
 * the target and source-address options both tools take. Main thread only. */
#include <stdio.h>
#include <string.h>

#include "bench/load/load_client.h"

long load_rss_kib(int pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	long kib = -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

const char *load_add_target(struct load_opts *o, const char *hostport)
{
	if (o->ndst == LOAD_MAX_TARGETS)
		return "at most 64 --connect targets";
	int r = bu_parse_loopback(hostport, &o->dst[o->ndst], &o->dst_len[o->ndst]);
	if (r == -EPERM)
		return "--connect must be a loopback address (127.0.0.0/8 or ::1)";
	if (r < 0)
		return "--connect is HOST:PORT with a numeric loopback host";
	if (o->ndst && o->dst[o->ndst].ss_family != o->dst[0].ss_family)
		return "--connect targets must all be IPv4 or all IPv6";
	o->ndst++;
	return NULL;
}

const char *load_parse_src(struct load_opts *o, const char *arg)
{
	static const char *bad = "--src is FIRST[-LAST], a rising range of 127.x.y.z addresses";
	char first[32], last[32];
	const char *dash = strchr(arg, '-');
	size_t fl = dash ? (size_t)(dash - arg) : strlen(arg);
	if (fl >= sizeof(first) || (dash && strlen(dash + 1) >= sizeof(last)))
		return bad;
	memcpy(first, arg, fl);
	first[fl] = '\0';
	snprintf(last, sizeof(last), "%s", dash ? dash + 1 : first);
	struct in_addr a, b;
	if (inet_pton(AF_INET, first, &a) != 1 || inet_pton(AF_INET, last, &b) != 1)
		return bad;
	uint32_t fa = ntohl(a.s_addr), la = ntohl(b.s_addr);
	if (fa >> 24 != 127 || la >> 24 != 127 || la < fa || la - fa >= 1u << 20)
		return bad;
	o->src_first = fa;
	o->nsrc = la - fa + 1;
	return NULL;
}

const char *(*load_proto_strerror)(int err);

const char *load_strerror(int err)
{
	if (err == 0)
		return "";
	if (err == LOAD_ERR_EOF)
		return "peer closed the connection";
	if (load_proto_strerror)
		return load_proto_strerror(err);
	return err > -4096 ? strerror(-err) : "protocol error";
}

static double q_ms(const struct bu_hist *h, double q)
{
	return (double)bu_hist_quantile(h, q) / 1000.0;
}

void load_print(const struct load_opts *o, const struct load_result *r, const char *label, bool json)
{
	static const char *msgs[] = {"ping", "inv", "blob"};
	double rate = r->hold_s > 0 ? (double)(o->msg == LOAD_PING ? r->msgs_recv : r->msgs_sent) / r->hold_s : 0;
	double per_peer = -1, kern_per_peer = -1, cpu_per_msg_us = -1;
	if (r->rss_before_kib >= 0 && r->rss_hold_kib >= 0 && r->peers_established)
		per_peer = (double)(r->rss_hold_kib - r->rss_before_kib) * 1024.0 / r->peers_established;
	if (r->kern_before_kib >= 0 && r->kern_hold_kib >= 0 && r->peers_established)
		kern_per_peer = (double)(r->kern_hold_kib - r->kern_before_kib) * 1024.0 / r->peers_established;
	if (r->cpu_ns >= 0 && r->cpu_msgs)
		cpu_per_msg_us = (double)r->cpu_ns / 1000.0 / (double)r->cpu_msgs;
	if (json) {
		printf("{\"tool\":\"%s\",\"transport\":\"%s\",\"msg\":\"%s\",\"peers_requested\":%u,"
		       "\"peers_established\":%u,\"threads\":%u,\"connect_s\":%.3f,\"handshakes_per_s\":%.0f,"
		       "\"handshake_p50_ms\":%.3f,\"handshake_p99_ms\":%.3f,\"duration_s\":%.1f,"
		       "\"msgs_sent\":%lu,\"msgs_recv\":%lu,\"msgs_per_s\":%.0f,"
		       "\"rtt_p50_us\":%lu,\"rtt_p99_us\":%lu,\"rtt_p999_us\":%lu,\"errors\":%lu,"
		       "\"recv_enobufs\":%lu,\"send_blocked\":%lu,\"first_error\":\"%s\"",
		       label, o->proto->name, msgs[o->msg], r->peers_requested, r->peers_established,
		       r->threads, r->connect_s, r->connect_s > 0 ? r->peers_established / r->connect_s : 0,
		       q_ms(&r->handshake_us, 0.5), q_ms(&r->handshake_us, 0.99), r->hold_s,
		       (unsigned long)r->msgs_sent, (unsigned long)r->msgs_recv, rate,
		       (unsigned long)bu_hist_quantile(&r->rtt_us, 0.5),
		       (unsigned long)bu_hist_quantile(&r->rtt_us, 0.99),
		       (unsigned long)bu_hist_quantile(&r->rtt_us, 0.999), (unsigned long)r->errors,
		       (unsigned long)r->enobufs, (unsigned long)r->send_blocked, load_strerror(r->first_error));
		printf(",\"kernel_before_kib\":%ld,\"kernel_kib\":%ld,\"kernel_per_peer_bytes\":%.0f",
		       r->kern_before_kib, r->kern_hold_kib, kern_per_peer);
		if (o->rss_pid > 0)
			printf(",\"pid\":%d,\"rss_before_kib\":%ld,\"rss_kib\":%ld,\"rss_per_peer_bytes\":%.0f"
			       ",\"cpu_s\":%.3f,\"cpu_window_s\":%.2f,\"cpu_msgs\":%lu,\"cpu_per_msg_us\":%.3f",
			       o->rss_pid, r->rss_before_kib, r->rss_hold_kib, per_peer,
			       r->cpu_ns >= 0 ? (double)r->cpu_ns / 1e9 : -1.0, r->cpu_window_s,
			       (unsigned long)r->cpu_msgs, cpu_per_msg_us);
		printf("}\n");
		return;
	}
	printf("%s: %s %s, %u/%u peers established on %u ring(s) in %.2f s (%.0f handshakes/s), "
	       "handshake p50 %.2f ms p99 %.2f ms\n",
	       label, o->proto->name, msgs[o->msg], r->peers_established, r->peers_requested, r->threads,
	       r->connect_s, r->connect_s > 0 ? r->peers_established / r->connect_s : 0,
	       q_ms(&r->handshake_us, 0.5), q_ms(&r->handshake_us, 0.99));
	printf("%s: %.1f s hold: sent %lu, received %lu, %.0f msgs/s, rtt p50 %lu us p99 %lu us "
	       "p99.9 %lu us, errors %lu\n",
	       label, r->hold_s, (unsigned long)r->msgs_sent, (unsigned long)r->msgs_recv, rate,
	       (unsigned long)bu_hist_quantile(&r->rtt_us, 0.5),
	       (unsigned long)bu_hist_quantile(&r->rtt_us, 0.99),
	       (unsigned long)bu_hist_quantile(&r->rtt_us, 0.999), (unsigned long)r->errors);
	if (r->first_error)
		printf("%s: first error: %s\n", label, load_strerror(r->first_error));
	if (r->kern_before_kib >= 0 && r->kern_hold_kib >= 0)
		printf("%s: kernel slab + socket buffers %ld KiB -> %ld KiB, %.0f bytes per peer "
		       "(machine wide: both ends of each connection)\n",
		       label, r->kern_before_kib, r->kern_hold_kib, kern_per_peer);
	if (o->rss_pid > 0)
		printf("%s: pid %d RSS %ld KiB -> %ld KiB, %.0f bytes per peer; CPU %.3f s over %.1f s "
		       "for %lu messages, %.2f us per message\n", label, o->rss_pid,
		       r->rss_before_kib, r->rss_hold_kib, per_peer,
		       r->cpu_ns >= 0 ? (double)r->cpu_ns / 1e9 : -1.0, r->cpu_window_s,
		       (unsigned long)r->cpu_msgs, cpu_per_msg_us);
}
