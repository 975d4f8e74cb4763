/* Readable reasons for addr/'s CR_E_* codes; see err.h. Any thread. */
#include <stddef.h>

#include "addr/err.h"

struct reason {
	int code;
	const char *text;
};

static const struct reason reasons[] = {
	{CR_E_STORE_TRUNCATED, "store: file truncated"},
	{CR_E_STORE_MAGIC, "store: wrong file magic"},
	{CR_E_STORE_VERSION, "store: file from a newer version"},
	{CR_E_STORE_CHECKSUM, "store: checksum mismatch (corrupt file)"},
	{CR_E_STORE_TOOLARGE, "store: body too large or trailing bytes"},
	{CR_E_STORE_BODY, "store: body does not decode"},
	{CR_E_ADDR_PARSE, "addr: not a valid address"},
	{CR_E_ADDR_PORT, "addr: bad port"},
	{CR_E_ADDR_ONION, "addr: bad .onion checksum or version"},
	{CR_E_ADDR_SUBNET, "addr: bad subnet prefix or netmask"},
	{CR_E_ASMAP, "asmap: file fails sanity check"},
	{CR_E_ASMAP_SIZE, "asmap: file empty or too large"},
	{CR_E_BAN_FULL, "banlist: too many bans"},
	{CR_E_ADDRMAN_CORRUPT, "addrman: stored data inconsistent"},
	{CR_E_ADDRMAN_COUNT, "addrman check: entry counters disagree"},
	{CR_E_ADDRMAN_NETCOUNT, "addrman check: per-network counters disagree"},
	{CR_E_ADDRMAN_RANDOM, "addrman check: random array inconsistent"},
	{CR_E_ADDRMAN_INDEX, "addrman check: address index inconsistent"},
	{CR_E_ADDRMAN_REFCOUNT, "addrman check: bad reference count"},
	{CR_E_ADDRMAN_NEWCELL, "addrman check: new table cell inconsistent"},
	{CR_E_ADDRMAN_TRIEDCELL, "addrman check: tried table cell inconsistent"},
	{CR_E_ADDRMAN_NEWPOS, "addrman check: new slot is not the keyed position"},
	{CR_E_ADDRMAN_TRIEDPOS, "addrman check: tried slot is not the keyed position"},
	{CR_E_ADDRMAN_COLLISION, "addrman check: collision queue inconsistent"},
	{CR_E_ADDRMAN_FREELIST, "addrman check: free list inconsistent"},
	{CR_E_ADDRMAN_GROUP, "addrman check: cached netgroup stale"},
	{CR_E_ADDRMAN_ADDR, "addrman check: invalid address in an entry"},
	{CR_E_ADDRMAN_CELLSUM, "addrman check: stray table cell (checksum)"},
};

const char *cr_addr_strerror(int err)
{
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].code == err)
			return reasons[i].text;
	return cr_proto_strerror(err);
}
