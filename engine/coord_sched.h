/* The coordinator's automatic connections: the state coord_sched.c (the
 * open-connections scheduler's glue: view, decisions, address-manager
 * bookkeeping, anchors, extra-peer eviction) and coord_seed.c (DNS seeds
 * through engine/dns.c, -seednode, addr-fetch by name) share. Coordinator
 * thread only, except _start/_finish (the thread starting/stopping the
 * engine, while the coordinator thread does not run). Engine-internal. */
#ifndef CR_ENGINE_COORD_SCHED_H
#define CR_ENGINE_COORD_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/internal.h"
#include "engine/policy/dnsseed.h"
#include "engine/policy/sched.h"

#define CR_SCHED_PENDING_MAX 64 /* connections placed, handshake not done */

/* An outbound connection placed by the scheduler, not ready yet. */
struct cr__sched_pending {
	uint64_t token;
	struct cr_sched_peer peer;  /* ready = false */
};

struct cr__dns;
struct cr_engine;

/* What a lookup's callback needs: a DNS seed's index, or the addr-fetch
 * destination being resolved. */
#define CR_SEED_FETCH_LOOKUPS 4
struct cr__seed_query {
	struct cr_engine *e;
	size_t seed;
	bool busy;
	uint16_t port;
	char host[CR_SCHED_HOST_MAX];
};

struct cr__sched {
	struct cr_sched_conf cf;
	struct cr_sched_state st;
	bool on;                    /* automatic connections */
	bool dirty;                 /* run a pass at the next chance */
	bool net_on;                /* cr__net_active at the last tick */
	uint64_t next_pass_mono;    /* monotonic (UINT64_MAX: none) */
	uint64_t next_token;
	struct cr__sched_pending pend[CR_SCHED_PENDING_MAX];
	unsigned npend;
	struct cr_sched_peer *peers; /* the view's rows (grown as needed) */
	size_t cap_peers;
	/* the ready non-inbound peers (READY adds, CLOSED removes): the
	 * view is built from these, not from the whole summary table */
	uint64_t *out_ids;
	size_t nout, cap_out;
	bool out_lost;              /* one not kept (out of memory): scan the table */
	uint64_t seq;
	/* DNS seeds (coord_seed.c) */
	struct cr_dnsseed ds;
	bool ds_done;
	const char *seed_names[CR_SEEDS_DNS_MAX];
	size_t nseed_names;
	int64_t ds_wake_us;         /* wall clock */
	struct cr__dns *dns;
	unsigned dns_pending;       /* DNS seed lookups running */
	struct cr__seed_query sq[CR_SEEDS_DNS_MAX];
	struct cr__seed_query fq[CR_SEED_FETCH_LOOKUPS];
};

/* coord_sched.c */
int cr__sched_start(struct cr_engine *e);
void cr__sched_finish(struct cr_engine *e);
/* A peer event (MAIL_EV_READY, MAIL_EV_CLOSED) as the coordinator takes it,
 * before the summary table changes. */
void cr__sched_event(struct cr_engine *e, const struct cr_mail *c);
/* Runs due work; returns the monotonic time to run again (UINT64_MAX: none). */
uint64_t cr__sched_tick(struct cr_engine *e, uint64_t now_us);
/* The clean stop: writes the anchors. */
void cr__sched_stop(struct cr_engine *e);
/* Something changed that may let a pass connect (new addresses). */
void cr__sched_kick(struct cr_engine *e);
/* Places an outbound connection of type t (coord_seed.c's addr-fetch too). */
void cr__sched_place(struct cr_engine *e, const struct cr_peeraddr *pa, const char *host,
		     enum cr_ctype t, bool v2);

/* coord_seed.c */
int cr__seed_start(struct cr_engine *e);
void cr__seed_finish(struct cr_engine *e);
/* Steps the DNS seed state machine and the resolver; returns the wall time
 * to step again (INT64_MAX: nothing waits). */
int64_t cr__seed_tick(struct cr_engine *e, int64_t now_us);
/* Opens an addr-fetch connection to "host[:port]" (numeric, by name
 * through the proxy, or resolved first). */
void cr__seed_addr_fetch(struct cr_engine *e, const char *host);

#endif
