/* RPC credentials: cookie file, -rpcuser/-rpcpassword and -rpcauth; see
 * rpc_auth.h. Any thread once filled. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/rpc_auth.h"
#include "proto/crypto.h"

/* Compares a and b in time that depends only on their lengths. */
static bool equal_ct(const void *a, size_t alen, const void *b, size_t blen)
{
	const unsigned char *x = a, *y = b;
	unsigned char diff = alen != blen;
	size_t n = alen < blen ? alen : blen;
	for (size_t i = 0; i < n; i++)
		diff |= x[i] ^ y[i];
	return diff == 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int cr_rpc_auth_add(struct cr_rpc_auth *a, const char *spec, char *err, size_t err_len)
{
	const char *colon = strchr(spec, ':');
	const char *dollar = colon ? strchr(colon + 1, '$') : NULL;
	if (a->nauth >= CR_RPC_AUTH_MAX) {
		snprintf(err, err_len, "-rpcauth: more than %d entries", CR_RPC_AUTH_MAX);
		return -EINVAL;
	}
	if (!colon || !dollar || colon == spec || dollar == colon + 1) {
		snprintf(err, err_len, "-rpcauth: expected USER:SALT$HASH");
		return -EINVAL;
	}
	struct cr_rpc_authent *e = &a->auth[a->nauth];
	size_t ulen = (size_t)(colon - spec), slen = (size_t)(dollar - colon - 1);
	const char *hex = dollar + 1;
	if (ulen >= sizeof(e->user) || slen >= sizeof(e->salt) || strlen(hex) != 64) {
		snprintf(err, err_len, "-rpcauth: user, salt or hash of the wrong length");
		return -EINVAL;
	}
	for (int i = 0; i < 32; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			snprintf(err, err_len, "-rpcauth: hash is not hex");
			return -EINVAL;
		}
		e->hash[i] = (unsigned char)(hi << 4 | lo);
	}
	memcpy(e->user, spec, ulen);
	e->user[ulen] = '\0';
	memcpy(e->salt, colon + 1, slen);
	e->salt[slen] = '\0';
	a->nauth++;
	return 0;
}

bool cr_rpc_auth_check(const struct cr_rpc_auth *a, const char *user, const char *password)
{
	bool ok = false;
	size_t ul = strlen(user), pl = strlen(password);
	/* Every entry is checked, so the time does not tell which matched. */
	if (a->user[0] && a->password[0]) {
		bool u = equal_ct(user, ul, a->user, strlen(a->user));
		bool p = equal_ct(password, pl, a->password, strlen(a->password));
		ok |= u & p;
	}
	for (unsigned i = 0; i < a->nauth; i++) {
		uint8_t mac[32];
		if (cr_hmac_sha256(mac, (const uint8_t *)a->auth[i].salt, strlen(a->auth[i].salt),
				   (const uint8_t *)password, pl) != 0)
			continue;
		bool u = equal_ct(user, ul, a->auth[i].user, strlen(a->auth[i].user));
		bool h = equal_ct(mac, 32, a->auth[i].hash, 32);
		ok |= u & h;
	}
	return ok;
}

int cr_rpc_cookie_write(struct cr_rpc_auth *a, const char *path)
{
	uint8_t rnd[32];
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return -EIO;
	char hex[65];
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
	char tmp[4096];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	char line[CR_RPC_CRED_MAX];
	int n = snprintf(line, sizeof(line), "%s:%s", CR_RPC_COOKIE_USER, hex);
	/* 0600 whatever the umask: the cookie is a password. */
	if (fchmod(fd, 0600) != 0 || write(fd, line, (size_t)n) != n || fsync(fd) != 0) {
		int e = errno ? errno : EIO;
		close(fd);
		unlink(tmp);
		return -e;
	}
	close(fd);
	if (rename(tmp, path) != 0) {
		int e = errno;
		unlink(tmp);
		return -e;
	}
	snprintf(a->user, sizeof(a->user), "%s", CR_RPC_COOKIE_USER);
	snprintf(a->password, sizeof(a->password), "%s", hex);
	return 0;
}

int cr_rpc_cookie_read(const char *path, char *user, size_t user_len, char *password,
		       size_t password_len)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	char line[2 * CR_RPC_CRED_MAX + 2];
	size_t n = fread(line, 1, sizeof(line) - 1, f);
	fclose(f);
	line[n] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	char *colon = strchr(line, ':');
	if (!colon || (size_t)(colon - line) >= user_len || strlen(colon + 1) >= password_len)
		return -EINVAL;
	*colon = '\0';
	snprintf(user, user_len, "%s", line);
	snprintf(password, password_len, "%s", colon + 1);
	return 0;
}

void cr_rpc_cookie_remove(const struct cr_rpc_auth *a, const char *path)
{
	char user[CR_RPC_CRED_MAX], pass[CR_RPC_CRED_MAX];
	if (cr_rpc_cookie_read(path, user, sizeof(user), pass, sizeof(pass)) == 0 &&
	    strcmp(user, a->user) == 0 && strcmp(pass, a->password) == 0)
		unlink(path);
}
