/* addr and addrv2 (BIP155) codecs; see msg.h. Pure functions: any thread. */
#include <string.h>

#include "proto/err.h"
#include "proto/msg.h"
#include "proto/wire.h"

/* IPv6 ranges that embed another network's address. Core maps the first
 * to IPv4 in addr (CNetAddr::SetLegacyIPv6) and treats the others as
 * invalid; BIP155 says to ignore all of them under the IPV6 network id. */
static const uint8_t ipv4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
static const uint8_t onioncat[6] = {0xfd, 0x87, 0xd8, 0x7e, 0xeb, 0x43};
static const uint8_t internal[6] = {0xfd, 0x6b, 0x88, 0xc0, 0x87, 0x24};

static bool embeds_other_net(const uint8_t ip[16])
{
	return memcmp(ip, ipv4_mapped, sizeof(ipv4_mapped)) == 0 ||
	       memcmp(ip, onioncat, sizeof(onioncat)) == 0 ||
	       memcmp(ip, internal, sizeof(internal)) == 0;
}

/* Ends a list decode. On failure nothing decoded survives. */
static int finish_list(struct cr_reader *r, int err, struct cr_addr_list *out)
{
	if (!err)
		err = r->err;
	if (!err && r->len)
		err = CR_E_MSG_TRAILING;
	if (err) {
		if (out->count)
			memset(out->entries, 0, out->count * sizeof(out->entries[0]));
		out->count = 0;
		out->skipped = 0;
	}
	return err;
}

/* The entry count that opens both messages: CompactSize, at most 1000
 * (Core's MAX_ADDR_TO_SEND; BIP155 for addrv2). */
static int read_count(struct cr_reader *r, uint64_t *n)
{
	*n = cr_read_compact(r, true);
	if (r->err)
		return r->err;
	return *n > CR_MSG_ADDR_MAX ? CR_E_MSG_COUNT : 0;
}

/* Appends an entry, or CR_E_OVERFLOW when the caller's array is full. */
static int push(struct cr_addr_list *out, const struct cr_peeraddr *a)
{
	if (out->count >= out->cap)
		return CR_E_OVERFLOW;
	out->entries[out->count++] = *a;
	return 0;
}

int cr_msg_addr_decode(struct cr_addr_list *out, const uint8_t *p, size_t len)
{
	struct cr_reader r;
	uint64_t n;
	int err;

	out->count = 0;
	out->skipped = 0;
	cr_reader_init(&r, p, len);
	err = read_count(&r, &n);
	for (uint64_t i = 0; !err && i < n; i++) {
		struct cr_peeraddr a;
		uint8_t ip[16];

		memset(&a, 0, sizeof(a));
		a.time = cr_read_u32le(&r);
		a.services = cr_read_u64le(&r);
		cr_read_bytes(&r, ip, 16);
		a.port = cr_read_u16be(&r);
		if (r.err)
			break;
		if (memcmp(ip, ipv4_mapped, sizeof(ipv4_mapped)) == 0) {
			a.na.net = CR_NET_IPV4;
			a.na.len = 4;
			memcpy(a.na.addr, ip + 12, 4);
		} else if (embeds_other_net(ip)) {
			out->skipped++;
			continue;
		} else {
			a.na.net = CR_NET_IPV6;
			a.na.len = 16;
			memcpy(a.na.addr, ip, 16);
		}
		err = push(out, &a);
	}
	return finish_list(&r, err, out);
}

int cr_msg_addr_encode(uint8_t *out, size_t cap, const struct cr_addr_list *in)
{
	struct cr_writer w;

	if (in->count > CR_MSG_ADDR_MAX)
		return CR_E_MSG_COUNT;
	cr_writer_init(&w, out, cap);
	cr_write_compact(&w, in->count);
	for (size_t i = 0; i < in->count; i++) {
		const struct cr_peeraddr *a = &in->entries[i];

		cr_write_u32le(&w, a->time);
		cr_write_u64le(&w, a->services);
		if (a->na.net == CR_NET_IPV4 && a->na.len == 4) {
			cr_write_bytes(&w, ipv4_mapped, sizeof(ipv4_mapped));
			cr_write_bytes(&w, a->na.addr, 4);
		} else if (a->na.net == CR_NET_IPV6 && a->na.len == 16 &&
			   !embeds_other_net(a->na.addr)) {
			cr_write_bytes(&w, a->na.addr, 16);
		} else {
			return CR_E_MSG_ADDR;
		}
		cr_write_u16be(&w, a->port);
	}
	return w.err ? w.err : (int)w.len;
}

/* Whether a well-formed addrv2 entry is one to hand out. Tor v2 is dead
 * (BIP155: MUST ignore on receive); CJDNS lives in fc00::/8 only. */
static bool addrv2_usable(const struct cr_netaddr *na)
{
	switch (na->net) {
	case CR_NET_IPV4:
	case CR_NET_TORV3:
	case CR_NET_I2P:
		return true;
	case CR_NET_IPV6:
		return !embeds_other_net(na->addr);
	case CR_NET_CJDNS:
		return na->addr[0] == 0xfc;
	default:
		return false;
	}
}

/* Reads one addrv2 entry into *a. Returns 0, or a fatal CR_E_*; sets
 * *usable when the entry should be handed out. */
static int read_addrv2_entry(struct cr_reader *r, struct cr_peeraddr *a, bool *usable)
{
	memset(a, 0, sizeof(*a));
	*usable = false;
	a->time = cr_read_u32le(r);
	/* Core: CompactSizeFormatter<false>, services are not a size. */
	a->services = cr_read_compact(r, false);
	uint8_t net = cr_read_u8(r);
	uint64_t alen = cr_read_compact(r, true);
	if (r->err)
		return r->err;
	/* BIP155: at most 512 bytes whatever the network. */
	if (alen > CR_MSG_ADDRV2_LEN_MAX)
		return CR_E_TOOLARGE;
	uint8_t want = cr_net_addr_len(net);
	if (want && alen != want)
		return CR_E_MSG_ADDR;
	const uint8_t *addr = cr_read_view(r, (size_t)alen);
	a->port = cr_read_u16be(r);
	if (r->err)
		return r->err;
	if (!want)
		return 0; /* unknown network: skipped, not fatal */
	a->na.net = net;
	a->na.len = want;
	memcpy(a->na.addr, addr, want);
	*usable = addrv2_usable(&a->na);
	return 0;
}

int cr_msg_addrv2_decode(struct cr_addr_list *out, const uint8_t *p, size_t len)
{
	struct cr_reader r;
	uint64_t n;
	int err;

	out->count = 0;
	out->skipped = 0;
	cr_reader_init(&r, p, len);
	err = read_count(&r, &n);
	for (uint64_t i = 0; !err && i < n; i++) {
		struct cr_peeraddr a;
		bool usable;

		err = read_addrv2_entry(&r, &a, &usable);
		if (err)
			break;
		if (!usable) {
			out->skipped++;
			continue;
		}
		err = push(out, &a);
	}
	return finish_list(&r, err, out);
}

int cr_msg_addrv2_encode(uint8_t *out, size_t cap, const struct cr_addr_list *in)
{
	struct cr_writer w;

	if (in->count > CR_MSG_ADDR_MAX)
		return CR_E_MSG_COUNT;
	cr_writer_init(&w, out, cap);
	cr_write_compact(&w, in->count);
	for (size_t i = 0; i < in->count; i++) {
		const struct cr_peeraddr *a = &in->entries[i];
		uint8_t want = cr_net_addr_len(a->na.net);

		/* BIP155: never gossip Tor v2, unknown networks or IPv6
		 * addresses that belong to another network. */
		if (!want || a->na.len != want || !addrv2_usable(&a->na))
			return CR_E_MSG_ADDR;
		cr_write_u32le(&w, a->time);
		cr_write_compact(&w, a->services);
		cr_write_u8(&w, a->na.net);
		cr_write_compact(&w, want);
		cr_write_bytes(&w, a->na.addr, want);
		cr_write_u16be(&w, a->port);
	}
	return w.err ? w.err : (int)w.len;
}
