/* The RPC client side shared by connring-cli and connring-top: HTTP POST
 * with Basic auth through libcurl (one handle, so calls reuse the
 * keep-alive connection), JSON through jansson, and credentials found as
 * bitcoin-cli finds them (-rpcpassword, else the cookie file in the chain's
 * data directory). One struct per thread. */
#ifndef CR_CMD_CLIENT_RPC_H
#define CR_CMD_CLIENT_RPC_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cmd/rpc_auth.h"

struct cr_client {
	void *curl;                      /* CURL * */
	char url[128];
	char userpwd[2 * CR_RPC_CRED_MAX + 2];
	unsigned timeout_s;              /* whole request; 0 = none */
	int id;
};

/* Outcome of a call besides its result. */
enum {
	CR_CLIENT_OK = 0,
	CR_CLIENT_RPC_ERROR = 1,   /* the server answered with an error object */
	CR_CLIENT_CONNECT = 2,     /* could not connect / no answer */
	CR_CLIENT_AUTH = 3,        /* HTTP 401 */
	CR_CLIENT_HTTP = 4,        /* another HTTP status without a JSON-RPC reply */
	CR_CLIENT_BAD_REPLY = 5,   /* not JSON */
};

int cr_client_init(struct cr_client *c, const char *host, uint16_t port, const char *user,
		   const char *password, unsigned timeout_s);
void cr_client_clear(struct cr_client *c);

/* POSTs a raw body. Returns CR_CLIENT_OK with the HTTP status in *status
 * and the reply (malloc'd, NUL-terminated) in *reply, or CR_CLIENT_CONNECT
 * with err filled. */
int cr_client_post(struct cr_client *c, const char *body, size_t len, long *status, char **reply,
		   size_t *reply_len, char *err, size_t err_len);

/* Calls method with params (an array or object, or NULL; borrowed).
 * Returns CR_CLIENT_OK and *result (a new reference), or another outcome:
 * for CR_CLIENT_RPC_ERROR *code and msg carry the server's error, for the
 * others msg says what went wrong and *code is the HTTP status (or 0). */
int cr_client_call(struct cr_client *c, const char *method, json_t *params, json_t **result,
		   int *code, char *msg, size_t msg_len);

#endif
