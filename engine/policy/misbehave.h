/* Misbehaviour: what happens to a peer that broke a rule, after Bitcoin
 * Core v29's Misbehaving/MaybeDiscourageAndDisconnect, with btcd's decaying
 * ban score (connmgr's DynamicBanScore) as the alternative mode.
 *
 * Core mode (the default): any misbehaviour discourages the peer's address
 * and disconnects it, except that a noban peer and a manual connection are
 * kept (only logged), and a local peer (loopback, where an inbound onion
 * peer also comes from) is disconnected but not discouraged, since that
 * would discourage every other peer on the same address.
 *
 * Score mode (-banscore): each misbehaviour adds points to the peer's score,
 * a persistent part that never decays and a transient part that halves every
 * 60 s and is forgotten after 30 min (btcd). Once the score passes the
 * threshold (default 100) the address is banned for -bantime and the peer
 * disconnected; past half the threshold the misbehaviour is logged as a
 * warning. The same noban/manual/local exemptions apply. A misbehaviour the
 * connection cannot survive (bad magic, oversized message, V2 authentication
 * failure: the transport is broken) discourages and disconnects in either
 * mode, because the peer's score dies with the connection.
 *
 * Deliberate differences:
 * - Core disconnects on transport errors (bad magic, oversized header, V2
 *   AEAD failure) without discouraging. connring discourages too: such a peer
 *   is not speaking our chain's protocol, a V2 handshake costs us ~90 us of
 *   CPU each time, and discouragement only bites when inbound slots are
 *   nearly full (it is not a ban).
 * - btcd bans local and manual peers too and scores per connection only;
 *   connring keeps Core's exemptions in score mode.
 *
 * Sans-IO: time is passed in (seconds); any thread, one per state. */
#ifndef CR_POLICY_MISBEHAVE_H
#define CR_POLICY_MISBEHAVE_H

#include <stdbool.h>
#include <stdint.h>

#define CR_BANSCORE_HALFLIFE_S 60    /* btcd's Halflife */
#define CR_BANSCORE_LIFETIME_S 1800  /* btcd's Lifetime: older transient = 0 */
#define CR_BANSCORE_THRESHOLD 100    /* btcd's default --banthreshold */

/* btcd's dynamicBanScore; zero-initialised is a zero score. */
struct cr_banscore {
	int64_t last_s;      /* when the transient part was last raised */
	double transient;    /* decays from last_s */
	uint32_t persistent;
};

/* The score at now_s: persistent + transient decayed by 2^(-dt/60), with
 * the transient part ignored when older than the lifetime or (a clock
 * stepping back) in the future. */
uint32_t cr_banscore_get(const struct cr_banscore *s, int64_t now_s);

/* Adds points at now_s and returns the new score (saturating). */
uint32_t cr_banscore_add(struct cr_banscore *s, uint32_t persistent, uint32_t transient,
			 int64_t now_s);

enum cr_misbehave_mode {
	CR_MISBEHAVE_CORE = 0,   /* discourage on any misbehaviour */
	CR_MISBEHAVE_SCORE = 1,  /* btcd's decaying score, ban past the threshold */
};

/* What the engine must do. */
enum cr_misbehave_action {
	CR_MISB_NONE = 0,        /* nothing (score mode: below half the threshold) */
	CR_MISB_WARN,            /* log a warning, keep the peer */
	CR_MISB_KEEP_EXEMPT,     /* would be punished, but noban or manual: keep */
	CR_MISB_DISCONNECT,      /* local peer: disconnect without discouraging */
	CR_MISB_DISCOURAGE,      /* discourage the address and disconnect */
	CR_MISB_BAN,             /* ban the address for -bantime and disconnect */
};

/* The peer as the rule needs it. */
struct cr_misbehave_peer {
	bool noban;              /* noban permission */
	bool manual;             /* a manual (addnode/connect) connection */
	bool local;              /* loopback address (or an inbound onion bind) */
};

/* One misbehaviour. fatal: the connection cannot go on (a broken
 * transport); it is disconnected whatever the rule says, and discouraged
 * unless exempt. */
struct cr_misbehaviour {
	uint32_t persistent;     /* score mode: points that never decay */
	uint32_t transient;      /* score mode: points that decay */
	bool fatal;
};

/* Core's MaybeDiscourageAndDisconnect, or btcd's addBanScore in score mode
 * (score may be NULL in Core mode). *score_out (if not NULL) gets the score
 * after this misbehaviour (0 in Core mode). */
enum cr_misbehave_action cr_misbehave_decide(enum cr_misbehave_mode mode, uint32_t threshold,
					     const struct cr_misbehave_peer *peer,
					     struct cr_banscore *score,
					     const struct cr_misbehaviour *m, int64_t now_s,
					     uint32_t *score_out);

const char *cr_misbehave_action_str(enum cr_misbehave_action a);

#endif
