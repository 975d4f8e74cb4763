/* connringd's JSON-RPC HTTP server on libmicrohttpd, with bitcoind's rules:
 * POST to "/" (or "/wallet/..."), HTTP/1.1 keep-alive, Basic auth checked
 * before the body is read (no header: 401 at once; wrong credentials: 401
 * after a 250 ms pause, as Core deters brute force), clients outside
 * -rpcallowip (loopback is always allowed) get 403, another method 405,
 * another path 404, a body declared larger than the limit 413.
 *
 * Each connection has its own thread (libmicrohttpd's thread-per-connection
 * mode, poll based): a client that stalls half-way through a request, or a
 * slow method, holds only its own thread until -rpcservertimeout closes an
 * idle connection; everyone else is served meanwhile. The connection count
 * is capped, and so is the memory of bodies being received, per request and
 * in sum.
 *
 * Threads: start and stop from the main thread; the dispatcher runs on the
 * connection threads (see rpc.h). */
#ifndef CR_CMD_RPC_SERVER_H
#define CR_CMD_RPC_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include "addr/subnet.h"
#include "cmd/rpc.h"
#include "cmd/rpc_auth.h"

#define CR_RPC_BIND_MAX 8
#define CR_RPC_ALLOW_MAX 32
#define CR_RPC_MAX_BODY (32u << 20)        /* Core's MAX_SIZE for an HTTP body */
#define CR_RPC_MAX_BODY_TOTAL (128u << 20) /* all bodies being received together */

struct cr_rpc_server_opts {
	unsigned nbind;                    /* 0 = 127.0.0.1 and ::1 */
	char bind[CR_RPC_BIND_MAX][80];    /* "addr" or "addr:port" / "[v6]:port" */
	uint16_t port;                     /* for binds without a port */
	unsigned nallow;
	struct cr_subnet allow[CR_RPC_ALLOW_MAX]; /* beside loopback */
	const struct cr_rpc_auth *auth;    /* must outlive the server */
	unsigned timeout_s;                /* idle connection timeout (Core's -rpcservertimeout, 30) */
	unsigned max_clients;              /* connections at once (64) */
	size_t max_body;                   /* per request (CR_RPC_MAX_BODY) */
	size_t max_body_total;             /* in sum (CR_RPC_MAX_BODY_TOTAL) */
	unsigned auth_delay_ms;            /* pause before a 401 for bad credentials (250) */
	void (*log)(void *user, const char *line); /* any thread; may be NULL */
	void *log_user;
};

struct cr_rpc_server;

/* Fills the defaults noted above (no binds: loopback). */
void cr_rpc_server_opts_default(struct cr_rpc_server_opts *o);

/* Binds every address and starts serving d. An address that cannot be
 * bound is logged and skipped; none bound is an error. Returns 0 and *out,
 * or -errno with err filled. */
int cr_rpc_server_start(struct cr_rpc_server **out, const struct cr_rpc_server_opts *o,
			const struct cr_rpc_dispatch *d, char *err, size_t err_len);

/* The port the first address was bound to (useful with port 0). */
uint16_t cr_rpc_server_port(const struct cr_rpc_server *s);

/* Closes the listening sockets and every connection, waits for running
 * calls to end, frees. NULL is fine. */
void cr_rpc_server_stop(struct cr_rpc_server *s);

/* Parses one bind address ("1.2.3.4", "1.2.3.4:80", "::1", "[::1]:80")
 * into ss with default_port where none is given. 0 or -EINVAL. Shared
 * with the metrics server. */
int cr_rpc_parse_bind(struct sockaddr_storage *ss, socklen_t *len, const char *text,
		      uint16_t default_port);
/* A listening TCP socket on ss (SO_REUSEADDR, IPV6_V6ONLY). fd or -errno. */
int cr_rpc_listen(const struct sockaddr_storage *ss, socklen_t len);
/* The local port of a bound socket (0 on error). */
uint16_t cr_rpc_sock_port(int fd);

#endif
