/* Error codes of the protocol layer and their readable reasons.
 *
 * Every function in proto/ returns a negative CR_E_* (or -errno) on failure.
 * Codes are grouped in ranges by module so a reason can be found from the
 * number alone. Each layer owns a range: proto/ -1000 .. -1499 (here),
 * addr/ -1500 .. -1599 (addr/err.h), the engine -1600 .. -1699 (the public
 * <connring/connring.h>, whose cr_strerror covers all of them). Pure data:
 * any thread may call cr_proto_strerror(). */
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
};

/* A readable reason for a proto/ CR_E_* or a -errno value ("unknown error"
 * for anything else). Never NULL. */
const char *cr_proto_strerror(int err);

#endif
