/* The SOCKS5 client state machine; see socks5.h. Sans-IO, one thread at a
 * time per struct. */
#include <arpa/inet.h>
#include <string.h>

#include "proto/err.h"
#include "proto/socks5.h"

enum {
	ST_METHOD,  /* greeting out, waiting for the method choice (2 bytes) */
	ST_AUTH,    /* RFC 1929 request out, waiting for its status (2 bytes) */
	ST_CONNECT, /* CONNECT out, waiting for the reply (10..262 bytes) */
	ST_DONE,
	ST_FAILED,
};

#define VER 0x05
#define AUTH_VER 0x01 /* RFC 1929 sub-negotiation version */
#define M_NONE 0x00
#define M_USERPASS 0x02
#define M_NOACCEPT 0xff
#define CMD_CONNECT 0x01
#define CMD_RESOLVE 0xf0 /* Tor's extension */
#define ATYP_IPV4 0x01
#define ATYP_DOMAIN 0x03
#define ATYP_IPV6 0x04

static int fail(struct cr_socks5 *s, int err)
{
	s->state = ST_FAILED;
	s->err = err;
	s->out_len = s->out_sent = 0;
	return err;
}

static void set_out(struct cr_socks5 *s, const uint8_t *p, size_t n)
{
	memcpy(s->out, p, n);
	s->out_len = (uint16_t)n;
	s->out_sent = 0;
}

/* Writes ATYP + address of the target into req + 3; returns its length or
 * a negative error. Literals go as addresses, anything else as a name so the
 * proxy resolves it (Tor must: .onion names have no address). */
static int put_target(uint8_t *p, const char *host)
{
	size_t n = strnlen(host, CR_SOCKS5_HOST_MAX + 3);
	char lit[INET6_ADDRSTRLEN + 1];

	if (n == 0)
		return CR_E_INVAL;
	if (inet_pton(AF_INET, host, p + 1) == 1) {
		p[0] = ATYP_IPV4;
		return 5;
	}
	const char *v6 = host;
	if (host[0] == '[' && n >= 2 && host[n - 1] == ']' && n - 2 < sizeof(lit)) {
		memcpy(lit, host + 1, n - 2);
		lit[n - 2] = '\0';
		v6 = lit;
	}
	if (inet_pton(AF_INET6, v6, p + 1) == 1) {
		p[0] = ATYP_IPV6;
		return 17;
	}
	if (n > CR_SOCKS5_HOST_MAX)
		return CR_E_SOCKS_HOST;
	for (size_t i = 0; i < n; i++)
		if ((uint8_t)host[i] <= 0x20 || host[i] == 0x7f)
			return CR_E_INVAL;
	p[0] = ATYP_DOMAIN;
	p[1] = (uint8_t)n;
	memcpy(p + 2, host, n);
	return (int)(2 + n);
}

static int setup(struct cr_socks5 *s, const char *host, uint16_t port)
{
	memset(s, 0, sizeof(*s));
	if (host == NULL || port == 0)
		return fail(s, CR_E_INVAL);
	int n = put_target(s->req + 3, host);
	if (n < 0)
		return fail(s, n);
	s->req[0] = VER;
	s->req[1] = CMD_CONNECT;
	s->req[2] = 0x00; /* reserved */
	s->req[3 + n] = (uint8_t)(port >> 8);
	s->req[4 + n] = (uint8_t)port;
	s->req_len = (uint16_t)(5 + n);
	s->state = ST_METHOD;
	s->in_need = 2;
	return 0;
}

int cr_socks5_init(struct cr_socks5 *s, const char *host, uint16_t port)
{
	int r = setup(s, host, port);
	if (r < 0)
		return r;
	static const uint8_t greet[] = {VER, 1, M_NONE};
	set_out(s, greet, sizeof(greet));
	return 0;
}

int cr_socks5_init_auth(struct cr_socks5 *s, const char *host, uint16_t port,
			const char *user, size_t user_len, const char *pass, size_t pass_len)
{
	int r = setup(s, host, port);
	if (r < 0)
		return r;
	if (user_len > CR_SOCKS5_CRED_MAX || pass_len > CR_SOCKS5_CRED_MAX ||
	    (user_len && !user) || (pass_len && !pass))
		return fail(s, CR_E_INVAL);
	s->with_auth = true;
	s->user_len = (uint8_t)user_len;
	s->pass_len = (uint8_t)pass_len;
	if (user_len)
		memcpy(s->cred, user, user_len);
	if (pass_len)
		memcpy(s->cred + user_len, pass, pass_len);
	/* Offer both: a proxy without authentication still works. */
	static const uint8_t greet[] = {VER, 2, M_NONE, M_USERPASS};
	set_out(s, greet, sizeof(greet));
	return 0;
}

size_t cr_socks5_pending(struct cr_socks5 *s, const uint8_t **out)
{
	*out = s->out + s->out_sent;
	return (size_t)(s->out_len - s->out_sent);
}

void cr_socks5_sent(struct cr_socks5 *s, size_t n)
{
	size_t left = (size_t)(s->out_len - s->out_sent);
	s->out_sent = (uint16_t)(s->out_sent + (n < left ? n : left));
}

static void start_reply(struct cr_socks5 *s, uint8_t state, uint16_t need)
{
	s->state = state;
	s->in_len = 0;
	s->in_need = need;
}

static void send_auth(struct cr_socks5 *s)
{
	uint8_t *p = s->out;
	p[0] = AUTH_VER;
	p[1] = s->user_len;
	memcpy(p + 2, s->cred, s->user_len);
	p[2 + s->user_len] = s->pass_len;
	memcpy(p + 3 + s->user_len, s->cred + s->user_len, s->pass_len);
	s->out_len = (uint16_t)(3 + s->user_len + s->pass_len);
	s->out_sent = 0;
	/* The secret now lives only in the message being sent. */
	memset(s->cred, 0, sizeof(s->cred));
	start_reply(s, ST_AUTH, 2);
}

static void send_connect(struct cr_socks5 *s)
{
	memset(s->out, 0, sizeof(s->out)); /* no credentials left behind */
	set_out(s, s->req, s->req_len);
	start_reply(s, ST_CONNECT, 5); /* through the first byte of the address */
}

static int on_method(struct cr_socks5 *s)
{
	if (s->in[0] != VER)
		return fail(s, CR_E_SOCKS_VERSION);
	if (s->in[1] == M_NONE) {
		send_connect(s);
		return 0;
	}
	if (s->in[1] == M_USERPASS && s->with_auth) {
		send_auth(s);
		return 0;
	}
	return fail(s, CR_E_SOCKS_AUTH); /* 0xff or a method we never offered */
}

static int on_auth(struct cr_socks5 *s)
{
	if (s->in[0] != AUTH_VER)
		return fail(s, CR_E_SOCKS_VERSION);
	if (s->in[1] != 0x00)
		return fail(s, CR_E_SOCKS_DENIED);
	send_connect(s);
	return 0;
}

/* Called at 5 bytes (header + first address byte) to learn the full length,
 * then again at the full length. */
static int on_connect(struct cr_socks5 *s)
{
	const uint8_t *r = s->in;
	if (s->in_len == 5) {
		if (r[0] != VER)
			return fail(s, CR_E_SOCKS_VERSION);
		s->reply_code = r[1];
		if (r[1] != CR_SOCKS5_SUCCEEDED)
			return fail(s, CR_E_SOCKS_REPLY);
		if (r[2] != 0x00)
			return fail(s, CR_E_SOCKS_PROTO);
		switch (r[3]) {
		case ATYP_IPV4: s->in_need = 4 + 4 + 2; break;
		case ATYP_IPV6: s->in_need = 4 + 16 + 2; break;
		case ATYP_DOMAIN:
			if (s->resolve)
				return fail(s, CR_E_SOCKS_ADDR); /* we asked for an address */
			if (r[4] == 0)
				return fail(s, CR_E_SOCKS_ADDR);
			s->in_need = (uint16_t)(4 + 1 + r[4] + 2);
			break;
		default:
			return fail(s, CR_E_SOCKS_ADDR);
		}
		return 0;
	}
	size_t off = r[3] == ATYP_DOMAIN ? 5 : 4;
	size_t alen = (size_t)s->in_need - off - 2;
	s->bound_atyp = r[3];
	s->bound_len = (uint8_t)alen;
	memcpy(s->bound_addr, r + off, alen);
	s->bound_port = (uint16_t)(r[off + alen] << 8 | r[off + alen + 1]);
	s->state = ST_DONE;
	return 0;
}

int cr_socks5_recv(struct cr_socks5 *s, const uint8_t *in, size_t len)
{
	size_t used = 0;
	while (used < len) {
		if (s->state == ST_FAILED)
			return s->err;
		if (s->state == ST_DONE)
			return (int)used; /* the rest is the peer's */
		/* The proxy answers a request it has fully received; anything
		 * earlier means the caller's bookkeeping or the proxy is wrong. */
		if (s->out_sent < s->out_len)
			return fail(s, CR_E_SOCKS_STATE);
		size_t take = (size_t)(s->in_need - s->in_len);
		if (take > len - used)
			take = len - used;
		memcpy(s->in + s->in_len, in + used, take);
		s->in_len = (uint16_t)(s->in_len + take);
		used += take;
		if (s->in_len < s->in_need)
			break;
		int r;
		switch (s->state) {
		case ST_METHOD: r = on_method(s); break;
		case ST_AUTH: r = on_auth(s); break;
		default: r = on_connect(s); break;
		}
		if (r < 0)
			return r;
	}
	if (s->state == ST_FAILED)
		return s->err;
	return (int)used;
}

int cr_socks5_init_resolve(struct cr_socks5 *s, const char *name)
{
	memset(s, 0, sizeof(*s));
	size_t n = name ? strnlen(name, CR_SOCKS5_HOST_MAX + 1) : 0;
	if (n == 0)
		return fail(s, CR_E_INVAL);
	if (n > CR_SOCKS5_HOST_MAX)
		return fail(s, CR_E_SOCKS_HOST);
	for (size_t i = 0; i < n; i++)
		if ((uint8_t)name[i] <= 0x20 || name[i] == 0x7f)
			return fail(s, CR_E_INVAL);
	uint8_t *p = s->req;
	p[0] = VER;
	p[1] = CMD_RESOLVE;
	p[2] = 0x00;
	p[3] = ATYP_DOMAIN;
	p[4] = (uint8_t)n;
	memcpy(p + 5, name, n);
	p[5 + n] = 0; /* port: unused by RESOLVE */
	p[6 + n] = 0;
	s->req_len = (uint16_t)(7 + n);
	s->resolve = true;
	s->state = ST_METHOD;
	s->in_need = 2;
	static const uint8_t greet[] = {VER, 1, M_NONE};
	set_out(s, greet, sizeof(greet));
	return 0;
}

bool cr_socks5_done(const struct cr_socks5 *s)
{
	return s->state == ST_DONE;
}

const char *cr_socks5_reply_str(uint8_t code)
{
	switch (code) {
	case 0x00: return "succeeded";
	case 0x01: return "general SOCKS server failure";
	case 0x02: return "connection not allowed by ruleset";
	case 0x03: return "network unreachable";
	case 0x04: return "host unreachable";
	case 0x05: return "connection refused";
	case 0x06: return "TTL expired";
	case 0x07: return "command not supported";
	case 0x08: return "address type not supported";
	/* Tor's extended codes for onion services (tor's socks extensions). */
	case 0xf0: return "onion service descriptor not found";
	case 0xf1: return "onion service descriptor invalid";
	case 0xf2: return "onion service introduction failed";
	case 0xf3: return "onion service rendezvous failed";
	case 0xf4: return "onion service missing client authorization";
	case 0xf5: return "onion service wrong client authorization";
	case 0xf6: return "onion service invalid address";
	case 0xf7: return "onion service introduction timed out";
	default: return "unknown SOCKS5 reply code";
	}
}
