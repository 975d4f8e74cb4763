/* ThreadDNSAddressSeed as a state machine (see dnsseed.h). Pure;
 * coordinator thread. */
#include <stdio.h>
#include <string.h>

#include "engine/policy/dnsseed.h"
#include "proto/services.h"

enum { PH_SEEDNODES, PH_START, PH_LOOP, PH_WAITING, PH_DONE };

void cr_dnsseed_init(struct cr_dnsseed *st, size_t nseeds, int64_t now_us, struct cr_rng *rng)
{
	memset(st, 0, sizeof *st);
	st->nseeds = nseeds < CR_SEEDS_DNS_MAX ? nseeds : CR_SEEDS_DNS_MAX;
	for (size_t i = 0; i < st->nseeds; i++)
		st->order[i] = i;
	for (size_t i = st->nseeds; i > 1; i--) {
		size_t j = (size_t)cr_rng_below(rng, i);
		size_t t = st->order[i - 1];
		st->order[i - 1] = st->order[j];
		st->order[j] = t;
	}
	st->start_us = now_us;
	st->phase = PH_SEEDNODES;
	st->why = "";
}

static enum cr_dnsseed_action done(struct cr_dnsseed *st, const char *why)
{
	st->phase = PH_DONE;
	st->why = why;
	return CR_DNSSEED_DONE;
}

enum cr_dnsseed_action cr_dnsseed_step(struct cr_dnsseed *st, const struct cr_dnsseed_input *in,
				       int64_t now_us, size_t *seed, int64_t *wake_us)
{
	*seed = 0;
	*wake_us = INT64_MAX;
	if (in->pending && st->phase != PH_DONE)
		return CR_DNSSEED_WAIT; /* one lookup at a time, as Core's */
	switch (st->phase) {
	case PH_SEEDNODES:
		if (in->seednode) {
			if (in->full_outbound >= CR_DNSSEED_OUTBOUND_THRESHOLD) {
				st->outbound_at_start = in->full_outbound;
				st->why = "P2P peers available. Finished fetching data from seed nodes";
			} else if (now_us > st->start_us + CR_DNSSEED_SEEDNODE_US) {
				st->why = "couldn't connect to enough peers via seed nodes; handing over to the DNS seeds";
			} else {
				*wake_us = now_us + CR_DNSSEED_POLL_US;
				return CR_DNSSEED_WAIT;
			}
		}
		st->phase = PH_START;
		/* fall through */
	case PH_START:
		st->right_now = (in->force || in->addrman_size == 0) ? st->nseeds : 0;
		if (st->outbound_at_start >= CR_DNSSEED_OUTBOUND_THRESHOLD && !st->right_now)
			return done(st, "Skipping DNS seeds. Enough peers have been found");
		st->wait_time_us = in->addrman_size >= CR_DNSSEED_PEER_THRESHOLD
					   ? CR_DNSSEED_DELAY_MANY_US
					   : CR_DNSSEED_DELAY_FEW_US;
		st->phase = PH_LOOP;
		/* fall through */
	case PH_LOOP:
		if (st->next >= st->nseeds)
			return done(st, "all DNS seeds asked");
		if (st->right_now == 0) {
			st->right_now = CR_DNSSEED_AT_ONCE;
			if (in->addrman_size > 0) {
				st->wait_left_us = st->wait_time_us;
				st->phase = PH_WAITING;
				st->chunk_end_us = now_us + (st->wait_left_us < CR_DNSSEED_DELAY_FEW_US
								     ? st->wait_left_us
								     : CR_DNSSEED_DELAY_FEW_US);
				st->why = "waiting before querying DNS seeds";
				*wake_us = st->chunk_end_us;
				return CR_DNSSEED_WAIT;
			}
		}
		break;
	case PH_WAITING:
		if (now_us < st->chunk_end_us) {
			*wake_us = st->chunk_end_us;
			return CR_DNSSEED_WAIT;
		}
		/* wake up every 11 s to see whether peers made the seeds moot */
		st->wait_left_us -= CR_DNSSEED_DELAY_FEW_US;
		if (in->full_outbound >= CR_DNSSEED_OUTBOUND_THRESHOLD)
			return done(st, "P2P peers available. Finished DNS seeding");
		if (st->wait_left_us > 0) {
			st->chunk_end_us = now_us + (st->wait_left_us < CR_DNSSEED_DELAY_FEW_US
							     ? st->wait_left_us
							     : CR_DNSSEED_DELAY_FEW_US);
			*wake_us = st->chunk_end_us;
			return CR_DNSSEED_WAIT;
		}
		st->phase = PH_LOOP;
		break;
	default:
		return CR_DNSSEED_DONE;
	}
	*seed = st->order[st->next++];
	st->right_now--;
	st->why = in->name_proxy ? "addr-fetch through the proxy" : "querying";
	return in->name_proxy ? CR_DNSSEED_FETCH : CR_DNSSEED_QUERY;
}

size_t cr_dnsseed_add(struct cr_addrman *am, const struct cr_netaddr *ips, size_t n,
		      const char *seed, uint16_t port, int64_t now_us, struct cr_rng *rng)
{
	char host[300];
	snprintf(host, sizeof host, "x%llx.%s", (unsigned long long)CR_SEEDS_SERVICES, seed);
	struct cr_netaddr src;
	cr_seeds_source(&src, host);
	if (n > CR_DNSSEED_MAX_IPS)
		n = CR_DNSSEED_MAX_IPS; /* one seed must not dominate the table */
	struct cr_peeraddr batch[CR_DNSSEED_MAX_IPS];
	int64_t now_s = now_us / 1000000;
	for (size_t i = 0; i < n; i++) {
		memset(&batch[i], 0, sizeof batch[i]);
		batch[i].na = ips[i];
		batch[i].port = port;
		batch[i].services = CR_SEEDS_SERVICES;
		batch[i].time = (uint32_t)(now_s - 3 * 86400 - (int64_t)cr_rng_below(rng, 4 * 86400));
	}
	cr_addrman_add(am, batch, n, &src, 0, now_s, rng);
	return n;
}
