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
 * the calls that fill them take the caller's sizeof. */
#ifndef CONNRING_CONNRING_H
#define CONNRING_CONNRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <connring/chain.h>
#include <connring/version.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- version and errors --------------------------------------------------- */

/* The version of the library loaded, as CR_VERSION_HEX (0x00MMmmpp) and as
 * text ("0.1.0"). Any thread. */
unsigned cr_version(void);
const char *cr_version_string(void);

/* The engine's own error codes. -1000 .. -1599 belong to the protocol and
 * address layers; -1600 .. -1699 to the engine. */
enum {
	CR_E_NOT_READY = -1600,     /* the peer has not finished its handshake */
	CR_E_BAD_ADDRESS = -1601,   /* not a numeric IPv4/IPv6 host[:port] */
	CR_E_CONFIG_RANGE = -1602,  /* a config value outside its documented range */
	CR_E_CONFIG_FULL = -1603,   /* a config list already holds its most entries */
};

/* A readable text for any value a connring function returned: CR_E_*, the
 * protocol and address layers' codes, or -errno. Never NULL. Any thread. */
const char *cr_strerror(int err);

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

/* The category's -debug= name ("net"; "" for CR_LOG_GENERAL, "?" for an
 * unknown value), and the category of a name (0 if unknown; "all" gives
 * CR_LOG_ALL). Any thread. */
const char *cr_log_category_str(enum cr_log_category cat);
unsigned cr_log_category_by_name(const char *name);

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
};

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

/* ---- configuration ---------------------------------------------------------
 *
 * A struct cr_config holds every option with its default. Create one with
 * cr_config_new, change what you need with the setters below, pass it to
 * cr_engine_new (which copies it) and free it with cr_config_free. Each
 * setter checks its value and returns 0, or CR_E_CONFIG_RANGE (value
 * outside the range given), CR_E_BAD_ADDRESS, CR_E_CONFIG_FULL or -ENOMEM;
 * a failed setter leaves the config as it was. Setters are not
 * thread-safe on one config; distinct configs are independent.
 *
 * Adding an option (for engine developers): one line in CR_CONFIG_SCALARS
 * (engine/config.h: type, name, default, the check its setter applies)
 * defines the field, its default and cr_config_set_<name>; then declare
 * cr_config_set_<name> here with its range and default. Engine code reads
 * it as e->cfg.<name>. Lists and strings need a hand-written setter in
 * engine/config.c. */

/* Returns a config with every default, or NULL when out of memory. Any
 * thread. */
struct cr_config *cr_config_new(void);
/* Frees cfg (NULL is fine). */
void cr_config_free(struct cr_config *cfg);

/* The network (default CR_CHAIN_MAIN). */
int cr_config_set_chain(struct cr_config *cfg, enum cr_chain_id chain);
/* Worker threads, 0..CR_WORKERS_MAX (default 0: one per online core). */
#define CR_WORKERS_MAX 64
int cr_config_set_workers(struct cr_config *cfg, unsigned n);
/* Pin worker i to core i % cores (default false). */
int cr_config_set_pin_workers(struct cr_config *cfg, bool on);

/* Accept inbound peers (default true). Each worker binds its own
 * SO_REUSEPORT socket to each bind address. */
int cr_config_set_listen(struct cr_config *cfg, bool on);
/* The listen port for bind addresses without one (default 0: the chain's
 * default port). */
int cr_config_set_port(struct cr_config *cfg, uint16_t port);
/* Adds a listen address: a numeric "127.0.0.1", "[::1]:18444", ...; port
 * 0 picks a free one (see cr_engine_port). At most 8; with none the engine
 * listens on 0.0.0.0 and [::]. Returns CR_E_BAD_ADDRESS or
 * CR_E_CONFIG_FULL on failure. */
int cr_config_add_bind(struct cr_config *cfg, const char *addr);

/* Peers in all, >= 1 (default CR_DEFAULT_MAX_CONNECTIONS, 125). */
int cr_config_set_max_connections(struct cr_config *cfg, unsigned n);
/* Slots of max_connections reserved for outbound peers; inbound peers get
 * the rest (default 11: Core's 8 full-relay + 2 block-relay + 1 feeler). */
int cr_config_set_outbound_slots(struct cr_config *cfg, unsigned n);
/* Adds a peer to keep connected, "host[:port]" (-connect / -addnode; the
 * engine treats both alike). Without a proxy the host must be a numeric
 * address (checked by cr_engine_start); with one, a name is passed to the
 * proxy. Up to 127 characters. Returns CR_E_BAD_ADDRESS for text that is not
 * host[:port] at all, or -ENOMEM. */
int cr_config_add_connect(struct cr_config *cfg, const char *hostport);
int cr_config_add_addnode(struct cr_config *cfg, const char *hostport);
/* Manual peers' reconnect delay after the n-th failure in a row: n x
 * retry_ms (default 5,000), capped at retry_max_ms (default 300,000),
 * btcd's connmgr backoff. */
int cr_config_set_manual_retry_ms(struct cr_config *cfg, unsigned ms);
int cr_config_set_manual_retry_max_ms(struct cr_config *cfg, unsigned ms);

/* BIP324: try V2 first outbound and accept it inbound (default true). */
int cr_config_set_v2transport(struct cr_config *cfg, bool on);
/* Connect outbound through a SOCKS5 proxy at a numeric "ip:port" (port
 * defaults to 1080); NULL or "" for none (the default). Returns
 * CR_E_BAD_ADDRESS for anything else. */
int cr_config_set_proxy(struct cr_config *cfg, const char *hostport);

/* Our version message: protocol version, >= 31800 (default 70016); service
 * bits (default 0, NODE_NONE); start height (default 0); fRelay (default
 * true); user agent up to CR_UA_MAX bytes (NULL or "": "/connring:<version>/"). */
int cr_config_set_protocol_version(struct cr_config *cfg, int32_t version);
int cr_config_set_services(struct cr_config *cfg, uint64_t services);
int cr_config_set_start_height(struct cr_config *cfg, int32_t height);
int cr_config_set_relay(struct cr_config *cfg, bool relay);
int cr_config_set_user_agent(struct cr_config *cfg, const char *ua);

/* Timers in milliseconds, each >= 1: connect (default 5,000), handshake
 * (60,000), inactivity (1,200,000), ping interval (120,000) and ping
 * timeout (1,200,000: Core's, as inactivity). stop_flush_ms bounds the
 * flush of queued output at cr_engine_stop (default 2,000; 0 allowed). */
int cr_config_set_connect_timeout_ms(struct cr_config *cfg, unsigned ms);
int cr_config_set_handshake_timeout_ms(struct cr_config *cfg, unsigned ms);
int cr_config_set_inactivity_timeout_ms(struct cr_config *cfg, unsigned ms);
int cr_config_set_ping_interval_ms(struct cr_config *cfg, unsigned ms);
int cr_config_set_ping_timeout_ms(struct cr_config *cfg, unsigned ms);
int cr_config_set_stop_flush_ms(struct cr_config *cfg, unsigned ms);

/* Receiving pauses while a peer's unprocessed input (bytes on_message
 * kept) is above this (default 5,000,000). */
int cr_config_set_recv_flood_bytes(struct cr_config *cfg, size_t bytes);
/* A peer is writable (cr_peer_writable) while its send queue is at most
 * this (default 1,000,000). Above it, as Core's fPauseSend, the engine
 * processes none of the peer's input (no pongs, nothing it asks for) until
 * the queue drains. */
int cr_config_set_send_buffer_bytes(struct cr_config *cfg, size_t bytes);
/* The hard bound of one peer's send queue: a message that would take it
 * further closes the peer (CR_CLOSE_RESOURCES). Default 0: send_buffer_bytes
 * + 4,000,000 + 65,536. */
int cr_config_set_send_queue_max_bytes(struct cr_config *cfg, size_t bytes);
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
int cr_config_set_recv_budget_bytes(struct cr_config *cfg, size_t bytes);
int cr_config_set_send_budget_bytes(struct cr_config *cfg, size_t bytes);
int cr_config_set_budget_stall_ms(struct cr_config *cfg, unsigned ms);
/* Queued pieces this large go out with zero-copy send (default 65,536; 0 =
 * never); zc_loopback allows it to loopback peers too (default false: the
 * kernel copies those anyway, so it only costs; tests turn it on). */
int cr_config_set_zc_threshold_bytes(struct cr_config *cfg, size_t bytes);
int cr_config_set_zc_loopback(struct cr_config *cfg, bool on);

/* Resources per worker: peers (default 0: the fixed-file table's cap,
 * RLIMIT_NOFILE); provided receive buffers, a power of two up to 32,768
 * (default 1,024), of recv_buf_size >= 512 bytes each (default 16,384);
 * submission queue entries >= 64 (default 4,096; the completion queue is 4x). */
int cr_config_set_max_peers_per_worker(struct cr_config *cfg, unsigned n);
int cr_config_set_recv_buf_count(struct cr_config *cfg, unsigned n);
int cr_config_set_recv_buf_size(struct cr_config *cfg, unsigned bytes);
int cr_config_set_ring_entries(struct cr_config *cfg, unsigned n);

/* The callbacks (each NULL = not called) and the pointer passed to them
 * as user. */
int cr_config_set_user(struct cr_config *cfg, void *user);
int cr_config_set_on_peer_ready(struct cr_config *cfg, cr_on_peer_ready_fn fn);
int cr_config_set_on_message(struct cr_config *cfg, cr_on_message_fn fn);
int cr_config_set_on_peer_closed(struct cr_config *cfg, cr_on_peer_closed_fn fn);
int cr_config_set_on_log(struct cr_config *cfg, cr_on_log_fn fn);

/* ---- engine lifecycle ------------------------------------------------------ */

/* Creates an engine from cfg (copied: cfg may be freed or reused after).
 * Returns 0 and *out, or -EINVAL (cfg NULL), -ENOMEM (*out = NULL).
 * Nothing runs until cr_engine_start. */
int cr_engine_new(struct cr_engine **out, const struct cr_config *cfg);
/* Sets up rings and listen sockets and starts the threads. Returns 0 or a
 * negative error (the reason is also logged): -EALREADY when started
 * before, CR_E_BAD_ADDRESS for a manual peer that is no numeric address
 * without a proxy, -errno of a failed system call; the engine is then
 * stopped. */
int cr_engine_start(struct cr_engine *e);
/* Stops accepting, flushes what it can within stop_flush_ms, closes every
 * peer (on_peer_closed with CR_CLOSE_STOP) and joins the threads. Blocks;
 * not from an engine thread. Safe to call twice. */
void cr_engine_stop(struct cr_engine *e);
/* Stops if needed and frees everything (NULL is fine). */
void cr_engine_free(struct cr_engine *e);

/* The listening port after start (0 if not listening). Any thread. */
uint16_t cr_engine_port(const struct cr_engine *e);
/* Workers, and how many peers the engine can hold in all (sum of the
 * workers' fixed-file tables). Any thread, after start. */
unsigned cr_engine_workers(const struct cr_engine *e);
size_t cr_engine_capacity(const struct cr_engine *e);
/* Sums the workers' counters into out, of out_size bytes (pass sizeof
 * *out: a caller built against an older, shorter struct gets its prefix).
 * Any thread. */
void cr_engine_totals(const struct cr_engine *e, struct cr_totals *out, size_t out_size);

/* ---- peers ---------------------------------------------------------------- */

/* Flags for cr_connect. */
#define CR_CONNECT_PERSISTENT 1u /* keep it connected with backoff (addnode) */
#define CR_CONNECT_V1 2u         /* skip the V2 attempt */

/* Opens an outbound connection to "host:port" ("[v6]:port"; with a proxy a
 * host name is passed to the proxy). The coordinator places it on the
 * least-loaded worker; the outcome comes as on_peer_ready or
 * on_peer_closed. Returns 0, -ESHUTDOWN (engine not running),
 * CR_E_BAD_ADDRESS or -ENOMEM. */
int cr_connect(struct cr_engine *e, const char *hostport, unsigned flags);

/* Queues one message for a ready peer (after on_peer_ready, before
 * on_peer_closed); the payload is copied once. Returns 0, -ESTALE for an id
 * that is not a live peer, CR_E_NOT_READY for a peer still in its
 * handshake, -EINVAL (bad command or len), -ENOMEM or -ESHUTDOWN, the same
 * on every thread. On the peer's own worker the message is queued before
 * the call returns; from another thread it is handed to that worker, and
 * if the peer closes before the worker takes it, it is dropped (counted in
 * cr_totals.stale_ids; the application hears on_peer_closed). A peer that
 * is not writable still accepts the message: back-pressure is the caller's
 * choice (see cr_peer_writable), within two bounds: while the engine's send
 * budget is exceeded such a peer is refused (-EAGAIN; a message already
 * handed to its worker is dropped and counted in send_skipped), and a
 * queue that would pass send_queue_max_bytes closes the peer. */
int cr_send(struct cr_engine *e, uint64_t peer, const char *command,
	    const uint8_t *payload, size_t len);

/* A refcounted message buffer the application fills in place, so that
 * sending it copies nothing: cr_msgbuf_new returns room for len payload
 * bytes (NULL on ENOMEM or len above 4,000,000); cr_send_buf and
 * cr_broadcast_buf take over the caller's reference whatever they return
 * (and return as cr_send and cr_broadcast); cr_msgbuf_free drops it unsent.
 * Any thread. */
struct cr_msgbuf;
struct cr_msgbuf *cr_msgbuf_new(size_t len);
uint8_t *cr_msgbuf_data(struct cr_msgbuf *b);
void cr_msgbuf_free(struct cr_msgbuf *b);
int cr_send_buf(struct cr_engine *e, uint64_t peer, const char *command, struct cr_msgbuf *b);

/* Sends one message to n peers (ids == NULL: every ready peer). V1 peers
 * share one encoded buffer (header + payload, no per-peer copy); V2 peers
 * encrypt per peer. Ids that are stale or not ready are skipped and counted
 * in stale_ids. Returns 0, -EINVAL, -ENOMEM or -ESHUTDOWN. */
int cr_broadcast(struct cr_engine *e, const uint64_t *ids, size_t n,
		 const char *command, const uint8_t *payload, size_t len);
int cr_broadcast_buf(struct cr_engine *e, const uint64_t *ids, size_t n,
		     const char *command, struct cr_msgbuf *b);

/* Closes a peer (on_peer_closed with CR_CLOSE_LOCAL). Returns 0, -ESTALE,
 * -ENOMEM or -ESHUTDOWN. Called from a callback on the peer's own worker,
 * on_peer_closed runs before cr_disconnect returns (nested in that
 * callback). */
int cr_disconnect(struct cr_engine *e, uint64_t peer);

/* Releases n bytes an on_message callback kept (see on_message). Returns 0,
 * -ESTALE, -ENOMEM or -ESHUTDOWN. */
int cr_recv_done(struct cr_engine *e, uint64_t peer, size_t n);

/* 1 when the peer's send queue is under send_buffer_bytes, 0 when not,
 * -ESTALE for a dead id. Any thread (reads an atomic flag). */
int cr_peer_writable(const struct cr_engine *e, uint64_t peer);

/* Fills *out (out_size bytes: pass sizeof *out) with a snapshot of the
 * peer. Blocks until its worker answers (immediate on that worker's own
 * thread). Returns 0, -ESTALE, -ESHUTDOWN, -ENOMEM, or -EDEADLK when called
 * from another worker's callback; out is zeroed on failure. */
int cr_peer_info(struct cr_engine *e, uint64_t peer, struct cr_peer_info *out, size_t out_size);

/* ---- chain signals from the embedder -----------------------------------------
 *
 * The engine holds no chain, yet the scheduler needs what only a chain
 * knows (Core's m_last_tip_update, a peer's last new block and last new
 * transaction): to notice a stale tip, to keep the block-relay-only peers
 * that bring blocks, and for inbound eviction. The embedder reports them.
 * Any thread; on the peer's own worker (in a callback) the engine
 * coalesces a peer's reports to at most one per second for the coordinator. */

/* Our tip moved to a new block (Core's m_last_tip_update). block_time_s is
 * the new tip's header time (0 if unknown: now is used); a tip within 20
 * block intervals of now starts the extra block-relay-only peers. Returns 0,
 * -ENOMEM or -ESHUTDOWN. */
int cr_tip_updated(struct cr_engine *e, int64_t block_time_s);

/* The peer announced a block we did not have (CR_ANNOUNCE_BLOCK: Core's
 * m_last_block_time and m_last_block_announcement) or gave us a
 * transaction we did not have (CR_ANNOUNCE_TX: m_last_tx_time). Returns 0,
 * -ESTALE, -EINVAL, -ENOMEM or -ESHUTDOWN. */
#define CR_ANNOUNCE_BLOCK 1u
#define CR_ANNOUNCE_TX 2u
int cr_peer_announced(struct cr_engine *e, uint64_t peer, unsigned what);

/* Ids of up to cap live peers (ready or not) into ids; returns how many
 * were written. A snapshot: peers may close right after. Any thread. */
size_t cr_engine_peers(const struct cr_engine *e, uint64_t *ids, size_t cap);

/* Snapshots of up to cap live peers (ready or not) into out, an array of
 * cap entries of out_size bytes (the caller's sizeof(struct cr_peer_info);
 * see the ABI note). Each worker answers for a chunk of its peers per
 * request, not one request per peer, so 50,000 peers cost a few dozen
 * mailbox round trips. Returns how many were written, or -ESHUTDOWN,
 * -EDEADLK (called from an engine thread), -ENOMEM. Blocks; peers may
 * close right after. */
long cr_engine_peer_infos(struct cr_engine *e, struct cr_peer_info *out, size_t cap,
			  size_t out_size);

/* Short names for the enums, for logs. Any thread. */
const char *cr_close_reason_str(enum cr_close_reason r);
const char *cr_conn_type_str(enum cr_conn_type t);

#ifdef __cplusplus
}
#endif

#endif
