/* Bitcoin Core's peers.dat decoder; see peersdat.h. Pure functions over
 * caller memory (one malloc for the entries); any thread. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr/netclass.h"
#include "addr/peersdat.h"
#include "proto/crypto.h"
#include "addr/err.h"
#include "proto/wire.h"

#define DISK_VERSION_IGNORE_MASK 0x0007ffffu /* Core's low bits, ignored */
#define DISK_VERSION_ADDRV2 (1u << 29)
#define ADDRV2_LEN_MAX 512                   /* Core's MAX_ADDRV2_SIZE */
#define FORMAT_V1_DETERMINISTIC 1
#define FORMAT_V2_ASMAP 2
#define FORMAT_V3_BIP155 3
/* The smallest entry on disk (BIP155 with an empty address of an unknown
 * network): bounds how many entries a file of a given size can declare. */
#define ENTRY_MIN_BYTES (4 + 4 + 1 + 1 + 1 + 2 + 1 + 1 + 8 + 4)

static int fail(char *why, size_t why_len, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(char *why, size_t why_len, int err, const char *fmt, ...)
{
	if (why && why_len) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(why, why_len, fmt, ap);
		va_end(ap);
	}
	return err;
}

static const uint8_t ipv4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
static const uint8_t onioncat[6] = {0xfd, 0x87, 0xd8, 0x7e, 0xeb, 0x43};
static const uint8_t internal_pfx[6] = {0xfd, 0x6b, 0x88, 0xc0, 0x87, 0x24};

/* Core's CNetAddr V1 form: 16 bytes, IPv4 mapped, Tor v2 in OnionCat and
 * internal names in their own ranges (both unusable now). */
static void read_addr_v1(struct cr_reader *r, struct cr_netaddr *a, bool *usable)
{
	uint8_t ip[16];
	cr_read_bytes(r, ip, 16);
	memset(a, 0, sizeof(*a));
	*usable = false;
	if (r->err)
		return;
	if (memcmp(ip, onioncat, 6) == 0 || memcmp(ip, internal_pfx, 6) == 0)
		return;
	if (memcmp(ip, ipv4_mapped, 12) == 0) {
		a->net = CR_NET_IPV4;
		a->len = 4;
		memcpy(a->addr, ip + 12, 4);
	} else {
		a->net = CR_NET_IPV6;
		a->len = 16;
		memcpy(a->addr, ip, 16);
	}
	*usable = true;
}

/* Core's CNetAddr V2 (BIP155) form. Returns 0 or CR_E_ADDRMAN_CORRUPT for
 * what Core refuses (too long, wrong length for a known network). */
static int read_addr_v2(struct cr_reader *r, struct cr_netaddr *a, bool *usable)
{
	memset(a, 0, sizeof(*a));
	*usable = false;
	uint8_t net = cr_read_u8(r);
	uint64_t len = cr_read_compact(r, true);
	if (r->err)
		return 0;
	if (len > ADDRV2_LEN_MAX)
		return CR_E_ADDRMAN_CORRUPT;
	uint8_t want = cr_net_addr_len(net);
	if (want && len != want)
		return CR_E_ADDRMAN_CORRUPT;
	const uint8_t *p = cr_read_view(r, (size_t)len);
	if (r->err || !want || net == CR_NET_TORV2)
		return 0; /* unknown network or Tor v2: Core skips it */
	if (net == CR_NET_IPV6 && (memcmp(p, ipv4_mapped, 12) == 0 || memcmp(p, onioncat, 6) == 0 ||
				   memcmp(p, internal_pfx, 6) == 0))
		return 0; /* BIP155: another network inside IPv6 is invalid */
	a->net = net;
	a->len = want;
	memcpy(a->addr, p, want);
	*usable = true;
	return 0;
}

/* One AddrInfo. Returns 0 or a CR_E_* (the reader's error is checked by
 * the caller). */
static int read_entry(struct cr_reader *r, bool v2_stream, struct cr_peersdat_entry *e,
		      bool *usable)
{
	memset(e, 0, sizeof(*e));
	uint32_t ver = cr_read_u32le(r) & ~DISK_VERSION_IGNORE_MASK;
	bool v2;
	if (ver == 0)
		v2 = false;
	else if (ver == DISK_VERSION_ADDRV2 && v2_stream)
		v2 = true;
	else
		return r->err ? 0 : CR_E_ADDRMAN_CORRUPT; /* "Unsupported CAddress disk format version" */
	e->addr.time = cr_read_u32le(r);
	e->addr.services = v2 ? cr_read_compact(r, false) : cr_read_u64le(r);
	int err = 0;
	if (v2)
		err = read_addr_v2(r, &e->addr.na, usable);
	else
		read_addr_v1(r, &e->addr.na, usable);
	e->addr.port = cr_read_u16be(r);
	bool src_usable = false;
	if (!err && v2_stream)
		err = read_addr_v2(r, &e->source, &src_usable);
	else if (!err)
		read_addr_v1(r, &e->source, &src_usable);
	if (!src_usable)
		memset(&e->source, 0, sizeof(e->source));
	e->last_success = (int64_t)cr_read_u64le(r);
	e->attempts = (int32_t)cr_read_u32le(r);
	if (*usable && !cr_addr_is_valid(&e->addr.na))
		*usable = false; /* Core drops entries that are not IsValid() */
	return err;
}

/* Reads the entries, keeping the usable ones. */
static int read_entries(struct cr_reader *r, struct cr_peersdat *p, bool v2_stream, char *why,
			size_t why_len)
{
	size_t total = (size_t)p->nnew + p->ntried;
	if (total > r->len / ENTRY_MIN_BYTES)
		return fail(why, why_len, CR_E_STORE_TRUNCATED,
			    "nNew=%u and nTried=%u entries cannot fit in the %zu bytes left", p->nnew,
			    p->ntried, r->len);
	p->entries = calloc(total ? total : 1, sizeof(*p->entries));
	if (!p->entries)
		return fail(why, why_len, CR_E_NOMEM, "out of memory");
	for (size_t i = 0; i < total; i++) {
		bool usable = false;
		struct cr_peersdat_entry *e = &p->entries[p->n];
		int err = read_entry(r, v2_stream, e, &usable);
		if (r->err)
			return fail(why, why_len, CR_E_STORE_TRUNCATED, "end of file in entry %zu", i);
		if (err)
			return fail(why, why_len, err, "entry %zu: bad address encoding", i);
		e->tried = i >= p->nnew;
		if (usable)
			p->n++;
		else
			p->skipped++;
	}
	return 0;
}

/* The per-bucket index lists: only their framing matters here. */
static int skip_buckets(struct cr_reader *r, uint32_t nbuckets, char *why, size_t why_len)
{
	for (uint32_t b = 0; b < nbuckets; b++) {
		int32_t n = (int32_t)cr_read_u32le(r);
		if (r->err)
			return fail(why, why_len, CR_E_STORE_TRUNCATED, "end of file in new bucket %u", b);
		if (n <= 0)
			continue; /* Core's loop reads nothing for these */
		if ((uint64_t)n * 4 > r->len)
			return fail(why, why_len, CR_E_STORE_TRUNCATED, "new bucket %u: %d entries do not fit",
				    b, n);
		cr_read_view(r, (size_t)n * 4);
	}
	return 0;
}

static int decode_body(struct cr_peersdat *p, struct cr_reader *r, char *why, size_t why_len)
{
	p->format = cr_read_u8(r);
	uint8_t compat = cr_read_u8(r);
	if (r->err)
		return fail(why, why_len, CR_E_STORE_TRUNCATED, "end of file in the header");
	if (compat < CR_PEERSDAT_INCOMPAT_BASE)
		return fail(why, why_len, CR_E_ADDRMAN_CORRUPT,
			    "Corrupted addrman database: The compat value (%u) is lower than the expected "
			    "minimum value %u.", compat, CR_PEERSDAT_INCOMPAT_BASE);
	p->lowest_compatible = (uint8_t)(compat - CR_PEERSDAT_INCOMPAT_BASE);
	if (p->lowest_compatible > CR_PEERSDAT_FORMAT_MAX)
		return fail(why, why_len, CR_E_STORE_VERSION,
			    "Unsupported format of addrman database: %u. It is compatible with formats "
			    ">=%u, but the maximum supported by connring is %u.",
			    p->format, p->lowest_compatible, CR_PEERSDAT_FORMAT_MAX);
	cr_read_bytes(r, p->key, 32);
	int32_t nnew = (int32_t)cr_read_u32le(r), ntried = (int32_t)cr_read_u32le(r);
	uint32_t nb = cr_read_u32le(r);
	if (r->err)
		return fail(why, why_len, CR_E_STORE_TRUNCATED, "end of file in the header");
	if (nnew < 0 || nnew > CR_PEERSDAT_NEW_MAX)
		return fail(why, why_len, CR_E_ADDRMAN_CORRUPT,
			    "Corrupt AddrMan serialization: nNew=%d, should be in [0, %d]", nnew,
			    CR_PEERSDAT_NEW_MAX);
	if (ntried < 0 || ntried > CR_PEERSDAT_TRIED_MAX)
		return fail(why, why_len, CR_E_ADDRMAN_CORRUPT,
			    "Corrupt AddrMan serialization: nTried=%d, should be in [0, %d]", ntried,
			    CR_PEERSDAT_TRIED_MAX);
	p->nnew = (uint32_t)nnew;
	p->ntried = (uint32_t)ntried;
	p->nbuckets = p->format >= FORMAT_V1_DETERMINISTIC ? nb ^ (1u << 30) : nb;
	if ((int32_t)p->nbuckets < 0 || (uint64_t)p->nbuckets * 4 > r->len)
		return fail(why, why_len, CR_E_STORE_TRUNCATED, "%u new buckets do not fit", p->nbuckets);
	int err = read_entries(r, p, p->format >= FORMAT_V3_BIP155, why, why_len);
	if (!err)
		err = skip_buckets(r, p->nbuckets, why, why_len);
	if (err)
		return err;
	if (p->format >= FORMAT_V2_ASMAP) {
		cr_read_bytes(r, p->asmap_checksum, 32);
		p->has_asmap_checksum = true;
		if (r->err)
			return fail(why, why_len, CR_E_STORE_TRUNCATED, "end of file in the asmap checksum");
	}
	static const uint8_t zero[32];
	if (memcmp(p->key, zero, 32) == 0) /* Core's CheckAddrman code -16 */
		return fail(why, why_len, CR_E_ADDRMAN_CORRUPT,
			    "Corrupt data. Consistency check failed with code -16: the bucket key is zero");
	return 0;
}

int cr_peersdat_decode(struct cr_peersdat *out, const uint8_t *file, size_t len,
		       const uint8_t magic[4], char *why, size_t why_len)
{
	memset(out, 0, sizeof(*out));
	if (why && why_len)
		why[0] = '\0';
	if (len < 4 + 32)
		return fail(why, why_len, CR_E_STORE_TRUNCATED, "file of %zu bytes is too short", len);
	if (memcmp(file, magic, 4) != 0)
		return fail(why, why_len, CR_E_STORE_MAGIC, "Invalid network magic number");
	/* The checksum is the last 32 bytes; the body must end exactly there. */
	struct cr_reader r;
	cr_reader_init(&r, file + 4, len - 4 - 32);
	int err = decode_body(out, &r, why, why_len);
	if (!err && r.len)
		err = fail(why, why_len, CR_E_STORE_TOOLARGE, "%zu bytes between the data and its checksum", r.len);
	uint8_t sum[32];
	cr_sha256d(sum, file, len - 32);
	if (memcmp(sum, file + len - 32, 32) != 0) {
		/* A truncated file reads as a bad checksum or a short body; say
		 * the checksum when the body itself parsed. */
		if (!err)
			err = fail(why, why_len, CR_E_STORE_CHECKSUM, "Checksum mismatch, data corrupted");
	}
	if (err) {
		cr_peersdat_clear(out);
		return err;
	}
	return 0;
}

void cr_peersdat_clear(struct cr_peersdat *p)
{
	free(p->entries);
	memset(p, 0, sizeof(*p));
}
