/* The public calls of address relay: cr_add_connection (Core's test-only
 * addconnection: an outbound connection of an automatic type) and
 * cr_next_inv_send_us (Core's NextInvToInbounds, one shared exponential
 * timer per network for all inbound peers), and the engine-wide address
 * state cr_engine_new sets up: the keys of the known-address and relay
 * hashes, and our own address (external_ip). Any thread. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "addr/addrstr.h"
#include "engine/internal.h"

void cr__addr_engine_init(struct cr_engine *e)
{
	cr__random(&e->addr_keys, sizeof e->addr_keys);
	uint64_t seed;
	cr__random(&seed, sizeof seed);
	cr_rng_seed(&e->inv_rng, seed);
	pthread_mutex_init(&e->inv_lock, NULL);
	const char *ip = e->cfg.external_ip;
	uint16_t port = 0;
	/* checked by its setter; the port, when not given, is the listen
	 * port (filled in when advertised: it may be picked at start) */
	if (ip[0] && cr_addrstr_parse(&e->self.na, &port, ip, strlen(ip), 0, 0) == 0) {
		e->self.port = port;
		e->self.services = cr__local_services(e);
		e->has_self = true;
	}
}

int cr__post_connect(struct cr_engine *e, const char *hostport, unsigned flags, enum cr_conn_type type)
{
	if (!e->started || atomic_load(&e->stop_flag))
		return -ESHUTDOWN;
	if (!hostport || strlen(hostport) >= CR_HOSTPORT_MAX)
		return CR_E_BAD_ADDRESS;
	struct cr_mail *c = cr__mail_new(MAIL_CO_CONNECT, 0);
	if (!c)
		return -ENOMEM;
	int bad = cr__sockaddr_parse(&c->addr, hostport, e->chain->default_port, 0);
	if (bad && !e->has_proxy) {
		cr__mail_free(c);
		return bad;
	}
	c->flags = flags;
	c->ev.type = (uint8_t)type;
	snprintf(c->host, sizeof c->host, "%s", hostport);
	cr__mailbox_post(e, &e->co.mb, c);
	return 0;
}

int cr_add_connection(struct cr_engine *e, const char *hostport, enum cr_conn_type type, unsigned flags)
{
	if (type != CR_CONN_OUTBOUND_FULL_RELAY && type != CR_CONN_BLOCK_RELAY && type != CR_CONN_FEELER &&
	    type != CR_CONN_ADDR_FETCH)
		return -EINVAL;
	return cr__post_connect(e, hostport, flags & CR_CONNECT_V1, type);
}

uint64_t cr_next_inv_send_us(struct cr_engine *e, unsigned network)
{
	if (network >= CR_NETWORK_COUNT || network >= CR_INBOUND_TIMER_CLASSES)
		return 0;
	pthread_mutex_lock(&e->inv_lock);
	int64_t t = cr_next_inv_to_inbounds(&e->inv, network, (int64_t)cr__now_us(),
					    CR_INBOUND_INV_INTERVAL_US, &e->inv_rng);
	pthread_mutex_unlock(&e->inv_lock);
	return (uint64_t)t;
}
