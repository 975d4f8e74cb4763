/* Counted address set (see ipset.h). Coordinator thread only. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine/policy/ipset.h"
#include "engine/policy/siphash.h"

#define MIN_CAP 1024u

static uint64_t key_of(const struct cr_ipset *s, const struct cr_netaddr *a)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	uint8_t buf[2 + CR_NETADDR_MAX];
	size_t len = a->len <= CR_NETADDR_MAX ? a->len : CR_NETADDR_MAX;
	const uint8_t *p = a->addr;
	uint8_t net = a->net;
	if (net == CR_NET_IPV6 && len == 16 && memcmp(p, mapped, 12) == 0) {
		net = CR_NET_IPV4;
		p += 12;
		len = 4;
	}
	buf[0] = net;
	buf[1] = (uint8_t)len;
	memcpy(buf + 2, p, len);
	uint64_t k = cr_siphash(s->k0, s->k1, buf, 2 + len);
	return k ? k : 1; /* 0 marks an empty slot */
}

static int alloc_table(struct cr_ipset *s, size_t cap)
{
	uint64_t *keys = calloc(cap, sizeof *keys);
	uint32_t *counts = calloc(cap, sizeof *counts);
	if (!keys || !counts) {
		free(keys);
		free(counts);
		return -ENOMEM;
	}
	s->keys = keys;
	s->counts = counts;
	s->cap = cap;
	return 0;
}

int cr_ipset_init(struct cr_ipset *s, uint64_t k0, uint64_t k1)
{
	memset(s, 0, sizeof *s);
	s->k0 = k0;
	s->k1 = k1;
	return alloc_table(s, MIN_CAP);
}

void cr_ipset_clear(struct cr_ipset *s)
{
	free(s->keys);
	free(s->counts);
	memset(s, 0, sizeof *s);
}

static size_t find(const struct cr_ipset *s, uint64_t k)
{
	size_t mask = s->cap - 1, i = (size_t)k & mask;
	while (s->keys[i] && s->keys[i] != k)
		i = (i + 1) & mask;
	return i;
}

static int grow(struct cr_ipset *s)
{
	struct cr_ipset old = *s;
	if (alloc_table(s, old.cap * 2) < 0) {
		*s = old;
		return -ENOMEM;
	}
	for (size_t i = 0; i < old.cap; i++) {
		if (!old.keys[i])
			continue;
		size_t j = find(s, old.keys[i]);
		s->keys[j] = old.keys[i];
		s->counts[j] = old.counts[i];
	}
	free(old.keys);
	free(old.counts);
	return 0;
}

int cr_ipset_add(struct cr_ipset *s, const struct cr_netaddr *a)
{
	if ((s->n + 1) * 2 > s->cap && grow(s) < 0)
		return -ENOMEM;
	uint64_t k = key_of(s, a);
	size_t i = find(s, k);
	if (!s->keys[i]) {
		s->keys[i] = k;
		s->n++;
	}
	s->counts[i]++;
	return 0;
}

void cr_ipset_remove(struct cr_ipset *s, const struct cr_netaddr *a)
{
	uint64_t k = key_of(s, a);
	size_t mask = s->cap - 1, i = find(s, k);
	if (!s->keys[i] || --s->counts[i] > 0)
		return;
	/* backward-shift deletion: pull later members of the probe run into
	 * the hole so lookups never need tombstones */
	s->keys[i] = 0;
	s->n--;
	size_t j = i;
	for (;;) {
		j = (j + 1) & mask;
		if (!s->keys[j])
			return;
		size_t home = (size_t)s->keys[j] & mask;
		/* move j into the hole i unless its home lies cyclically in (i, j] */
		bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (stays)
			continue;
		s->keys[i] = s->keys[j];
		s->counts[i] = s->counts[j];
		s->keys[j] = 0;
		s->counts[j] = 0;
		i = j;
	}
}

uint32_t cr_ipset_count(const struct cr_ipset *s, const struct cr_netaddr *a)
{
	if (!s->cap)
		return 0;
	size_t i = find(s, key_of(s, a));
	return s->keys[i] ? s->counts[i] : 0;
}
