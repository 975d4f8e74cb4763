/* Anchors store: encode, decode, save, load; see anchors.h.
 * Coordinator thread. */
#include <stdlib.h>
#include <string.h>

#include "addr/anchors.h"
#include "addr/store.h"
#include "addr/err.h"

static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static int net_ok(uint8_t net, uint8_t len)
{
	return len && len == cr_net_addr_len(net) && net != CR_NET_TORV2;
}

int cr_anchors_encode(uint8_t *out, const struct cr_peeraddr *a, size_t n)
{
	size_t o = 1;
	if (n > CR_ANCHORS_MAX)
		return CR_E_INVAL;
	out[0] = (uint8_t)n;
	for (size_t i = 0; i < n; i++) {
		const struct cr_netaddr *na = &a[i].na;
		if (!net_ok(na->net, na->len))
			return CR_E_INVAL;
		out[o++] = na->net;
		out[o++] = na->len;
		memcpy(out + o, na->addr, na->len);
		o += na->len;
		put_le(out + o, a[i].port, 2);
		put_le(out + o + 2, a[i].time, 4);
		put_le(out + o + 6, a[i].services, 8);
		o += 14;
	}
	return (int)o;
}

int cr_anchors_decode(struct cr_peeraddr out[CR_ANCHORS_MAX], size_t *n,
		      const uint8_t *body, size_t len)
{
	size_t o = 1;
	*n = 0;
	memset(out, 0, CR_ANCHORS_MAX * sizeof(*out));
	if (len < 1 || body[0] > CR_ANCHORS_MAX)
		return CR_E_STORE_BODY;
	for (unsigned i = 0; i < body[0]; i++) {
		struct cr_peeraddr *p = &out[i];
		if (len - o < 2 || !net_ok(body[o], body[o + 1]) ||
		    len - o - 2 < (size_t)body[o + 1] + 14u)
			goto bad;
		p->na.net = body[o];
		p->na.len = body[o + 1];
		o += 2;
		memcpy(p->na.addr, body + o, p->na.len);
		o += p->na.len;
		p->port = (uint16_t)get_le(body + o, 2);
		p->time = (uint32_t)get_le(body + o + 2, 4);
		p->services = get_le(body + o + 6, 8);
		o += 14;
	}
	if (o != len)
		goto bad;
	*n = body[0];
	return 0;
bad:
	memset(out, 0, CR_ANCHORS_MAX * sizeof(*out));
	return CR_E_STORE_BODY;
}

int cr_anchors_save(const char *path, const struct cr_peeraddr *a, size_t n)
{
	uint8_t body[CR_ANCHORS_BODY_MAX];
	int len = cr_anchors_encode(body, a, n);
	if (len < 0)
		return len;
	return cr_store_save(path, CR_ANCHORS_MAGIC, CR_ANCHORS_VERSION, body, (size_t)len);
}

int cr_anchors_load(const char *path, struct cr_peeraddr out[CR_ANCHORS_MAX], size_t *n,
		    char *why, size_t why_len)
{
	uint8_t *body;
	size_t len;
	uint32_t version;
	int rc;

	*n = 0;
	memset(out, 0, CR_ANCHORS_MAX * sizeof(*out));
	rc = cr_store_load(path, CR_ANCHORS_MAGIC, CR_ANCHORS_VERSION, &version, &body, &len,
			   why, why_len);
	if (rc)
		return rc;
	rc = cr_anchors_decode(out, n, body, len);
	free(body);
	if (rc)
		cr_store_set_aside(path, "anchors do not decode", why, why_len);
	return rc;
}
