/* Core's ban methods on the engine's ban list (cr_ban, cr_unban,
 * cr_clear_banned, cr_list_banned; the coordinator owns the list and
 * answers once a change is on disk): setban, listbanned, clearbanned, with
 * Core's arguments, result fields and errors (src/rpc/net.cpp). Run on RPC
 * connection threads, several at once: the engine serialises the calls. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <connring/connring.h>

#include "addr/addrstr.h"
#include "addr/banlist.h"
#include "addr/subnet.h"
#include "cmd/rpc.h"

#define MSG_BAD_SUBNET "Error: Invalid IP/Subnet"

/* Core: with a '/' the text is a subnet (LookupSubNet), else one address
 * (LookupHost without name lookup); either must be valid. */
static bool valid_target(const char *text)
{
	size_t len = strlen(text);
	if (strchr(text, '/')) {
		struct cr_subnet sn;
		return cr_subnet_parse(&sn, text, len, 0) == 0;
	}
	struct cr_netaddr a;
	return cr_addrstr_parse_host(&a, text, len, 0) == 0;
}

static json_t *engine_error(struct cr_rpc_call *c, int r)
{
	if (r == -EIO) /* the change holds in memory (Core only logs this) */
		return cr_rpc_fail(c, CR_RPC_DATABASE_ERROR, "Error: the ban list could not be saved");
	if (r == -ENOMEM || r == -ESHUTDOWN)
		return cr_rpc_engine_fail(c, r, CR_RPC_MSG_P2P_DISABLED);
	return cr_rpc_fail(c, CR_RPC_DATABASE_ERROR, "Error: %s", cr_strerror(r));
}

json_t *cr_rpc_m_setban(struct cr_rpc_call *c);
json_t *cr_rpc_m_setban(struct cr_rpc_call *c)
{
	const char *cmd = cr_rpc_str(c, 1, "");
	bool add = strcmp(cmd, "add") == 0;
	if (!add && strcmp(cmd, "remove") != 0)
		return cr_rpc_help_fail(c, "setban: bad command");
	const char *target = cr_rpc_str(c, 0, "");
	if (!valid_target(target))
		return cr_rpc_fail(c, CR_RPC_CLIENT_INVALID_IP_OR_SUBNET, MSG_BAD_SUBNET);
	struct cr_engine *e = cr_rpc_engine(c);
	int r;
	if (add) {
		int64_t bantime;
		if (!cr_rpc_int(c, 2, 0, INT64_MIN, INT64_MAX, &bantime))
			return NULL;
		bool absolute = cr_rpc_bool(c, 3, false);
		/* Core's BanMan::Ban: a relative time <= 0 means -bantime */
		if (!absolute && bantime < 0)
			bantime = 0;
		r = cr_ban(e, target, bantime, absolute);
		if (r == -EEXIST)
			return cr_rpc_fail(c, CR_RPC_CLIENT_NODE_ALREADY_ADDED, "Error: IP/Subnet already banned");
		if (r == -EINVAL) /* after "already banned", as Core */
			return cr_rpc_fail(c, CR_RPC_INVALID_PARAMETER, "Error: Absolute timestamp is in the past");
		if (r == -ENOSPC) /* Core's list has no bound; ours holds CR_BANLIST_MAX */
			return cr_rpc_fail(c, CR_RPC_DATABASE_ERROR, "Error: the ban list is full (%d entries)",
					   CR_BANLIST_MAX);
	} else {
		r = cr_unban(e, target);
		if (r == -ENOENT)
			return cr_rpc_fail(c, CR_RPC_CLIENT_INVALID_IP_OR_SUBNET,
					   "Error: Unban failed. Requested address/subnet was not previously manually banned.");
	}
	if (r == CR_E_BAD_ADDRESS)
		return cr_rpc_fail(c, CR_RPC_CLIENT_INVALID_IP_OR_SUBNET, MSG_BAD_SUBNET);
	if (r < 0)
		return engine_error(c, r);
	return json_null();
}

json_t *cr_rpc_m_listbanned(struct cr_rpc_call *c);
json_t *cr_rpc_m_listbanned(struct cr_rpc_call *c)
{
	struct cr_engine *e = cr_rpc_engine(c);
	struct cr_ban_info *b = NULL;
	int n = cr_list_banned(e, NULL, 0);
	size_t cap = 0;
	/* bans may come between the count and the copy: ask again, larger */
	for (int tries = 0; n >= 0 && tries < 4; tries++) {
		cap = (size_t)n + 16;
		free(b);
		b = malloc(cap * sizeof *b);
		if (!b)
			return cr_rpc_fail(c, CR_RPC_OUT_OF_MEMORY, "Out of memory");
		n = cr_list_banned(e, b, cap);
		if (n >= 0 && (size_t)n <= cap)
			break;
	}
	if (n < 0) {
		free(b);
		return engine_error(c, n);
	}
	if ((size_t)n > cap)
		n = (int)cap;
	int64_t now = (int64_t)time(NULL);
	json_t *a = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s,s:I,s:I,s:I,s:I}", "address", b[i].subnet, "ban_created",
						   (json_int_t)b[i].created, "banned_until",
						   (json_int_t)b[i].until, "ban_duration",
						   (json_int_t)(b[i].until - b[i].created), "time_remaining",
						   (json_int_t)(b[i].until - now)));
	free(b);
	return a;
}

json_t *cr_rpc_m_clearbanned(struct cr_rpc_call *c);
json_t *cr_rpc_m_clearbanned(struct cr_rpc_call *c)
{
	int r = cr_clear_banned(cr_rpc_engine(c));
	return r < 0 ? engine_error(c, r) : json_null();
}
