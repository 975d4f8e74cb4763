/* struct cr_config: defaults, setters and the engine's private copy; see
 * engine/config.h for how an option is added. A config is plain memory
 * owned by its caller: any thread, one at a time per config. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr/addrstr.h"
#include "engine/config.h"

static const struct cr_config defaults = {
#define CR_CONFIG_DEFAULT(type, name, def, check) .name = (def),
	CR_CONFIG_SCALARS(CR_CONFIG_DEFAULT)
#undef CR_CONFIG_DEFAULT
};

struct cr_config *cr_config_new(void)
{
	struct cr_config *c = malloc(sizeof *c);
	if (c)
		*c = defaults;
	return c;
}

static void list_clear(struct cr_strlist *l)
{
	for (unsigned i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void cr__config_clear(struct cr_config *c)
{
	list_clear(&c->bind);
	list_clear(&c->connect);
	list_clear(&c->addnode);
	list_clear(&c->seednode);
	list_clear(&c->dnsseed_name);
}

void cr_config_free(struct cr_config *c)
{
	if (!c)
		return;
	cr__config_clear(c);
	free(c);
}

#define CR_CONFIG_SETTER(type, name, def, check)              \
	int cr_config_set_##name(struct cr_config *c, type v) \
	{                                                     \
		if (!(check))                                 \
			return CR_E_CONFIG_RANGE;             \
		c->name = v;                                  \
		return 0;                                     \
	}
CR_CONFIG_SCALARS(CR_CONFIG_SETTER)
#undef CR_CONFIG_SETTER

int cr__config_list_add(struct cr_strlist *l, const char *s)
{
	char *copy = strdup(s);
	char **v = realloc(l->v, (l->n + 1) * sizeof *v);
	if (!copy || !v) {
		free(copy);
		if (v)
			l->v = v;
		return -ENOMEM;
	}
	v[l->n++] = copy;
	l->v = v;
	return 0;
}

static int list_copy(struct cr_strlist *dst, const struct cr_strlist *src)
{
	*dst = (struct cr_strlist){ 0 };
	for (unsigned i = 0; i < src->n; i++)
		if (cr__config_list_add(dst, src->v[i]) < 0)
			return -ENOMEM;
	return 0;
}

int cr__config_copy(struct cr_config *dst, const struct cr_config *src)
{
	*dst = *src;
	dst->bind = dst->connect = dst->addnode = (struct cr_strlist){ 0 };
	dst->seednode = dst->dnsseed_name = (struct cr_strlist){ 0 };
	if (list_copy(&dst->bind, &src->bind) < 0 || list_copy(&dst->connect, &src->connect) < 0 ||
	    list_copy(&dst->addnode, &src->addnode) < 0 ||
	    list_copy(&dst->seednode, &src->seednode) < 0 ||
	    list_copy(&dst->dnsseed_name, &src->dnsseed_name) < 0) {
		cr__config_clear(dst);
		return -ENOMEM;
	}
	return 0;
}

int cr_config_add_bind(struct cr_config *c, const char *addr)
{
	struct cr_netaddr na;
	uint16_t port;
	if (!addr || cr_addrstr_parse(&na, &port, addr, strlen(addr), 0, CR_ADDRSTR_PORT0) < 0 ||
	    (na.net != CR_NET_IPV4 && na.net != CR_NET_IPV6))
		return CR_E_BAD_ADDRESS;
	if (c->bind.n >= CR_BIND_MAX)
		return CR_E_CONFIG_FULL;
	return cr__config_list_add(&c->bind, addr);
}

/* host[:port] or [host][:port] with a host the engine or a proxy may take;
 * the host is parsed (numeric) or resolved (proxy) at cr_engine_start. */
int cr__config_hostport_ok(const char *s)
{
	size_t host_len, len = s ? strlen(s) : 0;
	uint16_t port;
	if (!s || len >= CR_HOSTPORT_MAX || cr_addrstr_split(&host_len, &port, s, len, 0, 0) < 0)
		return CR_E_BAD_ADDRESS;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
			return CR_E_BAD_ADDRESS;
	return 0;
}

int cr_config_add_connect(struct cr_config *c, const char *hostport)
{
	int ret = cr__config_hostport_ok(hostport);
	return ret ? ret : cr__config_list_add(&c->connect, hostport);
}

int cr_config_add_addnode(struct cr_config *c, const char *hostport)
{
	int ret = cr__config_hostport_ok(hostport);
	return ret ? ret : cr__config_list_add(&c->addnode, hostport);
}

int cr_config_set_proxy(struct cr_config *c, const char *hostport)
{
	if (!hostport || !*hostport) {
		c->proxy[0] = '\0';
		return 0;
	}
	struct cr_netaddr na;
	uint16_t port;
	if (cr_addrstr_parse(&na, &port, hostport, strlen(hostport), 1080, 0) < 0 ||
	    (na.net != CR_NET_IPV4 && na.net != CR_NET_IPV6) || strlen(hostport) >= sizeof c->proxy)
		return CR_E_BAD_ADDRESS;
	snprintf(c->proxy, sizeof c->proxy, "%s", hostport);
	return 0;
}

int cr_config_set_external_ip(struct cr_config *c, const char *hostport)
{
	if (!hostport || !*hostport) {
		c->external_ip[0] = '\0';
		return 0;
	}
	struct cr_netaddr na;
	uint16_t port;
	if (cr_addrstr_parse(&na, &port, hostport, strlen(hostport), 0, 0) < 0 ||
	    (na.net != CR_NET_IPV4 && na.net != CR_NET_IPV6) || strlen(hostport) >= sizeof c->external_ip)
		return CR_E_BAD_ADDRESS;
	snprintf(c->external_ip, sizeof c->external_ip, "%s", hostport);
	return 0;
}

int cr_config_set_user_agent(struct cr_config *c, const char *ua)
{
	if (ua && strlen(ua) > CR_UA_MAX)
		return CR_E_CONFIG_RANGE;
	snprintf(c->user_agent, sizeof c->user_agent, "%s", ua ? ua : "");
	return 0;
}

int cr_config_set_user(struct cr_config *c, void *user)
{
	c->user = user;
	return 0;
}

int cr_config_set_on_peer_ready(struct cr_config *c, cr_on_peer_ready_fn fn)
{
	c->on_peer_ready = fn;
	return 0;
}

int cr_config_set_on_message(struct cr_config *c, cr_on_message_fn fn)
{
	c->on_message = fn;
	return 0;
}

int cr_config_set_on_peer_closed(struct cr_config *c, cr_on_peer_closed_fn fn)
{
	c->on_peer_closed = fn;
	return 0;
}

int cr_config_set_on_log(struct cr_config *c, cr_on_log_fn fn)
{
	c->on_log = fn;
	return 0;
}
