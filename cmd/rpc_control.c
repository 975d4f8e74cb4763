/* Core's "control" methods: help, stop, uptime. Run on RPC connection
 * threads. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/rpc.h"
#include "cmd/rpc_node.h"

/* Every method's usage line grouped by category, as Core's help. */
static json_t *help_all(const struct cr_rpc_dispatch *d)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	static const char *const cats[] = {"control", "network", "connring"};
	bool first = true;
	for (size_t k = 0; k < sizeof(cats) / sizeof(cats[0]); k++) {
		bool header = false;
		for (const struct cr_rpc_method *const *t = d->tables; *t; t++)
			for (const struct cr_rpc_method *m = *t; m->name; m++) {
				if (strcmp(m->category, cats[k]) != 0)
					continue;
				if (!header) {
					fprintf(f, "%s== %c%s ==\n", first ? "" : "\n", toupper(cats[k][0]), cats[k] + 1);
					header = true;
					first = false;
				}
				char *h = cr_rpc_help_text(m);
				if (h) /* the usage line is the help text's first line */
					fprintf(f, "%.*s\n", (int)strcspn(h, "\n"), h);
				free(h);
			}
	}
	fclose(f);
	if (len && buf[len - 1] == '\n')
		buf[len - 1] = '\0';
	json_t *r = json_string(buf);
	free(buf);
	return r;
}

static json_t *m_help(struct cr_rpc_call *c)
{
	const char *name = cr_rpc_str(c, 0, NULL);
	if (!name)
		return help_all(c->d);
	const struct cr_rpc_method *m = cr_rpc_find(c->d, name);
	if (!m) {
		char msg[300];
		snprintf(msg, sizeof(msg), "help: unknown command: %s", name);
		return json_string(msg);
	}
	char *h = cr_rpc_help_text(m);
	if (!h)
		return cr_rpc_fail(c, CR_RPC_OUT_OF_MEMORY, "Out of memory");
	size_t n = strlen(h);
	if (n && h[n - 1] == '\n')
		h[n - 1] = '\0';
	json_t *r = json_string(h);
	free(h);
	return r;
}

static json_t *m_stop(struct cr_rpc_call *c)
{
	struct cr_rpc_node *n = c->node;
	/* Core answers first and shuts down after: the stop starts once this
	 * reply has been sent. */
	c->after_reply = n->request_stop;
	c->after_user = n->user;
	return json_string("connringd stopping");
}

static json_t *m_uptime(struct cr_rpc_call *c)
{
	struct cr_rpc_node *n = c->node;
	return json_integer((json_int_t)(time(NULL) - n->started));
}

/* Core's EnableOrDisableLogCategories over one list. */
static bool categories_of(struct cr_rpc_call *c, unsigned i, unsigned *mask)
{
	*mask = 0;
	if (!cr_rpc_has(c, i))
		return true;
	size_t k;
	json_t *v;
	json_array_foreach(c->args[i], k, v) {
		const char *name = json_string_value(v);
		unsigned bits = 0;
		if (name && (strcmp(name, "1") == 0 || strcmp(name, "all") == 0))
			bits = CR_LOG_ALL;
		else if (name && (strcmp(name, "0") == 0 || strcmp(name, "none") == 0))
			bits = 0;
		else if (!name || !(bits = cr_log_category_by_name(name))) {
			cr_rpc_fail(c, CR_RPC_INVALID_PARAMETER, "unknown logging category %s", name ? name : "?");
			return false;
		}
		*mask |= bits;
	}
	return true;
}

static json_t *m_logging(struct cr_rpc_call *c)
{
	struct cr_rpc_node *n = c->node;
	unsigned on, off;
	if (!categories_of(c, 0, &on) || !categories_of(c, 1, &off))
		return NULL;
	if (!n->log_categories)
		return cr_rpc_fail(c, CR_RPC_MISC_ERROR, "logging categories are not adjustable here");
	unsigned mask = n->log_categories(n->user, on, off);
	json_t *r = json_object();
	for (unsigned bit = 1; bit & CR_LOG_ALL; bit <<= 1)
		json_object_set_new(r, cr_log_category_str((enum cr_log_category)bit), json_boolean(mask & bit));
	return r;
}

const struct cr_rpc_method cr_rpc_control_methods[] = {
	{"logging", "control",
	 "Gets and sets the logging configuration.\nWhen called without an argument, returns the list of "
	 "categories with status that are currently being debug logged or not.\nWhen called with arguments, "
	 "adds or removes categories from debug logging and returns the lists above.\nThe valid logging "
	 "categories are: net, proxy, addrman, rpc (and \"all\"/\"1\" or \"none\"/\"0\").",
	 {{"include", CR_RPC_T_ARR, false, "The categories to add to debug logging"},
	  {"exclude", CR_RPC_T_ARR, false, "The categories to remove from debug logging"}},
	 "{\"category\": true|false, ...}    (json object) keys are the logging categories", m_logging},
	{"help", "control", "List all commands, or get help for a specified command.",
	 {{"command", CR_RPC_T_STR, false, "The command to get help on (default: all commands)"}},
	 "\"text\"    (string) The help text", m_help},
	{"stop", "control", "Request a graceful shutdown of connringd.", {{0}},
	 "\"str\"    (string) A string with the content 'connringd stopping'", m_stop},
	{"uptime", "control", "Returns the total uptime of the server.", {{0}},
	 "n    (numeric) The number of seconds that the server has been running", m_uptime},
	{0},
};
