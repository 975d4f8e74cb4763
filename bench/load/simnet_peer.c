/* simnet: one connection to a fake node (see simnet.h). The fake node is
 * the responder of a proto/transport session (V2, falling back to V1 when
 * the peer speaks V1), answers version with version, wtxidrelay,
 * sendaddrv2 and verack, pings with pongs, and getaddr (once per
 * connection, as Core) with addresses of other fake nodes, in addrv2 when
 * the peer asked for it. Single-threaded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "bench/load/simnet.h"
#include "proto/msg.h"
#include "proto/services.h"

uint64_t sim_rand(struct sim *s)
{
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	return s->rng;
}

int sim_conn_start(struct sim *s, struct sim_conn *c)
{
	c->t = malloc(cr_transport_size());
	struct cr_v2_entropy *e = malloc(sizeof *e);
	if (!c->t || !e) {
		free(e);
		return -1;
	}
	memset(e, 0, sizeof *e);
	if (getrandom(e->seckey, 32, 0) != 32 || getrandom(e->ell_rnd, 32, 0) != 32) {
		free(e);
		return -1;
	}
	e->garbage_len = (uint16_t)(sim_rand(s) % 32);
	for (unsigned i = 0; i < e->garbage_len; i++)
		e->garbage[i] = (uint8_t)sim_rand(s);
	int r = cr_transport_init_v2(c->t, s->chain, s->secp, false, e);
	memset(e, 0, sizeof *e);
	free(e);
	return r < 0 ? -1 : 0;
}

void sim_conn_free(struct sim_conn *c)
{
	if (c->t) {
		cr_transport_clear(c->t);
		free(c->t);
	}
	free(c->out);
	memset(c, 0, sizeof *c);
	c->fd = -1;
}

static int append(struct sim_conn *c, const uint8_t *p, size_t n)
{
	if (c->out_len + n > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		while (cap < c->out_len + n)
			cap *= 2;
		if (cap > (64u << 20))
			return -1; /* the peer does not read: give up on it */
		uint8_t *b = realloc(c->out, cap);
		if (!b)
			return -1;
		c->out = b;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, p, n);
	c->out_len += n;
	return 0;
}

/* Transport-level bytes (V2 key, garbage, terminator, version packet). */
static int pump(struct sim_conn *c)
{
	const uint8_t *p;
	size_t n;
	while ((n = cr_transport_pending(c->t, &p)) > 0) {
		if (append(c, p, n) < 0)
			return -1;
		cr_transport_pending_sent(c->t, n);
	}
	return 0;
}

int sim_conn_send(struct sim *s, struct sim_conn *c, const char *cmd, const uint8_t *p, size_t len)
{
	(void)s;
	if (pump(c) < 0 || !cr_transport_ready(c->t))
		return -1;
	size_t need = cr_transport_frame_size(c->t, cmd, len);
	uint8_t *buf = malloc(need);
	if (!buf)
		return -1;
	bool follows = false;
	int n = cr_transport_frame(c->t, buf, need, cmd, p, len, &follows);
	int r = n < 0 ? -1 : append(c, buf, (size_t)n);
	if (r == 0 && follows && len)
		r = append(c, p, len);
	free(buf);
	return r;
}

static uint64_t node_services(const struct sim_node *n)
{
	return CR_NODE_NETWORK | CR_NODE_WITNESS | (n->v2_bit ? CR_NODE_P2P_V2 : 0);
}

static int send_version(struct sim *s, struct sim_conn *c)
{
	struct cr_version v;
	memset(&v, 0, sizeof v);
	v.version = 70016;
	v.services = node_services(&s->nodes[c->node]);
	v.timestamp = time(NULL);
	v.nonce = sim_rand(s) | 1;
	static const char ua[] = "/simnet:0.1/";
	v.user_agent_len = sizeof ua - 1;
	memcpy(v.user_agent, ua, sizeof ua);
	v.start_height = 1;
	v.relay = true;
	uint8_t buf[CR_MSG_VERSION_SIZE_MAX];
	int n = cr_msg_version_encode(buf, sizeof buf, &v);
	c->sent_version = true;
	return n < 0 ? -1 : sim_conn_send(s, c, "version", buf, (size_t)n);
}

/* Up to getaddr_count other fake nodes, reachable or not, seen in the last
 * three hours. */
static int answer_getaddr(struct sim *s, struct sim_conn *c)
{
	static struct cr_peeraddr entries[CR_MSG_ADDR_MAX];
	static uint8_t buf[CR_MSG_ADDRV2_SIZE_MAX];
	size_t n = 0, want = s->getaddr_count < CR_MSG_ADDR_MAX ? s->getaddr_count : CR_MSG_ADDR_MAX;
	int64_t now = time(NULL);
	for (size_t tries = 0; n < want && tries < want * 4; tries++) {
		unsigned i = (unsigned)(sim_rand(s) % s->nnodes);
		if (i == c->node)
			continue;
		struct cr_peeraddr *e = &entries[n++];
		memset(e, 0, sizeof *e);
		e->na = s->nodes[i].addr;
		e->port = s->nodes[i].port;
		e->services = node_services(&s->nodes[i]);
		e->time = (uint32_t)(now - (int64_t)(sim_rand(s) % 10800));
	}
	struct cr_addr_list l = {.entries = entries, .cap = n, .count = n};
	int len = c->wants_addrv2 ? cr_msg_addrv2_encode(buf, sizeof buf, &l)
				  : cr_msg_addr_encode(buf, sizeof buf, &l);
	if (len < 0)
		return -1;
	s->nodes[c->node].getaddrs++;
	return sim_conn_send(s, c, c->wants_addrv2 ? "addrv2" : "addr", buf, (size_t)len);
}

static int on_message(struct sim *s, struct sim_conn *c, const struct cr_msg *m)
{
	enum cr_msg_type t = cr_msg_type(m->command);
	if (t == CR_MSG_VERSION) {
		struct cr_version v;
		if (c->got_version || cr_msg_version_decode(&v, m->payload, m->len) < 0)
			return c->got_version ? 0 : -1;
		c->got_version = true;
		if (!c->sent_version && send_version(s, c) < 0)
			return -1;
		if (sim_conn_send(s, c, "wtxidrelay", NULL, 0) < 0 ||
		    sim_conn_send(s, c, "sendaddrv2", NULL, 0) < 0)
			return -1;
		return sim_conn_send(s, c, "verack", NULL, 0);
	}
	if (!c->got_version)
		return 0;
	switch (t) {
	case CR_MSG_VERACK:
		if (!c->ready) {
			c->ready = true;
			s->nodes[c->node].handshakes++;
			printf("handshake node=%s transport=v%d\n", c->peer,
			       cr_transport_kind(c->t) == CR_TRANSPORT_V2 ? 2 : 1);
		}
		return 0;
	case CR_MSG_SENDADDRV2:
		c->wants_addrv2 = true;
		return 0;
	case CR_MSG_PING: {
		struct cr_ping pg;
		uint8_t b[8];
		if (cr_msg_ping_decode(&pg, m->payload, m->len) < 0)
			return 0;
		int n = cr_msg_pong_encode(b, sizeof b, &pg);
		return n < 0 ? -1 : sim_conn_send(s, c, "pong", b, (size_t)n);
	}
	case CR_MSG_GETADDR:
		if (c->getaddr_done)
			return 0; /* once per connection, as Core */
		c->getaddr_done = true;
		return answer_getaddr(s, c);
	default:
		return 0; /* addr from the node under test, inv, ...: ignored */
	}
}

int sim_conn_recv(struct sim *s, struct sim_conn *c, const uint8_t *in, size_t len)
{
	size_t off = 0;
	while (off < len) {
		struct cr_msg m;
		int n = cr_transport_recv(c->t, &m, in + off, len - off);
		if (n < 0)
			return -1;
		off += (size_t)n;
		if (pump(c) < 0)
			return -1;
		if (m.command[0] && !m.reject && on_message(s, c, &m) < 0)
			return -1;
		if (n == 0 && !m.command[0])
			break;
	}
	return pump(c);
}
