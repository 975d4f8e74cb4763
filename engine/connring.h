/* connring: the public interface of the io_uring Bitcoin P2P connection
 * engine, for embedders (connringd is one).
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
 * outlive their peer: a stale id is rejected (-ESTALE), never misrouted. */
#ifndef CR_ENGINE_CONNRING_H
#define CR_ENGINE_CONNRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "proto/chain.h"

#ifndef CR_VERSION
#define CR_VERSION "0.1.0"
#endif

/* A peer id: worker index (bits 56..63), slot (bits 32..55) and slot
 * generation (bits 0..31, never 0). 0 is never a valid id. */
#define CR_PEER_NONE 0u

#define CR_BIND_MAX 8          /* listen addresses in a config */
#define CR_MANUAL_MAX 64       /* entries of connect + addnode */
#define CR_STATS_COMMANDS 24   /* per-command rows in cr_peer_info */
#define CR_UA_MAX 256          /* BIP14: user agent length limit */

struct cr_engine; /* opaque */

enum cr_log_level { CR_LOG_ERROR = 0, CR_LOG_WARN = 1, CR_LOG_INFO = 2, CR_LOG_DEBUG = 3 };

/* How a peer came to be. */
enum cr_conn_type {
	CR_CONN_INBOUND = 0,
	CR_CONN_OUTBOUND = 1,   /* cr_connect without CR_CONNECT_PERSISTENT */
	CR_CONN_MANUAL = 2,     /* connect=/addnode= or CR_CONNECT_PERSISTENT */
};

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

/* Per-command traffic of one peer. Commands beyond the table go to the row
 * named "*other*". */
struct cr_cmd_stats {
	char command[13];
	uint64_t msgs_sent, bytes_sent;
	uint64_t msgs_recv, bytes_recv;
};

/* A snapshot of one peer. Times are wall-clock microseconds since the epoch
 * (0 = never); ping times are microseconds (-1 = none measured). */
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
	unsigned ncmds;
	struct cr_cmd_stats cmds[CR_STATS_COMMANDS];
};

/* Engine-wide counters (sums over workers; each is exact when the engine is
 * idle, approximate while it runs). */
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
	uint64_t stale_ids;           /* commands that named a stale peer id */
	uint64_t v1_fallbacks;        /* V2 attempts redone with V1 */
	uint64_t mailbox_msgs, doorbells;
	uint64_t accept_backoffs;     /* accept failed (e.g. full table): re-armed after a delay */
	uint64_t pool_allocs;         /* worker buffer/segment pools grown with malloc (warm: flat) */
};

struct cr_config {
	enum cr_chain_id chain;          /* default CR_CHAIN_MAIN */
	unsigned workers;                /* 0 = one per online core */
	bool pin_workers;                /* pin worker i to core i % cores */

	/* Listening: each worker binds its own SO_REUSEPORT socket to each
	 * address. nbind == 0 with listen: 0.0.0.0 and [::] on port. A port of
	 * 0 picks a free one (see cr_engine_port). */
	bool listen;
	uint16_t port;                   /* 0 = the chain's default port */
	unsigned nbind;
	char bind[CR_BIND_MAX][64];      /* "127.0.0.1", "[::1]:18444", ... */

	/* Counts (owned by the coordinator). */
	unsigned max_connections;        /* default 125 */
	unsigned outbound_slots;         /* reserved for outbound; inbound = max - this (default 11) */
	unsigned nconnect, naddnode;
	char connect[CR_MANUAL_MAX][128];  /* "host:port", kept connected */
	char addnode[CR_MANUAL_MAX][128];  /* same, as -addnode */
	unsigned manual_retry_ms;        /* btcd: first retry delay (5,000) */
	unsigned manual_retry_max_ms;    /* cap of the growing delay (300,000) */

	/* Transport. */
	bool v2transport;                /* try BIP324 first outbound; accept it inbound (default on) */
	char proxy[128];                 /* "host:port" of a SOCKS5 proxy, "" = none */

	/* Our version message. */
	int32_t protocol_version;        /* 70016 */
	uint64_t services;               /* default 0 (NODE_NONE) */
	int32_t start_height;
	bool relay;                      /* fRelay in version (default true) */
	char user_agent[CR_UA_MAX + 1];  /* "" = "/connring:" CR_VERSION "/" */

	/* Limits and timers (milliseconds). */
	unsigned connect_timeout_ms;     /* 5,000 */
	unsigned handshake_timeout_ms;   /* 60,000 */
	unsigned inactivity_timeout_ms;  /* 1,200,000 */
	unsigned ping_interval_ms;       /* 120,000 */
	unsigned ping_timeout_ms;        /* 1,200,000 (Core: as inactivity) */
	unsigned stop_flush_ms;          /* bound on flushing at stop (2,000) */
	size_t recv_flood_bytes;         /* 5,000,000 */
	size_t send_buffer_bytes;        /* 1,000,000 */
	size_t zc_threshold_bytes;       /* segments this large go zero-copy; 0 = never */
	bool zc_loopback;                /* zero-copy to loopback peers too (off: the kernel
					  * copies those sends anyway; tests turn it on) */

	/* Resources per worker. */
	unsigned max_peers_per_worker;   /* 0 = the fixed-file table's cap (RLIMIT_NOFILE) */
	unsigned recv_buf_count;         /* provided buffers (power of two, default 1024) */
	unsigned recv_buf_size;          /* bytes each (default 16,384) */
	unsigned ring_entries;           /* SQ size (default 4,096; CQ is 4x) */

	/* Callbacks; any may be NULL. See the file comment for threads. */
	void *user;
	/* A peer finished the handshake (info valid during the call only). */
	void (*on_peer_ready)(void *user, uint64_t peer, const struct cr_peer_info *info);
	/* A message after the handshake (not ping/pong, which the engine
	 * answers). The payload is valid during the call only. Returns how many
	 * bytes the application keeps unprocessed (0 normally); they count
	 * towards recv_flood_bytes until released with cr_recv_done. */
	size_t (*on_message)(void *user, uint64_t peer, const char *command,
			     const uint8_t *payload, size_t len);
	/* The peer is gone (also for peers that never became ready, with
	 * ready == false); the id is stale from now on. */
	void (*on_peer_closed)(void *user, uint64_t peer, bool ready,
			       enum cr_close_reason reason, const char *text);
	/* Log lines (connects, disconnects, warnings); any engine thread. */
	void (*on_log)(void *user, enum cr_log_level level, const char *text);
};

/* Fills cfg with the defaults noted above. Any thread. */
void cr_config_default(struct cr_config *cfg);

/* Creates an engine from cfg (copied). Returns 0 and *out, or a negative
 * CR_E_* / -errno (*out = NULL). Nothing runs until cr_engine_start. */
int cr_engine_new(struct cr_engine **out, const struct cr_config *cfg);
/* Sets up rings and listen sockets and starts the threads. Returns 0 or a
 * negative error (the reason is also logged); the engine is then stopped. */
int cr_engine_start(struct cr_engine *e);
/* Stops accepting, flushes what it can within stop_flush_ms, closes every
 * peer (on_peer_closed with CR_CLOSE_STOP) and joins the threads. Blocks;
 * not from an engine thread. Safe to call twice. */
void cr_engine_stop(struct cr_engine *e);
/* Stops if needed and frees everything. */
void cr_engine_free(struct cr_engine *e);

/* The listening port after start (0 if not listening). Any thread. */
uint16_t cr_engine_port(const struct cr_engine *e);
/* Workers, and how many peers the engine can hold in all (sum of the
 * workers' fixed-file tables). Any thread, after start. */
unsigned cr_engine_workers(const struct cr_engine *e);
size_t cr_engine_capacity(const struct cr_engine *e);
/* Sums the workers' counters. Any thread. */
void cr_engine_totals(const struct cr_engine *e, struct cr_totals *out);

/* Flags for cr_connect. */
#define CR_CONNECT_PERSISTENT 1u /* keep it connected with backoff (addnode) */
#define CR_CONNECT_V1 2u         /* skip the V2 attempt */

/* Opens an outbound connection to "host:port" ("[v6]:port"; with a proxy a
 * host name is passed to the proxy). The coordinator places it on the
 * least-loaded worker; the outcome comes as on_peer_ready or
 * on_peer_closed. Returns 0 or a negative error (-EINVAL bad address). */
int cr_connect(struct cr_engine *e, const char *hostport, unsigned flags);

/* Queues one message (payload copied once). Returns 0, -ESTALE for an id
 * that is not a live peer, -EINVAL, -ENOMEM or -ESHUTDOWN. A peer that is
 * not writable still accepts the message: back-pressure is the caller's
 * choice (see cr_peer_writable). */
int cr_send(struct cr_engine *e, uint64_t peer, const char *command,
	    const uint8_t *payload, size_t len);

/* A refcounted message buffer the application fills in place, so that
 * sending it copies nothing: cr_msgbuf_new returns room for len payload
 * bytes (NULL on ENOMEM); cr_send_buf and cr_broadcast_buf take over the
 * caller's reference whatever they return; cr_msgbuf_free drops it unsent. */
struct cr_msgbuf;
struct cr_msgbuf *cr_msgbuf_new(size_t len);
uint8_t *cr_msgbuf_data(struct cr_msgbuf *b);
void cr_msgbuf_free(struct cr_msgbuf *b);
int cr_send_buf(struct cr_engine *e, uint64_t peer, const char *command, struct cr_msgbuf *b);

/* Sends one message to n peers (ids == NULL: every ready peer). V1 peers
 * share one encoded buffer (header + payload, no per-peer copy); V2 peers
 * encrypt per peer. Stale ids are skipped and counted. Returns 0 or a
 * negative error. */
int cr_broadcast(struct cr_engine *e, const uint64_t *ids, size_t n,
		 const char *command, const uint8_t *payload, size_t len);
int cr_broadcast_buf(struct cr_engine *e, const uint64_t *ids, size_t n,
		     const char *command, struct cr_msgbuf *b);

/* Closes a peer (on_peer_closed with CR_CLOSE_LOCAL). 0 or -ESTALE. Called
 * from a callback on the peer's own worker, on_peer_closed runs before
 * cr_disconnect returns (nested in that callback). */
int cr_disconnect(struct cr_engine *e, uint64_t peer);

/* Releases n bytes an on_message callback kept (see on_message). */
int cr_recv_done(struct cr_engine *e, uint64_t peer, size_t n);

/* 1 when the peer's send queue is under send_buffer_bytes, 0 when not,
 * -ESTALE for a dead id. Any thread (reads an atomic flag). */
int cr_peer_writable(const struct cr_engine *e, uint64_t peer);

/* Fills *out with a snapshot of the peer. Blocks until its worker answers
 * (immediate on that worker's own thread). Returns 0, -ESTALE (out zeroed)
 * or -EDEADLK when called from another worker's callback. */
int cr_peer_info(struct cr_engine *e, uint64_t peer, struct cr_peer_info *out);

/* Ids of up to cap live peers (ready or not) into ids; returns how many
 * were written. A snapshot: peers may close right after. Any thread. */
size_t cr_engine_peers(const struct cr_engine *e, uint64_t *ids, size_t cap);

/* Short names for the enums, for logs. Any thread. */
const char *cr_close_reason_str(enum cr_close_reason r);
const char *cr_conn_type_str(enum cr_conn_type t);

#ifdef __cplusplus
}
#endif

#endif
