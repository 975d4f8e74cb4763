/* Address gossip as Bitcoin Core runs it (net_processing.cpp): ProcessAddrs
 * with its token bucket and time rules, RelayAddress's choice of 1 or 2
 * destination peers by a keyed hash of the address and the day,
 * PushAddress's per-peer queue and MaybeSendAddr's exponential send timer
 * and daily self-advertisement.
 *
 * The peer's worker keeps one cr_addr_relay per peer that has address
 * relay enabled (outbound full-relay, manual and addr-fetch peers at the
 * handshake; inbound peers at their first addr, addrv2 or getaddr; never
 * block-relay-only or feeler peers) and calls these functions with the
 * clock and an RNG; the coordinator calls cr_relay_address only. Queue and
 * known-address memory is allocated on first use and the queue is freed
 * again once sent, so an idle peer costs the struct only (96 B; at most
 * 3.7 KB with a full queue and known ring). A cr_addr_relay belongs to one
 * thread (its peer's worker); the functions keep no other state.
 *
 * Where this differs from Core, on purpose:
 * - "known addresses" per peer are the last 64 keyed hashes sent to or
 *   received from it (Core: a rolling bloom filter of 5,000 entries, 27 kB
 *   per peer, too much at 100,000 peers); a forgotten entry costs at most
 *   one duplicate address sent;
 * - the relay queue holds at most 64 addresses (Core: 1,000) with Core's
 *   random replacement when full; a getaddr answer does not go through it
 *   (the coordinator sends it at once from the cache: Core sends it at the
 *   peer's first send opportunity, which for a new peer is also at once);
 * - an engine-wide bucket bounds the addresses relayed (below). */
#ifndef CR_POLICY_ADDRRELAY_H
#define CR_POLICY_ADDRRELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr/banlist.h"
#include "addr/rng.h"
#include "engine/policy/sched.h"
#include "proto/netaddr.h"

#define CR_ADDR_MAX_PER_MSG 1000       /* MAX_ADDR_TO_SEND */
#define CR_ADDR_RATE_PER_S 0.1         /* MAX_ADDR_RATE_PER_SECOND */
#define CR_ADDR_BUCKET_MAX 1000.0      /* MAX_ADDR_PROCESSING_TOKEN_BUCKET */
#define CR_ADDR_TIME_PENALTY_S 7200    /* Add's penalty for gossiped times */
#define CR_ADDR_RELAY_MAX_ENTRIES 10   /* only small messages are relayed */
#define CR_ADDR_RELAY_FRESH_S 600      /* ... with times in the last 10 minutes */
#define CR_ADDR_ROTATE_S 86400         /* ROTATE_ADDR_RELAY_DEST_INTERVAL */
#define CR_ADDR_KNOWN_MAX 64
#define CR_ADDR_QUEUE_MAX 64
/* The engine-wide bound on relayed addresses (not Core's: its per-peer
 * buckets are its only bound, fine at 125 peers, not at 100,000): a bucket
 * refilled at CR_ADDR_RATE_PER_S per connected peer, at most
 * CR_ADDR_RELAY_ENGINE_RATE_MAX per second, holding at most
 * CR_ADDR_RELAY_ENGINE_BURST; each address relayed takes one token, one
 * found none is stored but not relayed. Each relayed address costs a
 * keyed hash per relay candidate (~20 ns each: 2 ms at 100,000 peers), so
 * the relay work is at most ~2% of the coordinator there. */
#define CR_ADDR_RELAY_ENGINE_RATE_MAX 10.0
#define CR_ADDR_RELAY_ENGINE_BURST 100.0

/* Keys of the keyed hashes (drawn at start-up). */
struct cr_addr_keys {
	uint64_t k0, k1;
};

struct cr_addr_relay {
	uint64_t *known;          /* ring of CR_ADDR_KNOWN_MAX hashes, or NULL */
	uint16_t known_n, known_next;
	uint16_t nqueue;
	struct cr_peeraddr *queue; /* CR_ADDR_QUEUE_MAX entries, or NULL */
	int64_t next_send_us;     /* m_next_addr_send */
	int64_t next_local_us;    /* m_next_local_addr_send, 0 = not yet */
	int64_t send_mean_us;     /* mean send interval (init: Core's 30 s; tests shorten it) */
	int64_t local_mean_us;    /* mean self-advertisement interval (init: Core's 24 h) */
	bool wants_addrv2;        /* the peer sent sendaddrv2 */
	/* ProcessAddrs state */
	double tokens;            /* m_addr_token_bucket */
	int64_t tokens_us;        /* m_addr_token_timestamp */
	bool getaddr_sent;        /* m_getaddr_sent */
	bool addr_perm;           /* the addr permission: no rate limit */
	uint64_t processed, rate_limited;
};

/* A new relay state: one token (Core starts the bucket at 1). */
void cr_addr_relay_init(struct cr_addr_relay *r, int64_t now_us);
void cr_addr_relay_clear(struct cr_addr_relay *r);

/* We sent getaddr: the answer (up to 1,000) may pass the rate limit. */
void cr_addr_relay_getaddr_sent(struct cr_addr_relay *r);

/* Known addresses (Core's m_addr_known). insert returns -ENOMEM when the
 * ring could not be allocated (then nothing is remembered). */
int cr_addr_known_insert(struct cr_addr_relay *r, const struct cr_addr_keys *k,
			 const struct cr_peeraddr *a);
bool cr_addr_known_contains(const struct cr_addr_relay *r, const struct cr_addr_keys *k,
			    const struct cr_peeraddr *a);

/* ProcessAddrs for one addr/addrv2 message of n entries (shuffled in
 * place). More than 1,000 entries is misbehaviour: nothing is processed.
 * Otherwise the bucket is refilled at 0.1/s up to 1,000 and each entry
 * takes a token (without one it is dropped, unless addr_perm); entries
 * that are neither full nodes nor desirable are dropped; a time before
 * 1973 or more than 10 minutes ahead becomes 5 days ago; banned or
 * discouraged addresses are only remembered as known. Of the rest, those
 * on reachable networks are written to store[] (for the address manager,
 * with the 2-hour penalty), and, for a message of at most 10 entries not
 * answering our getaddr, the routable ones with a time in the last 10
 * minutes to relay[] (relay_reachable[] says which were reachable). */
struct cr_addr_process_out {
	bool misbehaving;
	size_t nstore, nrelay;
	bool fetch_done; /* an addr-fetch peer's answer: more than 1 entry */
};
void cr_process_addrs(struct cr_addr_process_out *out, struct cr_peeraddr *store,
		      struct cr_peeraddr *relay, bool *relay_reachable, struct cr_addr_relay *r,
		      const struct cr_addr_keys *k, struct cr_peeraddr *addrs, size_t n,
		      unsigned reachable, unsigned netgroup_flags, bool limited_ok,
		      const struct cr_banlist *bans, int64_t now_us, struct cr_rng *rng);

/* RelayAddress: of the candidates (peers with address relay on, with
 * their ids and whether they take addrv2), not the originator and able to
 * carry a, the 2 (or, for an unreachable address, 1 or 2 by the hash)
 * with the highest keyed hash of (address, day, peer id): the same peers
 * all day, so re-sending an address buys no wider spread. Writes indexes
 * into cands to best[] and returns their count. */
size_t cr_relay_address(size_t best[2], const struct cr_peeraddr *a, bool reachable,
			uint64_t originator, const uint64_t *cand_ids, const bool *cand_v2,
			size_t ncands, const struct cr_addr_keys *k, int64_t now_us);

/* PushAddress: queues a for the peer unless it knows it, cannot carry it
 * or it is invalid; a full queue has a random entry replaced. When the
 * send timer lapsed while nothing was queued, it is drawn again from now:
 * Core re-draws a lapsed timer whenever it looks, which makes the send
 * times a Poisson process, and by memorylessness the next point after now
 * is now + exp(30 s). Returns 0 or -ENOMEM. */
int cr_push_address(struct cr_addr_relay *r, const struct cr_addr_keys *k,
		    const struct cr_peeraddr *a, int64_t now_us, struct cr_rng *rng);

/* MaybeSendAddr: when the daily self-advertisement is due and self is not
 * NULL, queues self (after forgetting what the peer knows, as Core resets
 * its filter) and draws the next one (24 h mean). When the send timer is
 * due, draws the next (30 s mean) and moves the queued addresses the peer
 * does not know into out (at most CR_ADDR_QUEUE_MAX), marking them known.
 * Returns their count (0: nothing to send now). *next_us gets the time
 * this peer next needs a call (the earlier timer; INT64_MAX if none). */
size_t cr_maybe_send_addr(struct cr_peeraddr *out, struct cr_addr_relay *r,
			  const struct cr_addr_keys *k, const struct cr_peeraddr *self,
			  int64_t now_us, int64_t *next_us, struct cr_rng *rng);

/* Whether a peer can carry a: addrv2 peers anything, others IPv4/IPv6. */
static inline bool cr_addr_compatible(bool wants_addrv2, const struct cr_peeraddr *a)
{
	return wants_addrv2 || a->na.net == CR_NET_IPV4 || a->na.net == CR_NET_IPV6;
}

#endif
