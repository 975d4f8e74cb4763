/* connringd's chain signals without a chain: the engine's scheduler and
 * eviction need "this peer announced a new block / transaction" and "our
 * tip moved" (connring.h, chain signals), which an embedder with a chain
 * reports from validation. connringd has none, so it takes a block hash no
 * peer had announced before, first seen in an inv, headers or cmpctblock
 * message from a peer, as that peer's new block and as a tip update; and a
 * transaction hash (txid or wtxid) no peer announced before, first seen in
 * an inv, as that peer's new transaction. A peer can make up hashes, so
 * these are weaker than Core's (which count only blocks and transactions
 * that validate): that is written in -help and the README.
 *
 * Hashes are remembered in rolling bloom filters (addr/bloom.h: 8,192
 * blocks, 100,000 transactions, false positives one in a million, keyed
 * with a random tweak), so memory is fixed whatever peers send; a false
 * positive only withholds one credit. Bounded parsing: at most 50,000 inv
 * entries and 2,000 headers, as the messages allow. Thread-safe (a mutex):
 * on_message runs on every worker. */
#ifndef CR_CMD_ANNOUNCE_H
#define CR_CMD_ANNOUNCE_H

#include <stddef.h>
#include <stdint.h>

struct cr_announce;

/* NULL when out of memory. tweak keys the filters. */
struct cr_announce *cr_announce_new(uint32_t tweak);
void cr_announce_free(struct cr_announce *a);

/* What the message from a peer announced that was new to us: a mask of
 * CR_ANNOUNCE_BLOCK and CR_ANNOUNCE_TX (0: nothing new, or not such a
 * message, or malformed). */
unsigned cr_announce_message(struct cr_announce *a, const char *command, const uint8_t *payload,
			     size_t len);

#endif
