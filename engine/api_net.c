/* The added-node, ping and network-activity calls of <connring/connring.h>
 * (Core's addnode add/remove, getaddednodeinfo, ping, setnetworkactive):
 * mail to the coordinator, answered through a waiter (coord_net.c). Not
 * from an engine thread, except cr_network_active (any thread). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "engine/internal.h"

static int net_call(struct cr_engine *e, enum cr_netop op, const char *text, unsigned flags,
		    struct cr_added_node *out, size_t cap)
{
	if (!e->started || e->stopped || atomic_load(&e->stop_flag))
		return -ESHUTDOWN;
	if ((cr__cur_worker && cr__cur_worker->e == e) || cr__cur_coord == &e->co)
		return -EDEADLK;
	if (text && strlen(text) >= CR_HOSTPORT_MAX)
		return CR_E_BAD_ADDRESS;
	struct cr_mail *c = cr__mail_new(MAIL_NET_OP, 0);
	if (!c)
		return -ENOMEM;
	if (op == CR_NETOP_ADD) {
		/* as cr_connect: numeric, or any name a proxy resolves */
		int bad = cr__sockaddr_parse(&c->addr, text, e->chain->default_port, 0);
		if (bad && !e->has_proxy) {
			cr__mail_free(c);
			return bad;
		}
		if (bad)
			memset(&c->addr, 0, sizeof c->addr);
	}
	c->reason = op;
	c->flags = flags;
	if (text)
		snprintf(c->host, sizeof c->host, "%s", text);
	struct cr_waiter wt = { .out = out, .cap = out ? cap : 0 };
	return cr__coord_call(e, c, &wt);
}

int cr_addnode(struct cr_engine *e, const char *hostport)
{
	return hostport ? net_call(e, CR_NETOP_ADD, hostport, 0, NULL, 0) : CR_E_BAD_ADDRESS;
}

int cr_removenode(struct cr_engine *e, const char *hostport)
{
	return hostport ? net_call(e, CR_NETOP_REMOVE, hostport, 0, NULL, 0) : -ENOENT;
}

int cr_added_nodes(struct cr_engine *e, struct cr_added_node *out, size_t cap)
{
	return net_call(e, CR_NETOP_LIST, NULL, 0, out, cap);
}

int cr_ping_peers(struct cr_engine *e)
{
	return net_call(e, CR_NETOP_PING, NULL, 0, NULL, 0);
}

int cr_set_network_active(struct cr_engine *e, bool active)
{
	return net_call(e, CR_NETOP_ACTIVE, NULL, active, NULL, 0);
}

bool cr_network_active(const struct cr_engine *e)
{
	return cr__net_active(e);
}
