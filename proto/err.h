/* Error codes of the protocol layer and their readable reasons.
 *
 * Every function in proto/ returns a negative CR_E_* (or -errno) on failure.
 * Codes are grouped in ranges by module so a reason can be found from the
 * number alone. Pure data: any thread may call cr_strerror(). */
#ifndef CR_PROTO_ERR_H
#define CR_PROTO_ERR_H

enum {
	/* wire: -1000 .. -1099 */
	CR_E_SHORT = -1000,         /* input ended before the value did */
	CR_E_OVERFLOW = -1001,      /* output buffer too small */
	CR_E_NONCANONICAL = -1002,  /* CompactSize not in its shortest form */
	CR_E_TOOLARGE = -1003,      /* a size above the applicable limit */
	CR_E_INVAL = -1004,         /* argument out of its domain */
	CR_E_NOMEM = -1005,         /* allocation failed */
	CR_E_CRYPTO = -1006,        /* the crypto library failed */

	/* v1 framing: -1100 .. -1199 */
	CR_E_V1_MAGIC = -1100,      /* header magic is not this chain's */
	CR_E_V1_COMMAND = -1101,    /* command not printable ASCII + NUL padding */
	CR_E_V1_LENGTH = -1102,     /* declared payload above 4,000,000 bytes */
	CR_E_V1_CHECKSUM = -1103,   /* checksum mismatch */

	/* message codecs: -1200 .. -1299 */
	CR_E_MSG_TRAILING = -1200,  /* bytes left after the last field */
	CR_E_MSG_COUNT = -1201,     /* too many entries (addr, addrv2) */
	CR_E_MSG_ADDR = -1202,      /* address length wrong for its network */
	CR_E_MSG_FIELD = -1203,     /* a field out of its allowed range */
	CR_E_MSG_UA = -1204,        /* user agent longer than 256 bytes */

	/* v2 transport: -1300 .. -1399 */
	CR_E_V2_NOTERM = -1300,     /* garbage terminator not found in 4095+16 bytes */
	CR_E_V2_AUTH = -1301,       /* AEAD tag did not verify */
	CR_E_V2_LENGTH = -1302,     /* packet contents above the limit */
	CR_E_V2_MAGIC = -1303,      /* V1 version under another network's magic */
	CR_E_V2_V1FALLBACK = -1304, /* peer closed during key exchange: retry V1 */
	CR_E_V2_SHORTID = -1305,    /* unknown 1-byte message id */
	CR_E_V2_COMMAND = -1306,    /* malformed 12-byte command */
	CR_E_V2_STATE = -1307,      /* call not valid in this state */
	CR_E_V2_KEY = -1308,        /* bad key material (ECDH failed) */
	CR_E_V2_EMPTY = -1309,      /* application packet with no header */

	/* socks5 client: -1400 .. -1499 */
	CR_E_SOCKS_VERSION = -1400, /* server spoke another SOCKS version */
	CR_E_SOCKS_AUTH = -1401,    /* no acceptable authentication method */
	CR_E_SOCKS_REPLY = -1402,   /* server refused the CONNECT (reply code) */
	CR_E_SOCKS_ADDR = -1403,    /* bad address type in reply */
	CR_E_SOCKS_HOST = -1404,    /* host name longer than 255 bytes */
	CR_E_SOCKS_DENIED = -1405,  /* username/password rejected (RFC 1929) */
	CR_E_SOCKS_PROTO = -1406,   /* malformed reply (reserved byte not zero) */
	CR_E_SOCKS_STATE = -1407,   /* reply before our request was fully sent */

	/* addr (stores, parsing, asmap, ban list): -1500 .. -1549 */
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

/* A readable reason for any CR_E_* or -errno value. Never NULL. */
const char *cr_strerror(int err);

#endif
