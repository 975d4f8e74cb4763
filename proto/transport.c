/* One transport over V1 framing and a BIP324 V2 session; see transport.h.
 * Used by one thread at a time per transport (the peer's worker).
 *
 * A V2 responder that recognises a V1 peer turns into a V1 transport in
 * the middle of a recv call: the 16 bytes the V2 session consumed are fed
 * to a fresh V1 decoder first, then the rest of the input. */
#include <string.h>

#include "proto/err.h"
#include "proto/transport.h"
#include "proto/v2.h"

struct cr_transport {
	enum cr_transport_kind kind;
	uint32_t limit;  /* largest message payload accepted (cr_transport_set_limit) */
	const struct cr_chain *chain;
	size_t last_wire_len; /* on-the-wire bytes of the last yielded message */
	bool v2_started; /* began as V2 (a responder may have become V1) */
	union {
		struct cr_v1_decoder v1;
		struct cr_v2 v2;
	} u;
};

size_t cr_transport_size(void)
{
	return sizeof(struct cr_transport);
}

int cr_transport_init_v1(struct cr_transport *t, const struct cr_chain *chain)
{
	memset(t, 0, sizeof(*t));
	if (!chain)
		return CR_E_INVAL;
	t->kind = CR_TRANSPORT_V1;
	t->chain = chain;
	t->limit = CR_V1_MAX_PAYLOAD;
	cr_v1_decoder_init(&t->u.v1, chain->magic, CR_V1_MAX_PAYLOAD);
	return 0;
}

int cr_transport_init_v2(struct cr_transport *t, const struct cr_chain *chain,
			 const struct cr_secp *secp, bool initiator,
			 const struct cr_v2_entropy *rnd)
{
	int err;

	memset(t, 0, sizeof(*t));
	t->chain = chain;
	t->v2_started = true;
	t->kind = initiator ? CR_TRANSPORT_V2 : CR_TRANSPORT_DETECTING;
	t->limit = CR_V1_MAX_PAYLOAD;
	err = cr_v2_init(&t->u.v2, chain, secp, initiator, rnd);
	if (err)
		memset(t, 0, sizeof(*t));
	return err;
}

void cr_transport_clear(struct cr_transport *t)
{
	if (t->kind == CR_TRANSPORT_V1)
		cr_v1_decoder_clear(&t->u.v1);
	else if (t->kind)
		cr_v2_clear(&t->u.v2);
	memset(t, 0, sizeof(*t));
}

void cr_transport_trim(struct cr_transport *t)
{
	if (t->kind == CR_TRANSPORT_V1)
		cr_v1_decoder_trim(&t->u.v1);
	else if (t->kind)
		cr_v2_trim(&t->u.v2);
}

void cr_transport_set_limit(struct cr_transport *t, uint32_t max_payload)
{
	if (max_payload == 0 || max_payload > CR_V1_MAX_PAYLOAD)
		max_payload = CR_V1_MAX_PAYLOAD;
	t->limit = max_payload;
	if (t->kind == CR_TRANSPORT_V1)
		cr_v1_decoder_set_limit(&t->u.v1, max_payload);
	else if (t->kind)
		cr_v2_set_limit(&t->u.v2, max_payload);
}

size_t cr_transport_buffer_bytes(const struct cr_transport *t)
{
	if (t->kind == CR_TRANSPORT_V1)
		return cr_v1_decoder_buffer_bytes(&t->u.v1);
	return t->kind ? cr_v2_buffer_bytes(&t->u.v2) : 0;
}

size_t cr_transport_partial_bytes(const struct cr_transport *t)
{
	if (t->kind == CR_TRANSPORT_V1)
		return cr_v1_decoder_declared(&t->u.v1);
	return t->kind == CR_TRANSPORT_V2 ? cr_v2_declared(&t->u.v2) : 0;
}

enum cr_transport_kind cr_transport_kind(const struct cr_transport *t)
{
	return t->kind;
}

const uint8_t *cr_transport_session_id(const struct cr_transport *t)
{
	return t->kind == CR_TRANSPORT_V2 ? cr_v2_session_id(&t->u.v2) : NULL;
}

bool cr_transport_ready(const struct cr_transport *t)
{
	if (t->kind == CR_TRANSPORT_V1)
		return true;
	return t->kind == CR_TRANSPORT_V2 && cr_v2_ready(&t->u.v2);
}

/* Remembers the wire size of a message just yielded. V2 reads the packet's
 * decrypted length, which stays put until the next packet's length is
 * taken: that counts the message type as sent (1-byte short id or 0x00 and
 * a 12-byte command, the sender's choice), which the message alone cannot
 * tell. */
static void note_wire_len(struct cr_transport *t, const struct cr_msg *msg, int r)
{
	if (r < 0 || !msg->command[0])
		return;
	if (t->kind == CR_TRANSPORT_V1)
		t->last_wire_len = CR_V1_HEADER_SIZE + (size_t)msg->len;
	else
		t->last_wire_len = CR_BIP324_OVERHEAD + (size_t)t->u.v2.contents_len;
}

/* The responder saw magic || "version\0\0\0\0\0": become V1, replaying the
 * prefix into the decoder (16 < 24 header bytes: it yields nothing). */
static int become_v1(struct cr_transport *t, const uint8_t *prefix)
{
	uint8_t copy[CR_V2_V1_PREFIX_LEN];
	struct cr_msg none;
	int n;

	memcpy(copy, prefix, sizeof(copy));
	cr_v2_clear(&t->u.v2);
	t->kind = CR_TRANSPORT_V1;
	cr_v1_decoder_init(&t->u.v1, t->chain->magic, t->limit);
	n = cr_v1_decode(&t->u.v1, &none, copy, sizeof(copy));
	return n < 0 ? n : 0;
}

static int recv_inner(struct cr_transport *t, struct cr_msg *msg,
		      const uint8_t *in, size_t in_len)
{
	const uint8_t *prefix;
	int n, m;

	if (t->kind == CR_TRANSPORT_V1)
		return cr_v1_decode(&t->u.v1, msg, in, in_len);
	if (!t->kind) {
		memset(msg, 0, sizeof(*msg));
		return CR_E_V2_STATE;
	}
	n = cr_v2_recv(&t->u.v2, msg, in, in_len);
	if (n < 0)
		return n;
	if (t->kind == CR_TRANSPORT_DETECTING) {
		if (cr_v2_became_v1(&t->u.v2, &prefix)) {
			m = become_v1(t, prefix);
			if (m < 0)
				return m;
			m = cr_v1_decode(&t->u.v1, msg, in + n, in_len - (size_t)n);
			return m < 0 ? m : n + m;
		}
		if (!cr_v2_detecting(&t->u.v2))
			t->kind = CR_TRANSPORT_V2; /* decided: V2 */
	}
	return n;
}

int cr_transport_recv(struct cr_transport *t, struct cr_msg *msg,
		      const uint8_t *in, size_t in_len)
{
	int r = recv_inner(t, msg, in, in_len);

	note_wire_len(t, msg, r);
	return r;
}

uint8_t *cr_transport_recv_direct(struct cr_transport *t, size_t *want)
{
	*want = 0;
	if (t->kind == CR_TRANSPORT_V1)
		return cr_v1_decode_direct(&t->u.v1, want);
	if (t->kind == CR_TRANSPORT_V2)
		return cr_v2_recv_direct(&t->u.v2, want);
	return NULL;
}

int cr_transport_recv_commit(struct cr_transport *t, struct cr_msg *msg, size_t n)
{
	int r;

	if (t->kind == CR_TRANSPORT_V1)
		r = cr_v1_decode_commit(&t->u.v1, msg, n);
	else if (t->kind == CR_TRANSPORT_V2)
		r = cr_v2_recv_commit(&t->u.v2, msg, n);
	else {
		memset(msg, 0, sizeof(*msg));
		return CR_E_V2_STATE;
	}
	note_wire_len(t, msg, r);
	return r;
}

int cr_transport_eof(struct cr_transport *t)
{
	return t->kind == CR_TRANSPORT_V2 ? cr_v2_eof(&t->u.v2) : 0;
}

size_t cr_transport_pending(struct cr_transport *t, const uint8_t **out)
{
	if (t->kind == CR_TRANSPORT_V2 || t->kind == CR_TRANSPORT_DETECTING)
		return cr_v2_pending(&t->u.v2, out);
	*out = NULL;
	return 0;
}

void cr_transport_pending_sent(struct cr_transport *t, size_t n)
{
	if (t->kind == CR_TRANSPORT_V2 || t->kind == CR_TRANSPORT_DETECTING)
		cr_v2_pending_sent(&t->u.v2, n);
}

size_t cr_transport_frame_size(const struct cr_transport *t, const char *cmd, size_t len)
{
	if (t->kind == CR_TRANSPORT_V1)
		return CR_V1_HEADER_SIZE;
	return cr_v2_frame_size(cmd, len);
}

int cr_transport_frame(struct cr_transport *t, uint8_t *out, size_t out_cap,
		       const char *cmd, const uint8_t *payload, size_t len,
		       bool *payload_follows)
{
	*payload_follows = false;
	if (t->kind == CR_TRANSPORT_V1) {
		char field[CR_COMMAND_MAX] = {0};
		size_t n = strnlen(cmd, CR_COMMAND_MAX + 1);
		if (n == 0 || n > CR_COMMAND_MAX)
			return CR_E_V1_COMMAND;
		memcpy(field, cmd, n);
		if (!cr_v1_command_valid(field))
			return CR_E_V1_COMMAND;
		if (len > CR_V1_MAX_PAYLOAD)
			return CR_E_TOOLARGE;
		if (out_cap < CR_V1_HEADER_SIZE)
			return CR_E_OVERFLOW;
		cr_v1_encode_header(out, t->chain->magic, cmd, payload, (uint32_t)len);
		*payload_follows = true;
		return CR_V1_HEADER_SIZE;
	}
	if (t->kind != CR_TRANSPORT_V2)
		return CR_E_V2_STATE;
	return cr_v2_frame(&t->u.v2, out, out_cap, cmd, payload, len);
}

int cr_transport_frame_decoy(struct cr_transport *t, uint8_t *out, size_t out_cap, size_t len)
{
	if (t->kind != CR_TRANSPORT_V2)
		return CR_E_V2_STATE;
	return cr_v2_frame_decoy(&t->u.v2, out, out_cap, len);
}

size_t cr_transport_last_wire_len(const struct cr_transport *t)
{
	return t->last_wire_len;
}
