/* One address manager operation decoded from bytes, with its outcome
 * checked: shared by the random-operations test (bytes from a seeded RNG)
 * and fuzz_addrman_ops (bytes from the fuzzer). The address universe is
 * small and packed into few netgroups so that collisions, evictions and
 * terrible entries happen often. Header-only, tests/fuzz only. */
#ifndef CR_TESTS_ADDRMAN_OPS_H
#define CR_TESTS_ADDRMAN_OPS_H

#include <errno.h>

#include "addr/addrman.h"
#include "addrman_util.h"

struct am_ops {
	const uint8_t *p;
	size_t n;
	int64_t now;
	struct cr_rng rng;
	uint64_t counts[16];
};

static inline unsigned am_take(struct am_ops *s)
{
	if (s->n == 0)
		return 0;
	s->n--;
	return *s->p++;
}

/* 512 services: 3 IPv4 /16s, 2 IPv6 /32s, Tor, a few unroutable, 2 ports. */
static inline struct cr_netaddr am_ops_addr(struct am_ops *s, uint16_t *port)
{
	unsigned v = am_take(s) | (am_take(s) & 1) << 8;
	*port = 8333;
	if (v < 384) {
		*port = (uint16_t)(8333 + (v >= 192));
		return am_ip4(200 + v % 3, 1, 0, (v / 3) & 63);
	}
	if (v < 448)
		return am_ip6(v % 2, v);
	if (v < 496)
		return am_tor(v % 48);
	return (v & 1) ? am_ip4(10, 0, 0, v) : am_ip4(127, 0, 0, v);
}

static inline struct cr_netaddr am_ops_source(struct am_ops *s, struct cr_netaddr self)
{
	unsigned v = am_take(s) % 6;
	switch (v) {
	case 0: return am_ip4(201, 9, 9, 9);
	case 1: return am_ip4(202, 9, 9, 9);
	case 2: return am_ip6(5, 9);
	case 3: return am_tor(200);
	case 4: return am_ip4(203, 7, 7, 7);
	default: return self;
	}
}

static inline unsigned am_ops_nets(struct am_ops *s)
{
	static const unsigned masks[8] = {
		0, CR_ADDRMAN_NET(CR_NET_IPV4), CR_ADDRMAN_NET(CR_NET_IPV6),
		CR_ADDRMAN_NET(CR_NET_TORV3), CR_ADDRMAN_NET(CR_NET_I2P),
		CR_ADDRMAN_NET(CR_NET_IPV4) | CR_ADDRMAN_NET(CR_NET_TORV3), 0, 0,
	};
	return masks[am_take(s) & 7];
}

static inline const char *am_ops_check_out(struct cr_addrman *am, const struct cr_peeraddr *o,
					   unsigned nets, int64_t now)
{
	struct cr_addrman_info info;
	if (cr_addrman_find(am, &o->na, o->port, &info) != 0)
		return "returned an address it does not hold";
	if (cr_addrman_is_terrible(am, &o->na, o->port, now))
		return "returned a terrible address";
	if (nets && !(nets & CR_ADDRMAN_NET(o->na.net)))
		return "returned an address outside the network filter";
	return NULL;
}

static inline const char *am_ops_getaddr(struct cr_addrman *am, struct am_ops *s)
{
	struct cr_peeraddr out[64];
	size_t max = am_take(s) % 65;
	unsigned pct = am_take(s) % 101, nets = am_ops_nets(s);
	size_t total = cr_addrman_size(am, 0, CR_ADDRMAN_ANY);
	if (max == 0 && total > 64)
		max = 64;
	size_t got = cr_addrman_get_addr(am, out, max, pct, nets, s->now, &s->rng);
	if ((max && got > max) || (pct && got > pct * total / 100) || got > total)
		return "get_addr above its limits";
	for (size_t i = 0; i < got; i++) {
		const char *err = am_ops_check_out(am, &out[i], nets, s->now);
		if (err)
			return err;
		for (size_t j = 0; j < i; j++)
			if (out[j].port == out[i].port &&
			    memcmp(&out[j].na, &out[i].na, sizeof(out[i].na)) == 0)
				return "get_addr returned an address twice";
	}
	return NULL;
}

static inline const char *am_ops_add(struct cr_addrman *am, struct am_ops *s)
{
	struct cr_peeraddr batch[8];
	unsigned k = 1 + am_take(s) % 8;
	struct cr_netaddr first;
	for (unsigned i = 0; i < k; i++) {
		uint16_t port;
		struct cr_netaddr a = am_ops_addr(s, &port);
		unsigned age = am_take(s);
		/* Mostly recent, some a month old, some from the future. */
		int64_t t = age < 200 ? s->now - age * 300 : age < 250 ? s->now - 31 * 86400
							    : s->now + 3600;
		batch[i] = am_pa(a, port, t);
		batch[i].services = am_take(s);
		if (i == 0)
			first = a;
	}
	struct cr_netaddr src = am_ops_source(s, first);
	int64_t penalty = (am_take(s) & 1) ? 7200 : 0;
	size_t before = cr_addrman_size(am, 0, CR_ADDRMAN_ANY);
	size_t added = cr_addrman_add(am, batch, k, &src, penalty, s->now, &s->rng);
	if (added > k || cr_addrman_size(am, 0, CR_ADDRMAN_ANY) > before + k)
		return "add placed more than it was given";
	return NULL;
}

/* Applies one operation; NULL when its outcome is right. */
static inline const char *am_ops_step(struct cr_addrman *am, struct am_ops *s)
{
	unsigned op = am_take(s) % 16;
	uint16_t port;
	struct cr_netaddr a;
	struct cr_peeraddr out;
	s->counts[op]++;
	s->now += am_take(s) % 64;
	switch (op) {
	case 0: case 1: case 2: case 3: case 4: case 5:
		return am_ops_add(am, s);
	case 6: {
		a = am_ops_addr(s, &port);
		bool tbe = am_take(s) & 1;
		struct cr_addrman_info before;
		bool known = cr_addrman_find(am, &a, port, &before) == 0;
		bool moved = cr_addrman_good(am, &a, port, tbe, s->now);
		struct cr_addrman_info after;
		if (moved && (!known || before.in_tried || cr_addrman_find(am, &a, port, &after) ||
			      !after.in_tried))
			return "good reported a move that did not happen";
		if (!tbe && known && !before.in_tried && !moved)
			return "good without test-before-evict did not move";
		return NULL;
	}
	case 7: case 8:
		a = am_ops_addr(s, &port);
		cr_addrman_attempt(am, &a, port, am_take(s) & 1, s->now);
		return NULL;
	case 9:
		a = am_ops_addr(s, &port);
		cr_addrman_connected(am, &a, port, s->now);
		return NULL;
	case 10: case 11: {
		bool new_only = am_take(s) & 1;
		unsigned nets = am_ops_nets(s);
		if (cr_addrman_select(am, &out, NULL, new_only, nets, s->now, &s->rng) != 0)
			return NULL;
		struct cr_addrman_info info;
		if (new_only && cr_addrman_find(am, &out.na, out.port, &info) == 0 && info.in_tried)
			return "new_only select returned a tried entry";
		return am_ops_check_out(am, &out, nets, s->now);
	}
	case 12:
		if (cr_addrman_select_tried_collision(am, &out, NULL, &s->rng) == 0) {
			struct cr_addrman_info info;
			if (cr_addrman_find(am, &out.na, out.port, &info) != 0 || !info.in_tried)
				return "collision partner not in tried";
			/* The feeler: reach it, fail it, or say nothing. */
			unsigned f = am_take(s) % 3;
			if (f == 0)
				cr_addrman_good(am, &out.na, out.port, true, s->now);
			else if (f == 1)
				cr_addrman_attempt(am, &out.na, out.port, false, s->now);
		}
		cr_addrman_resolve_collisions(am, s->now);
		return NULL;
	case 13:
		return am_ops_getaddr(am, s);
	case 14:
		a = am_ops_addr(s, &port);
		cr_addrman_set_services(am, &a, port, am_take(s));
		return NULL;
	default: {
		unsigned j = am_take(s);
		s->now += j < 240 ? (int64_t)j * 60 : (int64_t)(j - 239) * 86400;
		return NULL;
	}
	}
}

#endif
