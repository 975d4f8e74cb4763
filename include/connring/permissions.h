/* connring: peer permissions, Bitcoin Core's NetPermissionFlags. Part of the
 * public interface (included by <connring/connring.h>): cr_peer_info's
 * permissions field holds these bits; addr/netperm.h parses Core's
 * -whitebind/-whitelist syntax into them. A flag that implies another
 * includes its bit, so "has flag f" means (flags & f) == f. The values are
 * Core's and part of the ABI. */
#ifndef CONNRING_PERMISSIONS_H
#define CONNRING_PERMISSIONS_H

#define CR_PERM_NONE 0u
#define CR_PERM_BLOOMFILTER (1u << 1)               /* "bloomfilter": BIP37 */
#define CR_PERM_RELAY (1u << 3)                     /* "relay" */
#define CR_PERM_FORCERELAY ((1u << 2) | CR_PERM_RELAY) /* "forcerelay", implies relay */
#define CR_PERM_DOWNLOAD (1u << 6)                  /* "download" */
#define CR_PERM_NOBAN ((1u << 4) | CR_PERM_DOWNLOAD) /* "noban", implies download */
#define CR_PERM_MEMPOOL (1u << 5)                   /* "mempool": BIP35 */
#define CR_PERM_ADDR (1u << 7)                      /* "addr": no address rate limit */
#define CR_PERM_IMPLICIT (1u << 31)                 /* parsed, not yet resolved */
#define CR_PERM_ALL (CR_PERM_BLOOMFILTER | CR_PERM_FORCERELAY | CR_PERM_RELAY | \
		     CR_PERM_NOBAN | CR_PERM_MEMPOOL | CR_PERM_DOWNLOAD | CR_PERM_ADDR)

#endif
