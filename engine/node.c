/* The node handshake and liveness, as Bitcoin Core runs them: version,
 * then wtxidrelay and sendaddrv2, then verack; the peer is ready once both
 * sides' version and verack are through. Outbound sends its version first,
 * inbound answers the peer's. Self-connections are caught by the version
 * nonce (every outbound nonce of the engine is in a small shared table).
 * Once ready: a ping at once and every ping_interval_ms with the RTT
 * measured, a pong timeout, and an inactivity timeout; ping and pong are
 * answered here, address messages go to addr_in.c, everything else to
 * on_message. One wheel timer per peer carries its nearest deadline
 * (address sends and the addr-fetch timeout included). Owner worker thread only. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "engine/internal.h"
#include "proto/err.h"
#include "proto/msg.h"

static void remember_nonce(struct cr_engine *e, uint64_t nonce)
{
	size_t h = nonce % CR_NONCE_SLOTS;
	for (size_t i = 0; i < CR_NONCE_PROBES; i++) {
		uint64_t zero = 0;
		if (atomic_compare_exchange_strong(&e->nonces[(h + i) % CR_NONCE_SLOTS], &zero, nonce))
			return;
	}
	/* table crowded: this peer just goes without self-detection */
}

static bool is_our_nonce(struct cr_engine *e, uint64_t nonce)
{
	size_t h = nonce % CR_NONCE_SLOTS;
	for (size_t i = 0; i < CR_NONCE_PROBES; i++)
		if (atomic_load(&e->nonces[(h + i) % CR_NONCE_SLOTS]) == nonce)
			return true;
	return false;
}

static void to_version_addr(struct cr_version_addr *va, const struct sockaddr_storage *ss)
{
	memset(va, 0, sizeof *va);
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)ss;
		va->ip[10] = va->ip[11] = 0xff; /* IPv4-mapped */
		memcpy(va->ip + 12, &a->sin_addr, 4);
		va->port = ntohs(a->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)ss;
		memcpy(va->ip, &a->sin6_addr, 16);
		va->port = ntohs(a->sin6_port);
	}
}

static int send_empty(struct cr_worker *w, struct cr_peer *p, const char *cmd)
{
	return cr__sendq_msg(w, p, cmd, NULL, 0);
}

static int send_version(struct cr_worker *w, struct cr_peer *p)
{
	struct cr_engine *e = w->e;
	struct cr_version v;
	memset(&v, 0, sizeof v);
	v.version = e->cfg.protocol_version;
	v.services = cr__local_services(e);
	v.timestamp = (int64_t)(cr__wall_us() / 1000000u);
	to_version_addr(&v.addr_recv, &p->addr);
	v.addr_from.services = v.services; /* Core: CService() with our services */
	do
		cr__wrandom(w, &v.nonce, sizeof v.nonce);
	while (!v.nonce);
	v.user_agent_len = (uint16_t)strlen(e->user_agent);
	memcpy(v.user_agent, e->user_agent, v.user_agent_len);
	v.start_height = e->cfg.start_height;
	/* Core: relay=0 to block-relay-only peers, so they send us no
	 * transactions (and we learn nothing that would tell them apart) */
	v.relay = e->cfg.relay && p->type != CR_CONN_BLOCK_RELAY;
	uint8_t buf[CR_MSG_VERSION_SIZE_MAX];
	int n = cr_msg_version_encode(buf, sizeof buf, &v);
	if (n < 0)
		return n;
	if (!(p->flags & PF_INBOUND)) {
		p->version_nonce = v.nonce;
		remember_nonce(e, v.nonce);
	}
	p->flags |= PF_SENT_VERSION;
	return cr__sendq_msg(w, p, "version", buf, (size_t)n);
}

void cr__node_schedule(struct cr_worker *w, struct cr_peer *p)
{
	const struct cr_config *c = &w->e->cfg;
	uint64_t due;
	if (p->state != PS_READY) {
		due = p->open_us + (uint64_t)c->handshake_timeout_ms * 1000u;
	} else {
		uint64_t inact = (uint64_t)c->inactivity_timeout_ms * 1000u;
		due = (p->last_recv_us < p->last_send_us ? p->last_recv_us : p->last_send_us) + inact;
		uint64_t ping = p->ping_nonce ? p->ping_sent_us + (uint64_t)c->ping_timeout_ms * 1000u
					      : p->next_ping_us;
		if (ping < due)
			due = ping;
	}
	uint64_t addr = cr__addr_due_us(w, p);
	if (addr < due)
		due = addr;
	cr__timer_set(w, &p->tm, due);
}

/* The transport is running: start the handshake clock; an outbound V1
 * peer sends its version at once (V2 waits for the keys). */
void cr__node_open(struct cr_worker *w, struct cr_peer *p)
{
	cr__node_schedule(w, p);
	if (!(p->flags & PF_INBOUND) && (p->flags & PF_T_INIT) && cr_transport_ready(p->t) && !(p->flags & PF_SENT_VERSION))
		send_version(w, p);
}

/* After input: an outbound V2 peer whose keys just arrived sends its version. */
void cr__node_progress(struct cr_worker *w, struct cr_peer *p)
{
	if (!(p->flags & PF_INBOUND) && !(p->flags & PF_SENT_VERSION) && p->state == PS_OPEN && cr_transport_ready(p->t))
		send_version(w, p);
}

static void send_ping(struct cr_worker *w, struct cr_peer *p, uint64_t now)
{
	struct cr_ping pg;
	do
		cr__wrandom(w, &pg.nonce, sizeof pg.nonce);
	while (!pg.nonce);
	uint8_t buf[8];
	int n = cr_msg_ping_encode(buf, sizeof buf, &pg);
	if (n < 0 || cr__sendq_msg(w, p, "ping", buf, (size_t)n) < 0)
		return;
	p->ping_nonce = pg.nonce;
	p->ping_sent_us = now;
	/* the next one: the pong does not move it, so that a ping asked for
	 * while this one is out (the ping RPC) follows the pong at once */
	p->next_ping_us = now + (uint64_t)w->e->cfg.ping_interval_ms * 1000u;
}

static void become_ready(struct cr_worker *w, struct cr_peer *p)
{
	struct cr_engine *e = w->e;
	p->state = PS_READY;
	cr__peer_publish(w, p);
	cr__addr_setup(w, p);
	/* the handshake is through: messages up to the protocol's limit */
	cr_transport_set_limit(p->t, 0);
	/* a new peer often goes quiet now: keep no receive buffer for it
	 * (the current message's view is not used after this) */
	if (!(p->flags & PF_DIRECT_PENDING))
		cr_transport_trim(p->t);
	cr__budget_account(w, p);
	CR_STAT_ADD(w, handshaked, 1);
	uint64_t now = cr__now_us();
	p->last_recv_us = p->last_send_us = now;
	p->next_ping_us = now + (uint64_t)e->cfg.ping_interval_ms * 1000u;
	send_ping(w, p, now); /* Core pings a new peer at once */
	cr__node_schedule(w, p);
	if (p->type < CR_CONN_TYPES)
		CR_STAT_ADD_AT(w, CR_STAT_IDX(ready_by_type) + p->type, 1);
	cr__coord_peer_event(w, p, MAIL_EV_READY, true, 0);
	if (e->cfg.on_peer_ready) {
		struct cr_peer_info info;
		cr__peer_fill_info(w, p, &info);
		e->cfg.on_peer_ready(e->cfg.user, cr__peer_id(w, p), &info);
	}
	if (p->state == PS_READY)
		cr__addr_ready(w, p);
}

static int on_version(struct cr_worker *w, struct cr_peer *p, const struct cr_msg *m)
{
	struct cr_engine *e = w->e;
	if (p->flags & PF_GOT_VERSION)
		return 0; /* Core ignores a second version */
	struct cr_version v;
	int ret = cr_msg_version_decode(&v, m->payload, m->len);
	if (ret < 0) {
		cr__peer_close(w, p, CR_CLOSE_PROTOCOL, cr_strerror(ret));
		return ret;
	}
	if (v.version < CR_MSG_MIN_PEER_VERSION) {
		char t[64];
		snprintf(t, sizeof t, "obsolete version %d", v.version);
		cr__peer_close(w, p, CR_CLOSE_VERSION, t);
		return -EPROTO;
	}
	if ((p->flags & PF_INBOUND) && v.nonce && is_our_nonce(e, v.nonce)) {
		cr__peer_close(w, p, CR_CLOSE_SELF, "connected to self (version nonce)");
		return -EPROTO;
	}
	p->flags |= PF_GOT_VERSION;
	p->version = v.version;
	p->services = v.services;
	p->start_height = v.start_height;
	p->relay = v.relay;
	/* keep the user agent printable for logs and info */
	size_t n = v.user_agent_len < CR_UA_MAX ? v.user_agent_len : CR_UA_MAX;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)v.user_agent[i];
		p->user_agent[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	p->user_agent[n] = '\0';
	if ((p->flags & PF_INBOUND) && !(p->flags & PF_SENT_VERSION) && send_version(w, p) < 0)
		return -EPROTO;
	/* BIP339 (wtxidrelay) only to peers of version 70016 and up; both
	 * before verack, as their BIPs require. */
	if (v.version >= CR_WTXID_RELAY_VERSION)
		send_empty(w, p, "wtxidrelay");
	send_empty(w, p, "sendaddrv2");
	send_empty(w, p, "verack");
	p->flags |= PF_SENT_VERACK;
	if (p->flags & PF_GOT_VERACK)
		become_ready(w, p);
	return 0;
}

static int on_pong(struct cr_worker *w, struct cr_peer *p, const struct cr_msg *m)
{
	struct cr_ping pg;
	if (cr_msg_pong_decode(&pg, m->payload, m->len) < 0)
		return 0; /* Core: a malformed pong is ignored */
	if (!p->ping_nonce || pg.nonce != p->ping_nonce)
		return 0; /* unsolicited or stale: ignored, as Core */
	uint64_t now = cr__now_us();
	int64_t rtt = (int64_t)(now - p->ping_sent_us);
	p->ping_last_us = rtt;
	if (p->ping_min_us < 0 || rtt < p->ping_min_us) {
		p->ping_min_us = rtt;
		/* eviction protects low minimum pings: the coordinator's copy
		 * follows (a pong per ping interval bounds the rate) */
		cr__coord_peer_event(w, p, MAIL_EV_UPDATE, true, 0);
	}
	p->ping_nonce = 0;
	cr__node_schedule(w, p);
	return 0;
}

/* One message from the peer. Returns < 0 when the peer was closed. */
int cr__node_message(struct cr_worker *w, struct cr_peer *p, const struct cr_msg *m, size_t wire_len)
{
	(void)wire_len;
	struct cr_engine *e = w->e;
	enum cr_msg_type type = cr_msg_type(m->command);
	if (type == CR_MSG_VERSION)
		return on_version(w, p, m);
	if (!(p->flags & PF_GOT_VERSION))
		return 0; /* Core ignores everything before version */
	if (p->state != PS_READY) {
		if (type == CR_MSG_SENDADDRV2)
			p->flags |= PF_WANTS_ADDRV2;
		if (type == CR_MSG_VERACK && !(p->flags & PF_GOT_VERACK)) {
			p->flags |= PF_GOT_VERACK;
			if (p->flags & PF_SENT_VERACK)
				become_ready(w, p);
		}
		return 0; /* other messages before verack are ignored, as Core */
	}
	switch (type) {
	case CR_MSG_VERACK:
		return 0;
	case CR_MSG_WTXIDRELAY:
	case CR_MSG_SENDADDRV2:
		/* BIP339/BIP155: only valid before verack; Core disconnects */
		cr__peer_close(w, p, CR_CLOSE_PROTOCOL, "wtxidrelay/sendaddrv2 after verack");
		return -EPROTO;
	case CR_MSG_PING: {
		struct cr_ping pg;
		uint8_t buf[8];
		if (cr_msg_ping_decode(&pg, m->payload, m->len) == 0) {
			int n = cr_msg_pong_encode(buf, sizeof buf, &pg);
			if (n > 0)
				cr__sendq_msg(w, p, "pong", buf, (size_t)n);
		}
		return 0;
	}
	case CR_MSG_PONG:
		return on_pong(w, p, m);
	case CR_MSG_ADDR:
	case CR_MSG_ADDRV2:
	case CR_MSG_GETADDR:
		/* the engine's own: address relay (addr_in.c) */
		return cr__addr_message(w, p, m, type);
	default:
		break;
	}
	if (e->cfg.on_message) {
		size_t kept = e->cfg.on_message(e->cfg.user, cr__peer_id(w, p), m->command, m->payload, m->len);
		p->held_bytes += kept < m->len ? kept : m->len;
	}
	return p->state == PS_CLOSING ? -ECONNRESET : 0;
}

/* The peer's nearest deadline passed: check each kind and re-arm. */
void cr__node_timer(struct cr_worker *w, struct cr_peer *p)
{
	const struct cr_config *c = &w->e->cfg;
	uint64_t now = cr__now_us();
	if (p->state == PS_CLOSING || p->state == PS_FREE)
		return;
	if (p->state != PS_READY) {
		if (now >= p->open_us + (uint64_t)c->handshake_timeout_ms * 1000u) {
			cr__peer_close(w, p, CR_CLOSE_HANDSHAKE_TIMEOUT, NULL);
			return;
		}
		cr__node_schedule(w, p);
		return;
	}
	/* an idle peer holds no receive buffer: drop the reassembly buffer
	 * unless a message is half in it */
	if (!(p->flags & PF_DIRECT_PENDING)) {
		cr_transport_trim(p->t);
		cr__budget_account(w, p);
	}
	uint64_t inact = (uint64_t)c->inactivity_timeout_ms * 1000u;
	if (now >= p->last_recv_us + inact || now >= p->last_send_us + inact) {
		cr__peer_close(w, p, CR_CLOSE_INACTIVITY, NULL);
		return;
	}
	if (p->ping_nonce && now >= p->ping_sent_us + (uint64_t)c->ping_timeout_ms * 1000u) {
		cr__peer_close(w, p, CR_CLOSE_PING_TIMEOUT, NULL);
		return;
	}
	if (!p->ping_nonce && now >= p->next_ping_us)
		send_ping(w, p, now);
	if (!cr__addr_timer(w, p, now))
		return;
	cr__node_schedule(w, p);
}
