/* Asynchronous DNS for the coordinator: A and AAAA lookups of the DNS
 * seeds' names through c-ares (Debian 12's 1.18.1; nothing newer is used),
 * driven by the caller's own event loop: it watches cr__dns_fds(), sleeps at
 * most cr__dns_timeout_us() and then calls cr__dns_process(). Nothing here
 * waits on the network or creates a thread; /etc/resolv.conf is read once in
 * cr__dns_new(), but without a server override c-ares (1.18, lookups "fb")
 * reads /etc/hosts again at each lookup (a local file read). One
 * thread (the coordinator) owns a struct cr__dns and makes every call on it.
 *
 * Names are resolved here only. When a proxy is configured the caller must
 * not call cr__dns_lookup at all (no local DNS query may leak which seeds
 * we ask, as in Core with -proxy/-onlynet=onion): it contacts the seed by
 * name through the proxy as an addr-fetch connection instead (see
 * engine/policy/dnsseed.h). This module does not know about proxies.
 *
 * What a DNS server can make us hold is bounded:
 *  - at most CR__DNS_MAX_LOOKUPS lookups at once (more are refused with
 *    -EBUSY); a lookup counts until c-ares itself is done with it, even
 *    after its callback reported a timeout;
 *  - every lookup ends within the deadline (CR__DNS_LOOKUP_MS by default):
 *    its callback runs with -ETIMEDOUT then, whatever c-ares still tries;
 *    c-ares itself gives up after tries x servers attempts, the first
 *    after timeout_ms, each later round twice as long (c-ares 1.18);
 *  - at most CR_DNSSEED_MAX_IPS addresses are reported per lookup, drawn
 *    uniformly at random among all returned, half of them reserved for
 *    each family when both are offered (a flood of A records cannot crowd
 *    out the AAAA ones, nor the reverse);
 *  - a truncated UDP answer is retried over TCP by c-ares (its default, as
 *    glibc's getaddrinfo does), so the random draw is over the whole
 *    answer, not the first 512 bytes of it; a TCP answer is at most 64 KiB
 *    (its 2-byte length prefix).
 *
 * Differs from Core (getaddrinfo with AI_ADDRCONFIG in a thread of its own;
 * LookupHost takes the first 32 results in the resolver's order): search
 * domains are never appended (a seed's name is absolute), a lookup has a
 * hard deadline, the 32 are a random draw, and lookups run concurrently. */
#ifndef CR_ENGINE_DNS_H
#define CR_ENGINE_DNS_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/netaddr.h"

#define CR__DNS_MAX_LOOKUPS 16     /* lookups at once (CR_SEEDS_DNS_MAX seeds) */
#define CR__DNS_TIMEOUT_MS 5000    /* c-ares: first try's timeout per server */
#define CR__DNS_TRIES 2            /* c-ares: rounds over the servers */
#define CR__DNS_LOOKUP_MS 10000    /* our hard deadline per lookup */
#define CR__DNS_MAX_FDS 16         /* ARES_GETSOCK_MAXNUM */

struct cr__dns;

/* Status values a callback may see besides 0 (each a -errno, so
 * cr_strerror() has a text for it):
 *   -ENOENT        the name does not exist (NXDOMAIN) or has no A/AAAA
 *   -ETIMEDOUT     no answer within the deadline or c-ares's tries
 *   -ECONNREFUSED  every server refused (ICMP port unreachable, REFUSED)
 *   -EIO           the server failed (SERVFAIL) or another resolver error
 *   -EPROTO        a malformed answer
 *   -ENOMEM        out of memory
 *   -EINVAL        a name c-ares refuses (bad characters, too long)
 *   -ECANCELED     cr__dns_free() ran while the lookup was pending */
typedef void (*cr__dns_cb)(void *arg, int status, const struct cr_netaddr *addrs, size_t n);

/* A resolver. server_override: "ip:port" (or "[ip6]:port") of the only
 * server to ask, and then neither /etc/hosts nor the system's servers are
 * used (tests); NULL: the system's resolver config (/etc/resolv.conf,
 * /etc/hosts), the former read once here, /etc/hosts at each lookup.
 *  Returns: the resolver, or NULL with *err set (-ENOMEM, -EINVAL for a
 *           bad server_override, -EIO when c-ares could not start). */
struct cr__dns *cr__dns_new(const char *server_override, int *err);

/* As cr__dns_new with c-ares's per-try timeout and try count and our
 * per-lookup deadline given (each > 0; tests use short ones). */
struct cr__dns *cr__dns_new_opts(const char *server_override, int timeout_ms, int tries,
				 int lookup_ms, int *err);

/* Frees the resolver and its sockets. Every lookup whose callback has not
 * run yet gets it now, inside this call, with -ECANCELED (and no address);
 * such a callback must not call cr__dns_* on d. NULL is allowed. */
void cr__dns_free(struct cr__dns *d);

/* Starts resolving name (A and AAAA). port is not used by DNS (an answer
 * carries no port) and is only checked to be non-zero; the caller pairs
 * it with the addresses. cb runs later, from cr__dns_process() (never
 * from inside this call, even for a numeric name or an immediate error),
 * exactly once, with the status and up to CR_DNSSEED_MAX_IPS addresses
 * (IPv4 and IPv6 cr_netaddr; valid only during the call).
 *  Returns: 0; -EBUSY when CR__DNS_MAX_LOOKUPS lookups are running;
 *           -EINVAL for a NULL/empty name, a name above 253 bytes, port 0
 *           or no cb. On failure cb never runs. */
int cr__dns_lookup(struct cr__dns *d, const char *name, uint16_t port, cr__dns_cb cb, void *arg);

/* The sockets c-ares wants watched, at most max (CR__DNS_MAX_FDS is
 * enough). Watch each for readability; a socket may also need
 * writability (a TCP connection being set up or a request not fully
 * sent): cr__dns_pollfds() says which, with the events to poll for.
 * Either way cr__dns_process() finds out by itself which are ready.
 *  Returns: the number of fds written (0 when idle). */
int cr__dns_fds(struct cr__dns *d, int *fds, int max);

/* As cr__dns_fds with events: POLLIN, POLLOUT or both per socket
 * (revents zeroed). Returns the number written. */
int cr__dns_pollfds(struct cr__dns *d, struct pollfd *pfds, int max);

/* Reads what is ready on the sockets (a zero-timeout poll of its own),
 * handles expired c-ares timeouts and lookup deadlines, and runs the
 * callbacks of the lookups that ended. Never blocks. A callback may call
 * cr__dns_lookup (its slot is free again by then) but not cr__dns_free. */
void cr__dns_process(struct cr__dns *d);

/* Microseconds until cr__dns_process() should run even if no socket is
 * ready: 0 when a result waits for delivery, -1 when no lookup runs. */
int64_t cr__dns_timeout_us(struct cr__dns *d);

/* Lookups counted against CR__DNS_MAX_LOOKUPS right now. */
unsigned cr__dns_pending(const struct cr__dns *d);

#endif
