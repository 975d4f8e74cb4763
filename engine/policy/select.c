/* The scheduler's address choice (the inner loop of Core's
 * ThreadOpenConnections) and Core's bad-port list. Pure over the view and
 * the caller's address manager; coordinator thread. */
#include <errno.h>
#include <string.h>

#include "addr/banlist.h"
#include "addr/netclass.h"
#include "engine/policy/sched.h"
#include "proto/services.h"

bool cr_sched_bad_port(uint16_t port)
{
	/* Core v29's IsBadPort (doc/p2p-bad-ports.md): services that usually require authentication,
	 * where a connection attempt may look like an attack */
	static const uint16_t bad[] = {
		1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79,
		87, 95, 101, 102, 103, 104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137,
		139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532,
		540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723,
		2049, 3306, 3389, 3659, 4045, 5060, 5061, 5432, 5900, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6697,
		10080, 27017,
	};
	size_t lo = 0, hi = sizeof bad / sizeof bad[0];
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (bad[mid] == port)
			return true;
		if (bad[mid] < port)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

bool cr_sched_is_local(const struct cr_sched_view *v, const struct cr_netaddr *a)
{
	for (size_t i = 0; i < v->nlocal; i++)
		if (cr_addr_equal(&v->local[i], a))
			return true;
	return false;
}

static bool added_contains(const struct cr_sched_view *v, const struct cr_netaddr *a)
{
	for (size_t i = 0; i < v->nadded; i++)
		if (cr_addr_equal(&v->added[i].addr, a))
			return true;
	return false;
}

bool cr_sched_already_connected(const struct cr_sched_view *v, const struct cr_netaddr *a)
{
	if (v->connected && cr_ipset_contains(v->connected, a))
		return true;
	/* connecting peers may not be in the set yet */
	for (size_t i = 0; i < v->npeers; i++)
		if (cr_addr_equal(&v->peers[i].addr, a))
			return true;
	return false;
}

/* Core's loop keeps one set of the netgroups of its full-relay,
 * block-relay-only and manual IPv4/IPv6 peers (Tor, I2P and CJDNS groups
 * say nothing about the route, so they are left out and counted). */
size_t cr_sched_groups(uint8_t groups[][CR_NETGROUP_MAX], uint8_t *lens, size_t cap,
		       size_t *privacy, const struct cr_sched_conf *cf,
		       const struct cr_sched_view *v)
{
	size_t n = 0;
	*privacy = 0;
	for (size_t i = 0; i < v->npeers; i++) {
		const struct cr_sched_peer *p = &v->peers[i];
		if (p->type != CR_CT_FULL_RELAY && p->type != CR_CT_BLOCK_RELAY &&
		    p->type != CR_CT_MANUAL)
			continue;
		if (p->addr.net == CR_NET_TORV3 || p->addr.net == CR_NET_I2P ||
		    p->addr.net == CR_NET_CJDNS) {
			++*privacy;
			continue;
		}
		uint8_t g[CR_NETGROUP_MAX];
		size_t len = cr_netgroup(g, &p->addr, cf->asmap, cf->netgroup_flags);
		bool have = false;
		for (size_t j = 0; j < n && !have; j++)
			have = lens[j] == len && memcmp(groups[j], g, len) == 0;
		if (!have && n < cap) {
			memcpy(groups[n], g, CR_NETGROUP_MAX);
			lens[n++] = (uint8_t)len;
		}
	}
	return n;
}

bool cr_sched_group_taken(uint8_t groups[][CR_NETGROUP_MAX], const uint8_t *lens, size_t n,
			  const struct cr_netaddr *a, const struct cr_sched_conf *cf)
{
	uint8_t g[CR_NETGROUP_MAX];
	size_t len = cr_netgroup(g, a, cf->asmap, cf->netgroup_flags);
	for (size_t j = 0; j < n; j++)
		if (lens[j] == len && memcmp(groups[j], g, len) == 0)
			return true;
	return false;
}

/* The feeler's draw: a tried entry a test-before-evict collision would
 * evict, else a new-table entry. A collision entry we are connected to is
 * plainly good: marking it so settles the collision without a connection
 * (a feeler to it could not be opened anyway). */
static int draw_feeler(struct cr_peeraddr *pa, int64_t *last_try, const struct cr_sched_conf *cf,
		       const struct cr_sched_view *v, struct cr_addrman *am, int64_t now_s,
		       struct cr_rng *rng)
{
	if (cr_addrman_select_tried_collision(am, pa, last_try, rng) == 0) {
		if (!cr_sched_already_connected(v, &pa->na))
			return 0;
		cr_addrman_good(am, &pa->na, pa->port, true, now_s);
	}
	return cr_addrman_select(am, pa, last_try, true, cf->reachable, now_s, rng);
}

int cr_sched_select_address(struct cr_peeraddr *out, unsigned *tries, enum cr_ctype t,
			    int preferred_net, const struct cr_sched_conf *cf,
			    const struct cr_sched_view *v, struct cr_addrman *am,
			    int64_t now_us, struct cr_rng *rng)
{
	uint8_t groups[64][CR_NETGROUP_MAX], lens[64];
	size_t privacy;
	size_t ngroups = cr_sched_groups(groups, lens, 64, &privacy, cf, v);
	bool feeler = t == CR_CT_FEELER;
	int64_t now_s = now_us / 1000000;
	unsigned nets = preferred_net >= 0 ? CR_ADDRMAN_NET(preferred_net) : cf->reachable;

	memset(out, 0, sizeof *out);
	*tries = 0;
	for (unsigned n = 1; n <= CR_SCHED_SELECT_TRIES; n++) {
		struct cr_peeraddr pa;
		int64_t last_try = 0;
		*tries = n;
		int ret = feeler ? draw_feeler(&pa, &last_try, cf, v, am, now_s, rng)
				 : cr_addrman_select(am, &pa, &last_try, false, nets, now_s, rng);
		if (ret < 0)
			break; /* empty: Core's "invalid address" ends the loop */
		if (!feeler && cr_sched_group_taken(groups, lens, ngroups, &pa.na, cf))
			continue;
		if (!cr_addr_is_valid(&pa.na) || cr_sched_is_local(v, &pa.na))
			break;
		if (!(cf->reachable & CR_ADDRMAN_NET(pa.na.net)))
			continue;
		if (now_s - last_try < CR_SCHED_RECENT_TRY_S && n < CR_SCHED_RECENT_TRIES)
			continue;
		if (feeler ? !cr_services_may_have_addr_db(pa.services)
			   : !cr_services_desirable(pa.services, cf->limited_ok))
			continue;
		bool ip = pa.na.net == CR_NET_IPV4 || pa.na.net == CR_NET_IPV6;
		if (ip && cr_sched_bad_port(pa.port))
			continue;
		if (n < CR_SCHED_PORT_TRIES && pa.na.net != CR_NET_I2P &&
		    pa.port != cf->default_port)
			continue;
		if (added_contains(v, &pa.na))
			continue;
		/* Core drops the pass in OpenNetworkConnection for these; we
		 * draw again instead */
		if (cr_sched_already_connected(v, &pa.na))
			continue;
		if (v->bans && (cr_banlist_is_banned(v->bans, &pa.na, now_s) ||
				cr_banlist_is_discouraged(v->bans, &pa.na)))
			continue;
		*out = pa;
		return 0;
	}
	return -ENOENT;
}
