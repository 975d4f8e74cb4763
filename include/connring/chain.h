/* connring: the Bitcoin networks an engine can speak on. Part of the public
 * interface (included by <connring/connring.h>); proto/chain.h adds each
 * network's wire parameters (magic, default port) for the library itself. */
#ifndef CONNRING_CHAIN_H
#define CONNRING_CHAIN_H

#ifdef __cplusplus
extern "C" {
#endif

/* A network, as bitcoind's -chain= names it (main, test, testnet4, signet,
 * regtest). The values are part of the ABI: new networks are added before
 * CR_CHAIN_COUNT, never in between. */
enum cr_chain_id {
	CR_CHAIN_MAIN,
	CR_CHAIN_TESTNET3,
	CR_CHAIN_TESTNET4,
	CR_CHAIN_SIGNET,
	CR_CHAIN_REGTEST,
	CR_CHAIN_COUNT,
};

#ifdef __cplusplus
}
#endif

#endif
