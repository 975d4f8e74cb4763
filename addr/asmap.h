/* asmap: Bitcoin Core's compact IP-prefix -> AS number map.
 *
 * The file is a bit stream (least significant bit of each byte first) of a
 * small program: RETURN asn, JUMP offset (branch on the next address bit),
 * MATCH bits (compare a run of address bits, mismatch returns the default),
 * DEFAULT asn. It is run over the 128 bits of an IPv6 address (IPv4 as
 * ::ffff:a.b.c.d). A file is loaded only after Core's sanity check proves
 * that every path ends in a RETURN within the file and consumes at most 128
 * bits, so a lookup can never run off the end. The loaded map is immutable:
 * any thread may look up concurrently; load and free on one thread. */
#ifndef CR_ADDR_ASMAP_H
#define CR_ADDR_ASMAP_H

#include <stddef.h>
#include <stdint.h>

#include "proto/netaddr.h"

/* Real asmaps are 1-2 MB; refuse anything far beyond. */
#define CR_ASMAP_MAX_BYTES (64u << 20)

struct cr_asmap;

/* Checks data (len bytes, 1..CR_ASMAP_MAX_BYTES) and copies it into a new
 * map. Returns 0 with *out set, CR_E_ASMAP_SIZE, CR_E_ASMAP (fails the
 * sanity check) or CR_E_NOMEM; *out is NULL on failure. */
int cr_asmap_from_bytes(struct cr_asmap **out, const uint8_t *data, size_t len);

/* Reads and checks an asmap file. Returns 0, -errno, or as above. */
int cr_asmap_load(struct cr_asmap **out, const char *path);

void cr_asmap_free(struct cr_asmap *m);

/* Runs the map over a 128-bit address (network order). Returns the AS
 * number, 0 when unmapped. */
uint32_t cr_asmap_lookup(const struct cr_asmap *m, const uint8_t ip[16]);

/* Core's GetMappedAS: the AS of an IPv4/IPv6 address or of the IPv4 it
 * carries (6to4, Teredo, mapped...); 0 for other networks, unroutable
 * addresses or a NULL map. flags as for cr_netgroup. */
uint32_t cr_asmap_addr(const struct cr_asmap *m, const struct cr_netaddr *a, unsigned flags);

/* SHA-256 of the file bytes, to tell which asmap is in use (Core logs it). */
void cr_asmap_version(const struct cr_asmap *m, uint8_t out[32]);

/* Core's SanityCheckASMap over len bytes with the given address bits. */
int cr_asmap_check(const uint8_t *data, size_t len, int bits);

#endif
