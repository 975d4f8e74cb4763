/* connring-rpcload: load on connringd's JSON-RPC. N client threads, each
 * with its own keep-alive connection (cr_client: libcurl + jansson, the
 * reply parsed as a real client would), call one method at a fixed total
 * rate (open loop: each call has a scheduled start, and latency is counted
 * from that schedule, so a stalled server cannot hide its queue) or as fast
 * as they can (--rate 0), for a bounded time or number of calls. Prints
 * calls/s and latency percentiles (ms), or one JSON line with --json.
 *
 *   connring-rpcload --rpcport P [--cookie FILE | --user U --password W]
 *       [--clients N] [--rate CALLS_PER_S] [--duration S] [--calls N]
 *       [--method M] [--json]
 *
 * Refuses any target but loopback. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/client_rpc.h"

struct opts {
	char host[64];
	unsigned port;
	char user[CR_RPC_CRED_MAX], password[CR_RPC_CRED_MAX];
	unsigned clients;
	double rate, duration;
	long calls;
	char method[64];
	bool json;
};

struct worker {
	const struct opts *o;
	unsigned index;
	double *lat_ms;
	size_t n, cap;
	unsigned long errors;
	char first_error[256];
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_until(double t)
{
	double d = t - now_s();
	if (d <= 0)
		return;
	struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
	nanosleep(&ts, NULL);
}

static double t_start;

static void *run(void *arg)
{
	struct worker *w = arg;
	const struct opts *o = w->o;
	struct cr_client c;
	if (cr_client_init(&c, o->host, (uint16_t)o->port, o->user, o->password, 30) != 0)
		return NULL;
	double per = o->rate > 0 ? (double)o->clients / o->rate : 0; /* seconds between this client's calls */
	double next = t_start + (o->rate > 0 ? per * w->index / o->clients : 0);
	long limit = o->calls > 0 ? (o->calls + o->clients - 1 - w->index) / o->clients : -1;
	for (long k = 0; limit < 0 || k < limit; k++) {
		if (o->rate > 0)
			sleep_until(next);
		double sched = o->rate > 0 ? next : now_s();
		if (o->duration > 0 && sched - t_start >= o->duration)
			break;
		json_t *res = NULL;
		int code;
		char msg[256];
		int r = cr_client_call(&c, o->method, NULL, &res, &code, msg, sizeof(msg));
		double done = now_s();
		json_decref(res);
		if (r != CR_CLIENT_OK) {
			if (!w->errors++)
				snprintf(w->first_error, sizeof(w->first_error), "%s", msg);
		}
		if (w->n == w->cap) {
			w->cap = w->cap ? w->cap * 2 : 4096;
			double *p = realloc(w->lat_ms, w->cap * sizeof(*p));
			if (!p)
				break;
			w->lat_ms = p;
		}
		w->lat_ms[w->n++] = (done - sched) * 1e3;
		next += per;
	}
	cr_client_clear(&c);
	return NULL;
}

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double pct(const double *v, size_t n, double p)
{
	if (!n)
		return 0;
	size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

static int parse(struct opts *o, int argc, char **argv)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->host, sizeof(o->host), "127.0.0.1");
	snprintf(o->method, sizeof(o->method), "getconnectioncount");
	o->clients = 1;
	o->duration = 5;
	const char *cookie = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--json") == 0) {
			o->json = true;
			continue;
		}
		if (!v)
			return -1;
		i++;
		if (strcmp(a, "--rpcconnect") == 0) snprintf(o->host, sizeof(o->host), "%s", v);
		else if (strcmp(a, "--rpcport") == 0) o->port = (unsigned)atoi(v);
		else if (strcmp(a, "--cookie") == 0) cookie = v;
		else if (strcmp(a, "--user") == 0) snprintf(o->user, sizeof(o->user), "%s", v);
		else if (strcmp(a, "--password") == 0) snprintf(o->password, sizeof(o->password), "%s", v);
		else if (strcmp(a, "--clients") == 0) o->clients = (unsigned)atoi(v);
		else if (strcmp(a, "--rate") == 0) o->rate = atof(v);
		else if (strcmp(a, "--duration") == 0) o->duration = atof(v);
		else if (strcmp(a, "--calls") == 0) o->calls = atol(v);
		else if (strcmp(a, "--method") == 0) snprintf(o->method, sizeof(o->method), "%s", v);
		else return -1;
	}
	if (cookie && cr_rpc_cookie_read(cookie, o->user, sizeof(o->user), o->password, sizeof(o->password)) != 0) {
		fprintf(stderr, "connring-rpcload: cannot read cookie %s\n", cookie);
		return -1;
	}
	/* Loopback only: this is a load tool. */
	if (strncmp(o->host, "127.", 4) != 0 && strcmp(o->host, "::1") != 0) {
		fprintf(stderr, "connring-rpcload: refusing non-loopback target %s\n", o->host);
		return -1;
	}
	if (!o->port || !o->clients || o->clients > 256 || (o->duration <= 0 && o->calls <= 0) ||
	    o->duration > 600)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	if (parse(&o, argc, argv) != 0) {
		fprintf(stderr, "usage: connring-rpcload --rpcport P [--cookie FILE | --user U --password W]\n"
				"       [--clients N] [--rate CALLS_PER_S] [--duration S (<= 600)] [--calls N]\n"
				"       [--method M] [--json]\n");
		return 2;
	}
	struct worker *w = calloc(o.clients, sizeof(*w));
	pthread_t *t = calloc(o.clients, sizeof(*t));
	if (!w || !t)
		return 1;
	t_start = now_s() + 0.05;
	for (unsigned i = 0; i < o.clients; i++) {
		w[i].o = &o;
		w[i].index = i;
		pthread_create(&t[i], NULL, run, &w[i]);
	}
	size_t total = 0;
	unsigned long errors = 0;
	for (unsigned i = 0; i < o.clients; i++) {
		pthread_join(t[i], NULL);
		total += w[i].n;
		errors += w[i].errors;
	}
	double elapsed = now_s() - t_start;
	double *all = malloc((total ? total : 1) * sizeof(*all));
	size_t k = 0;
	for (unsigned i = 0; i < o.clients; i++) {
		memcpy(all + k, w[i].lat_ms, w[i].n * sizeof(*all));
		k += w[i].n;
		if (w[i].errors)
			fprintf(stderr, "client %u: %lu errors, first: %s\n", i, w[i].errors, w[i].first_error);
		free(w[i].lat_ms);
	}
	qsort(all, total, sizeof(*all), dcmp);
	double rate = elapsed > 0 ? (double)total / elapsed : 0;
	if (o.json) {
		json_t *j = json_pack("{s:s,s:i,s:I,s:I,s:f,s:f,s:f,s:f,s:f}", "method", o.method, "clients",
				      (int)o.clients, "calls", (json_int_t)total, "errors", (json_int_t)errors,
				      "calls_per_s", rate, "p50_ms", pct(all, total, 50), "p90_ms",
				      pct(all, total, 90), "p99_ms", pct(all, total, 99), "max_ms",
				      total ? all[total - 1] : 0.0);
		char *text = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(6));
		printf("%s\n", text ? text : "{}");
		free(text);
		json_decref(j);
	}
	else
		printf("%s: %u clients, %zu calls (%lu errors) in %.2f s = %.1f calls/s; latency ms p50 %.3f "
		       "p90 %.3f p99 %.3f max %.3f\n",
		       o.method, o.clients, total, errors, elapsed, rate, pct(all, total, 50), pct(all, total, 90),
		       pct(all, total, 99), total ? all[total - 1] : 0.0);
	free(all);
	free(w);
	free(t);
	return errors ? 1 : 0;
}
