/* JSON-RPC over HTTP with libcurl and jansson; see client_rpc.h. One
 * struct cr_client per thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cmd/client_rpc.h"

struct buf {
	char *p;
	size_t len, cap;
};

static size_t on_data(char *data, size_t size, size_t nmemb, void *user)
{
	struct buf *b = user;
	size_t n = size * nmemb;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16384;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p)
			return 0; /* curl aborts the transfer */
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

int cr_client_init(struct cr_client *c, const char *host, uint16_t port, const char *user,
		   const char *password, unsigned timeout_s)
{
	memset(c, 0, sizeof(*c));
	curl_global_init(CURL_GLOBAL_DEFAULT);
	c->curl = curl_easy_init();
	if (!c->curl)
		return -1;
	bool v6 = strchr(host, ':') != NULL;
	snprintf(c->url, sizeof(c->url), v6 ? "http://[%s]:%u/" : "http://%s:%u/", host, port);
	snprintf(c->userpwd, sizeof(c->userpwd), "%s:%s", user, password);
	c->timeout_s = timeout_s;
	return 0;
}

void cr_client_clear(struct cr_client *c)
{
	if (c->curl)
		curl_easy_cleanup(c->curl);
	explicit_bzero(c->userpwd, sizeof(c->userpwd));
	c->curl = NULL;
}

int cr_client_post(struct cr_client *c, const char *body, size_t len, long *status, char **reply,
		   size_t *reply_len, char *err, size_t err_len)
{
	CURL *h = c->curl;
	struct buf b = {0};
	struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
	/* No "Expect: 100-continue" round trip before larger bodies. */
	hdr = curl_slist_append(hdr, "Expect:");
	curl_easy_setopt(h, CURLOPT_URL, c->url);
	curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	curl_easy_setopt(h, CURLOPT_USERPWD, c->userpwd);
	curl_easy_setopt(h, CURLOPT_POST, 1L);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)c->timeout_s);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	CURLcode rc = curl_easy_perform(h);
	curl_slist_free_all(hdr);
	if (rc != CURLE_OK) {
		snprintf(err, err_len, "%s", curl_easy_strerror(rc));
		free(b.p);
		return CR_CLIENT_CONNECT;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	if (!b.p)
		b.p = calloc(1, 1);
	*reply = b.p;
	*reply_len = b.len;
	return CR_CLIENT_OK;
}

int cr_client_call(struct cr_client *c, const char *method, json_t *params, json_t **result,
		   int *code, char *msg, size_t msg_len)
{
	*result = NULL;
	*code = 0;
	msg[0] = '\0';
	json_t *p = params ? json_incref(params) : json_array();
	json_t *req = json_pack("{s:s,s:s,s:i,s:o}", "jsonrpc", "1.0", "method", method, "id", ++c->id,
				"params", p);
	char *body = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (!body) {
		snprintf(msg, msg_len, "out of memory");
		return CR_CLIENT_BAD_REPLY;
	}
	long status = 0;
	char *reply = NULL;
	size_t reply_len = 0;
	int r = cr_client_post(c, body, strlen(body), &status, &reply, &reply_len, msg, msg_len);
	free(body);
	if (r != CR_CLIENT_OK)
		return r;
	*code = (int)status;
	if (status == 401) {
		free(reply);
		snprintf(msg, msg_len, "Authorization failed: Incorrect rpcuser or rpcpassword");
		return CR_CLIENT_AUTH;
	}
	/* As bitcoin-cli: 400, 404 and 500 still carry a JSON-RPC reply. */
	if (status >= 400 && status != 400 && status != 404 && status != 500) {
		free(reply);
		snprintf(msg, msg_len, "server returned HTTP error %ld", status);
		return CR_CLIENT_HTTP;
	}
	json_error_t jerr;
	json_t *rep = json_loadb(reply, reply_len, 0, &jerr);
	free(reply);
	if (!rep || !json_is_object(rep)) {
		json_decref(rep);
		snprintf(msg, msg_len, "couldn't parse reply from server");
		return CR_CLIENT_BAD_REPLY;
	}
	json_t *err = json_object_get(rep, "error");
	if (err && !json_is_null(err)) {
		*code = (int)json_integer_value(json_object_get(err, "code"));
		const char *m = json_string_value(json_object_get(err, "message"));
		snprintf(msg, msg_len, "%s", m ? m : "");
		json_decref(rep);
		return CR_CLIENT_RPC_ERROR;
	}
	json_t *res = json_object_get(rep, "result");
	*result = json_incref(res ? res : json_null());
	json_decref(rep);
	*code = 0;
	return CR_CLIENT_OK;
}
