/* Service bits of the version message and of addr/addrv2 entries (Bitcoin
 * Core's ServiceFlags, protocol.h), and Core's two tests over them that
 * decide which gossiped addresses are worth storing and connecting to.
 * Pure data and inline functions; any thread. */
#ifndef CR_PROTO_SERVICES_H
#define CR_PROTO_SERVICES_H

#include <stdbool.h>
#include <stdint.h>

#define CR_NODE_NONE 0u
#define CR_NODE_NETWORK (1ull << 0)          /* serves the full chain */
#define CR_NODE_BLOOM (1ull << 2)            /* BIP111 */
#define CR_NODE_WITNESS (1ull << 3)          /* BIP144 */
#define CR_NODE_COMPACT_FILTERS (1ull << 6)  /* BIP157 */
#define CR_NODE_NETWORK_LIMITED (1ull << 10) /* BIP159: the last 288 blocks */
#define CR_NODE_P2P_V2 (1ull << 11)          /* BIP324 */

/* What DNS seeds are asked for (Core's SeedsServiceFlags): the "x9."
 * subdomain. */
#define CR_SEEDS_SERVICES (CR_NODE_NETWORK | CR_NODE_WITNESS)

/* Core's MayHaveUsefulAddressDB: a full or pruned node keeps an address
 * database worth asking (feelers and stored gossip need no more). */
static inline bool cr_services_may_have_addr_db(uint64_t s)
{
	return (s & (CR_NODE_NETWORK | CR_NODE_NETWORK_LIMITED)) != 0;
}

/* Core's HasAllDesirableServiceFlags. limited_ok is Core's "our best block
 * is near the tip" (ApproximateBestBlockDepth below 144 blocks + 144),
 * when a pruned (NETWORK_LIMITED) peer can serve us too. */
static inline bool cr_services_desirable(uint64_t s, bool limited_ok)
{
	uint64_t want = (limited_ok && (s & CR_NODE_NETWORK_LIMITED))
				? (CR_NODE_NETWORK_LIMITED | CR_NODE_WITNESS)
				: (CR_NODE_NETWORK | CR_NODE_WITNESS);
	return (s & want) == want;
}

#endif
