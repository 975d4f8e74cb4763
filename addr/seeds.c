/* DNS seed names, the fixed-seed table reader and internal source
 * addresses (see seeds.h). Pure; any thread. */
#include <string.h>

#include "addr/seeds.h"
#include "proto/crypto.h"

/* Core v29 chainparams, in its order ("nodes with support for servicebits
 * filtering should be at the top"). */
static const char *const dns_main[] = {
	"seed.bitcoin.sipa.be",
	"dnsseed.bluematt.me",
	"seed.bitcoin.jonasschnelli.ch",
	"seed.btc.petertodd.net",
	"seed.bitcoin.sprovoost.nl",
	"dnsseed.emzy.de",
	"seed.bitcoin.wiz.biz",
	"seed.mainnet.achownodes.xyz",
};
static const char *const dns_testnet3[] = {
	"testnet-seed.bitcoin.jonasschnelli.ch",
	"seed.tbtc.petertodd.net",
	"seed.testnet.bitcoin.sprovoost.nl",
	"testnet-seed.bluematt.me",
	"seed.testnet.achownodes.xyz",
};
static const char *const dns_testnet4[] = {
	"seed.testnet4.bitcoin.sprovoost.nl",
	"seed.testnet4.wiz.biz",
};
static const char *const dns_signet[] = {
	"seed.signet.bitcoin.sprovoost.nl",
	"seed.signet.achownodes.xyz",
};

size_t cr_seeds_dns(enum cr_chain_id chain, const char *const **names)
{
	switch (chain) {
	case CR_CHAIN_MAIN:
		*names = dns_main;
		return sizeof dns_main / sizeof dns_main[0];
	case CR_CHAIN_TESTNET3:
		*names = dns_testnet3;
		return sizeof dns_testnet3 / sizeof dns_testnet3[0];
	case CR_CHAIN_TESTNET4:
		*names = dns_testnet4;
		return sizeof dns_testnet4 / sizeof dns_testnet4[0];
	case CR_CHAIN_SIGNET:
		*names = dns_signet;
		return sizeof dns_signet / sizeof dns_signet[0];
	default:
		*names = NULL;
		return 0;
	}
}

size_t cr_seeds_fixed_count(enum cr_chain_id chain)
{
	return (unsigned)chain < CR_CHAIN_COUNT ? cr_seeds_fixed_tables[chain].count : 0;
}

/* One entry at *off; advances it. Returns false at the end or on a table
 * the generator would never write (checked anyway: it is cheap). */
static bool next_entry(const struct cr_seeds_table *t, size_t *off, struct cr_peeraddr *out)
{
	if (*off >= t->len)
		return false;
	uint8_t net = t->data[*off];
	uint8_t len = cr_net_addr_len(net);
	if (!len || *off + 1 + len + 2 > t->len)
		return false;
	memset(out, 0, sizeof *out);
	out->na.net = net;
	out->na.len = len;
	memcpy(out->na.addr, t->data + *off + 1, len);
	out->port = (uint16_t)(t->data[*off + 1 + len] << 8 | t->data[*off + 2 + len]);
	*off += 1u + len + 2u;
	return true;
}

void cr_seeds_iter_init(struct cr_seeds_iter *it, enum cr_chain_id chain)
{
	it->chain = chain;
	it->off = 0;
}

bool cr_seeds_next(struct cr_seeds_iter *it, struct cr_peeraddr *out)
{
	memset(out, 0, sizeof *out);
	if ((unsigned)it->chain >= CR_CHAIN_COUNT)
		return false;
	return next_entry(&cr_seeds_fixed_tables[it->chain], &it->off, out);
}

void cr_seeds_source(struct cr_netaddr *out, const char *name)
{
	static const uint8_t prefix[6] = {0xfd, 0x6b, 0x88, 0xc0, 0x87, 0x24};
	uint8_t h[32];
	cr_sha256(h, name, strlen(name));
	memset(out, 0, sizeof *out);
	out->net = CR_NET_IPV6;
	out->len = 16;
	memcpy(out->addr, prefix, 6);
	memcpy(out->addr + 6, h, 10);
}
