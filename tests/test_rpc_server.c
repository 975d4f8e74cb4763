/* The RPC server over HTTP in one process: a real engine on loopback with a
 * second engine connected to it over V1 and V2, the real method tables,
 * libmicrohttpd serving, libcurl asking. Checks Core's HTTP statuses, error
 * codes and reply shapes, auth (cookie, user/password, -rpcauth with the
 * vector of Core's rpc_users.py), the body limit, keep-alive, and that a
 * client stalled half-way through a request is timed out while others are
 * served. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <curl/curl.h>

#include "check.h"
#include "engine_util.h"
#include "cmd/client_rpc.h"
#include "cmd/metrics.h"
#include "cmd/rpc.h"
#include "cmd/rpc_node.h"
#include "cmd/rpc_server.h"

static struct cr_engine *eng, *other;
static struct cr_rpc_server *srv;
static struct cr_rpc_auth auth;
static struct cr_rpc_node node;
static const struct cr_rpc_method *const tables[] = {cr_rpc_control_methods, cr_rpc_net_methods, NULL};
static struct cr_rpc_dispatch disp = {tables, &node};
static uint16_t port;
static char cookie[256];
static int stop_requests;

static void on_stop(void *u)
{
	(void)u;
	__atomic_add_fetch(&stop_requests, 1, __ATOMIC_SEQ_CST);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A raw POST; returns the HTTP status and the reply (malloc'd). */
static long post(const char *user, const char *pass, const char *body, char **reply)
{
	struct cr_client c;
	cr_client_init(&c, "127.0.0.1", port, user, pass, 20);
	long status = 0;
	size_t len;
	char err[256];
	*reply = NULL;
	if (cr_client_post(&c, body, strlen(body), &status, reply, &len, err, sizeof(err)) != CR_CLIENT_OK)
		fprintf(stderr, "post failed: %s\n", err);
	cr_client_clear(&c);
	return status;
}

static json_t *post_json(const char *body, long *status)
{
	char *reply;
	*status = post(auth.user, auth.password, body, &reply);
	json_error_t e;
	json_t *j = reply ? json_loads(reply, JSON_DECODE_ANY, &e) : NULL;
	free(reply);
	return j;
}

static int err_code(const json_t *rep)
{
	return (int)json_integer_value(json_object_get(json_object_get(rep, "error"), "code"));
}

static void test_auth(void)
{
	char *reply;
	CHECK_EQ(post("", "", "{\"method\":\"uptime\"}", &reply), 401);
	free(reply);
	double t0 = now_s();
	CHECK_EQ(post(auth.user, "wrong", "{\"method\":\"uptime\"}", &reply), 401);
	/* Core pauses 250 ms before answering bad credentials. */
	CHECK(now_s() - t0 >= 0.2);
	free(reply);
	CHECK_EQ(post(auth.user, auth.password, "{\"method\":\"uptime\",\"id\":1}", &reply), 200);
	free(reply);
	/* -rpcauth: Core's rpc_users.py vector. */
	CHECK_EQ(post("rt", "cA773lm788buwYe4g4WT+05pKyNruVKjQ25x3n0DQcM=", "{\"method\":\"uptime\"}", &reply), 200);
	free(reply);
	CHECK_EQ(post("rt", "cA773lm788buwYe4g4WT+05pKyNruVKjQ25x3n0DQcM", "{\"method\":\"uptime\"}", &reply), 401);
	free(reply);
	struct stat st;
	CHECK(stat(cookie, &st) == 0 && (st.st_mode & 0777) == 0600);
}

static void test_http(void)
{
	/* GET and other paths, through curl's custom request. */
	CURL *h = curl_easy_init();
	char url[64];
	long status = 0;
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/", port);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOBODY, 0L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, fwrite);
	FILE *null = fopen("/dev/null", "w");
	curl_easy_setopt(h, CURLOPT_WRITEDATA, null);
	CHECK(curl_easy_perform(h) == CURLE_OK);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	CHECK_EQ(status, 405);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/rest/x", port);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, "{}");
	CHECK(curl_easy_perform(h) == CURLE_OK);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	CHECK_EQ(status, 404);
	curl_easy_cleanup(h);
	fclose(null);
}

static void test_errors(void)
{
	long st;
	json_t *r = post_json("{\"method\":", &st);
	CHECK_EQ(st, 500);
	CHECK_EQ(err_code(r), CR_RPC_PARSE_ERROR);
	CHECK(json_is_null(json_object_get(r, "id")) && json_object_get(r, "result"));
	json_decref(r);
	r = post_json("17", &st);
	CHECK_EQ(st, 500);
	CHECK_EQ(err_code(r), CR_RPC_PARSE_ERROR);
	json_decref(r);
	r = post_json("{\"method\":\"nosuch\",\"id\":\"x\"}", &st);
	CHECK_EQ(st, 404);
	CHECK_EQ(err_code(r), CR_RPC_METHOD_NOT_FOUND);
	CHECK(strcmp(json_string_value(json_object_get(r, "id")), "x") == 0);
	json_decref(r);
	/* 2.0: errors come with HTTP 200 and no "result" */
	r = post_json("{\"jsonrpc\":\"2.0\",\"method\":\"nosuch\",\"id\":7}", &st);
	CHECK_EQ(st, 200);
	CHECK_EQ(err_code(r), CR_RPC_METHOD_NOT_FOUND);
	CHECK(!json_object_get(r, "result"));
	CHECK(strcmp(json_string_value(json_object_get(r, "jsonrpc")), "2.0") == 0);
	json_decref(r);
	r = post_json("{\"id\":1}", &st);
	CHECK_EQ(st, 400);
	CHECK_EQ(err_code(r), CR_RPC_INVALID_REQUEST);
	json_decref(r);
	r = post_json("{\"method\":\"getnodeaddresses\",\"params\":[\"five\"],\"id\":1}", &st);
	CHECK_EQ(st, 500);
	CHECK_EQ(err_code(r), CR_RPC_TYPE_ERROR);
	CHECK(strstr(json_string_value(json_object_get(json_object_get(r, "error"), "message")),
		     "Position 1 (count)"));
	json_decref(r);
	r = post_json("{\"method\":\"uptime\",\"params\":[1],\"id\":1}", &st);
	CHECK_EQ(err_code(r), CR_RPC_MISC_ERROR); /* too many: the help text */
	CHECK(strstr(json_string_value(json_object_get(json_object_get(r, "error"), "message")), "uptime"));
	json_decref(r);
	r = post_json("{\"method\":\"help\",\"params\":{\"bogus\":1},\"id\":1}", &st);
	CHECK_EQ(err_code(r), CR_RPC_INVALID_PARAMETER);
	json_decref(r);
	r = post_json("{\"method\":\"help\",\"params\":{\"command\":\"uptime\"},\"id\":1}", &st);
	CHECK_EQ(st, 200);
	CHECK(strncmp(json_string_value(json_object_get(r, "result")), "uptime", 6) == 0);
	json_decref(r);
	r = post_json("{\"method\":\"disconnectnode\",\"params\":[\"\",123456789012345],\"id\":1}", &st);
	CHECK_EQ(err_code(r), CR_RPC_CLIENT_NODE_NOT_CONNECTED);
	json_decref(r);
	r = post_json("{\"method\":\"disconnectnode\",\"params\":[\"1.2.3.4:5\",1],\"id\":1}", &st);
	CHECK_EQ(err_code(r), CR_RPC_INVALID_PARAMS);
	json_decref(r);
	r = post_json("{\"method\":\"listbanned\",\"id\":1}", &st);
	CHECK_EQ(st, 200);
	CHECK(json_is_array(json_object_get(r, "result")));
	json_decref(r);
	r = post_json("{\"method\":\"setban\",\"params\":[\"1.2.3.4/99\",\"add\"],\"id\":1}", &st);
	CHECK_EQ(err_code(r), CR_RPC_CLIENT_INVALID_IP_OR_SUBNET);
	json_decref(r);
}

static void test_batch(void)
{
	long st;
	json_t *r = post_json("[{\"method\":\"getconnectioncount\",\"id\":1},{\"method\":\"nosuch\",\"id\":2},"
			      "{\"jsonrpc\":\"2.0\",\"method\":\"uptime\"},7]", &st);
	CHECK_EQ(st, 200);
	CHECK_EQ(json_array_size(r), 3);
	CHECK(json_is_integer(json_object_get(json_array_get(r, 0), "result")));
	CHECK_EQ(err_code(json_array_get(r, 1)), CR_RPC_METHOD_NOT_FOUND);
	CHECK_EQ(err_code(json_array_get(r, 2)), CR_RPC_INVALID_REQUEST);
	json_decref(r);
	char *reply;
	CHECK_EQ(post(auth.user, auth.password, "[{\"jsonrpc\":\"2.0\",\"method\":\"uptime\"}]", &reply), 204);
	free(reply);
	r = post_json("[]", &st);
	CHECK_EQ(st, 200);
	CHECK(json_is_array(r) && json_array_size(r) == 0);
	json_decref(r);
	CHECK_EQ(post(auth.user, auth.password, "{\"jsonrpc\":\"2.0\",\"method\":\"uptime\"}", &reply), 204);
	free(reply);
}

static void test_oversized(void)
{
	size_t n = 128 * 1024; /* the test server's limit is 64 KiB */
	char *big = malloc(n + 1);
	memset(big, ' ', n);
	memcpy(big, "{\"method\":\"uptime\"}", 19);
	big[n] = '\0';
	char *reply;
	CHECK_EQ(post(auth.user, auth.password, big, &reply), 413);
	free(reply);
	free(big);
	CHECK_EQ(post(auth.user, auth.password, "{\"method\":\"uptime\"}", &reply), 200);
	free(reply);
}

/* A client sends half a request and stalls: others are served meanwhile,
 * and the server closes the stalled connection after its timeout (1 s). */
static void test_stalled(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	char head[512];
	int n = snprintf(head, sizeof(head), "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
					     "Content-Type: application/json\r\n\r\n{\"method\":");
	CHECK(write(fd, head, (size_t)n) == n);
	double t0 = now_s();
	char *reply;
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(post(auth.user, auth.password, "{\"method\":\"getconnectioncount\"}", &reply), 200);
		free(reply);
	}
	struct timeval tv = {.tv_sec = 10};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	char buf[4096];
	ssize_t got;
	/* Without credentials the server answers 401 at once; the stalled body
	 * then keeps the connection until the timeout closes it. */
	while ((got = read(fd, buf, sizeof(buf))) > 0)
		;
	CHECK(got == 0);
	CHECK(now_s() - t0 < 9);
	close(fd);
}

static void test_keepalive(void)
{
	struct cr_client c;
	cr_client_init(&c, "127.0.0.1", port, auth.user, auth.password, 10);
	json_t *res;
	int code;
	char msg[256];
	long conns = -1;
	for (int i = 0; i < 5; i++) {
		CHECK_EQ(cr_client_call(&c, "getconnectioncount", NULL, &res, &code, msg, sizeof(msg)), CR_CLIENT_OK);
		json_decref(res);
		if (i > 0)
			curl_easy_getinfo(c.curl, CURLINFO_NUM_CONNECTS, &conns);
	}
	CHECK_EQ(conns, 0); /* every call after the first reused the connection */
	cr_client_clear(&c);
}

/* The engine's bulk snapshot: the same peers as their ids, in full or
 * into a caller's shorter struct (the ABI rule). */
static void test_bulk_snapshot(void)
{
	uint64_t ids[8];
	size_t nid = cr_engine_peers(eng, ids, 8);
	struct cr_peer_info pi[8];
	long n = cr_engine_peer_infos(eng, pi, 8, sizeof(pi[0]));
	CHECK_EQ(n, (long)nid);
	for (long i = 0; i < n; i++) {
		bool found = false;
		for (size_t k = 0; k < nid; k++)
			found |= ids[k] == pi[i].id;
		CHECK(found && pi[i].handshaked);
	}
	CHECK_EQ(cr_engine_peer_infos(eng, pi, 1, sizeof(pi[0])), 1);
	size_t shorter = offsetof(struct cr_peer_info, user_agent);
	uint8_t raw[8 * sizeof(struct cr_peer_info)];
	CHECK_EQ(cr_engine_peer_infos(eng, (struct cr_peer_info *)raw, 8, shorter), (long)nid);
	struct cr_peer_info second;
	memcpy(&second, raw + shorter, shorter);
	CHECK(second.id == pi[1].id || second.id == pi[0].id);
}

static void test_methods(void)
{
	struct cr_client c;
	cr_client_init(&c, "127.0.0.1", port, auth.user, auth.password, 10);
	json_t *res;
	int code;
	char msg[4096];
	CHECK_EQ(cr_client_call(&c, "getpeerinfo", NULL, &res, &code, msg, sizeof(msg)), CR_CLIENT_OK);
	CHECK_EQ(json_array_size(res), 2);
	int v1 = 0, v2 = 0;
	size_t i;
	json_t *p;
	json_array_foreach(res, i, p) {
		static const char *const ints[] = {"id", "lastsend", "lastrecv", "bytessent", "bytesrecv",
						   "conntime", "timeoffset", "version", "startingheight"};
		for (size_t k = 0; k < sizeof(ints) / sizeof(ints[0]); k++)
			CHECK(json_is_integer(json_object_get(p, ints[k])));
		static const char *const strs[] = {"addr", "network", "services", "subver",
						   "connection_type", "transport_protocol_type", "session_id"};
		for (size_t k = 0; k < sizeof(strs) / sizeof(strs[0]); k++)
			CHECK(json_is_string(json_object_get(p, strs[k])));
		CHECK(json_is_array(json_object_get(p, "servicesnames")));
		CHECK(json_is_array(json_object_get(p, "permissions")));
		CHECK(json_is_boolean(json_object_get(p, "inbound")));
		CHECK(json_is_boolean(json_object_get(p, "relaytxes")));
		CHECK(json_is_object(json_object_get(p, "bytessent_per_msg")));
		CHECK(json_integer_value(json_object_get(json_object_get(p, "bytesrecv_per_msg"), "version")) > 0);
		const char *tp = json_string_value(json_object_get(p, "transport_protocol_type"));
		const char *sid = json_string_value(json_object_get(p, "session_id"));
		if (strcmp(tp, "v1") == 0) {
			v1++;
			CHECK(sid[0] == '\0');
		} else if (strcmp(tp, "v2") == 0) {
			v2++;
			CHECK(strlen(sid) == 64);
		}
		CHECK(strcmp(json_string_value(json_object_get(p, "network")), "not_publicly_routable") == 0);
	}
	CHECK_EQ(v1, 1);
	CHECK_EQ(v2, 1);
	json_decref(res);
	CHECK_EQ(cr_client_call(&c, "getpeertable", NULL, &res, &code, msg, sizeof(msg)), CR_CLIENT_OK);
	json_t *cols = json_object_get(res, "columns"), *rows = json_object_get(res, "rows");
	CHECK_EQ(json_array_size(rows), 2);
	CHECK_EQ(json_array_size(json_array_get(rows, 0)), json_array_size(cols));
	CHECK(strcmp(json_string_value(json_array_get(cols, 1)), "addr") == 0);
	CHECK(json_is_string(json_array_get(json_array_get(rows, 1), 1)));
	json_decref(res);
	CHECK_EQ(cr_client_call(&c, "getnettotals", NULL, &res, &code, msg, sizeof(msg)), CR_CLIENT_OK);
	CHECK(json_integer_value(json_object_get(res, "totalbytessent")) > 0);
	CHECK(json_is_object(json_object_get(res, "uploadtarget")));
	json_decref(res);
	CHECK_EQ(cr_client_call(&c, "getnetworkinfo", NULL, &res, &code, msg, sizeof(msg)), CR_CLIENT_OK);
	CHECK_EQ(json_integer_value(json_object_get(res, "connections")), 2);
	CHECK_EQ(json_array_size(json_object_get(res, "networks")), 5);
	json_decref(res);
	CHECK_EQ(cr_client_call(&c, "help", NULL, &res, &code, msg, sizeof(msg)), CR_CLIENT_OK);
	CHECK(strstr(json_string_value(res), "== Network ==") && strstr(json_string_value(res), "getpeerinfo"));
	json_decref(res);
	CHECK_EQ(cr_client_call(&c, "stop", NULL, &res, &code, msg, sizeof(msg)), CR_CLIENT_OK);
	CHECK(WAIT_FOR(__atomic_load_n(&stop_requests, __ATOMIC_SEQ_CST) == 1, 5000)); /* after the reply */
	json_decref(res);
	cr_client_clear(&c);
}

static struct rec rec_a, rec_b;

static size_t to_buf(char *p, size_t sz, size_t n, void *u)
{
	FILE *f = u;
	return fwrite(p, sz, n, f);
}

/* /metrics over HTTP, checked by the real promtool. */
static void test_metrics(void)
{
	struct cr_metrics_server *ms;
	char err[256];
	CHECK(cr_metrics_start(&ms, "127.0.0.1", &node, err, sizeof(err)) != 0); /* no port */
	CHECK(cr_metrics_start(&ms, "127.0.0.1:0", &node, err, sizeof(err)) == 0);
	char url[64], path[] = "/tmp/cr-test-metrics-XXXXXX";
	int fd = mkstemp(path);
	FILE *out = fdopen(fd, "w");
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/metrics", cr_metrics_port(ms));
	CURL *h = curl_easy_init();
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, to_buf);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
	CHECK(curl_easy_perform(h) == CURLE_OK);
	long status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	CHECK_EQ(status, 200);
	curl_easy_cleanup(h);
	fclose(out);
	cr_metrics_stop(ms);
	FILE *in = fopen(path, "r");
	char text[1 << 16];
	size_t n = fread(text, 1, sizeof(text) - 1, in);
	fclose(in);
	text[n] = '\0';
	CHECK(strstr(text, "connring_peers{direction=\"inbound\"} 2"));
	CHECK(strstr(text, "connring_peers_by_transport{transport=\"v2\"} 1"));
	CHECK(strstr(text, "process_resident_memory_bytes"));
	if (access("/usr/bin/promtool", X_OK) == 0) {
		char cmd[256];
		snprintf(cmd, sizeof(cmd), "/usr/bin/promtool check metrics < %s", path);
		CHECK(system(cmd) == 0);
	} else {
		fprintf(stderr, "promtool missing (scripts/bootstrap installs prometheus): not checked\n");
		CHECK(0);
	}
	unlink(path);
}

static struct cr_engine *start_engine(struct rec *r, const char *name, bool listen)
{
	struct cr_config *cfg = test_config(r, name, listen ? TEST_BIND : NULL);
	struct cr_engine *e = NULL;
	int ret = cr_config_set_workers(cfg, 1);
	if (!ret)
		ret = cr_engine_new(&e, cfg);
	cr_config_free(cfg);
	if (ret != 0 || cr_engine_start(e) != 0)
		return NULL;
	return e;
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	char dir[] = "/tmp/cr-test-rpc-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	snprintf(cookie, sizeof(cookie), "%s/.cookie", dir);
	eng = start_engine(&rec_a, "a", true);
	other = start_engine(&rec_b, "b", false);
	CHECK(eng && other);
	if (!eng || !other)
		return 1;
	char target[64];
	snprintf(target, sizeof(target), "127.0.0.1:%u", cr_engine_port(eng));
	CHECK(cr_connect(other, target, CR_CONNECT_V1) == 0);
	CHECK(cr_connect(other, target, 0) == 0);
	CHECK(WAIT_FOR(rec_get(&rec_a, &rec_a.ready) == 2, 10000));
	node.e = eng;
	node.chain = CR_CHAIN_REGTEST;
	node.started = time(NULL);
	snprintf(node.subversion, sizeof(node.subversion), "/connring:%s/", CR_VERSION);
	node.protocol_version = 70016;
	node.request_stop = on_stop;
	CHECK(cr_rpc_cookie_write(&auth, cookie) == 0);
	char err[256];
	CHECK(cr_rpc_auth_add(&auth, "rt:93648e835a54c573682c2eb19f882535$"
				     "7681e9c5b74bdd85e78166031d2058e1069b3ed7ed967c93fc63abba06f31144",
			      err, sizeof(err)) == 0);
	CHECK(cr_rpc_auth_add(&auth, "bad", err, sizeof(err)) != 0);
	struct cr_rpc_server_opts o;
	cr_rpc_server_opts_default(&o);
	o.nbind = 1;
	snprintf(o.bind[0], sizeof(o.bind[0]), "127.0.0.1");
	o.port = 0;
	o.timeout_s = 1;
	o.max_body = 64 * 1024;
	o.auth = &auth;
	CHECK(cr_rpc_server_start(&srv, &o, &disp, err, sizeof(err)) == 0);
	port = cr_rpc_server_port(srv);
	CHECK(port != 0);
	RUN(test_auth);
	RUN(test_http);
	RUN(test_errors);
	RUN(test_batch);
	RUN(test_oversized);
	RUN(test_stalled);
	RUN(test_keepalive);
	RUN(test_metrics);
	RUN(test_bulk_snapshot);
	RUN(test_methods);
	cr_rpc_server_stop(srv);
	cr_rpc_cookie_remove(&auth, cookie);
	struct stat st;
	CHECK(stat(cookie, &st) != 0);
	rmdir(dir);
	cr_engine_free(other);
	cr_engine_free(eng);
	return check_done();
}
