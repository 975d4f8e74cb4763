/* Inbound admission: Bitcoin Core v29's checks when a connection arrives
 * (CConnman::CreateNodeFromAcceptedSocket: bans, discouragement, eviction
 * when full), plus a defence against handshake floods that Core lacks.
 *
 * The flood. A V2 handshake costs us ~90 us of CPU (ElligatorSwift decode
 * and ECDH) and a slot; a connection costs the attacker almost nothing, and
 * Core's eviction only starts once every slot is full, so each new attacker
 * connection is accepted, handshaken and then evicted again.
 *
 * The defence, per keyed netgroup (the /16, /32 or AS that eviction already
 * treats as one operator):
 * - A token bucket for new inbound connections: `burst` at once, then `rate`
 *   per second. A connection that finds the bucket empty is refused at
 *   accept, before any byte is read.
 * - A flood is detected when some netgroup's bucket ran dry, or the
 *   connection rate over all netgroups exceeded `global_rate` (a second,
 *   global bucket used only as a detector, never to refuse), within the last
 *   `hold_s` seconds. While a flood is detected, a netgroup that already
 *   holds `group_cap` inbound connections gets no more.
 *
 * Why honest peers from other netgroups are unaffected: a refusal needs
 * either the newcomer's own netgroup to connect faster than `rate`
 * (honest peers connect once and stay; a busy cloud /16 stays far below
 * 1/s) or its own netgroup to hold `group_cap` connections already. Neither
 * depends on what other netgroups do; the global detector only switches the
 * cap on, and the cap never touches a group below it. The bucket table has a
 * fixed size; when it is full, the entry dropped is the one closest to a full
 * bucket, and a dropped entry comes back full: pressure on the table can
 * only make a netgroup's limit looser, never refuse an honest newcomer. The
 * keyed netgroup is keyed by a start-up secret, so an attacker cannot aim
 * at a table slot or at a victim's bucket from another netgroup.
 *
 * noban peers skip every check here (Core: they are never banned or
 * discouraged). Pure: the clock is passed in; one thread per object (the
 * coordinator's). */
#ifndef CR_POLICY_FLOOD_H
#define CR_POLICY_FLOOD_H

#include <stdbool.h>
#include <stdint.h>

struct cr_flood_config {
	double rate;           /* new inbound connections per second per netgroup (1.0) */
	double burst;          /* bucket size (10) */
	double global_rate;    /* per second over all netgroups that means a flood (50) */
	double global_burst;   /* (200) */
	uint32_t group_cap;    /* inbound per netgroup while flooding (8; 0 = no cap) */
	uint32_t hold_s;       /* a detected flood lasts this long after its last sign (60) */
	uint32_t table_size;   /* netgroup buckets kept, a power of two (4096) */
};

/* Fills the defaults above. */
void cr_flood_config_default(struct cr_flood_config *cfg);

enum cr_flood_verdict {
	CR_FLOOD_OK = 0,
	CR_FLOOD_RATE,         /* the netgroup's bucket is empty */
	CR_FLOOD_GROUP_CAP,    /* flooding, and the netgroup holds group_cap already */
};

struct cr_flood;

/* NULL when out of memory, table_size is not a power of two (>= 16), a
 * rate is outside [0.001, 10^6] or a burst outside [1, 10^6]. */
struct cr_flood *cr_flood_new(const struct cr_flood_config *cfg);
void cr_flood_free(struct cr_flood *f);

/* One new inbound connection from a netgroup that holds group_inbound
 * connections now. Takes a token when admitted. */
enum cr_flood_verdict cr_flood_admit(struct cr_flood *f, uint64_t keyed_netgroup,
				     uint32_t group_inbound, int64_t now_us);

/* Whether a flood is detected at now_us. */
bool cr_flood_active(const struct cr_flood *f, int64_t now_us);

/* Netgroups with a bucket entry now (bounded by table_size). */
uint32_t cr_flood_entries(const struct cr_flood *f);

/* ---- Core's checks at accept, in Core's order, with the flood's ---- */

struct cr_accept_in {
	bool noban;              /* permission of the bind or a whitelist */
	bool banned;             /* address or subnet banned */
	bool discouraged;        /* in the discouragement filter */
	uint32_t inbound;        /* inbound connections now (the newcomer not counted) */
	uint32_t inbound_max;    /* inbound slots */
	uint64_t keyed_netgroup;
	uint32_t group_inbound;  /* inbound connections of its netgroup now */
};

enum cr_accept_verdict {
	CR_ACCEPT_OK = 0,             /* a free slot: admit */
	CR_ACCEPT_EVICT,              /* full: admit once an eviction freed a slot */
	CR_ACCEPT_REFUSE_BANNED,
	CR_ACCEPT_REFUSE_RATE,        /* its netgroup connects too fast */
	CR_ACCEPT_REFUSE_GROUP_CAP,   /* flooding and its netgroup holds enough */
	CR_ACCEPT_REFUSE_DISCOURAGED, /* discouraged and slots (almost) full */
	CR_ACCEPT_VERDICT_MAX
};

/* Bans first (a banned newcomer spends no token), then the flood checks,
 * then Core's discouraged rule (refused when inbound + 1 >= inbound_max),
 * then a free slot or eviction. f may be NULL (no flood defence).
 * *prefer_evict (if not NULL) = discouraged, as Core marks such a peer. */
enum cr_accept_verdict cr_accept_decide(struct cr_flood *f, const struct cr_accept_in *in,
					int64_t now_us, bool *prefer_evict);

const char *cr_accept_verdict_str(enum cr_accept_verdict v);

#endif
