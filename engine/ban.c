/* The worker side of the inbound defence: who a peer is (its address as
 * addr/ sees it, keyed netgroup, network, permissions), the ban snapshot a
 * worker checks at accept, closing live peers a new ban covers, and
 * misbehaviour (Core's discourage rule or btcd's ban score, from
 * engine/policy/misbehave), whose punishment the coordinator carries out.
 *
 * Ban snapshots: the coordinator publishes an immutable copy of its ban
 * list (cr_banlist_snapshot) with one reference per worker and mails it to
 * every worker. A worker reads only the snapshot it installed, on its own
 * thread; installing the next one drops its reference to the previous one
 * between completions, so when the last worker has switched nobody can be
 * reading the old copy and it is freed. No lock, no epoch counter: each
 * reference is released by the only thread that used it.
 *
 * Owner worker thread only, except cr__bansnap_unref (any thread). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr/netclass.h"
#include "addr/netgroup.h"
#include "engine/internal.h"

void cr__bansnap_unref(struct cr_bansnap *snap)
{
	if (snap && atomic_fetch_sub_explicit(&snap->ref, 1, memory_order_acq_rel) == 1) {
		cr_banlist_free(snap->bl);
		free(snap);
	}
}

static int64_t now_s(void)
{
	return (int64_t)(cr__wall_us() / 1000000u);
}

bool cr__peer_banned(struct cr_worker *w, const struct cr_peer *p)
{
	return w->bans && (p->flags & PF_IDENTIFIED) && !cr_perm_has(p->perms, CR_PERM_NOBAN) &&
	       cr_banlist_is_banned(w->bans->bl, &p->na, now_s());
}

/* Installs a new snapshot and closes the live peers it bans (Core's setban
 * disconnects them too; noban peers stay). */
void cr__bans_install(struct cr_worker *w, struct cr_bansnap *snap)
{
	struct cr_bansnap *old = w->bans;
	w->bans = snap;
	cr__bansnap_unref(old);
	if (!snap || !cr_banlist_count(snap->bl))
		return;
	for (uint32_t i = 0; i < w->cap; i++) {
		struct cr_peer *p = &w->peers[i];
		if (p->state == PS_FREE || p->state == PS_CLOSING || !cr__peer_banned(w, p))
			continue;
		CR_STAT_ADD(w, ban_disconnects, 1);
		cr__peer_close(w, p, CR_CLOSE_BANNED, "address banned");
	}
}

static void from_sockaddr(struct cr_netaddr *na, const struct sockaddr_storage *ss)
{
	memset(na, 0, sizeof *na);
	if (ss->ss_family == AF_INET)
		cr_addr_set_ipv4(na, ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr));
	else if (ss->ss_family == AF_INET6)
		cr_addr_set_ipv6(na, ((const struct sockaddr_in6 *)ss)->sin6_addr.s6_addr);
}

/* Sets what the defence needs to know of a peer from its socket address.
 * dir: CR_PERM_DIR_IN (listener and -whitelist permissions) or
 * CR_PERM_DIR_OUT (-whitelist "out" entries, manual connections only, as
 * Core). A peer whose address is unknown stays unidentified: nothing can
 * be checked about it. */
void cr__peer_identify(struct cr_worker *w, struct cr_peer *p, unsigned dir)
{
	struct cr_engine *e = w->e;
	const struct cr_config *c = &e->cfg;
	from_sockaddr(&p->na, &p->addr);
	if (!p->na.net)
		return;
	unsigned flags = c->routable127 ? CR_NETGROUP_LOOPBACK_ROUTABLE : 0;
	uint8_t g[CR_NETGROUP_MAX];
	size_t gl = cr_netgroup(g, &p->na, NULL, flags);
	p->keyed_netgroup = cr_netgroup_keyed(e->netgroup_secret, g, gl);
	p->netclass = (uint8_t)cr_addr_netclass(&p->na);
	p->is_local = cr_addr_is_local(&p->na);
	uint32_t ip4;
	if (c->routable127 && cr_addr_carried_ipv4(&p->na, &ip4) && ip4 >> 24 == 127) {
		/* test option: 127/8 counts as routable IPv4, for eviction too */
		p->netclass = CR_NETCLASS_IPV4;
		p->is_local = false;
	}
	uint32_t perms = 0;
	if (dir == CR_PERM_DIR_IN)
		perms = w->ls[p->listener].perms;
	if (dir == CR_PERM_DIR_IN || p->type == CR_CONN_MANUAL)
		perms = cr_whitelist_match(perms, c->whitelist, c->nwhitelist, &p->na, dir,
					   c->whitelist_relay, c->whitelist_forcerelay);
	p->perms = cr_perm_resolve(perms, c->whitelist_relay, c->whitelist_forcerelay);
	p->flags |= PF_IDENTIFIED;
}

/* Asks the coordinator to discourage or ban the peer's address. */
static void punish(struct cr_worker *w, struct cr_peer *p, enum cr_misbehave_action a)
{
	struct cr_engine *e = w->e;
	if (atomic_load(&e->stop_flag))
		return;
	struct cr_mail *m = cr__mail_new(MAIL_PUNISH, 0);
	if (!m)
		return; /* the peer is still disconnected */
	m->admit.na = p->na;
	m->reason = a;
	cr__mailbox_post(e, &e->co.mb, m);
}

void cr__peer_misbehaving(struct cr_worker *w, struct cr_peer *p, uint32_t persistent,
			  bool fatal, const char *reason)
{
	struct cr_engine *e = w->e;
	if (p->state == PS_CLOSING || p->state == PS_FREE)
		return;
	struct cr_misbehave_peer mp = {
		.noban = cr_perm_has(p->perms, CR_PERM_NOBAN),
		.manual = p->type == CR_CONN_MANUAL,
		/* an unidentified peer cannot be discouraged: treat it as local */
		.local = p->is_local || !(p->flags & PF_IDENTIFIED),
	};
	struct cr_misbehaviour m = { .persistent = persistent, .fatal = fatal };
	enum cr_misbehave_mode mode = e->cfg.ban_score_threshold ? CR_MISBEHAVE_SCORE : CR_MISBEHAVE_CORE;
	uint32_t score = 0;
	enum cr_misbehave_action a = cr_misbehave_decide(mode, e->cfg.ban_score_threshold, &mp, &p->score,
							 &m, now_s(), &score);
	uint64_t id = cr__peer_id(w, p);
	char addr[64];
	cr__sockaddr_str(&p->addr, addr, sizeof addr);
	enum cr_log_level lvl = a == CR_MISB_NONE ? CR_LOG_DEBUG : CR_LOG_WARN;
	cr__log(e, lvl, CR_LOG_NET, "misbehaving peer=%llx %s: %s (%s, score %u)",
		(unsigned long long)id, addr, reason, cr_misbehave_action_str(a), score);
	switch (a) {
	case CR_MISB_NONE:
	case CR_MISB_WARN:
		return;
	case CR_MISB_KEEP_EXEMPT:
		CR_STAT_ADD(w, misbehaved_kept, 1);
		return;
	case CR_MISB_DISCONNECT:
		if (!fatal)
			cr__peer_close(w, p, CR_CLOSE_MISBEHAVED, reason);
		return; /* a fatal one is closed by its caller, with its own reason */
	case CR_MISB_DISCOURAGE:
	case CR_MISB_BAN:
		CR_STAT_ADD(w, misbehaved_discouraged, a == CR_MISB_DISCOURAGE);
		CR_STAT_ADD(w, misbehaved_banned, a == CR_MISB_BAN);
		punish(w, p, a);
		if (!fatal) {
			char t[160];
			snprintf(t, sizeof t, "%s (%s)", reason, a == CR_MISB_BAN ? "banned" : "discouraged");
			cr__peer_close(w, p, CR_CLOSE_MISBEHAVED, t);
		}
		return;
	}
}
