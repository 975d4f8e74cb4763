/* Misbehaviour rules and btcd's decaying ban score; see misbehave.h. Pure;
 * time passed in. */
#include <math.h>

#include "engine/policy/misbehave.h"

/* btcd's decayFactor: e^(-t * ln2 / halflife). */
static double decay(int64_t dt)
{
	return exp2(-(double)dt / CR_BANSCORE_HALFLIFE_S);
}

static uint32_t sat_add(uint32_t a, uint64_t b)
{
	uint64_t s = (uint64_t)a + b;
	return s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}

uint32_t cr_banscore_get(const struct cr_banscore *s, int64_t now_s)
{
	int64_t dt = now_s - s->last_s;
	if (s->transient < 1 || dt < 0 || dt > CR_BANSCORE_LIFETIME_S)
		return s->persistent;
	return sat_add(s->persistent, (uint64_t)(s->transient * decay(dt)));
}

uint32_t cr_banscore_add(struct cr_banscore *s, uint32_t persistent, uint32_t transient,
			 int64_t now_s)
{
	s->persistent = sat_add(s->persistent, persistent);
	if (transient) {
		int64_t dt = now_s - s->last_s;
		if (dt > CR_BANSCORE_LIFETIME_S)
			s->transient = 0;
		else if (s->transient > 1 && dt > 0)
			s->transient *= decay(dt);
		s->transient += transient;
		/* a transient part past UINT32_MAX means the same as at it */
		if (s->transient > (double)UINT32_MAX)
			s->transient = (double)UINT32_MAX;
		s->last_s = now_s;
	}
	return sat_add(s->persistent, (uint64_t)s->transient);
}

/* Core's exemptions, applied to a misbehaviour that deserves punishment. */
static enum cr_misbehave_action punish(const struct cr_misbehave_peer *p, bool fatal,
				       enum cr_misbehave_action what)
{
	if (p->noban || p->manual)
		return fatal ? CR_MISB_DISCONNECT : CR_MISB_KEEP_EXEMPT;
	if (p->local)
		return CR_MISB_DISCONNECT;
	return what;
}

enum cr_misbehave_action cr_misbehave_decide(enum cr_misbehave_mode mode, uint32_t threshold,
					     const struct cr_misbehave_peer *peer,
					     struct cr_banscore *score,
					     const struct cr_misbehaviour *m, int64_t now_s,
					     uint32_t *score_out)
{
	uint32_t sc = 0;
	enum cr_misbehave_action a;
	if (mode != CR_MISBEHAVE_SCORE || !score) {
		a = punish(peer, m->fatal, CR_MISB_DISCOURAGE);
	} else if (peer->noban) {
		/* btcd computes no score for whitelisted peers */
		a = m->fatal ? CR_MISB_DISCONNECT : CR_MISB_KEEP_EXEMPT;
	} else {
		if (m->persistent || m->transient)
			sc = cr_banscore_add(score, m->persistent, m->transient, now_s);
		else
			sc = cr_banscore_get(score, now_s);
		if (m->fatal)
			a = punish(peer, true, CR_MISB_DISCOURAGE);
		else if (sc > threshold)
			a = punish(peer, false, CR_MISB_BAN);
		else if (sc > threshold / 2)
			a = CR_MISB_WARN;
		else
			a = CR_MISB_NONE;
	}
	if (score_out)
		*score_out = sc;
	return a;
}

const char *cr_misbehave_action_str(enum cr_misbehave_action a)
{
	switch (a) {
	case CR_MISB_NONE: return "none";
	case CR_MISB_WARN: return "warn";
	case CR_MISB_KEEP_EXEMPT: return "kept (noban or manual)";
	case CR_MISB_DISCONNECT: return "disconnect";
	case CR_MISB_DISCOURAGE: return "discourage";
	case CR_MISB_BAN: return "ban";
	}
	return "?";
}
