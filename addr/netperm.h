/* Peer permissions with Bitcoin Core's syntax (net_permissions.cpp):
 * -whitebind=[perms@]ADDR:PORT and -whitelist=[perms@]SUBNET, perms being a
 * comma-separated list of Core's names:
 *
 *   noban        never banned, discouraged or evicted; implies download
 *   addr         exempt from the address rate limit; getaddr answered from
 *                the address manager in full rather than from the cache
 *   in, out      -whitelist only: which connections it applies to (default
 *                in; out applies to manual outbound connections, as Core)
 *   bloomfilter (bloom), relay, forcerelay (implies relay), mempool,
 *   download, all
 *
 * connring itself acts on noban, addr and the directions. The others are
 * parsed, kept per peer and shown in its statistics exactly as Core would
 * set them, but connring has no mempool, bloom filters, transaction relay or
 * block download of its own: an embedder that has them reads the flags from
 * the peer's info and applies Core's meaning.
 *
 * Without "perms@" the permissions are implicit: Core's legacy whitelist,
 * resolved when a peer matches to noban + mempool, plus relay when
 * -whitelistrelay (default on) and forcerelay when -whitelistforcerelay
 * (default off). An empty list ("@1.2.3.4") grants nothing.
 *
 * Differences from Core: host names are not resolved (addr/ does no I/O), so
 * a whitebind or whitelist must be numeric; Core resolves them at start-up.
 * Error texts are Core's. Pure functions; any thread. */
#ifndef CR_ADDR_NETPERM_H
#define CR_ADDR_NETPERM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr/subnet.h"
#include "proto/netaddr.h"

/* Core's NetPermissionFlags values. A flag that implies another includes
 * its bit, so "has" means all bits present. */
#define CR_PERM_NONE 0u
#define CR_PERM_BLOOMFILTER (1u << 1)
#define CR_PERM_RELAY (1u << 3)
#define CR_PERM_FORCERELAY ((1u << 2) | CR_PERM_RELAY)
#define CR_PERM_DOWNLOAD (1u << 6)
#define CR_PERM_NOBAN ((1u << 4) | CR_PERM_DOWNLOAD)
#define CR_PERM_MEMPOOL (1u << 5)
#define CR_PERM_ADDR (1u << 7)
#define CR_PERM_IMPLICIT (1u << 31)
#define CR_PERM_ALL (CR_PERM_BLOOMFILTER | CR_PERM_FORCERELAY | CR_PERM_RELAY | \
		     CR_PERM_NOBAN | CR_PERM_MEMPOOL | CR_PERM_DOWNLOAD | CR_PERM_ADDR)

/* Directions a -whitelist entry applies to. */
#define CR_PERM_DIR_IN 1u
#define CR_PERM_DIR_OUT 2u

static inline bool cr_perm_has(uint32_t flags, uint32_t f)
{
	return (flags & f) == f;
}

struct cr_whitelist {
	struct cr_subnet subnet;
	uint32_t flags;     /* may hold CR_PERM_IMPLICIT */
	uint8_t dirs;       /* CR_PERM_DIR_* */
};

struct cr_whitebind {
	struct cr_netaddr addr;
	uint16_t port;      /* never 0 */
	uint32_t flags;     /* may hold CR_PERM_IMPLICIT */
};

/* Parse one option value (len bytes, no NUL needed). Return 0, or CR_E_INVAL
 * with Core's message in err (always NUL-terminated when errcap > 0; *out
 * zeroed). */
int cr_whitelist_parse(struct cr_whitelist *out, const char *s, size_t len, char *err,
		       size_t errcap);
int cr_whitebind_parse(struct cr_whitebind *out, const char *s, size_t len, char *err,
		       size_t errcap);

/* Replaces CR_PERM_IMPLICIT by the legacy set (noban, mempool, and relay /
 * forcerelay as -whitelistrelay / -whitelistforcerelay say). */
uint32_t cr_perm_resolve(uint32_t flags, bool whitelist_relay, bool whitelist_forcerelay);

/* Core's AddWhitelistPermissionFlags: flags | the flags of every entry of
 * list (n entries) that applies to direction dir and contains a, resolved. */
uint32_t cr_whitelist_match(uint32_t flags, const struct cr_whitelist *list, size_t n,
			    const struct cr_netaddr *a, unsigned dir, bool whitelist_relay,
			    bool whitelist_forcerelay);

/* Core's NetPermissions::ToStrings joined with ',' ("" for none), in Core's
 * order. Returns the length, or CR_E_OVERFLOW ("" written, cap > 0). */
int cr_perm_format(char *out, size_t cap, uint32_t flags);

#endif
