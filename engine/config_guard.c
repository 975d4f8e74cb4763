/* The inbound-defence part of struct cr_config: permission lists
 * (-whitelist, -whitebind), the ban list's file and the on_accept
 * callback. Their scalars (ban time, ban score, flood knobs, eviction
 * queue) are in CR_CONFIG_SCALARS. A config is plain memory owned by its
 * caller: any thread, one at a time per config. */
#include <string.h>

#include "engine/config.h"

int cr_config_add_whitelist(struct cr_config *c, const char *value)
{
	struct cr_whitelist wl;
	if (!value || cr_whitelist_parse(&wl, value, strlen(value), NULL, 0) < 0)
		return CR_E_BAD_ADDRESS;
	if (c->nwhitelist >= CR_WHITELIST_MAX)
		return CR_E_CONFIG_FULL;
	c->whitelist[c->nwhitelist++] = wl;
	return 0;
}

int cr_config_add_whitebind(struct cr_config *c, const char *value)
{
	struct cr_whitebind wb;
	if (!value || cr_whitebind_parse(&wb, value, strlen(value), NULL, 0) < 0 ||
	    (wb.addr.net != CR_NET_IPV4 && wb.addr.net != CR_NET_IPV6))
		return CR_E_BAD_ADDRESS;
	if (c->nwhitebind >= CR_WHITEBIND_MAX)
		return CR_E_CONFIG_FULL;
	c->whitebind[c->nwhitebind++] = wb;
	return 0;
}

int cr_config_set_banlist_path(struct cr_config *c, const char *path)
{
	size_t n = path ? strlen(path) : 0;
	if (n >= sizeof c->banlist_path)
		return CR_E_CONFIG_RANGE;
	memcpy(c->banlist_path, path ? path : "", n + 1);
	return 0;
}

int cr_config_set_on_accept(struct cr_config *c, cr_on_accept_fn fn)
{
	c->on_accept = fn;
	return 0;
}
