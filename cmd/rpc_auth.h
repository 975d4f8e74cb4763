/* RPC authentication as bitcoind does it: HTTP Basic credentials checked
 * against the cookie (a file `.cookie` holding "__cookie__:" and 32 random
 * bytes in hex, mode 0600, written at start and removed at stop) or
 * -rpcuser/-rpcpassword, plus any number of -rpcauth entries
 * ("USER:SALT$HASH", HASH = hex HMAC-SHA256 keyed with the salt text over
 * the password, as Core's share/rpcauth/rpcauth.py makes them).
 *
 * Every comparison of a secret takes the same time whatever the input. The
 * struct is filled before the server starts and read-only afterwards, so
 * any thread may call cr_rpc_auth_check. */
#ifndef CR_CMD_RPC_AUTH_H
#define CR_CMD_RPC_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#define CR_RPC_AUTH_MAX 16        /* -rpcauth entries */
#define CR_RPC_CRED_MAX 256       /* user or password length */
#define CR_RPC_COOKIE_USER "__cookie__"

struct cr_rpc_authent {
	char user[CR_RPC_CRED_MAX];
	char salt[CR_RPC_CRED_MAX];
	unsigned char hash[32];
};

struct cr_rpc_auth {
	char user[CR_RPC_CRED_MAX];     /* cookie user or -rpcuser; "" = none */
	char password[CR_RPC_CRED_MAX];
	unsigned nauth;
	struct cr_rpc_authent auth[CR_RPC_AUTH_MAX];
};

/* Adds one -rpcauth value. Returns 0, or -EINVAL with err filled (bad
 * format, hash not 64 hex digits, too many entries). */
int cr_rpc_auth_add(struct cr_rpc_auth *a, const char *spec, char *err, size_t err_len);

/* True when user/password are valid credentials. */
bool cr_rpc_auth_check(const struct cr_rpc_auth *a, const char *user, const char *password);

/* Writes a fresh cookie to path (through path.tmp and rename, mode 0600)
 * and sets a's user/password to it. Returns 0 or -errno. */
int cr_rpc_cookie_write(struct cr_rpc_auth *a, const char *path);
/* Removes the cookie file if it still holds a's cookie (another daemon may
 * have replaced it). */
void cr_rpc_cookie_remove(const struct cr_rpc_auth *a, const char *path);

/* Reads "user:password" from a cookie file (client side). Returns 0 or
 * -errno / -EINVAL for a file that is not a cookie. */
int cr_rpc_cookie_read(const char *path, char *user, size_t user_len, char *password,
		       size_t password_len);

#endif
