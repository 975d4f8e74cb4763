/* The ban and misbehaviour calls of <connring/connring.h>: setban,
 * listbanned, clearbanned, discourage (mail to the coordinator, which owns
 * the ban list, answered through a waiter once any change is on disk) and
 * cr_misbehaving (to the peer's worker, which holds its score). Not from
 * an engine thread, except cr_misbehaving (see the header). */
#include <errno.h>
#include <linux/futex.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>

#include "engine/guard.h"

static bool running(const struct cr_engine *e)
{
	return e->started && !e->stopped && !atomic_load(&e->stop_flag);
}

/* Posts c (its waiter set to wt) to the coordinator and waits for the
 * answer. A coordinator that has not answered within a second gets its
 * doorbell rung again, so a lost wake-up cannot hang the caller. */
int cr__coord_call(struct cr_engine *e, struct cr_mail *c, struct cr_waiter *wt)
{
	atomic_init(&wt->done, 0);
	c->waiter = wt;
	cr__mailbox_post(e, &e->co.mb, c);
	/* As cr_peer_info: once the engine stops, the coordinator may be gone
	 * before it read our mail, so we drain its closed mailbox ourselves
	 * (which answers us with -ESHUTDOWN). */
	while (!atomic_load_explicit(&wt->done, memory_order_acquire)) {
		bool stopping = atomic_load(&e->stop_flag);
		struct timespec ts = { stopping ? 0 : 1, stopping ? 50000000 : 0 };
		long r = syscall(SYS_futex, &wt->done, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
		if (atomic_load_explicit(&wt->done, memory_order_acquire))
			break;
		if (atomic_load(&e->co.mb.closed)) {
			cr__coord_drain_dead(e);
			continue;
		}
		if (r < 0 && errno == ETIMEDOUT && !stopping)
			cr__mailbox_kick(e, &e->co.mb);
	}
	return wt->ret;
}

/* A ban operation for the coordinator (guard.c), answered through a waiter. */
static int ban_call(struct cr_engine *e, int op, const char *text, int64_t t, bool absolute,
		    struct cr_ban_info *out, size_t cap)
{
	if (!running(e))
		return -ESHUTDOWN;
	if ((cr__cur_worker && cr__cur_worker->e == e) || cr__cur_coord == &e->co)
		return -EDEADLK;
	if (text && strlen(text) >= CR_HOSTPORT_MAX)
		return CR_E_BAD_ADDRESS;
	struct cr_waiter wt = { .out = out, .cap = cap };
	struct cr_mail *c = cr__mail_new(MAIL_BAN_OP, 0);
	if (!c)
		return -ENOMEM;
	c->reason = op;
	c->t = t;
	c->flags = absolute;
	if (text)
		snprintf(c->host, sizeof c->host, "%s", text);
	return cr__coord_call(e, c, &wt);
}

int cr_ban(struct cr_engine *e, const char *subnet, int64_t bantime_s, bool absolute)
{
	if (!subnet || bantime_s < 0)
		return !subnet ? CR_E_BAD_ADDRESS : -EINVAL;
	return ban_call(e, CR_BANOP_ADD, subnet, bantime_s, absolute, NULL, 0);
}

int cr_unban(struct cr_engine *e, const char *subnet)
{
	if (!subnet)
		return CR_E_BAD_ADDRESS;
	return ban_call(e, CR_BANOP_REMOVE, subnet, 0, false, NULL, 0);
}

int cr_clear_banned(struct cr_engine *e)
{
	return ban_call(e, CR_BANOP_CLEAR, NULL, 0, false, NULL, 0);
}

int cr_list_banned(struct cr_engine *e, struct cr_ban_info *out, size_t cap)
{
	return ban_call(e, CR_BANOP_LIST, NULL, 0, false, out, out ? cap : 0);
}

int cr_discourage(struct cr_engine *e, const char *addr)
{
	if (!addr)
		return CR_E_BAD_ADDRESS;
	return ban_call(e, CR_BANOP_DISCOURAGE, addr, 0, false, NULL, 0);
}

int cr_misbehaving(struct cr_engine *e, uint64_t peer, unsigned score, const char *reason)
{
	if (!running(e))
		return -ESHUTDOWN;
	unsigned wi = cr__id_worker(peer);
	if (wi >= e->nworkers)
		return -ESTALE;
	struct cr_worker *w = &e->w[wi];
	uint32_t slot = cr__id_slot(peer);
	if (slot >= w->cap)
		return -ESTALE;
	const char *why = reason && *reason ? reason : "misbehaving (embedder)";
	if (cr__cur_worker == w) {
		struct cr_peer *p = cr__peer_by_id(w, peer);
		if (!p)
			return -ESTALE;
		cr__peer_misbehaving(w, p, score, false, why);
		return 0;
	}
	uint64_t pub = atomic_load_explicit(&w->pub[slot], memory_order_acquire);
	if ((uint32_t)pub == 0 || (uint32_t)pub != cr__id_gen(peer))
		return -ESTALE;
	struct cr_mail *c = cr__mail_new(MAIL_MISBEHAVE, 0);
	if (!c)
		return -ENOMEM;
	c->peer = peer;
	c->t = score;
	snprintf(c->host, sizeof c->host, "%.127s", why);
	cr__mailbox_post(e, &w->mb, c);
	return 0;
}
