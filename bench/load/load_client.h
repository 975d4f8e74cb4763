/* The client side of the bench/ load tools: N TCP peers to one or more
 * loopback targets, driven by io_uring (direct descriptors, multishot recv
 * into a provided-buffer ring, one send in flight per peer), across as many
 * rings (one thread each) as the fixed-file tables need. Peer g goes to
 * target g % ntargets from source address src_first + (g / ntargets) %
 * nsrc, so 4-tuples do not run out: each (source, target) pair has the
 * whole ephemeral port range to itself.
 *
 * What goes on the wire is a protocol plugged in through struct load_proto:
 * raw echo blocks for bench/ceiling, Bitcoin V1/V2 through proto/transport.h
 * for connring-load. The client handles connecting, the hold phase, message
 * scheduling (closed loop with k pings in flight, or a fixed rate per peer),
 * and the measurements (handshake time, RTT, message counts).
 *
 * load_run() is called once from the main thread; each ring runs on its own
 * thread; the protocol hooks run on the ring's thread. */
#ifndef CR_BENCH_LOAD_CLIENT_H
#define CR_BENCH_LOAD_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "bench/load/load_util.h"

enum load_msg { LOAD_PING, LOAD_INV, LOAD_BLOB };

#define LOAD_BLOB_SIZE (1u << 20)

/* Where a protocol hook writes and reports: one peer of one ring. */
struct load_sink {
	struct lthread *thr;
	uint32_t peer;
};

/* Room for n more bytes to send on this peer (NULL when out of memory);
 * load_out_commit() then adds the bytes actually written. */
uint8_t *load_out_reserve(struct load_sink *s, size_t n);
void load_out_commit(struct load_sink *s, size_t n);
/* The handshake is complete. */
void load_ready(struct load_sink *s);
/* One message (after the handshake) arrived; for an answer to a message we
 * timed, sent_ns is the send time it carried (0 = not a timed reply). */
void load_received(struct load_sink *s, uint64_t sent_ns);

struct load_proto {
	const char *name;
	size_t peer_size; /* per-peer state the client allocates for the hooks */
	/* Per-ring context (may return NULL when none is needed). */
	void *(*thread_init)(const void *arg, unsigned thread_index);
	void (*thread_free)(void *tctx);
	/* TCP connected: set up state, queue the first bytes; call load_ready
	 * at once if there is no handshake. 0 or a negative error. */
	int (*peer_start)(void *tctx, void *ps, unsigned global_index, struct load_sink *s);
	/* Bytes from the peer. 0 or a negative error (the peer is dropped). */
	int (*peer_recv)(void *tctx, void *ps, const uint8_t *in, size_t len, struct load_sink *s);
	/* Queue one message of the load; now_ns is stamped into it when the
	 * reply can carry it back. 0 or a negative error. */
	int (*peer_send)(void *tctx, void *ps, enum load_msg kind, uint64_t now_ns, struct load_sink *s);
	void (*peer_clear)(void *ps);
};

#define LOAD_MAX_TARGETS 64
#define LOAD_MAX_PEERS 2000000

struct load_opts {
	struct sockaddr_storage dst[LOAD_MAX_TARGETS];
	socklen_t dst_len[LOAD_MAX_TARGETS];
	unsigned ndst;
	uint32_t src_first;      /* IPv4 targets: first source address (host order) */
	unsigned nsrc;           /* source addresses used from src_first */
	unsigned peers;
	unsigned threads;        /* 0 = as many as the fixed-file limit needs */
	double rate;             /* new connections per second; 0 = as fast as possible */
	unsigned max_connecting; /* connects in flight at once, over all rings */
	enum load_msg msg;
	unsigned inv_k;          /* entries per inv */
	double msg_rate;         /* per peer per second; 0 = closed loop */
	unsigned inflight;       /* closed loop: pings in flight per peer */
	double duration_s;       /* hold phase */
	double connect_grace_s;  /* how long the connect phase may run past its schedule */
	unsigned live_ms;        /* live stats line on stderr every live_ms; 0 = none */
	int rss_pid;             /* > 0: report that process's RSS per peer and CPU per message */
	const struct load_proto *proto;
	const void *proto_arg;
};

struct load_result {
	unsigned peers_requested, peers_established, threads;
	double connect_s;        /* first connect to last handshake */
	double hold_s;           /* measured window */
	struct bu_hist handshake_us, rtt_us;
	uint64_t msgs_sent, msgs_recv; /* in the hold window */
	uint64_t errors, enobufs, send_blocked;
	long rss_before_kib, rss_hold_kib; /* -1 when not measured */
	long kern_before_kib, kern_hold_kib; /* bu_kernel_kib(), -1 when unreadable */
	int64_t cpu_ns;          /* rss_pid's CPU time over cpu_window_s, -1 when not measured */
	double cpu_window_s;
	uint64_t cpu_msgs;       /* messages answered (ping) or sent (others) in that window */
	int first_error; /* why the first failed peer failed (0 = none); see load_strerror */
};

/* first_error of a peer the other side closed. */
#define LOAD_ERR_EOF (-100000)

/* Optional: the protocol's own error texts (connring-load: cr_proto_strerror). */
extern const char *(*load_proto_strerror)(int err);
/* Readable text for a load_result.first_error. */
const char *load_strerror(int err);

/* Option helpers: adds a --connect HOST:PORT target; parses --src
 * FIRST[-LAST]. NULL, or why the argument is refused. */
const char *load_add_target(struct load_opts *o, const char *hostport);
const char *load_parse_src(struct load_opts *o, const char *arg);

/* The default source range: 127.0.0.2 and up, enough addresses that no
 * (source, target) pair needs more than ~8,000 ports. */
void load_default_sources(struct load_opts *o);

/* Runs the whole load; fills *res. Returns 0, or a negative error when the
 * load could not even start (rings, memory, too few 4-tuples). */
int load_run(const struct load_opts *o, struct load_result *res);

/* Prints the summary, as text or as one JSON object. */
void load_print(const struct load_opts *o, const struct load_result *r, const char *label,
		bool json);

/* VmRSS of a process in KiB, or -1. */
long load_rss_kib(int pid);

#endif
