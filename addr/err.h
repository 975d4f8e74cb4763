/* Error codes of the address layer (addr/: stores, address text, asmap,
 * ban list, address manager), -1500 .. -1599, and their readable reasons.
 * addr/ functions return these, proto/'s CR_E_* (proto/err.h) or -errno.
 * Pure data: any thread may call cr_addr_strerror(). */
#ifndef CR_ADDR_ERR_H
#define CR_ADDR_ERR_H

#include "proto/err.h"

enum {
	/* stores, parsing, asmap, ban list: -1500 .. -1549 */
	CR_E_STORE_TRUNCATED = -1500, /* file shorter than its header says */
	CR_E_STORE_MAGIC = -1501,     /* file is not of the expected kind */
	CR_E_STORE_VERSION = -1502,   /* file written by a newer format version */
	CR_E_STORE_CHECKSUM = -1503,  /* checksum mismatch: corrupt file */
	CR_E_STORE_TOOLARGE = -1504,  /* body above CR_STORE_MAX_BODY or trailing bytes */
	CR_E_STORE_BODY = -1505,      /* body well-formed on disk but not decodable */
	CR_E_ADDR_PARSE = -1510,      /* not a host or host:port of a known network */
	CR_E_ADDR_PORT = -1511,       /* port missing, zero or above 65535 */
	CR_E_ADDR_ONION = -1512,      /* .onion with bad checksum or version */
	CR_E_ADDR_SUBNET = -1513,     /* bad CIDR prefix or non-contiguous netmask */
	CR_E_ASMAP = -1520,           /* asmap file fails Core's sanity check */
	CR_E_ASMAP_SIZE = -1521,      /* asmap file empty or above the size limit */
	CR_E_BAN_FULL = -1530,        /* ban list at its entry limit */

	/* address manager: -1550 .. -1599 */
	CR_E_ADDRMAN_CORRUPT = -1550,   /* stored body well-framed but semantically bad */
	CR_E_ADDRMAN_COUNT = -1560,     /* check: entry/new/tried counters disagree */
	CR_E_ADDRMAN_NETCOUNT = -1561,  /* check: per-network counters disagree */
	CR_E_ADDRMAN_RANDOM = -1562,    /* check: random array or positions wrong */
	CR_E_ADDRMAN_INDEX = -1563,     /* check: address index missing or stray */
	CR_E_ADDRMAN_REFCOUNT = -1564,  /* check: bad reference count or slot list */
	CR_E_ADDRMAN_NEWCELL = -1565,   /* check: new cell not holding its claimer */
	CR_E_ADDRMAN_TRIEDCELL = -1566, /* check: tried cell not holding its claimer */
	CR_E_ADDRMAN_NEWPOS = -1567,    /* check: new slot not the keyed position */
	CR_E_ADDRMAN_TRIEDPOS = -1568,  /* check: tried slot not the keyed bucket/position */
	CR_E_ADDRMAN_COLLISION = -1569, /* check: collision queue bad */
	CR_E_ADDRMAN_FREELIST = -1570,  /* check: free list bad */
	CR_E_ADDRMAN_GROUP = -1571,     /* check: cached netgroup stale */
	CR_E_ADDRMAN_ADDR = -1572,      /* check: entry holds an invalid address */
	CR_E_ADDRMAN_CELLSUM = -1573,   /* check: cell checksum: a stray table cell */
};

/* A readable reason for an addr/ or proto/ CR_E_* or a -errno value
 * ("unknown error" for anything else). Never NULL. */
const char *cr_addr_strerror(int err);

#endif
