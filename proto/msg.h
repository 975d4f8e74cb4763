/* Codecs for the messages a connection layer handles itself.
 *
 * version, verack, ping, pong, addr, addrv2 (BIP155), getaddr, sendaddrv2,
 * wtxidrelay, sendheaders, feefilter and sendcmpct. Every other command is
 * passed through by the engine as an opaque payload (cr_msg_type() returns
 * CR_MSG_OTHER for it).
 *
 * Decoders: int cr_msg_<name>_decode(struct ... *out, const uint8_t *p,
 * size_t len) return 0 or a negative CR_E_*; on failure *out is zeroed.
 * Every length and count read from the wire is checked before it is used.
 * Only version tolerates bytes after its last field (Core ignores them, and
 * it is the message later versions extend); every other decoder refuses
 * them with CR_E_MSG_TRAILING.
 * Encoders: int cr_msg_<name>_encode(uint8_t *out, size_t cap, const struct
 * ... *in) return the payload length written or a negative CR_E_*
 * (CR_E_OVERFLOW when cap is too small; nothing useful is left in out then).
 *
 * Pure functions over caller memory: any thread. */
#ifndef CR_PROTO_MSG_H
#define CR_PROTO_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/netaddr.h"

#define CR_MSG_UA_MAX 256          /* Core's MAX_SUBVERSION_LENGTH */
#define CR_MSG_ADDR_MAX 1000       /* Core's MAX_ADDR_TO_SEND, BIP155 */
#define CR_MSG_ADDRV2_LEN_MAX 512  /* BIP155: longest addr field of any network */
#define CR_MSG_MIN_PEER_VERSION 31800 /* Core disconnects versions below this */
#define CR_PROTOCOL_VERSION 70016     /* Core's PROTOCOL_VERSION: what we announce */
#define CR_WTXID_RELAY_VERSION 70016  /* BIP339: wtxidrelay to peers of this version and up */
#define CR_MAX_MONEY 2100000000000000LL /* satoshis; feefilter outside 0..this is ignored by Core */

/* Largest payloads the encoders can produce, for sizing buffers. */
#define CR_MSG_VERSION_SIZE_MAX (4 + 8 + 8 + 26 + 26 + 8 + 3 + CR_MSG_UA_MAX + 4 + 1)
#define CR_MSG_ADDR_ENTRY_SIZE 30  /* time, services, 16-byte ip, port */
#define CR_MSG_ADDR_SIZE_MAX (3 + CR_MSG_ADDR_MAX * CR_MSG_ADDR_ENTRY_SIZE)
/* time, CompactSize services (<= 9), net, CompactSize len (1), addr, port */
#define CR_MSG_ADDRV2_ENTRY_SIZE_MAX (4 + 9 + 1 + 1 + CR_NETADDR_MAX + 2)
#define CR_MSG_ADDRV2_SIZE_MAX (3 + CR_MSG_ADDR_MAX * CR_MSG_ADDRV2_ENTRY_SIZE_MAX)

enum cr_msg_type {
	CR_MSG_OTHER = 0, /* any command without a codec here: opaque */
	CR_MSG_VERSION,
	CR_MSG_VERACK,
	CR_MSG_PING,
	CR_MSG_PONG,
	CR_MSG_ADDR,
	CR_MSG_ADDRV2,
	CR_MSG_GETADDR,
	CR_MSG_SENDADDRV2,
	CR_MSG_WTXIDRELAY,
	CR_MSG_SENDHEADERS,
	CR_MSG_FEEFILTER,
	CR_MSG_SENDCMPCT,
	CR_MSG_TYPE_COUNT,
};

/* The type of a NUL-terminated command; CR_MSG_OTHER when it has no codec. */
enum cr_msg_type cr_msg_type(const char *command);
/* The command of a type ("version", ...); "" for CR_MSG_OTHER or out of range. */
const char *cr_msg_command(enum cr_msg_type type);

/* An address as the version message carries it (no time field). */
struct cr_version_addr {
	uint64_t services;
	uint8_t ip[16];  /* IPv6, or IPv4-mapped ::ffff:a.b.c.d */
	uint16_t port;   /* host byte order (big-endian on the wire) */
};

/* version. Core reads everything after addr_recv as optional, in order;
 * `omitted` says how many trailing groups were absent:
 *   0 all present (what every current node sends)
 *   1 no relay flag (relay reads as true, BIP37's default)
 *   2 ... nor start_height (0)
 *   3 ... nor user agent ("")
 *   4 ... nor addr_from and nonce (zero)
 * The encoder writes the same groups, so a zeroed struct encodes in full. */
struct cr_version {
	int32_t version;
	uint64_t services;
	int64_t timestamp;
	struct cr_version_addr addr_recv;
	struct cr_version_addr addr_from;
	uint64_t nonce;
	uint16_t user_agent_len;                /* <= CR_MSG_UA_MAX */
	char user_agent[CR_MSG_UA_MAX + 1];     /* raw bytes as sent, NUL-terminated (may hold NULs) */
	int32_t start_height;
	bool relay;      /* decoded as Core does: any non-zero byte is true */
	uint8_t omitted; /* 0..4, see above */
};
/* CR_E_SHORT when a field is cut; CR_E_MSG_UA for a user agent above 256
 * bytes; CR_E_NONCANONICAL/CR_E_TOOLARGE for its length prefix. */
int cr_msg_version_decode(struct cr_version *out, const uint8_t *p, size_t len);
/* CR_E_MSG_UA when user_agent_len > 256; CR_E_INVAL when omitted > 4. */
int cr_msg_version_encode(uint8_t *out, size_t cap, const struct cr_version *in);

/* ping and pong (BIP31): one 64-bit nonce. */
struct cr_ping {
	uint64_t nonce;
};
int cr_msg_ping_decode(struct cr_ping *out, const uint8_t *p, size_t len);
int cr_msg_ping_encode(uint8_t *out, size_t cap, const struct cr_ping *in);
int cr_msg_pong_decode(struct cr_ping *out, const uint8_t *p, size_t len);
int cr_msg_pong_encode(uint8_t *out, size_t cap, const struct cr_ping *in);

/* feefilter (BIP133): minimum fee rate in satoshis per kvB, as sent. Core
 * ignores a value outside 0..CR_MAX_MONEY; so should the caller. */
struct cr_feefilter {
	int64_t feerate;
};
int cr_msg_feefilter_decode(struct cr_feefilter *out, const uint8_t *p, size_t len);
int cr_msg_feefilter_encode(uint8_t *out, size_t cap, const struct cr_feefilter *in);

/* sendcmpct (BIP152): high-bandwidth mode and compact block version. */
struct cr_sendcmpct {
	bool announce; /* any non-zero byte is true, as in Core */
	uint64_t version;
};
int cr_msg_sendcmpct_decode(struct cr_sendcmpct *out, const uint8_t *p, size_t len);
int cr_msg_sendcmpct_encode(uint8_t *out, size_t cap, const struct cr_sendcmpct *in);

/* Messages with an empty payload: verack, getaddr, sendaddrv2, wtxidrelay,
 * sendheaders. Decode: 0, or CR_E_MSG_TRAILING for a non-empty payload.
 * Encode: returns 0 (the payload length). */
int cr_msg_empty_decode(const uint8_t *p, size_t len);
int cr_msg_empty_encode(uint8_t *out, size_t cap);
static inline int cr_msg_verack_decode(const uint8_t *p, size_t len) { return cr_msg_empty_decode(p, len); }
static inline int cr_msg_getaddr_decode(const uint8_t *p, size_t len) { return cr_msg_empty_decode(p, len); }
static inline int cr_msg_sendaddrv2_decode(const uint8_t *p, size_t len) { return cr_msg_empty_decode(p, len); }
static inline int cr_msg_wtxidrelay_decode(const uint8_t *p, size_t len) { return cr_msg_empty_decode(p, len); }
static inline int cr_msg_sendheaders_decode(const uint8_t *p, size_t len) { return cr_msg_empty_decode(p, len); }

/* addr and addrv2 decode into a caller array. Set `entries` and `cap`
 * (CR_MSG_ADDR_MAX entries always suffice); the decoder sets `count` and
 * `skipped`. */
struct cr_addr_list {
	struct cr_peeraddr *entries;
	size_t cap;
	size_t count;   /* entries filled */
	size_t skipped; /* entries on the wire that were ignored (see below) */
};

/* addr: CompactSize count <= 1000 (else CR_E_MSG_COUNT), then entries of
 * time, u64 services, 16-byte IPv6, big-endian port. IPv4-mapped addresses
 * become CR_NET_IPV4; OnionCat (Tor v2) and Core's internal range are
 * skipped, as Core makes them invalid. CR_E_OVERFLOW when more entries than
 * cap. On failure count = skipped = 0 and the entries written are zeroed. */
int cr_msg_addr_decode(struct cr_addr_list *out, const uint8_t *p, size_t len);
/* Only IPv4 and IPv6 fit in addr: CR_E_MSG_ADDR for any other network, a
 * length that does not match, or an IPv6 address in a range the decoder
 * skips; CR_E_MSG_COUNT above 1000 entries. */
int cr_msg_addr_encode(uint8_t *out, size_t cap, const struct cr_addr_list *in);

/* addrv2 (BIP155): count <= 1000 (else CR_E_MSG_COUNT), entries of time,
 * CompactSize services, network id, CompactSize length <= 512 (else
 * CR_E_TOOLARGE), address, big-endian port. A known network with the wrong
 * length fails the message (CR_E_MSG_ADDR). Skipped, not fatal: unknown
 * network ids, Tor v2 (BIP155: ignore on receive), and IPv6 addresses in
 * ranges that embed another network (IPv4-mapped, OnionCat, Core's
 * internal range). */
int cr_msg_addrv2_decode(struct cr_addr_list *out, const uint8_t *p, size_t len);
/* CR_E_MSG_ADDR for a wrong length or any entry the decoder would skip
 * (unknown network, Tor v2, IPv6 embedding another network, CJDNS outside
 * fc00::/8); CR_E_MSG_COUNT above 1000 entries. */
int cr_msg_addrv2_encode(uint8_t *out, size_t cap, const struct cr_addr_list *in);

#endif
