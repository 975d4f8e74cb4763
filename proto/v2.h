/* The BIP324 V2 session state machine, both roles, sans-IO.
 *
 * Initiator: sends its 64-byte ElligatorSwift key and garbage at once; once
 * the responder's key has arrived it derives the keys and queues its garbage
 * terminator and version packet. Responder: says nothing until the first
 * received bytes stop matching magic || "version\0\0\0\0\0" (as Bitcoin
 * Core's V2Transport); if all 16 match, the peer speaks V1 and the session
 * reports CR_V2_BECAME_V1 so the caller can hand those bytes to a V1
 * decoder. Both then skip up to 4095 bytes of garbage until the peer's
 * terminator, authenticate that garbage as the AAD of the first packet,
 * drop decoys, take the version packet and after it yield application
 * messages (1-byte short ids from the BIP324 table, or 0x00 + 12 bytes).
 *
 * Handshake buffers (our key, garbage and version packet, sized to our
 * garbage; the peer's garbage, grown as it arrives) are freed when the
 * handshake is over; a received packet is decrypted into a per-session
 * buffer sized to the packets seen (32 bytes for pings) and reused for the
 * next one (kept up to CR_V2_KEEP_BUFFER bytes). A session is caller
 * memory used by one thread at a time (the peer's worker). Most callers use
 * it through proto/transport.h. */
#ifndef CR_PROTO_V2_H
#define CR_PROTO_V2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/bip324.h"
#include "proto/chain.h"
#include "proto/ellswift.h"
#include "proto/transport.h"
#include "proto/v1.h"

/* BIP324: garbage terminator must appear within this many received bytes. */
#define CR_V2_GARBAGE_SEARCH (CR_V2_GARBAGE_MAX + CR_BIP324_TERM_LEN)
/* Largest contents accepted (Core's MAX_CONTENTS_LEN): 0x00 + 12-byte
 * command + a V1-sized payload. Larger lengths end the session. */
#define CR_V2_MAX_CONTENTS (1 + CR_COMMAND_MAX + CR_V1_MAX_PAYLOAD)
/* A receive buffer up to this size is kept for the next packet. */
#define CR_V2_KEEP_BUFFER 65536
/* The V1 prefix a responder looks for: magic || "version" || 5 NULs. */
#define CR_V2_V1_PREFIX_LEN 16

/* BIP324 short message ids 1..28 (the BIP's table). */
#define CR_V2_SHORTID_MAX 28
/* The command for short id 1..CR_V2_SHORTID_MAX, else NULL. */
const char *cr_v2_shortid_command(unsigned id);
/* The short id of a command, or 0 when it has none. */
unsigned cr_v2_command_shortid(const char *cmd);

struct cr_v2_hs; /* handshake buffers, private to v2.c */

struct cr_v2 {
	const struct cr_chain *chain;
	const struct cr_secp *secp;
	struct cr_v2_hs *hs;
	uint8_t *buf;         /* ciphertext, then header || contents */
	int err;              /* sticky fatal error, or 0 */
	/* packet being received */
	uint32_t contents_len;
	uint32_t buf_cap;
	uint32_t buf_have;    /* ciphertext bytes of the packet collected */
	uint8_t len_buf[CR_BIP324_LENGTH_LEN];
	uint8_t len_have;     /* 0..3; 3 = contents_len is known */
	bool initiator;
	uint8_t state;        /* enum in v2.c */
	bool keys;            /* cipher holds derived keys */
	bool aad_pending;     /* next packet authenticates the peer's garbage */
	bool release;         /* buf served the last message and is too big to keep */
	bool got_bytes;       /* any byte received (for the V1 fallback rule) */
	uint32_t max_contents; /* packets above this are fatal (cr_v2_set_limit) */
	/* Packed so that a transport (proto/transport.h) stays within 512
	 * bytes, one peer slot: the cipher holds four keys inline instead of
	 * four libcrypto contexts on the heap. */
	struct cr_bip324 cipher;
};

/* Starts a session. rnd->garbage_len above CR_V2_GARBAGE_MAX is CR_E_INVAL;
 * an invalid secret key is CR_E_V2_KEY (from here for an initiator, from
 * cr_v2_recv once a responder decides for V2). Returns 0 or a negative
 * CR_E_* (s is then cleared). chain and secp must outlive s. */
int cr_v2_init(struct cr_v2 *s, const struct cr_chain *chain, const struct cr_secp *secp,
	       bool initiator, const struct cr_v2_entropy *rnd);
/* Wipes every key and frees every buffer; s may be initialised again. */
void cr_v2_clear(struct cr_v2 *s);
/* Frees the receive buffer if no partial packet is held in it (for idle
 * peers). Invalidates the last message's payload view. */
void cr_v2_trim(struct cr_v2 *s);

/* Feeds received bytes: returns bytes consumed (>= 0) or a negative CR_E_*
 * that ends the session (every later call returns it again). Stops right
 * after a completed application message (*msg filled, command[0] != '\0';
 * payload valid until the next call on s) and right after a responder
 * recognised a V1 peer (cr_v2_became_v1() then true). A message Core would
 * drop (unknown short id, malformed command, empty contents) is yielded
 * with msg->reject set and a printable stand-in command. */
int cr_v2_recv(struct cr_v2 *s, struct cr_msg *msg, const uint8_t *in, size_t in_len);
/* Mid-packet (its length decrypted): where the next ciphertext bytes go
 * and how many fit there now (at most what the packet still needs), so the
 * caller can receive a large packet straight into the session's buffer;
 * NULL and *want = 0 otherwise. The buffer grows by doubling as bytes
 * arrive, as on cr_v2_recv's path: once the room is used up the next call
 * doubles it. The pointer is valid until the next call on s. */
uint8_t *cr_v2_recv_direct(struct cr_v2 *s, size_t *want);
/* Packets whose contents carry more than a message of max_payload bytes
 * (1 + 12 + max_payload: a message with a short id may have up to 12
 * payload bytes more) are fatal (CR_E_V2_LENGTH); 0 or above
 * CR_V1_MAX_PAYLOAD restores the protocol's limit. For the handshake, when
 * a peer may only send what a version exchange needs. Applies from the
 * next packet length. */
void cr_v2_set_limit(struct cr_v2 *s, uint32_t max_payload);
/* Receive buffer bytes allocated (the packet buffer's capacity). */
size_t cr_v2_buffer_bytes(const struct cr_v2 *s);
/* The whole size (length, header, contents, tag) of the packet being
 * received once its length is known, else 0. */
size_t cr_v2_declared(const struct cr_v2 *s);
/* The caller wrote n (<= want) bytes there. Same return and *msg as
 * cr_v2_recv (CR_E_V2_STATE when no direct receive was possible). */
int cr_v2_recv_commit(struct cr_v2 *s, struct cr_msg *msg, size_t n);
/* True once a responder saw magic || "version\0\0\0\0\0": the 16 bytes it
 * consumed are in prefix (CR_V2_V1_PREFIX_LEN) and nothing was sent. */
bool cr_v2_became_v1(const struct cr_v2 *s, const uint8_t **prefix);
/* True while a responder has not yet decided between V1 and V2. */
bool cr_v2_detecting(const struct cr_v2 *s);
/* The peer closed: CR_E_V2_V1FALLBACK when we initiated and never received
 * a byte (Core's ShouldReconnectV1: a V1 responder answers our key by
 * closing without a word), else 0. */
int cr_v2_eof(const struct cr_v2 *s);

/* Handshake bytes to send (key, garbage, terminator, version packet). */
size_t cr_v2_pending(struct cr_v2 *s, const uint8_t **out);
void cr_v2_pending_sent(struct cr_v2 *s, size_t n);

/* True once keys are derived and our version packet is queued: application
 * packets may be framed (send them after every pending byte). */
bool cr_v2_ready(const struct cr_v2 *s);
const uint8_t *cr_v2_session_id(const struct cr_v2 *s);

/* Bytes cr_v2_frame() writes for cmd and len payload bytes. */
size_t cr_v2_frame_size(const char *cmd, size_t len);
/* Encrypts one application message into out. Returns bytes written or
 * CR_E_V2_STATE (not ready), CR_E_V1_COMMAND (cmd empty, longer than 12 or
 * not printable), CR_E_TOOLARGE (len above CR_V1_MAX_PAYLOAD),
 * CR_E_OVERFLOW (out_cap too small). */
int cr_v2_frame(struct cr_v2 *s, uint8_t *out, size_t out_cap, const char *cmd,
		const uint8_t *payload, size_t len);
/* Encrypts a decoy packet (ignore bit) of len zero bytes of contents. */
int cr_v2_frame_decoy(struct cr_v2 *s, uint8_t *out, size_t out_cap, size_t len);

#endif
