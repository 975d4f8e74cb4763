/* The bitcoind-style data directory layout; see datadir.h. Any thread. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd/datadir.h"

int cr_datadir_default(char *out, size_t cap)
{
	const char *home = getenv("HOME");
	if (!home || !home[0])
		return -ENOENT;
	int n = snprintf(out, cap, "%s/.connring", home);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

const char *cr_datadir_chain_subdir(enum cr_chain_id chain)
{
	switch (chain) {
	case CR_CHAIN_TESTNET3: return "testnet3";
	case CR_CHAIN_TESTNET4: return "testnet4";
	case CR_CHAIN_SIGNET: return "signet";
	case CR_CHAIN_REGTEST: return "regtest";
	default: return "";
	}
}

int cr_datadir_net(char *out, size_t cap, const char *base, enum cr_chain_id chain)
{
	const char *sub = cr_datadir_chain_subdir(chain);
	int n = sub[0] ? snprintf(out, cap, "%s/%s", base, sub) : snprintf(out, cap, "%s", base);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

int cr_datadir_ensure(const char *dir)
{
	struct stat st;
	if (stat(dir, &st) == 0)
		return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
	if (errno != ENOENT)
		return -errno;
	/* 0700 as bitcoind: the directory holds the RPC cookie. */
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int cr_datadir_path(char *out, size_t cap, const char *dir, const char *path)
{
	int n = (!path[0] || path[0] == '/' || !dir || !dir[0])
			? snprintf(out, cap, "%s", path)
			: snprintf(out, cap, "%s/%s", dir, path);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

uint16_t cr_rpc_default_port(enum cr_chain_id chain)
{
	switch (chain) {
	case CR_CHAIN_TESTNET3: return 18332;
	case CR_CHAIN_TESTNET4: return 48332;
	case CR_CHAIN_SIGNET: return 38332;
	case CR_CHAIN_REGTEST: return 18443;
	default: return 8332;
	}
}
