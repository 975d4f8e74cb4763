/* The open-connections scheduler's decisions, as pure functions over a
 * snapshot: Bitcoin Core v29's ThreadOpenConnections (one pass of its
 * loop), MaybePickPreferredNetwork, the address choice loop over addrman
 * Select, CheckForStaleTipAndEvictPeers and EvictExtraOutboundPeers.
 *
 * The coordinator builds a cr_sched_view (its outbound peers, the set of
 * every connected address, our own addresses, the -addnode list), calls
 * cr_sched_open_connections with the clock and an RNG, and carries out the
 * decision (open one connection of a given type, or an addr-fetch). It
 * records the connection as pending in its view before the next call, so
 * a caller may loop until CR_SCHED_NONE. State that outlives a pass (the
 * exponential timers, anchors, the stale-tip flag, the addr-fetch queue)
 * lives in cr_sched_state, owned by the caller. The address manager is the
 * caller's too: a pass selects from it and may call Good on a collision
 * address we are already connected to, as Core does, and adds the fixed
 * seeds to it when their time comes. Nothing here reads a clock, draws OS
 * randomness or touches a socket; one thread (the coordinator).
 *
 * Where this differs from Core, on purpose:
 * - the address rules are applied where they are stricter than
 *   Core v29: a non-default port is skipped until the 50th try (Core v22
 *   and before; v29 allows any port) and a port on Core's bad-port list is
 *   skipped always (v29: until the 50th try), so gossip cannot point our
 *   automatic connections at another service's port;
 * - Core's GetDesirableServiceFlags accepts NODE_NETWORK_LIMITED peers only
 *   when our tip is near the network's; the engine holds no chain, so the
 *   caller says (conf.limited_ok), and connringd, a relay, says yes;
 * - one "last new block" time per peer stands for both Core's
 *   m_last_block_time (block-relay-only eviction) and
 *   m_last_block_announcement (full-relay eviction): the engine only
 *   learns announcements, from the embedder;
 * - Core's chain-sync protection (m_protect, up to 4 outbound peers whose
 *   best block has at least our tip's work) is the caller's flag per peer:
 *   the engine sets it for the first 4 outbound full-relay peers that
 *   announced the block that is our tip;
 * - the feeler's random start delay (Core sleeps up to 1 s in the thread)
 *   is returned as delay_us for the caller to wait;
 * - all intervals are in cr_sched_conf so that tests can shorten them;
 *   the defaults are Core's. */
#ifndef CR_POLICY_SCHED_H
#define CR_POLICY_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr/addrman.h"
#include "addr/anchors.h"
#include "addr/banlist.h"
#include "addr/netgroup.h"
#include "addr/rng.h"
#include "engine/policy/ipset.h"
#include "proto/chain.h"
#include "proto/netaddr.h"

/* Connection types as Core names them (ConnectionTypeAsString). The values
 * of inbound, outbound-full-relay and manual are the engine's public
 * CR_CONN_* values. */
enum cr_ctype {
	CR_CT_INBOUND = 0,
	CR_CT_FULL_RELAY = 1,  /* "outbound-full-relay" */
	CR_CT_MANUAL = 2,
	CR_CT_FEELER = 3,
	CR_CT_BLOCK_RELAY = 4, /* "block-relay-only" */
	CR_CT_ADDR_FETCH = 5,
	CR_CT_COUNT = 6,
};
const char *cr_ctype_name(enum cr_ctype t); /* "inbound", "outbound-full-relay", ... */

/* Core's limits (net.h). */
#define CR_MAX_OUTBOUND_FULL_RELAY 8
#define CR_MAX_BLOCK_RELAY_ONLY 2
#define CR_MAX_FEELER 1
#define CR_MAX_ADDNODE 8
#define CR_SCHED_SELECT_TRIES 100     /* addrman draws per pass */
#define CR_SCHED_RECENT_TRIES 30      /* ... before recently tried ones are taken */
#define CR_SCHED_PORT_TRIES 50        /* ... before non-default ports are taken */
#define CR_SCHED_RECENT_TRY_S 600     /* "tried in the last 10 minutes" */
#define CR_SCHED_FETCH_MAX 32         /* queued addr-fetch destinations */
#define CR_SCHED_HOST_MAX 256         /* "host:port" of an addr-fetch */
#define CR_MAX_OUTBOUND_PROTECT 4     /* MAX_OUTBOUND_PEERS_TO_PROTECT_FROM_DISCONNECT */

/* Core's CConnman::Init arithmetic for -maxconnections. */
struct cr_sched_limits {
	unsigned max_connections;    /* m_max_automatic_connections */
	unsigned full_relay;         /* min(8, max) */
	unsigned block_relay;        /* min(2, max - full_relay) */
	unsigned feeler;             /* 1 */
	unsigned automatic_outbound; /* the outbound semaphore: the three above */
	unsigned inbound;            /* max - automatic_outbound, at least 0 */
};
void cr_sched_limits_init(struct cr_sched_limits *l, unsigned max_connections);

/* Intervals (microseconds); cr_sched_conf_default sets Core's. */
struct cr_sched_intervals {
	int64_t feeler_us;             /* FEELER_INTERVAL, 2 min */
	int64_t extra_block_relay_us;  /* EXTRA_BLOCK_RELAY_ONLY_PEER_INTERVAL, 5 min */
	int64_t extra_network_us;      /* EXTRA_NETWORK_PEER_INTERVAL, 5 min */
	int64_t feeler_window_us;      /* FEELER_SLEEP_WINDOW, 1 s */
	int64_t fixed_seeds_delay_us;  /* 60 s without addresses */
	int64_t stale_check_us;        /* STALE_CHECK_INTERVAL, 10 min */
	int64_t block_spacing_us;      /* nPowTargetSpacing, 10 min: stale after 3 */
	int64_t min_connect_us;        /* MINIMUM_CONNECT_TIME, 30 s */
};

struct cr_sched_conf {
	struct cr_sched_limits lim;
	struct cr_sched_intervals iv;
	enum cr_chain_id chain;
	uint16_t default_port;
	unsigned reachable;          /* CR_ADDRMAN_NET(net) mask (-onlynet); 0 = none */
	uint64_t our_services;       /* NODE_P2P_V2 here and in the address: try V2 */
	bool use_addrman_outgoing;   /* false with -connect */
	bool dnsseed;                /* DNS seeds will be queried (-dnsseed and IPv4/6 reachable) */
	bool seednodes;              /* -seednode given */
	bool fixedseeds;             /* -fixedseeds */
	bool limited_ok;             /* NODE_NETWORK_LIMITED peers are desirable */
	const struct cr_asmap *asmap;
	unsigned netgroup_flags;     /* CR_NETGROUP_LOOPBACK_ROUTABLE in tests */
};
void cr_sched_conf_default(struct cr_sched_conf *cf, enum cr_chain_id chain,
			   uint16_t default_port, unsigned max_connections);

/* One outbound peer as the coordinator sees it (connecting or connected). */
struct cr_sched_peer {
	uint64_t id;
	uint64_t seq;              /* connection order (Core's NodeId) */
	struct cr_netaddr addr;
	uint16_t port;
	uint8_t type;              /* enum cr_ctype */
	bool ready;                /* handshake done (fSuccessfullyConnected) */
	bool disconnecting;        /* fDisconnect */
	bool chain_protected;      /* see the header comment */
	bool blocks_in_flight;     /* the embedder downloads a block from it */
	int64_t connected_us;
	int64_t last_block_us;     /* last new block it announced, 0 = never */
};

/* A -addnode entry by address (Core's AddedNodesContain). */
struct cr_sched_svc {
	struct cr_netaddr addr;
	uint16_t port;
};

struct cr_sched_view {
	const struct cr_sched_peer *peers; /* every non-inbound peer */
	size_t npeers;
	const struct cr_ipset *connected;  /* every peer's address, inbound too */
	const struct cr_netaddr *local;    /* our own addresses (Core's IsLocal) */
	size_t nlocal;
	const struct cr_sched_svc *added;  /* -addnode */
	size_t nadded;
	const struct cr_banlist *bans;     /* may be NULL */
};

struct cr_sched_state {
	int64_t start_us;
	int64_t next_feeler_us, next_extra_block_relay_us, next_extra_network_us;
	int64_t next_stale_check_us;
	bool start_extra_block_relay;  /* m_start_extra_block_relay_peers */
	bool try_new_outbound;         /* stale tip: one extra full-relay peer */
	bool add_fixed_seeds;          /* fixed seeds not yet considered done */
	size_t nanchors;               /* anchors left to try, last first */
	struct cr_peeraddr anchors[CR_ANCHORS_MAX];
	size_t nfetch;                 /* addr-fetch queue, oldest first */
	char fetch[CR_SCHED_FETCH_MAX][CR_SCHED_HOST_MAX];
};
/* Draws the first timers as Core does (start + exp(interval)). */
void cr_sched_state_init(struct cr_sched_state *st, const struct cr_sched_conf *cf,
			 int64_t now_us, struct cr_rng *rng);
/* Core's AddAddrFetch: queues a "host[:port]" for an addr-fetch
 * connection. Returns 0, -ENOSPC (queue full) or -ENAMETOOLONG. */
int cr_sched_add_addr_fetch(struct cr_sched_state *st, const char *host);

enum cr_sched_action {
	CR_SCHED_NONE = 0,
	CR_SCHED_CONNECT,    /* open addr as type */
	CR_SCHED_ADDR_FETCH, /* open host as addr-fetch */
};

struct cr_sched_decision {
	enum cr_sched_action action;
	enum cr_ctype type;
	struct cr_peeraddr addr;       /* CONNECT */
	char host[CR_SCHED_HOST_MAX];  /* ADDR_FETCH */
	bool anchor;                   /* addr came from the anchors file */
	bool count_failure;            /* pass to Attempt when it fails */
	bool v2;                       /* both sides advertise NODE_P2P_V2 */
	int preferred_net;             /* network of a network-specific extra peer, or -1 */
	int64_t delay_us;              /* wait this long before connecting (feelers) */
	size_t fixed_seeds_added;      /* fixed seeds put into the addrman by this pass */
	unsigned tries;                /* addrman draws made */
};

/* One pass of ThreadOpenConnections. Fills *out (action NONE when nothing
 * is due or no address qualified). Returns 0. */
int cr_sched_open_connections(struct cr_sched_decision *out, struct cr_sched_state *st,
			      const struct cr_sched_conf *cf, const struct cr_sched_view *v,
			      struct cr_addrman *am, int64_t now_us, struct cr_rng *rng);

/* The type choice of that pass (anchors, then full-relay slots, then
 * block-relay-only slots, then the stale-tip extra peer, then the extra
 * block-relay-only peer, then a feeler, then a network-specific peer),
 * advancing the timer it consumes. Returns the type, or -1 when nothing
 * is due. *anchor and *preferred_net (-1 when none) are outputs. Exposed
 * for tests. */
struct cr_sched_counts {
	unsigned full_relay, block_relay, feeler, addr_fetch, manual;
	unsigned per_net[8];            /* full-relay + manual per BIP155 network */
};
void cr_sched_count(struct cr_sched_counts *c, const struct cr_sched_view *v);
int cr_sched_next_conn_type(struct cr_sched_state *st, const struct cr_sched_conf *cf,
			    const struct cr_sched_counts *c, struct cr_addrman *am,
			    int64_t now_us, struct cr_rng *rng, bool *anchor, int *preferred_net);

/* Core's MaybePickPreferredNetwork: a reachable network with no
 * full-relay or manual peer and some addresses, tried in random order.
 * Returns the BIP155 network id, or -1. */
int cr_sched_maybe_pick_preferred_network(const struct cr_sched_conf *cf,
					  const struct cr_sched_counts *c,
					  const struct cr_addrman *am, struct cr_rng *rng);

/* The address choice loop for one connection of type t: up to 100 draws
 * from Select (feelers: a test-before-evict collision first, else the new
 * table), each refused when its netgroup is taken by a full-relay,
 * block-relay-only or manual IPv4/IPv6 peer (not for feelers), when it is
 * invalid or ours (the loop ends), unreachable, tried in the last 10
 * minutes (before the 30th draw), lacks the services we need, has a
 * non-default port (before the 50th draw) or a bad port, or is a -addnode
 * entry. Returns 0 with *out and *tries, or -ENOENT. preferred_net >= 0
 * limits the draw to that network. */
int cr_sched_select_address(struct cr_peeraddr *out, unsigned *tries, enum cr_ctype t,
			    int preferred_net, const struct cr_sched_conf *cf,
			    const struct cr_sched_view *v, struct cr_addrman *am,
			    int64_t now_us, struct cr_rng *rng);

/* Core's IsBadPort (doc/p2p-bad-ports.md: 85 ports). */
bool cr_sched_bad_port(uint16_t port);

/* Helpers shared by the scheduler's files. Core's IsLocal (a is one of our
 * own addresses); AlreadyConnectedToAddress (any peer, or a pending
 * outbound one, has address a); the netgroups of the full-relay,
 * block-relay-only and manual IPv4/IPv6 peers (at most cap, distinct) with
 * *privacy set to the count of such peers on Tor, I2P or CJDNS. */
bool cr_sched_is_local(const struct cr_sched_view *v, const struct cr_netaddr *a);
bool cr_sched_already_connected(const struct cr_sched_view *v, const struct cr_netaddr *a);
size_t cr_sched_groups(uint8_t groups[][CR_NETGROUP_MAX], uint8_t *lens, size_t cap,
		       size_t *privacy, const struct cr_sched_conf *cf,
		       const struct cr_sched_view *v);
/* a's netgroup is one of groups[0..n) (as cr_sched_groups wrote them). */
bool cr_sched_group_taken(uint8_t groups[][CR_NETGROUP_MAX], const uint8_t *lens, size_t n,
			  const struct cr_netaddr *a, const struct cr_sched_conf *cf);

/* The fixed seeds of cf->chain for every reachable network the address
 * manager has no entry of, added with Core's ConvertSeeds times (one to two
 * weeks old) and an internal "fixedseeds" source. Returns how many were
 * placed. */
size_t cr_sched_add_fixed_seeds(struct cr_addrman *am, const struct cr_sched_conf *cf,
				int64_t now_us, struct cr_rng *rng);

/* Core's CheckForStaleTipAndEvictPeers, its stale-tip half: every
 * stale_check_us, with automatic connections on, a tip not updated for 3
 * block spacings and no block in flight sets try_new_outbound, else
 * clears it. last_tip_us 0 means "now" (Core starts the clock at the first
 * check). tip_recent starts the extra block-relay-only peers for good
 * (Core: once CanDirectFetch, the tip within 20 spacings of now). */
void cr_sched_check_stale_tip(struct cr_sched_state *st, const struct cr_sched_conf *cf,
			      int64_t last_tip_us, bool any_block_in_flight, bool tip_recent,
			      int64_t now_us);

/* Core's EvictExtraOutboundPeers: with more ready block-relay-only peers
 * than the target, the youngest goes, unless it announced a block more
 * recently than the second youngest, which then goes instead; with more
 * full-relay peers than the target, the one whose last block announcement
 * is oldest (ties: the youngest) goes, except protected peers and the only
 * full-relay-or-manual peer of its network. A chosen peer is kept when it
 * connected less than min_connect_us ago or a block is in flight from it.
 * Writes up to 2 ids to disconnect into out and returns their count; a
 * full-relay disconnection clears try_new_outbound. */
size_t cr_sched_evict_extra_outbound_peers(uint64_t out[2], struct cr_sched_state *st,
					   const struct cr_sched_conf *cf,
					   const struct cr_sched_view *v, int64_t now_us);

#endif
