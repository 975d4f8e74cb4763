/* The embedder's chain signals (include/connring/connring.h, "chain
 * signals"): tip updates and per-peer announcements of new blocks and
 * transactions, which the coordinator's scheduler and eviction need and the
 * engine cannot know by itself. Any thread; on the peer's own worker a
 * peer's reports reach the coordinator at most once per second (the peer
 * keeps the latest times, and the next report or its close carries them),
 * so an embedder that reports every transaction costs the coordinator
 * nothing per message. */
#include <errno.h>

#include "engine/internal.h"

#define ANNOUNCE_COALESCE_US 1000000u

int cr_tip_updated(struct cr_engine *e, int64_t block_time_s)
{
	if (!e->started || atomic_load(&e->stop_flag))
		return -ESHUTDOWN;
	struct cr_mail *c = cr__mail_new(MAIL_CO_TIP, 0);
	if (!c)
		return -ENOMEM;
	c->ev.last_block_us = block_time_s > 0 ? block_time_s * 1000000 : (int64_t)cr__wall_us();
	cr__mailbox_post(e, &e->co.mb, c);
	return 0;
}

int cr_peer_announced(struct cr_engine *e, uint64_t peer, unsigned what)
{
	if (!e->started || atomic_load(&e->stop_flag))
		return -ESHUTDOWN;
	if (!what || (what & ~(CR_ANNOUNCE_BLOCK | CR_ANNOUNCE_TX)))
		return -EINVAL;
	struct cr_worker *w = cr__worker_of(e, peer);
	if (!w)
		return -ESTALE;
	int64_t now = (int64_t)cr__wall_us();
	if (cr__cur_worker == w) {
		struct cr_peer *p = cr__peer_by_id(w, peer);
		if (!p)
			return -ESTALE;
		if (what & CR_ANNOUNCE_BLOCK)
			p->last_block_us = now;
		if (what & CR_ANNOUNCE_TX)
			p->last_tx_us = now;
		/* a new block always goes at once (extra-peer eviction compares
		 * them); transactions are coalesced */
		if ((what & CR_ANNOUNCE_BLOCK) || cr__now_us() - p->ev_sent_us >= ANNOUNCE_COALESCE_US)
			cr__coord_peer_event(w, p, MAIL_EV_UPDATE, p->state == PS_READY, 0);
		return 0;
	}
	/* another thread: straight to the coordinator, which keeps the later
	 * of what it hears */
	struct cr_mail *c = cr__mail_new(MAIL_EV_UPDATE, 0);
	if (!c)
		return -ENOMEM;
	c->peer = peer;
	c->manual = UINT32_MAX;
	c->ev.min_ping_us = -1;
	if (what & CR_ANNOUNCE_BLOCK)
		c->ev.last_block_us = now;
	if (what & CR_ANNOUNCE_TX)
		c->ev.last_tx_us = now;
	cr__mailbox_post(e, &e->co.mb, c);
	return 0;
}
