/* Chain parameters; see chain.h. Any thread. */
#include <string.h>

#include "proto/chain.h"

static const struct cr_chain chains[CR_CHAIN_COUNT] = {
	{CR_CHAIN_MAIN, "main", {0xf9, 0xbe, 0xb4, 0xd9}, 8333},
	{CR_CHAIN_TESTNET3, "test", {0x0b, 0x11, 0x09, 0x07}, 18333},
	{CR_CHAIN_TESTNET4, "testnet4", {0x1c, 0x16, 0x3f, 0x28}, 48333},
	{CR_CHAIN_SIGNET, "signet", {0x0a, 0x03, 0xcf, 0x40}, 38333},
	{CR_CHAIN_REGTEST, "regtest", {0xfa, 0xbf, 0xb5, 0xda}, 18444},
};

const struct cr_chain *cr_chain_get(enum cr_chain_id id)
{
	if ((unsigned)id >= CR_CHAIN_COUNT)
		return NULL;
	return &chains[id];
}

const struct cr_chain *cr_chain_by_name(const char *name)
{
	if (!name)
		return NULL;
	if (strcmp(name, "testnet3") == 0)
		name = "test";
	for (int i = 0; i < CR_CHAIN_COUNT; i++)
		if (strcmp(chains[i].name, name) == 0)
			return &chains[i];
	return NULL;
}

const struct cr_chain *cr_chain_by_magic(const uint8_t p[4])
{
	for (int i = 0; i < CR_CHAIN_COUNT; i++)
		if (memcmp(chains[i].magic, p, 4) == 0)
			return &chains[i];
	return NULL;
}
