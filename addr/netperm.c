/* Peer permissions: Core's -whitebind/-whitelist syntax and flag rules; see
 * netperm.h. Pure functions; any thread. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "addr/addrstr.h"
#include "addr/netperm.h"
#include "addr/err.h"

/* Quoted input is cut here in messages, so a huge value cannot make one. */
#define QUOTE_MAX 100

static int fail(char *err, size_t cap, const char *fmt, ...)
{
	if (cap) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, cap, fmt, ap);
		va_end(ap);
	}
	return CR_E_INVAL;
}

static int qlen(size_t len)
{
	return len > QUOTE_MAX ? QUOTE_MAX : (int)len;
}

static const struct {
	const char *name;
	uint32_t flags;
} names[] = {
	{ "bloomfilter", CR_PERM_BLOOMFILTER },
	{ "bloom", CR_PERM_BLOOMFILTER },
	{ "noban", CR_PERM_NOBAN },
	{ "forcerelay", CR_PERM_FORCERELAY },
	{ "mempool", CR_PERM_MEMPOOL },
	{ "download", CR_PERM_DOWNLOAD },
	{ "all", CR_PERM_ALL },
	{ "relay", CR_PERM_RELAY },
	{ "addr", CR_PERM_ADDR },
};

/* What precedes the address, and where the address is. */
struct head {
	uint32_t flags;
	uint8_t dirs;
	const char *addr;
	size_t addr_len;
};

/* TryParsePermissionFlags: reads "perm1,perm2@" (or nothing: implicit).
 * allow_out: false for whitebind. Clears err. */
static int parse_flags(const char *s, size_t len, bool allow_out, struct head *h, char *err,
		       size_t cap)
{
	const char *at = memchr(s, '@', len);
	uint32_t *flags = &h->flags;
	uint8_t *dirs = &h->dirs;
	if (cap)
		err[0] = 0;
	*flags = 0;
	*dirs = 0;
	h->addr = s;
	h->addr_len = len;
	if (!at) {
		*flags = CR_PERM_IMPLICIT;
		*dirs = CR_PERM_DIR_IN;
		return 0;
	}
	size_t plen = (size_t)(at - s), pos = 0;
	while (pos < plen) {
		const char *p = s + pos, *comma = memchr(p, ',', plen - pos);
		size_t n = comma ? (size_t)(comma - p) : plen - pos;
		pos += n + (comma != NULL);
		if (n == 0)
			continue; /* Core allows empty entries */
		bool known = false;
		for (size_t i = 0; i < sizeof names / sizeof names[0] && !known; i++)
			if (strlen(names[i].name) == n && memcmp(names[i].name, p, n) == 0) {
				*flags |= names[i].flags;
				known = true;
			}
		if (known)
			continue;
		if (n == 2 && memcmp(p, "in", 2) == 0) {
			*dirs |= CR_PERM_DIR_IN;
		} else if (n == 3 && memcmp(p, "out", 3) == 0) {
			if (!allow_out)
				return fail(err, cap, "whitebind may only be used for incoming "
					    "connections (\"out\" was passed)");
			*dirs |= CR_PERM_DIR_OUT;
		} else {
			return fail(err, cap, "Invalid P2P permission: '%.*s'", qlen(n), p);
		}
	}
	if (!*dirs)
		*dirs = CR_PERM_DIR_IN; /* by default a whitelist is for inbound */
	else if (*flags == 0)
		return fail(err, cap, "Only direction was set, no permissions: '%.*s'", qlen(len), s);
	h->addr = at + 1;
	h->addr_len = len - plen - 1;
	return 0;
}

int cr_whitelist_parse(struct cr_whitelist *out, const char *s, size_t len, char *err,
		       size_t errcap)
{
	struct head h;
	memset(out, 0, sizeof *out);
	int rc = parse_flags(s, len, true, &h, err, errcap);
	if (rc)
		return rc;
	if (cr_subnet_parse(&out->subnet, h.addr, h.addr_len, 0) != 0) {
		memset(out, 0, sizeof *out);
		return fail(err, errcap, "Invalid netmask specified in -whitelist: '%.*s'",
			    qlen(h.addr_len), h.addr);
	}
	out->flags = h.flags;
	out->dirs = h.dirs;
	return 0;
}

int cr_whitebind_parse(struct cr_whitebind *out, const char *s, size_t len, char *err,
		       size_t errcap)
{
	struct head h;
	memset(out, 0, sizeof *out);
	int rc = parse_flags(s, len, false, &h, err, errcap);
	if (rc)
		return rc;
	const char *hp = h.addr;
	size_t hlen = h.addr_len;
	rc = cr_addrstr_parse(&out->addr, &out->port, hp, hlen, 0, 0);
	if (rc == CR_E_ADDR_PORT || (rc == 0 && out->port == 0)) {
		memset(out, 0, sizeof *out);
		return fail(err, errcap, "Need to specify a port with -whitebind: '%.*s'",
			    qlen(hlen), hp);
	}
	if (rc) {
		memset(out, 0, sizeof *out);
		return fail(err, errcap, "Cannot resolve -whitebind address: '%.*s'", qlen(hlen), hp);
	}
	out->flags = h.flags;
	return 0;
}

uint32_t cr_perm_resolve(uint32_t flags, bool whitelist_relay, bool whitelist_forcerelay)
{
	if (!(flags & CR_PERM_IMPLICIT))
		return flags;
	flags &= ~CR_PERM_IMPLICIT;
	if (whitelist_forcerelay)
		flags |= CR_PERM_FORCERELAY;
	if (whitelist_relay)
		flags |= CR_PERM_RELAY;
	return flags | CR_PERM_MEMPOOL | CR_PERM_NOBAN;
}

uint32_t cr_whitelist_match(uint32_t flags, const struct cr_whitelist *list, size_t n,
			    const struct cr_netaddr *a, unsigned dir, bool whitelist_relay,
			    bool whitelist_forcerelay)
{
	for (size_t i = 0; i < n; i++)
		if ((list[i].dirs & dir) && cr_subnet_contains(&list[i].subnet, a))
			flags |= list[i].flags;
	return cr_perm_resolve(flags, whitelist_relay, whitelist_forcerelay);
}

int cr_perm_format(char *out, size_t cap, uint32_t flags)
{
	/* ToStrings' order */
	static const struct {
		const char *name;
		uint32_t flags;
	} order[] = {
		{ "bloomfilter", CR_PERM_BLOOMFILTER }, { "noban", CR_PERM_NOBAN },
		{ "forcerelay", CR_PERM_FORCERELAY },   { "relay", CR_PERM_RELAY },
		{ "mempool", CR_PERM_MEMPOOL },         { "download", CR_PERM_DOWNLOAD },
		{ "addr", CR_PERM_ADDR },
	};
	size_t n = 0;
	if (cap)
		out[0] = 0;
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		if (!cr_perm_has(flags, order[i].flags))
			continue;
		size_t l = strlen(order[i].name) + (n ? 1 : 0);
		if (n + l + 1 > cap) {
			if (cap)
				out[0] = 0;
			return CR_E_OVERFLOW;
		}
		if (n)
			out[n++] = ',';
		memcpy(out + n, order[i].name, strlen(order[i].name) + 1);
		n += strlen(order[i].name);
	}
	return (int)n;
}
