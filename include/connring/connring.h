/* connring: the public interface of the io_uring Bitcoin P2P connection
 * engine, for embedders (connringd is one). Include it as
 * <connring/connring.h>; it includes nothing of the library's sources.
 *
 * An engine runs one worker thread per core (each with its own io_uring and
 * its own shard of peers) and one coordinator thread. The engine performs the
 * version/verack handshake and answers pings itself; the application sees a
 * peer once it is ready, every later message of that peer, and its close.
 *
 * Threads. Callbacks run on the peer's worker thread, in order per peer
 * (ready, then messages, then closed), and must not block: a callback may
 * call cr_send, cr_send_buf, cr_broadcast, cr_disconnect, cr_recv_done,
 * cr_peer_writable and cr_peer_info for a peer of the same worker (the
 * latter is answered at once); every other function of this header may be
 * called from any thread that is not an engine thread, and the functions
 * marked "any thread" from anywhere. Peer ids are plain numbers that may
 * outlive their peer: a stale id is rejected (-ESTALE), never misrouted.
 *
 * Errors. A function that can fail returns 0 (or a count) on success and a
 * negative value on failure: -errno (-EINVAL, -ENOMEM, -ESTALE, ...) or one
 * of the CR_E_* codes below. cr_strerror() gives a text for every one of
 * them, and for the protocol and address layers' codes (-1000 .. -1599)
 * that appear in the texts of on_peer_closed. Each function lists what it
 * returns, and returns the same whatever thread calls it.
 *
 * ABI. struct cr_config and struct cr_engine are opaque: options are set
 * through functions, so new options never change a layout. The structs the
 * engine fills (cr_peer_info, cr_totals) only ever grow at their end, and
 * the calls that fill them take the caller's sizeof.
 *
 * Reference. Each function says what it does, then (after libsecp256k1)
 *   Returns: what it returns, every error code it can give;
 *   Args:    handles and arguments that are neither plain input nor output;
 *   Out:     what it writes, and its state on failure;
 *   In:      the input values, their ranges;
 *   Threads: which threads may call it.
 * Pointer arguments must not be NULL unless the text says otherwise.
 * Man pages: connring(3), cr_config_new(3), cr_engine_new(3),
 * cr_connect(3), cr_send(3), cr_peer_info(3), cr_strerror(3). */
#ifndef CONNRING_CONNRING_H
#define CONNRING_CONNRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <connring/chain.h>
#include <connring/permissions.h>
#include <connring/version.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Marks what libconnring.so exports; everything else in it is hidden. */
#if defined(__GNUC__)
#define CR_API __attribute__((visibility("default")))
#else
#define CR_API
#endif

/* ---- version and errors --------------------------------------------------- */

/* The version of the library loaded (compare with the CR_VERSION_* macros
 * of the headers compiled against).
 *  Returns: cr_version: CR_VERSION_HEX of the library (0x00MMmmpp);
 *           cr_version_string: its text, e.g. "0.1.0" (static).
 *  Threads: any. */
CR_API unsigned cr_version(void);
CR_API const char *cr_version_string(void);

/* The engine's own error codes. -1000 .. -1599 belong to the protocol and
 * address layers; -1600 .. -1699 to the engine. */
enum {
	CR_E_NOT_READY = -1600,     /* the peer has not finished its handshake */
	CR_E_BAD_ADDRESS = -1601,   /* not a numeric IPv4/IPv6 host[:port] */
	CR_E_CONFIG_RANGE = -1602,  /* a config value outside its documented range */
	CR_E_CONFIG_FULL = -1603,   /* a config list already holds its most entries */
};

/* A readable text for a value a connring function returned.
 *  Returns: a static string, never NULL ("unknown error" for a value that
 *           is no code).
 *  In:      err: a CR_E_* code, a protocol or address layer code
 *           (-1000 .. -1599), or -errno.
 *  Threads: any. */
CR_API const char *cr_strerror(int err);

/* ---- types ---------------------------------------------------------------- */

/* A peer id: worker index (bits 56..63), slot (bits 32..55) and slot
 * generation (bits 0..31, never 0). 0 is never a valid id. */
#define CR_PEER_NONE 0u

#define CR_MSG_STATS_MAX 24    /* per-message-type rows in cr_peer_info */
#define CR_UA_MAX 256          /* BIP14: user agent length limit */
#define CR_DEFAULT_MAX_CONNECTIONS 125

struct cr_engine; /* opaque */
struct cr_config; /* opaque: see "Configuration" */

enum cr_log_level { CR_LOG_ERROR = 0, CR_LOG_WARN = 1, CR_LOG_INFO = 2, CR_LOG_DEBUG = 3 };

/* What a log line is about, as bitcoind's -debug=<category>. Each line has
 * one category (a single bit), so an application can filter with a mask;
 * CR_LOG_GENERAL lines (start, stop, kernel features, failures) have none. */
enum cr_log_category {
	CR_LOG_GENERAL = 0,
	CR_LOG_NET = 1u << 0,     /* peers: connect, disconnect, refused, dropped messages */
	CR_LOG_PROXY = 1u << 1,   /* SOCKS5 proxy */
	CR_LOG_ADDRMAN = 1u << 2, /* address manager */
	CR_LOG_RPC = 1u << 3,     /* control plane */
	CR_LOG_ALL = (1u << 4) - 1,
};

/* Names of log categories, as bitcoind's -debug=<name>.
 *  Returns: cr_log_category_str: "net", ...; "" for CR_LOG_GENERAL, "?"
 *           for a value that is no single category (static strings).
 *           cr_log_category_by_name: the category's bit, CR_LOG_ALL for
 *           "all" or "1", 0 for an unknown name or NULL.
 *  Threads: any. */
CR_API const char *cr_log_category_str(enum cr_log_category cat);
CR_API unsigned cr_log_category_by_name(const char *name);

/* How a peer came to be: Bitcoin Core's connection types, with Core's
 * names (cr_conn_type_str). The scheduler opens full-relay,
 * block-relay-only, feeler and addr-fetch connections by itself; manual
 * ones come from -connect/-addnode and cr_connect. */
enum cr_conn_type {
	CR_CONN_INBOUND = 0,             /* "inbound" */
	CR_CONN_OUTBOUND_FULL_RELAY = 1, /* "outbound-full-relay": blocks, transactions, addresses */
	CR_CONN_MANUAL = 2,              /* "manual": connect=, addnode=, cr_connect */
	CR_CONN_FEELER = 3,              /* "feeler": tests an address, closed after the handshake */
	CR_CONN_BLOCK_RELAY = 4,         /* "block-relay-only": relay=0, no addresses */
	CR_CONN_ADDR_FETCH = 5,          /* "addr-fetch": getaddr, then closed */
};
#define CR_CONN_TYPES 6
/* Before connection types had Core's names: the full-relay value. */
#define CR_CONN_OUTBOUND CR_CONN_OUTBOUND_FULL_RELAY

/* Why a peer closed: the code passed to on_peer_closed, with a text. */
enum cr_close_reason {
	CR_CLOSE_EOF = 1,              /* the peer closed the connection */
	CR_CLOSE_SOCKET = 2,           /* a socket error (text says which) */
	CR_CLOSE_PROTOCOL = 3,         /* bad bytes from the peer (text: cr_strerror) */
	CR_CLOSE_HANDSHAKE_TIMEOUT = 4,
	CR_CLOSE_INACTIVITY = 5,       /* nothing sent or received for too long */
	CR_CLOSE_PING_TIMEOUT = 6,     /* no pong in time */
	CR_CLOSE_SELF = 7,             /* connected to ourselves (version nonce) */
	CR_CLOSE_LOCAL = 8,            /* cr_disconnect */
	CR_CLOSE_STOP = 9,             /* engine stopping */
	CR_CLOSE_CONNECT_FAILED = 10,  /* outbound connect failed or timed out */
	CR_CLOSE_INBOUND_FULL = 11,    /* no inbound slot left: newcomer refused */
	CR_CLOSE_PROXY = 12,           /* SOCKS5 proxy refused or failed */
	CR_CLOSE_V1_RETRY = 13,        /* V2 attempt refused; reconnecting with V1 */
	CR_CLOSE_VERSION = 14,         /* unacceptable version message */
	CR_CLOSE_RESOURCES = 15,       /* out of slots, memory or descriptors */
	CR_CLOSE_EVICTED = 16,         /* inbound slots full: evicted for a newcomer */
	CR_CLOSE_BANNED = 17,          /* a new ban covers its address */
	CR_CLOSE_MISBEHAVED = 18,      /* misbehaviour: discouraged or banned (text says why) */
	CR_CLOSE_FEELER_DONE = 19,     /* a feeler finished its handshake: its job is done */
	CR_CLOSE_ADDR_FETCH_DONE = 20, /* an addr-fetch got its addresses, or timed out (text) */
};

/* Traffic of one peer for one message type ("command" in the V1 header).
 * Types beyond the table go to the row named "*other*". */
struct cr_msg_stats {
	char command[13];
	uint64_t msgs_sent, bytes_sent;
	uint64_t msgs_recv, bytes_recv;
};

/* A snapshot of one peer. Times are wall-clock microseconds since the epoch
 * (0 = never); ping times are microseconds (-1 = none measured). Grows only
 * at its end. */
struct cr_peer_info {
	uint64_t id;
	enum cr_conn_type conn_type;
	bool inbound;
	struct sockaddr_storage addr; /* the peer's address (or the proxy target) */
	char addr_str[64];            /* "1.2.3.4:8333" or "[::1]:8333" */
	int transport;                /* 1 = V1, 2 = V2, 0 = not yet known */
	uint8_t session_id[32];       /* BIP324 session id (V2 only, else zero) */
	bool handshaked;              /* verack exchanged */
	int32_t version;              /* the peer's protocol version */
	uint64_t services;            /* the peer's service bits */
	int32_t start_height;
	bool relay;
	char user_agent[CR_UA_MAX + 1];
	uint64_t connected_us, last_send_us, last_recv_us;
	int64_t ping_last_us, ping_min_us;
	uint64_t bytes_sent, bytes_recv;   /* on the wire, transport framing included */
	uint64_t msgs_sent, msgs_recv;
	size_t send_queue_bytes;           /* queued, not yet accepted by the kernel */
	bool writable;                     /* send queue under send_buffer_bytes */
	bool recv_paused;                  /* unprocessed input over recv_flood_bytes */
	unsigned nmsg_stats;
	struct cr_msg_stats msg_stats[CR_MSG_STATS_MAX];
	/* since 0.2 */
	uint32_t permissions;          /* CR_PERM_* (<connring/permissions.h>) */
	char permissions_str[96];      /* Core's names, comma-separated ("noban,download") */
	uint64_t keyed_netgroup;       /* eviction's netgroup key (engine-secret; 0 = unknown) */
	char netgroup[40];             /* the netgroup itself: "ipv4:1.2", "ipv6:2001:db8", ... */
	bool prefer_evict;             /* discouraged when it connected: evicted first */
	uint32_t misbehavior_score;    /* ban score mode: the score now (0 otherwise) */
	/* since 0.3 */
	unsigned network;              /* the network it came through: CR_NETWORK_* */
	bool addr_relay_enabled;       /* takes part in address relay (Core's getpeerinfo names) */
	uint64_t addr_processed;       /* addresses of its addr/addrv2 messages processed */
	uint64_t addr_rate_limited;    /* ... dropped by its token bucket */
};

/* Networks as Core's GetNetClass names them (cr_peer_info.network). */
#define CR_NETWORK_UNROUTABLE 0u
#define CR_NETWORK_IPV4 1u
#define CR_NETWORK_IPV6 2u
#define CR_NETWORK_ONION 3u
#define CR_NETWORK_I2P 4u
#define CR_NETWORK_CJDNS 5u
#define CR_NETWORK_INTERNAL 6u
#define CR_NETWORK_LOCAL 7u /* loopback (connring's own class) */
#define CR_NETWORK_COUNT 8u

/* Engine-wide counters (sums over workers; each is exact when the engine is
 * idle, approximate while it runs). Only uint64_t fields; grows only at its
 * end. */
struct cr_totals {
	uint64_t peers, inbound, outbound, handshaked;
	uint64_t accepted, accept_refused, connects, connect_failures;
	uint64_t bytes_sent, bytes_recv, msgs_sent, msgs_recv;
	uint64_t recv_enobufs;        /* buffer ring ran dry; recv re-armed */
	uint64_t recv_direct_bytes;   /* payload bytes received straight into place */
	uint64_t recv_copied_bytes;   /* bytes copied into a reassembly buffer */
	uint64_t recv_pauses;         /* flood-size pauses */
	uint64_t send_calls, send_zc, send_zc_copied;
	uint64_t payload_copy_bytes;  /* payload bytes copied in userspace on send */
	uint64_t stale_ids;           /* calls or messages that named a stale peer id */
	uint64_t v1_fallbacks;        /* V2 attempts redone with V1 */
	uint64_t mailbox_msgs, doorbells;
	uint64_t accept_backoffs;     /* accept failed (e.g. full table): re-armed after a delay */
	uint64_t pool_allocs;         /* worker buffer/segment pools grown with malloc (warm: flat) */
	/* ready peers now, by connection type (index: enum cr_conn_type) */
	uint64_t ready_by_type[CR_CONN_TYPES];
	/* bounds on what peers make us hold (see the README's Limits) */
	uint64_t recv_send_pauses;    /* input paused: the peer's send queue was full (fPauseSend) */
	uint64_t recv_budget_waits;   /* large messages made to wait for the receive budget */
	uint64_t budget_stall_closes; /* peers closed for stalling while holding budget */
	uint64_t send_skipped;        /* sends/broadcasts skipped: peer not writable, send budget exceeded */
	uint64_t send_limit_closes;   /* peers closed: send queue at send_queue_max_bytes */
	/* gauges: what is held right now */
	uint64_t recv_held_bytes;     /* receive buffers of all peers (partial messages, paused input) */
	uint64_t recv_reserved_bytes; /* receive budget reserved by large messages in progress */
	uint64_t send_queued_bytes;   /* bytes in all send queues (a shared buffer per peer) */
	uint64_t send_mem_bytes;      /* send buffer memory alive (a shared buffer once) */
	uint64_t pool_bufs_in_use;    /* small send buffers out of the pools */
	uint64_t pool_segs_in_use;    /* queue segments out of the pools */
	uint64_t fixed_files;         /* direct descriptors the engine holds (peers' sockets) */
	/* since 0.2: inbound defence. A refused newcomer is closed before any
	 * byte is read; it counts in accept_refused and in one reason here. */
	uint64_t refused_banned;      /* its address or subnet is banned */
	uint64_t refused_flood_rate;  /* its netgroup connects faster than -floodrate */
	uint64_t refused_flood_cap;   /* flooding, and its netgroup holds -floodgroupcap */
	uint64_t refused_discouraged; /* discouraged and inbound slots (almost) full */
	uint64_t refused_embedder;    /* on_accept said no */
	uint64_t refused_full;        /* full, and every inbound peer is protected */
	uint64_t refused_evict_wait;  /* full: the eviction queue was full or timed out, or it
				       * was evicted while waiting (by a later newcomer) */
	uint64_t evictions;           /* inbound peers evicted for a newcomer */
	/* protections in eviction runs, summed: why candidates were kept */
	uint64_t evict_kept_noban, evict_kept_outbound, evict_kept_netgroup, evict_kept_ping;
	uint64_t evict_kept_tx, evict_kept_block_relay, evict_kept_block, evict_kept_network;
	uint64_t evict_kept_uptime, evict_kept_not_preferred, evict_kept_remained;
	uint64_t ban_disconnects;     /* live peers closed by a new ban */
	uint64_t misbehaved_discouraged; /* peers discouraged for misbehaviour */
	uint64_t misbehaved_banned;   /* peers banned past the ban score threshold */
	uint64_t misbehaved_kept;     /* misbehaviour of noban or manual peers, kept */
	uint64_t bans;                /* entries on the ban list now */
	uint64_t flooding;            /* 1 while a flood is detected */
	/* since 0.3: address discovery and relay (README "Address relay") */
	uint64_t addr_msgs_ignored;   /* addr/addrv2/getaddr ignored: block-relay-only peer,
				       * getaddr from outbound or repeated, undecodable */
	uint64_t addrs_received;      /* entries of the addr/addrv2 messages taken in */
	uint64_t addrs_rate_limited;  /* ... dropped by a peer's token bucket */
	uint64_t addrs_mail_dropped;  /* ... dropped: address mail in flight at its cap */
	uint64_t addrs_added;         /* new entries placed in the address manager */
	uint64_t addrs_relayed;       /* addresses queued for relay to a peer */
	uint64_t addrs_sent;          /* addresses sent in addr/addrv2 messages */
	uint64_t getaddr_answered;    /* getaddr answers sent */
	uint64_t addr_mail_bytes;     /* gauge: address mail between threads in flight */
	uint64_t addrman_size;        /* gauge: entries in the address manager */
	uint64_t addrs_relay_skipped; /* relayable addresses stored, not relayed: the
				       * engine-wide relay bucket was empty */
	uint64_t addr_mail_peak;      /* the most address mail ever in flight for one
				       * worker (both directions; at most 2 MiB) */
};

/* Callbacks; each may be left unset. See the file comment for threads. */

/* A peer finished the handshake (info valid during the call only). */
typedef void (*cr_on_peer_ready_fn)(void *user, uint64_t peer, const struct cr_peer_info *info);
/* A message after the handshake (not ping/pong, which the engine answers).
 * The payload is valid during the call only. Returns how many bytes the
 * application keeps unprocessed (0 normally); they count towards
 * recv_flood_bytes until released with cr_recv_done. */
typedef size_t (*cr_on_message_fn)(void *user, uint64_t peer, const char *command,
				   const uint8_t *payload, size_t len);
/* The peer is gone (also for peers that never became ready, with ready ==
 * false); the id is stale from now on. */
typedef void (*cr_on_peer_closed_fn)(void *user, uint64_t peer, bool ready,
				     enum cr_close_reason reason, const char *text);
/* A log line (no newline) of a level and a category; any engine thread,
 * also the thread calling cr_engine_start/stop. */
typedef void (*cr_on_log_fn)(void *user, enum cr_log_level level, enum cr_log_category cat,
			     const char *text);

/* A new inbound connection, as on_accept sees it: after the engine's own
 * checks (bans, flood defence, discouragement, a free or freed slot) and
 * before any byte is read from it. Valid during the call only. */
struct cr_accept_info {
	struct sockaddr_storage peer;   /* their address */
	struct sockaddr_storage local;  /* the listening address that took it (a wildcard
					 * bind reports the wildcard) */
	uint64_t keyed_netgroup;        /* its netgroup's eviction key */
	uint32_t permissions;           /* CR_PERM_* from -whitebind / -whitelist */
	bool discouraged;               /* admitted, but preferred for eviction */
	unsigned inbound, inbound_max;  /* inbound peers now (the newcomer not counted), slots */
	unsigned outbound;              /* outbound peers now */
	unsigned group_inbound;         /* inbound peers of its netgroup now */
};
/* The embedder's say at accept (Core's SockMan EventNewConnectionAccepted):
 * return false to refuse the connection (closed at once; no other
 * callback ever names it). Runs on the worker that accepted it; must not
 * block. */
typedef bool (*cr_on_accept_fn)(void *user, const struct cr_accept_info *info);

/* ---- configuration ---------------------------------------------------------
 *
 * A struct cr_config holds every option with its default. Create one with
 * cr_config_new, change what you need with the setters below, pass it to
 * cr_engine_new (which copies it) and free it with cr_config_free. Every
 * setter and adder below has the same form, so each line only gives its
 * value's meaning, range and default:
 *  Returns: 0, or CR_E_CONFIG_RANGE (value outside the range given),
 *           CR_E_BAD_ADDRESS (address setters), CR_E_CONFIG_FULL (a list
 *           at its limit) or -ENOMEM (adders); a failed call leaves cfg
 *           as it was.
 *  Args:    cfg: a config from cr_config_new.
 *  In:      the value; strings are copied (NULL only where allowed).
 *  Threads: any, one at a time per config.
 *
 * Adding an option (for engine developers): one line in CR_CONFIG_SCALARS
 * (engine/config.h: type, name, default, the check its setter applies)
 * defines the field, its default and cr_config_set_<name>; then declare
 * cr_config_set_<name> here with its range and default. Engine code reads
 * it as e->cfg.<name>. Lists and strings need a hand-written setter in
 * engine/config.c. */

/* Creates a config holding every option at its default.
 *  Returns: the config, or NULL when out of memory.
 *  Threads: any. */
CR_API struct cr_config *cr_config_new(void);
/* Frees a config and the lists it holds.
 *  Args:    cfg: from cr_config_new, or NULL (nothing happens).
 *  Threads: any, not while another thread uses cfg. */
CR_API void cr_config_free(struct cr_config *cfg);

/* The network (default CR_CHAIN_MAIN). */
CR_API int cr_config_set_chain(struct cr_config *cfg, enum cr_chain_id chain);
/* Worker threads, 0..CR_WORKERS_MAX (default 0: one per online core). */
#define CR_WORKERS_MAX 64
CR_API int cr_config_set_workers(struct cr_config *cfg, unsigned n);
/* Pin worker i to core i % cores (default false). */
CR_API int cr_config_set_pin_workers(struct cr_config *cfg, bool on);

/* Accept inbound peers (default true). Each worker binds its own
 * SO_REUSEPORT socket to each bind address. */
CR_API int cr_config_set_listen(struct cr_config *cfg, bool on);
/* The listen port for bind addresses without one (default 0: the chain's
 * default port). */
CR_API int cr_config_set_port(struct cr_config *cfg, uint16_t port);
/* Adds a listen address: a numeric "127.0.0.1", "[::1]:18444", ...; port
 * 0 picks a free one (see cr_engine_port). At most 8; with none the engine
 * listens on 0.0.0.0 and [::]. Returns CR_E_BAD_ADDRESS or
 * CR_E_CONFIG_FULL on failure. */
CR_API int cr_config_add_bind(struct cr_config *cfg, const char *addr);

/* Peers in all, >= 1 (default CR_DEFAULT_MAX_CONNECTIONS, 125). */
CR_API int cr_config_set_max_connections(struct cr_config *cfg, unsigned n);
/* Slots of max_connections reserved for outbound peers; inbound peers get
 * the rest (default 11: Core's 8 full-relay + 2 block-relay + 1 feeler). */
CR_API int cr_config_set_outbound_slots(struct cr_config *cfg, unsigned n);
/* Adds a peer to keep connected, "host[:port]" (-connect / -addnode; the
 * engine treats both alike). Without a proxy the host must be a numeric
 * address (checked by cr_engine_start); with one, a name is passed to the
 * proxy. Up to 127 characters. Returns CR_E_BAD_ADDRESS for text that is not
 * host[:port] at all, or -ENOMEM. */
CR_API int cr_config_add_connect(struct cr_config *cfg, const char *hostport);
CR_API int cr_config_add_addnode(struct cr_config *cfg, const char *hostport);
/* Manual peers' reconnect delay after the n-th failure in a row: n x
 * retry_ms (default 5,000), capped at retry_max_ms (default 300,000),
 * btcd's connmgr backoff. */
CR_API int cr_config_set_manual_retry_ms(struct cr_config *cfg, unsigned ms);
CR_API int cr_config_set_manual_retry_max_ms(struct cr_config *cfg, unsigned ms);

/* BIP324: try V2 first outbound and accept it inbound (default true).
 * While on, NODE_P2P_V2 is added to our services (version message, our
 * own address), as Core does with -v2transport. */
CR_API int cr_config_set_v2transport(struct cr_config *cfg, bool on);
/* Connect outbound through a SOCKS5 proxy at a numeric "ip:port" (port
 * defaults to 1080); NULL or "" for none (the default). Returns
 * CR_E_BAD_ADDRESS for anything else. */
CR_API int cr_config_set_proxy(struct cr_config *cfg, const char *hostport);

/* Our version message: protocol version, >= 31800 (default 70016); service
 * bits (default 0, NODE_NONE; NODE_P2P_V2 is added while V2 transport is
 * on); start height (default 0); fRelay (default
 * true); user agent up to CR_UA_MAX bytes (NULL or "": "/connring:<version>/"). */
CR_API int cr_config_set_protocol_version(struct cr_config *cfg, int32_t version);
CR_API int cr_config_set_services(struct cr_config *cfg, uint64_t services);
CR_API int cr_config_set_start_height(struct cr_config *cfg, int32_t height);
CR_API int cr_config_set_relay(struct cr_config *cfg, bool relay);
CR_API int cr_config_set_user_agent(struct cr_config *cfg, const char *ua);

/* Timers in milliseconds, each >= 1: connect (default 5,000), handshake
 * (60,000), inactivity (1,200,000), ping interval (120,000) and ping
 * timeout (1,200,000: Core's, as inactivity). stop_flush_ms bounds the
 * flush of queued output at cr_engine_stop (default 2,000; 0 allowed). */
CR_API int cr_config_set_connect_timeout_ms(struct cr_config *cfg, unsigned ms);
CR_API int cr_config_set_handshake_timeout_ms(struct cr_config *cfg, unsigned ms);
CR_API int cr_config_set_inactivity_timeout_ms(struct cr_config *cfg, unsigned ms);
CR_API int cr_config_set_ping_interval_ms(struct cr_config *cfg, unsigned ms);
CR_API int cr_config_set_ping_timeout_ms(struct cr_config *cfg, unsigned ms);
CR_API int cr_config_set_stop_flush_ms(struct cr_config *cfg, unsigned ms);

/* Receiving pauses while a peer's unprocessed input (bytes on_message
 * kept) is above this (default 5,000,000). */
CR_API int cr_config_set_recv_flood_bytes(struct cr_config *cfg, size_t bytes);
/* A peer is writable (cr_peer_writable) while its send queue is at most
 * this (default 1,000,000). Above it, as Core's fPauseSend, the engine
 * processes none of the peer's input (no pongs, nothing it asks for) until
 * the queue drains. */
CR_API int cr_config_set_send_buffer_bytes(struct cr_config *cfg, size_t bytes);
/* The hard bound of one peer's send queue: a message that would take it
 * further closes the peer (CR_CLOSE_RESOURCES). Default 0: send_buffer_bytes
 * + 4,000,000 + 65,536. */
CR_API int cr_config_set_send_queue_max_bytes(struct cr_config *cfg, size_t bytes);
/* What all peers together may make the engine hold (README, Limits).
 * recv_budget_bytes: receive buffers of messages above 64 KiB, split evenly
 * over the workers; a message that does not fit waits (its peer's input
 * paused), a reserved one whose peer is silent for budget_stall_ms while
 * others wait is disconnected. send_budget_bytes: send buffer memory (a
 * broadcast's shared buffer counted once); above it sends and broadcasts
 * skip peers that are not writable (cr_totals.send_skipped; cr_send then
 * returns -EAGAIN) and a non-writable peer whose queue has not moved for
 * budget_stall_ms is disconnected. Defaults 0: each a sixteenth of the
 * machine's memory, between 64 MiB and 8 GiB; budget_stall_ms 10,000. */
CR_API int cr_config_set_recv_budget_bytes(struct cr_config *cfg, size_t bytes);
CR_API int cr_config_set_send_budget_bytes(struct cr_config *cfg, size_t bytes);
CR_API int cr_config_set_budget_stall_ms(struct cr_config *cfg, unsigned ms);
/* Queued pieces this large go out with zero-copy send (default 65,536; 0 =
 * never); zc_loopback allows it to loopback peers too (default false: the
 * kernel copies those anyway, so it only costs; tests turn it on). */
CR_API int cr_config_set_zc_threshold_bytes(struct cr_config *cfg, size_t bytes);
CR_API int cr_config_set_zc_loopback(struct cr_config *cfg, bool on);

/* Resources per worker: peers (default 0: the fixed-file table's cap,
 * RLIMIT_NOFILE); provided receive buffers, a power of two up to 32,768
 * (default 1,024), of recv_buf_size >= 512 bytes each (default 16,384);
 * submission queue entries >= 64 (default 4,096; the completion queue is 4x). */
CR_API int cr_config_set_max_peers_per_worker(struct cr_config *cfg, unsigned n);
CR_API int cr_config_set_recv_buf_count(struct cr_config *cfg, unsigned n);
CR_API int cr_config_set_recv_buf_size(struct cr_config *cfg, unsigned bytes);
CR_API int cr_config_set_ring_entries(struct cr_config *cfg, unsigned n);

/* The callbacks (each NULL = not called) and the pointer passed to them
 * as user. */
CR_API int cr_config_set_user(struct cr_config *cfg, void *user);
CR_API int cr_config_set_on_peer_ready(struct cr_config *cfg, cr_on_peer_ready_fn fn);
CR_API int cr_config_set_on_message(struct cr_config *cfg, cr_on_message_fn fn);
CR_API int cr_config_set_on_peer_closed(struct cr_config *cfg, cr_on_peer_closed_fn fn);
CR_API int cr_config_set_on_log(struct cr_config *cfg, cr_on_log_fn fn);

/* Inbound defence (see README "Eviction, bans and permissions").
 *
 * Permissions with Core's syntax: -whitelist=[perms@]SUBNET and
 * -whitebind=[perms@]ADDR:PORT (a listen address whose peers get perms;
 * with whitebinds but no bind, only the whitebinds are listened on). perms
 * is a comma list of Core's names (noban, addr, in, out, relay, forcerelay,
 * mempool, bloomfilter, download, all); without "perms@" Core's implicit
 * legacy set applies (noban, mempool, and relay per whitelist_relay,
 * forcerelay per whitelist_forcerelay). At most 256 whitelists and 8
 * whitebinds; a value Core would refuse returns CR_E_BAD_ADDRESS (addr/
 * netperm.h's parser gives Core's message). */
CR_API int cr_config_add_whitelist(struct cr_config *cfg, const char *value);
CR_API int cr_config_add_whitebind(struct cr_config *cfg, const char *value);
CR_API int cr_config_set_whitelist_relay(struct cr_config *cfg, bool on);      /* default true */
CR_API int cr_config_set_whitelist_forcerelay(struct cr_config *cfg, bool on); /* default false */
/* Where bans persist (a crash-safe store, rewritten after every change and
 * at stop; loaded at start, bans expired by then dropped). NULL or "" (the
 * default): in memory only. At most 4,095 bytes. */
CR_API int cr_config_set_banlist_path(struct cr_config *cfg, const char *path);
/* Default ban duration, seconds >= 1 (default 86,400: Core's -bantime). */
CR_API int cr_config_set_ban_time_s(struct cr_config *cfg, unsigned s);
/* 0 (default): Core's rule, any misbehaviour discourages. N > 0: btcd's
 * decaying ban score, the address banned for ban_time_s once a peer's
 * score passes N (btcd's default is 100). */
CR_API int cr_config_set_ban_score_threshold(struct cr_config *cfg, unsigned n);
/* The handshake-flood defence (default on): a token bucket of new inbound
 * connections per netgroup, rate per second in [0.001, 10^6] (default 1)
 * and burst in [1, 10^6] (default 10); while a flood is detected (some
 * netgroup's bucket ran dry, or 50 connections a second in all, within
 * the last flood_hold_s seconds, 1..86,400, default 60), a netgroup holding
 * flood_group_cap inbound peers (default 8; 0 = no cap) gets no more. */
CR_API int cr_config_set_flood_defence(struct cr_config *cfg, bool on);
CR_API int cr_config_set_flood_rate(struct cr_config *cfg, double per_s);
CR_API int cr_config_set_flood_burst(struct cr_config *cfg, double n);
CR_API int cr_config_set_flood_group_cap(struct cr_config *cfg, unsigned n);
CR_API int cr_config_set_flood_hold_s(struct cr_config *cfg, unsigned s);
/* Eviction at accept: newcomers waiting for an evicted peer's slot, 1..4,096
 * (default 64), each at most evict_wait_ms, 1..60,000 (default 2,000);
 * beyond either a newcomer is refused. */
CR_API int cr_config_set_evict_wait_max(struct cr_config *cfg, unsigned n);
CR_API int cr_config_set_evict_wait_ms(struct cr_config *cfg, unsigned ms);
/* Test only: treat 127.0.0.0/8 as routable IPv4, so loopback peers from
 * 127.a.x.x fall into distinct /16 netgroups (default false). */
CR_API int cr_config_set_routable127(struct cr_config *cfg, bool on);
CR_API int cr_config_set_on_accept(struct cr_config *cfg, cr_on_accept_fn fn);

/* Automatic outbound connections (README "Automatic connections"): the
 * coordinator's address manager and open-connections scheduler, Bitcoin
 * Core's ThreadOpenConnections with 8 full-relay, 2 block-relay-only and
 * one feeler slot, DNS seeds, fixed seeds and -seednode.
 *
 * auto_connect: open automatic connections (default false: an embedder
 * that only wants the peers it names asks for nothing else; connringd
 * turns it on unless -connect). dnsseed: ask the chain's DNS seeds
 * (default true); forcednsseed: ask them even when addresses are known
 * (default false); fixedseeds: fall back to the chain's fixed seeds
 * (default true). onlynet: a mask of CR_ONLYNET_* bits, the networks
 * automatic connections may go to (default 0: every network). */
#define CR_ONLYNET_IPV4 (1u << 1)   /* the BIP155 network ids as bits */
#define CR_ONLYNET_IPV6 (1u << 2)
#define CR_ONLYNET_ONION (1u << 4)
#define CR_ONLYNET_I2P (1u << 5)
#define CR_ONLYNET_CJDNS (1u << 6)
CR_API int cr_config_set_auto_connect(struct cr_config *cfg, bool on);
CR_API int cr_config_set_dnsseed(struct cr_config *cfg, bool on);
CR_API int cr_config_set_forcednsseed(struct cr_config *cfg, bool on);
CR_API int cr_config_set_fixedseeds(struct cr_config *cfg, bool on);
CR_API int cr_config_set_onlynet(struct cr_config *cfg, unsigned mask);
/* Files, each at most 4,095 bytes, NULL or "" (the default) for none:
 * the address manager (peers.dat: loaded at start, saved every
 * addrman_save_ms and at stop; a bad or newer file is set aside and the
 * node starts fresh), the anchors (anchors.dat: the block-relay-only peers
 * at stop, tried first at the next start, deleted once read) and an asmap
 * (Core's -asmap: netgroups by AS number; a bad file fails
 * cr_engine_start). */
CR_API int cr_config_set_peers_path(struct cr_config *cfg, const char *path);
CR_API int cr_config_set_anchors_path(struct cr_config *cfg, const char *path);
CR_API int cr_config_set_asmap_path(struct cr_config *cfg, const char *path);
/* Adds a seed node, "host[:port]" as for cr_config_add_connect: an
 * addr-fetch connection (connect, ask for addresses, disconnect). */
CR_API int cr_config_add_seednode(struct cr_config *cfg, const char *hostport);
/* Intervals in milliseconds, >= 1 (tests shorten them; defaults are
 * Core's): addrman_save_ms (900,000), the average feeler_interval_ms
 * (120,000) and extra_peer_interval_ms (300,000, the extra block-relay-only
 * and network-specific peers), stale_check_ms (600,000) and stale_tip_ms
 * (>= 3; 1,800,000: no new block for this long makes the tip stale). */
CR_API int cr_config_set_addrman_save_ms(struct cr_config *cfg, unsigned ms);
CR_API int cr_config_set_feeler_interval_ms(struct cr_config *cfg, unsigned ms);
CR_API int cr_config_set_extra_peer_interval_ms(struct cr_config *cfg, unsigned ms);
CR_API int cr_config_set_stale_check_ms(struct cr_config *cfg, unsigned ms);
CR_API int cr_config_set_stale_tip_ms(struct cr_config *cfg, unsigned ms);
/* Test only: DNS seed names that replace the chain's (at most 16; letters,
 * digits, '-' and '.'), and the DNS server asked, a numeric "ip[:port]"
 * (port 53 by default; NULL or "": the system's resolvers). */
CR_API int cr_config_add_dnsseed_name(struct cr_config *cfg, const char *name);
CR_API int cr_config_set_dns_server(struct cr_config *cfg, const char *hostport);

/* Address relay (README "Address relay"). external_ip: our own address,
 * numeric "ip[:port]" (port defaults to the listen port), advertised to
 * peers with address relay every 24 hours on average (Core's
 * -externalip); NULL or "" (the default): none, nothing advertised.
 * addr_fetch_timeout_ms, >= 1: an addr-fetch connection is closed this
 * long after it connected if no addresses came (default 300,000: Core's
 * 10 x the 30 s address broadcast interval). addr_send_interval_ms, >= 1:
 * the average interval between addr messages to one peer (default 30,000,
 * Core's; tests shorten it). local_addr_interval_ms, >= 1: the average
 * interval between advertisements of external_ip to one peer, exponential
 * (default 86,400,000: Core's AVG_LOCAL_ADDRESS_BROADCAST_INTERVAL; tests
 * shorten it). */
CR_API int cr_config_set_external_ip(struct cr_config *cfg, const char *hostport);
CR_API int cr_config_set_addr_fetch_timeout_ms(struct cr_config *cfg, unsigned ms);
CR_API int cr_config_set_addr_send_interval_ms(struct cr_config *cfg, unsigned ms);
CR_API int cr_config_set_local_addr_interval_ms(struct cr_config *cfg, unsigned ms);

/* ---- engine lifecycle ------------------------------------------------------ */

/* Creates an engine; nothing runs until cr_engine_start.
 *  Returns: 0, -EINVAL (cfg NULL), CR_E_BAD_ADDRESS (the proxy), -ENOMEM.
 *  Out:     out: the engine; NULL on failure.
 *  In:      cfg: the options, copied (cfg may be freed or changed after).
 *  Threads: any that is not an engine thread. */
CR_API int cr_engine_new(struct cr_engine **out, const struct cr_config *cfg);
/* Sets up the rings, the listen sockets and the manual peers, and starts
 * the worker and coordinator threads.
 *  Returns: 0; -EALREADY when started before; CR_E_BAD_ADDRESS for a
 *           manual peer that is no numeric address while no proxy is set;
 *           -errno of a failed system call (-EADDRINUSE for a bind address
 *           in use, -ENOMEM, io_uring setup errors). On failure the reason
 *           is logged too and the engine is stopped (free it).
 *  Args:    e: from cr_engine_new.
 *  Threads: the thread that created e, not an engine thread. */
CR_API int cr_engine_start(struct cr_engine *e);
/* Stops accepting, flushes queued output for up to stop_flush_ms, closes
 * every peer (on_peer_closed with CR_CLOSE_STOP) and joins the threads.
 * Blocks until done; a second call does nothing.
 *  Args:    e: an engine, started or not.
 *  Threads: any that is not an engine thread. */
CR_API void cr_engine_stop(struct cr_engine *e);
/* Stops the engine if needed (as cr_engine_stop) and frees it.
 *  Args:    e: an engine, or NULL (nothing happens).
 *  Threads: any that is not an engine thread. */
CR_API void cr_engine_free(struct cr_engine *e);

/* The port the engine listens on.
 *  Returns: the port (the one picked for bind port 0), 0 when not listening.
 *  Args:    e: a started engine.
 *  Threads: any. */
CR_API uint16_t cr_engine_port(const struct cr_engine *e);
/* The engine's size once started.
 *  Returns: cr_engine_workers: worker threads; cr_engine_capacity: peers
 *           it can hold in all (the sum of the workers' fixed-file tables).
 *  Args:    e: a started engine.
 *  Threads: any. */
CR_API unsigned cr_engine_workers(const struct cr_engine *e);
CR_API size_t cr_engine_capacity(const struct cr_engine *e);
/* Sums the workers' counters (exact when idle, approximate while running).
 *  Out:     out: the totals; a caller built against an older, shorter
 *           struct gets its prefix, a longer one zeros beyond ours.
 *  In:      out_size: sizeof *out.
 *  Args:    e: an engine.
 *  Threads: any. */
CR_API void cr_engine_totals(const struct cr_engine *e, struct cr_totals *out, size_t out_size);

/* ---- peers ---------------------------------------------------------------- */

/* Flags for cr_connect. */
#define CR_CONNECT_PERSISTENT 1u /* keep it connected with backoff (addnode) */
#define CR_CONNECT_V1 2u         /* skip the V2 attempt */

/* Opens an outbound connection. The coordinator places it on the
 * least-loaded worker; the outcome comes later as on_peer_ready or
 * on_peer_closed (CR_CLOSE_CONNECT_FAILED, ...).
 *  Returns: 0; -ESHUTDOWN (engine not running); CR_E_BAD_ADDRESS (not a
 *           numeric host[:port] without a proxy, or longer than 127);
 *           -ENOMEM.
 *  Args:    e: a started engine.
 *  In:      hostport: "1.2.3.4:8333", "[v6]:port" (port defaults to the
 *           chain's); with a proxy also a host name, resolved by the proxy.
 *           flags: CR_CONNECT_PERSISTENT, CR_CONNECT_V1 or 0.
 *  Threads: any, engine threads included. */
CR_API int cr_connect(struct cr_engine *e, const char *hostport, unsigned flags);

/* Opens an outbound connection of one of the automatic types, as Core's
 * test-only addconnection RPC: CR_CONN_OUTBOUND_FULL_RELAY,
 * CR_CONN_BLOCK_RELAY, CR_CONN_FEELER or CR_CONN_ADDR_FETCH (their
 * behaviour: see enum cr_conn_type; it counts as that type). For tests and
 * embedders that choose peers themselves.
 *  Returns: as cr_connect, and -EINVAL for any other type.
 *  Args:    e: a started engine.
 *  In:      hostport: as cr_connect. type: the connection type. flags:
 *           CR_CONNECT_V1 or 0.
 *  Threads: any, engine threads included. */
CR_API int cr_add_connection(struct cr_engine *e, const char *hostport, enum cr_conn_type type,
			     unsigned flags);

/* The shared send timer for inbound peers of one network (Core's
 * NextInvToInbounds): one exponential timer (5 s mean) per network class
 * for all inbound peers, so an attacker with many inbound connections
 * cannot average their timings to learn when we first saw a transaction.
 * An embedder trickling inventory to inbound peers sends to a peer of
 * that network when this time has come.
 *  Returns: the time (CLOCK_MONOTONIC microseconds) of the next send to
 *           inbound peers of that network; once due, the next call draws a
 *           new one from now. 0 for a network out of range.
 *  Args:    e: an engine.
 *  In:      network: the peer's cr_peer_info.network (CR_NETWORK_*).
 *  Threads: any. */
CR_API uint64_t cr_next_inv_send_us(struct cr_engine *e, unsigned network);

/* Queues one message for a ready peer (after on_peer_ready, before
 * on_peer_closed); the payload is copied once. On the peer's own worker
 * the message is queued before the call returns; from another thread it
 * is handed to that worker, and if the peer closes before the worker
 * takes it, it is dropped (counted in cr_totals.stale_ids; the application
 * hears on_peer_closed). A peer that is not writable still accepts the
 * message: back-pressure is the caller's choice (see cr_peer_writable),
 * within two bounds: while the engine's send budget is exceeded such a
 * peer is refused (-EAGAIN; a message already handed to its worker is
 * dropped and counted in cr_totals.send_skipped), and a queue that would
 * pass send_queue_max_bytes closes the peer (CR_CLOSE_RESOURCES).
 *  Returns: 0; -ESTALE (no live peer of that id); CR_E_NOT_READY (the
 *           peer is still in its handshake); -EINVAL (command not 1..12
 *           printable characters, or len above 4,000,000); -EAGAIN (send
 *           budget exceeded and the peer not writable); -ENOMEM;
 *           -ESHUTDOWN (engine not running). The same on every thread.
 *  Args:    e: a started engine.
 *  In:      peer: a peer id. command: the message type. payload, len:
 *           the payload (payload may be NULL when len is 0).
 *  Threads: any; from a callback, for any peer. */
CR_API int cr_send(struct cr_engine *e, uint64_t peer, const char *command,
		   const uint8_t *payload, size_t len);

/* A refcounted message buffer the application fills in place, so that
 * sending it copies nothing.
 *  cr_msgbuf_new:   Returns: room for len payload bytes, or NULL (out of
 *                   memory, or len above 4,000,000).
 *  cr_msgbuf_data:  Returns: the payload's first byte (len bytes to fill).
 *  cr_msgbuf_free:  drops the buffer unsent (NULL: nothing happens).
 *  cr_send_buf, cr_broadcast_buf: as cr_send and cr_broadcast, and they
 *                   take over the caller's reference whatever they return.
 *  Threads: any. */
struct cr_msgbuf;
CR_API struct cr_msgbuf *cr_msgbuf_new(size_t len);
CR_API uint8_t *cr_msgbuf_data(struct cr_msgbuf *b);
CR_API void cr_msgbuf_free(struct cr_msgbuf *b);
CR_API int cr_send_buf(struct cr_engine *e, uint64_t peer, const char *command, struct cr_msgbuf *b);

/* Sends one message to many peers. V1 peers share one encoded buffer
 * (header + payload, no per-peer copy); V2 peers encrypt per peer.
 *  Returns: 0; -EINVAL (command or len as cr_send); -ENOMEM; -ESHUTDOWN.
 *           Ids that are stale or not ready are skipped and counted in
 *           cr_totals.stale_ids.
 *  Args:    e: a started engine.
 *  In:      ids, n: the peers; ids NULL: every ready peer. command,
 *           payload, len: as cr_send.
 *  Threads: any. */
CR_API int cr_broadcast(struct cr_engine *e, const uint64_t *ids, size_t n,
			const char *command, const uint8_t *payload, size_t len);
CR_API int cr_broadcast_buf(struct cr_engine *e, const uint64_t *ids, size_t n,
			    const char *command, struct cr_msgbuf *b);

/* Closes a peer: on_peer_closed follows with CR_CLOSE_LOCAL (called from a
 * callback on the peer's own worker, before cr_disconnect returns).
 *  Returns: 0, -ESTALE, -ENOMEM or -ESHUTDOWN.
 *  Args:    e: a started engine.
 *  In:      peer: a peer id, ready or not.
 *  Threads: any. */
CR_API int cr_disconnect(struct cr_engine *e, uint64_t peer);

/* Releases bytes an on_message callback kept (its return value), so that
 * a peer paused over recv_flood_bytes is read again.
 *  Returns: 0, -ESTALE, -ENOMEM or -ESHUTDOWN.
 *  Args:    e: a started engine.
 *  In:      peer: a peer id. n: bytes released (more than kept: all).
 *  Threads: any. */
CR_API int cr_recv_done(struct cr_engine *e, uint64_t peer, size_t n);

/* Whether the peer's send queue is at most send_buffer_bytes.
 *  Returns: 1 (writable), 0 (not), -ESTALE (no live peer of that id).
 *  Args:    e: an engine.
 *  In:      peer: a peer id.
 *  Threads: any (reads an atomic word, never blocks). */
CR_API int cr_peer_writable(const struct cr_engine *e, uint64_t peer);

/* Takes a snapshot of one peer. Blocks until its worker answers
 * (immediately on that worker's own thread).
 *  Returns: 0, -ESTALE, -ESHUTDOWN, -ENOMEM, or -EDEADLK (called from
 *           another worker's or the coordinator's thread).
 *  Out:     out: the snapshot, its first out_size bytes (older, shorter
 *           struct: its prefix); zeroed on failure.
 *  In:      peer: a peer id. out_size: sizeof *out.
 *  Args:    e: a started engine.
 *  Threads: any; from a callback only for a peer of the same worker. */
CR_API int cr_peer_info(struct cr_engine *e, uint64_t peer, struct cr_peer_info *out, size_t out_size);

/* Lists live peers (ready or not); peers may close right after.
 *  Returns: how many ids were written (0 when not running).
 *  Out:     ids: up to cap peer ids.
 *  Args:    e: an engine.
 *  Threads: any. */
CR_API size_t cr_engine_peers(const struct cr_engine *e, uint64_t *ids, size_t cap);

/* ---- chain signals from the embedder -----------------------------------------
 *
 * The engine holds no chain, yet the scheduler needs what only a chain
 * knows (Core's m_last_tip_update, a peer's last new block and last new
 * transaction): to notice a stale tip, to keep the block-relay-only peers
 * that bring blocks, and for inbound eviction. The embedder reports them.
 * On the peer's own worker (in a callback) the engine coalesces a peer's
 * reports to at most one per second for the coordinator. */

/* Our tip moved to a new block (Core's m_last_tip_update); a tip within 20
 * block intervals of now starts the extra block-relay-only peers.
 *  Returns: 0, -ENOMEM or -ESHUTDOWN.
 *  Args:    e: a started engine.
 *  In:      block_time_s: the new tip's header time (0 if unknown: now).
 *  Threads: any. */
CR_API int cr_tip_updated(struct cr_engine *e, int64_t block_time_s);

/* The peer announced a block we did not have (CR_ANNOUNCE_BLOCK: Core's
 * m_last_block_time and m_last_block_announcement) or gave us a
 * transaction we did not have (CR_ANNOUNCE_TX: m_last_tx_time).
 *  Returns: 0, -ESTALE, -EINVAL (what not one of the two), -ENOMEM or
 *           -ESHUTDOWN.
 *  Args:    e: a started engine.
 *  In:      peer: a peer id. what: CR_ANNOUNCE_BLOCK or CR_ANNOUNCE_TX.
 *  Threads: any. */
#define CR_ANNOUNCE_BLOCK 1u
#define CR_ANNOUNCE_TX 2u
CR_API int cr_peer_announced(struct cr_engine *e, uint64_t peer, unsigned what);

/* Snapshots of up to cap live peers (ready or not). Each worker answers
 * for a chunk of its peers per request, not one request per peer, so
 * 50,000 peers cost a few dozen mailbox round trips. Blocks; peers may
 * close right after.
 *  Returns: how many were written, or -ESHUTDOWN, -EDEADLK (called from an
 *           engine thread), -ENOMEM.
 *  Out:     out: an array of cap entries of out_size bytes each.
 *  In:      cap: entries. out_size: the caller's sizeof(struct
 *           cr_peer_info) (see the ABI note).
 *  Args:    e: a started engine.
 *  Threads: any that is not an engine thread. */
CR_API long cr_engine_peer_infos(struct cr_engine *e, struct cr_peer_info *out, size_t cap,
				 size_t out_size);

/* ---- bans and misbehaviour -------------------------------------------------
 *
 * The coordinator owns the ban list (bans with an expiry) and the
 * discouragement filter (Core's rolling filter of misbehaving addresses,
 * admitted only while inbound slots are not nearly full and evicted
 * first). Inbound connections from a banned address or subnet are closed at
 * accept before any byte is read; a new ban closes matching live peers at
 * once (noban peers excepted, as Core); automatic outbound connections never
 * go to banned or discouraged addresses. These calls block until the
 * coordinator answered: not from an engine thread. Subnets are text as
 * Core's setban takes them ("1.2.3.4", "1.2.3.0/24", "2001:db8::/32",
 * "1.2.3.0/255.255.255.0"). */

/* One ban, as listbanned shows it. */
struct cr_ban_info {
	char subnet[96];        /* "1.2.3.0/24" */
	int64_t created;        /* seconds since the epoch */
	int64_t until;          /* banned while now < until */
};

/* Bans a subnet for bantime_s seconds (0: ban_time_s), or until the
 * absolute time bantime_s when absolute. Returns 0, -EEXIST (already
 * banned: Core's "IP/Subnet already banned"), CR_E_BAD_ADDRESS, -EINVAL
 * (an absolute time in the past), -ENOSPC (100,000 bans already), -EIO
 * (banned, but the ban file could not be written), -ENOMEM or -ESHUTDOWN. */
CR_API int cr_ban(struct cr_engine *e, const char *subnet, int64_t bantime_s, bool absolute);
/* Lifts a ban. Returns 0, -ENOENT (none: Core's "not previously manually
 * banned"), CR_E_BAD_ADDRESS, -EIO (lifted, but the ban file could not be
 * written), -ENOMEM or -ESHUTDOWN. */
CR_API int cr_unban(struct cr_engine *e, const char *subnet);
/* Lifts every ban (discouragement stays, as Core's clearbanned). Returns
 * 0, -EIO (cleared, but the ban file could not be written), -ENOMEM or
 * -ESHUTDOWN. */
CR_API int cr_clear_banned(struct cr_engine *e);
/* Up to cap live bans into out (expired ones are not listed); returns how
 * many there are in all (which may exceed cap), or a negative error. */
CR_API int cr_list_banned(struct cr_engine *e, struct cr_ban_info *out, size_t cap);
/* Discourages an address (not a subnet). Returns 0, CR_E_BAD_ADDRESS,
 * -ENOMEM or -ESHUTDOWN. */
CR_API int cr_discourage(struct cr_engine *e, const char *addr);
/* The embedder's own rules: the peer misbehaved. With ban_score_threshold
 * 0 (Core's rule) any call discourages and disconnects the peer (noban and
 * manual peers are kept, a local peer only disconnected); otherwise score
 * points add to its persistent ban score, and past the threshold its
 * address is banned. reason is logged (up to 127 bytes). Returns 0,
 * -ESTALE, -ENOMEM or -ESHUTDOWN; any thread but another worker's
 * callback (on the peer's own worker it acts at once). */
CR_API int cr_misbehaving(struct cr_engine *e, uint64_t peer, unsigned score, const char *reason);

/* An added node (Core's getaddednodeinfo): an -addnode entry or one added
 * with cr_addnode (-connect entries and one-shot connections are not
 * listed). */
struct cr_added_node {
	char addednode[128];    /* as given: "1.2.3.4:8333", "[v6]:port" or a name (proxy) */
	char address[64];       /* the address it resolved to, "" for a name behind a proxy */
	bool connected;         /* our manual connection to it finished its handshake */
};

/* Adds a node to keep connected (Core's "addnode add"), retried with
 * backoff as -addnode. Returns 0, -EEXIST (the same text, or the same
 * address, is added already: Core's "Node already added"),
 * CR_E_BAD_ADDRESS (not a numeric host[:port] without a proxy), -ENOSPC
 * (CR_ADDED_NODES_MAX added), -ENOMEM or -ESHUTDOWN. */
#define CR_ADDED_NODES_MAX 1024
CR_API int cr_addnode(struct cr_engine *e, const char *hostport);
/* Stops keeping a node connected (Core's "addnode remove": a live
 * connection to it stays). Returns 0, -ENOENT (not added with this text),
 * -ENOMEM or -ESHUTDOWN. */
CR_API int cr_removenode(struct cr_engine *e, const char *hostport);
/* Up to cap added nodes into out, in the order they were added; returns
 * how many there are in all (which may exceed cap), or a negative error. */
CR_API int cr_added_nodes(struct cr_engine *e, struct cr_added_node *out, size_t cap);
/* Every peer past its handshake sends a ping now (Core's "ping" RPC); the
 * RTT shows in cr_peer_info. Returns 0, -ENOMEM or -ESHUTDOWN. */
CR_API int cr_ping_peers(struct cr_engine *e);
/* Core's setnetworkactive: with active false every peer is disconnected
 * and, until it is true again, inbound connections are closed at accept
 * and no outbound connection is opened (manual ones retry once it is
 * true again). Returns 0, -ENOMEM or -ESHUTDOWN. cr_network_active says
 * which is in force (any thread). */
CR_API int cr_set_network_active(struct cr_engine *e, bool active);
CR_API bool cr_network_active(const struct cr_engine *e);

/* An address as the coordinator's address manager knows it (Core's
 * CAddress). */
struct cr_addr_entry {
	uint8_t net;            /* BIP155 network id: 1 IPv4, 2 IPv6, 4 Tor v3, 5 I2P, 6 CJDNS */
	uint8_t len;            /* bytes of addr used: 4, 16 or 32 */
	uint8_t addr[32];       /* network byte order, unused bytes zero */
	uint16_t port;
	uint64_t services;
	int64_t time;           /* last seen, seconds since the epoch */
};

/* One address to import (a bitcoind's peers.dat entry). */
struct cr_addr_import {
	struct cr_addr_entry a;
	struct cr_addr_entry source; /* who told it (net, len, addr); net 0: a itself */
	bool tried;             /* it was in the tried table */
};

/* Entries of the address manager by BIP155 network id (index 0 unused). */
#define CR_ADDR_NETS 8
struct cr_addrman_sizes {
	uint64_t new_count[CR_ADDR_NETS];
	uint64_t tried_count[CR_ADDR_NETS];
};

/* Core's getnodeaddresses: up to cap random known addresses that are not
 * terrible (Core's filtered GetAddr), of BIP155 network net only (0: all).
 * Returns how many were written, -EINVAL (net >= CR_ADDR_NETS), -ENOMEM
 * or -ESHUTDOWN. */
CR_API int cr_node_addresses(struct cr_engine *e, struct cr_addr_entry *out, size_t cap, unsigned net);
/* Core's addpeeraddress: adds a (as if it announced itself, seen now,
 * services as given) to the new table and, with tried, moves it to the
 * tried table. Returns 1 when it was added (and moved with tried), 0 when
 * not added to the new table (already known, unroutable, or its slot
 * taken), 2 when added to the new table but not moved to the tried one,
 * CR_E_BAD_ADDRESS, -ENOMEM or -ESHUTDOWN. */
CR_API int cr_add_peer_address(struct cr_engine *e, const struct cr_addr_entry *a, bool tried);
/* Core's getaddrmaninfo: entries per network and table. Returns 0,
 * -ENOMEM or -ESHUTDOWN. */
CR_API int cr_addrman_sizes(struct cr_engine *e, struct cr_addrman_sizes *out);
/* Imports n addresses (-importpeers): each goes into the new table with
 * its time and services, as told by its source, and a tried one then into
 * the tried table. The address manager rebuckets them with its own key.
 * *added (may be NULL) = how many were newly placed. Called before
 * cr_engine_start (on the thread that will start it), the entries are
 * copied and placed at start, after the address file is loaded and before
 * the scheduler's first pass, so the first automatic connections can go to
 * them; *added is then 0 and the engine logs the count. Returns 0,
 * -EINVAL (n too large), -ENOMEM or -ESHUTDOWN. */
CR_API int cr_import_addresses(struct cr_engine *e, const struct cr_addr_import *in, size_t n,
			       size_t *added);

/* Short names for the enums, for logs.
 *  Returns: a static string ("unknown" for a value out of the enum).
 *  Threads: any. */
CR_API const char *cr_close_reason_str(enum cr_close_reason r);
CR_API const char *cr_conn_type_str(enum cr_conn_type t);

#ifdef __cplusplus
}
#endif

#endif
