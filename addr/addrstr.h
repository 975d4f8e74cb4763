/* Text forms of addresses: parse and format "host" and "host:port" for
 * every BIP155 network.
 *
 *   IPv4     1.2.3.4, 1.2.3.4:8333 (strict dotted quad, no leading zeros)
 *   IPv6     2001:db8::1, [2001:db8::1], [2001:db8::1]:8333 (RFC 4291 text,
 *            embedded dotted quad allowed; formatted per RFC 5952)
 *   Tor v3   <56 base32>.onion, checked: version byte 3 and the SHA3-256
 *            checksum over ".onion checksum" | pubkey | version
 *   I2P      <52 base32>.b32.i2p (the SHA-256 of the destination)
 *   CJDNS    an fc00::/8 IPv6 text, read as CJDNS only with CR_ADDRSTR_CJDNS
 *            (Core flips such addresses when CJDNS is reachable)
 *
 * IPv4-mapped IPv6 text (::ffff:1.2.3.4) parses to IPv4, as in Core. Host
 * names are not resolved (addr/ does no I/O) and are rejected. A host
 * without a port gets the caller's default port. Pure functions; any thread. */
#ifndef CR_ADDR_ADDRSTR_H
#define CR_ADDR_ADDRSTR_H

#include <stddef.h>
#include <stdint.h>

#include "proto/netaddr.h"

/* Longest input accepted and longest output produced, including NUL. */
#define CR_ADDRSTR_MAX 80

/* Read fc00::/8 IPv6 text as a CJDNS address. */
#define CR_ADDRSTR_CJDNS 0x1u
/* Accept port 0 (a listen address asking for any free port). */
#define CR_ADDRSTR_PORT0 0x2u

/* Parses a bare host (IPv6 without brackets; brackets are accepted too) of
 * len bytes (no NUL needed). Returns 0, CR_E_ADDR_PARSE or CR_E_ADDR_ONION;
 * *a is zeroed on failure. */
int cr_addrstr_parse_host(struct cr_netaddr *a, const char *s, size_t len, unsigned flags);

/* Parses host, host:port, [ipv6] or [ipv6]:port. A bare IPv6 with more than
 * one colon is all host. *port is default_port when none is given. Returns
 * 0, CR_E_ADDR_PARSE, CR_E_ADDR_ONION or CR_E_ADDR_PORT (empty, non-digit,
 * 0 or above 65535); on failure *a and *port are zeroed. */
int cr_addrstr_parse(struct cr_netaddr *a, uint16_t *port, const char *s, size_t len,
		     uint16_t default_port, unsigned flags);

/* Splits host, host:port, [host] or [host]:port without reading the host
 * (which may be a name: a proxy resolves it). The host is s[0..*host_len),
 * brackets included; a bare IPv6 with more than one colon is all host.
 * *port is default_port when none is given. Returns 0, CR_E_ADDR_PARSE
 * (empty host, unclosed bracket, text after ']') or CR_E_ADDR_PORT; on
 * failure *host_len and *port are zeroed. */
int cr_addrstr_split(size_t *host_len, uint16_t *port, const char *s, size_t len,
		     uint16_t default_port, unsigned flags);

/* Writes the host text of a with a NUL into out (cap bytes). Returns its
 * length, CR_E_OVERFLOW when cap is too small, or CR_E_INVAL for an address
 * whose length does not match its network; on failure out is "" (cap > 0). */
int cr_addrstr_format_host(char *out, size_t cap, const struct cr_netaddr *a);

/* Writes "host:port" ("[v6]:port" for IPv6 and CJDNS). Returns as above. */
int cr_addrstr_format(char *out, size_t cap, const struct cr_netaddr *a, uint16_t port);

/* RFC 4648 base32, lowercase, no padding. Returns the text length (with a
 * NUL written) or CR_E_OVERFLOW. */
int cr_base32_encode(char *out, size_t cap, const uint8_t *in, size_t len);
/* Decodes exactly out_len bytes from len chars (either case); the unused
 * low bits of the last char must be zero. Returns 0 or CR_E_ADDR_PARSE. */
int cr_base32_decode(uint8_t *out, size_t out_len, const char *s, size_t len);

#endif
