/* What the RPC methods act on: the engine (through its public API only),
 * a few facts the daemon knows about itself, and hooks for the parts that
 * other pieces own. A hook left NULL means the feature is not there, and
 * the method answers with Core's error for a missing feature
 * (CR_RPC_CLIENT_P2P_DISABLED, CR_RPC_DATABASE_ERROR for bans), never with
 * an invented answer.
 *
 * Filled by connringd before the RPC server starts; read-only afterwards
 * except where a field says otherwise. Methods run on RPC connection
 * threads, several at once. */
#ifndef CR_CMD_RPC_NODE_H
#define CR_CMD_RPC_NODE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <connring/connring.h>
#include "proto/chain.h"

struct cr_rpc_node {
	struct cr_engine *e;
	enum cr_chain_id chain;
	int64_t started;            /* time(NULL) when the daemon started */
	char subversion[CR_UA_MAX + 1];
	int32_t protocol_version;
	uint64_t local_services;
	bool local_relay;
	char proxy[128];            /* "" = none */

	/* "stop": asks the daemon's main thread to shut down (any thread). */
	void (*request_stop)(void *user);
	/* "logging": turns debug categories (CR_LOG_* bits) on and off and
	 * returns the mask now in force (any thread). */
	unsigned (*log_categories)(void *user, unsigned enable, unsigned disable);
	void *user;
};

#endif
