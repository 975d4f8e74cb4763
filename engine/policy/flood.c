/* Inbound admission and the handshake-flood defence; see flood.h. Pure;
 * the clock is passed in. */
#include <stdlib.h>

#include "engine/policy/flood.h"

/* Buckets probed from a netgroup's home slot before one is replaced. */
#define PROBES 8

struct bucket {
	uint64_t key;
	int64_t last_us;   /* when tokens was computed */
	double tokens;
	bool used;
};

struct cr_flood {
	struct cr_flood_config cfg;
	struct bucket *tab;
	uint32_t mask, used;
	struct bucket global;     /* the detector over all netgroups */
	int64_t flood_until_us;   /* a flood is detected before this time */
};

void cr_flood_config_default(struct cr_flood_config *cfg)
{
	cfg->rate = 1.0;
	cfg->burst = 10.0;
	cfg->global_rate = 50.0;
	cfg->global_burst = 200.0;
	cfg->group_cap = 8;
	cfg->hold_s = 60;
	cfg->table_size = 4096;
}

struct cr_flood *cr_flood_new(const struct cr_flood_config *cfg)
{
	uint32_t n = cfg->table_size;
	/* bounded so a full refill time stays a sane number of microseconds */
	if (n < 16 || (n & (n - 1)) || !(cfg->rate >= 1e-3 && cfg->rate <= 1e6) ||
	    !(cfg->burst >= 1 && cfg->burst <= 1e6) ||
	    !(cfg->global_rate >= 1e-3 && cfg->global_rate <= 1e6) ||
	    !(cfg->global_burst >= 1 && cfg->global_burst <= 1e6))
		return NULL;
	struct cr_flood *f = calloc(1, sizeof *f);
	if (!f)
		return NULL;
	f->tab = calloc(n, sizeof *f->tab);
	if (!f->tab) {
		free(f);
		return NULL;
	}
	f->cfg = *cfg;
	f->mask = n - 1;
	f->global.used = true;
	f->global.tokens = cfg->global_burst;
	f->global.last_us = INT64_MIN;
	f->flood_until_us = INT64_MIN;
	return f;
}

void cr_flood_free(struct cr_flood *f)
{
	if (!f)
		return;
	free(f->tab);
	free(f);
}

/* The bucket's tokens at now (refilled, capped at burst). A clock going
 * back refills nothing. */
static double level(const struct bucket *b, double rate, double burst, int64_t now_us)
{
	if (b->last_us == INT64_MIN || now_us - b->last_us >= (int64_t)(burst / rate * 1e6) + 1)
		return burst;
	double t = b->tokens;
	if (now_us > b->last_us)
		t += (double)(now_us - b->last_us) * rate / 1e6;
	return t > burst ? burst : t;
}

/* Takes a token; false when there is none. */
static bool take(struct bucket *b, double rate, double burst, int64_t now_us)
{
	double t = level(b, rate, burst, now_us);
	if (now_us > b->last_us || b->last_us == INT64_MIN)
		b->last_us = now_us;
	if (t < 1.0) {
		b->tokens = t;
		return false;
	}
	b->tokens = t - 1.0;
	return true;
}

static uint32_t home(uint64_t key, uint32_t mask)
{
	key ^= key >> 31;
	key *= 0x9e3779b97f4a7c15ull;
	return (uint32_t)(key >> 32) & mask;
}

/* The netgroup's bucket, or a slot for it: an empty one in the probe window,
 * else the one whose bucket is fullest now (dropping it forgets least). */
static struct bucket *find(struct cr_flood *f, uint64_t key, int64_t now_us)
{
	uint32_t h = home(key, f->mask);
	struct bucket *empty = NULL, *fullest = NULL;
	double most = -1;
	for (uint32_t i = 0; i < PROBES; i++) {
		struct bucket *b = &f->tab[(h + i) & f->mask];
		if (!b->used) {
			if (!empty)
				empty = b;
			continue;
		}
		if (b->key == key)
			return b;
		double t = level(b, f->cfg.rate, f->cfg.burst, now_us);
		if (t > most) {
			most = t;
			fullest = b;
		}
	}
	struct bucket *b = empty ? empty : fullest;
	if (empty)
		f->used++;
	b->used = true;
	b->key = key;
	b->last_us = INT64_MIN; /* a new (or dropped) entry starts full */
	b->tokens = f->cfg.burst;
	return b;
}

static void flooding(struct cr_flood *f, int64_t now_us)
{
	int64_t until = now_us + (int64_t)f->cfg.hold_s * 1000000;
	if (until > f->flood_until_us)
		f->flood_until_us = until;
}

enum cr_flood_verdict cr_flood_admit(struct cr_flood *f, uint64_t keyed_netgroup,
				     uint32_t group_inbound, int64_t now_us)
{
	if (!take(&f->global, f->cfg.global_rate, f->cfg.global_burst, now_us))
		flooding(f, now_us);
	struct bucket *b = find(f, keyed_netgroup, now_us);
	if (!take(b, f->cfg.rate, f->cfg.burst, now_us)) {
		flooding(f, now_us);
		return CR_FLOOD_RATE;
	}
	if (f->cfg.group_cap && group_inbound >= f->cfg.group_cap && cr_flood_active(f, now_us)) {
		b->tokens += 1.0; /* refused anyway: the token is not spent */
		return CR_FLOOD_GROUP_CAP;
	}
	return CR_FLOOD_OK;
}

bool cr_flood_active(const struct cr_flood *f, int64_t now_us)
{
	return now_us < f->flood_until_us;
}

uint32_t cr_flood_entries(const struct cr_flood *f)
{
	return f->used;
}

enum cr_accept_verdict cr_accept_decide(struct cr_flood *f, const struct cr_accept_in *in,
					int64_t now_us, bool *prefer_evict)
{
	if (prefer_evict)
		*prefer_evict = in->discouraged;
	if (!in->noban) {
		if (in->banned)
			return CR_ACCEPT_REFUSE_BANNED;
		if (f) {
			switch (cr_flood_admit(f, in->keyed_netgroup, in->group_inbound, now_us)) {
			case CR_FLOOD_RATE: return CR_ACCEPT_REFUSE_RATE;
			case CR_FLOOD_GROUP_CAP: return CR_ACCEPT_REFUSE_GROUP_CAP;
			case CR_FLOOD_OK: break;
			}
		}
		/* Core: only while inbound slots are not (almost) full */
		if (in->discouraged && (uint64_t)in->inbound + 1 >= in->inbound_max)
			return CR_ACCEPT_REFUSE_DISCOURAGED;
	}
	return in->inbound >= in->inbound_max ? CR_ACCEPT_EVICT : CR_ACCEPT_OK;
}

const char *cr_accept_verdict_str(enum cr_accept_verdict v)
{
	switch (v) {
	case CR_ACCEPT_OK: return "ok";
	case CR_ACCEPT_EVICT: return "evict";
	case CR_ACCEPT_REFUSE_BANNED: return "banned";
	case CR_ACCEPT_REFUSE_RATE: return "netgroup-rate";
	case CR_ACCEPT_REFUSE_GROUP_CAP: return "netgroup-cap";
	case CR_ACCEPT_REFUSE_DISCOURAGED: return "discouraged";
	case CR_ACCEPT_VERDICT_MAX: break;
	}
	return "?";
}
