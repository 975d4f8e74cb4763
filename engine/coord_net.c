/* The coordinator's side of the added-node list, "ping" and network
 * activity (api_net.c posts the calls): addnode add/remove on the manual
 * list coord.c keeps connected (a removed entry stays as a tombstone,
 * since live peers name their entry by index, and is reused when the same
 * node is added again, or for another node once no peer names it), the getaddednodeinfo listing, and Core's
 * SetNetworkActive: the flag every thread reads (accept.c refuses, and
 * connect.c opens nothing, while it is off), each worker told to close
 * its peers or to ping them. Coordinator thread, except
 * cr__worker_net_mail (the worker's own thread). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "addr/netclass.h"
#include "engine/internal.h"

/* The same address and port; an IPv4-mapped IPv6 address is its IPv4
 * one (Core's CNetAddr takes ::ffff:a.b.c.d for a.b.c.d). */
static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	struct cr_netaddr na, nb;
	uint16_t pa, pb;
	return cr__sockaddr_to_netaddr(a, &na, &pa) && cr__sockaddr_to_netaddr(b, &nb, &pb) && pa == pb &&
	       cr_addr_equal(&na, &nb);
}

/* An added node (not a -connect entry, not removed) by its text. */
static struct cr_manual *find_text(struct cr_coord *co, const char *text)
{
	for (unsigned i = 0; i < co->nmanual; i++) {
		struct cr_manual *m = &co->manual[i];
		if (!m->removed && !m->connect_opt && strcmp(m->hostport, text) == 0)
			return m;
	}
	return NULL;
}

static unsigned count_added(const struct cr_coord *co)
{
	unsigned n = 0;
	for (unsigned i = 0; i < co->nmanual; i++)
		n += !co->manual[i].removed && !co->manual[i].connect_opt;
	return n;
}

/* Core's AddNode: refused when the same text or the same resolved address
 * is there already, or when CR_ADDED_NODES_MAX are. A tombstone of the same
 * text is reused first (its connection may still be up), else any
 * tombstone no peer names (neither connected nor pending), so that adding
 * and removing distinct nodes does not grow the list. */
static int add_node(struct cr_engine *e, const struct cr_mail *c)
{
	struct cr_coord *co = &e->co;
	struct cr_manual *same = NULL, *idle = NULL;
	for (unsigned i = 0; i < co->nmanual; i++) {
		struct cr_manual *m = &co->manual[i];
		if (m->removed) {
			if (!same && strcmp(m->hostport, c->host) == 0)
				same = m;
			else if (!idle && !m->connected && !m->pending)
				idle = m;
			continue;
		}
		if (!m->connect_opt && (strcmp(m->hostport, c->host) == 0 || same_addr(&m->addr, &c->addr)))
			return -EEXIST;
	}
	if (count_added(co) >= CR_ADDED_NODES_MAX)
		return -ENOSPC;
	if (same) {
		/* keep what the peers tell of its connection */
		same->removed = false;
		same->addr = c->addr;
		same->retries = 0;
		same->next_us = 0;
		return 0;
	}
	if (idle) {
		memset(idle, 0, sizeof *idle);
		snprintf(idle->hostport, sizeof idle->hostport, "%s", c->host);
		idle->addr = c->addr;
		idle->flags = c->flags | CR_CONNECT_PERSISTENT;
		return 0;
	}
	return cr__coord_add_manual(e, c->host, &c->addr, c->flags);
}

static int list_nodes(struct cr_engine *e, struct cr_waiter *wt)
{
	struct cr_coord *co = &e->co;
	struct cr_added_node *out = wt->out;
	size_t n = 0;
	for (unsigned i = 0; i < co->nmanual; i++) {
		const struct cr_manual *m = &co->manual[i];
		if (m->removed || m->connect_opt)
			continue;
		if (n < wt->cap) {
			struct cr_added_node *a = &out[n];
			memset(a, 0, sizeof *a);
			snprintf(a->addednode, sizeof a->addednode, "%s", m->hostport);
			if (m->addr.ss_family != AF_UNSPEC)
				cr__sockaddr_str(&m->addr, a->address, sizeof a->address);
			a->connected = m->connected;
		}
		n++;
	}
	return (int)n;
}

/* Mails every worker one MAIL_NET_WORKER; a worker that could not be
 * mailed (out of memory) is skipped and the call says so. */
static int tell_workers(struct cr_engine *e, enum cr_netop op)
{
	int ret = 0;
	for (unsigned i = 0; i < e->nworkers; i++) {
		struct cr_mail *m = cr__mail_new(MAIL_NET_WORKER, 0);
		if (!m) {
			ret = -ENOMEM;
			continue;
		}
		m->reason = op;
		cr__mailbox_post(e, &e->w[i].mb, m);
	}
	return ret;
}

/* Turning off mails the workers even when already off: a worker a former
 * call could not mail (-ENOMEM) is told by the retry. */
static int set_active(struct cr_engine *e, bool on)
{
	struct cr_coord *co = &e->co;
	bool was = cr__net_active(e);
	atomic_store(&e->net_off, !on);
	if (was != on)
		cr__log(e, CR_LOG_INFO, CR_LOG_NET, "network activity %s", on ? "enabled" : "disabled");
	if (on) {
		if (was)
			return 0;
		/* manual peers start again at once, without their backoff */
		for (unsigned i = 0; i < co->nmanual; i++) {
			co->manual[i].retries = 0;
			co->manual[i].next_us = 0;
		}
		return 0;
	}
	return tell_workers(e, CR_NETOP_OFF);
}

void cr__coord_net_mail(struct cr_engine *e, struct cr_mail *c)
{
	struct cr_coord *co = &e->co;
	struct cr_manual *m;
	int ret;
	switch (c->reason) {
	case CR_NETOP_ADD:
		ret = add_node(e, c);
		if (ret == 0)
			cr__log(e, CR_LOG_INFO, CR_LOG_NET, "addnode %s", c->host);
		break;
	case CR_NETOP_REMOVE:
		m = find_text(co, c->host);
		ret = m ? 0 : -ENOENT;
		if (m) {
			m->removed = true;
			cr__log(e, CR_LOG_INFO, CR_LOG_NET, "addnode %s removed", c->host);
		}
		break;
	case CR_NETOP_LIST:
		ret = list_nodes(e, c->waiter);
		break;
	case CR_NETOP_ACTIVE:
		ret = set_active(e, c->flags != 0);
		break;
	case CR_NETOP_PING:
		ret = tell_workers(e, CR_NETOP_PING);
		break;
	case CR_NETOP_AM_GET:
	case CR_NETOP_AM_ADD:
	case CR_NETOP_AM_SIZES:
	case CR_NETOP_AM_IMPORT:
		ret = cr__coord_am_op(e, c);
		break;
	default:
		ret = -EINVAL;
		break;
	}
	cr__waiter_done(c->waiter, ret);
}

void cr__worker_net_mail(struct cr_worker *w, struct cr_mail *c)
{
	uint64_t now = cr__now_us();
	for (uint32_t i = 0; i < w->cap; i++) {
		struct cr_peer *p = &w->peers[i];
		if (p->state == PS_FREE || p->state == PS_CLOSING)
			continue;
		if (c->reason == CR_NETOP_OFF) {
			cr__peer_close(w, p, CR_CLOSE_LOCAL, "network activity disabled");
		} else if (c->reason == CR_NETOP_PING && p->state == PS_READY) {
			/* node.c's timer sends it; a peer with a ping out is left
			 * to answer that one (Core queues one more for after it) */
			p->next_ping_us = now;
			if (!p->ping_nonce)
				cr__timer_set(w, &p->tm, now);
		}
	}
}
