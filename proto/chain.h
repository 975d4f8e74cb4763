/* Network parameters the wire layer needs: magic bytes and default port.
 * Pure data; any thread. */
#ifndef CR_PROTO_CHAIN_H
#define CR_PROTO_CHAIN_H

#include <stdint.h>

#include <connring/chain.h> /* enum cr_chain_id, shared with embedders */

struct cr_chain {
	enum cr_chain_id id;
	const char *name;     /* bitcoind's -chain= value: main, test, testnet4, signet, regtest */
	uint8_t magic[4];     /* message start bytes as sent on the wire */
	uint16_t default_port;
};

/* Returns the parameters of a chain, or NULL for an unknown id. */
const struct cr_chain *cr_chain_get(enum cr_chain_id id);
/* Looks a chain up by its -chain= name ("testnet3" is accepted for "test");
 * NULL if unknown. */
const struct cr_chain *cr_chain_by_name(const char *name);
/* The chain whose magic equals the 4 bytes at p, or NULL. */
const struct cr_chain *cr_chain_by_magic(const uint8_t p[4]);

#endif
