/* What the ceiling's client speaks to the echo server (ceiling_proto.h).
 * raw: 32-byte blocks carrying the send time. v1 and v2: exactly the
 * per-message work connring-load does against connringd, so that the only
 * difference between a ceiling run and a connringd run is the server:
 *   v1: a ping framed by proto/transport.h (header, SHA256d checksum); the
 *       echo comes back as a "ping" decoded by the same transport (checksum
 *       checked), its nonce the send time;
 *   v2: a BIP324 packet (FSChaCha20 length, ChaCha20-Poly1305 contents,
 *       rekey every 224 packets) sealed with an initiator's send keys; the
 *       echo is opened with a responder's receive keys derived from the same
 *       secret, which are those send keys. No key exchange (the echo server
 *       has none); the secret is random per peer.
 * Hooks run on their ring's thread; each ring has its own cipher workspace. */
#include <sys/random.h>

#include "bench/load/ceiling_proto.h"
#include "proto/bip324.h"
#include "proto/chain.h"
#include "proto/crypto.h"
#include "proto/err.h"
#include "proto/msg.h"
#include "proto/transport.h"
#include "proto/v2.h"

#define RAW_BLOCK 32 /* bytes of a V1 ping: 24-byte header + 8-byte nonce */

/* ---- raw ---- */

struct raw_peer {
	uint8_t part[RAW_BLOCK];
	uint8_t have;
};

static int raw_start(void *tctx, void *ps, unsigned gi, struct load_sink *s)
{
	(void)tctx;
	(void)gi;
	memset(ps, 0, sizeof(struct raw_peer));
	load_ready(s); /* nothing to negotiate: the TCP connect is the handshake */
	return 0;
}

static int raw_recv(void *tctx, void *ps, const uint8_t *in, size_t len, struct load_sink *s)
{
	struct raw_peer *p = ps;
	(void)tctx;
	while (len) {
		size_t take = RAW_BLOCK - p->have;
		if (take > len)
			take = len;
		memcpy(p->part + p->have, in, take);
		p->have = (uint8_t)(p->have + take);
		in += take;
		len -= take;
		if (p->have == RAW_BLOCK) {
			uint64_t ts;
			memcpy(&ts, p->part, sizeof(ts));
			load_received(s, ts);
			p->have = 0;
		}
	}
	return 0;
}

static int raw_send(void *tctx, void *ps, enum load_msg kind, uint64_t now, struct load_sink *s)
{
	(void)tctx;
	(void)ps;
	(void)kind;
	uint8_t *o = load_out_reserve(s, RAW_BLOCK);
	if (!o)
		return -ENOMEM;
	memset(o, 0, RAW_BLOCK);
	memcpy(o, &now, sizeof(now));
	load_out_commit(s, RAW_BLOCK);
	return 0;
}

/* ---- v1 ---- */

struct ctctx {
	const struct cr_chain *chain;
	struct cr_cipher_ws *ws; /* v2 */
};

static void *c_thread_init(const void *arg, unsigned index)
{
	(void)index;
	struct ctctx *c = calloc(1, sizeof(*c));
	if (!c || !(c->ws = cr_cipher_ws_new())) {
		fprintf(stderr, "ceiling: out of memory\n");
		abort();
	}
	c->chain = arg;
	return c;
}

static void c_thread_free(void *tctx)
{
	struct ctctx *c = tctx;
	cr_cipher_ws_free(c->ws);
	free(c);
}

static int v1_start(void *tctx, void *ps, unsigned gi, struct load_sink *s)
{
	struct ctctx *c = tctx;
	(void)gi;
	int r = cr_transport_init_v1(ps, c->chain);
	if (r < 0)
		return r;
	load_ready(s);
	return 0;
}

static int v1_recv(void *tctx, void *ps, const uint8_t *in, size_t len, struct load_sink *s)
{
	(void)tctx;
	while (len) {
		struct cr_msg m;
		int r = cr_transport_recv(ps, &m, in, len);
		if (r < 0)
			return r;
		in += r;
		len -= (size_t)r;
		if (m.command[0]) {
			struct cr_ping ping;
			if (m.reject || strcmp(m.command, "ping") != 0)
				return CR_E_MSG_FIELD; /* an echo returns only what we sent */
			if ((r = cr_msg_ping_decode(&ping, m.payload, m.len)) < 0)
				return r;
			load_received(s, ping.nonce);
		} else if (r == 0) {
			return CR_E_V2_STATE; /* no progress: a decoder bug, not a hang */
		}
	}
	return 0;
}

static int v1_send(void *tctx, void *ps, enum load_msg kind, uint64_t now, struct load_sink *s)
{
	(void)tctx;
	(void)kind;
	uint8_t pl[8];
	struct cr_ping ping = {.nonce = now};
	cr_msg_ping_encode(pl, sizeof(pl), &ping);
	size_t room = cr_transport_frame_size(ps, "ping", sizeof(pl));
	uint8_t *o = load_out_reserve(s, room + sizeof(pl));
	if (!o)
		return -ENOMEM;
	bool follows = false;
	int w = cr_transport_frame(ps, o, room + sizeof(pl), "ping", pl, sizeof(pl), &follows);
	if (w < 0)
		return w;
	if (follows) {
		memcpy(o + w, pl, sizeof(pl));
		w += (int)sizeof(pl);
	}
	load_out_commit(s, (size_t)w);
	return 0;
}

static void v1_clear(void *ps)
{
	cr_transport_clear(ps);
}

/* ---- v2 ---- */

#define V2_PING_CONTENTS 9 /* short id + 8-byte nonce */
#define V2_PING_WIRE (CR_BIP324_OVERHEAD + V2_PING_CONTENTS)

struct v2_peer {
	struct cr_bip324 enc; /* initiator: its send keys seal our packets */
	struct cr_bip324 dec; /* responder: its receive keys open them again */
	uint32_t clen;        /* contents length of the packet in part, UINT32_MAX until read */
	uint16_t have;
	uint8_t part[V2_PING_WIRE];
};

static int v2_start(void *tctx, void *ps, unsigned gi, struct load_sink *s)
{
	struct ctctx *c = tctx;
	struct v2_peer *p = ps;
	(void)gi;
	memset(p, 0, sizeof(*p));
	uint8_t secret[32];
	if (getrandom(secret, sizeof(secret), 0) != sizeof(secret))
		return -EIO;
	int r = cr_bip324_init_ws(&p->enc, secret, c->chain->magic, true, c->ws);
	if (r == 0)
		r = cr_bip324_init_ws(&p->dec, secret, c->chain->magic, false, c->ws);
	explicit_bzero(secret, sizeof(secret));
	if (r < 0)
		return r;
	p->clen = UINT32_MAX;
	load_ready(s);
	return 0;
}

/* One whole packet in p->part: open it and take the nonce. */
static int v2_packet(struct v2_peer *p, struct load_sink *s)
{
	bool ignore = false;
	uint8_t *body = p->part + CR_BIP324_LENGTH_LEN;
	int r = cr_bip324_decrypt(&p->dec, body, body, p->clen, NULL, 0, &ignore);
	if (r < 0)
		return r;
	if (ignore || p->clen != V2_PING_CONTENTS || body[1] != cr_v2_command_shortid("ping"))
		return CR_E_MSG_FIELD; /* an echo returns only what we sent */
	struct cr_ping ping;
	if ((r = cr_msg_ping_decode(&ping, body + 2, 8)) < 0)
		return r;
	load_received(s, ping.nonce);
	return 0;
}

static int v2_recv(void *tctx, void *ps, const uint8_t *in, size_t len, struct load_sink *s)
{
	struct v2_peer *p = ps;
	(void)tctx;
	while (len) {
		size_t want = p->clen == UINT32_MAX ? CR_BIP324_LENGTH_LEN
						    : CR_BIP324_OVERHEAD + p->clen;
		size_t take = want - p->have < len ? want - p->have : len;
		memcpy(p->part + p->have, in, take);
		p->have = (uint16_t)(p->have + take);
		in += take;
		len -= take;
		if (p->have < want)
			continue;
		if (p->clen == UINT32_MAX) {
			p->clen = cr_bip324_decrypt_length(&p->dec, p->part);
			if (p->clen != V2_PING_CONTENTS)
				return CR_E_MSG_FIELD;
			continue;
		}
		int r = v2_packet(p, s);
		if (r < 0)
			return r;
		p->clen = UINT32_MAX;
		p->have = 0;
	}
	return 0;
}

static int v2_send(void *tctx, void *ps, enum load_msg kind, uint64_t now, struct load_sink *s)
{
	struct v2_peer *p = ps;
	(void)tctx;
	(void)kind;
	uint8_t sid = (uint8_t)cr_v2_command_shortid("ping");
	uint8_t pl[8];
	struct cr_ping ping = {.nonce = now};
	cr_msg_ping_encode(pl, sizeof(pl), &ping);
	uint8_t *o = load_out_reserve(s, V2_PING_WIRE);
	if (!o)
		return -ENOMEM;
	long w = cr_bip324_encrypt(&p->enc, o, &sid, 1, pl, sizeof(pl), NULL, 0, false);
	if (w < 0)
		return (int)w;
	load_out_commit(s, (size_t)w);
	return 0;
}

static void v2_clear(void *ps)
{
	struct v2_peer *p = ps;
	cr_bip324_clear(&p->enc);
	cr_bip324_clear(&p->dec);
}

int ceiling_proto_init(struct load_proto *proto, const char *name)
{
	memset(proto, 0, sizeof(*proto));
	if (strcmp(name, "raw") == 0) {
		*proto = (struct load_proto){.name = "raw", .peer_size = sizeof(struct raw_peer),
					     .peer_start = raw_start, .peer_recv = raw_recv,
					     .peer_send = raw_send};
	} else if (strcmp(name, "v1") == 0) {
		*proto = (struct load_proto){.name = "v1", .peer_size = (cr_transport_size() + 63) & ~(size_t)63,
					     .thread_init = c_thread_init, .thread_free = c_thread_free,
					     .peer_start = v1_start, .peer_recv = v1_recv,
					     .peer_send = v1_send, .peer_clear = v1_clear};
	} else if (strcmp(name, "v2") == 0) {
		*proto = (struct load_proto){.name = "v2", .peer_size = (sizeof(struct v2_peer) + 63) & ~(size_t)63,
					     .thread_init = c_thread_init, .thread_free = c_thread_free,
					     .peer_start = v2_start, .peer_recv = v2_recv,
					     .peer_send = v2_send, .peer_clear = v2_clear};
	} else {
		return -EINVAL;
	}
	return 0;
}
