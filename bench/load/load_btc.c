/* The Bitcoin protocol hooks of connring-load: V1 or BIP324 V2 through
 * proto/transport.h, the version/verack handshake with proto/msg codecs,
 * and the load messages (ping timed by its nonce, inv of k entries, 1 MiB
 * blobs). Deliberately independent of engine/: the tool must not share code
 * with what it measures beyond the wire codecs.
 *
 * Hooks run on their ring's thread; each ring has its own secp context. */
#include <sys/random.h>
#include <time.h>

#include <connring/version.h>

#include "bench/load/load_btc.h"
#include "proto/err.h"
#include "proto/msg.h"
#include "proto/transport.h"
#include "proto/wire.h"

struct btc_tctx {
	const struct btc_arg *a;
	struct cr_secp *secp;
	uint8_t *blob;  /* LOAD_BLOB_SIZE bytes shared by every blob sent */
	uint8_t *inv;   /* the inv payload */
	size_t inv_len;
};

struct btc_peer {
	bool got_version, got_verack, sent_version, ready;
	struct cr_transport *t; /* lives right after this struct (peer_size) */
};

#define PEER_HDR ((sizeof(struct btc_peer) + 63) & ~(size_t)63)

size_t btc_peer_size(void)
{
	return (PEER_HDR + cr_transport_size() + 63) & ~(size_t)63;
}

static void *btc_thread_init(const void *arg, unsigned index)
{
	const struct btc_arg *a = arg;
	struct btc_tctx *c = calloc(1, sizeof(*c));
	uint8_t seed[32];
	(void)index;
	if (!c || getrandom(seed, sizeof(seed), 0) != sizeof(seed))
		goto fail;
	c->a = a;
	c->secp = cr_secp_new(seed);
	c->blob = calloc(1, LOAD_BLOB_SIZE);
	c->inv_len = cr_compact_size(a->inv_k) + (size_t)a->inv_k * 36;
	c->inv = malloc(c->inv_len);
	if (!c->secp || !c->blob || !c->inv)
		goto fail;
	struct cr_writer w;
	cr_writer_init(&w, c->inv, c->inv_len);
	cr_write_compact(&w, a->inv_k);
	for (unsigned i = 0; i < a->inv_k; i++) {
		uint8_t hash[32];
		memset(hash, 0, sizeof(hash));
		cr_put_le32(hash, i * 2654435761u + index);
		cr_write_u32le(&w, 1); /* MSG_TX */
		cr_write_bytes(&w, hash, sizeof(hash));
	}
	return c;
fail:
	fprintf(stderr, "connring-load: out of memory or randomness\n");
	abort();
}

static void btc_thread_free(void *tctx)
{
	struct btc_tctx *c = tctx;
	cr_secp_free(c->secp);
	free(c->blob);
	free(c->inv);
	free(c);
}

/* Frames one message into the peer's output. */
static int emit(struct btc_peer *p, struct load_sink *s, const char *cmd, const uint8_t *pl,
		size_t len)
{
	size_t room = cr_transport_frame_size(p->t, cmd, len);
	uint8_t *o = load_out_reserve(s, room + len);
	if (!o)
		return -ENOMEM;
	bool follows = false;
	int w = cr_transport_frame(p->t, o, room + len, cmd, pl, len, &follows);
	if (w < 0)
		return w;
	if (follows && len) {
		memcpy(o + w, pl, len);
		w += (int)len;
	}
	load_out_commit(s, (size_t)w);
	return 0;
}

static int flush_pending(struct btc_peer *p, struct load_sink *s)
{
	const uint8_t *b;
	size_t n = cr_transport_pending(p->t, &b);
	if (!n)
		return 0;
	uint8_t *o = load_out_reserve(s, n);
	if (!o)
		return -ENOMEM;
	memcpy(o, b, n);
	load_out_commit(s, n);
	cr_transport_pending_sent(p->t, n);
	return 0;
}

static int send_version(struct btc_tctx *c, struct btc_peer *p, struct load_sink *s)
{
	struct cr_version v;
	memset(&v, 0, sizeof(v));
	v.version = 70016;
	v.services = 0;
	v.timestamp = (int64_t)time(NULL);
	const struct sockaddr_storage *d = &c->a->dst;
	if (d->ss_family == AF_INET) {
		const struct sockaddr_in *a4 = (const struct sockaddr_in *)d;
		v.addr_recv.ip[10] = v.addr_recv.ip[11] = 0xff;
		memcpy(v.addr_recv.ip + 12, &a4->sin_addr, 4);
		v.addr_recv.port = ntohs(a4->sin_port);
	} else {
		const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)d;
		memcpy(v.addr_recv.ip, &a6->sin6_addr, 16);
		v.addr_recv.port = ntohs(a6->sin6_port);
	}
	if (getrandom(&v.nonce, sizeof(v.nonce), 0) != sizeof(v.nonce))
		return -EIO;
	static const char ua[] = "/connring-load:" CR_VERSION "/";
	v.user_agent_len = sizeof(ua) - 1;
	memcpy(v.user_agent, ua, sizeof(ua));
	v.relay = true;
	uint8_t buf[CR_MSG_VERSION_SIZE_MAX];
	int n = cr_msg_version_encode(buf, sizeof(buf), &v);
	if (n < 0)
		return n;
	p->sent_version = true;
	return emit(p, s, "version", buf, (size_t)n);
}

static int btc_start(void *tctx, void *ps, unsigned gi, struct load_sink *s)
{
	struct btc_tctx *c = tctx;
	struct btc_peer *p = ps;
	memset(p, 0, sizeof(*p));
	p->t = (struct cr_transport *)((uint8_t *)ps + PEER_HDR);
	const struct btc_arg *a = c->a;
	bool v2 = a->mode == BTC_V2 || (a->mode == BTC_MIX && (gi & 1));
	if (!v2) {
		int r = cr_transport_init_v1(p->t, a->chain);
		return r < 0 ? r : send_version(c, p, s);
	}
	struct cr_v2_entropy *rnd = malloc(sizeof(*rnd));
	if (!rnd)
		return -ENOMEM;
	uint8_t g;
	if (getrandom(rnd->seckey, 32, 0) != 32 || getrandom(rnd->ell_rnd, 32, 0) != 32 ||
	    getrandom(&g, 1, 0) != 1) {
		free(rnd);
		return -EIO;
	}
	/* A little garbage, as real initiators send. */
	rnd->garbage_len = (uint16_t)(g % 64);
	if (rnd->garbage_len && getrandom(rnd->garbage, rnd->garbage_len, 0) != rnd->garbage_len)
		rnd->garbage_len = 0;
	int r = cr_transport_init_v2(p->t, a->chain, c->secp, true, rnd);
	memset(rnd, 0, sizeof(*rnd));
	free(rnd);
	if (r < 0)
		return r;
	return flush_pending(p, s);
}

static int on_msg(struct btc_peer *p, const struct cr_msg *m, struct load_sink *s)
{
	if (m->reject)
		return 0; /* dropped, as Core drops it */
	uint8_t buf[8];
	struct cr_ping ping;
	if (strcmp(m->command, "version") == 0) {
		struct cr_version v;
		int r = cr_msg_version_decode(&v, m->payload, m->len);
		if (r < 0 || p->got_version)
			return r < 0 ? r : CR_E_MSG_FIELD;
		p->got_version = true;
		/* BIP339 and BIP155 features go before verack, as Core sends them. */
		if ((r = emit(p, s, "wtxidrelay", NULL, 0)) < 0 ||
		    (r = emit(p, s, "sendaddrv2", NULL, 0)) < 0)
			return r;
		return emit(p, s, "verack", NULL, 0);
	}
	if (strcmp(m->command, "verack") == 0) {
		p->got_verack = true;
	} else if (strcmp(m->command, "ping") == 0) {
		int r = cr_msg_ping_decode(&ping, m->payload, m->len);
		if (r < 0)
			return r;
		cr_msg_pong_encode(buf, sizeof(buf), &ping);
		if ((r = emit(p, s, "pong", buf, 8)) < 0)
			return r;
	} else if (strcmp(m->command, "pong") == 0 && p->ready) {
		int r = cr_msg_pong_decode(&ping, m->payload, m->len);
		if (r < 0)
			return r;
		load_received(s, ping.nonce); /* our nonce is the send time */
		return 0;
	}
	if (!p->ready && p->got_version && p->got_verack) {
		p->ready = true;
		load_ready(s);
	} else if (p->ready) {
		load_received(s, 0);
	}
	return 0;
}

static int btc_recv(void *tctx, void *ps, const uint8_t *in, size_t len, struct load_sink *s)
{
	struct btc_tctx *c = tctx;
	struct btc_peer *p = ps;
	while (len) {
		struct cr_msg m;
		int r = cr_transport_recv(p->t, &m, in, len);
		if (r < 0)
			return r;
		in += r;
		len -= (size_t)r;
		if (m.command[0] && (r = on_msg(p, &m, s)) < 0)
			return r;
		if (r == 0 && !m.command[0])
			return CR_E_V2_STATE; /* no progress: a transport bug, not a hang */
	}
	int r = flush_pending(p, s);
	if (r < 0)
		return r;
	if (!p->sent_version && cr_transport_ready(p->t))
		return send_version(c, p, s);
	return 0;
}

static int btc_send(void *tctx, void *ps, enum load_msg kind, uint64_t now, struct load_sink *s)
{
	struct btc_tctx *c = tctx;
	struct btc_peer *p = ps;
	uint8_t buf[8];
	switch (kind) {
	case LOAD_PING: {
		struct cr_ping ping = {.nonce = now};
		cr_msg_ping_encode(buf, sizeof(buf), &ping);
		return emit(p, s, "ping", buf, 8);
	}
	case LOAD_INV:
		return emit(p, s, "inv", c->inv, c->inv_len);
	default:
		return emit(p, s, "blob", c->blob, LOAD_BLOB_SIZE);
	}
}

static void btc_clear(void *ps)
{
	struct btc_peer *p = ps;
	if (p->t)
		cr_transport_clear(p->t);
}

void btc_proto_init(struct load_proto *proto, const struct btc_arg *a)
{
	static const char *names[] = {"v1", "v2", "mix"};
	memset(proto, 0, sizeof(*proto));
	proto->name = names[a->mode];
	proto->peer_size = btc_peer_size();
	proto->thread_init = btc_thread_init;
	proto->thread_free = btc_thread_free;
	proto->peer_start = btc_start;
	proto->peer_recv = btc_recv;
	proto->peer_send = btc_send;
	proto->peer_clear = btc_clear;
}
