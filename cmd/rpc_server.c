/* The JSON-RPC HTTP server on libmicrohttpd; see rpc_server.h. The access
 * handler runs on libmicrohttpd's connection threads. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "cmd/rpc_server.h"

#define WWW_AUTH "Basic realm=\"jsonrpc\"" /* Core's WWW_AUTH_HEADER_DATA */

struct cr_rpc_server {
	struct cr_rpc_server_opts o;
	const struct cr_rpc_dispatch *d;
	unsigned ndaemons;
	struct MHD_Daemon *daemons[CR_RPC_BIND_MAX];
	uint16_t port;
	atomic_size_t body_bytes; /* bytes held by bodies being received, all connections */
	struct cr_subnet loop4, loop6;
};

/* One request being received. */
struct req {
	char *body;
	size_t len, cap;
	char user[CR_RPC_CRED_MAX];
	int refuse;                  /* HTTP status to answer at the end (0: dispatch) */
	void (*after_reply)(void *user);
	void *after_user;
};

static void logf_(const struct cr_rpc_server *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void logf_(const struct cr_rpc_server *s, const char *fmt, ...)
{
	if (!s->o.log)
		return;
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	s->o.log(s->o.log_user, line);
}

void cr_rpc_server_opts_default(struct cr_rpc_server_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->port = 8332;
	o->timeout_s = 30;
	o->max_clients = 64;
	o->max_body = CR_RPC_MAX_BODY;
	o->max_body_total = CR_RPC_MAX_BODY_TOTAL;
	o->auth_delay_ms = 250;
}

int cr_rpc_parse_bind(struct sockaddr_storage *ss, socklen_t *len, const char *text,
		      uint16_t default_port)
{
	char host[80];
	const char *port_s = NULL;
	memset(ss, 0, sizeof(*ss));
	if (text[0] == '[') {
		const char *end = strchr(text, ']');
		if (!end || (size_t)(end - text - 1) >= sizeof(host))
			return -EINVAL;
		memcpy(host, text + 1, (size_t)(end - text - 1));
		host[end - text - 1] = '\0';
		if (end[1] == ':')
			port_s = end + 2;
		else if (end[1])
			return -EINVAL;
	} else {
		const char *colon = strchr(text, ':');
		bool one_colon = colon && !strchr(colon + 1, ':');
		size_t hl = one_colon ? (size_t)(colon - text) : strlen(text);
		if (hl >= sizeof(host))
			return -EINVAL;
		memcpy(host, text, hl);
		host[hl] = '\0';
		if (one_colon)
			port_s = colon + 1;
	}
	unsigned long port = default_port;
	if (port_s) {
		char *end;
		errno = 0;
		port = strtoul(port_s, &end, 10);
		if (!port_s[0] || *end || errno || port > 65535)
			return -EINVAL;
	}
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		*len = sizeof(*v4);
	} else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*v6);
	} else {
		return -EINVAL;
	}
	return 0;
}

int cr_rpc_listen(const struct sockaddr_storage *ss, socklen_t len)
{
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)ss, len) != 0 || listen(fd, 128) != 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

uint16_t cr_rpc_sock_port(int fd)
{
	struct sockaddr_storage got;
	socklen_t gl = sizeof(got);
	if (getsockname(fd, (struct sockaddr *)&got, &gl) != 0)
		return 0;
	return ntohs(got.ss_family == AF_INET ? ((struct sockaddr_in *)&got)->sin_port
					      : ((struct sockaddr_in6 *)&got)->sin6_port);
}

/* ---- per-request checks ---- */

static bool client_allowed(const struct cr_rpc_server *s, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (!ci || !ci->client_addr)
		return false;
	struct cr_netaddr a = {0};
	const struct sockaddr *sa = ci->client_addr;
	if (sa->sa_family == AF_INET) {
		a.net = CR_NET_IPV4;
		a.len = 4;
		memcpy(a.addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		a.net = CR_NET_IPV6;
		a.len = 16;
		memcpy(a.addr, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	} else {
		return false;
	}
	/* Core: loopback is always allowed, then -rpcallowip. */
	if (cr_subnet_contains(&s->loop4, &a) || cr_subnet_contains(&s->loop6, &a))
		return true;
	for (unsigned i = 0; i < s->o.nallow; i++)
		if (cr_subnet_contains(&s->o.allow[i], &a))
			return true;
	return false;
}

static enum MHD_Result send_reply(struct MHD_Connection *c, unsigned status, char *body,
				  size_t len, bool json, bool www_auth)
{
	struct MHD_Response *r = body ? MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE)
				      : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	if (json)
		MHD_add_response_header(r, "Content-Type", "application/json");
	if (www_auth)
		MHD_add_response_header(r, "WWW-Authenticate", WWW_AUTH);
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* A streamed reply: the reply object's text before the result, the
 * stream's pieces, the text after. */
struct streamed {
	struct cr_rpc_reply rep;
	size_t off;     /* into rep.body: before split, then after it */
	bool in_stream;
};

#define STREAM_BLOCK (64u << 10) /* libmicrohttpd's buffer for a streamed reply */

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct streamed *st = cls;
	(void)pos;
	size_t n = 0;
	while (n < max) {
		if (st->off < st->rep.split) {
			size_t k = st->rep.split - st->off < max - n ? st->rep.split - st->off : max - n;
			memcpy(buf + n, st->rep.body + st->off, k);
			st->off += k;
			n += k;
			st->in_stream = st->off == st->rep.split;
		} else if (st->in_stream) {
			long k = st->rep.stream->next(st->rep.stream, buf + n, max - n);
			if (k < 0)
				return MHD_CONTENT_READER_END_WITH_ERROR;
			if (k == 0)
				st->in_stream = false;
			n += (size_t)k;
		} else if (st->off < st->rep.len) {
			size_t k = st->rep.len - st->off < max - n ? st->rep.len - st->off : max - n;
			memcpy(buf + n, st->rep.body + st->off, k);
			st->off += k;
			n += k;
		} else {
			break;
		}
	}
	return n ? (ssize_t)n : MHD_CONTENT_READER_END_OF_STREAM;
}

static void stream_free(void *cls)
{
	struct streamed *st = cls;
	st->rep.stream->free(st->rep.stream);
	free(st->rep.body);
	free(st);
}

/* Queues a streamed reply (status 200, chunked: its length is not known
 * before it is written). Takes rep's body and stream. */
static enum MHD_Result send_streamed(struct MHD_Connection *c, const struct cr_rpc_reply *rep)
{
	struct streamed *st = calloc(1, sizeof(*st));
	if (!st) {
		rep->stream->free(rep->stream);
		free(rep->body);
		return MHD_NO;
	}
	st->rep = *rep;
	st->in_stream = rep->split == 0;
	struct MHD_Response *r =
		MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK, stream_read, st, stream_free);
	if (!r) {
		stream_free(st);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "application/json");
	enum MHD_Result ret = MHD_queue_response(c, rep->status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *text)
{
	char *b = strdup(text);
	return send_reply(c, status, b, b ? strlen(b) : 0, false, false);
}

static void pause_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Checks the Authorization header. 0 = ok (user filled), else the reply
 * was queued. */
static int check_auth(struct cr_rpc_server *s, struct MHD_Connection *c, char *user, size_t cap,
		      enum MHD_Result *ret)
{
	if (!MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION)) {
		*ret = send_reply(c, 401, NULL, 0, false, true);
		return -1;
	}
	char *pass = NULL;
	char *u = MHD_basic_auth_get_username_password(c, &pass);
	bool ok = u && pass && s->o.auth && cr_rpc_auth_check(s->o.auth, u, pass);
	if (ok)
		snprintf(user, cap, "%s", u);
	if (pass) {
		explicit_bzero(pass, strlen(pass));
		MHD_free(pass);
	}
	if (u)
		MHD_free(u);
	if (ok)
		return 0;
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char host[INET6_ADDRSTRLEN] = "?";
	if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, host, sizeof(host));
	else if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr, host, sizeof(host));
	logf_(s, "rpc: incorrect password attempt from %s", host);
	/* Core deters brute force with a pause; here it holds only this
	 * connection's thread, never another client. */
	pause_ms(s->o.auth_delay_ms);
	*ret = send_reply(c, 401, NULL, 0, false, true);
	return -1;
}

/* The first call for a request: everything that can be judged from the
 * request line and headers. Returns MHD_YES with *state set to go on
 * receiving the body, or the result of a queued refusal. */
static enum MHD_Result first_call(struct cr_rpc_server *s, struct MHD_Connection *c,
				  const char *url, const char *method, void **state)
{
	if (!client_allowed(s, c))
		return send_text(c, 403, "");
	if (strcmp(method, "POST") != 0)
		return send_text(c, 405, "JSONRPC server handles only POST requests");
	if (strcmp(url, "/") != 0 && strncmp(url, "/wallet/", 8) != 0)
		return send_text(c, 404, "");
	struct req *r = calloc(1, sizeof(*r));
	if (!r)
		return MHD_NO;
	enum MHD_Result ret;
	if (check_auth(s, c, r->user, sizeof(r->user), &ret) != 0) {
		free(r);
		return ret;
	}
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl && strtoull(cl, NULL, 10) > s->o.max_body) {
		free(r);
		return send_text(c, 413, "Request Entity Too Large");
	}
	*state = r;
	return MHD_YES;
}

/* Appends a chunk within the per-request and the total budgets. */
static int take_chunk(struct cr_rpc_server *s, struct req *r, const char *data, size_t n)
{
	if (r->len + n > s->o.max_body)
		return 413;
	if (r->len + n + 1 > r->cap) {
		size_t cap = r->cap ? r->cap : 4096;
		while (cap < r->len + n + 1)
			cap *= 2;
		if (cap > s->o.max_body + 1)
			cap = s->o.max_body + 1;
		size_t grow = cap - r->cap;
		if (atomic_fetch_add(&s->body_bytes, grow) + grow > s->o.max_body_total) {
			atomic_fetch_sub(&s->body_bytes, grow);
			return 503;
		}
		char *b = realloc(r->body, cap);
		if (!b) {
			atomic_fetch_sub(&s->body_bytes, grow);
			return 503;
		}
		r->body = b;
		r->cap = cap;
	}
	memcpy(r->body + r->len, data, n);
	r->len += n;
	return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **state)
{
	struct cr_rpc_server *s = cls;
	struct req *r = *state;
	(void)version;
	if (!r)
		return first_call(s, c, url, method, state);
	if (*upload_size) {
		if (!r->refuse)
			r->refuse = take_chunk(s, r, upload, *upload_size);
		*upload_size = 0;
		/* A body over a limit without a Content-Length (chunked): the
		 * reply cannot be queued mid-body in libmicrohttpd, so the
		 * connection is closed rather than reading on. */
		return r->refuse ? MHD_NO : MHD_YES;
	}
	if (r->refuse)
		return send_text(c, (unsigned)r->refuse, r->refuse == 413 ? "Request Entity Too Large"
									   : "Service Unavailable");
	struct cr_rpc_reply rep;
	cr_rpc_dispatch(s->d, r->user, r->body ? r->body : "", r->len, &rep);
	r->after_reply = rep.after_reply;
	r->after_user = rep.after_user;
	if (rep.stream)
		return send_streamed(c, &rep);
	return send_reply(c, rep.status, rep.body, rep.len, rep.body != NULL, false);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **state,
			 enum MHD_RequestTerminationCode why)
{
	struct cr_rpc_server *s = cls;
	struct req *r = *state;
	(void)c;
	(void)why;
	if (!r)
		return;
	/* the reply went out (or the client left): now "stop" may act */
	if (r->after_reply)
		r->after_reply(r->after_user);
	atomic_fetch_sub(&s->body_bytes, r->cap);
	free(r->body);
	free(r);
	*state = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct cr_rpc_server *s = cls;
	if (!s->o.log)
		return;
	char line[512] = "rpc: ";
	vsnprintf(line + 5, sizeof(line) - 5, fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	s->o.log(s->o.log_user, line);
}

static int start_one(struct cr_rpc_server *s, const char *text, char *err, size_t err_len)
{
	struct sockaddr_storage ss;
	socklen_t len;
	if (cr_rpc_parse_bind(&ss, &len, text, s->o.port) != 0) {
		snprintf(err, err_len, "-rpcbind=%s: not a numeric address", text);
		return -EINVAL;
	}
	int fd = cr_rpc_listen(&ss, len);
	if (fd < 0) {
		snprintf(err, err_len, "-rpcbind=%s: %s", text, strerror(-fd));
		return fd;
	}
	struct MHD_Daemon *dm = MHD_start_daemon(
		MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
			MHD_USE_ERROR_LOG,
		0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
		MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)s->o.timeout_s,
		MHD_OPTION_CONNECTION_LIMIT, s->o.max_clients ? s->o.max_clients : 1u,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_END);
	if (!dm) {
		close(fd);
		snprintf(err, err_len, "-rpcbind=%s: libmicrohttpd could not start", text);
		return -EIO;
	}
	if (s->ndaemons == 0)
		s->port = cr_rpc_sock_port(fd);
	s->daemons[s->ndaemons] = dm;
	s->ndaemons++;
	return 0;
}

int cr_rpc_server_start(struct cr_rpc_server **out, const struct cr_rpc_server_opts *o,
			const struct cr_rpc_dispatch *d, char *err, size_t err_len)
{
	*out = NULL;
	struct cr_rpc_server *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->o = *o;
	s->d = d;
	atomic_init(&s->body_bytes, 0);
	cr_subnet_parse(&s->loop4, "127.0.0.0/8", 11, 0);
	cr_subnet_parse(&s->loop6, "::1/128", 7, 0);
	unsigned n = o->nbind;
	static const char *const loopback[] = {"127.0.0.1", "::1"};
	int last = 0;
	char one_err[256] = "";
	for (unsigned i = 0; i < (n ? n : 2); i++) {
		const char *text = n ? o->bind[i] : loopback[i];
		/* With the default binds, a port taken by the first address must
		 * be the same on the second one: after a port-0 bind, use it. */
		if (!n && i == 1 && s->port)
			s->o.port = s->port;
		last = start_one(s, text, one_err, sizeof(one_err));
		if (last != 0)
			logf_(s, "rpc: warning: %s", one_err);
	}
	if (s->ndaemons == 0) {
		snprintf(err, err_len, "Unable to bind any endpoint for RPC server (%s)", one_err);
		free(s);
		return last ? last : -EINVAL;
	}
	*out = s;
	return 0;
}

uint16_t cr_rpc_server_port(const struct cr_rpc_server *s)
{
	return s ? s->port : 0;
}

void cr_rpc_server_stop(struct cr_rpc_server *s)
{
	if (!s)
		return;
	for (unsigned i = 0; i < s->ndaemons; i++) {
		/* libmicrohttpd closes a listen socket it was handed. */
		MHD_stop_daemon(s->daemons[i]);
	}
	free(s);
}
