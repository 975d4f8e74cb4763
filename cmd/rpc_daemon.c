/* connringd's control plane set-up; see rpc_daemon.h. Main thread. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/datadir.h"
#include "cmd/metrics.h"
#include "cmd/rpc_daemon.h"

struct cr_control {
	struct cr_rpc_auth auth;
	struct cr_rpc_server *rpc;
	struct cr_metrics_server *metrics;
	struct cr_rpc_dispatch dispatch;
	char cookie[CR_CONTROL_PATH_MAX];
	bool cookie_written;
};

static const struct cr_rpc_method *const tables[] = {cr_rpc_control_methods, cr_rpc_net_methods,
						     NULL};

static void say(void (*log)(void *, const char *), void *user, const char *line)
{
	if (log)
		log(user, line);
}

/* Core's HTTPBindAddresses: -rpcbind counts only with -rpcallowip. */
static int server_opts(struct cr_rpc_server_opts *so, const struct cr_control_opts *o,
		       const struct cr_rpc_node *node, void (*log)(void *, const char *), void *user,
		       char *err, size_t err_len)
{
	cr_rpc_server_opts_default(so);
	so->port = (uint16_t)(o->port ? o->port : cr_rpc_default_port(node->chain));
	if (o->timeout_s)
		so->timeout_s = o->timeout_s;
	for (unsigned i = 0; i < o->nallow; i++) {
		const char *a = o->allow[i];
		if (cr_subnet_parse(&so->allow[so->nallow], a, strlen(a), 0) != 0) {
			snprintf(err, err_len,
				 "Invalid -rpcallowip subnet specification: %s. Valid are a single IP (e.g. 1.2.3.4), "
				 "a network/netmask (e.g. 1.2.3.4/255.255.255.0) or a network/CIDR (e.g. 1.2.3.4/24).", a);
			return -EINVAL;
		}
		so->nallow++;
	}
	if (o->nallow && o->nbind) {
		so->nbind = o->nbind;
		memcpy(so->bind, o->bind, sizeof(so->bind));
	} else {
		if (o->nallow)
			say(log, user, "warning: option -rpcallowip was specified without -rpcbind; this doesn't usually make sense");
		if (o->nbind)
			say(log, user, "warning: option -rpcbind was ignored because -rpcallowip was not specified, "
				       "refusing to allow everyone to connect");
	}
	return 0;
}

static int setup_auth(struct cr_control *c, const struct cr_control_opts *o, char *err, size_t err_len)
{
	for (unsigned i = 0; i < o->nauth; i++)
		if (cr_rpc_auth_add(&c->auth, o->auth[i], err, err_len) != 0)
			return -EINVAL;
	if (o->password[0]) {
		snprintf(c->auth.user, sizeof(c->auth.user), "%s", o->user);
		snprintf(c->auth.password, sizeof(c->auth.password), "%s", o->password);
		return 0;
	}
	/* No password: the cookie, as bitcoind. */
	if (cr_datadir_path(c->cookie, sizeof(c->cookie), o->netdir, o->cookiefile[0] ? o->cookiefile : ".cookie") != 0) {
		snprintf(err, err_len, "-rpccookiefile: path too long");
		return -ENAMETOOLONG;
	}
	int r = cr_rpc_cookie_write(&c->auth, c->cookie);
	if (r != 0) {
		snprintf(err, err_len, "Unable to start HTTP server: cannot write the auth cookie %s: %s", c->cookie,
			 strerror(-r));
		return r;
	}
	c->cookie_written = true;
	return 0;
}

int cr_control_start(struct cr_control **out, const struct cr_control_opts *o,
		     struct cr_rpc_node *node, void (*log)(void *user, const char *line), void *log_user,
		     char *err, size_t err_len)
{
	*out = NULL;
	struct cr_control *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->dispatch.tables = tables;
	c->dispatch.node = node;
	int r = 0;
	if (o->server) {
		struct cr_rpc_server_opts so;
		r = server_opts(&so, o, node, log, log_user, err, err_len);
		if (!r)
			r = setup_auth(c, o, err, err_len);
		so.auth = &c->auth;
		so.log = log;
		so.log_user = log_user;
		if (!r)
			r = cr_rpc_server_start(&c->rpc, &so, &c->dispatch, err, err_len);
	}
	if (!r && o->metricsbind[0])
		r = cr_metrics_start(&c->metrics, o->metricsbind, node, err, err_len);
	if (r) {
		cr_control_stop(c);
		return r;
	}
	*out = c;
	return 0;
}

unsigned cr_control_rpc_port(const struct cr_control *c)
{
	return c ? cr_rpc_server_port(c->rpc) : 0;
}

unsigned cr_control_metrics_port(const struct cr_control *c)
{
	return c ? cr_metrics_port(c->metrics) : 0;
}

void cr_control_stop(struct cr_control *c)
{
	if (!c)
		return;
	cr_metrics_stop(c->metrics);
	cr_rpc_server_stop(c->rpc);
	if (c->cookie_written)
		cr_rpc_cookie_remove(&c->auth, c->cookie);
	explicit_bzero(&c->auth, sizeof(c->auth));
	free(c);
}
