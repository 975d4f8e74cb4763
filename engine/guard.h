/* The coordinator's inbound-defence state, shared by guard.c (bans,
 * admission, the ban API) and evict_run.c (eviction at accept).
 * Engine-internal; coordinator thread only. */
#ifndef CR_ENGINE_GUARD_H
#define CR_ENGINE_GUARD_H

#include "engine/internal.h"
#include "engine/policy/evict.h"
#include "engine/policy/flood.h"
#include "engine/summary.h"

#define CR_GUARD_SAVE_WAITERS 64 /* ban API calls answered after one save */

/* MAIL_BAN_OP's c->reason. */
enum cr_banop {
	CR_BANOP_ADD = 1,        /* host = subnet, t = time, flags = absolute */
	CR_BANOP_REMOVE,
	CR_BANOP_CLEAR,
	CR_BANOP_LIST,           /* waiter->out, waiter->cap */
	CR_BANOP_DISCOURAGE,     /* host = address */
};

/* Inbound peers of one keyed netgroup. */
struct cr_gcount {
	uint64_t key;
	uint32_t n;
	bool used;
};

/* An admitted inbound peer, as eviction sees it before its summary row
 * exists (and for what the summary does not hold). */
struct cr_inbound {
	uint64_t id;
	uint64_t keyed_netgroup;
	int64_t connected_us;    /* wall clock, when admitted */
	uint8_t netclass;        /* enum cr_netclass */
	bool is_local, noban, prefer_evict;
	bool evicting;           /* chosen already: its close is on the way */
};

/* A newcomer waiting for an evicted peer's slot. */
struct cr_waiting {
	struct cr_mail *m;       /* its MAIL_ADMIT, answered when a slot frees */
	uint64_t deadline_us;
	uint64_t victim;         /* the peer evicted for it */
	int64_t arrived_us;      /* wall clock: its age as a candidate */
};

struct cr_guard {
	struct cr_banlist *bl;
	struct cr_flood *flood;
	bool republish;          /* workers need a fresh snapshot */
	bool dirty_save;         /* the file is behind the list */
	uint64_t next_sweep_us;
	struct cr_waiter *saving[CR_GUARD_SAVE_WAITERS]; /* answered after the save */
	unsigned nsaving;

	struct cr_gcount *groups; /* open addressing; zero counts dropped on rebuild */
	size_t gcap, gused, glive;

	struct cr_inbound *in;    /* admitted inbound peers, dense */
	size_t nin, in_cap;
	uint32_t *index;          /* id -> in[] + 1, open addressing */
	size_t icap;

	struct cr_waiting *wait;  /* waiting newcomers, in arrival order */
	size_t nwait, wait_cap;
	void *scratch;            /* eviction's scratch memory */
	size_t scratch_len;
	struct cr_evict_cand *cands;
	uint8_t *why;
	size_t cands_cap;
};

uint32_t cr__guard_group_count(struct cr_guard *g, uint64_t key);
void cr__guard_grant(struct cr_engine *e, struct cr_mail *c);
void cr__guard_refuse(struct cr_engine *e, struct cr_mail *c, unsigned verdict);

/* evict_run.c */
void cr__evict_track(struct cr_engine *e, const struct cr_mail *c); /* admitted */
void cr__evict_untrack(struct cr_engine *e, uint64_t id);         /* gone */
void cr__evict_for(struct cr_engine *e, struct cr_mail *c, uint64_t now_us);
void cr__evict_drain(struct cr_engine *e, uint64_t now_us);
bool cr__evict_expire(struct cr_engine *e, uint64_t now_us); /* true: some still wait */
void cr__evict_free(struct cr_engine *e);

#endif
