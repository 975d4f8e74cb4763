/* The JSON-RPC dispatcher: request objects, batches, named parameters,
 * argument checks and Core's replies; see rpc.h. Runs on the HTTP server's
 * connection threads (several at once); holds no state of its own. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/rpc.h"

json_t *cr_rpc_fail(struct cr_rpc_call *c, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err_msg, sizeof(c->err_msg), fmt, ap);
	va_end(ap);
	c->err_code = code;
	return NULL;
}

const char *cr_rpc_str(const struct cr_rpc_call *c, unsigned i, const char *dflt)
{
	return cr_rpc_has(c, i) && json_is_string(c->args[i]) ? json_string_value(c->args[i]) : dflt;
}

bool cr_rpc_int(struct cr_rpc_call *c, unsigned i, int64_t dflt, int64_t min, int64_t max,
		int64_t *out)
{
	if (!cr_rpc_has(c, i)) {
		*out = dflt;
		return true;
	}
	json_t *v = c->args[i];
	/* Core's UniValue::getInt: a real or an integer beyond the type's range
	 * is "JSON integer out of range", a runtime error (code -1). */
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
		cr_rpc_fail(c, CR_RPC_MISC_ERROR, "JSON integer out of range");
		return false;
	}
	*out = json_integer_value(v);
	return true;
}

bool cr_rpc_bool(const struct cr_rpc_call *c, unsigned i, bool dflt)
{
	return cr_rpc_has(c, i) ? json_is_true(c->args[i]) : dflt;
}

const struct cr_rpc_method *cr_rpc_find(const struct cr_rpc_dispatch *d, const char *name)
{
	for (const struct cr_rpc_method *const *t = d->tables; *t; t++)
		for (const struct cr_rpc_method *m = *t; m->name; m++)
			if (strcmp(m->name, name) == 0)
				return m;
	return NULL;
}

void cr_rpc_sanitize(char *out, const char *in, size_t in_len)
{
	static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;-_/:?@()";
	size_t n = 0;
	for (size_t i = 0; i < in_len && in[i]; i++)
		if (strchr(safe, in[i]))
			out[n++] = in[i];
	out[n] = '\0';
}

/* ---- help ---- */

static const char *type_name(enum cr_rpc_type t)
{
	switch (t) {
	case CR_RPC_T_STR: return "string";
	case CR_RPC_T_NUM: return "numeric";
	case CR_RPC_T_BOOL: return "boolean";
	case CR_RPC_T_OBJ: return "json object";
	case CR_RPC_T_ARR: return "json array";
	default: return "string or numeric";
	}
}

static unsigned nargs_of(const struct cr_rpc_method *m)
{
	unsigned n = 0;
	while (n < CR_RPC_ARGS_MAX && m->args[n].name)
		n++;
	return n;
}

/* Core's usage line: strings quoted, optional arguments in one ( ... ). */
static void usage_line(char *out, size_t cap, const struct cr_rpc_method *m)
{
	size_t n = (size_t)snprintf(out, cap, "%s", m->name);
	bool open = false;
	for (unsigned i = 0; i < nargs_of(m) && n < cap; i++) {
		const struct cr_rpc_arg *a = &m->args[i];
		if (!a->required && !open) {
			n += (size_t)snprintf(out + n, cap - n, " (");
			open = true;
		}
		if (n < cap)
			n += (size_t)snprintf(out + n, cap - n, a->type == CR_RPC_T_STR ? " \"%s\"" : " %s",
					      a->name);
	}
	if (open && n < cap)
		snprintf(out + n, cap - n, " )");
}

char *cr_rpc_help_text(const struct cr_rpc_method *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	char usage[256];
	usage_line(usage, sizeof(usage), m);
	fprintf(f, "%s\n\n%s\n", usage, m->summary);
	unsigned n = nargs_of(m);
	if (n) {
		fprintf(f, "\nArguments:\n");
		for (unsigned i = 0; i < n; i++)
			fprintf(f, "%u. %-20s (%s, %s) %s\n", i + 1, m->args[i].name, type_name(m->args[i].type),
				m->args[i].required ? "required" : "optional", m->args[i].help);
	}
	fprintf(f, "\nResult:\n%s\n", m->result ? m->result : "null    (json null)");
	fprintf(f, "\nExamples:\n> connring-cli %s\n", m->name);
	fclose(f);
	return buf;
}

json_t *cr_rpc_help_fail(struct cr_rpc_call *c, const char *fallback)
{
	char *h = cr_rpc_help_text(c->m);
	cr_rpc_fail(c, CR_RPC_MISC_ERROR, "%s", h ? h : fallback);
	free(h);
	return NULL;
}

/* ---- one request object ---- */

enum version { V1_LEGACY, V2 };

struct parsed {
	json_t *id;          /* borrowed; NULL = absent */
	enum version ver;
	const char *method;
	json_t *params;      /* borrowed: array, object or NULL */
};

static json_t *error_obj(int code, const char *msg)
{
	return json_pack("{s:i,s:s}", "code", code, "message", msg);
}

/* Core's JSONRPCRequest::parse; returns 0 or fills *err (new reference). */
static int parse_request(json_t *req, struct parsed *p, json_t **err)
{
	memset(p, 0, sizeof(*p));
	if (!json_is_object(req)) {
		*err = error_obj(CR_RPC_INVALID_REQUEST, "Invalid Request object");
		return -1;
	}
	p->id = json_object_get(req, "id");
	json_t *v = json_object_get(req, "jsonrpc");
	if (v && !json_is_null(v)) {
		if (!json_is_string(v)) {
			*err = error_obj(CR_RPC_INVALID_REQUEST, "jsonrpc field must be a string");
			return -1;
		}
		if (strcmp(json_string_value(v), "2.0") == 0)
			p->ver = V2;
		else if (strcmp(json_string_value(v), "1.0") != 0) {
			*err = error_obj(CR_RPC_INVALID_REQUEST, "JSON-RPC version not supported");
			return -1;
		}
	}
	json_t *m = json_object_get(req, "method");
	if (!m || json_is_null(m)) {
		*err = error_obj(CR_RPC_INVALID_REQUEST, "Missing method");
		return -1;
	}
	if (!json_is_string(m)) {
		*err = error_obj(CR_RPC_INVALID_REQUEST, "Method must be a string");
		return -1;
	}
	p->method = json_string_value(m);
	json_t *params = json_object_get(req, "params");
	if (json_is_array(params) || json_is_object(params))
		p->params = params;
	else if (params && !json_is_null(params)) {
		*err = error_obj(CR_RPC_INVALID_REQUEST, "Params must be an array or object");
		return -1;
	}
	return 0;
}

/* Maps named parameters onto positions (Core's transformNamedArguments,
 * with its "args" key for leading positional ones). */
static int place_args(struct cr_rpc_call *c, json_t *params, unsigned *given)
{
	unsigned n = nargs_of(c->m);
	*given = 0;
	if (!params)
		return 0;
	if (json_is_array(params)) {
		size_t sz = json_array_size(params);
		if (sz > n)
			return 1; /* too many: help text */
		for (size_t i = 0; i < sz; i++) {
			json_t *v = json_array_get(params, i);
			c->args[i] = json_is_null(v) ? NULL : v;
		}
		*given = (unsigned)sz;
		return 0;
	}
	json_t *pos = json_object_get(params, "args");
	if (pos && json_is_array(pos)) {
		if (json_array_size(pos) > n)
			return 1;
		for (size_t i = 0; i < json_array_size(pos); i++) {
			json_t *v = json_array_get(pos, i);
			c->args[i] = json_is_null(v) ? NULL : v;
		}
		*given = (unsigned)json_array_size(pos);
	}
	const char *key;
	json_t *v;
	json_object_foreach(params, key, v) {
		if (pos && strcmp(key, "args") == 0)
			continue;
		unsigned i = 0;
		while (i < n && strcmp(c->m->args[i].name, key) != 0)
			i++;
		if (i == n) {
			cr_rpc_fail(c, CR_RPC_INVALID_PARAMETER, "Unknown named parameter %s", key);
			return -1;
		}
		if (i < *given) {
			cr_rpc_fail(c, CR_RPC_INVALID_PARAMETER,
				    "Parameter %s specified twice both as positional and named argument.", key);
			return -1;
		}
		c->args[i] = json_is_null(v) ? NULL : v;
		if (i + 1 > *given)
			*given = i + 1;
	}
	return 0;
}

static const char *json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "object";
	case JSON_ARRAY: return "array";
	case JSON_STRING: return "string";
	case JSON_INTEGER:
	case JSON_REAL: return "number";
	case JSON_TRUE:
	case JSON_FALSE: return "bool";
	default: return "null";
	}
}

static bool type_ok(enum cr_rpc_type t, const json_t *v)
{
	switch (t) {
	case CR_RPC_T_STR: return json_is_string(v);
	case CR_RPC_T_NUM: return json_is_number(v);
	case CR_RPC_T_BOOL: return json_is_boolean(v);
	case CR_RPC_T_OBJ: return json_is_object(v);
	case CR_RPC_T_ARR: return json_is_array(v);
	default: return json_is_string(v) || json_is_number(v);
	}
}

static const char *expected_name(enum cr_rpc_type t)
{
	switch (t) {
	case CR_RPC_T_STR: return "string";
	case CR_RPC_T_NUM: return "number";
	case CR_RPC_T_BOOL: return "bool";
	case CR_RPC_T_OBJ: return "object";
	case CR_RPC_T_ARR: return "array";
	default: return "string or number";
	}
}

/* Core's RPCHelpMan::HandleRequest checks, then the method. Returns the
 * result or NULL with c->err_* set. */
static json_t *run_method(struct cr_rpc_call *c, json_t *params)
{
	unsigned given;
	int r = place_args(c, params, &given);
	if (r < 0)
		return NULL;
	unsigned n = nargs_of(c->m), required = 0;
	for (unsigned i = 0; i < n; i++)
		if (c->m->args[i].required && !c->args[i])
			required++;
	if (r > 0 || required)
		return cr_rpc_help_fail(c, "wrong number of arguments");
	json_t *mismatch = json_object();
	for (unsigned i = 0; i < n; i++) {
		if (!c->args[i] || type_ok(c->m->args[i].type, c->args[i]))
			continue;
		char key[96], val[128];
		snprintf(key, sizeof(key), "Position %u (%s)", i + 1, c->m->args[i].name);
		snprintf(val, sizeof(val), "JSON value of type %s is not of expected type %s",
			 json_type_name(c->args[i]), expected_name(c->m->args[i].type));
		json_object_set_new(mismatch, key, json_string(val));
	}
	if (json_object_size(mismatch)) {
		char *text = json_dumps(mismatch, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
		cr_rpc_fail(c, CR_RPC_TYPE_ERROR, "Wrong type passed:\n%s", text ? text : "");
		free(text);
		json_decref(mismatch);
		return NULL;
	}
	json_decref(mismatch);
	return c->m->fn(c);
}

/* Core's JSONRPCReplyObj. Steals result and error. */
static json_t *reply_obj(json_t *result, json_t *error, json_t *id, enum version ver)
{
	json_t *o = json_object();
	if (ver == V2)
		json_object_set_new(o, "jsonrpc", json_string("2.0"));
	if (ver == V1_LEGACY) {
		json_object_set_new(o, "result", result ? result : json_null());
		json_object_set_new(o, "error", error ? error : json_null());
	} else if (error) {
		json_object_set_new(o, "error", error);
		json_decref(result);
	} else {
		json_object_set_new(o, "result", result ? result : json_null());
	}
	json_object_set(o, "id", id ? id : json_null());
	return o;
}

/* Parses and runs one request object. Returns the reply object, or NULL
 * for a notification; *err_code gets the error code (0 on success). */
static json_t *exec_one(const struct cr_rpc_dispatch *d, const char *user, json_t *req,
			struct parsed *p, int *err_code, struct cr_rpc_reply *out, bool single)
{
	json_t *err = NULL;
	*err_code = 0;
	if (parse_request(req, p, &err) < 0) {
		*err_code = (int)json_integer_value(json_object_get(err, "code"));
		return reply_obj(NULL, err, p->id, p->ver);
	}
	bool notification = !p->id && p->ver == V2;
	struct cr_rpc_call *c = calloc(1, sizeof(*c));
	json_t *result = NULL;
	if (!c) {
		err = error_obj(CR_RPC_OUT_OF_MEMORY, "Out of memory");
	} else {
		c->node = d->node;
		c->user = user;
		c->d = d;
		c->can_stream = single && !notification;
		c->m = cr_rpc_find(d, p->method);
		if (!c->m)
			cr_rpc_fail(c, CR_RPC_METHOD_NOT_FOUND, "Method not found");
		else
			result = run_method(c, p->params);
		if (!result)
			err = error_obj(c->err_code ? c->err_code : CR_RPC_INTERNAL_ERROR,
					c->err_code ? c->err_msg : "Internal error");
		if (c->stream && result) {
			out->stream = c->stream;
		} else if (c->stream) {
			c->stream->free(c->stream);
		}
		if (c->after_reply) {
			out->after_reply = c->after_reply;
			out->after_user = c->after_user;
		}
		free(c);
	}
	if (err)
		*err_code = (int)json_integer_value(json_object_get(err, "code"));
	if (notification) {
		json_decref(result);
		json_decref(err);
		return NULL;
	}
	return reply_obj(result, err, p->id, p->ver);
}

static void set_reply(struct cr_rpc_reply *out, unsigned status, json_t *body)
{
	/* after_reply was set (or not) by the calls before */
	out->status = status;
	out->body = NULL;
	out->len = 0;
	if (!body)
		return;
	/* Core ends every reply with a newline. */
	char *s = json_dumps(body, CR_RPC_DUMP_FLAGS);
	json_decref(body);
	if (!s) {
		out->status = 500;
		return;
	}
	size_t n = strlen(s);
	char *t = realloc(s, n + 2);
	if (!t) {
		free(s);
		out->status = 500;
		return;
	}
	t[n] = '\n';
	t[n + 1] = '\0';
	out->body = t;
	out->len = n + 1;
}

/* Core's JSONErrorReply: HTTP status from the code. */
static unsigned status_of(int code)
{
	if (code == CR_RPC_INVALID_REQUEST)
		return 400;
	if (code == CR_RPC_METHOD_NOT_FOUND)
		return 404;
	return 500;
}

/* A streamed result: the reply object was dumped with a null result; the
 * stream's text goes where that null is. The result is the first member
 * after the fixed "jsonrpc" one (id comes last), so the first
 * "result":null is it. Returns 0, or -1 with the stream dropped. */
static int split_for_stream(struct cr_rpc_reply *out)
{
	static const char key[] = "\"result\":null";
	char *at = out->body ? strstr(out->body, key) : NULL;
	if (!at) {
		out->stream->free(out->stream);
		out->stream = NULL;
		return -1;
	}
	size_t pos = (size_t)(at - out->body) + strlen("\"result\":");
	memmove(out->body + pos, out->body + pos + 4, out->len - pos - 4 + 1);
	out->len -= 4;
	out->split = pos;
	return 0;
}

void cr_rpc_dispatch(const struct cr_rpc_dispatch *d, const char *user, const char *body,
		     size_t len, struct cr_rpc_reply *out)
{
	json_error_t jerr;
	out->after_reply = NULL;
	out->after_user = NULL;
	out->stream = NULL;
	out->split = 0;
	json_t *req = json_loadb(body, len, JSON_DECODE_ANY, &jerr);
	struct parsed p = {0};
	int code;
	if (!req || (!json_is_object(req) && !json_is_array(req))) {
		json_decref(req);
		const char *msg = req ? "Top-level object parse error" : "Parse error";
		set_reply(out, 500, reply_obj(NULL, error_obj(CR_RPC_PARSE_ERROR, msg), NULL, V1_LEGACY));
		return;
	}
	if (json_is_object(req)) {
		json_t *r = exec_one(d, user, req, &p, &code, out, true);
		if (r && out->stream) {
			set_reply(out, 200, r);
			if (split_for_stream(out) != 0) {
				free(out->body);
				set_reply(out, 500, reply_obj(NULL, error_obj(CR_RPC_OUT_OF_MEMORY, "Out of memory"),
							      p.id, p.ver));
			}
		} else if (!r)
			set_reply(out, 204, NULL);
		else if (code && p.ver == V1_LEGACY)
			set_reply(out, status_of(code), r);
		else if (code && p.method == NULL) /* not even parsed: an HTTP error in 2.0 too */
			set_reply(out, status_of(code), r);
		else
			set_reply(out, 200, r);
		json_decref(req);
		return;
	}
	/* A batch: always 200 with the replies of the non-notifications. */
	json_t *replies = json_array();
	size_t i;
	json_t *one;
	json_array_foreach(req, i, one) {
		json_t *r = exec_one(d, user, one, &p, &code, out, false);
		if (r)
			json_array_append_new(replies, r);
	}
	if (json_array_size(replies) == 0 && json_array_size(req) > 0) {
		json_decref(replies);
		set_reply(out, 204, NULL);
	} else {
		set_reply(out, 200, replies);
	}
	json_decref(req);
}
