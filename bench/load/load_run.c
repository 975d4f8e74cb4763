/* The main-thread half of the load client (see load_client.h): plans the
 * rings (4-tuples, the fd cap), starts one thread per ring, watches them
 * (live line; RSS, kernel memory and the measured process's CPU time during
 * the hold) and merges their results. */
#include <pthread.h>
#include <unistd.h>

#include "bench/load/load_ring.h"

static void live_line(struct lthread *th, unsigned n, uint64_t *last_recv, uint64_t *last_ns)
{
	unsigned ready = 0, dead = 0;
	uint64_t sent = 0, recv = 0, errors = 0;
	for (unsigned i = 0; i < n; i++) {
		ready += GET(th[i].ready);
		dead += GET(th[i].dead);
		sent += GET(th[i].msgs_sent);
		recv += GET(th[i].msgs_recv);
		errors += GET(th[i].errors);
	}
	uint64_t now = bu_now_ns();
	double dt = (double)(now - *last_ns) / 1e9;
	fprintf(stderr, "load: peers %u ready, %u closed, msgs sent %lu recv %lu, %.0f recv/s, errors %lu\n",
		ready, dead, (unsigned long)sent, (unsigned long)recv,
		dt > 0 ? (double)(recv - *last_recv) / dt : 0.0, (unsigned long)errors);
	*last_recv = recv;
	*last_ns = now;
}

static void merge(struct lthread *th, unsigned n, struct load_result *res, uint64_t t_begin)
{
	uint64_t last_ready = 0;
	for (unsigned i = 0; i < n; i++) {
		struct lthread *t = &th[i];
		res->peers_established += (unsigned)t->hs_us.count;
		res->msgs_sent += t->hold_sent0;
		res->msgs_recv += t->hold_recv0;
		res->errors += t->errors;
		res->enobufs += t->enobufs;
		res->send_blocked += t->send_blocked;
		if (!res->first_error)
			res->first_error = t->first_err;
		bu_hist_merge(&res->handshake_us, &t->hs_us);
		bu_hist_merge(&res->rtt_us, &t->rtt_us);
		if (t->last_ready_ns > last_ready)
			last_ready = t->last_ready_ns;
	}
	res->connect_s = last_ready > t_begin ? (double)(last_ready - t_begin) / 1e9 : 0;
}

void load_default_sources(struct load_opts *o)
{
	unsigned per_target = (o->peers + o->ndst - 1) / (o->ndst ? o->ndst : 1);
	o->src_first = 0x7f000002u; /* 127.0.0.2: 127.0.0.1 is the usual target */
	o->nsrc = (per_target + 7999) / 8000;
	if (o->nsrc == 0)
		o->nsrc = 1;
	if (o->nsrc > 250)
		o->nsrc = 250;
}

/* The kernel's ephemeral port range, a (source, target) pair's budget. */
static unsigned port_range(void)
{
	unsigned lo = 32768, hi = 60999;
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	if (f) {
		if (fscanf(f, "%u %u", &lo, &hi) != 2 || hi < lo)
			lo = 32768, hi = 60999;
		fclose(f);
	}
	return hi - lo + 1;
}

/* Refuses a plan whose busiest (source, target) pair would need more
 * ports than the kernel hands out (with a quarter kept back for sockets in
 * TIME_WAIT and other users). */
static int check_tuples(const struct load_opts *o)
{
	unsigned pairs = o->ndst * (o->dst[0].ss_family == AF_INET && o->nsrc ? o->nsrc : 1);
	unsigned need = (o->peers + pairs - 1) / pairs, have = port_range() * 3 / 4;
	if (need <= have)
		return 0;
	fprintf(stderr, "load: %u peers over %u target(s) and %u source address(es) need %u ports per "
		"pair, the kernel's ephemeral range gives %u: add --src addresses or --connect targets\n",
		o->peers, o->ndst, o->nsrc, need, have);
	return -EADDRNOTAVAIL;
}

static uint64_t sum_msgs(struct lthread *th, unsigned n, bool recv)
{
	uint64_t m = 0;
	for (unsigned i = 0; i < n; i++)
		m += recv ? GET(th[i].msgs_recv) : GET(th[i].msgs_sent);
	return m;
}

/* The main thread while the rings run: the live line, RSS and kernel
 * memory half way through the hold, and the measured process's CPU time
 * over the hold (from its start to 95% of it, so no ring has begun closing). */
static void watch(const struct load_opts *o, struct shared *sh, struct lthread *th, unsigned n,
		  struct load_result *res)
{
	uint64_t last_recv = 0, last_ns = bu_now_ns(), next_live = last_ns + o->live_ms * 1000000ull;
	bool mid_done = false, cpu_started = false, cpu_done = o->rss_pid <= 0;
	int64_t cpu0 = 0;
	uint64_t msgs0 = 0, t0 = 0;
	bool recv = o->msg == LOAD_PING;
	while (GET(sh->finished) < n) {
		usleep(10000);
		uint64_t now = bu_now_ns();
		uint64_t hs = __atomic_load_n(&sh->hold_start_ns, __ATOMIC_ACQUIRE);
		if (hs && !cpu_started && !cpu_done) {
			cpu0 = bu_cpu_ns(o->rss_pid);
			msgs0 = sum_msgs(th, n, recv);
			t0 = now;
			cpu_started = true;
		}
		if (cpu_started && !cpu_done && now >= hs + (uint64_t)(o->duration_s * 0.95e9)) {
			int64_t cpu1 = bu_cpu_ns(o->rss_pid);
			res->cpu_ns = cpu0 >= 0 && cpu1 >= cpu0 ? cpu1 - cpu0 : -1;
			res->cpu_msgs = sum_msgs(th, n, recv) - msgs0;
			res->cpu_window_s = (double)(now - t0) / 1e9;
			cpu_done = true;
		}
		if (!mid_done && hs && now >= hs + (uint64_t)(o->duration_s * 0.5e9)) {
			if (o->rss_pid > 0)
				res->rss_hold_kib = load_rss_kib(o->rss_pid);
			res->kern_hold_kib = bu_kernel_kib();
			mid_done = true;
		}
		if (o->live_ms && now >= next_live) {
			live_line(th, n, &last_recv, &last_ns);
			next_live = now + o->live_ms * 1000000ull;
		}
	}
}

int load_run(const struct load_opts *o, struct load_result *res)
{
	memset(res, 0, sizeof(*res));
	res->peers_requested = o->peers;
	res->rss_before_kib = res->rss_hold_kib = res->kern_before_kib = res->kern_hold_kib = -1;
	res->cpu_ns = -1;
	if (o->ndst == 0 || o->ndst > LOAD_MAX_TARGETS || o->peers == 0 || o->peers > LOAD_MAX_PEERS)
		return -EINVAL;
	int err = check_tuples(o);
	if (err)
		return err;
	unsigned nofile = bu_raise_nofile();
	/* A ring's fixed-file table is capped by RLIMIT_NOFILE; keep room for
	 * the process's own descriptors. */
	unsigned per = nofile > 256 ? nofile - 128 : nofile / 2;
	unsigned n = o->threads ? o->threads : (o->peers + per - 1) / per;
	if (n == 0)
		n = 1;
	if ((o->peers + n - 1) / n > per) {
		fprintf(stderr, "load: %u peers need at least %u rings (fd limit %u)\n", o->peers,
			(o->peers + per - 1) / per, nofile);
		return -EMFILE;
	}
	struct shared sh = {.o = o, .nthreads = n};
	sh.max_connecting = o->max_connecting / n;
	if (sh.max_connecting < 8)
		sh.max_connecting = 8;
	struct lthread *th = calloc(n, sizeof(*th));
	if (!th)
		return -ENOMEM;
	for (unsigned i = 0, first = 0; i < n; i++) {
		th[i].sh = &sh;
		th[i].index = i;
		th[i].first = first;
		th[i].n = o->peers / n + (i < o->peers % n);
		first += th[i].n;
	}
	if (o->rss_pid > 0)
		res->rss_before_kib = load_rss_kib(o->rss_pid);
	res->kern_before_kib = bu_kernel_kib();
	sh.t_begin_ns = bu_now_ns();
	unsigned started = 0;
	for (unsigned i = 0; i < n && !err; i++, started++)
		if (pthread_create(&th[i].th, NULL, load_ring_main, &th[i]) != 0) {
			err = -EAGAIN;
			SET(sh.abort, 1);
			break;
		}
	if (!err)
		watch(o, &sh, th, n, res);
	for (unsigned i = 0; i < started; i++) {
		pthread_join(th[i].th, NULL);
		if (th[i].err && !err)
			err = th[i].err;
	}
	uint64_t hs = __atomic_load_n(&sh.hold_start_ns, __ATOMIC_ACQUIRE);
	uint64_t hold_end = 0;
	for (unsigned i = 0; i < n; i++)
		if (th[i].hold_end_ns > hold_end)
			hold_end = th[i].hold_end_ns;
	res->hold_s = hs && hold_end > hs ? (double)(hold_end - hs) / 1e9 : 0;
	res->threads = n;
	merge(th, n, res, sh.t_begin_ns);
	for (unsigned i = 0; i < n; i++)
		load_ring_free(&th[i]);
	free(th);
	return err;
}
