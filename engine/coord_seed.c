/* Where the first addresses come from: the DNS seeds (Core's
 * ThreadDNSAddressSeed, the state machine of engine/policy/dnsseed.c)
 * resolved asynchronously by engine/dns.c on the coordinator thread, and
 * addr-fetch connections by name (-seednode, a DNS seed that returned
 * nothing, every seed when a proxy is set). The resolver is created at the
 * first lookup; while lookups run the coordinator steps it every 50 ms
 * (cr__dns_process polls its sockets without blocking), and not at all
 * otherwise. With a proxy nothing is resolved locally (a local query
 * would tell the resolver whom we ask): names go to the proxy. Coordinator
 * thread, except _start/_finish (see coord_sched.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "addr/addrman.h"
#include "addr/addrstr.h"
#include "addr/seeds.h"
#include "engine/coord_sched.h"
#include "engine/dns.h"
#include "proto/services.h"

#define DNS_STEP_US 50000

int cr__seed_start(struct cr_engine *e)
{
	struct cr__sched *s = e->co.sched;
	const struct cr_config *c = &e->cfg;
	if (c->dnsseed_name.n) {
		for (unsigned i = 0; i < c->dnsseed_name.n && i < CR_SEEDS_DNS_MAX; i++)
			s->seed_names[s->nseed_names++] = c->dnsseed_name.v[i];
	} else {
		const char *const *names;
		size_t n = cr_seeds_dns(c->chain, &names);
		for (size_t i = 0; i < n && i < CR_SEEDS_DNS_MAX; i++)
			s->seed_names[s->nseed_names++] = names[i];
	}
	/* no seeds (regtest): the fixed seeds' 60 s wait is for nothing */
	s->cf.dnsseed = s->cf.dnsseed && s->nseed_names;
	s->ds_done = !s->cf.dnsseed;
	if (!s->ds_done)
		cr_dnsseed_init(&s->ds, s->nseed_names, (int64_t)cr__wall_us(), &e->co.rng);
	return 0;
}

void cr__seed_finish(struct cr_engine *e)
{
	struct cr__sched *s = e->co.sched;
	cr__dns_free(s->dns); /* callbacks run with -ECANCELED and return */
	s->dns = NULL;
}

static bool dns_ready(struct cr_engine *e, struct cr__sched *s)
{
	if (s->dns)
		return true;
	int err = 0;
	s->dns = cr__dns_new(e->cfg.dns_server[0] ? e->cfg.dns_server : NULL, &err);
	if (!s->dns)
		cr__log(e, CR_LOG_WARN, CR_LOG_NET, "DNS resolver: %s", cr_strerror(err));
	return s->dns != NULL;
}

static void fetch_later(struct cr_engine *e, const char *name)
{
	if (cr_sched_add_addr_fetch(&e->co.sched->st, name) < 0)
		cr__log(e, CR_LOG_WARN, CR_LOG_NET, "addr-fetch %s: queue full", name);
	cr__sched_kick(e);
}

static void seed_done(void *arg, int status, const struct cr_netaddr *addrs, size_t n)
{
	struct cr__seed_query *q = arg;
	if (status == -ECANCELED)
		return; /* the engine is stopping */
	struct cr_engine *e = q->e;
	struct cr__sched *s = e->co.sched;
	q->busy = false;
	s->dns_pending--;
	const char *name = s->seed_names[q->seed];
	size_t added = 0;
	if (status == 0 && n)
		added = cr_dnsseed_add(e->co.am, addrs, n, name, e->chain->default_port,
				       (int64_t)cr__wall_us(), &e->co.rng);
	cr__log(e, CR_LOG_INFO, CR_LOG_ADDRMAN, "DNS seed %s: %zu addresses (%zu new)%s%s", name, n, added,
		status ? ": " : "", status ? cr_strerror(status) : "");
	if (!n) /* Core: a seed that gives nothing is asked by connection */
		fetch_later(e, name);
	cr__sched_kick(e);
}

static void query(struct cr_engine *e, struct cr__sched *s, size_t seed)
{
	const char *name = s->seed_names[seed];
	char x9[300]; /* the service-bits subdomain, as cr_dnsseed_add names the source */
	snprintf(x9, sizeof x9, "x%llx.%s", (unsigned long long)CR_SEEDS_SERVICES, name);
	struct cr__seed_query *q = &s->sq[seed];
	*q = (struct cr__seed_query){ .e = e, .seed = seed, .busy = true };
	int ret = dns_ready(e, s) ? cr__dns_lookup(s->dns, x9, e->chain->default_port, seed_done, q) : -EIO;
	if (ret < 0) {
		q->busy = false;
		cr__log(e, CR_LOG_WARN, CR_LOG_NET, "DNS seed %s: %s", name, cr_strerror(ret));
		fetch_later(e, name);
		return;
	}
	s->dns_pending++;
	cr__log(e, CR_LOG_DEBUG, CR_LOG_NET, "asking DNS seed %s", x9);
}

int64_t cr__seed_tick(struct cr_engine *e, int64_t now)
{
	struct cr__sched *s = e->co.sched;
	if (s->dns && cr__dns_pending(s->dns))
		cr__dns_process(s->dns); /* nothing to read or time out otherwise */
	while (!s->ds_done) {
		const struct cr__summaries *t = &e->co.sum;
		struct cr_dnsseed_input in = {
			.addrman_size = cr_addrman_size(e->co.am, 0, CR_ADDRMAN_ANY),
			.full_outbound = t->by_type[CR_CONN_OUTBOUND_FULL_RELAY],
			.seednode = e->cfg.seednode.n > 0,
			.force = e->cfg.forcednsseed,
			.name_proxy = e->has_proxy,
			.pending = s->dns_pending,
		};
		size_t seed = 0;
		int64_t wake = 0;
		enum cr_dnsseed_action a = cr_dnsseed_step(&s->ds, &in, now, &seed, &wake);
		if (a == CR_DNSSEED_WAIT) {
			s->ds_wake_us = wake;
			break;
		}
		if (a == CR_DNSSEED_DONE) {
			cr__log(e, CR_LOG_DEBUG, CR_LOG_NET, "DNS seeds: done (%s)", s->ds.why ? s->ds.why : "");
			s->ds_done = true;
			break;
		}
		if (a == CR_DNSSEED_QUERY)
			query(e, s, seed);
		else
			fetch_later(e, s->seed_names[seed]);
	}
	bool lookups = s->dns && cr__dns_pending(s->dns);
	int64_t due = s->ds_done ? INT64_MAX : s->ds_wake_us;
	if (lookups) {
		/* the sockets are not watched by the ring: look every step,
		 * sooner when c-ares has a result or a timeout due */
		int64_t t = cr__dns_timeout_us(s->dns);
		int64_t step = t >= 0 && t < DNS_STEP_US ? t : DNS_STEP_US;
		if (step < 1000)
			step = 1000; /* never a busy loop */
		if (now + step < due)
			due = now + step;
	}
	return due;
}

static void fetch_resolved(void *arg, int status, const struct cr_netaddr *addrs, size_t n)
{
	struct cr__seed_query *q = arg;
	if (status == -ECANCELED)
		return;
	q->busy = false;
	if (status || !n) {
		cr__log(q->e, CR_LOG_INFO, CR_LOG_NET, "addr-fetch %s: %s", q->host,
			status ? cr_strerror(status) : "no address");
		return;
	}
	struct cr_peeraddr pa = { .na = addrs[0], .port = q->port };
	cr__sched_place(q->e, &pa, NULL, CR_CT_ADDR_FETCH, q->e->cfg.v2transport);
}

void cr__seed_addr_fetch(struct cr_engine *e, const char *host)
{
	struct cr__sched *s = e->co.sched;
	uint16_t dport = e->chain->default_port;
	struct cr_peeraddr pa = { 0 };
	if (cr_addrstr_parse(&pa.na, &pa.port, host, strlen(host), dport, 0) == 0) {
		cr__sched_place(e, &pa, NULL, CR_CT_ADDR_FETCH, e->cfg.v2transport);
		return;
	}
	size_t hl;
	uint16_t port;
	if (cr_addrstr_split(&hl, &port, host, strlen(host), dport, 0) < 0 || hl >= CR_SCHED_HOST_MAX - 8) {
		cr__log(e, CR_LOG_WARN, CR_LOG_NET, "addr-fetch %s: not host[:port]", host);
		return;
	}
	if (e->has_proxy) { /* the proxy resolves it */
		char hp[CR_SCHED_HOST_MAX];
		snprintf(hp, sizeof hp, "%.*s:%u", (int)hl, host, port);
		cr__sched_place(e, NULL, hp, CR_CT_ADDR_FETCH, e->cfg.v2transport);
		return;
	}
	struct cr__seed_query *q = NULL;
	for (unsigned i = 0; i < CR_SEED_FETCH_LOOKUPS && !q; i++)
		if (!s->fq[i].busy)
			q = &s->fq[i];
	if (!q) { /* every lookup busy: asked again at a later pass */
		if (cr_sched_add_addr_fetch(&s->st, host) < 0)
			cr__log(e, CR_LOG_WARN, CR_LOG_NET, "addr-fetch %s: no resolver free, queue full", host);
		return;
	}
	if (!dns_ready(e, s)) {
		cr__log(e, CR_LOG_WARN, CR_LOG_NET, "addr-fetch %s: no resolver", host);
		return;
	}
	*q = (struct cr__seed_query){ .e = e, .busy = true, .port = port };
	snprintf(q->host, sizeof q->host, "%.*s", (int)hl, host);
	int ret = cr__dns_lookup(s->dns, q->host, port, fetch_resolved, q);
	if (ret < 0) {
		q->busy = false;
		cr__log(e, CR_LOG_WARN, CR_LOG_NET, "addr-fetch %s: %s", host, cr_strerror(ret));
	}
}
