/* When and how to ask the DNS seeds: Bitcoin Core's ThreadDNSAddressSeed
 * as a state machine the coordinator steps (it resolves names
 * asynchronously; see engine/dns.c).
 *
 * With -seednode, the seed nodes get 30 s first and the DNS seeds are
 * skipped once 2 full-relay peers are up. Seeds are asked in random order;
 * all of them at once when the address manager is empty (first run) or
 * with -forcednsseed, else 3 at a time after a wait (11 s, or 5 minutes
 * once the table holds 1,000 addresses) that ends early, for good, when 2
 * full-relay peers are up: a node that knows addresses asks seeds rarely,
 * which keeps their influence on our view of the network small and tells
 * the seed operators less about us. A name is asked for the "x9."
 * subdomain (NODE_NETWORK | NODE_WITNESS peers); a seed that returns
 * nothing, and every seed when a proxy is used (no local DNS then), is
 * contacted by name as an addr-fetch connection instead.
 *
 * Differs from Core: the caller must report a query as finished
 * (pending = 0) before the next step is due, which makes the lookups
 * sequential as Core's blocking getaddrinfo calls are. Pure; coordinator
 * thread. */
#ifndef CR_POLICY_DNSSEED_H
#define CR_POLICY_DNSSEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr/addrman.h"
#include "addr/rng.h"
#include "addr/seeds.h"

#define CR_DNSSEED_AT_ONCE 3                        /* DNSSEEDS_TO_QUERY_AT_ONCE */
#define CR_DNSSEED_DELAY_FEW_US (11ll * 1000000)    /* DNSSEEDS_DELAY_FEW_PEERS */
#define CR_DNSSEED_DELAY_MANY_US (300ll * 1000000)  /* DNSSEEDS_DELAY_MANY_PEERS */
#define CR_DNSSEED_PEER_THRESHOLD 1000              /* DNSSEEDS_DELAY_PEER_THRESHOLD */
#define CR_DNSSEED_OUTBOUND_THRESHOLD 2             /* SEED_OUTBOUND_CONNECTION_THRESHOLD */
#define CR_DNSSEED_SEEDNODE_US (30ll * 1000000)     /* SEEDNODE_TIMEOUT */
#define CR_DNSSEED_POLL_US 500000
#define CR_DNSSEED_MAX_IPS 32                       /* per seed */

enum cr_dnsseed_action {
	CR_DNSSEED_WAIT = 0, /* call again at *wake_us (or when an input changes) */
	CR_DNSSEED_QUERY,    /* resolve "x9.<seed>" and call cr_dnsseed_add */
	CR_DNSSEED_FETCH,    /* open an addr-fetch connection to <seed> */
	CR_DNSSEED_DONE,     /* nothing more, ever */
};

struct cr_dnsseed {
	int phase;
	int64_t start_us, chunk_end_us, wait_left_us, wait_time_us;
	unsigned outbound_at_start;
	size_t nseeds, next;
	size_t order[CR_SEEDS_DNS_MAX];
	size_t right_now; /* seeds to ask before the next wait */
	const char *why;  /* the last decision, for the log (static text) */
};

struct cr_dnsseed_input {
	size_t addrman_size;
	unsigned full_outbound;    /* ready outbound full-relay peers */
	bool seednode;             /* -seednode given */
	bool force;                /* -forcednsseed */
	bool name_proxy;           /* a proxy resolves names: never query locally */
	unsigned pending;          /* queries of ours still running */
};

/* nseeds <= CR_SEEDS_DNS_MAX; the order is shuffled with rng. */
void cr_dnsseed_init(struct cr_dnsseed *st, size_t nseeds, int64_t now_us, struct cr_rng *rng);

/* The next thing to do. *seed is the index (into cr_seeds_dns) of the seed
 * for QUERY and FETCH; *wake_us when to step again for WAIT. */
enum cr_dnsseed_action cr_dnsseed_step(struct cr_dnsseed *st, const struct cr_dnsseed_input *in,
				       int64_t now_us, size_t *seed, int64_t *wake_us);

/* Adds the addresses a seed returned (at most 32 are taken) with the
 * chain's port, NODE_NETWORK | NODE_WITNESS, a time 3 to 7 days old and
 * the internal source "x9.<seed>". Returns how many were taken. */
size_t cr_dnsseed_add(struct cr_addrman *am, const struct cr_netaddr *ips, size_t n,
		      const char *seed, uint16_t port, int64_t now_us, struct cr_rng *rng);

#endif
