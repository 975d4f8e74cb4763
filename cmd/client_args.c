/* bitcoin-cli's options, config file, credentials and parameter
 * conversion for connring-cli and connring-top; see client_args.h. Main
 * thread. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/client_args.h"
#include "cmd/datadir.h"

enum {
	O_DATADIR, O_CONF, O_CHAIN, O_RPCCONNECT, O_RPCPORT, O_RPCUSER, O_RPCPASSWORD,
	O_RPCCOOKIEFILE, O_TIMEOUT,
};

static const char *const names[] = {
	"datadir", "conf", "chain", "rpcconnect", "rpcport", "rpcuser", "rpcpassword",
	"rpccookiefile", "rpcclienttimeout",
};

void cr_client_opts_init(struct cr_client_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->chain = CR_CHAIN_MAIN;
	snprintf(o->rpcconnect, sizeof(o->rpcconnect), "127.0.0.1");
	o->timeout_s = 900;
	o->netinfo = -1;
	o->refresh_ms = 1000;
}

static int copy(char *dst, size_t cap, const char *v, const char *name, char *err, size_t err_len)
{
	if (!v || strlen(v) >= cap) {
		snprintf(err, err_len, "-%s: missing or too long value", name);
		return -1;
	}
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

/* Sets one shared option; 1 = taken, 0 = not ours, -1 = error. */
static int set_opt(struct cr_client_opts *o, const char *name, const char *v, bool cmdline,
		   char *err, size_t err_len)
{
	static const struct { const char *flag; enum cr_chain_id chain; } shorthand[] = {
		{"regtest", CR_CHAIN_REGTEST}, {"testnet", CR_CHAIN_TESTNET3},
		{"testnet4", CR_CHAIN_TESTNET4}, {"signet", CR_CHAIN_SIGNET},
	};
	for (size_t i = 0; i < sizeof(shorthand) / sizeof(shorthand[0]); i++)
		if (strcmp(name, shorthand[i].flag) == 0) {
			if (!v || strcmp(v, "1") == 0) {
				name = "chain";
				v = cr_chain_get(shorthand[i].chain)->name;
			} else {
				return 1;
			}
		}
	int idx = -1;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0)
			idx = (int)i;
	if (idx < 0)
		return 0;
	if (!cmdline && (o->set >> idx & 1))
		return 1; /* the command line wins */
	if (cmdline)
		o->set |= 1u << idx;
	char *end;
	unsigned long n;
	switch (idx) {
	case O_DATADIR: return copy(o->datadir, sizeof(o->datadir), v, name, err, err_len) ? -1 : 1;
	case O_CONF: return copy(o->conf, sizeof(o->conf), v, name, err, err_len) ? -1 : 1;
	case O_RPCCONNECT: return copy(o->rpcconnect, sizeof(o->rpcconnect), v, name, err, err_len) ? -1 : 1;
	case O_RPCUSER: return copy(o->rpcuser, sizeof(o->rpcuser), v, name, err, err_len) ? -1 : 1;
	case O_RPCPASSWORD: return copy(o->rpcpassword, sizeof(o->rpcpassword), v, name, err, err_len) ? -1 : 1;
	case O_RPCCOOKIEFILE:
		return copy(o->rpccookiefile, sizeof(o->rpccookiefile), v, name, err, err_len) ? -1 : 1;
	case O_CHAIN: {
		const struct cr_chain *c = v ? cr_chain_by_name(v) : NULL;
		if (!c) {
			snprintf(err, err_len, "-chain: unknown chain %s", v ? v : "");
			return -1;
		}
		o->chain = c->id;
		return 1;
	}
	default:
		errno = 0;
		n = v ? strtoul(v, &end, 10) : 0;
		if (!v || !v[0] || *end || errno || n > (idx == O_RPCPORT ? 65535ul : 86400ul * 365) ||
		    (idx == O_RPCPORT && n == 0)) {
			snprintf(err, err_len, "-%s: bad number %s", name, v ? v : "");
			return -1;
		}
		if (idx == O_RPCPORT)
			o->rpcport = (unsigned)n;
		else
			o->timeout_s = (unsigned)n;
		return 1;
	}
}

int cr_client_opts_argv(struct cr_client_opts *o, int argc, char **argv,
			int (*extra)(struct cr_client_opts *o, const char *name, const char *value),
			char *err, size_t err_len)
{
	int i = 1;
	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		char name[64];
		const char *a = argv[i] + (argv[i][1] == '-' ? 2 : 1);
		const char *eq = strchr(a, '=');
		size_t nl = eq ? (size_t)(eq - a) : strlen(a);
		if (nl >= sizeof(name)) {
			snprintf(err, err_len, "unknown option %s", argv[i]);
			return -1;
		}
		memcpy(name, a, nl);
		name[nl] = '\0';
		const char *v = eq ? eq + 1 : NULL;
		int r = extra ? extra(o, name, v) : 0;
		if (r == 0)
			r = set_opt(o, name, v, true, err, err_len);
		if (r < 0) {
			if (!err[0])
				snprintf(err, err_len, "bad value for -%s", name);
			return -1;
		}
		if (r == 0) {
			snprintf(err, err_len, "unknown option -%s", name);
			return -1;
		}
	}
	return i;
}

static void trim(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = '\0';
	size_t k = strspn(s, " \t");
	memmove(s, s + k, strlen(s + k) + 1);
}

int cr_client_opts_conf(struct cr_client_opts *o, char *err, size_t err_len)
{
	char base[CR_CLIENT_PATH_MAX], path[CR_CLIENT_PATH_MAX];
	if (o->datadir[0])
		snprintf(base, sizeof(base), "%s", o->datadir);
	else if (cr_datadir_default(base, sizeof(base)) != 0)
		base[0] = '\0';
	bool must = o->conf[0] != '\0';
	if (cr_datadir_path(path, sizeof(path), base, must ? o->conf : "connring.conf") != 0) {
		snprintf(err, err_len, "-conf: path too long");
		return -1;
	}
	FILE *f = fopen(path, "r");
	if (!f) {
		if (!must && errno == ENOENT)
			return 0;
		snprintf(err, err_len, "cannot read config file %s: %s", path, strerror(errno));
		return -1;
	}
	/* Two passes so the chain set in the file picks its section. */
	char line[1024], section[32] = "";
	for (int pass = 0; pass < 2; pass++) {
		rewind(f);
		section[0] = '\0';
		unsigned no = 0;
		while (fgets(line, sizeof(line), f)) {
			no++;
			char *hash = strchr(line, '#');
			if (hash)
				*hash = '\0';
			trim(line);
			if (!line[0])
				continue;
			if (line[0] == '[') {
				snprintf(section, sizeof(section), "%.*s", (int)strcspn(line + 1, "]"), line + 1);
				continue;
			}
			char *eq = strchr(line, '=');
			char *v = eq ? eq + 1 : NULL;
			if (eq)
				*eq = '\0';
			trim(line);
			if (v)
				trim(v);
			bool is_chain = strcmp(line, "chain") == 0 || strcmp(line, "regtest") == 0 ||
					strcmp(line, "testnet") == 0 || strcmp(line, "testnet4") == 0 ||
					strcmp(line, "signet") == 0;
			if (pass == 0 ? !is_chain || section[0] : is_chain)
				continue;
			const char *want = cr_chain_get(o->chain)->name;
			if (section[0] && strcmp(section, want) != 0 &&
			    !(strcmp(section, "test") == 0 && o->chain == CR_CHAIN_TESTNET3))
				continue;
			/* Daemon-only options are no concern of the client. */
			if (set_opt(o, line, v, false, err, err_len) < 0) {
				char e2[256];
				snprintf(e2, sizeof(e2), "%s", err);
				snprintf(err, err_len, "line %u: %s", no, e2);
				fclose(f);
				return -1;
			}
		}
	}
	fclose(f);
	return 0;
}

int cr_client_connect(struct cr_client *c, const struct cr_client_opts *o, char *err,
		      size_t err_len)
{
	char user[CR_RPC_CRED_MAX], pass[CR_RPC_CRED_MAX];
	if (o->rpcpassword[0]) {
		snprintf(user, sizeof(user), "%s", o->rpcuser);
		snprintf(pass, sizeof(pass), "%s", o->rpcpassword);
	} else {
		char base[CR_CLIENT_PATH_MAX], net[CR_CLIENT_PATH_MAX], cookie[CR_CLIENT_PATH_MAX];
		if (o->datadir[0])
			snprintf(base, sizeof(base), "%s", o->datadir);
		else if (cr_datadir_default(base, sizeof(base)) != 0)
			base[0] = '\0';
		if (cr_datadir_net(net, sizeof(net), base, o->chain) != 0 ||
		    cr_datadir_path(cookie, sizeof(cookie), net, o->rpccookiefile[0] ? o->rpccookiefile : ".cookie") != 0 ||
		    cr_rpc_cookie_read(cookie, user, sizeof(user), pass, sizeof(pass)) != 0) {
			snprintf(err, err_len,
				 "Could not locate RPC credentials. No authentication cookie could be found, "
				 "and RPC password is not set. See -rpcpassword. Configuration file: (%s)",
				 o->conf[0] ? o->conf : "connring.conf");
			return -1;
		}
	}
	unsigned port = o->rpcport ? o->rpcport : cr_rpc_default_port(o->chain);
	/* -rpcconnect may carry its own port, as bitcoin-cli allows. */
	char host[128];
	snprintf(host, sizeof(host), "%s", o->rpcconnect);
	char *colon = strrchr(host, ':');
	if (colon && !strchr(host, '[') && strchr(host, ':') == colon) {
		*colon = '\0';
		if (!o->rpcport)
			port = (unsigned)strtoul(colon + 1, NULL, 10);
	} else if (host[0] == '[') {
		char *end = strchr(host, ']');
		if (end && end[1] == ':' && !o->rpcport)
			port = (unsigned)strtoul(end + 2, NULL, 10);
		if (end)
			*end = '\0';
		memmove(host, host + 1, strlen(host));
	}
	int r = cr_client_init(c, host, (uint16_t)port, user, pass, o->timeout_s);
	explicit_bzero(pass, sizeof(pass));
	if (r != 0)
		snprintf(err, err_len, "cannot set up the HTTP client");
	return r;
}

bool cr_client_convert(const char *method, int idx, const char *name)
{
	/* bitcoin-cli's vRPCConvertParams, for the methods connringd has. */
	static const struct { const char *method; int idx; const char *name; } table[] = {
		{"getnodeaddresses", 0, "count"}, {"addpeeraddress", 1, "port"},
		{"addpeeraddress", 2, "tried"}, {"setban", 2, "bantime"}, {"setban", 3, "absolute"},
		{"disconnectnode", 1, "nodeid"}, {"setnetworkactive", 0, "state"},
		{"logging", 0, "include"}, {"logging", 1, "exclude"},
	};
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcmp(table[i].method, method) == 0 &&
		    (name ? strcmp(table[i].name, name) == 0 : table[i].idx == idx))
			return true;
	return false;
}

static json_t *value_of(const char *method, int idx, const char *name, const char *text,
			char *err, size_t err_len)
{
	if (!cr_client_convert(method, idx, name))
		return json_string(text);
	json_error_t jerr;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &jerr);
	if (!v)
		snprintf(err, err_len, "Error parsing JSON: %s", text);
	return v;
}

json_t *cr_client_params(const char *method, int argc, char **argv, bool named, char *err,
			 size_t err_len)
{
	json_t *p = named ? json_object() : json_array();
	for (int i = 0; i < argc; i++) {
		const char *eq = named ? strchr(argv[i], '=') : NULL;
		json_t *v;
		if (named && eq) {
			char name[128];
			snprintf(name, sizeof(name), "%.*s", (int)(eq - argv[i]), argv[i]);
			v = value_of(method, -1, name, eq + 1, err, err_len);
			if (v)
				json_object_set_new(p, name, v);
		} else {
			/* bitcoin-cli -named: words without '=' are positional ("args") */
			v = value_of(method, i, NULL, argv[i], err, err_len);
			if (v && named) {
				json_t *args = json_object_get(p, "args");
				if (!args) {
					args = json_array();
					json_object_set_new(p, "args", args);
				}
				json_array_append_new(args, v);
			} else if (v) {
				json_array_append_new(p, v);
			}
		}
		if (!v) {
			json_decref(p);
			return NULL;
		}
	}
	return p;
}

char *cr_client_format_result(const json_t *result)
{
	if (json_is_null(result))
		return strdup("");
	if (json_is_string(result))
		return strdup(json_string_value(result));
	return json_dumps(result, JSON_INDENT(2) | JSON_ENCODE_ANY | JSON_REAL_PRECISION(16));
}
