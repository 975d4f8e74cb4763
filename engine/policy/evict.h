/* Inbound eviction: Bitcoin Core v29's SelectNodeToEvict (node/eviction.cpp)
 * as a pure function over a snapshot of candidates.
 *
 * When a newcomer arrives and every inbound slot is taken, the coordinator
 * gathers one cr_evict_cand per live peer from the workers' summaries and
 * asks which one to drop. Each protection resists one attack, in Core's order:
 *   noban, outbound     never evicted (trusted, or chosen by us)
 *   4 by keyed netgroup an attacker cannot predict which groups the secret
 *                       key sorts highest, so cannot rent addresses there
 *   8 by lowest ping    needs physical closeness, not just more connections
 *   4 by latest tx      needs useful work (novel transactions)
 *   8 block-relay-only  non-tx-relay peers with our services that sent
 *     by latest block   novel blocks (useful work, often our own spies' targets)
 *   4 by latest block   needs useful work (novel blocks)
 *   half of the rest    by uptime, a quarter of all reserved for onion, I2P,
 *                       CJDNS and localhost peers, which lose on ping; an
 *                       attacker arriving later cannot displace old peers
 * Of the rest, only prefer-evict (discouraged) peers if there are any; then
 * the youngest peer of the keyed netgroup with the most candidates: an
 * attacker who connects many times from one group evicts itself.
 *
 * Deliberate differences from Core, and why:
 * - Every ordering is total: where Core's std::sort leaves equal keys in an
 *   unspecified order, ties fall to the candidate id (a lower id counts as
 *   older and, in every protection, as more deserving). So the choice never
 *   depends on the order of the array; Core's may.
 * - Times are microseconds (Core: seconds for connected/block/tx), so peers
 *   connecting within one second still have a youngest.
 * - Two netgroups with as many candidates and equally young youngest members
 *   are split by the same id rule; Core takes whichever reached that size
 *   first while scanning.
 * - It runs in linear time (top-k selections and quickselect instead of one
 *   full sort per protection) so a node with 100,000 peers can afford it; the
 *   result is the one Core's sorts give under the total order above.
 * - It reports why each candidate was kept (for the debug log and counters).
 *
 * Pure: no allocation (the caller passes scratch memory), no clock, no
 * globals; any thread. */
#ifndef CR_POLICY_EVICT_H
#define CR_POLICY_EVICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Core's constants, by protection. */
#define CR_EVICT_PROTECT_NETGROUP 4
#define CR_EVICT_PROTECT_PING 8
#define CR_EVICT_PROTECT_TX 4
#define CR_EVICT_PROTECT_BLOCK_RELAY 8
#define CR_EVICT_PROTECT_BLOCK 4
/* With more eligible candidates than this, one is always chosen (28 at most
 * are protected before the ratio step, which keeps at least one); with this
 * many or fewer... see cr_evict_select. */
#define CR_EVICT_ALWAYS_ABOVE 28
#define CR_EVICT_NEVER_UPTO 20

/* Everything the policy knows about one peer. */
struct cr_evict_cand {
	uint64_t id;              /* the caller's id (peer id); unique */
	int64_t connected_us;     /* when it connected (smaller = longer uptime) */
	int64_t min_ping_us;      /* INT64_MAX when none measured yet */
	int64_t last_block_us;    /* last novel block it sent (0 = never) */
	int64_t last_tx_us;       /* last novel transaction it sent (0 = never) */
	uint64_t keyed_netgroup;  /* cr_netgroup_keyed of its netgroup */
	uint8_t network;          /* enum cr_netclass it came through (ONION for an
				   * inbound onion bind, as Core's ConnectedThroughNetwork) */
	bool is_local;            /* loopback address (Core's IsLocal) */
	bool inbound;             /* false: outbound/manual/feeler: never evicted */
	bool noban;               /* noban permission: never evicted */
	bool relevant_services;   /* has the services we want (Core's fRelevantServices) */
	bool relay_txs;           /* announces transactions to us */
	bool bloom_filter;        /* loaded a BIP37 filter */
	bool prefer_evict;        /* discouraged when it connected */
};

/* Why a candidate was kept (or taken). */
enum cr_evict_why {
	CR_EVICT_REMAINED = 0,    /* unprotected, but another was chosen */
	CR_EVICT_VICTIM,          /* the one chosen */
	CR_EVICT_NOBAN,
	CR_EVICT_OUTBOUND,
	CR_EVICT_NETGROUP,
	CR_EVICT_PING,
	CR_EVICT_TX,
	CR_EVICT_BLOCK_RELAY,     /* block-relay-only by latest block */
	CR_EVICT_BLOCK,
	CR_EVICT_NETWORK,         /* the ratio step's disadvantaged-network share */
	CR_EVICT_UPTIME,          /* the ratio step's uptime share */
	CR_EVICT_NOT_PREFERRED,   /* spared: prefer-evict peers were left */
	CR_EVICT_WHY_MAX
};

/* Short names ("netgroup", "ping", ...) for logs and statistics. */
const char *cr_evict_why_str(enum cr_evict_why why);

/* Bytes of scratch memory cr_evict_select needs for n candidates. */
size_t cr_evict_scratch_size(size_t n);

/* Chooses the peer to evict. Returns 1 with *victim set to its index in
 * cands, or 0 when every candidate is protected (*victim = SIZE_MAX). why
 * (n entries, or NULL) gets each candidate's enum cr_evict_why; counts
 * (CR_EVICT_WHY_MAX entries, or NULL) how many had each. scratch must hold
 * cr_evict_scratch_size(n) bytes, aligned for uint64_t. n < 2^31.
 * More than CR_EVICT_ALWAYS_ABOVE eligible (inbound, not noban) candidates
 * always yield a victim; CR_EVICT_NEVER_UPTO or fewer never do. */
int cr_evict_select(size_t *victim, uint8_t *why, uint32_t *counts,
		    const struct cr_evict_cand *cands, size_t n, void *scratch);

/* Core's ProtectEvictionCandidatesByRatio alone, for tests: of the
 * candidates whose why[i] is CR_EVICT_REMAINED on entry, marks half
 * (rounded down) as CR_EVICT_NETWORK or CR_EVICT_UPTIME; other entries are
 * ignored. scratch as for cr_evict_select. */
void cr_evict_protect_by_ratio(uint8_t *why, const struct cr_evict_cand *cands, size_t n,
			       void *scratch);

#endif
