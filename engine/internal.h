/* Engine internals shared by the engine's .c files: the engine, its workers,
 * peers, send buffers, mailboxes and timers. Nothing outside engine/ includes
 * this. Unless a comment says otherwise a worker's fields are touched only by
 * its own thread; the _Atomic fields are the ones other threads read. */
#ifndef CR_ENGINE_INTERNAL_H
#define CR_ENGINE_INTERNAL_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <connring/connring.h>

#include "addr/banlist.h"
#include "addr/rng.h"
#include "engine/compat.h"
#include "engine/config.h"
#include "engine/policy/addrrelay.h"
#include "engine/policy/flood.h"
#include "engine/policy/misbehave.h"
#include "engine/policy/poisson.h"
#include "engine/summary.h"
#include "proto/netaddr.h"
#include "proto/services.h"
#include "proto/transport.h"

/* ---- ids and user_data ------------------------------------------------ */

#define CR_SLOT_BITS 24

static inline uint64_t cr__id_make(unsigned w, uint32_t slot, uint32_t gen)
{
	return (uint64_t)w << 56 | (uint64_t)slot << 32 | gen;
}
static inline unsigned cr__id_worker(uint64_t id) { return (unsigned)(id >> 56); }
static inline uint32_t cr__id_slot(uint64_t id) { return (uint32_t)(id >> 32) & ((1u << CR_SLOT_BITS) - 1); }
static inline uint32_t cr__id_gen(uint64_t id) { return (uint32_t)id; }

/* user_data: op in the top byte, then a 24-bit index and a 32-bit
 * generation, so a completion for a reused slot is recognised as stale. */
enum cr_op {
	OP_NONE = 0,
	OP_ACCEPT,       /* idx = listener */
	OP_ACCEPT_RETRY, /* backoff timeout, idx = listener */
	OP_PEERNAME,     /* fixed-fd install to read the peer address */
	OP_PEERNAME_CMD, /* SO_PEERNAME getsockopt on the direct descriptor */
	OP_RECV,         /* multishot recv */
	OP_SEND,
	OP_SEND_ZC,      /* idx = zc entry */
	OP_SOCKET,
	OP_CONNECT,
	OP_CANCEL,       /* result ignored */
	OP_SHUTDOWN,     /* result ignored */
	OP_CLOSE,        /* result ignored */
	OP_TICK,         /* timer wheel */
	OP_DOORBELL,     /* MSG_RING from another thread */
	OP_DIRECT_RECV,  /* a large payload straight into place */
	OP_ABORT,        /* a closing peer's shutdown or cancel (counted in ops) */
	OP_BELL,         /* a doorbell we sent failed (success posts nothing): idx = target's bell_id */
};

static inline uint64_t cr__ud(enum cr_op op, uint32_t idx, uint32_t gen)
{
	return (uint64_t)op << 56 | (uint64_t)(idx & 0xffffff) << 32 | gen;
}
static inline enum cr_op cr__ud_op(uint64_t ud) { return (enum cr_op)(ud >> 56); }
static inline uint32_t cr__ud_idx(uint64_t ud) { return (uint32_t)(ud >> 32) & 0xffffff; }
static inline uint32_t cr__ud_gen(uint64_t ud) { return (uint32_t)ud; }

/* ---- send buffers ------------------------------------------------------ */

/* A refcounted byte buffer. Shared buffers (broadcast, cr_send from another
 * thread) are malloc'd and freed by whichever thread drops the last
 * reference; pool buffers belong to one worker and never leave it. */
struct cr_sbuf {
	_Atomic uint32_t ref;
	uint32_t pool;    /* 1: from the owning worker's small pool */
	size_t len;       /* bytes used */
	size_t cap;
	uint8_t *data;    /* = inline storage, or the payload of a cr_msgbuf */
	struct cr_sbuf *next_free;
	/* The engine whose send_mem counts this buffer (set once, by the
	 * worker that allocates or first queues it; a cr_msgbuf belongs to
	 * no engine until then). */
	struct cr_engine *_Atomic acct;
	uint8_t mem[];
};

#define CR_SMALL_BUF 1024 /* pool buffer size: version, ping, inv, V2 frames */

/* One queued piece of a peer's output. */
struct cr_seg {
	struct cr_seg *next;
	struct cr_sbuf *buf;
	uint32_t off, len; /* bytes of buf still to send */
};

struct cr_msgbuf; /* = a cr_sbuf with CR_V1_HEADER_SIZE bytes reserved in front */

/* ---- timers ------------------------------------------------------------ */

#define CR_WHEEL_SLOTS 512
#define CR_TICK_MS 50

struct cr_timer {
	struct cr_timer *prev, *next; /* in a wheel slot; NULL when unarmed */
	uint64_t due_tick;
};

struct cr_wheel {
	struct cr_timer slots[CR_WHEEL_SLOTS]; /* list heads */
	uint64_t now_tick;   /* last tick processed */
	uint64_t start_us;   /* monotonic time of tick 0 */
	unsigned armed;      /* timers in the wheel */
	bool tick_pending;   /* an OP_TICK timeout is in flight */
	uint64_t armed_tick; /* the tick it fires at */
	struct __kernel_timespec ts, ts_upd;
};

/* ---- mailbox ------------------------------------------------------------ */

enum cr_mail_kind {
	MAIL_SEND = 1,    /* peer, command, buf */
	MAIL_BCAST,       /* ids[n] or all, command, buf (header in front for V1) */
	MAIL_DISCONNECT,
	MAIL_RECV_DONE,   /* n */
	MAIL_INFO,        /* reply through waiter */
	MAIL_INFO_BULK,   /* waiter: up to cap peers from slot on */
	MAIL_CONNECT,     /* worker: open addr; flags, manual index */
	MAIL_STOP,
	/* to the coordinator */
	MAIL_EV_READY,    /* a peer finished its handshake: ev, addr */
	MAIL_EV_UPDATE,   /* min ping, last block/tx changed: ev */
	MAIL_EV_CLOSED,   /* a ready peer, or one the coordinator opened, is gone: ev */
	MAIL_CO_CONNECT,  /* cr_connect: place and open */
	MAIL_CO_TIP,      /* cr_tip_updated: ev.last_block_us = tip time */
	MAIL_CO_SNAPSHOT, /* copy the peer summaries: reply through waiter */
	/* inbound defence (guard.c, accept.c, ban.c) */
	MAIL_ADMIT,       /* worker -> coordinator: may this newcomer in? (struct cr_admit) */
	MAIL_ADMITTED,    /* coordinator -> worker: the same mail with the verdict */
	MAIL_INBOUND_DOWN, /* worker -> coordinator: an admitted inbound peer closed */
	MAIL_BANS,        /* coordinator -> worker: a new ban snapshot (ptr) */
	MAIL_BAN_OP,      /* API -> coordinator: setban/listbanned/... (waiter) */
	MAIL_PUNISH,      /* worker -> coordinator: discourage or ban an address */
	MAIL_MISBEHAVE,   /* API -> worker: cr_misbehaving */
	/* address relay (addr_in.c, addr_out.c, coord_addr.c): ptr = a
	 * struct cr__addr_batch in the mail's own storage */
	MAIL_ADDRS,       /* worker -> coordinator: a peer's accepted addr entries */
	MAIL_GETADDR,     /* worker -> coordinator: an inbound peer asks (batch without entries) */
	MAIL_ADDR_PUSH,   /* coordinator -> worker: queue these for the peer (relay) */
	MAIL_ADDR_SEND,   /* coordinator -> worker: send these now (getaddr answer) */
	/* added nodes, ping, network activity (api_net.c, coord_net.c) */
	MAIL_NET_OP,      /* API -> coordinator: enum cr_netop in reason (waiter) */
	MAIL_NET_WORKER,  /* coordinator -> worker: CR_NETOP_PING or CR_NETOP_OFF in reason */
};

/* MAIL_NET_OP's and MAIL_NET_WORKER's c->reason. */
enum cr_netop {
	CR_NETOP_ADD = 1,   /* host = "host:port", addr parsed */
	CR_NETOP_REMOVE,    /* host */
	CR_NETOP_LIST,      /* waiter->out, waiter->cap: struct cr_added_node */
	CR_NETOP_ACTIVE,    /* flags = 1 (on) or 0 (off) */
	CR_NETOP_PING,      /* every ready peer pings now */
	CR_NETOP_OFF,       /* (worker) close every peer: the network went inactive */
	/* the address manager (api_addrman.c) */
	CR_NETOP_AM_GET,    /* waiter->out, waiter->cap: struct cr_addr_entry; flags = net */
	CR_NETOP_AM_ADD,    /* ptr = struct cr_addr_entry; flags = tried */
	CR_NETOP_AM_SIZES,  /* waiter->out: struct cr_addrman_sizes */
	CR_NETOP_AM_IMPORT, /* ptr = struct cr_addr_import[n] */
};

/* The addresses one address mail carries, in the mail's trailing storage:
 * a[nstore + nrelay] (the relay candidates last), then reach[nrelay]. */
struct cr__addr_batch {
	uint32_t nstore, nrelay;  /* they and the peer's worker say what it counts */
	struct cr_netaddr source; /* the peer it came from */
	uint16_t local_port;      /* MAIL_GETADDR: our side of the connection */
	struct cr_netaddr local;
	uint8_t netclass;         /* MAIL_GETADDR: the network it came through */
	bool addr_perm;           /* the addr permission: answered in full, not cached */
	bool *reach;
	struct cr_peeraddr a[];
};
/* Address mail in flight per worker (both directions) at most this: a
 * flood from many peers waits in no queue, it is dropped and counted. */
#define CR_ADDR_MAIL_MAX (2u << 20)

/* A peer event for the coordinator's summary table (engine/summary.h). */
struct cr__peer_ev {
	uint64_t token;          /* the coordinator's connect token, 0 = none */
	uint8_t type;            /* enum cr_conn_type */
	uint8_t transport;       /* 1 = V1, 2 = V2 */
	bool ready;              /* CLOSED: it had finished its handshake */
	bool relay;              /* fRelay of its version */
	int32_t version;
	uint64_t services;
	uint64_t connected_us;   /* wall clock */
	int64_t min_ping_us;     /* -1 = none */
	int64_t last_block_us;   /* wall clock, 0 = never */
	int64_t last_tx_us;
	unsigned close_reason;   /* enum cr_close_reason */
	uint32_t permissions;    /* CR_PERM_* */
	bool prefer_evict;       /* discouraged when it connected */
	bool addr_relay;         /* address relay is set up (Core's m_addr_relay_enabled) */
	bool addrv2;             /* it sent sendaddrv2 */
};

struct cr__summary_snap;
struct cr_waiter {
	_Atomic int done;
	int ret;
	struct cr_peer_info *info;
	size_t cap;                 /* MAIL_INFO_BULK: entries of info; MAIL_BAN_OP: of out */
	uint32_t slot;              /* MAIL_INFO_BULK: first slot; past the last read on return */
	struct cr__summary_snap *snap; /* MAIL_CO_SNAPSHOT */
	void *out;                  /* MAIL_BAN_OP list: cap entries */
};

/* MAIL_ADMITTED's verdict: CR_ACCEPT_OK, one of enum cr_accept_verdict's
 * refusals, or one of these (CR_ACCEPT_EVICT itself is never answered). */
#define CR_VERDICT_FULL ((uint8_t)CR_ACCEPT_VERDICT_MAX)           /* every inbound peer protected */
#define CR_VERDICT_EVICT_WAIT ((uint8_t)(CR_ACCEPT_VERDICT_MAX + 1)) /* too many wait, or too long */
#define CR_VERDICT_EMBEDDER ((uint8_t)(CR_ACCEPT_VERDICT_MAX + 2))   /* (worker) on_accept said no */
#define CR_VERDICT_GONE ((uint8_t)(CR_ACCEPT_VERDICT_MAX + 3))       /* (worker) left before admission */

/* What the coordinator needs to admit an inbound newcomer, and its answer
 * (MAIL_ADMIT / MAIL_ADMITTED). */
struct cr_admit {
	struct cr_netaddr na;
	uint64_t keyed_netgroup;
	uint32_t perms;
	bool local;              /* loopback: one netgroup for every local process */
	uint8_t verdict;         /* enum cr_accept_verdict */
	bool discouraged;
	unsigned inbound, inbound_max, outbound, group_inbound; /* at the decision */
	uint64_t deadline_us;    /* waiting for an evicted peer's slot until then */
};

/* Mail between threads: a request to a worker (send, disconnect, info,
 * connect, stop) or an event for the coordinator, as an intrusive node of
 * the receiving ring's MPSC queue. */
struct cr_mail {
	_Atomic(struct cr_mail *) next;
	enum cr_mail_kind kind;
	uint64_t peer;
	char command[CR_COMMAND_MAX + 1];
	struct cr_sbuf *buf;
	size_t n;
	unsigned flags;
	uint32_t manual;            /* coordinator's manual index, or UINT32_MAX */
	int reason;
	struct cr_waiter *waiter;
	struct cr__peer_ev ev;      /* MAIL_EV_*, MAIL_CONNECT (token, type) */
	struct sockaddr_storage addr;
	char host[CR_HOSTPORT_MAX]; /* for the proxy: "host:port" as given */
	size_t nids;
	uint64_t *ids;              /* MAIL_BCAST: nids ids (nids 0 = all ready peers),
	                               stored right after the mail */
	struct cr_admit admit;      /* MAIL_ADMIT(TED), MAIL_INBOUND_DOWN (keyed netgroup),
	                               MAIL_PUNISH (na) */
	void *ptr;                  /* MAIL_BANS: struct cr_bansnap */
	int64_t t;                  /* MAIL_BAN_OP: ban time; MAIL_MISBEHAVE: score */
};

/* Vyukov's intrusive MPSC queue plus a doorbell flag. */
struct cr_mailbox {
	_Atomic(struct cr_mail *) tail; /* producers swap here */
	struct cr_mail *head;           /* consumer only */
	struct cr_mail stub;
	_Atomic int rung;              /* a doorbell is on its way */
	_Atomic int closed;            /* its ring is gone: drained under bell_lock */
	int ring_fd;                   /* target ring for MSG_RING */
	uint32_t bell_id;              /* worker index, or CR_BELL_COORD: names it in a failed bell's CQE */
};
#define CR_BELL_COORD 0xffffffu
#define CR_BELL_NONE 0xfffffeu

/* ---- peers -------------------------------------------------------------- */

enum cr_peer_state {
	PS_FREE = 0,
	PS_CONNECTING, /* socket + connect in flight */
	PS_PROXY,      /* SOCKS5 exchange */
	PS_OPEN,       /* transport running, handshake in progress */
	PS_READY,      /* verack exchanged */
	PS_CLOSING,    /* waiting for in-flight operations to end */
	PS_ACCEPTING,  /* inbound, not admitted yet: no transport, nothing read */
};

/* struct cr_peer.flags (libuv's handle flags: one word, not a row of bools). */
enum cr_peer_flag {
	PF_INBOUND = 1u << 0,
	PF_COUNTED_INBOUND = 1u << 1, /* holds one of the engine's inbound slots */
	PF_TRY_V2 = 1u << 2,          /* outbound V2 attempt (may fall back) */
	PF_T_INIT = 1u << 3,          /* *t is initialised */
	PF_RECV_ARMED = 1u << 4,      /* multishot recv in flight */
	PF_RECV_PAUSED = 1u << 5,     /* flood control: recv not re-armed */
	PF_SEND_INFLIGHT = 1u << 6,
	PF_SENT_VERSION = 1u << 7,
	PF_GOT_VERSION = 1u << 8,
	PF_GOT_VERACK = 1u << 9,
	PF_SENT_VERACK = 1u << 10,
	PF_IN_DIRTY = 1u << 11,       /* on the worker's flush list */
	PF_DIRECT_PENDING = 1u << 12, /* receiving a large payload straight into place */
	PF_DIRECT_ARMED = 1u << 13,   /* an OP_DIRECT_RECV is in flight */
	PF_NO_ZC = 1u << 14,          /* the kernel copied our zero-copy sends: stop trying */
	PF_REARM_QUEUED = 1u << 15,   /* on the worker's re-arm list */
	PF_WANTS_ADDRV2 = 1u << 16,   /* sent sendaddrv2 before verack (BIP155) */
	PF_IDENTIFIED = 1u << 17,     /* na, keyed_netgroup, netclass, perms are set */
	PF_GETADDR_RECVD = 1u << 18,  /* answered its getaddr (once per connection, as Core) */
};

#define CR_IOV_BATCH 16
#define CR_MSG_ROWS CR_MSG_STATS_MAX

struct cr_msg_row {
	char command[CR_COMMAND_MAX + 1];
	uint32_t msgs_sent, msgs_recv;
	uint64_t bytes_sent, bytes_recv;
};

struct cr_peer {
	uint32_t gen;
	uint32_t slot;
	int fd;                  /* fixed-file index, -1 when none */
	uint8_t state;
	uint8_t type;            /* enum cr_conn_type */
	uint32_t flags;          /* PF_* */
	uint32_t direct_got;     /* bytes of the current payload received directly */
	uint16_t ops;            /* operations in flight (final CQE pending) */
	uint32_t manual;         /* coordinator's manual index or UINT32_MAX */
	unsigned connect_flags;
	uint64_t token;          /* the coordinator's connect token, 0 = none */
	int64_t last_block_us;   /* wall clock: last new block it announced (embedder) */
	int64_t last_tx_us;      /* ... last new transaction */
	uint64_t ev_sent_us;     /* monotonic: last MAIL_EV_UPDATE posted */
	struct cr_peer *next_dirty;
	struct cr_peer *next_close;
	struct cr_peer *next_rearm;

	struct sockaddr_storage addr;
	struct sockaddr_storage conn_to; /* connect target (peer or proxy) */
	char host[CR_HOSTPORT_MAX]; /* proxy target "host:port", "" otherwise */
	struct cr_transport *t;  /* slab memory, cr_transport_size() bytes */
	void *socks;             /* SOCKS5 client state while in PS_PROXY */

	/* output */
	struct cr_seg *sq_head, **sq_tail;
	size_t sq_bytes;
	struct iovec iov[CR_IOV_BATCH];
	struct msghdr mh;

	/* input */
	size_t held_bytes;       /* kept by the application (on_message) */
	uint8_t pause;           /* PAUSE_*: why the recv is not re-armed (0 = it runs) */
	uint8_t budget_list;     /* BL_*: on the worker's reserved or waiting list */
	uint32_t stash_len, stash_off; /* input received but not processed (PAUSE_SEND) */
	uint8_t *stash;
	uint32_t recv_reserved;  /* receive budget reserved for the large message in progress */
	uint32_t recv_mem;       /* receive memory last counted (transport buffer + stash) */
	struct cr_peer *bnext, *bprev; /* reserved or waiting list */

	/* timers and handshake */
	struct cr_timer tm;
	uint64_t connected_us, last_send_us, last_recv_us; /* monotonic */
	uint64_t connected_wall_us;
	uint64_t open_us;        /* monotonic, for the handshake timeout */
	uint64_t ping_nonce, ping_sent_us, next_ping_us;
	uint64_t version_nonce;
	int64_t ping_last_us, ping_min_us;

	/* what the peer told us */
	int32_t version;
	uint64_t services;
	int32_t start_height;
	bool relay;
	char user_agent[CR_UA_MAX + 1];

	/* statistics */
	uint64_t bytes_sent, bytes_recv, msgs_sent, msgs_recv;
	unsigned nrows;
	struct cr_msg_row rows[CR_MSG_ROWS];

	/* who it is, for bans, permissions and eviction (PF_IDENTIFIED) */
	struct cr_netaddr na;    /* its address as addr/ sees it */
	uint64_t keyed_netgroup;
	uint32_t perms;          /* CR_PERM_* */
	uint8_t netclass;        /* enum cr_netclass it came through */
	bool is_local;           /* loopback (Core's IsLocal) */
	bool prefer_evict;       /* discouraged when it connected */
	uint8_t listener;        /* inbound: the listener that accepted it */
	struct cr_banscore score; /* ban score mode only */
	struct cr_addr_relay *ar; /* address relay state once set up (addr_in.c), else NULL */
};

/* Why a peer's input is paused (struct cr_peer.pause); any one keeps the
 * recv from being re-armed. */
enum {
	PAUSE_FLOOD = 1u << 0,  /* the application keeps > recv_flood_bytes (Core's fPauseRecv) */
	PAUSE_SEND = 1u << 1,   /* its send queue is at send_buffer_bytes (Core's fPauseSend) */
	PAUSE_BUDGET = 1u << 2, /* waits for the worker's receive budget */
};

/* Which budget list a peer is on (struct cr_peer.budget_list). */
enum { BL_NONE = 0, BL_RESERVED, BL_WAITING };

/* A message may be this large before its peer needs a reservation from
 * the receive budget; smaller ones are bounded per peer instead. */
#define CR_RECV_FREE_BYTES 65536u
/* Until the handshake is done a peer may send messages of this payload at
 * most: a version message is under 400 bytes (Core caps its user agent at
 * 256); the rest leaves room for BIP324 decoys. */
#define CR_HANDSHAKE_MAX_PAYLOAD 4096u

/* Sets or clears one PF_* flag of a peer. */
static inline void cr__peer_flag(struct cr_peer *p, unsigned flag, bool on)
{
	p->flags = on ? p->flags | flag : p->flags & ~flag;
}

/* A peer slot's public word, readable by any thread: generation in the low
 * 32 bits (0 = free or closing), CR_PUB_WRITABLE and CR_PUB_READY above. */
#define CR_PUB_WRITABLE (1ull << 32)
#define CR_PUB_READY (1ull << 33)

/* ---- workers ------------------------------------------------------------ */

#define CR_MAX_LISTENERS (2 * CR_BIND_MAX)
#define CR_ZC_MAX 4096

struct cr_listener {
	int fd;                 /* normal descriptor (SO_REUSEPORT) */
	int family;             /* AF_INET or AF_INET6 (V6ONLY) */
	uint32_t perms;         /* -whitebind permissions (CR_PERM_*, maybe IMPLICIT) */
	struct sockaddr_storage local; /* the address it listens on */
	bool armed;
	bool multi;             /* the armed accept is multishot */
	unsigned backoff_ms;
	struct __kernel_timespec ts;
};

/* A zero-copy send in flight: holds its buffer until the notification. */
struct cr_zc {
	struct cr_sbuf *buf;
	uint32_t slot, gen;
	uint32_t next_free;
};

/* Counters: written by the owner with relaxed stores, read by anyone. */
struct cr_wstats {
	_Atomic uint64_t v[sizeof(struct cr_totals) / sizeof(uint64_t)];
};
#define CR_STAT_IDX(field) (offsetof(struct cr_totals, field) / sizeof(uint64_t))
#define CR_STAT_ADD_AT(w, idx, n)                                                       \
	atomic_store_explicit(&(w)->stats.v[(idx)],                                       \
			      atomic_load_explicit(&(w)->stats.v[(idx)], memory_order_relaxed) + \
				      (uint64_t)(n),                                            \
			      memory_order_relaxed)
#define CR_STAT_ADD(w, field, n)                                                        \
	atomic_store_explicit(&(w)->stats.v[CR_STAT_IDX(field)],                          \
			      atomic_load_explicit(&(w)->stats.v[CR_STAT_IDX(field)],     \
						   memory_order_relaxed) + (n),           \
			      memory_order_relaxed)

struct cr_worker {
	struct cr_engine *e;
	unsigned idx;
	pthread_t thread;
	bool thread_started;
	struct io_uring ring;
	bool ring_ok;
	struct cr_mailbox mb;
	struct cr_secp *secp;

	/* provided buffers: nbufs of buf_size bytes reserved (untouched until
	 * used), the first nbufs_given of them handed to the kernel; more are
	 * given (doubling) when a recv finds the ring empty */
	struct io_uring_buf_ring *br;
	uint8_t *bufs;
	unsigned nbufs, nbufs_given, buf_size, buf_mask, br_added;

	/* peer slab: cap slots reserved (zero pages the kernel maps only when
	 * written), slots [fresh, cap) never used; a freed slot goes on the
	 * free_slots stack and is reused first, so the slab's resident part
	 * follows the peak peer count, not the capacity */
	uint32_t cap;            /* slots = fixed-file table size */
	struct cr_peer *peers;
	uint8_t *tmem;           /* transports, cap * tsize */
	size_t tsize;
	_Atomic uint64_t *pub;   /* cap public words */
	uint32_t *free_slots;
	uint32_t nstack;         /* slots on free_slots */
	uint32_t fresh;          /* first slot never used */
	uint32_t nfree;          /* nstack + cap - fresh: slots available */
	_Atomic uint32_t npeers; /* live peers, read by the coordinator */
	_Atomic uint32_t placing; /* connects placed here, not yet started */

	struct cr_peer *dirty;   /* peers with output to flush */
	struct cr_peer *closing; /* peers to free after this batch */
	struct cr_peer *rearm;   /* peers whose recv ended: re-arm after the batch */

	struct cr_listener ls[CR_MAX_LISTENERS];
	unsigned nls;
	bool accept_paused;      /* every slot taken: newcomers wait in the backlog */

	struct cr_wheel wheel;

	/* pools */
	struct cr_sbuf *free_small;
	struct cr_seg *free_segs;
	struct cr_zc *zc;
	uint32_t zc_free;        /* free list (CR_ZC_MAX = empty) */
	uint32_t zc_fresh;       /* entries [zc_fresh, CR_ZC_MAX) never used */

	bool stopping;
	uint64_t stop_deadline_us;
	bool stop_walked, stop_late_walked; /* stop_step walked the slab (at the deadline) */
	bool stop_flushing;      /* a peer was left open to flush its output */
	bool done;
	struct __kernel_timespec connect_ts;
	uint8_t rnd[512];        /* getrandom() output not yet used (wiped as used) */
	unsigned rnd_left;

	/* receive budget (budget.c): this worker's share, the part reserved
	 * by peers receiving large messages, and who waits for it */
	size_t recv_share, recv_reserved;
	size_t stash_total;                   /* input paused peers hold (recv.c) */
	struct cr_peer *res_head;             /* reserved: doubly linked by bnext/bprev */
	struct cr_peer *wait_head, *wait_tail; /* waiting, oldest first */
	uint64_t budget_scan_us;              /* next stall scan (0 = none due) */

	struct cr_wstats stats;
	struct cr_bansnap *bans; /* the ban snapshot this worker checks (ban.c) */

	/* address relay (addr_in.c): the policy RNG, a buffer of 2 x
	 * CR_ADDR_MAX_PER_MSG entries, and address mail in flight (any thread) */
	struct cr_rng addr_rng;  /* seeded when the worker thread starts */
	struct cr_peeraddr *addr_scratch;
	uint8_t *addr_wire;      /* an addr/addrv2 message being built (addr_out.c) */
	_Atomic uint64_t addr_mail_bytes;
	_Atomic uint64_t addr_mail_peak; /* the most addr_mail_bytes ever was */
};

/* An immutable copy of the bans shared by every worker: each holds one
 * reference and drops it, on its own thread, when it installs the next
 * one, so a snapshot is freed only once no worker can be reading it. */
struct cr_bansnap {
	_Atomic unsigned ref;
	struct cr_banlist *bl;   /* cr_banlist_snapshot: read-only */
};

/* ---- coordinator and engine --------------------------------------------- */

#define CR_NONCE_SLOTS 1024
#define CR_NONCE_PROBES 8

struct cr_manual {
	char hostport[CR_HOSTPORT_MAX];
	struct sockaddr_storage addr;
	unsigned flags;          /* CR_CONNECT_* */
	bool connected, pending;
	bool removed;            /* addnode remove: kept as a tombstone, as peers name it by index */
	bool connect_opt;        /* from -connect (not an added node: getaddednodeinfo leaves it out) */
	unsigned retries;
	uint64_t next_us;        /* monotonic time of the next attempt (0 = now) */
};

struct cr__sched;

struct cr_coord {
	pthread_t thread;
	bool thread_started;
	struct io_uring ring;
	bool ring_ok;
	struct cr_mailbox mb;
	struct cr__summaries sum;     /* peer summaries (summary.h) */
	bool sum_ok;
	int64_t last_tip_us;          /* monotonic: last cr_tip_updated (0 = never) */
	int64_t tip_block_us;         /* wall: that tip's block time */
	struct cr_manual *manual;
	unsigned nmanual, cap_manual;
	/* wake-up: the earliest deadline asked this loop iteration
	 * (monotonic), and the one absolute timeout in flight (0 = none),
	 * moved by a timeout update (coord.c) */
	uint64_t wake_want_us, wake_armed_us;
	struct __kernel_timespec wake_ts, wake_ts_upd;
	bool stop;
	struct cr_guard *guard;  /* bans, admission, eviction (guard.c) */
	struct cr_coord_addr *addr; /* address relay and getaddr answers (coord_addr.c) */
	/* automatic connections (coord_am.c, coord_sched.c): the address
	 * manager, the asmap its netgroups use, the policy RNG */
	struct cr_addrman *am;
	struct cr_asmap *asmap;
	struct cr_rng rng;
	uint64_t am_save_us;     /* monotonic: the next periodic save */
	struct cr__sched *sched; /* NULL: no automatic connections (coord_sched.h) */
	struct cr_wstats stats;  /* the coordinator's counters (summed into cr_totals) */
};

struct cr_engine {
	struct cr_config cfg;
	const struct cr_chain *chain;
	char user_agent[CR_UA_MAX + 1];
	unsigned nworkers;
	struct cr_worker *w;
	struct cr_coord co;
	uint16_t port;
	bool started, stopped;
	bool feat_defer;         /* rings run with SINGLE_ISSUER | DEFER_TASKRUN */
	bool feat_zc_report;
	bool feat_fd_install;
	atomic_bool no_peername_cmd; /* SO_PEERNAME via URING_CMD refused once */
	/* setnetworkactive false: no connection accepted or opened (written
	 * by the coordinator, read by every thread) */
	atomic_bool net_off;

	/* inbound budget: the coordinator sets the limit, workers take slots */
	_Atomic unsigned inbound_max;
	_Atomic unsigned inbound_now;
	_Atomic unsigned outbound_now;

	/* our outbound version nonces, for self-connection detection: open
	 * addressing, a nonce sits in one of CR_NONCE_PROBES slots from its
	 * hash (a crowded table only costs that peer its detection) */
	_Atomic uint64_t nonces[CR_NONCE_SLOTS];

	struct sockaddr_storage proxy; /* parsed from cfg.proxy at cr_engine_new */
	bool has_proxy;
	uint64_t netgroup_secret;  /* keys netgroups for eviction; never leaves the process */

	/* a small ring for doorbells rung by non-engine threads */
	pthread_mutex_t bell_lock;
	struct io_uring bell;
	bool bell_ok;
	_Atomic int stop_flag;
	_Atomic uint64_t api_copy_bytes; /* payload copies made by cr_send/cr_broadcast */
	/* send budget: bytes of every send buffer alive (shared broadcast
	 * buffers once, pool buffers while pooled), engine-wide */
	_Atomic uint64_t send_mem;

	/* address relay: keys of the known-address and relay hashes, our own
	 * address (external_ip) and the shared inbound send timers
	 * (cr_next_inv_send_us, under inv_lock) */
	struct cr_addr_keys addr_keys;
	struct cr_peeraddr self;
	bool has_self;
	/* cr_import_addresses before cr_engine_start: copied here, placed by
	 * cr__coord_am_start before the scheduler's first pass, then freed */
	struct cr_addr_import *import;
	size_t nimport;
	pthread_mutex_t inv_lock;
	struct cr_inbound_timers inv;
	struct cr_rng inv_rng;
};

/* Our services as peers see them (version, our own address, the
 * scheduler's V2 choice): the configured ones, and NODE_P2P_V2 while V2 is
 * on (Core adds it to nLocalServices with -v2transport). */
static inline uint64_t cr__local_services(const struct cr_engine *e)
{
	return e->cfg.services | (e->cfg.v2transport ? CR_NODE_P2P_V2 : 0);
}

/* A connect mail placed by the coordinator (counted in w->placing). */
#define CR_CONNECT_PLACED 0x100u

/* ---- functions between files ---------------------------------------------- */

/* sys.c: clocks, randomness, logging */
uint64_t cr__now_us(void);      /* monotonic */
uint64_t cr__wall_us(void);
void cr__random(void *out, size_t len);
void cr__wrandom(struct cr_worker *w, void *out, size_t len);
void cr__log(struct cr_engine *e, enum cr_log_level lvl, enum cr_log_category cat, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
extern _Thread_local struct cr_worker *cr__cur_worker;
extern _Thread_local struct cr_coord *cr__cur_coord;

/* netaddr.c: socket addresses through addr/'s text forms */
int cr__sockaddr_parse(struct sockaddr_storage *out, const char *s, uint16_t default_port,
		       unsigned flags);
void cr__sockaddr_str(const struct sockaddr_storage *ss, char *out, size_t cap);
uint16_t cr__sockaddr_port(const struct sockaddr_storage *ss);
void cr__sockaddr_set_port(struct sockaddr_storage *ss, uint16_t port);
socklen_t cr__sockaddr_len(const struct sockaddr_storage *ss);
bool cr__sockaddr_to_netaddr(const struct sockaddr_storage *ss, struct cr_netaddr *out,
			     uint16_t *port);
bool cr__netaddr_to_sockaddr(const struct cr_netaddr *a, uint16_t port, struct sockaddr_storage *out);

/* ring.c */
int cr__ring_setup(struct cr_engine *e, struct io_uring *ring, unsigned entries, bool single_issuer);
void cr__ring_probe(struct cr_engine *e, struct io_uring *ring);
int cr__ring_wait(struct cr_engine *e, struct io_uring *ring, const char *who);
struct io_uring_sqe *cr__sqe(struct io_uring *ring);
unsigned cr__sqe_spilled(void); /* SQEs of this thread waiting for room (tests) */

/* api_peer.c: the worker of a live peer id (its public word says so), or
 * NULL. Any thread. */
struct cr_worker *cr__worker_of(const struct cr_engine *e, uint64_t id);

/* worker.c */
int cr__workers_setup(struct cr_engine *e);
int cr__workers_run(struct cr_engine *e);
void cr__workers_stop(struct cr_engine *e);
void cr__buf_return(struct cr_worker *w, unsigned bid);
void cr__bufs_grow(struct cr_worker *w);
void cr__worker_mail(struct cr_worker *w, struct cr_mail *c);
void cr__waiter_done(struct cr_waiter *wt, int ret); /* wakes the waiting caller */
void cr__worker_drain_dead(struct cr_worker *w);

/* mailbox.c */
void cr__mailbox_init(struct cr_mailbox *mb, int ring_fd);
void cr__mailbox_post(struct cr_engine *e, struct cr_mailbox *mb, struct cr_mail *c);
struct cr_mail *cr__mailbox_pop(struct cr_mailbox *mb);
void cr__mailbox_rearm(struct cr_mailbox *mb);
void cr__bell_failed(struct cr_engine *e, uint64_t user_data, int res);
void cr__mailbox_kick(struct cr_engine *e, struct cr_mailbox *mb);
struct cr_mail *cr__mail_new(enum cr_mail_kind kind, size_t nids);
void cr__mail_free(struct cr_mail *c);

/* timer.c */
void cr__wheel_init(struct cr_wheel *wh);
void cr__timer_set(struct cr_worker *w, struct cr_timer *t, uint64_t due_us);
void cr__timer_cancel(struct cr_worker *w, struct cr_timer *t);
void cr__wheel_tick(struct cr_worker *w);
void cr__wheel_wake_soon(struct cr_worker *w);

/* sendq.c */
struct cr_sbuf *cr__sendq_buf_new(struct cr_worker *w, size_t cap);
struct cr_sbuf *cr__sendq_buf_shared(size_t cap, size_t headroom);
void cr__sendq_buf_ref(struct cr_sbuf *b);
void cr__sendq_buf_unref(struct cr_worker *w, struct cr_sbuf *b);
void cr__sendq_push(struct cr_worker *w, struct cr_peer *p, struct cr_sbuf *b, size_t off, size_t len);
int cr__sendq_msg(struct cr_worker *w, struct cr_peer *p, const char *cmd,
		  const uint8_t *payload, size_t len);
int cr__sendq_shared(struct cr_worker *w, struct cr_peer *p, const char *cmd,
		     struct cr_sbuf *b, bool has_header);
void cr__sendq_flush(struct cr_worker *w, struct cr_peer *p);
void cr__sendq_complete(struct cr_worker *w, struct cr_peer *p, int res, uint32_t flags);
void cr__sendq_zc_for(struct cr_worker *w, struct cr_peer *p,
		      const struct sockaddr_storage *sock_peer);
void cr__sendq_zc_notif(struct cr_worker *w, uint32_t idx, int res, uint32_t flags);
void cr__sendq_clear(struct cr_worker *w, struct cr_peer *p);
void cr__sendq_pools_free(struct cr_worker *w);
void cr__sendq_pump_transport(struct cr_worker *w, struct cr_peer *p);

/* peer.c */
struct cr_peer *cr__peer_alloc(struct cr_worker *w);
struct cr_peer *cr__peer_get(struct cr_worker *w, uint32_t slot, uint32_t gen);
struct cr_peer *cr__peer_by_id(struct cr_worker *w, uint64_t id);
uint64_t cr__peer_id(const struct cr_worker *w, const struct cr_peer *p);
void cr__peer_close(struct cr_worker *w, struct cr_peer *p, enum cr_close_reason r, const char *text);
void cr__peer_op_done(struct cr_worker *w, struct cr_peer *p);
void cr__reap_closing(struct cr_worker *w);
void cr__peer_fill_info(struct cr_worker *w, struct cr_peer *p, struct cr_peer_info *out);
struct cr_msg_row *cr__peer_row(struct cr_peer *p, const char *cmd);
void cr__peer_publish(struct cr_worker *w, struct cr_peer *p);
int cr__peer_transport_start(struct cr_worker *w, struct cr_peer *p, bool initiator, bool v2);

/* recv.c */
void cr__recv_arm(struct cr_worker *w, struct cr_peer *p);
void cr__recv_complete(struct cr_worker *w, struct cr_peer *p, int res, uint32_t flags);
void cr__recv_direct_complete(struct cr_worker *w, struct cr_peer *p, int res);
void cr__recv_release(struct cr_worker *w, struct cr_peer *p, size_t n);
void cr__recv_rearm_all(struct cr_worker *w);
void cr__recv_feed(struct cr_worker *w, struct cr_peer *p, const uint8_t *in, size_t len);
void cr__recv_pause(struct cr_worker *w, struct cr_peer *p, unsigned why);
void cr__recv_unpause(struct cr_worker *w, struct cr_peer *p, unsigned why);
void cr__recv_send_drained(struct cr_worker *w, struct cr_peer *p);

/* budget.c */
void cr__budget_setup(struct cr_engine *e);
void cr__budget_account(struct cr_worker *w, struct cr_peer *p);
void cr__budget_check(struct cr_worker *w, struct cr_peer *p);
void cr__budget_release(struct cr_worker *w, struct cr_peer *p);
void cr__budget_forget(struct cr_worker *w, struct cr_peer *p);
void cr__budget_scan(struct cr_worker *w);
bool cr__send_over_budget(const struct cr_engine *e);

/* accept.c */
int cr__listen_open(struct cr_engine *e);
void cr__accept_arm(struct cr_worker *w, unsigned li);
void cr__accept_complete(struct cr_worker *w, unsigned li, int res, uint32_t flags);
void cr__accept_retry(struct cr_worker *w, unsigned li);
void cr__peername_complete(struct cr_worker *w, struct cr_peer *p, int res);
void cr__peername_cmd_complete(struct cr_worker *w, struct cr_peer *p, int res);
void cr__listen_close(struct cr_worker *w);
void cr__accept_pause(struct cr_worker *w);
void cr__accept_resume(struct cr_worker *w);

/* connect.c */
void cr__connect_start(struct cr_worker *w, struct cr_mail *c);
void cr__socket_complete(struct cr_worker *w, struct cr_peer *p, int res);
void cr__connect_complete(struct cr_worker *w, struct cr_peer *p, int res);
int cr__proxy_recv(struct cr_worker *w, struct cr_peer *p, const uint8_t *in, size_t len);
void cr__connect_retry_v1(struct cr_worker *w, struct cr_peer *old);

/* node.c */
void cr__node_open(struct cr_worker *w, struct cr_peer *p);
void cr__node_progress(struct cr_worker *w, struct cr_peer *p);
int cr__node_message(struct cr_worker *w, struct cr_peer *p, const struct cr_msg *m, size_t wire_len);
void cr__node_timer(struct cr_worker *w, struct cr_peer *p);
void cr__node_schedule(struct cr_worker *w, struct cr_peer *p); /* re-arms the peer's timer */

/* coord.c */
int cr__coord_start(struct cr_engine *e);
/* Stops the coordinator thread; cr__coord_finish (after the workers
 * stopped) drains its mailbox and frees the rest. */
void cr__coord_stop(struct cr_engine *e);
void cr__coord_finish(struct cr_engine *e);
/* Posts a peer event (MAIL_EV_*) for p to the coordinator; the worker's
 * thread. Lost only when out of memory (logged). */
void cr__coord_peer_event(struct cr_worker *w, struct cr_peer *p, enum cr_mail_kind kind,
			  bool ready, enum cr_close_reason why);
/* A connect that never got a peer slot: the coordinator hears it closed. */
void cr__coord_connect_failed(struct cr_engine *e, const struct cr_mail *connect);
/* Places an outbound connection on the least-loaded worker (coordinator). */
void cr__coord_place(struct cr_engine *e, const struct sockaddr_storage *addr, const char *host,
		     unsigned flags, uint32_t manual, enum cr_conn_type type, uint64_t token);
/* summary.c: the coordinator's answer to MAIL_CO_SNAPSHOT. */
void cr__summary_answer(struct cr_engine *e, struct cr_waiter *wt, int ret);
void cr__coord_event(struct cr_engine *e, enum cr_mail_kind kind, uint32_t manual, bool was_ready);
void cr__coord_drain_dead(struct cr_engine *e);
/* api_guard.c: posts c with waiter wt to the coordinator and waits for
 * its answer (not from an engine thread); returns wt->ret. */
int cr__coord_call(struct cr_engine *e, struct cr_mail *c, struct cr_waiter *wt);
/* coord_net.c: added nodes, ping, network activity. The coordinator's
 * MAIL_NET_OP (coordinator thread) and a worker's MAIL_NET_WORKER (its
 * thread); cr__coord_add_manual appends to the manual list. */
void cr__coord_net_mail(struct cr_engine *e, struct cr_mail *c);
void cr__worker_net_mail(struct cr_worker *w, struct cr_mail *c);
/* api_addrman.c: the CR_NETOP_AM_* calls (coordinator thread); returns
 * the caller's answer. */
int cr__coord_am_op(struct cr_engine *e, struct cr_mail *c);
/* Places n imported entries in e->co.am (coordinator thread, or the
 * starting thread before the coordinator runs); returns how many were
 * newly placed. */
size_t cr__am_import(struct cr_engine *e, const struct cr_addr_import *in, size_t n);
int cr__coord_add_manual(struct cr_engine *e, const char *hostport, const struct sockaddr_storage *addr,
			 unsigned flags);
/* addr_in.c: the networks we can reach (CR_ADDRMAN_NET bits): IPv4, IPv6,
 * Tor through a proxy, within -onlynet. The addr relay and the scheduler
 * share it. */
unsigned cr__reachable_nets(const struct cr_engine *e);
static inline bool cr__net_active(const struct cr_engine *e)
{
	return !atomic_load_explicit(&e->net_off, memory_order_relaxed);
}

/* coord_am.c: the coordinator's address manager. _start and _finish on
 * the thread starting/stopping the engine (before the coordinator thread
 * runs, after it ended); _tick and _stop on the coordinator thread.
 * _start: 0, or an error (a bad asmap, -ENOMEM). _tick saves when due and
 * returns the monotonic time it wants to run next. _stop: the clean stop's
 * save (the coordinator thread's last act). */
int cr__coord_am_start(struct cr_engine *e);
uint64_t cr__coord_am_tick(struct cr_engine *e, uint64_t now_us);
void cr__coord_am_stop(struct cr_engine *e);
void cr__coord_am_finish(struct cr_engine *e);
/* Wakes the coordinator at due_us (monotonic) or earlier: the loop arms
 * one timeout for the earliest deadline asked in an iteration; coordinator. */
void cr__coord_wake_at(struct cr_engine *e, uint64_t due_us);
/* Seconds since the epoch, the address manager's time. */
int64_t cr__coord_now_s(void);

/* guard.c: the coordinator's inbound defence (coordinator thread, except
 * _new/_free on the thread starting/stopping the engine) */
int cr__guard_new(struct cr_engine *e);
void cr__guard_free(struct cr_engine *e);
bool cr__guard_mail(struct cr_engine *e, struct cr_mail *c); /* true: mail kept */
bool cr__guard_tick(struct cr_engine *e, uint64_t now_us);  /* true: wants another tick */
void cr__guard_batch_end(struct cr_engine *e);
/* For the scheduler: false when automatic outbound connections must not
 * go to a (banned or discouraged, as Core's OpenNetworkConnection). */
bool cr__guard_outbound_ok(struct cr_engine *e, const struct cr_netaddr *a);
/* The ban list itself, for the scheduler's view (coordinator thread). */
const struct cr_banlist *cr__guard_banlist(struct cr_engine *e);

/* ban.c: worker side of bans and misbehaviour (owner worker thread) */
void cr__bans_install(struct cr_worker *w, struct cr_bansnap *snap);
void cr__bansnap_unref(struct cr_bansnap *snap);
bool cr__peer_banned(struct cr_worker *w, const struct cr_peer *p);
void cr__peer_identify(struct cr_worker *w, struct cr_peer *p, unsigned dir);
/* A misbehaviour the engine detected (fatal: the transport is broken) or
 * the embedder reported; applies Core's rule or the ban score. persistent:
 * the points it scores in ban score mode (Core mode ignores them): Core
 * v27's last scores, e.g. CR_MISB_POINTS_ADDR_SIZE for an addr message of
 * more than 1,000 entries. */
#define CR_MISB_POINTS_FATAL 100      /* the connection ends anyway */
#define CR_MISB_POINTS_ADDR_SIZE 20   /* Core v27: "addr message size = %u" */
void cr__peer_misbehaving(struct cr_worker *w, struct cr_peer *p, uint32_t persistent,
			  bool fatal, const char *reason);

/* accept.c */
void cr__accept_admitted(struct cr_worker *w, struct cr_mail *c);

/* addr_in.c, addr_out.c: a peer's address messages and relay queue (owner
 * worker thread). _setup before the ready event (relay set up for
 * outbound peers that relay addresses), _ready after it (feeler closed,
 * getaddr sent). _message: < 0 when the peer was closed. _due_us: when
 * the peer's timer must fire for address work (monotonic; UINT64_MAX:
 * never); _timer runs it (false: the peer was closed). */
void cr__addr_setup(struct cr_worker *w, struct cr_peer *p);
void cr__addr_ready(struct cr_worker *w, struct cr_peer *p);
int cr__addr_message(struct cr_worker *w, struct cr_peer *p, const struct cr_msg *m, int type);
uint64_t cr__addr_due_us(struct cr_worker *w, const struct cr_peer *p);
bool cr__addr_timer(struct cr_worker *w, struct cr_peer *p, uint64_t now_us);
void cr__addr_mail(struct cr_worker *w, struct cr_mail *c);
void cr__addr_peer_free(struct cr_peer *p);
struct cr_addr_relay *cr__addr_relay_on(struct cr_worker *w, struct cr_peer *p);
/* Sends a[n] now in addr/addrv2 messages of up to 1,000 (mark_known: into
 * the peer's known addresses as well; the timer path's are already). */
void cr__addr_send_now(struct cr_worker *w, struct cr_peer *p, const struct cr_peeraddr *a, size_t n,
		       bool mark_known);
/* The worker's 2 x CR_ADDR_MAX_PER_MSG entries (allocated on first use;
 * NULL when out of memory). */
struct cr_peeraddr *cr__addr_scratch(struct cr_worker *w);
/* Address mail about peer: allocates a mail (c->peer = peer) with a
 * batch of n entries (+ nrelay reach flags; nstore = n, nrelay set)
 * counted against the cap of the peer's worker; NULL when over it or out
 * of memory. _done uncounts (by the same peer and counts) and frees. Any
 * thread. */
struct cr_mail *cr__addr_mail_new(struct cr_engine *e, enum cr_mail_kind kind, uint64_t peer, size_t n,
				  size_t nrelay);
void cr__addr_mail_done(struct cr_engine *e, struct cr_mail *c);

/* api_addr.c: a connection request to the coordinator (cr_connect,
 * cr_add_connection): hostport checked and parsed (a name only with a
 * proxy), flags as given, type 0 for a manual connection. Any thread.
 * Returns 0, -ESHUTDOWN, -ENOMEM or CR_E_BAD_ADDRESS (or the parser's). */
int cr__post_connect(struct cr_engine *e, const char *hostport, unsigned flags, enum cr_conn_type type);

/* api_addr.c: the engine's address keys, our own address and the inbound
 * timers, set up by cr_engine_new. */
void cr__addr_engine_init(struct cr_engine *e);

/* coord_addr.c: the coordinator's side (coordinator thread; _new/_free
 * on the thread starting/stopping the engine) */
int cr__coord_addr_new(struct cr_engine *e);
void cr__coord_addr_free(struct cr_engine *e);
bool cr__coord_addr_mail(struct cr_engine *e, struct cr_mail *c); /* true: its kind */
/* Sets the addrman_size gauge from the address manager (coordinator
 * thread): after the relay's additions, and meant for each loop of the
 * coordinator so that every other change (cr_add_peer_address, imports,
 * Good/Attempt) shows as well. */
void cr__coord_addr_gauge(struct cr_engine *e);

#endif
