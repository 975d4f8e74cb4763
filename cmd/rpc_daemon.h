/* connringd's control plane as one piece: credentials (cookie in the
 * chain's data directory, -rpcuser/-rpcpassword, -rpcauth), the JSON-RPC
 * server on bitcoind's binds (-rpcbind only together with -rpcallowip,
 * else loopback, with Core's warnings), and the metrics server on
 * -metricsbind. The daemon fills the options and a node; everything here
 * is started and stopped by the main thread. */
#ifndef CR_CMD_RPC_DAEMON_H
#define CR_CMD_RPC_DAEMON_H

#include <stdbool.h>
#include <stddef.h>

#include "cmd/rpc_auth.h"
#include "cmd/rpc_node.h"
#include "cmd/rpc_server.h"

#define CR_CONTROL_PATH_MAX 512

struct cr_control_opts {
	bool server;                               /* -server (default 1 in connringd) */
	char netdir[CR_CONTROL_PATH_MAX];          /* the chain's data directory */
	char cookiefile[CR_CONTROL_PATH_MAX];      /* -rpccookiefile ("" = .cookie), relative to netdir */
	char user[CR_RPC_CRED_MAX];                /* -rpcuser */
	char password[CR_RPC_CRED_MAX];            /* -rpcpassword ("" = cookie) */
	unsigned nauth;
	char auth[CR_RPC_AUTH_MAX][CR_RPC_CRED_MAX * 2 + 80]; /* -rpcauth */
	unsigned nbind;
	char bind[CR_RPC_BIND_MAX][80];            /* -rpcbind */
	unsigned nallow;
	char allow[CR_RPC_ALLOW_MAX][64];          /* -rpcallowip */
	unsigned port;                             /* -rpcport (0 = the chain's) */
	unsigned timeout_s;                        /* -rpcservertimeout (30) */
	char metricsbind[80];                      /* -metricsbind ("" = off) */
};

struct cr_control;

/* Starts what the options ask for. log (any thread) gets warnings and
 * errors as lines. Returns 0 and *out (NULL when -server=0 and no
 * metrics), or -errno with err filled (nothing left running). */
int cr_control_start(struct cr_control **out, const struct cr_control_opts *o,
		     struct cr_rpc_node *node, void (*log)(void *user, const char *line), void *log_user,
		     char *err, size_t err_len);

/* Ports actually bound (0 = not serving). */
unsigned cr_control_rpc_port(const struct cr_control *c);
unsigned cr_control_metrics_port(const struct cr_control *c);

/* Stops the servers (waiting for running calls) and removes the cookie.
 * NULL is fine. */
void cr_control_stop(struct cr_control *c);

#endif
