/* asmap loading, sanity check and lookup, following the semantics of
 * Bitcoin Core's util/asmap.cpp; see asmap.h. Lookups on a loaded map are
 * read-only and may run on any thread. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr/asmap.h"
#include "addr/netclass.h"
#include "addr/netgroup.h"
#include "proto/crypto.h"
#include "addr/err.h"

struct cr_asmap {
	size_t len;     /* bytes */
	uint8_t data[]; /* the file, as read */
};

#define INVALID 0xffffffffu

enum op { OP_RETURN = 0, OP_JUMP = 1, OP_MATCH = 2, OP_DEFAULT = 3 };

/* A cursor over the bit stream: bit i is bit (i % 8) of byte i / 8. */
struct bits {
	const uint8_t *d;
	uint64_t pos, end; /* in bits */
};

static int bit_at(const struct bits *b, uint64_t i)
{
	return (b->d[i >> 3] >> (i & 7)) & 1;
}

/* Core's variable-length integers: a unary class selector (one bit per
 * class passed, none after the last class), then that class's mantissa,
 * most significant bit first. Each class starts where the previous ends. */
static uint32_t decode_bits(struct bits *b, uint32_t minval, const uint8_t *sizes, int n)
{
	uint32_t val = minval;
	for (int k = 0; k < n; k++) {
		int more = 0;
		if (k + 1 != n) {
			if (b->pos == b->end)
				return INVALID; /* EOF in the class selector */
			more = bit_at(b, b->pos++);
		}
		if (more) {
			val += 1u << sizes[k];
			continue;
		}
		for (int i = 0; i < sizes[k]; i++) {
			if (b->pos == b->end)
				return INVALID; /* EOF in the mantissa */
			val += (uint32_t)bit_at(b, b->pos++) << (sizes[k] - 1 - i);
		}
		return val;
	}
	return INVALID;
}

static const uint8_t type_sizes[] = {0, 0, 1};
static const uint8_t asn_sizes[] = {15, 16, 17, 18, 19, 20, 21, 22, 23, 24};
static const uint8_t match_sizes[] = {1, 2, 3, 4, 5, 6, 7, 8};
static const uint8_t jump_sizes[] = {5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16, 17,
				     18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30};
#define N(x) ((int)sizeof(x))

static uint32_t dec_type(struct bits *b) { return decode_bits(b, 0, type_sizes, N(type_sizes)); }
static uint32_t dec_asn(struct bits *b) { return decode_bits(b, 1, asn_sizes, N(asn_sizes)); }
static uint32_t dec_match(struct bits *b) { return decode_bits(b, 2, match_sizes, N(match_sizes)); }
static uint32_t dec_jump(struct bits *b) { return decode_bits(b, 17, jump_sizes, N(jump_sizes)); }

static int bit_width(uint32_t x)
{
	return x ? 32 - __builtin_clz(x) : 0;
}

/* Core's SanityCheckASMap: simulates every path at once, keeping a stack of
 * pending jump targets, and accepts only maps where every path ends in a
 * RETURN, no path reads more than `bits` address bits, jumps nest without
 * crossing or landing mid-instruction, no code is unreachable, the
 * encoding is canonical, and at most 7 zero padding bits follow. */
int cr_asmap_check(const uint8_t *data, size_t len, int bits)
{
	struct { uint64_t target; int bits; } jumps[129];
	int njumps = 0;
	struct bits b = {data, 0, (uint64_t)len * 8};
	enum op prev = OP_JUMP;
	bool incomplete = false;

	while (b.pos != b.end) {
		if (njumps && b.pos >= jumps[njumps - 1].target)
			return CR_E_ASMAP; /* jumped into the middle of an instruction */
		uint32_t op = dec_type(&b);
		if (op == OP_RETURN) {
			if (prev == OP_DEFAULT)
				return CR_E_ASMAP; /* DEFAULT then RETURN is not canonical */
			if (dec_asn(&b) == INVALID)
				return CR_E_ASMAP;
			if (!njumps) {
				if (b.end - b.pos > 7)
					return CR_E_ASMAP; /* excessive padding */
				for (; b.pos != b.end; b.pos++)
					if (bit_at(&b, b.pos))
						return CR_E_ASMAP; /* non-zero padding */
				return 0;
			}
			if (b.pos != jumps[njumps - 1].target)
				return CR_E_ASMAP; /* unreachable code */
			bits = jumps[--njumps].bits;
			prev = OP_JUMP;
		} else if (op == OP_JUMP) {
			uint32_t j = dec_jump(&b);
			if (j == INVALID || j > b.end - b.pos || bits == 0)
				return CR_E_ASMAP;
			bits--;
			uint64_t target = b.pos + j;
			if (njumps && target >= jumps[njumps - 1].target)
				return CR_E_ASMAP; /* intersecting jumps */
			/* Each jump consumes a bit, so at most 128 are pending. */
			if (njumps == (int)(sizeof(jumps) / sizeof(jumps[0])))
				return CR_E_ASMAP;
			jumps[njumps].target = target;
			jumps[njumps++].bits = bits;
			prev = OP_JUMP;
		} else if (op == OP_MATCH) {
			uint32_t m = dec_match(&b);
			if (m == INVALID)
				return CR_E_ASMAP;
			int mlen = bit_width(m) - 1;
			if (prev != OP_MATCH)
				incomplete = false;
			if (mlen < 8 && incomplete)
				return CR_E_ASMAP; /* two partial MATCHes in a row */
			incomplete = mlen < 8;
			if (bits < mlen)
				return CR_E_ASMAP;
			bits -= mlen;
			prev = OP_MATCH;
		} else if (op == OP_DEFAULT) {
			if (prev == OP_DEFAULT)
				return CR_E_ASMAP; /* two DEFAULTs in a row */
			if (dec_asn(&b) == INVALID)
				return CR_E_ASMAP;
			prev = OP_DEFAULT;
		} else {
			return CR_E_ASMAP; /* instruction cut by EOF */
		}
	}
	return CR_E_ASMAP; /* EOF without RETURN */
}

uint32_t cr_asmap_lookup(const struct cr_asmap *m, const uint8_t ip[16])
{
	struct bits b = {m->data, 0, (uint64_t)m->len * 8};
	int used = 0; /* address bits consumed */
	uint32_t def = 0;

	/* The sanity check at load guarantees every path below ends in a
	 * RETURN within bounds; the checks here only make a broken invariant
	 * return "unmapped" instead of reading out of bounds. */
	while (b.pos != b.end) {
		uint32_t op = dec_type(&b), v;
		if (op == OP_RETURN) {
			v = dec_asn(&b);
			return v == INVALID ? 0 : v;
		} else if (op == OP_JUMP) {
			v = dec_jump(&b);
			if (v == INVALID || used == 128 || v >= b.end - b.pos)
				return 0;
			if ((ip[used >> 3] >> (7 - (used & 7))) & 1)
				b.pos += v;
			used++;
		} else if (op == OP_MATCH) {
			v = dec_match(&b);
			if (v == INVALID)
				return 0;
			int mlen = bit_width(v) - 1;
			if (128 - used < mlen)
				return 0;
			for (int i = 0; i < mlen; i++, used++)
				if (((ip[used >> 3] >> (7 - (used & 7))) & 1) !=
				    ((v >> (mlen - 1 - i)) & 1))
					return def;
		} else if (op == OP_DEFAULT) {
			v = dec_asn(&b);
			if (v == INVALID)
				return 0;
			def = v;
		} else {
			return 0;
		}
	}
	return 0;
}

int cr_asmap_from_bytes(struct cr_asmap **out, const uint8_t *data, size_t len)
{
	int rc;

	*out = NULL;
	if (len == 0 || len > CR_ASMAP_MAX_BYTES)
		return CR_E_ASMAP_SIZE;
	rc = cr_asmap_check(data, len, 128);
	if (rc)
		return rc;
	struct cr_asmap *m = malloc(sizeof(*m) + len);
	if (!m)
		return CR_E_NOMEM;
	m->len = len;
	memcpy(m->data, data, len);
	*out = m;
	return 0;
}

int cr_asmap_load(struct cr_asmap **out, const char *path)
{
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	int fd, rc;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	if (st.st_size <= 0 || (uint64_t)st.st_size > CR_ASMAP_MAX_BYTES) {
		close(fd);
		return CR_E_ASMAP_SIZE;
	}
	buf = malloc((size_t)st.st_size);
	if (!buf) {
		close(fd);
		return CR_E_NOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	rc = got == (size_t)st.st_size ? cr_asmap_from_bytes(out, buf, got) : -EIO;
	free(buf);
	return rc;
}

void cr_asmap_free(struct cr_asmap *m)
{
	free(m);
}

uint32_t cr_asmap_addr(const struct cr_asmap *m, const struct cr_netaddr *a, unsigned flags)
{
	uint8_t ip[16] = {[10] = 0xff, [11] = 0xff};
	uint32_t v4;

	if (!m)
		return 0;
	if ((flags & CR_NETGROUP_LOOPBACK_ROUTABLE) && cr_addr_is_ipv4(a) &&
	    a->addr[a->net == CR_NET_IPV4 ? 0 : 12] == 127) {
		const uint8_t *p = a->net == CR_NET_IPV4 ? a->addr : a->addr + 12;
		v4 = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	} else {
		/* Core maps only the IPv4 and IPv6 classes; CJDNS, Tor, I2P,
		 * local, internal and unroutable addresses have no AS. */
		enum cr_netclass c = cr_addr_netclass(a);
		if (c == CR_NETCLASS_IPV6)
			return cr_asmap_lookup(m, a->addr);
		if (c != CR_NETCLASS_IPV4 || !cr_addr_carried_ipv4(a, &v4))
			return 0;
	}
	for (int i = 0; i < 4; i++)
		ip[12 + i] = (uint8_t)(v4 >> (24 - 8 * i));
	return cr_asmap_lookup(m, ip);
}

void cr_asmap_version(const struct cr_asmap *m, uint8_t out[32])
{
	cr_sha256(out, m->data, m->len);
}
