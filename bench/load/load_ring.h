/* Between the two halves of the load client: a ring (load_client.c, on
 * its own thread) and the run (load_run.c, on the main thread: start,
 * watch, merge). Not for the tools themselves; they use load_client.h. */
#ifndef CR_BENCH_LOAD_RING_H
#define CR_BENCH_LOAD_RING_H

#include <pthread.h>

#include "bench/load/load_client.h"

enum { ST_IDLE, ST_CONNECTING, ST_HANDSHAKE, ST_READY, ST_DEAD };
enum { OP_CONNECT = 1, OP_RECV, OP_SEND, OP_CLOSE };

#define UD(op, idx) ((uint64_t)(op) << 32 | (uint32_t)(idx))
#define OUT_BLOCK (8u << 20) /* stop queueing to a peer this far behind */
#define RING_ENTRIES 4096
#define BUFS 4096     /* the most a ring's provided-buffer ring grows to */
#define BUFS_START 256 /* what it starts with */
#define BUF_SIZE 4096

#define OBUF_SMALL 512 /* output buffers this size are kept on a per-ring free list */
#define OBUF_FREE_MAX 4096
#define WAIT_MAX_NS 10000000ull /* the longest a ring sleeps: phase changes are seen this fast */

#define SET(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define INC(x) SET(x, (x) + 1)
#define GET(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

struct obuf {
	uint8_t *p;
	uint32_t len, off, cap;
};

/* 64 bytes: a million of them are 64 MB. An idle peer holds no output
 * buffer (both go back to the ring's free list once drained). */
struct lpeer {
	uint8_t state;
	bool send_busy;
	uint16_t inflight; /* closed loop: timed messages awaiting replies (<= 64) */
	uint64_t t0_ns;
	struct obuf fill, wire; /* filled by hooks / owned by the kernel's send */
};

struct shared {
	const struct load_opts *o;
	unsigned nthreads;
	unsigned max_connecting;    /* per ring: its share of o->max_connecting */
	unsigned connected_threads; /* atomic */
	uint64_t hold_start_ns;     /* atomic; 0 until every ring finished connecting */
	uint64_t t_begin_ns;
	unsigned finished;          /* atomic */
	int abort;                  /* atomic: a ring could not be started, everyone stops */
};

struct lthread {
	struct shared *sh;
	unsigned index, first, n;
	struct io_uring ring;
	struct bu_bufring br;
	struct lpeer *peers;
	uint8_t *psmem;             /* peer_size bytes per peer for the protocol */
	uint8_t *obuf_free;         /* OBUF_SMALL buffers, linked through their first bytes */
	unsigned nobuf_free;
	void *tctx;
	pthread_t th;
	int err;
	/* progress (owned by this thread, read by main) */
	unsigned started, connecting, ready, dead;
	uint64_t last_ready_ns;
	uint64_t msgs_sent, msgs_recv, errors, enobufs, send_blocked;
	uint64_t hold_sent0, hold_recv0;
	uint64_t sched_sent;
	unsigned rr;
	bool holding, done_connecting, stopping;
	uint64_t hold_end_ns;
	int first_err;
	int pending_closes;
	struct bu_hist hs_us, rtt_us;
};

/* A ring's thread: sets up its ring, connects, holds, closes. */
void *load_ring_main(void *arg);
/* Frees what the ring set up; after its thread was joined. */
void load_ring_free(struct lthread *t);

#endif
