/* The coordinator's inbound-defence state, shared by guard.c (bans,
 * admission, the ban API) and evict_run.c (eviction at accept).
 * Engine-internal; coordinator thread only. */
#ifndef CR_ENGINE_GUARD_H
#define CR_ENGINE_GUARD_H

#include "engine/internal.h"
#include "engine/policy/evict.h"
#include "engine/policy/flood.h"

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

/* A newcomer waiting for an evicted peer's slot. */
struct cr_waiting {
	struct cr_mail *m;       /* its MAIL_ADMIT, answered when a slot frees */
	uint64_t deadline_us;
	uint64_t victim;         /* the peer evicted for it */
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

	struct cr_waiting *wait;  /* FIFO ring of waiting newcomers */
	size_t nwait, wait_head, wait_cap;
	void *scratch;            /* eviction's scratch memory */
	size_t scratch_len;
	struct cr_evict_cand *cands;
	size_t cands_cap;
};

uint32_t cr__guard_group_count(struct cr_guard *g, uint64_t key);
void cr__guard_grant(struct cr_engine *e, struct cr_mail *c);
void cr__guard_refuse(struct cr_engine *e, struct cr_mail *c, unsigned verdict);

/* evict_run.c */
void cr__evict_for(struct cr_engine *e, struct cr_mail *c, uint64_t now_us);
void cr__evict_drain(struct cr_engine *e, uint64_t now_us);
bool cr__evict_expire(struct cr_engine *e, uint64_t now_us); /* true: some still wait */
void cr__evict_free(struct cr_engine *e);

#endif
