/* A peer's address traffic, worker side, as Bitcoin Core's net_processing
 * runs it: which connection types take part (SetupAddressRelay: never
 * block-relay-only peers, whose address messages are ignored; outbound
 * peers at the handshake, inbound ones at their first addr, addrv2 or
 * getaddr), getaddr to outbound peers once after the handshake, feelers
 * closed once the handshake is through and addr-fetch connections once
 * their answer came; incoming addr/addrv2 through ProcessAddrs
 * (engine/policy/addrrelay: more than 1,000 entries is misbehaviour, the
 * per-peer token bucket unless the addr permission, the time rules), the
 * accepted entries posted to the coordinator in one mail per message with
 * the peer as source. Address mail between threads is bounded per worker
 * (CR_ADDR_MAIL_MAX, both directions): past it entries are dropped and
 * counted, so a flood from many peers cannot grow the coordinator's queue.
 * Owner worker thread, except cr__addr_mail_new/_done (any thread).
 *
 * Where this differs from Core, on purpose (engine/policy/addrrelay.h
 * lists the policy's own differences):
 * - a feeler is closed once the whole handshake is through (Core: when
 *   its version arrives, verack sent): the coordinator's Good needs the
 *   ready event, and a verack more costs nothing;
 * - addr, addrv2 and getaddr are the engine's: the embedder no longer sees
 *   them in on_message;
 * - a malformed addr/addrv2 is dropped and counted, the peer kept (Core
 *   logs the deserialization failure and goes on as well);
 * - reachability is IPv4/IPv6, plus Tor with a proxy, within onlynet (no
 *   I2P or CJDNS configuration yet);
 * - accepted entries cross to the coordinator by mail, bounded per worker
 *   (CR_ADDR_MAIL_MAX): past it they are dropped (Core has one thread and
 *   adds them at once); a getaddr dropped there is not marked answered, so
 *   the peer may ask again;
 * - the getaddr cache is keyed by the network class and the bound address
 *   and port of the listener the peer came through (Core: the socket's
 *   local address, without the port);
 * - the pending relay queue is kept when a getaddr is answered, the answer
 *   sent at once beside it (Core clears m_addrs_to_send and queues the
 *   answer in its place);
 * - relay is bounded engine-wide as well (CR_ADDR_RELAY_ENGINE_*, in
 *   coord_addr.c): past it addresses are stored, not relayed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr/netgroup.h"
#include "addr/netperm.h"
#include "engine/internal.h"
#include "proto/msg.h"
#include "proto/wire.h"

struct cr_peeraddr *cr__addr_scratch(struct cr_worker *w)
{
	if (!w->addr_scratch)
		w->addr_scratch = malloc(2 * CR_ADDR_MAX_PER_MSG * sizeof *w->addr_scratch);
	return w->addr_scratch;
}

/* What an address mail of n + nrelay entries counts against its worker. */
static uint64_t mail_words(size_t n, size_t nrelay)
{
	size_t bytes = sizeof(struct cr__addr_batch) + (n + nrelay) * sizeof(struct cr_peeraddr) + nrelay;
	return (bytes + sizeof(uint64_t) - 1) / sizeof(uint64_t);
}

static uint64_t mail_cost(size_t n, size_t nrelay)
{
	return sizeof(struct cr_mail) + mail_words(n, nrelay) * sizeof(uint64_t);
}

struct cr_mail *cr__addr_mail_new(struct cr_engine *e, enum cr_mail_kind kind, uint64_t peer, size_t n,
				  size_t nrelay)
{
	unsigned wi = cr__id_worker(peer);
	if (wi >= e->nworkers)
		return NULL;
	struct cr_worker *w = &e->w[wi];
	uint64_t cost = mail_cost(n, nrelay);
	/* a reservation, undone when over: a racing poster may see the sum
	 * above the cap for an instant, never keep it there */
	uint64_t before = atomic_fetch_add_explicit(&w->addr_mail_bytes, cost, memory_order_relaxed);
	if (before + cost > CR_ADDR_MAIL_MAX) {
		atomic_fetch_sub_explicit(&w->addr_mail_bytes, cost, memory_order_relaxed);
		return NULL;
	}
	struct cr_mail *c = cr__mail_new(kind, mail_words(n, nrelay));
	if (!c) {
		atomic_fetch_sub_explicit(&w->addr_mail_bytes, cost, memory_order_relaxed);
		return NULL;
	}
	uint64_t peak = atomic_load_explicit(&w->addr_mail_peak, memory_order_relaxed);
	while (before + cost > peak &&
	       !atomic_compare_exchange_weak_explicit(&w->addr_mail_peak, &peak, before + cost,
						      memory_order_relaxed, memory_order_relaxed))
		;
	c->nids = 0; /* the storage holds a batch, not ids */
	c->peer = peer;
	struct cr__addr_batch *b = (struct cr__addr_batch *)c->ids;
	b->nstore = (uint32_t)n;
	b->nrelay = (uint32_t)nrelay;
	b->reach = (bool *)(b->a + n + nrelay);
	c->ptr = b;
	return c;
}

void cr__addr_mail_done(struct cr_engine *e, struct cr_mail *c)
{
	struct cr__addr_batch *b = c->ptr;
	unsigned wi = cr__id_worker(c->peer);
	if (b && wi < e->nworkers)
		atomic_fetch_sub_explicit(&e->w[wi].addr_mail_bytes, mail_cost(b->nstore, b->nrelay),
					  memory_order_relaxed);
	cr__mail_free(c);
}

void cr__addr_peer_free(struct cr_peer *p)
{
	if (p->ar) {
		cr_addr_relay_clear(p->ar);
		free(p->ar);
		p->ar = NULL;
	}
}

/* Core's SetupAddressRelay: the relay state, created on first use; NULL
 * for peers that take no part (block-relay-only, and feelers, which are
 * gone at once) or when out of memory. */
struct cr_addr_relay *cr__addr_relay_on(struct cr_worker *w, struct cr_peer *p)
{
	if (p->type == CR_CONN_BLOCK_RELAY || p->type == CR_CONN_FEELER)
		return NULL;
	if (!p->ar) {
		p->ar = malloc(sizeof *p->ar);
		if (!p->ar)
			return NULL;
		cr_addr_relay_init(p->ar, (int64_t)cr__wall_us());
		p->ar->send_mean_us = (int64_t)w->e->cfg.addr_send_interval_ms * 1000;
		p->ar->local_mean_us = (int64_t)w->e->cfg.local_addr_interval_ms * 1000;
		p->ar->addr_perm = cr_perm_has(p->perms, CR_PERM_ADDR);
		if (p->state == PS_READY) {
			cr__node_schedule(w, p); /* its address timers start */
			/* the coordinator's summary learns it here, the one
			 * path (before it: the ready event carries it) */
			cr__coord_peer_event(w, p, MAIL_EV_UPDATE, true, 0);
		}
	}
	/* an outbound peer's is set up before its sendaddrv2 may come */
	p->ar->wants_addrv2 = (p->flags & PF_WANTS_ADDRV2) != 0;
	return p->ar;
}

static void peer_netaddr(const struct cr_peer *p, struct cr_netaddr *out)
{
	uint16_t port;
	if (p->flags & PF_IDENTIFIED)
		*out = p->na;
	else if (!cr__sockaddr_to_netaddr(&p->addr, out, &port))
		memset(out, 0, sizeof *out);
}

void cr__addr_setup(struct cr_worker *w, struct cr_peer *p)
{
	if (!(p->flags & PF_INBOUND))
		cr__addr_relay_on(w, p);
}

void cr__addr_ready(struct cr_worker *w, struct cr_peer *p)
{
	if (p->type == CR_CONN_FEELER) {
		/* Core: "feeler connection completed", disconnected at once */
		cr__peer_close(w, p, CR_CLOSE_FEELER_DONE, "feeler done");
		return;
	}
	if ((p->flags & PF_INBOUND) || !p->ar)
		return;
	/* Core asks every outbound peer with address relay for addresses
	 * once, and lets the whole answer past the rate limit */
	if (cr__sendq_msg(w, p, "getaddr", NULL, 0) == 0)
		cr_addr_relay_getaddr_sent(p->ar);
}

/* The networks we can reach: IPv4 and IPv6, Tor through a proxy (Core's
 * default reachability without -i2psam or -cjdnsreachable), within
 * -onlynet when given (its bits are CR_ADDRMAN_NET's). */
unsigned cr__reachable_nets(const struct cr_engine *e)
{
	unsigned m = CR_ADDRMAN_NET(CR_NET_IPV4) | CR_ADDRMAN_NET(CR_NET_IPV6);
	if (e->has_proxy)
		m |= CR_ADDRMAN_NET(CR_NET_TORV3);
	return e->cfg.onlynet ? m & e->cfg.onlynet : m;
}

static void post_batch(struct cr_worker *w, struct cr_peer *p, const struct cr_peeraddr *store,
		       size_t nstore, const struct cr_peeraddr *relay, const bool *reach, size_t nrelay)
{
	struct cr_engine *e = w->e;
	struct cr_mail *c = cr__addr_mail_new(e, MAIL_ADDRS, cr__peer_id(w, p), nstore, nrelay);
	if (!c) {
		CR_STAT_ADD(w, addrs_mail_dropped, nstore + nrelay);
		return;
	}
	struct cr__addr_batch *b = c->ptr;
	peer_netaddr(p, &b->source);
	memcpy(b->a, store, nstore * sizeof *store);
	memcpy(b->a + nstore, relay, nrelay * sizeof *relay);
	memcpy(b->reach, reach, nrelay);
	cr__mailbox_post(e, &e->co.mb, c);
}

/* addr or addrv2: Core's ProcessAddrs. */
static int on_addr(struct cr_worker *w, struct cr_peer *p, const struct cr_msg *m, bool v2)
{
	struct cr_engine *e = w->e;
	/* the count first: Core's rule is on the count, whatever follows */
	struct cr_reader r;
	cr_reader_init(&r, m->payload, m->len);
	uint64_t count = cr_read_compact(&r, false);
	if (!r.err && count > CR_ADDR_MAX_PER_MSG) {
		char t[64];
		snprintf(t, sizeof t, "%s message size = %llu", v2 ? "addrv2" : "addr", (unsigned long long)count);
		cr__peer_misbehaving(w, p, CR_MISB_POINTS_ADDR_SIZE, false, t);
		return p->state == PS_CLOSING ? -ECONNRESET : 0;
	}
	struct cr_addr_relay *ar = cr__addr_relay_on(w, p);
	if (!ar || !cr__addr_scratch(w)) {
		CR_STAT_ADD(w, addr_msgs_ignored, 1);
		return 0;
	}
	struct cr_addr_list l = { .entries = w->addr_scratch, .cap = CR_ADDR_MAX_PER_MSG };
	int ret = v2 ? cr_msg_addrv2_decode(&l, m->payload, m->len) : cr_msg_addr_decode(&l, m->payload, m->len);
	if (ret < 0) {
		/* Core: a message that fails to deserialize is logged and
		 * dropped, the peer kept */
		cr__log(e, CR_LOG_DEBUG, CR_LOG_NET, "peer=%llx: bad %s: %s",
			(unsigned long long)cr__peer_id(w, p), v2 ? "addrv2" : "addr", cr_strerror(ret));
		CR_STAT_ADD(w, addr_msgs_ignored, 1);
		return 0;
	}
	/* the entries to store go to the scratch's second half */
	struct cr_peeraddr *out_store = w->addr_scratch + CR_ADDR_MAX_PER_MSG;
	struct cr_peeraddr relay[CR_ADDR_RELAY_MAX_ENTRIES];
	bool reach[CR_ADDR_RELAY_MAX_ENTRIES];
	struct cr_addr_process_out o;
	uint64_t limited = ar->rate_limited;
	unsigned ngf = e->cfg.routable127 ? CR_NETGROUP_LOOPBACK_ROUTABLE : 0;
	cr_process_addrs(&o, out_store, relay, reach, ar, &e->addr_keys, l.entries, l.count,
			 cr__reachable_nets(e), ngf, true, w->bans ? w->bans->bl : NULL,
			 (int64_t)cr__wall_us(), &w->addr_rng);
	CR_STAT_ADD(w, addrs_received, l.count);
	CR_STAT_ADD(w, addrs_rate_limited, ar->rate_limited - limited);
	if (o.nstore || o.nrelay)
		post_batch(w, p, out_store, o.nstore, relay, reach, o.nrelay);
	if (p->type == CR_CONN_ADDR_FETCH && o.fetch_done) {
		/* Core: an addr-fetch peer's answer of more than one address
		 * ends the connection (one may be its own self-announcement) */
		cr__peer_close(w, p, CR_CLOSE_ADDR_FETCH_DONE, "addr-fetch done");
		return -ECONNRESET;
	}
	return 0;
}

/* getaddr: answered for inbound peers only, once per connection (Core). */
static void on_getaddr(struct cr_worker *w, struct cr_peer *p)
{
	struct cr_engine *e = w->e;
	if (!(p->flags & PF_INBOUND) || (p->flags & PF_GETADDR_RECVD)) {
		/* Core ignores getaddr from outbound peers (a spy could learn
		 * our address manager through the peers we chose) and repeats */
		CR_STAT_ADD(w, addr_msgs_ignored, 1);
		return;
	}
	struct cr_addr_relay *ar = cr__addr_relay_on(w, p);
	if (!ar)
		return;
	struct cr_mail *c = cr__addr_mail_new(e, MAIL_GETADDR, cr__peer_id(w, p), 0, 0);
	if (!c) {
		/* not answered: a later getaddr may still be */
		CR_STAT_ADD(w, addr_msgs_ignored, 1);
		return;
	}
	p->flags |= PF_GETADDR_RECVD;
	struct cr__addr_batch *b = c->ptr;
	b->addr_perm = ar->addr_perm;
	b->netclass = p->netclass;
	peer_netaddr(p, &b->source);
	if (p->listener < w->nls &&
	    !cr__sockaddr_to_netaddr(&w->ls[p->listener].local, &b->local, &b->local_port))
		memset(&b->local, 0, sizeof b->local);
	cr__mailbox_post(e, &e->co.mb, c);
}

int cr__addr_message(struct cr_worker *w, struct cr_peer *p, const struct cr_msg *m, int type)
{
	if (p->type == CR_CONN_BLOCK_RELAY) {
		/* Core: a block-relay-only peer takes no part in address relay;
		 * what it sends about addresses is ignored */
		CR_STAT_ADD(w, addr_msgs_ignored, 1);
		return 0;
	}
	if (type == CR_MSG_GETADDR) {
		on_getaddr(w, p);
		return 0;
	}
	return on_addr(w, p, m, type == CR_MSG_ADDRV2);
}
