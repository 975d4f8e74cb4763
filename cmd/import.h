/* Reading a bitcoind's files for import: peers.dat (decoded by
 * addr/peersdat.h) and banlist.json (Core's BanMapToJson layout, decoded
 * here with jansson):
 *
 *   {"banned_nets": [{"version": 1, "ban_created": T, "banned_until": T,
 *                     "address": "1.2.3.0/24"}, ...]}
 *
 * As Core's BanMapFromJson, an entry of another version or with an address
 * that does not parse is dropped (counted in skipped); anything else that
 * does not fit the layout (not JSON, no banned_nets array, an entry that is
 * not an object or whose times are not integers) refuses the whole file.
 * Both readers only read: a refused file is left as it was, and the caller
 * applies nothing unless the whole file was accepted. Any thread. */
#ifndef CR_CMD_IMPORT_H
#define CR_CMD_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include <connring/connring.h>

#include "addr/banlist.h"
#include "addr/peersdat.h"
#include "proto/chain.h"

#define CR_IMPORT_FILE_MAX (64u << 20) /* larger than any peers.dat or banlist.json Core writes */

/* Reads a whole file (at most max bytes) into a malloc'd buffer. Returns
 * 0, or -errno / -EFBIG with why filled. */
int cr_import_read_file(const char *path, size_t max, uint8_t **buf, size_t *len, char *why,
			size_t why_len);

/* Decodes banlist.json text. Returns 0 with *out (malloc'd, *n entries)
 * and *skipped, or -EINVAL with why filled and *out NULL. */
int cr_import_banlist_json(const char *text, size_t len, struct cr_ban **out, size_t *n,
			   size_t *skipped, char *why, size_t why_len);

/* Reads and decodes a whole peers.dat of the chain into *out (cleared by
 * the caller with cr_peersdat_clear). 0, or negative with why filled. */
int cr_import_peers_read(const char *path, enum cr_chain_id chain, struct cr_peersdat *out,
			 char *why, size_t why_len);
/* The same, keeping only the counts. */
int cr_import_peers_file(const char *path, enum cr_chain_id chain, size_t *n, size_t *skipped,
			 char *why, size_t why_len);

/* The entries of a decoded peers.dat as the engine imports them
 * (cr_import_addresses): *out malloc'd (NULL when out of memory); returns
 * the count. */
size_t cr_import_peers_entries(const struct cr_peersdat *p, struct cr_addr_import **out);

/* Reads and decodes a whole banlist.json; *out malloc'd. */
int cr_import_bans_read(const char *path, struct cr_ban **out, size_t *n, size_t *skipped,
			char *why, size_t why_len);
int cr_import_bans_file(const char *path, size_t *n, size_t *skipped, char *why, size_t why_len);

/* -importbans: merges a whole banlist.json into the ban store at
 * banlist_path (connring's crash-safe banlist.dat, created when missing)
 * before the engine loads it, keeping each ban's creation and expiry; bans
 * expired at now are skipped, as Core sweeps them at load, and a subnet
 * banned in both keeps the later expiry. Nothing is written unless every
 * entry went in. Returns 0 with *added (bans new to the store: a merge
 * into one there is not counted) and *skipped, or negative with why
 * filled. Not while an engine owns that store. */
int cr_import_bans_apply(const char *json_path, const char *banlist_path, int64_t now, size_t *added,
			 size_t *skipped, char *why, size_t why_len);

#endif
