/* Exponentially distributed delays (Poisson processes), as Bitcoin Core
 * times everything an observer could correlate: feelers, extra peers, addr
 * sends, self-advertisement and inventory trickling to inbound peers. A
 * memoryless delay means a spy who sees one send learns nothing about when
 * the next one comes. Pure: the RNG is passed in. One thread per state. */
#ifndef CR_POLICY_POISSON_H
#define CR_POLICY_POISSON_H

#include <stdint.h>

#include "addr/rng.h"

/* Core's AVG_ADDRESS_BROADCAST_INTERVAL, AVG_LOCAL_ADDRESS_BROADCAST_INTERVAL
 * and INBOUND_INVENTORY_BROADCAST_INTERVAL. */
#define CR_AVG_ADDR_SEND_US (30ll * 1000000)
#define CR_AVG_LOCAL_ADDR_SEND_US (24ll * 3600 * 1000000)
#define CR_INBOUND_INV_INTERVAL_US (5ll * 1000000)

/* Core's FastRandomContext::rand_exp_duration: an exponential delay with
 * the given mean (microseconds), from 53 random bits. Never negative; at
 * most about 37 means. */
int64_t cr_rand_exp_us(struct cr_rng *rng, int64_t mean_us);

/* Core's PoissonNextSend: now + an exponential delay. */
static inline int64_t cr_poisson_next_send(int64_t now_us, int64_t mean_us, struct cr_rng *rng)
{
	return now_us + cr_rand_exp_us(rng, mean_us);
}

/* Core's NextInvToInbounds (formerly PoissonNextSendInbound): one shared
 * timer per network class for all inbound peers, so that an attacker with
 * many inbound connections cannot average their timings to learn when we
 * first saw a transaction. Returns the time the next trickle to inbound
 * peers of that class is due; a due timer moves to now + exp(mean). */
#define CR_INBOUND_TIMER_CLASSES 8
struct cr_inbound_timers {
	int64_t next_us[CR_INBOUND_TIMER_CLASSES];
};
int64_t cr_next_inv_to_inbounds(struct cr_inbound_timers *t, unsigned netclass, int64_t now_us,
				int64_t mean_us, struct cr_rng *rng);

#endif
