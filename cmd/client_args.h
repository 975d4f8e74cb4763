/* Command-line and config-file handling shared by connring-cli and
 * connring-top: bitcoin-cli's options (-datadir, -conf, -chain and its
 * shorthands, -rpcconnect, -rpcport, -rpcuser, -rpcpassword,
 * -rpccookiefile, -rpcclienttimeout) read from argv and from the config
 * file's top level and chain section (command line wins), then turned into
 * a connected struct cr_client. Also bitcoin-cli's table of which
 * arguments are sent as JSON rather than as strings. Main thread. */
#ifndef CR_CMD_CLIENT_ARGS_H
#define CR_CMD_CLIENT_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cmd/client_rpc.h"
#include "proto/chain.h"

#define CR_CLIENT_PATH_MAX 512

struct cr_client_opts {
	enum cr_chain_id chain;
	char datadir[CR_CLIENT_PATH_MAX];
	char conf[CR_CLIENT_PATH_MAX];
	char rpcconnect[128];
	unsigned rpcport;                  /* 0 = the chain's */
	char rpcuser[CR_RPC_CRED_MAX];
	char rpcpassword[CR_RPC_CRED_MAX];
	char rpccookiefile[CR_CLIENT_PATH_MAX];
	unsigned timeout_s;                /* -rpcclienttimeout (900; 0 = none) */
	/* connring-cli's own */
	bool named, use_stdin, help, version;
	int netinfo;                       /* -1 = not asked; else the level */
	/* connring-top's own */
	unsigned refresh_ms;
	/* which options came from the command line (bit per option) */
	uint32_t set;
};

void cr_client_opts_init(struct cr_client_opts *o);

/* Reads the leading "-name[=value]" arguments of argv; returns the index
 * of the first other argument, or -1 with err filled. extra (may be NULL)
 * gets first try at each option: it returns 1 when it took it, 0 when not,
 * -1 on error. */
int cr_client_opts_argv(struct cr_client_opts *o, int argc, char **argv,
			int (*extra)(struct cr_client_opts *o, const char *name, const char *value),
			char *err, size_t err_len);

/* Reads the config file (-conf, or <datadir>/connring.conf when it exists)
 * for options not given on the command line. Returns 0 or -1 with err. */
int cr_client_opts_conf(struct cr_client_opts *o, char *err, size_t err_len);

/* Credentials and address into a ready client. Returns 0, or -1 with err
 * ("Could not locate RPC credentials..." as bitcoin-cli). */
int cr_client_connect(struct cr_client *c, const struct cr_client_opts *o, char *err,
		      size_t err_len);

/* bitcoin-cli's parameter conversion: true when argument idx (or name) of
 * method is sent as JSON rather than as a string. */
bool cr_client_convert(const char *method, int idx, const char *name);

/* Builds params from the words after the method (positional, or
 * "name=value" with named). Returns a new array/object or NULL with err. */
json_t *cr_client_params(const char *method, int argc, char **argv, bool named, char *err,
			 size_t err_len);

/* The text bitcoin-cli prints for a result: a string as is, null as
 * nothing, anything else as JSON indented by 2. malloc'd. */
char *cr_client_format_result(const json_t *result);

/* -netinfo: the dashboard from getnetworkinfo's and getpeerinfo's results
 * (level 0: counts; 1+: also a peer table). malloc'd text. */
char *cr_client_netinfo(const json_t *networkinfo, const json_t *peers, int level, int64_t now);

#endif
