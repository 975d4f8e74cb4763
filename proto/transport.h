/* One transport interface over V1 and BIP324 V2, so the engine never cares
 * which one a peer speaks.
 *
 * Sans-IO: bytes in, messages out; messages in, bytes to send out. All
 * randomness (keys, ellswift encoding, garbage) is passed in by the caller.
 * A transport lives in caller memory (cr_transport_size() bytes, e.g. a peer
 * slab) and is used by one thread at a time (the peer's worker). */
#ifndef CR_PROTO_TRANSPORT_H
#define CR_PROTO_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/chain.h"
#include "proto/ellswift.h"
#include "proto/v1.h"

#define CR_V2_GARBAGE_MAX 4095

/* The caller's fresh randomness for one V2 session. */
struct cr_v2_entropy {
	uint8_t seckey[32];     /* our ephemeral secret key */
	uint8_t ell_rnd[32];    /* randomness for the ellswift encoding */
	uint16_t garbage_len;   /* 0 .. CR_V2_GARBAGE_MAX */
	uint8_t garbage[CR_V2_GARBAGE_MAX];
};

enum cr_transport_kind {
	CR_TRANSPORT_V1 = 1,
	CR_TRANSPORT_V2 = 2,
	CR_TRANSPORT_DETECTING = 3, /* V2 responder that has not yet seen 16 bytes */
};

struct cr_transport;
size_t cr_transport_size(void);

/* V1 from the start (outbound V1, or inbound with V2 disabled). */
int cr_transport_init_v1(struct cr_transport *t, const struct cr_chain *chain);
/* V2 initiator, or V2 responder that detects and falls back to V1 when the
 * first bytes are chain magic || "version\0\0\0\0\0". secp must outlive t. */
int cr_transport_init_v2(struct cr_transport *t, const struct cr_chain *chain,
			 const struct cr_secp *secp, bool initiator,
			 const struct cr_v2_entropy *rnd);
/* Wipes keys and frees any buffers; t may be initialised again afterwards. */
void cr_transport_clear(struct cr_transport *t);
/* Frees the receive buffer when no partial message is held (call it when
 * the peer goes idle). Invalidates the last message's payload view. */
void cr_transport_trim(struct cr_transport *t);

enum cr_transport_kind cr_transport_kind(const struct cr_transport *t);
/* The 32-byte BIP324 session id once keys are derived, else NULL. */
const uint8_t *cr_transport_session_id(const struct cr_transport *t);
/* True once application messages may be framed (V1: always; V2: after the
 * peer's key arrived and keys were derived). */
bool cr_transport_ready(const struct cr_transport *t);

/* Feeds received bytes. Returns bytes consumed (>= 0) or a negative CR_E_*
 * that ends the session. When a message completes, *msg is set
 * (msg->command[0] != '\0') and consumption stops right after it; the
 * payload view stays valid until the next call on t. A message V1 drops
 * (bad checksum or command, as Core) has msg->reject set to its reason. */
int cr_transport_recv(struct cr_transport *t, struct cr_msg *msg,
		      const uint8_t *in, size_t in_len);

/* Direct receive, V1 and V2. Mid-message (V1: header parsed; V2: packet
 * length decrypted): returns where the next bytes of the current message
 * go and sets *want to how many fit there now (V1: payload; V2: ciphertext
 * and tag, into the session's packet buffer), so the engine can receive a
 * large message straight into place instead of copying it out of shared
 * receive buffers. The buffer grows by doubling as the bytes arrive, never
 * to the declared length at once: a peer that declares 4 MB and sends 100
 * bytes costs about 4 KiB, not 4 MB. NULL with *want = 0 when not
 * mid-message (or when growing failed). Valid until the next call on t. */
uint8_t *cr_transport_recv_direct(struct cr_transport *t, size_t *want);
/* After the caller wrote n (<= want) bytes at that pointer. Returns n or a
 * negative CR_E_*, and fills *msg as cr_transport_recv() does. */
int cr_transport_recv_commit(struct cr_transport *t, struct cr_msg *msg, size_t n);

/* Limits the payload of any message the peer may send from now on (0 or
 * above 4,000,000: the protocol's 4,000,000), e.g. to what a version
 * exchange needs until the handshake is done; a larger declared length is
 * a fatal CR_E_V1_LENGTH / CR_E_V2_LENGTH. A V2 responder that turns V1
 * keeps it. Default: 4,000,000. */
void cr_transport_set_limit(struct cr_transport *t, uint32_t max_payload);
/* Receive buffer bytes the transport holds allocated now (reassembly or
 * packet buffer; not the V2 handshake's, which is bounded by BIP324's
 * garbage limit). */
size_t cr_transport_buffer_bytes(const struct cr_transport *t);
/* The wire size of the message being received once its length is known
 * (V1 header + payload, V2 whole packet), else 0. */
size_t cr_transport_partial_bytes(const struct cr_transport *t);

/* Tells the transport the peer closed the connection. Returns
 * CR_E_V2_V1FALLBACK when an initiator never got the peer's key (the caller
 * may reconnect with V1), else 0. */
int cr_transport_eof(struct cr_transport *t);

/* Bytes the transport itself must send (V2 key, garbage, terminator,
 * version packet). Returns their length (0 when none) and a view in *out;
 * call cr_transport_pending_sent() with the count actually sent. They go on
 * the wire before anything cr_transport_frame() produced: check for them
 * after every cr_transport_recv() and before sending framed bytes. */
size_t cr_transport_pending(struct cr_transport *t, const uint8_t **out);
void cr_transport_pending_sent(struct cr_transport *t, size_t n);

/* Room cr_transport_frame() needs for a message of len payload bytes. */
size_t cr_transport_frame_size(const struct cr_transport *t, const char *cmd, size_t len);
/* Frames one message into out. V1 writes only the 24-byte header and sets
 * *payload_follows: the caller sends the payload bytes unchanged after it
 * (no copy). V2 writes the whole encrypted packet and clears it. Returns the
 * bytes written or a negative CR_E_*. Requires cr_transport_ready(). */
int cr_transport_frame(struct cr_transport *t, uint8_t *out, size_t out_cap,
		       const char *cmd, const uint8_t *payload, size_t len,
		       bool *payload_follows);
/* V2 only: frames a decoy packet (ignore bit set) of len content bytes. */
int cr_transport_frame_decoy(struct cr_transport *t, uint8_t *out, size_t out_cap, size_t len);

/* The on-the-wire bytes of the message the last cr_transport_recv() or
 * cr_transport_recv_commit() yielded: V1 24 + payload; V2 3 length bytes,
 * header byte, message type as sent (1 or 13 bytes), payload and 16-byte
 * tag. 0 before the first message. Unchanged by calls that yield none. */
size_t cr_transport_last_wire_len(const struct cr_transport *t);

#endif
