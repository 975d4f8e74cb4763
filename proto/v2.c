/* BIP324 V2 session: handshake and packet reception; see v2.h. One thread
 * at a time per session (the peer's worker).
 *
 * Receive states run in order: DETECT (responder only: could still be a V1
 * version message), KEY (the peer's 64-byte key), GARBAGE (search for the
 * terminator), VERSION (decoys, then the version packet), APP. Sending needs
 * no state of its own: the handshake bytes are one buffer appended to as
 * the handshake advances, and application packets are framed directly into
 * the caller's memory. */
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "proto/crypto.h"
#include "proto/err.h"
#include "proto/v2.h"
#include "proto/v2_internal.h"

enum {
	ST_DETECT,
	ST_KEY,
	ST_GARBAGE,
	ST_VERSION,
	ST_APP,
	ST_V1,     /* responder handed over to V1 */
};

#define KEY_LEN 64
#define VERSION_PACKET_LEN CR_BIP324_OVERHEAD /* empty contents */
/* Smallest receive buffer: an idle peer's pings and pongs fit in it, so
 * their buffer costs 32 heap bytes, not a page. */
#define MIN_BUFFER 32
/* Floor for a large packet's buffer growing as its bytes arrive. */
#define MIN_LARGE_BUFFER 4096
/* First allocation for the peer's garbage, doubled as more arrives. */
#define MIN_GARBAGE 64

/* Everything only the handshake needs, freed once both directions are past
 * it (its secrets, seckey and ell_rnd, are wiped as soon as they are used).
 * Sized to our garbage, and the peer's garbage grows as it arrives, so a
 * handshake with short garbage costs a few hundred bytes, not 8 KiB. */
struct cr_v2_hs {
	uint8_t seckey[32];
	uint8_t ell_rnd[32];
	uint8_t theirs[KEY_LEN];
	uint8_t theirs_have;
	bool sent_key;                /* our key + garbage are queued */
	uint16_t garbage_len;         /* ours */
	uint16_t rgarb_have;          /* bytes in rgarb */
	uint16_t rgarb_cap;
	uint8_t *rgarb;               /* the peer's garbage (+ terminator) so far */
	size_t send_len, send_off;
	/* our key || garbage || terminator || version packet */
	uint8_t send[];
};

#define HS_SEND_MAX(garbage_len) \
	(KEY_LEN + (size_t)(garbage_len) + CR_BIP324_TERM_LEN + VERSION_PACKET_LEN)

static int send_key(struct cr_v2 *s);
static void buf_free(struct cr_v2 *s);

static const char version_cmd[12] = {'v', 'e', 'r', 's', 'i', 'o', 'n'};

static int fail(struct cr_v2 *s, int err)
{
	if (!s->err)
		s->err = err;
	return s->err;
}

static void hs_free(struct cr_v2 *s)
{
	if (s->hs) {
		/* Only these are secret: keys and garbage went out in clear. */
		cr_wipe(s->hs->seckey, sizeof(s->hs->seckey));
		cr_wipe(s->hs->ell_rnd, sizeof(s->hs->ell_rnd));
		free(s->hs->rgarb);
		free(s->hs);
		s->hs = NULL;
	}
}

/* The handshake memory goes once the version packet is in and every
 * handshake byte has been sent. */
static void hs_maybe_free(struct cr_v2 *s)
{
	if (s->hs && s->state == ST_APP && s->hs->send_off == s->hs->send_len)
		hs_free(s);
}

int cr_v2_init(struct cr_v2 *s, const struct cr_chain *chain, const struct cr_secp *secp,
	       bool initiator, const struct cr_v2_entropy *rnd)
{
	memset(s, 0, sizeof(*s));
	if (!chain || !secp || !rnd || rnd->garbage_len > CR_V2_GARBAGE_MAX)
		return CR_E_INVAL;
	s->chain = chain;
	s->secp = secp;
	s->initiator = initiator;
	/* Not calloc: the send buffer needs no zeroing. */
	s->hs = malloc(sizeof(*s->hs) + HS_SEND_MAX(rnd->garbage_len));
	if (!s->hs)
		return CR_E_NOMEM;
	memset(s->hs, 0, offsetof(struct cr_v2_hs, send));
	memcpy(s->hs->seckey, rnd->seckey, 32);
	memcpy(s->hs->ell_rnd, rnd->ell_rnd, 32);
	s->hs->garbage_len = rnd->garbage_len;
	memcpy(s->hs->send + KEY_LEN, rnd->garbage, rnd->garbage_len);
	s->state = initiator ? ST_KEY : ST_DETECT;
	s->max_contents = CR_V2_MAX_CONTENTS;
	if (initiator) {
		int err = send_key(s);
		if (err) {
			cr_v2_clear(s);
			return err;
		}
	}
	return 0;
}

void cr_v2_clear(struct cr_v2 *s)
{
	hs_free(s);
	if (s->keys)
		cr_bip324_clear(&s->cipher);
	buf_free(s);
	cr_wipe(s, sizeof(*s));
}

static void buf_free(struct cr_v2 *s)
{
	/* Received plaintext is no key material: freed without a wipe. */
	free(s->buf);
	s->buf = NULL;
	s->buf_cap = 0;
	s->release = false;
}

void cr_v2_set_limit(struct cr_v2 *s, uint32_t max_payload)
{
	if (max_payload == 0 || max_payload > CR_V1_MAX_PAYLOAD)
		max_payload = CR_V1_MAX_PAYLOAD;
	s->max_contents = 1 + CR_COMMAND_MAX + max_payload;
}

size_t cr_v2_buffer_bytes(const struct cr_v2 *s)
{
	return s->buf_cap;
}

size_t cr_v2_declared(const struct cr_v2 *s)
{
	if (s->err || s->len_have < CR_BIP324_LENGTH_LEN)
		return 0;
	return CR_BIP324_LENGTH_LEN + CR_BIP324_HEADER_LEN + (size_t)s->contents_len + CR_BIP324_TAG_LEN;
}

void cr_v2_trim(struct cr_v2 *s)
{
	/* Not between a packet's length and its end: buf is sized for it. */
	if (s->len_have == 0)
		buf_free(s);
}

/* Queues our ellswift key and garbage: at once for an initiator, and for a
 * responder only once it knows the peer is not V1. */
static int send_key(struct cr_v2 *s)
{
	struct cr_v2_hs *h = s->hs;
	/* The key goes straight into the send buffer, which keeps it for
	 * the ECDH (send[0..64) is never overwritten). */
	int err = cr_ellswift_create(s->secp, h->send, h->seckey, h->ell_rnd);

	cr_wipe(h->ell_rnd, sizeof(h->ell_rnd));
	if (err)
		return err;
	h->send_len = KEY_LEN + h->garbage_len;
	h->sent_key = true;
	return 0;
}

/* The peer's key is complete: derive the keys and queue our terminator
 * and version packet, whose AAD is the garbage we sent. */
static int key_complete(struct cr_v2 *s)
{
	struct cr_v2_hs *h = s->hs;
	uint8_t secret[32];
	long n;
	int err;

	err = cr_ellswift_xdh(s->secp, secret, h->send, h->theirs, h->seckey, s->initiator);
	cr_wipe(h->seckey, sizeof(h->seckey));
	if (err)
		return err;
	/* The thread's shared cipher workspace: an idle session then holds
	 * its keys and counters only, no libcrypto context. */
	err = cr_bip324_init_ws(&s->cipher, secret, s->chain->magic, s->initiator,
				cr_secp_cipher_ws(s->secp));
	cr_wipe(secret, sizeof(secret));
	if (err)
		return err;
	s->keys = true;
	memcpy(h->send + h->send_len, s->cipher.send_term, CR_BIP324_TERM_LEN);
	h->send_len += CR_BIP324_TERM_LEN;
	/* BIP324: TRANSPORT_VERSION is empty; the packet is not a decoy. */
	n = cr_bip324_encrypt(&s->cipher, h->send + h->send_len, NULL, 0, NULL, 0,
			      h->send + KEY_LEN, h->garbage_len, false);
	if (n < 0)
		return (int)n;
	h->send_len += (size_t)n;
	s->state = ST_GARBAGE;
	return 0;
}

/* Responder, first bytes: V1 or V2? Decides at the first byte that differs
 * from magic || "version\0\0\0\0\0" (before that, nothing is sent). */
static size_t detect(struct cr_v2 *s, const uint8_t *in, size_t in_len, int *err)
{
	struct cr_v2_hs *h = s->hs;
	size_t i = 0;

	while (i < in_len && h->theirs_have < CR_V2_V1_PREFIX_LEN) {
		uint8_t want = h->theirs_have < 4 ? s->chain->magic[h->theirs_have]
						  : (uint8_t)version_cmd[h->theirs_have - 4];
		uint8_t c = in[i++];
		h->theirs[h->theirs_have++] = c;
		if (c != want) {
			s->state = ST_KEY;
			*err = send_key(s);
			return i;
		}
	}
	if (h->theirs_have == CR_V2_V1_PREFIX_LEN)
		s->state = ST_V1;
	return i;
}

static size_t take_key(struct cr_v2 *s, const uint8_t *in, size_t in_len, int *err)
{
	struct cr_v2_hs *h = s->hs;
	size_t n = KEY_LEN - h->theirs_have;
	bool had_prefix = h->theirs_have >= CR_V2_V1_PREFIX_LEN;

	if (n > in_len)
		n = in_len;
	memcpy(h->theirs + h->theirs_have, in, n);
	h->theirs_have = (uint8_t)(h->theirs_have + n);
	/* A V1 version under some other network's magic: the peer is on
	 * the wrong network (Core refuses it the same way). */
	if (!s->initiator && !had_prefix && h->theirs_have >= CR_V2_V1_PREFIX_LEN &&
	    memcmp(h->theirs + 4, version_cmd, sizeof(version_cmd)) == 0) {
		*err = CR_E_V2_MAGIC;
		return n;
	}
	if (h->theirs_have == KEY_LEN)
		*err = key_complete(s);
	return n;
}

/* Appends garbage bytes until the last 16 equal the terminator. */
static size_t take_garbage(struct cr_v2 *s, const uint8_t *in, size_t in_len, int *err)
{
	struct cr_v2_hs *h = s->hs;
	const uint8_t *term = s->cipher.recv_term;
	size_t i = 0, room = CR_V2_GARBAGE_SEARCH - h->rgarb_have;

	if (h->rgarb_have + (in_len < room ? in_len : room) > h->rgarb_cap) {
		/* Doubling, capped at the search window: a few reallocs per
		 * handshake, and only as much as the peer actually sent. */
		size_t cap = h->rgarb_cap ? h->rgarb_cap : MIN_GARBAGE;
		while (cap < h->rgarb_have + (in_len < room ? in_len : room))
			cap *= 2;
		if (cap > CR_V2_GARBAGE_SEARCH)
			cap = CR_V2_GARBAGE_SEARCH;
		uint8_t *p = realloc(h->rgarb, cap);
		if (!p) {
			*err = CR_E_NOMEM;
			return 0;
		}
		h->rgarb = p;
		h->rgarb_cap = (uint16_t)cap;
	}
	while (i < in_len) {
		h->rgarb[h->rgarb_have++] = in[i++];
		if (h->rgarb_have >= CR_BIP324_TERM_LEN &&
		    h->rgarb[h->rgarb_have - 1] == term[CR_BIP324_TERM_LEN - 1] &&
		    memcmp(h->rgarb + h->rgarb_have - CR_BIP324_TERM_LEN, term,
			   CR_BIP324_TERM_LEN) == 0) {
			h->rgarb_have -= CR_BIP324_TERM_LEN; /* now the garbage length */
			s->state = ST_VERSION;
			s->aad_pending = true;
			return i;
		}
		if (h->rgarb_have == CR_V2_GARBAGE_SEARCH) {
			/* BIP324: 4095 bytes of garbage at most. */
			*err = CR_E_V2_NOTERM;
			return i;
		}
	}
	return i;
}

/* Makes buf hold at least want bytes of a packet of total bytes. Small
 * packets get a power of two (kept and reused up to CR_V2_KEEP_BUFFER);
 * a large one grows by doubling as its bytes arrive, so three length bytes
 * alone cannot make a peer cost 4 MB. */
static int reserve(struct cr_v2 *s, size_t want, size_t total)
{
	size_t cap;
	uint8_t *p;

	if (want <= s->buf_cap)
		return 0;
	if (total <= CR_V2_KEEP_BUFFER) {
		for (cap = MIN_BUFFER; cap < want; cap *= 2)
			;
	} else {
		cap = s->buf_cap * 2 > want ? s->buf_cap * 2 : want;
		if (cap < MIN_LARGE_BUFFER)
			cap = MIN_LARGE_BUFFER;
		if (cap > total)
			cap = total;
	}
	p = realloc(s->buf, cap);
	if (!p)
		return CR_E_NOMEM;
	s->buf = p;
	s->buf_cap = (uint32_t)cap; /* at most a packet: < 2^24 */
	return 0;
}

/* A packet is complete (ciphertext at ct): decrypt, then either drop it
 * (decoy), take it as the version packet, or yield it. */
static int open_packet(struct cr_v2 *s, struct cr_msg *msg, const uint8_t *ct)
{
	const uint8_t *aad = NULL;
	size_t aad_len = 0;
	bool ignore;
	int err;

	if (s->aad_pending) {
		/* BIP324: the first packet after the terminator authenticates
		 * the garbage that preceded it. */
		aad = s->hs->rgarb;
		aad_len = s->hs->rgarb_have;
	}
	err = cr_bip324_decrypt(&s->cipher, s->buf, ct, s->contents_len, aad, aad_len, &ignore);
	s->aad_pending = false;
	s->len_have = 0;
	s->buf_have = 0;
	s->release = s->buf_cap > CR_V2_KEEP_BUFFER;
	if (err)
		return err;
	if (ignore)
		return 0;
	if (s->state == ST_VERSION) {
		/* Contents are reserved for future versions: ignored. */
		s->state = ST_APP;
		hs_maybe_free(s);
		return 0;
	}
	cr_v2_decode_type(msg, s->buf + CR_BIP324_HEADER_LEN, s->contents_len);
	return 0;
}

/* Length, then ciphertext. A packet wholly inside `in` is decrypted from
 * there; one split across calls is gathered in buf and decrypted in place. */
static size_t take_packet(struct cr_v2 *s, struct cr_msg *msg, const uint8_t *in,
			  size_t in_len, int *err)
{
	size_t i = 0, need, total;

	if (s->len_have < CR_BIP324_LENGTH_LEN) {
		while (i < in_len && s->len_have < CR_BIP324_LENGTH_LEN)
			s->len_buf[s->len_have++] = in[i++];
		if (s->len_have < CR_BIP324_LENGTH_LEN)
			return i;
		s->contents_len = cr_bip324_decrypt_length(&s->cipher, s->len_buf);
		if (s->contents_len > s->max_contents) {
			*err = CR_E_V2_LENGTH;
			return i;
		}
		if (s->release)
			buf_free(s); /* the last message was large and is handed out */
	}
	total = CR_BIP324_HEADER_LEN + s->contents_len + CR_BIP324_TAG_LEN;
	need = total - s->buf_have;
	if (s->buf_have == 0 && in_len - i >= need) {
		/* Whole packet at hand: decrypt from the input. */
		*err = reserve(s, CR_BIP324_HEADER_LEN + s->contents_len, total);
		if (!*err)
			*err = open_packet(s, msg, in + i);
		return *err ? i : i + need;
	}
	size_t n = in_len - i < need ? in_len - i : need;
	if (n == 0)
		return i;
	*err = reserve(s, s->buf_have + n, total);
	if (*err)
		return i;
	memcpy(s->buf + s->buf_have, in + i, n);
	s->buf_have += n;
	i += n;
	if (n == need)
		*err = open_packet(s, msg, s->buf);
	return i;
}

int cr_v2_recv(struct cr_v2 *s, struct cr_msg *msg, const uint8_t *in, size_t in_len)
{
	size_t done = 0;
	int err = 0;

	memset(msg, 0, sizeof(*msg));
	if (s->err)
		return s->err;
	if (in_len > INT_MAX)
		in_len = INT_MAX; /* the count must fit the return value */
	if (s->state == ST_V1)
		return fail(s, CR_E_V2_STATE);
	while (done < in_len && !err && !msg->command[0] && s->state != ST_V1) {
		const uint8_t *p = in + done;
		size_t left = in_len - done, n;

		switch (s->state) {
		case ST_DETECT:
			n = detect(s, p, left, &err);
			break;
		case ST_KEY:
			n = take_key(s, p, left, &err);
			break;
		case ST_GARBAGE:
			n = take_garbage(s, p, left, &err);
			break;
		default:
			n = take_packet(s, msg, p, left, &err);
			break;
		}
		done += n;
	}
	s->got_bytes |= done > 0;
	if (err) {
		memset(msg, 0, sizeof(*msg));
		return fail(s, err);
	}
	return (int)done;
}

uint8_t *cr_v2_recv_direct(struct cr_v2 *s, size_t *want)
{
	size_t total = CR_BIP324_HEADER_LEN + s->contents_len + CR_BIP324_TAG_LEN;

	*want = 0;
	if (s->err || s->len_have < CR_BIP324_LENGTH_LEN)
		return NULL;
	if (s->release && s->buf_have == 0)
		buf_free(s);
	/* Room grows with the bytes (reserve doubles a large packet's
	 * buffer), never all at once on a length's word. */
	if (s->buf_have == s->buf_cap && reserve(s, s->buf_have + 1, total))
		return NULL;
	*want = (s->buf_cap < total ? s->buf_cap : total) - s->buf_have;
	return s->buf + s->buf_have;
}

int cr_v2_recv_commit(struct cr_v2 *s, struct cr_msg *msg, size_t n)
{
	size_t total = CR_BIP324_HEADER_LEN + s->contents_len + CR_BIP324_TAG_LEN;
	int err = 0;

	memset(msg, 0, sizeof(*msg));
	if (s->err)
		return s->err;
	/* Only what fit in the room cr_v2_recv_direct handed out (no growing
	 * here: that could move the bytes just written). */
	if (s->len_have < CR_BIP324_LENGTH_LEN || !s->buf || n > s->buf_cap - s->buf_have ||
	    n > total - s->buf_have || n > INT_MAX)
		return fail(s, CR_E_V2_STATE);
	s->buf_have += n;
	s->got_bytes |= n > 0;
	if (s->buf_have == total)
		err = open_packet(s, msg, s->buf);
	if (err) {
		memset(msg, 0, sizeof(*msg));
		return fail(s, err);
	}
	return (int)n;
}

bool cr_v2_became_v1(const struct cr_v2 *s, const uint8_t **prefix)
{
	if (s->state != ST_V1 || !s->hs)
		return false;
	if (prefix)
		*prefix = s->hs->theirs;
	return true;
}

bool cr_v2_detecting(const struct cr_v2 *s)
{
	return s->state == ST_DETECT;
}

int cr_v2_eof(const struct cr_v2 *s)
{
	if (s->initiator && s->state == ST_KEY && !s->got_bytes)
		return CR_E_V2_V1FALLBACK;
	return 0;
}

size_t cr_v2_pending(struct cr_v2 *s, const uint8_t **out)
{
	if (!s->hs || s->hs->send_off == s->hs->send_len) {
		*out = NULL;
		return 0;
	}
	*out = s->hs->send + s->hs->send_off;
	return s->hs->send_len - s->hs->send_off;
}

void cr_v2_pending_sent(struct cr_v2 *s, size_t n)
{
	if (!s->hs)
		return;
	if (n > s->hs->send_len - s->hs->send_off)
		n = s->hs->send_len - s->hs->send_off;
	s->hs->send_off += n;
	hs_maybe_free(s);
}

bool cr_v2_ready(const struct cr_v2 *s)
{
	return s->keys && !s->err;
}

const uint8_t *cr_v2_session_id(const struct cr_v2 *s)
{
	return s->keys ? s->cipher.session_id : NULL;
}

size_t cr_v2_frame_size(const char *cmd, size_t len)
{
	size_t head = cr_v2_command_shortid(cmd) ? 1 : 1 + CR_COMMAND_MAX;
	return CR_BIP324_OVERHEAD + head + len;
}

int cr_v2_frame(struct cr_v2 *s, uint8_t *out, size_t out_cap, const char *cmd,
		const uint8_t *payload, size_t len)
{
	uint8_t head[1 + CR_COMMAND_MAX];
	int head_len;
	long n;

	if (!cr_v2_ready(s))
		return CR_E_V2_STATE;
	head_len = cr_v2_encode_type(head, cmd);
	if (head_len < 0)
		return head_len;
	if (len > CR_V1_MAX_PAYLOAD)
		return CR_E_TOOLARGE;
	if (out_cap < CR_BIP324_OVERHEAD + (size_t)head_len + len)
		return CR_E_OVERFLOW;
	n = cr_bip324_encrypt(&s->cipher, out, head, (size_t)head_len, payload, len, NULL, 0, false);
	if (n < 0)
		return fail(s, (int)n);
	return (int)n;
}

int cr_v2_frame_decoy(struct cr_v2 *s, uint8_t *out, size_t out_cap, size_t len)
{
	uint8_t *body = out + CR_BIP324_LENGTH_LEN + CR_BIP324_HEADER_LEN;
	long n;

	if (!cr_v2_ready(s))
		return CR_E_V2_STATE;
	if (len > CR_V2_MAX_CONTENTS)
		return CR_E_TOOLARGE;
	if (out_cap < CR_BIP324_OVERHEAD + len)
		return CR_E_OVERFLOW;
	/* Zero contents, sealed in place. */
	memset(body, 0, len);
	n = cr_bip324_encrypt(&s->cipher, out, NULL, 0, body, len, NULL, 0, true);
	if (n < 0)
		return fail(s, (int)n);
	return (int)n;
}
