/* Test helper: builds Bitcoin Core asmap files from a list of prefixes.
 *
 * Prefixes (on the 128-bit IPv6 space; IPv4 as ::ffff:a.b.c.d) go into a
 * binary trie, longest match winning; the trie is then encoded with Core's
 * instruction set: RETURN for a leaf, JUMP for a node with two mapped
 * sides, and runs of MATCH (8 bits each, the last one shorter) for a path
 * whose other side is unmapped (a failed MATCH returns AS 0). The output
 * passes Core's sanity check, which the tests verify. Header-only, for
 * tests/ and bench/. */
#ifndef CR_TESTS_ASMAP_BUILD_H
#define CR_TESTS_ASMAP_BUILD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define AMB_MAX_NODES 200000

struct amb_node {
	int child[2]; /* 0 = none (leaf) */
	uint32_t asn; /* for leaves */
};

struct amb {
	struct amb_node *n;
	int count;
	uint8_t *bits; /* output bit stream, one bit per byte while building */
	size_t nbits, cap;
};

static inline void amb_init(struct amb *t)
{
	memset(t, 0, sizeof(*t));
	t->n = (struct amb_node *)calloc(AMB_MAX_NODES, sizeof(*t->n));
	t->count = 1; /* node 0: root, a leaf of AS 0 */
}

static inline void amb_free(struct amb *t)
{
	free(t->n);
	free(t->bits);
}

static inline int amb_bit(const uint8_t ip[16], int i)
{
	return (ip[i >> 3] >> (7 - (i & 7))) & 1;
}

/* Insert in order of non-decreasing plen so that longer prefixes win. */
static inline void amb_add(struct amb *t, const uint8_t ip[16], int plen, uint32_t asn)
{
	int cur = 0;
	for (int d = 0; d < plen; d++) {
		struct amb_node *x = &t->n[cur];
		if (!x->child[0]) { /* split a leaf: both halves inherit its AS */
			for (int s = 0; s < 2; s++) {
				int c = t->count++;
				t->n[c].asn = x->asn;
				t->n[c].child[0] = t->n[c].child[1] = 0;
				t->n[cur].child[s] = c;
			}
			x = &t->n[cur];
		}
		cur = x->child[amb_bit(ip, d)];
	}
	t->n[cur].child[0] = t->n[cur].child[1] = 0;
	t->n[cur].asn = asn;
}

static inline void amb_v4(uint8_t ip[16], uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	memset(ip, 0, 16);
	ip[10] = ip[11] = 0xff;
	ip[12] = a;
	ip[13] = b;
	ip[14] = c;
	ip[15] = d;
}

/* Merges siblings that are leaves of the same AS, bottom-up. */
static inline void amb_simplify(struct amb *t, int x)
{
	struct amb_node *n = &t->n[x];
	if (!n->child[0])
		return;
	amb_simplify(t, n->child[0]);
	amb_simplify(t, n->child[1]);
	struct amb_node *l = &t->n[n->child[0]], *r = &t->n[n->child[1]];
	if (!l->child[0] && !r->child[0] && l->asn == r->asn) {
		n->asn = l->asn;
		n->child[0] = n->child[1] = 0;
	}
}

static inline void amb_put(struct amb *t, int bit)
{
	if (t->nbits == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 1024;
		t->bits = (uint8_t *)realloc(t->bits, t->cap);
	}
	t->bits[t->nbits++] = (uint8_t)bit;
}

/* Core's variable-length integer: class selector bits, then mantissa. */
static inline void amb_int(struct amb *t, uint32_t v, uint32_t minval, const uint8_t *sizes, int n)
{
	v -= minval;
	for (int k = 0; k < n; k++) {
		if (k + 1 < n) {
			if (v >= (1u << sizes[k])) {
				amb_put(t, 1);
				v -= 1u << sizes[k];
				continue;
			}
			amb_put(t, 0);
		}
		for (int i = sizes[k] - 1; i >= 0; i--)
			amb_put(t, (v >> i) & 1);
		return;
	}
}

static const uint8_t amb_type_sz[] = {0, 0, 1};
static const uint8_t amb_asn_sz[] = {15, 16, 17, 18, 19, 20, 21, 22, 23, 24};
static const uint8_t amb_match_sz[] = {1, 2, 3, 4, 5, 6, 7, 8};
static const uint8_t amb_jump_sz[] = {5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16, 17,
				      18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30};

static inline bool amb_zero(const struct amb *t, int x)
{
	return !t->n[x].child[0] && t->n[x].asn == 0;
}

static inline void amb_encode(struct amb *t, int x)
{
	struct amb_node *n = &t->n[x];
	if (!n->child[0]) { /* RETURN asn (asn != 0: zero leaves are MATCH misses) */
		amb_int(t, 0, 0, amb_type_sz, 3);
		amb_int(t, n->asn, 1, amb_asn_sz, 10);
		return;
	}
	if (amb_zero(t, n->child[0]) || amb_zero(t, n->child[1])) {
		/* Follow the path while one side is unmapped, then MATCH it. */
		int path[128], len = 0;
		while (t->n[x].child[0] && (amb_zero(t, t->n[x].child[0]) ||
					    amb_zero(t, t->n[x].child[1]))) {
			int b = amb_zero(t, t->n[x].child[0]) ? 1 : 0;
			path[len++] = b;
			x = t->n[x].child[b];
		}
		for (int i = 0; i < len; i += 8) {
			int m = len - i < 8 ? len - i : 8;
			uint32_t v = 1;
			for (int k = 0; k < m; k++)
				v = v << 1 | (uint32_t)path[i + k];
			amb_int(t, 2, 0, amb_type_sz, 3);
			amb_int(t, v, 2, amb_match_sz, 8);
		}
		amb_encode(t, x);
		return;
	}
	/* JUMP over the left (bit 0) side's code to the right (bit 1) side. */
	struct amb sub = *t;
	sub.bits = NULL;
	sub.nbits = sub.cap = 0;
	amb_encode(&sub, n->child[0]);
	amb_int(t, 1, 0, amb_type_sz, 3);
	amb_int(t, (uint32_t)sub.nbits, 17, amb_jump_sz, 26);
	for (size_t i = 0; i < sub.nbits; i++)
		amb_put(t, sub.bits[i]);
	free(sub.bits);
	amb_encode(t, n->child[1]);
}

/* Encodes the trie into out (malloc'd); returns its byte length. */
static inline size_t amb_finish(struct amb *t, uint8_t **out)
{
	amb_simplify(t, 0);
	t->nbits = 0;
	amb_encode(t, 0);
	size_t n = (t->nbits + 7) / 8;
	*out = (uint8_t *)calloc(n ? n : 1, 1);
	for (size_t i = 0; i < t->nbits; i++)
		(*out)[i / 8] |= (uint8_t)(t->bits[i] << (i % 8));
	return n;
}

#endif
