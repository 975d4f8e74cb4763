/* JSON-RPC as bitcoind speaks it: the method table, the call a method
 * sees, Core's error codes, and the dispatcher that turns one HTTP body into
 * one HTTP reply (rpc_jsonrpc.c).
 *
 * The dispatcher follows Core's httprpc.cpp and rpc/request.cpp: JSON-RPC
 * 1.0/1.1 ("legacy": result and error both present; a failed single call
 * gets HTTP 500, or 400 for -32600 and 404 for -32601) and 2.0 (only one of
 * result/error, HTTP 200 for errors, notifications answered with 204),
 * batches (always 200, notifications left out), positional and named
 * parameters (named ones mapped onto the method's argument names, unknown
 * names refused with -8), argument types checked before the method runs
 * (-3 "Wrong type passed"), a wrong argument count answered with the
 * method's help as Core does (-1).
 *
 * Threads: cr_rpc_dispatch runs on the HTTP server's connection threads,
 * several at once; methods must be safe for that (they reach the engine
 * through its public API only). JSON comes from jansson: nothing here
 * parses or writes JSON by hand. */
#ifndef CR_CMD_RPC_H
#define CR_CMD_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Core's codes (src/rpc/protocol.h). */
enum cr_rpc_code {
	CR_RPC_INVALID_REQUEST = -32600,
	CR_RPC_METHOD_NOT_FOUND = -32601,
	CR_RPC_INVALID_PARAMS = -32602,
	CR_RPC_INTERNAL_ERROR = -32603,
	CR_RPC_PARSE_ERROR = -32700,
	CR_RPC_MISC_ERROR = -1,
	CR_RPC_TYPE_ERROR = -3,
	CR_RPC_INVALID_ADDRESS_OR_KEY = -5,
	CR_RPC_OUT_OF_MEMORY = -7,
	CR_RPC_INVALID_PARAMETER = -8,
	CR_RPC_DATABASE_ERROR = -20,
	CR_RPC_IN_WARMUP = -28,
	CR_RPC_CLIENT_NOT_CONNECTED = -9,
	CR_RPC_CLIENT_NODE_ALREADY_ADDED = -23,
	CR_RPC_CLIENT_NODE_NOT_ADDED = -24,
	CR_RPC_CLIENT_NODE_NOT_CONNECTED = -29,
	CR_RPC_CLIENT_INVALID_IP_OR_SUBNET = -30,
	CR_RPC_CLIENT_P2P_DISABLED = -31,
	CR_RPC_CLIENT_NODE_CAPACITY_REACHED = -34,
};

/* Core's texts for a feature that is not there (EnsureConnman,
 * EnsureBanman, addpeeraddress without an address manager). */
#define CR_RPC_MSG_P2P_DISABLED "Error: Peer-to-peer functionality missing or disabled"
#define CR_RPC_MSG_NO_BANMAN "Error: Ban database not loaded"
#define CR_RPC_MSG_NO_ADDRMAN "Error: Address manager functionality missing or disabled"

#define CR_RPC_ARGS_MAX 6
#define CR_RPC_ERR_MAX 512

/* Argument types, as Core's RPCArg::Type. */
enum cr_rpc_type {
	CR_RPC_T_STR = 1,
	CR_RPC_T_NUM,
	CR_RPC_T_BOOL,
	CR_RPC_T_OBJ,
	CR_RPC_T_ARR,
	CR_RPC_T_STR_OR_NUM, /* Core's "amount"-like: accepts either */
};

struct cr_rpc_arg {
	const char *name;   /* NULL ends the list */
	enum cr_rpc_type type;
	bool required;
	const char *help;   /* one line; a default is said here */
};

struct cr_rpc_call;

/* The flags every reply is dumped with (jansson's compact form, in
 * insertion order, reals with 16 significant digits). */
#define CR_RPC_DUMP_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(16))

/* A result written piece by piece while the reply goes out, for results
 * too large to build as one tree (getpeerinfo with tens of thousands of
 * peers). next writes up to cap bytes of the result's JSON text into buf
 * and returns how many (0: the result is complete; -1: failed, the
 * connection is closed as the reply cannot be finished). free releases
 * it, finished or not. Both run on the connection's own thread, never
 * while holding anything of the engine's, so a slow client holds only its
 * own memory and thread. */
struct cr_rpc_stream {
	long (*next)(struct cr_rpc_stream *s, char *buf, size_t cap);
	void (*free)(struct cr_rpc_stream *s);
};

struct cr_rpc_method {
	const char *name;     /* NULL ends a table */
	const char *category; /* "network", "control", "connring" */
	const char *summary;  /* the help text's description */
	struct cr_rpc_arg args[CR_RPC_ARGS_MAX + 1];
	const char *result;   /* the help text's "Result:" part */
	/* Returns the result (a new reference; json_null() for none) or NULL
	 * after cr_rpc_fail. */
	json_t *(*fn)(struct cr_rpc_call *c);
};

/* One call as a method sees it. */
struct cr_rpc_call {
	const struct cr_rpc_method *m;
	json_t *args[CR_RPC_ARGS_MAX]; /* by position; NULL = not given (or null) */
	void *node;                    /* the dispatcher's node context */
	const char *user;              /* authenticated user name */
	const struct cr_rpc_dispatch *d;
	/* Run once the reply has reached the client ("stop": the caller must
	 * get its answer before the server goes away). */
	void (*after_reply)(void *user);
	void *after_user;
	/* The dispatcher sets can_stream for a call whose reply is that call's
	 * alone (not in a batch, not a notification); the method may then set
	 * stream and return json_null() instead of building its result. */
	bool can_stream;
	struct cr_rpc_stream *stream;
	int err_code;
	char err_msg[CR_RPC_ERR_MAX];
};

/* Sets the call's error; returns NULL so a method can `return cr_rpc_fail(...)`. */
json_t *cr_rpc_fail(struct cr_rpc_call *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Argument helpers (the type was checked before the method ran). */
static inline bool cr_rpc_has(const struct cr_rpc_call *c, unsigned i)
{
	return i < CR_RPC_ARGS_MAX && c->args[i] != NULL;
}
const char *cr_rpc_str(const struct cr_rpc_call *c, unsigned i, const char *dflt);
/* An integer argument; a non-integral number or one outside [min, max] sets
 * -8 (Core: "JSON integer out of range") and returns false. */
bool cr_rpc_int(struct cr_rpc_call *c, unsigned i, int64_t dflt, int64_t min, int64_t max,
		int64_t *out);
bool cr_rpc_bool(const struct cr_rpc_call *c, unsigned i, bool dflt);

/* The method tables (each ends with a NULL name), a node context handed to
 * every call, and the hook the "stop" method calls. */
struct cr_rpc_dispatch {
	const struct cr_rpc_method *const *tables;
	void *node;
};

/* Finds a method by name, or NULL. */
const struct cr_rpc_method *cr_rpc_find(const struct cr_rpc_dispatch *d, const char *name);

/* Writes a method's help text (Core's layout: usage line, description,
 * Arguments:, Result:) into a malloc'd string. */
char *cr_rpc_help_text(const struct cr_rpc_method *m);
/* Core's answer to a bad command or argument count: the method's help
 * text as a plain runtime_error (-1); fallback when that text cannot be
 * made. Returns NULL. */
json_t *cr_rpc_help_fail(struct cr_rpc_call *c, const char *fallback);

/* The node's methods (rpc_net.c, rpc_bans.c, rpc_addrman.c): the engine
 * of the call's node (struct cr_rpc_node), and an engine call's failure r
 * as Core answers: -ENOMEM out of memory, anything else (the engine
 * stopping) as a node without the component, with msg
 * (CR_RPC_MSG_P2P_DISABLED or CR_RPC_MSG_NO_ADDRMAN). Returns NULL. */
struct cr_engine *cr_rpc_engine(struct cr_rpc_call *c);
json_t *cr_rpc_engine_fail(struct cr_rpc_call *c, int r, const char *msg);

/* One HTTP request body in, one HTTP reply out. body is malloc'd (NULL
 * with len 0 for 204); status is the HTTP status. With stream set, the
 * reply is body[0, split), then the stream's text, then body[split, len):
 * the reply object dumped around its result. */
struct cr_rpc_reply {
	unsigned status;
	char *body;
	size_t len;
	struct cr_rpc_stream *stream;
	size_t split;
	void (*after_reply)(void *user); /* from a call that asked for it, or NULL */
	void *after_user;
};
void cr_rpc_dispatch(const struct cr_rpc_dispatch *d, const char *user, const char *body,
		     size_t len, struct cr_rpc_reply *out);

/* Core's SanitizeString (SAFE_CHARS_DEFAULT): keeps letters, digits and
 * " .,;-_/:?@()", drops every other byte, so a peer's user agent can never
 * carry quotes, control bytes or invalid UTF-8 into a reply. out has room
 * for in_len + 1 bytes. */
void cr_rpc_sanitize(char *out, const char *in, size_t in_len);

/* The methods of each file. */
extern const struct cr_rpc_method cr_rpc_control_methods[];
extern const struct cr_rpc_method cr_rpc_net_methods[];

#endif
