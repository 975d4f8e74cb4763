/* Bitcoin's V1 message framing, sans-IO: a streaming decoder and an in-place
 * encoder.
 *
 * A V1 message is a 24-byte header (4 magic bytes, a 12-byte NUL-padded
 * command, a little-endian payload length, the first 4 bytes of
 * SHA256d(payload)) followed by the payload. Failures are split as Bitcoin
 * Core splits them (net.cpp, V1Transport): a wrong magic or a length above
 * the limit disconnects the peer (the decoder returns a negative CR_E_*); a
 * bad checksum or an invalid command drops that one message (it is yielded
 * with msg->reject set) and the stream goes on.
 *
 * The decoder is fed chunks of any size; one byte at a time yields the same
 * messages as one big buffer. A payload that lies wholly inside one input is
 * handed out as a view into it; only a message split across inputs is copied
 * into a reassembly buffer owned by the decoder, grown no further than the
 * declared length, reused for the next split message and released by
 * cr_v1_decoder_trim() or cr_v1_decoder_clear().
 *
 * A decoder is plain caller memory used by one thread at a time (the peer's
 * worker); the encoder functions are pure and any thread may call them. */
#ifndef CR_PROTO_V1_H
#define CR_PROTO_V1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CR_V1_HEADER_SIZE 24
#define CR_V1_MAX_PAYLOAD 4000000 /* Core's MAX_PROTOCOL_MESSAGE_LENGTH */
#define CR_COMMAND_MAX 12

/* A reassembly buffer up to this size is kept for the next split message;
 * a larger one is released once its message has been handed out. Small,
 * because it is per peer: 100,000 peers each keeping one cost 1.6 GB, which
 * is why an engine should also call cr_v1_decoder_trim() on idle peers.
 * Above it a malloc per split message is cheap next to hashing 16 KiB. */
#define CR_V1_KEEP_BUFFER 16384

/* One decoded message. */
struct cr_msg {
	char command[CR_COMMAND_MAX + 1]; /* NUL-terminated; "" when no message */
	const uint8_t *payload;           /* view: valid until the next call on the decoder */
	uint32_t len;
	int reject; /* 0, or the CR_E_* reason Core would drop this message for (bad checksum, bad command): dropped, not disconnected */
};

/* Streaming decoder state. Public so callers can embed it; treat the fields
 * as private. */
struct cr_v1_decoder {
	uint8_t magic[4];
	uint32_t max_payload; /* declared lengths above this disconnect */
	int err;              /* sticky: first fatal error, or 0 */
	uint32_t hdr_have;    /* header bytes collected in hdr */
	uint32_t len;         /* declared payload length, once hdr is complete */
	uint32_t have;        /* payload bytes collected in buf */
	uint8_t hdr[CR_V1_HEADER_SIZE];
	uint8_t *buf;         /* reassembly buffer (NULL when none) */
	uint32_t buf_cap;
	bool release;         /* buf served the last message and is too big to keep */
};

/* Prepares d for the chain whose magic is given. max_payload 0 or above
 * CR_V1_MAX_PAYLOAD means CR_V1_MAX_PAYLOAD. Allocates nothing. */
void cr_v1_decoder_init(struct cr_v1_decoder *d, const uint8_t magic[4], uint32_t max_payload);
/* Frees the reassembly buffer; d may be initialised again afterwards. */
void cr_v1_decoder_clear(struct cr_v1_decoder *d); /* frees the reassembly buffer */
/* Frees the reassembly buffer if no partial message is held in it (call it
 * when a peer goes idle: an idle peer then holds no receive memory).
 * Invalidates the last message's payload view. */
void cr_v1_decoder_trim(struct cr_v1_decoder *d);
/* Bytes of a partial message currently held (header and payload). */
size_t cr_v1_decoder_pending(const struct cr_v1_decoder *d);

/* Returns bytes consumed (>= 0) or a negative CR_E_* meaning disconnect (bad magic, oversize).
 * Stops right after a completed message and fills *msg (command[0] != '\0'); otherwise msg->command[0] == '\0'.
 * A payload wholly inside `in` is a view into `in` (no copy); only a message split across inputs is
 * reassembled, in memory bounded by its declared length.
 * A rejected message (msg->reject != 0) still has its payload; its command
 * is the header's with each non-printable byte shown as '?' (never "").
 * After a negative return every later call returns the same error. */
int cr_v1_decode(struct cr_v1_decoder *d, struct cr_msg *msg, const uint8_t *in, size_t in_len);
/* Lowers or restores the declared-length limit (0 or above
 * CR_V1_MAX_PAYLOAD: CR_V1_MAX_PAYLOAD), e.g. to what a version message
 * needs until a peer's handshake is done. Applies to headers not yet
 * complete. */
void cr_v1_decoder_set_limit(struct cr_v1_decoder *d, uint32_t max_payload);
/* Bytes the reassembly buffer holds allocated (its capacity). */
size_t cr_v1_decoder_buffer_bytes(const struct cr_v1_decoder *d);
/* The whole size (header + declared payload) of the message being
 * received once its header is in, else 0. */
size_t cr_v1_decoder_declared(const struct cr_v1_decoder *d);

/* Mid-payload: where the next payload bytes go and how many fit there now, so the engine can
 * receive a large payload straight into its final buffer; NULL when not mid-payload. The buffer
 * grows by doubling as bytes arrive (never past the declared length): when the room is used up,
 * the next call doubles it, so a peer that declares 4 MB and trickles holds about twice what it
 * sent, on this path as on cr_v1_decode's. *want <= the bytes the payload still needs. NULL with
 * *want = 0 also when growing fails. */
uint8_t *cr_v1_decode_direct(struct cr_v1_decoder *d, size_t *want);
/* After the caller wrote n (<= want) bytes at the cr_v1_decode_direct pointer. Same return/msg as cr_v1_decode. */
int cr_v1_decode_commit(struct cr_v1_decoder *d, struct cr_msg *msg, size_t n);

/* Header for a payload placed elsewhere (zero-copy send: header then payload).
 * cmd must satisfy cr_v1_command_valid() after NUL padding (asserted). */
void cr_v1_encode_header(uint8_t hdr[CR_V1_HEADER_SIZE], const uint8_t magic[4], const char *cmd, const uint8_t *payload, uint32_t len);
/* Header written in place in front of a payload the caller already put at buf + 24. Returns 24 + payload_len or CR_E_*.
 * CR_E_V1_COMMAND for a command that is empty, longer than 12 bytes or not
 * printable ASCII; CR_E_V1_LENGTH above CR_V1_MAX_PAYLOAD; CR_E_OVERFLOW when
 * buf_cap < 24 + payload_len. */
int cr_v1_encode(uint8_t *buf, size_t buf_cap, const uint8_t magic[4], const char *cmd, uint32_t payload_len);
/* printable ASCII then only NUL padding. Stricter than Core in one point:
 * an all-NUL command (which Core would accept and then ignore as unknown) is
 * invalid here, so a yielded message never has an empty command. */
bool cr_v1_command_valid(const char cmd[CR_COMMAND_MAX]);

#endif
