/* The address-manager calls of <connring/connring.h> (Core's
 * getnodeaddresses, addpeeraddress, getaddrmaninfo, and connringd's
 * -importpeers): the public calls post MAIL_NET_OP to the coordinator and
 * wait (any thread but an engine thread); cr__coord_am_op answers them on
 * the coordinator thread, the only one that touches e->co.am. The caller's
 * memory (entries in, entries out) is read and written by the coordinator
 * while the caller waits for the answer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "addr/addrman.h"
#include "engine/internal.h"

static int am_call(struct cr_engine *e, enum cr_netop op, unsigned flags, const void *in, size_t n,
		   void *out, size_t cap)
{
	if (!e->started || e->stopped || atomic_load(&e->stop_flag))
		return -ESHUTDOWN;
	if ((cr__cur_worker && cr__cur_worker->e == e) || cr__cur_coord == &e->co)
		return -EDEADLK;
	struct cr_mail *c = cr__mail_new(MAIL_NET_OP, 0);
	if (!c)
		return -ENOMEM;
	c->reason = op;
	c->flags = flags;
	c->ptr = (void *)(uintptr_t)in; /* read only */
	c->n = n;
	struct cr_waiter wt = { .out = out, .cap = cap };
	return cr__coord_call(e, c, &wt);
}

int cr_node_addresses(struct cr_engine *e, struct cr_addr_entry *out, size_t cap, unsigned net)
{
	if (net >= CR_ADDR_NETS) /* CR_ADDRMAN_NET(net) shifts by net */
		return -EINVAL;
	if (!out || !cap)
		return 0;
	return am_call(e, CR_NETOP_AM_GET, net, NULL, 0, out, cap);
}

int cr_add_peer_address(struct cr_engine *e, const struct cr_addr_entry *a, bool tried)
{
	if (!a)
		return CR_E_BAD_ADDRESS;
	return am_call(e, CR_NETOP_AM_ADD, tried, a, 1, NULL, 0);
}

int cr_addrman_sizes(struct cr_engine *e, struct cr_addrman_sizes *out)
{
	memset(out, 0, sizeof *out);
	return am_call(e, CR_NETOP_AM_SIZES, 0, NULL, 0, out, 1);
}

int cr_import_addresses(struct cr_engine *e, const struct cr_addr_import *in, size_t n, size_t *added)
{
	if (added)
		*added = 0;
	if (n > INT32_MAX)
		return -EINVAL;
	if (!e->started) {
		/* before start: kept until the address manager exists and
		 * placed before the scheduler's first pass (so the first
		 * automatic connection can already go to one of them) */
		if (n > INT32_MAX - e->nimport)
			return -EINVAL;
		struct cr_addr_import *v = realloc(e->import, (e->nimport + n) * sizeof *v);
		if (!v)
			return -ENOMEM;
		memcpy(v + e->nimport, in, n * sizeof *v);
		e->import = v;
		e->nimport += n;
		return 0;
	}
	int r = n ? am_call(e, CR_NETOP_AM_IMPORT, 0, in, n, NULL, 0) : 0;
	if (r >= 0 && added)
		*added = (size_t)r;
	return r < 0 ? r : 0;
}

/* ---- coordinator thread -------------------------------------------------- */

static bool to_netaddr(struct cr_netaddr *na, uint8_t net, uint8_t len, const uint8_t *addr)
{
	memset(na, 0, sizeof *na);
	if (!net || len > sizeof na->addr || cr_net_addr_len(net) != len)
		return false;
	na->net = net;
	na->len = len;
	memcpy(na->addr, addr, len);
	return true;
}

static bool to_peeraddr(struct cr_peeraddr *pa, const struct cr_addr_entry *a)
{
	memset(pa, 0, sizeof *pa);
	if (!to_netaddr(&pa->na, a->net, a->len, a->addr))
		return false;
	pa->port = a->port;
	pa->services = a->services;
	pa->time = a->time < 0 ? 0 : a->time > UINT32_MAX ? UINT32_MAX : (uint32_t)a->time;
	return true;
}

static int am_get(struct cr_engine *e, struct cr_mail *c)
{
	struct cr_coord *co = &e->co;
	size_t cap = c->waiter->cap;
	if (cap > CR_ADDRMAN_MAX_ENTRIES)
		cap = CR_ADDRMAN_MAX_ENTRIES;
	struct cr_peeraddr *pa = malloc(cap * sizeof *pa);
	if (!pa)
		return -ENOMEM;
	unsigned nets = c->flags ? CR_ADDRMAN_NET(c->flags) : 0;
	size_t n = cr_addrman_get_addr(co->am, pa, cap, 0, nets, cr__coord_now_s(), &co->rng);
	struct cr_addr_entry *out = c->waiter->out;
	for (size_t i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof out[i]);
		out[i].net = pa[i].na.net;
		out[i].len = pa[i].na.len;
		memcpy(out[i].addr, pa[i].na.addr, pa[i].na.len);
		out[i].port = pa[i].port;
		out[i].services = pa[i].services;
		out[i].time = pa[i].time;
	}
	free(pa);
	return (int)n;
}

/* Core's addpeeraddress: the address announced itself, seen now. 0: not
 * added to new; 2: added to new but not moved to tried. */
static int am_add(struct cr_engine *e, const struct cr_mail *c)
{
	struct cr_coord *co = &e->co;
	struct cr_peeraddr pa;
	if (!to_peeraddr(&pa, c->ptr))
		return CR_E_BAD_ADDRESS;
	int64_t now = cr__coord_now_s();
	pa.time = (uint32_t)now;
	if (!cr_addrman_add(co->am, &pa, 1, &pa.na, 0, now, &co->rng))
		return 0;
	if (c->flags && !cr_addrman_good(co->am, &pa.na, pa.port, false, now))
		return 2;
	return 1;
}

static int am_sizes(struct cr_engine *e, struct cr_mail *c)
{
	struct cr_addrman_sizes *out = c->waiter->out;
	for (unsigned net = 1; net < CR_ADDR_NETS; net++) {
		out->new_count[net] = cr_addrman_size(e->co.am, CR_ADDRMAN_NET(net), CR_ADDRMAN_IN_NEW);
		out->tried_count[net] = cr_addrman_size(e->co.am, CR_ADDRMAN_NET(net), CR_ADDRMAN_IN_TRIED);
	}
	return 0;
}

/* Each entry as its source told it; a tried one then moves to tried. No
 * time penalty: these are a node's own records, not fresh gossip. */
size_t cr__am_import(struct cr_engine *e, const struct cr_addr_import *in, size_t n)
{
	struct cr_coord *co = &e->co;
	int64_t now = cr__coord_now_s();
	size_t added = 0;
	for (size_t i = 0; i < n; i++) {
		struct cr_peeraddr pa;
		struct cr_netaddr src;
		if (!to_peeraddr(&pa, &in[i].a))
			continue;
		if (!to_netaddr(&src, in[i].source.net, in[i].source.len, in[i].source.addr))
			src = pa.na;
		added += cr_addrman_add(co->am, &pa, 1, &src, 0, now, &co->rng);
		if (in[i].tried)
			cr_addrman_good(co->am, &pa.na, pa.port, false, now);
	}
	cr__log(e, CR_LOG_INFO, CR_LOG_ADDRMAN, "imported %zu of %zu addresses", added, n);
	return added;
}

static int am_import(struct cr_engine *e, const struct cr_mail *c)
{
	return (int)cr__am_import(e, c->ptr, c->n);
}

int cr__coord_am_op(struct cr_engine *e, struct cr_mail *c)
{
	if (!e->co.am)
		return -ENOTSUP;
	switch (c->reason) {
	case CR_NETOP_AM_GET: return am_get(e, c);
	case CR_NETOP_AM_ADD: return am_add(e, c);
	case CR_NETOP_AM_SIZES: return am_sizes(e, c);
	case CR_NETOP_AM_IMPORT: return am_import(e, c);
	default: return -EINVAL;
	}
}
