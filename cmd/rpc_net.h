/* Helpers shared by the network methods (rpc_net.c, rpc_peers.c) and the
 * metrics writer. Any thread. */
#ifndef CR_CMD_RPC_NET_H
#define CR_CMD_RPC_NET_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <connring/connring.h>
#include "proto/netaddr.h"

/* Core's GetNetworkName of an address's class: "ipv4", "ipv6", "onion",
 * "i2p", "cjdns", "internal" or "not_publicly_routable" (loopback too). */
const char *cr_rpc_network_name(const struct cr_netaddr *a);

/* Core's GetServicesNames: ["NETWORK", "WITNESS", ..., "UNKNOWN[2^N]"]. */
json_t *cr_rpc_services_names(uint64_t services);

/* Snapshots every live peer into a malloc'd array (*out, *n). Blocks on the
 * workers; not from an engine thread. Returns 0 or -1 (out of memory). */
int cr_rpc_collect_peers(struct cr_engine *e, struct cr_peer_info **out, size_t *n);

/* One peer in getpeerinfo's shape (a new object). */
json_t *cr_rpc_peer_json(const struct cr_peer_info *pi);

#endif
