/* Fuzzes the peers.dat decoder. The input is the address-manager part of
 * a file; the target adds regtest's magic in front and the correct SHA256d
 * behind, so the fuzzer works past the checksum gate, and also decodes the
 * input as a whole file (checksum unfixed). Invariants: a refusal leaves
 * the result empty; an acceptance returns exactly the declared entries
 * (kept plus skipped), each of a known network with its BIP155 length. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr/peersdat.h"
#include "proto/chain.h"
#include "proto/crypto.h"

static void check(const uint8_t *file, size_t len)
{
	struct cr_peersdat p;
	char why[256];
	const uint8_t *magic = cr_chain_get(CR_CHAIN_REGTEST)->magic;
	int r = cr_peersdat_decode(&p, file, len, magic, why, sizeof(why));
	if (r != 0) {
		if (p.entries || p.n || p.skipped || !why[0])
			abort();
		return;
	}
	if (p.n + p.skipped != (size_t)p.nnew + p.ntried)
		abort();
	for (size_t i = 0; i < p.n; i++) {
		const struct cr_netaddr *a = &p.entries[i].addr.na;
		if (!a->len || a->len != cr_net_addr_len(a->net))
			abort();
	}
	cr_peersdat_clear(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (1u << 20))
		return 0;
	uint8_t *file = malloc(size + 36);
	if (!file)
		return 0;
	memcpy(file, cr_chain_get(CR_CHAIN_REGTEST)->magic, 4);
	memcpy(file + 4, data, size);
	cr_sha256d(file + 4 + size, file, 4 + size);
	check(file, size + 36);
	check(data, size);
	free(file);
	return 0;
}
