/* The echo server of bench/ceiling: the least work any TCP server on
 * io_uring could do for the load connring-load puts on connringd, so that a
 * figure divided by the ceiling's reads "share of what this machine can do".
 *
 * Per thread one ring (single issuer, deferred task running, as the
 * engine's workers), one SO_REUSEPORT listener per port with a multishot
 * accept into direct descriptors, a multishot recv per connection drawing
 * from a provided-buffer ring, and no protocol: each connection's received
 * buffers are queued as they are and, after each completion batch, sent
 * back with one sendmsg over all of them (one send in flight per
 * connection, as the engine flushes a peer). No copy, no allocation per
 * message, and a connection costs 16 bytes of user memory.
 *
 * esrv_start() and esrv_stop() are called from one controlling thread; the
 * rings run on threads of their own. */
#ifndef CR_BENCH_CEILING_SRV_H
#define CR_BENCH_CEILING_SRV_H

#include <stdbool.h>
#include <stdint.h>

#define ESRV_MAX_PORTS 64

struct esrv_opts {
	unsigned threads;      /* rings; 0 = one per core, more when the fd cap needs */
	unsigned capacity;     /* connections to make room for (sets the ring count when threads = 0) */
	uint16_t ports[ESRV_MAX_PORTS]; /* 0 = pick one (only as the first port) */
	unsigned nports;
	bool pin;              /* pin ring i to core i % cores */
};

struct esrv;

struct esrv_stats {
	uint64_t accepted, echoed_bytes, sends, enobufs, accept_errors;
	unsigned open;
};

/* Starts the rings and returns once every one listens; *out then owns
 * them. The ports actually bound are written back to o->ports. 0 or a
 * negative errno (with a line on stderr saying which step failed). */
int esrv_start(struct esrv_opts *o, struct esrv **out);
unsigned esrv_threads(const struct esrv *s);
void esrv_stats(const struct esrv *s, struct esrv_stats *st);
/* Stops every ring (a MSG_RING to each), joins and frees. */
void esrv_stop(struct esrv *s);

#endif
