/* Exponential delays (see poisson.h). Pure; caller's thread. */
#include <math.h>

#include "engine/policy/poisson.h"

int64_t cr_rand_exp_us(struct cr_rng *rng, int64_t mean_us)
{
	if (mean_us <= 0)
		return 0;
	/* u uniform in [0, 1) with 53 bits; -log(1 - u) is Exp(1), as Core's
	 * MakeExponentiallyDistributed */
	double u = (double)(cr_rng_u64(rng) >> 11) * 0x1.0p-53;
	return (int64_t)(-log1p(-u) * (double)mean_us);
}

int64_t cr_next_inv_to_inbounds(struct cr_inbound_timers *t, unsigned netclass, int64_t now_us,
				int64_t mean_us, struct cr_rng *rng)
{
	int64_t *timer = &t->next_us[netclass % CR_INBOUND_TIMER_CLASSES];
	if (*timer < now_us)
		*timer = cr_poisson_next_send(now_us, mean_us, rng);
	return *timer;
}
