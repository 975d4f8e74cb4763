/* connring-top's fetch thread and its data: each refresh calls
 * getnettotals, uptime, getworkerinfo (when the daemon has it) and
 * getpeertable, builds a snapshot with per-peer byte rates against the
 * previous one, notes connects and disconnects by comparing the two peer
 * sets, and swaps the snapshot in. Also sorting and filtering for the
 * screen thread. See top.h for threads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr/addrstr.h"
#include "cmd/top.h"

void top_snapshot_free(struct top_snapshot *s)
{
	if (!s)
		return;
	free(s->peers);
	free(s);
}

void top_peer_group(struct top_peer *p)
{
	struct cr_netaddr a;
	uint16_t port;
	p->glen = 0;
	snprintf(p->gtext, sizeof(p->gtext), "-");
	if (cr_addrstr_parse(&a, &port, p->addr, strlen(p->addr), 0, CR_ADDRSTR_CJDNS) != 0)
		return;
	p->glen = (uint8_t)cr_netgroup(p->group, &a, NULL, 0);
	if (a.net == CR_NET_IPV4)
		snprintf(p->gtext, sizeof(p->gtext), "%u.%u/16", a.addr[0], a.addr[1]);
	else if (a.net == CR_NET_IPV6)
		snprintf(p->gtext, sizeof(p->gtext), "%02x%02x:%02x%02x/32", a.addr[0], a.addr[1], a.addr[2],
			 a.addr[3]);
	else
		snprintf(p->gtext, sizeof(p->gtext), "%s", p->net);
}

static void short_type(char *out, size_t cap, const char *t)
{
	static const char *const map[][2] = {
		{"inbound", "in"}, {"outbound-full-relay", "full"}, {"block-relay-only", "block"},
		{"manual", "manual"}, {"feeler", "feeler"}, {"addr-fetch", "addr"},
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (t && strcmp(t, map[i][0]) == 0) {
			snprintf(out, cap, "%s", map[i][1]);
			return;
		}
	snprintf(out, cap, "%.*s", (int)cap - 1, t ? t : "?");
}

static int id_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct top_peer *)a)->id, y = ((const struct top_peer *)b)->id;
	return (x > y) - (x < y);
}

/* Rows of getpeertable into peers, sorted by id. */
static int read_table(struct top_snapshot *s, const json_t *t)
{
	const json_t *rows = json_object_get(t, "rows");
	s->time = json_integer_value(json_object_get(t, "time"));
	s->n = json_array_size(rows);
	s->peers = calloc(s->n ? s->n : 1, sizeof(*s->peers));
	if (!s->peers)
		return -1;
	size_t i;
	const json_t *r;
	json_array_foreach(rows, i, r) {
		struct top_peer *p = &s->peers[i];
		p->id = (uint64_t)json_integer_value(json_array_get(r, 0));
		snprintf(p->addr, sizeof(p->addr), "%s", json_string_value(json_array_get(r, 1)) ?: "");
		const char *net = json_string_value(json_array_get(r, 2));
		snprintf(p->net, sizeof(p->net), "%s",
			 net && strcmp(net, "not_publicly_routable") == 0 ? "npr" : net ? net : "?");
		short_type(p->type, sizeof(p->type), json_string_value(json_array_get(r, 3)));
		const char *tp = json_string_value(json_array_get(r, 4));
		snprintf(p->tp, sizeof(p->tp), "%s", tp && tp[0] == 'v' ? tp : "?");
		p->conntime = json_integer_value(json_array_get(r, 5));
		p->bytes = (uint64_t)json_integer_value(json_array_get(r, 6)) +
			   (uint64_t)json_integer_value(json_array_get(r, 7));
		p->msgs = (uint64_t)json_integer_value(json_array_get(r, 8)) +
			  (uint64_t)json_integer_value(json_array_get(r, 9));
		const json_t *ping = json_array_get(r, 10);
		p->ping_us = json_is_number(ping) ? (int64_t)(json_number_value(ping) * 1e6) : -1;
		snprintf(p->subver, sizeof(p->subver), "%s", json_string_value(json_array_get(r, 11)) ?: "");
		top_peer_group(p);
		s->nin += strcmp(p->type, "in") == 0;
		s->nv1 += strcmp(p->tp, "v1") == 0;
		s->nv2 += strcmp(p->tp, "v2") == 0;
	}
	s->nout = (unsigned)s->n - s->nin;
	qsort(s->peers, s->n, sizeof(*s->peers), id_cmp);
	return 0;
}

static void add_event(struct top_model *m, int64_t t, const char *what, const struct top_peer *p)
{
	struct top_event *e = &m->events[m->nevents % TOP_EVENTS];
	e->time = t;
	snprintf(e->text, sizeof(e->text), "%-10s %-28s %-6s %s", what, p->addr, p->type, p->tp);
	m->nevents++;
}

/* Rates against the previous snapshot and connect/disconnect events from
 * the two id-sorted peer sets (called with the mutex held). */
static void compare(struct top_model *m, struct top_snapshot *s, const struct top_snapshot *old)
{
	if (!old)
		return;
	double dt = (double)(s->time - old->time);
	if (dt <= 0)
		dt = m->refresh_ms / 1000.0;
	s->sent_rate = (double)(s->sent - old->sent) / dt;
	s->recv_rate = (double)(s->recv - old->recv) / dt;
	size_t i = 0, j = 0;
	uint64_t msgs_now = 0, msgs_old = 0;
	while (i < s->n || j < old->n) {
		if (j == old->n || (i < s->n && s->peers[i].id < old->peers[j].id)) {
			add_event(m, s->time, "connect", &s->peers[i]);
			i++;
		} else if (i == s->n || old->peers[j].id < s->peers[i].id) {
			add_event(m, s->time, "disconnect", &old->peers[j]);
			j++;
		} else {
			s->peers[i].rate = (double)(s->peers[i].bytes - old->peers[j].bytes) / dt;
			msgs_now += s->peers[i].msgs;
			msgs_old += old->peers[j].msgs;
			i++;
			j++;
		}
	}
	s->msg_rate = (double)(msgs_now - msgs_old) / dt;
}

static void workers_of(struct top_snapshot *s, const json_t *w)
{
	size_t i;
	const json_t *o;
	json_array_foreach(w, i, o) {
		if (i >= 16)
			break;
		snprintf(s->workers[i], sizeof(s->workers[i]),
			 "w%-2zu peers %6" JSON_INTEGER_FORMAT "  msgs/s %8.0f  bytes/s %10.0f  sq %5" JSON_INTEGER_FORMAT
			 "  bufs %5" JSON_INTEGER_FORMAT,
			 i, json_integer_value(json_object_get(o, "peers")),
			 json_number_value(json_object_get(o, "msgs_per_s")),
			 json_number_value(json_object_get(o, "bytes_per_s")),
			 json_integer_value(json_object_get(o, "sq_pending")),
			 json_integer_value(json_object_get(o, "recv_bufs_free")));
		s->nworkers = (unsigned)i + 1;
	}
}

/* One refresh; returns the new snapshot or NULL with status filled. */
static struct top_snapshot *fetch(struct top_model *m, char *status, size_t cap)
{
	struct top_snapshot *s = calloc(1, sizeof(*s));
	json_t *tot = NULL, *up = NULL, *table = NULL, *w = NULL;
	int code;
	char msg[512];
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int r = s ? cr_client_call(&m->client, "getnettotals", NULL, &tot, &code, msg, sizeof(msg)) : 1;
	if (r == CR_CLIENT_OK)
		r = cr_client_call(&m->client, "uptime", NULL, &up, &code, msg, sizeof(msg));
	if (r == CR_CLIENT_OK)
		r = cr_client_call(&m->client, "getpeertable", NULL, &table, &code, msg, sizeof(msg));
	if (r == CR_CLIENT_OK &&
	    cr_client_call(&m->client, "getworkerinfo", NULL, &w, &code, msg, sizeof(msg)) != CR_CLIENT_OK)
		w = NULL; /* a daemon without it still shows the rest */
	if (r != CR_CLIENT_OK || !s || read_table(s, table) != 0) {
		snprintf(status, cap, "%.200s", r != CR_CLIENT_OK ? msg : "out of memory");
		top_snapshot_free(s);
		s = NULL;
	} else {
		s->sent = (uint64_t)json_integer_value(json_object_get(tot, "totalbytessent"));
		s->recv = (uint64_t)json_integer_value(json_object_get(tot, "totalbytesrecv"));
		s->uptime = json_integer_value(up);
		workers_of(s, json_object_get(w, "workers"));
		clock_gettime(CLOCK_MONOTONIC, &t1);
		s->fetch_ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	}
	json_decref(tot);
	json_decref(up);
	json_decref(table);
	json_decref(w);
	return s;
}

static void *fetch_main(void *arg)
{
	struct top_model *m = arg;
	for (;;) {
		char status[256] = "";
		struct top_snapshot *s = fetch(m, status, sizeof(status));
		pthread_mutex_lock(&m->mu);
		if (s) {
			compare(m, s, m->cur);
			top_snapshot_free(m->cur);
			m->cur = s;
			m->generation++;
		}
		snprintf(m->status, sizeof(m->status), "%s", status);
		bool stop = m->stop;
		pthread_mutex_unlock(&m->mu);
		if (stop)
			break;
		/* sleep in small steps so quitting is prompt */
		for (unsigned t = 0; t < m->refresh_ms && !__atomic_load_n(&m->stop, __ATOMIC_ACQUIRE); t += 50) {
			struct timespec ts = {0, 50 * 1000000L};
			nanosleep(&ts, NULL);
		}
		if (__atomic_load_n(&m->stop, __ATOMIC_ACQUIRE))
			break;
	}
	return NULL;
}

int top_model_start(struct top_model *m, const struct cr_client *c, unsigned refresh_ms)
{
	pthread_mutex_init(&m->mu, NULL);
	m->client = *c;
	m->refresh_ms = refresh_ms;
	return pthread_create(&m->thread, NULL, fetch_main, m) == 0 ? 0 : -1;
}

void top_model_stop(struct top_model *m)
{
	__atomic_store_n(&m->stop, true, __ATOMIC_RELEASE);
	pthread_join(m->thread, NULL);
	cr_client_clear(&m->client);
	top_snapshot_free(m->cur);
	m->cur = NULL;
}

int top_disconnect(struct top_model *m, const struct cr_client_opts *o, uint64_t id, char *msg,
		   size_t msg_len)
{
	(void)m;
	struct cr_client c;
	if (cr_client_connect(&c, o, msg, msg_len) != 0)
		return -1;
	json_t *params = json_pack("[s,I]", "", (json_int_t)id), *res = NULL;
	int code;
	int r = cr_client_call(&c, "disconnectnode", params, &res, &code, msg, msg_len);
	json_decref(params);
	json_decref(res);
	cr_client_clear(&c);
	if (r == CR_CLIENT_OK)
		snprintf(msg, msg_len, "disconnected peer %llu", (unsigned long long)id);
	return r == CR_CLIENT_OK ? 0 : -1;
}

/* ---- sorting and filtering ---- */

const char *top_sort_name(enum top_sort s)
{
	static const char *const names[] = {"bytes", "rate", "msgs", "ping", "age", "netgroup", "transport", "type"};
	return s < SORT_COUNT ? names[s] : "?";
}

static _Thread_local const struct top_peer *sort_peers;
static _Thread_local enum top_sort sort_key;

static int cmp_u64(uint64_t a, uint64_t b) { return (a > b) - (a < b); }

static int peer_cmp(const void *pa, const void *pb)
{
	const struct top_peer *a = &sort_peers[*(const size_t *)pa], *b = &sort_peers[*(const size_t *)pb];
	int c = 0;
	switch (sort_key) {
	case SORT_BYTES: c = cmp_u64(b->bytes, a->bytes); break;
	case SORT_RATE: c = (b->rate > a->rate) - (b->rate < a->rate); break;
	case SORT_MSGS: c = cmp_u64(b->msgs, a->msgs); break;
	case SORT_PING: /* measured first, fastest first */
		c = (a->ping_us < 0) - (b->ping_us < 0);
		if (!c)
			c = (a->ping_us > b->ping_us) - (a->ping_us < b->ping_us);
		break;
	case SORT_AGE: c = (a->conntime > b->conntime) - (a->conntime < b->conntime); break;
	case SORT_NETGROUP:
		c = memcmp(a->group, b->group, a->glen < b->glen ? a->glen : b->glen);
		if (!c)
			c = (a->glen > b->glen) - (a->glen < b->glen);
		if (!c) /* loopback peers share one group: their /16 text orders them */
			c = strcmp(a->gtext, b->gtext);
		break;
	case SORT_TRANSPORT: c = strcmp(a->tp, b->tp); break;
	default: c = strcmp(a->type, b->type); break;
	}
	return c ? c : cmp_u64(a->id, b->id);
}

static bool matches(const struct top_peer *p, const char *f)
{
	return !f[0] || strstr(p->addr, f) || strstr(p->net, f) || strstr(p->type, f) ||
	       strstr(p->tp, f) || strstr(p->gtext, f) || strstr(p->subver, f);
}

size_t top_select(const struct top_snapshot *s, const char *filter, enum top_sort key, bool reverse,
		  size_t **idx)
{
	size_t *v = malloc((s->n ? s->n : 1) * sizeof(*v)), k = 0;
	*idx = v;
	if (!v)
		return 0;
	for (size_t i = 0; i < s->n; i++)
		if (matches(&s->peers[i], filter))
			v[k++] = i;
	sort_peers = s->peers;
	sort_key = key;
	qsort(v, k, sizeof(*v), peer_cmp);
	for (size_t i = 0; reverse && i < k / 2; i++) {
		size_t t = v[i];
		v[i] = v[k - 1 - i];
		v[k - 1 - i] = t;
	}
	return k;
}
