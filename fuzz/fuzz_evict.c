/* Fuzzes the eviction choice (engine/policy/evict) and inbound admission
 * (engine/policy/flood). Eviction: each 12 input bytes make one candidate
 * (small value ranges so ties and shared netgroups are common); asserted:
 * a victim is inbound, not noban and marked the only victim; every
 * protection class holds at most Core's count and the ratio step exactly
 * half of what reached it; more than 28 eligible candidates always yield a
 * victim and 20 or fewer never; the reversed array gives the same victim
 * and the same reason for every id. Admission (first byte odd): the bytes
 * drive a fake clock and netgroups through cr_accept_decide; asserted: a
 * banned or rate-limited newcomer is never admitted unless noban, a
 * discouraged one never when nearly full, and no netgroup gets more than
 * burst + rate x elapsed admissions. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/policy/evict.h"
#include "engine/policy/flood.h"

#define MAXC 600

static struct cr_evict_cand c[MAXC], r[MAXC];
static uint8_t why[MAXC], why_r[MAXC];
static uint8_t scratch_mem[1 << 20] __attribute__((aligned(16)));

static void fuzz_evict(const uint8_t *d, size_t size)
{
	size_t n = size / 12;
	if (n > MAXC)
		n = MAXC;
	size_t eligible = 0;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *b = d + 12 * i;
		memset(&c[i], 0, sizeof c[i]);
		c[i].id = ((uint64_t)b[0] << 32) | i; /* unique */
		c[i].connected_us = b[1] % 64;
		c[i].min_ping_us = b[2] == 255 ? INT64_MAX : b[2] % 32;
		c[i].last_block_us = b[3] % 16;
		c[i].last_tx_us = b[4] % 16;
		c[i].keyed_netgroup = b[5] % 24;
		c[i].network = b[6] % 8;
		c[i].is_local = b[7] & 1;
		c[i].inbound = (b[7] & 6) != 0;
		c[i].noban = (b[7] & 0x38) == 0x38;
		c[i].relevant_services = b[8] & 1;
		c[i].relay_txs = b[8] & 2;
		c[i].bloom_filter = b[8] & 4;
		c[i].prefer_evict = b[8] & 8;
		if (b[9] & 1) /* wide values too */
			c[i].connected_us = (int64_t)(((uint64_t)b[10] << 8 | b[11]) * 1000003u);
		eligible += c[i].inbound && !c[i].noban;
	}
	if (cr_evict_scratch_size(n) > sizeof scratch_mem)
		abort();
	size_t v;
	uint32_t counts[CR_EVICT_WHY_MAX];
	int found = cr_evict_select(&v, why, counts, c, n, scratch_mem);
	if (found) {
		if (v >= n || !c[v].inbound || c[v].noban || why[v] != CR_EVICT_VICTIM)
			abort();
	} else if (v != SIZE_MAX) {
		abort();
	}
	if (eligible > CR_EVICT_ALWAYS_ABOVE && !found)
		abort();
	if (eligible <= CR_EVICT_NEVER_UPTO && found)
		abort();
	uint32_t sum = 0;
	for (int k = 0; k < CR_EVICT_WHY_MAX; k++)
		sum += counts[k];
	if (sum != n || counts[CR_EVICT_VICTIM] != (uint32_t)found)
		abort();
	if (counts[CR_EVICT_NETGROUP] > 4 || counts[CR_EVICT_PING] > 8 || counts[CR_EVICT_TX] > 4 ||
	    counts[CR_EVICT_BLOCK_RELAY] > 8 || counts[CR_EVICT_BLOCK] > 4)
		abort();
	size_t reached = counts[CR_EVICT_NETWORK] + counts[CR_EVICT_UPTIME] +
			 counts[CR_EVICT_NOT_PREFERRED] + counts[CR_EVICT_REMAINED] + (size_t)found;
	if (counts[CR_EVICT_NETWORK] + counts[CR_EVICT_UPTIME] != reached / 2)
		abort();
	for (size_t i = 0; i < n; i++)
		r[i] = c[n - 1 - i];
	size_t v2;
	int found2 = cr_evict_select(&v2, why_r, NULL, r, n, scratch_mem);
	if (found2 != found || (found && r[v2].id != c[v].id))
		abort();
	for (size_t i = 0; i < n; i++)
		if (why_r[n - 1 - i] != why[i])
			abort();
}

static void fuzz_accept(const uint8_t *d, size_t size)
{
	struct cr_flood_config cfg;
	cr_flood_config_default(&cfg);
	cfg.table_size = 16; /* 8 netgroups always find a slot in 8 probes */
	struct cr_flood *f = cr_flood_new(&cfg);
	if (!f)
		abort();
	int64_t now = 1000000000, start = now;
	uint32_t admitted[8] = { 0 };
	for (size_t i = 0; i + 3 <= size; i += 3) {
		now += (int64_t)d[i] * 10000; /* up to 2.55 s a step */
		struct cr_accept_in in = {
			.noban = (d[i + 1] & 0x81) == 0x81,
			.banned = d[i + 1] & 2,
			.discouraged = d[i + 1] & 4,
			.inbound = d[i + 2] % 12,
			.inbound_max = 10,
			.keyed_netgroup = (d[i + 1] >> 3) & 7,
			.group_inbound = d[i + 2] >> 4,
		};
		enum cr_accept_verdict v = cr_accept_decide(f, &in, now, NULL);
		bool in_ok = v == CR_ACCEPT_OK || v == CR_ACCEPT_EVICT;
		if (in.noban && !in_ok)
			abort();
		if (!in.noban && in.banned && v != CR_ACCEPT_REFUSE_BANNED)
			abort();
		if (!in.noban && in.discouraged && in.inbound + 1 >= in.inbound_max && in_ok)
			abort();
		if (in_ok && (v == CR_ACCEPT_EVICT) != (in.inbound >= in.inbound_max))
			abort();
		if (in_ok && !in.noban)
			admitted[in.keyed_netgroup]++;
	}
	/* a netgroup never gets more than its burst plus the refill */
	double elapsed = (double)(now - start) / 1e6;
	for (int g = 0; g < 8; g++)
		if (admitted[g] > cfg.burst + cfg.rate * elapsed + 1e-6)
			abort();
	if (cr_flood_entries(f) > 8)
		abort();
	cr_flood_free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		fuzz_accept(data + 1, size - 1);
	else
		fuzz_evict(data + 1, size - 1);
	return 0;
}
