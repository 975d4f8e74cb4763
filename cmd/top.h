/* connring-top's model: what the fetch thread reads from connringd's RPC
 * each refresh (totals, workers, one row per peer, recent events) and what
 * the screen thread shows of it (sorted, filtered, scrolled).
 *
 * Threads: top_data.c's fetch thread builds a new snapshot off-screen and
 * swaps it in under the model's mutex; the screen thread (top_view.c and
 * main) takes the mutex only to borrow the current snapshot while it
 * draws, so a slow daemon never freezes the keys. */
#ifndef CR_CMD_TOP_H
#define CR_CMD_TOP_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr/netgroup.h"
#include "cmd/client_args.h"

struct top_peer {
	uint64_t id;
	char addr[64];
	char net[8];             /* short network name: ipv4, ipv6, onion, i2p, cjdns, npr */
	char type[8];            /* in, full, block, manual, feeler, addr */
	char tp[4];              /* v1, v2, "?" */
	int64_t conntime;
	uint64_t bytes;          /* sent + received */
	uint64_t msgs;           /* sent + received (0 where the daemon does not say) */
	double rate;             /* bytes/s since the previous refresh */
	int64_t ping_us;         /* -1 = none */
	uint8_t group[CR_NETGROUP_MAX];
	uint8_t glen;
	char gtext[24];          /* the netgroup as text, e.g. 1.2/16 */
	char subver[48];
};

#define TOP_EVENTS 64

struct top_event {
	int64_t time;
	char text[96];
};

struct top_snapshot {
	int64_t time;            /* the daemon's clock (s) */
	double fetch_ms;         /* how long the refresh took */
	uint64_t sent, recv;     /* totals, bytes */
	double sent_rate, recv_rate, msg_rate;
	uint64_t msgs;
	int64_t uptime;
	size_t n;
	struct top_peer *peers;
	unsigned nworkers;
	char workers[16][96];    /* one line per worker (first 16) */
	unsigned nin, nout, nv1, nv2;
};

struct top_model {
	pthread_mutex_t mu;
	struct top_snapshot *cur;     /* owned; replaced by the fetch thread */
	unsigned generation;          /* bumped at each swap */
	struct top_event events[TOP_EVENTS];
	unsigned nevents;             /* total ever; ring index = n % TOP_EVENTS */
	char status[256];             /* last error, "" when fine */
	bool stop;
	/* fetch thread only */
	struct cr_client client;
	unsigned refresh_ms;
	pthread_t thread;
};

/* Starts the fetch thread with a connected client (taken over). */
int top_model_start(struct top_model *m, const struct cr_client *c, unsigned refresh_ms);
void top_model_stop(struct top_model *m);
/* Asks the daemon to disconnect a peer (screen thread; own connection). */
int top_disconnect(struct top_model *m, const struct cr_client_opts *o, uint64_t id, char *msg,
		   size_t msg_len);
void top_snapshot_free(struct top_snapshot *s);

/* Fills a peer's netgroup fields from its address text. */
void top_peer_group(struct top_peer *p);

/* Sort keys, in the order the 's' key cycles through them. */
enum top_sort { SORT_BYTES, SORT_RATE, SORT_MSGS, SORT_PING, SORT_AGE, SORT_NETGROUP, SORT_TRANSPORT,
		SORT_TYPE, SORT_COUNT };
const char *top_sort_name(enum top_sort s);

/* Indexes of the peers matching filter (substring of address, network,
 * type, transport, netgroup or user agent; "" = all), sorted. Returns the
 * count; *idx is malloc'd. */
size_t top_select(const struct top_snapshot *s, const char *filter, enum top_sort key, bool reverse,
		  size_t **idx);

#endif
