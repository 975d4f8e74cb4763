/* A sans-IO SOCKS5 client (RFC 1928) with optional username/password
 * authentication (RFC 1929), for outbound connections through a proxy such as
 * Tor. Bitcoin Core uses a fresh random username/password per connection for
 * Tor stream isolation, so credentials are supported but never required.
 *
 * The caller owns the socket: it connects to the proxy, sends what
 * cr_socks5_pending() returns, reports it with cr_socks5_sent(), and feeds
 * whatever the proxy answers to cr_socks5_recv() in chunks of any size (one
 * byte at a time works). Once cr_socks5_done() is true the socket is a plain
 * byte stream to the target; bytes that arrived after the proxy's reply were
 * not consumed and belong to the peer's transport.
 *
 * A struct cr_socks5 lives in caller memory (about 800 bytes, needed only
 * while the proxy handshake runs) and is used by one thread at a time. No
 * allocation, no clock, no I/O. */
#ifndef CR_PROTO_SOCKS5_H
#define CR_PROTO_SOCKS5_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CR_SOCKS5_HOST_MAX 255 /* RFC 1928: domain name length is one byte */
#define CR_SOCKS5_CRED_MAX 255 /* RFC 1929: user and password length bytes */

/* Reply codes of RFC 1928 section 6 (Tor adds 0xf0..0xf7 for onion errors). */
enum cr_socks5_reply {
	CR_SOCKS5_SUCCEEDED = 0x00,
	CR_SOCKS5_GENERAL_FAILURE = 0x01,
	CR_SOCKS5_NOT_ALLOWED = 0x02,
	CR_SOCKS5_NET_UNREACHABLE = 0x03,
	CR_SOCKS5_HOST_UNREACHABLE = 0x04,
	CR_SOCKS5_CONN_REFUSED = 0x05,
	CR_SOCKS5_TTL_EXPIRED = 0x06,
	CR_SOCKS5_CMD_UNSUPPORTED = 0x07,
	CR_SOCKS5_ATYP_UNSUPPORTED = 0x08,
};

struct cr_socks5 {
	/* The message being sent now: greeting, then authentication, then the
	 * CONNECT request. Sized for the largest (authentication: 3 + 2 * 255). */
	uint8_t out[3 + 2 * CR_SOCKS5_CRED_MAX];
	uint16_t out_len, out_sent;
	/* The CONNECT request, built at init, copied to out when its turn comes. */
	uint8_t req[7 + CR_SOCKS5_HOST_MAX];
	uint16_t req_len;
	/* Credentials kept until the server picks username/password. */
	uint8_t user_len, pass_len;
	uint8_t cred[2 * CR_SOCKS5_CRED_MAX];
	/* Receive side: the reply being assembled, bounded by its own layout. */
	uint8_t in[4 + 1 + CR_SOCKS5_HOST_MAX + 2];
	uint16_t in_len;  /* bytes of the current reply seen so far */
	uint16_t in_need; /* bytes the current reply has, once known */
	uint8_t state;    /* private */
	bool with_auth;
	bool resolve;     /* Tor's RESOLVE instead of CONNECT */
	int err;          /* sticky: first error, or 0 */
	/* Results, valid once done (reply_code also on CR_E_SOCKS_REPLY). */
	uint8_t reply_code;
	uint8_t bound_atyp;   /* 1 IPv4, 3 domain, 4 IPv6 */
	uint8_t bound_len;
	uint8_t bound_addr[CR_SOCKS5_HOST_MAX];
	uint16_t bound_port;  /* host byte order */
};

/* Prepares a no-authentication CONNECT to host:port. host is an IPv4 literal
 * ("1.2.3.4"), an IPv6 literal ("::1" or "[::1]") or a domain name of 1..255
 * bytes (sent to the proxy unresolved, as Tor needs). Returns 0, or
 * CR_E_SOCKS_HOST (name too long), CR_E_INVAL (empty name, control bytes, or
 * port 0). On failure *s is left failed: every later call returns the error. */
int cr_socks5_init(struct cr_socks5 *s, const char *host, uint16_t port);

/* As cr_socks5_init, and also offers RFC 1929 username/password (each 0..255
 * bytes, not NUL-terminated necessarily; lengths given). The server may still
 * choose no authentication. Returns 0, CR_E_SOCKS_HOST, or CR_E_INVAL (a
 * credential longer than 255 bytes, or the errors of cr_socks5_init). */
int cr_socks5_init_auth(struct cr_socks5 *s, const char *host, uint16_t port,
			const char *user, size_t user_len, const char *pass, size_t pass_len);

/* Tor's RESOLVE extension (command 0xF0, as btcd's TorLookupIP uses it):
 * asks the proxy to resolve name (1..255 bytes, sent as a domain whatever
 * it looks like) so that no DNS query leaves this host. Once done,
 * bound_atyp is 1 (IPv4) or 4 (IPv6) and bound_addr holds the address
 * (bound_len 4 or 16); a reply with a domain name in it fails with
 * CR_E_SOCKS_ADDR, a refusal with CR_E_SOCKS_REPLY (a proxy without the
 * extension answers "command not supported", 0x07). The same exchange as
 * a CONNECT otherwise; the connection carries nothing after it. Returns 0,
 * CR_E_SOCKS_HOST or CR_E_INVAL. */
int cr_socks5_init_resolve(struct cr_socks5 *s, const char *name);

/* Bytes to send to the proxy now: returns their count (0 when nothing is due)
 * and a view in *out, valid until the next call on s. */
size_t cr_socks5_pending(struct cr_socks5 *s, const uint8_t **out);
/* Reports n bytes of the pending view as sent (n <= what pending returned). */
void cr_socks5_sent(struct cr_socks5 *s, size_t n);

/* Feeds bytes from the proxy. Returns bytes consumed (>= 0): it stops right
 * after the CONNECT reply, so bytes beyond it are the peer's. Or a negative
 * error, after which s is failed (sticky): CR_E_SOCKS_VERSION (not SOCKS5, or
 * bad RFC 1929 version), CR_E_SOCKS_AUTH (no acceptable method, or a method we
 * did not offer), CR_E_SOCKS_DENIED (username/password rejected),
 * CR_E_SOCKS_REPLY (CONNECT refused: see s->reply_code), CR_E_SOCKS_ADDR
 * (unknown address type or zero-length domain in the reply),
 * CR_E_SOCKS_PROTO (reserved byte not zero), CR_E_SOCKS_STATE (bytes arrived
 * while our own request was not yet fully sent). Once done it consumes
 * nothing and returns 0. */
int cr_socks5_recv(struct cr_socks5 *s, const uint8_t *in, size_t len);

/* True once the proxy has accepted the CONNECT. */
bool cr_socks5_done(const struct cr_socks5 *s);

/* Readable text for a CONNECT reply code (RFC 1928 and Tor's extensions).
 * Never NULL. */
const char *cr_socks5_reply_str(uint8_t code);

#endif
