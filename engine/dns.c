/* Asynchronous DNS for the coordinator over c-ares (see engine/dns.h for
 * the contract and the bounds). A lookup lives in one of a fixed array of
 * slots from cr__dns_lookup until c-ares is done with it; c-ares's callback
 * only records the result in the slot, and cr__dns_process delivers it,
 * so the caller's callback never runs inside c-ares or inside
 * cr__dns_lookup. Coordinator thread only. */
#include <ares.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "addr/rng.h"
#include "engine/dns.h"
#include "engine/policy/dnsseed.h"

enum slot_state {
	SLOT_FREE = 0,
	SLOT_RUNNING, /* c-ares works on it; the caller has not been told */
	SLOT_DONE,    /* c-ares ended it; the result waits for delivery */
	SLOT_EXPIRED, /* told -ETIMEDOUT; c-ares still works on it */
};

struct slot {
	struct cr__dns *d;
	enum slot_state state;
	int status;
	int64_t deadline_us;
	cr__dns_cb cb;
	void *arg;
	size_t n;
	struct cr_netaddr addrs[CR_DNSSEED_MAX_IPS];
};

struct cr__dns {
	ares_channel ch;
	int64_t lookup_us;
	struct cr_rng rng;
	struct slot slots[CR__DNS_MAX_LOOKUPS];
};

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int status_errno(int status)
{
	switch (status) {
	case ARES_SUCCESS: return 0;
	case ARES_ENOTFOUND:
	case ARES_ENODATA:
	case ARES_ENONAME: return -ENOENT;
	case ARES_ETIMEOUT: return -ETIMEDOUT;
	case ARES_ECONNREFUSED:
	case ARES_EREFUSED: return -ECONNREFUSED;
	case ARES_EFORMERR:
	case ARES_EBADRESP: return -EPROTO;
	case ARES_ENOMEM: return -ENOMEM;
	case ARES_EBADNAME:
	case ARES_EBADQUERY:
	case ARES_EBADFAMILY:
	case ARES_EBADFLAGS:
	case ARES_EBADHINTS:
	case ARES_EBADSTR: return -EINVAL;
	case ARES_EDESTRUCTION:
	case ARES_ECANCELLED: return -ECANCELED;
	default: return -EIO; /* SERVFAIL, NOTIMP, EOF, EFILE, ... */
	}
}

static bool node_addr(const struct ares_addrinfo_node *nd, struct cr_netaddr *out)
{
	memset(out, 0, sizeof(*out));
	if (nd->ai_family == AF_INET && nd->ai_addr && nd->ai_addrlen >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)nd->ai_addr;
		out->net = CR_NET_IPV4;
		out->len = 4;
		memcpy(out->addr, &s->sin_addr, 4);
		return true;
	}
	if (nd->ai_family == AF_INET6 && nd->ai_addr && nd->ai_addrlen >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)nd->ai_addr;
		out->net = CR_NET_IPV6;
		out->len = 16;
		memcpy(out->addr, &s->sin6_addr, 16);
		return true;
	}
	return false;
}

/* Draws at most CR_DNSSEED_MAX_IPS of the answer's addresses: half of the
 * places are kept for each family when both have more than that, the
 * other family's unused places go to the one that has more; within a
 * family each subset of the drawn size is equally likely (selection
 * sampling, Knuth's algorithm S: one pass, no copy of the answer). */
static size_t pick(struct cr_rng *rng, const struct ares_addrinfo *ai, struct cr_netaddr *out)
{
	const size_t max = CR_DNSSEED_MAX_IPS, half = CR_DNSSEED_MAX_IPS / 2;
	size_t n4 = 0, n6 = 0, k4, k6, got = 0;
	struct cr_netaddr a;
	for (const struct ares_addrinfo_node *nd = ai ? ai->nodes : NULL; nd; nd = nd->ai_next) {
		if (node_addr(nd, &a))
			*(a.net == CR_NET_IPV4 ? &n4 : &n6) += 1;
	}
	if (n4 + n6 <= max) {
		k4 = n4;
		k6 = n6;
	} else {
		k4 = n4 < half ? n4 : half;
		k6 = n6 < half ? n6 : half;
		if (k4 < half)
			k6 = n6 < max - k4 ? n6 : max - k4;
		if (k6 < half)
			k4 = n4 < max - k6 ? n4 : max - k6;
	}
	for (const struct ares_addrinfo_node *nd = ai ? ai->nodes : NULL; nd && (k4 || k6); nd = nd->ai_next) {
		if (!node_addr(nd, &a))
			continue;
		size_t *left = a.net == CR_NET_IPV4 ? &n4 : &n6, *want = a.net == CR_NET_IPV4 ? &k4 : &k6;
		if (cr_rng_below(rng, *left) < *want) {
			out[got++] = a;
			(*want)--;
		}
		(*left)--;
	}
	return got;
}

/* c-ares's callback: record, never call out (see the file comment). */
static void on_addrinfo(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
	struct slot *s = arg;
	(void)timeouts;
	if (s->state == SLOT_EXPIRED) {
		s->state = SLOT_FREE;
	} else if (s->state == SLOT_RUNNING) {
		s->n = status == ARES_SUCCESS ? pick(&s->d->rng, res, s->addrs) : 0;
		s->status = status_errno(status);
		if (s->status == 0 && s->n == 0)
			s->status = -ENOENT; /* an answer with no address we can use */
		s->state = SLOT_DONE;
	}
	if (res)
		ares_freeaddrinfo(res);
}

/* c-ares 1.18 opens its sockets without close-on-exec. */
static int sock_cloexec(ares_socket_t fd, int type, void *arg)
{
	(void)type;
	(void)arg;
	int fl = fcntl(fd, F_GETFD);
	return fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0 ? -1 : 0;
}

struct cr__dns *cr__dns_new_opts(const char *server_override, int timeout_ms, int tries,
				 int lookup_ms, int *err)
{
	int dummy;
	if (!err)
		err = &dummy;
	*err = 0;
	if (timeout_ms <= 0 || tries <= 0 || lookup_ms <= 0 || (server_override && !*server_override)) {
		*err = -EINVAL;
		return NULL;
	}
	struct cr__dns *d = calloc(1, sizeof(*d));
	if (!d) {
		*err = -ENOMEM;
		return NULL;
	}
	d->lookup_us = (int64_t)lookup_ms * 1000;
	uint64_t seed;
	if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
		seed = (uint64_t)now_us() ^ (uint64_t)(uintptr_t)d;
	cr_rng_seed(&d->rng, seed);
	for (size_t i = 0; i < CR__DNS_MAX_LOOKUPS; i++)
		d->slots[i].d = d;

	/* ares_library_init is a no-op outside Windows in 1.18 and is not
	 * thread-safe, so it is not called: engines on other threads may
	 * create resolvers concurrently. */
	struct ares_options o;
	memset(&o, 0, sizeof(o));
	char lookups[] = "b"; /* DNS only: no /etc/hosts with an override */
	int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_DOMAINS | ARES_OPT_NDOTS;
	o.flags = ARES_FLAG_NOSEARCH;
	o.timeout = timeout_ms;
	o.tries = tries;
	o.domains = NULL; /* no search domains: a seed's name is absolute */
	o.ndomains = 0;
	o.ndots = 1;
	if (server_override) {
		mask |= ARES_OPT_LOOKUPS;
		o.lookups = lookups;
	}
	int st = ares_init_options(&d->ch, &o, mask);
	if (st != ARES_SUCCESS) {
		*err = st == ARES_ENOMEM ? -ENOMEM : -EIO;
		free(d);
		return NULL;
	}
	ares_set_socket_configure_callback(d->ch, sock_cloexec, NULL);
	if (server_override) {
		st = ares_set_servers_ports_csv(d->ch, server_override);
		if (st != ARES_SUCCESS) {
			*err = st == ARES_ENOMEM ? -ENOMEM : -EINVAL;
			ares_destroy(d->ch);
			free(d);
			return NULL;
		}
	}
	return d;
}

struct cr__dns *cr__dns_new(const char *server_override, int *err)
{
	return cr__dns_new_opts(server_override, CR__DNS_TIMEOUT_MS, CR__DNS_TRIES, CR__DNS_LOOKUP_MS, err);
}

/* Runs the callback of a finished slot with what it holds; the slot is
 * free before the callback runs, so the callback may start a lookup. */
static void deliver(struct slot *s, int status)
{
	struct cr_netaddr addrs[CR_DNSSEED_MAX_IPS];
	size_t n = status == 0 ? s->n : 0;
	memcpy(addrs, s->addrs, n * sizeof(addrs[0]));
	cr__dns_cb cb = s->cb;
	void *arg = s->arg;
	s->cb = NULL;
	s->arg = NULL;
	cb(arg, status, addrs, n);
}

void cr__dns_free(struct cr__dns *d)
{
	if (!d)
		return;
	/* c-ares ends every query with ARES_EDESTRUCTION: RUNNING slots
	 * become DONE, EXPIRED ones FREE */
	ares_destroy(d->ch);
	d->ch = NULL;
	for (size_t i = 0; i < CR__DNS_MAX_LOOKUPS; i++) {
		struct slot *s = &d->slots[i];
		if (s->state == SLOT_DONE || s->state == SLOT_RUNNING) {
			s->state = SLOT_FREE;
			deliver(s, -ECANCELED);
		}
	}
	free(d);
}

int cr__dns_lookup(struct cr__dns *d, const char *name, uint16_t port, cr__dns_cb cb, void *arg)
{
	if (!d || !name || !*name || strnlen(name, 254) > 253 || port == 0 || !cb)
		return -EINVAL;
	struct slot *s = NULL;
	for (size_t i = 0; i < CR__DNS_MAX_LOOKUPS && !s; i++)
		if (d->slots[i].state == SLOT_FREE)
			s = &d->slots[i];
	if (!s)
		return -EBUSY;
	s->state = SLOT_RUNNING;
	s->status = 0;
	s->n = 0;
	s->cb = cb;
	s->arg = arg;
	s->deadline_us = now_us() + d->lookup_us;
	struct ares_addrinfo_hints hints;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC; /* A and AAAA */
	hints.ai_socktype = SOCK_STREAM;
	/* may call on_addrinfo before returning (numeric name, error): the
	 * slot is DONE then and delivered by the next cr__dns_process */
	ares_getaddrinfo(d->ch, name, NULL, &hints, on_addrinfo, s);
	return 0;
}

int cr__dns_pollfds(struct cr__dns *d, struct pollfd *pfds, int max)
{
	ares_socket_t socks[ARES_GETSOCK_MAXNUM];
	/* the bit tests by hand: ARES_GETSOCK_WRITABLE shifts a signed 1
	 * into the sign bit for the 16th socket */
	unsigned bits = (unsigned)ares_getsock(d->ch, socks, ARES_GETSOCK_MAXNUM);
	int n = 0;
	for (int i = 0; i < ARES_GETSOCK_MAXNUM && n < max; i++) {
		short ev = 0;
		if (bits & (1u << i))
			ev |= POLLIN;
		if (bits & (1u << (i + ARES_GETSOCK_MAXNUM)))
			ev |= POLLOUT;
		if (!ev)
			continue;
		pfds[n].fd = socks[i];
		pfds[n].events = ev;
		pfds[n].revents = 0;
		n++;
	}
	return n;
}

int cr__dns_fds(struct cr__dns *d, int *fds, int max)
{
	struct pollfd p[CR__DNS_MAX_FDS];
	int n = cr__dns_pollfds(d, p, max < CR__DNS_MAX_FDS ? max : CR__DNS_MAX_FDS);
	for (int i = 0; i < n; i++)
		fds[i] = p[i].fd;
	return n;
}

void cr__dns_process(struct cr__dns *d)
{
	struct pollfd p[CR__DNS_MAX_FDS];
	int n = cr__dns_pollfds(d, p, CR__DNS_MAX_FDS);
	if (n > 0 && poll(p, (nfds_t)n, 0) > 0) {
		for (int i = 0; i < n; i++) {
			short r = p[i].revents;
			if (!r)
				continue;
			/* an error or hang-up is read (or written) so c-ares
			 * sees it and moves to another server */
			ares_socket_t rd = r & (POLLIN | POLLERR | POLLHUP) ? p[i].fd : ARES_SOCKET_BAD;
			ares_socket_t wr = r & POLLOUT ? p[i].fd : ARES_SOCKET_BAD;
			/* an fd closed by an earlier call here matches no
			 * server of c-ares's any more and is ignored */
			ares_process_fd(d->ch, rd, wr);
		}
	}
	ares_process_fd(d->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD); /* timeouts */

	int64_t now = now_us();
	for (size_t i = 0; i < CR__DNS_MAX_LOOKUPS; i++) {
		struct slot *s = &d->slots[i];
		if (s->state == SLOT_RUNNING && now >= s->deadline_us) {
			s->state = SLOT_EXPIRED; /* freed when c-ares ends it */
			deliver(s, -ETIMEDOUT);
		} else if (s->state == SLOT_DONE) {
			s->state = SLOT_FREE;
			deliver(s, s->status);
		}
	}
}

int64_t cr__dns_timeout_us(struct cr__dns *d)
{
	int64_t best = -1, now = now_us();
	for (size_t i = 0; i < CR__DNS_MAX_LOOKUPS; i++) {
		const struct slot *s = &d->slots[i];
		if (s->state == SLOT_DONE)
			return 0;
		if (s->state == SLOT_RUNNING) {
			int64_t left = s->deadline_us > now ? s->deadline_us - now : 0;
			if (best < 0 || left < best)
				best = left;
		}
	}
	struct timeval tv;
	if (ares_timeout(d->ch, NULL, &tv)) {
		int64_t t = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
		if (best < 0 || t < best)
			best = t;
	}
	return best;
}

unsigned cr__dns_pending(const struct cr__dns *d)
{
	unsigned n = 0;
	for (size_t i = 0; i < CR__DNS_MAX_LOOKUPS; i++)
		n += d->slots[i].state != SLOT_FREE;
	return n;
}
