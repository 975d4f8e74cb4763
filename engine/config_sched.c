/* The automatic-connections part of struct cr_config: the files of the
 * address manager, anchors and asmap, -seednode, the test-only DNS seed
 * names and DNS server. Their scalars (auto_connect, dnsseed, fixedseeds,
 * onlynet, the intervals) are in CR_CONFIG_SCALARS. A config is plain
 * memory owned by its caller: any thread, one at a time per config. */
#include <string.h>

#include "addr/addrstr.h"
#include "addr/seeds.h"
#include "engine/config.h"

static int path_set(char *dst, size_t cap, const char *path)
{
	size_t n = path ? strlen(path) : 0;
	if (n >= cap)
		return CR_E_CONFIG_RANGE;
	memcpy(dst, path ? path : "", n + 1);
	return 0;
}

int cr_config_set_peers_path(struct cr_config *c, const char *path)
{
	return path_set(c->peers_path, sizeof c->peers_path, path);
}

int cr_config_set_anchors_path(struct cr_config *c, const char *path)
{
	return path_set(c->anchors_path, sizeof c->anchors_path, path);
}

int cr_config_set_asmap_path(struct cr_config *c, const char *path)
{
	return path_set(c->asmap_path, sizeof c->asmap_path, path);
}

int cr_config_add_seednode(struct cr_config *c, const char *hostport)
{
	int ret = cr__config_hostport_ok(hostport);
	return ret ? ret : cr__config_list_add(&c->seednode, hostport);
}

/* A DNS name: letters, digits, '-', '.'; at most 253 characters. */
int cr_config_add_dnsseed_name(struct cr_config *c, const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (!n || n > 253)
		return CR_E_BAD_ADDRESS;
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '-' || ch == '.'))
			return CR_E_BAD_ADDRESS;
	}
	if (c->dnsseed_name.n >= CR_SEEDS_DNS_MAX)
		return CR_E_CONFIG_FULL;
	return cr__config_list_add(&c->dnsseed_name, name);
}

int cr_config_set_dns_server(struct cr_config *c, const char *hostport)
{
	if (!hostport || !*hostport) {
		c->dns_server[0] = '\0';
		return 0;
	}
	struct cr_netaddr na;
	uint16_t port;
	if (strlen(hostport) >= sizeof c->dns_server ||
	    cr_addrstr_parse(&na, &port, hostport, strlen(hostport), 53, 0) < 0 ||
	    (na.net != CR_NET_IPV4 && na.net != CR_NET_IPV6))
		return CR_E_BAD_ADDRESS;
	memcpy(c->dns_server, hostport, strlen(hostport) + 1);
	return 0;
}
