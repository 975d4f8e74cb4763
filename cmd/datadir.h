/* The data directory laid out as bitcoind's, so that tools written for
 * bitcoind find connringd's files: a default of ~/.connring (bitcoind:
 * ~/.bitcoin), and for every chain but main a subfolder named as bitcoind
 * names it (testnet3, testnet4, signet, regtest) holding the chain's files,
 * the RPC cookie among them. `bitcoin-cli -regtest -datadir=DIR` therefore
 * reads DIR/regtest/.cookie, where connringd -regtest -datadir=DIR wrote it.
 *
 * Also the chain's default RPC port (bitcoind's). Used by connringd,
 * connring-cli and connring-top; any thread (no globals; reads $HOME). */
#ifndef CR_CMD_DATADIR_H
#define CR_CMD_DATADIR_H

#include <stddef.h>
#include <stdint.h>

#include "proto/chain.h"

/* The default base directory: $HOME/.connring. Returns 0, or -ENOENT when
 * HOME is unset or empty, -ENAMETOOLONG when it does not fit in cap. */
int cr_datadir_default(char *out, size_t cap);

/* bitcoind's subfolder for a chain: "" for main, else "testnet3",
 * "testnet4", "signet" or "regtest". */
const char *cr_datadir_chain_subdir(enum cr_chain_id chain);

/* base joined with the chain's subfolder (base itself for main). Returns 0
 * or -ENAMETOOLONG. */
int cr_datadir_net(char *out, size_t cap, const char *base, enum cr_chain_id chain);

/* Creates dir (and, for the default base, its parent is $HOME which must
 * exist) with mode 0700 if missing. Returns 0 or -errno (-ENOTDIR when the
 * path exists and is not a directory). */
int cr_datadir_ensure(const char *dir);

/* path resolved against dir as bitcoind resolves relative file options
 * (absolute paths and "" stay as they are). Returns 0 or -ENAMETOOLONG. */
int cr_datadir_path(char *out, size_t cap, const char *dir, const char *path);

/* bitcoind's default RPC port of a chain: 8332, 18332, 48332, 38332,
 * 18443. */
uint16_t cr_rpc_default_port(enum cr_chain_id chain);

#endif
