/* Codecs for version, ping/pong, feefilter, sendcmpct and the empty
 * messages, and the command table; see msg.h. addr and addrv2 are in
 * msg_addr.c. Pure functions: any thread. */
#include <string.h>

#include "proto/err.h"
#include "proto/msg.h"
#include "proto/wire.h"

static const char *const commands[CR_MSG_TYPE_COUNT] = {
	[CR_MSG_OTHER] = "",
	[CR_MSG_VERSION] = "version",
	[CR_MSG_VERACK] = "verack",
	[CR_MSG_PING] = "ping",
	[CR_MSG_PONG] = "pong",
	[CR_MSG_ADDR] = "addr",
	[CR_MSG_ADDRV2] = "addrv2",
	[CR_MSG_GETADDR] = "getaddr",
	[CR_MSG_SENDADDRV2] = "sendaddrv2",
	[CR_MSG_WTXIDRELAY] = "wtxidrelay",
	[CR_MSG_SENDHEADERS] = "sendheaders",
	[CR_MSG_FEEFILTER] = "feefilter",
	[CR_MSG_SENDCMPCT] = "sendcmpct",
};

enum cr_msg_type cr_msg_type(const char *command)
{
	for (int t = 1; t < CR_MSG_TYPE_COUNT; t++)
		if (strcmp(commands[t], command) == 0)
			return (enum cr_msg_type)t;
	return CR_MSG_OTHER;
}

const char *cr_msg_command(enum cr_msg_type type)
{
	if ((unsigned)type >= CR_MSG_TYPE_COUNT)
		return "";
	return commands[type];
}

/* Ends a decode: trailing bytes are an error unless the message allows
 * them. Returns r->err or CR_E_MSG_TRAILING (then *out is zeroed). */
static int finish_read(struct cr_reader *r, bool allow_trailing, void *out, size_t out_size)
{
	int err = r->err;
	if (!err && !allow_trailing && r->len)
		err = CR_E_MSG_TRAILING;
	if (err)
		memset(out, 0, out_size);
	return err;
}

static int finish_write(const struct cr_writer *w)
{
	return w->err ? w->err : (int)w->len;
}

static void read_version_addr(struct cr_reader *r, struct cr_version_addr *a)
{
	a->services = cr_read_u64le(r);
	cr_read_bytes(r, a->ip, 16);
	a->port = cr_read_u16be(r);
}

static void write_version_addr(struct cr_writer *w, const struct cr_version_addr *a)
{
	cr_write_u64le(w, a->services);
	cr_write_bytes(w, a->ip, 16);
	cr_write_u16be(w, a->port);
}

/* Core's ProcessMessage(VERSION) reads each group after addr_recv only if
 * bytes remain ("if (!vRecv.empty())"), so a group either is whole or is
 * absent; one cut in the middle throws and the message is dropped. */
int cr_msg_version_decode(struct cr_version *out, const uint8_t *p, size_t len)
{
	struct cr_reader r;
	size_t ua_len = 0;

	memset(out, 0, sizeof(*out));
	cr_reader_init(&r, p, len);
	out->version = (int32_t)cr_read_u32le(&r);
	out->services = cr_read_u64le(&r);
	out->timestamp = (int64_t)cr_read_u64le(&r);
	read_version_addr(&r, &out->addr_recv);
	out->relay = true;
	out->omitted = 4;
	if (!r.err && r.len) {
		read_version_addr(&r, &out->addr_from);
		out->nonce = cr_read_u64le(&r);
		out->omitted = 3;
	}
	if (!r.err && r.len) {
		/* Core: LIMITED_STRING(strSubVer, MAX_SUBVERSION_LENGTH). */
		cr_read_varstr(&r, out->user_agent, sizeof(out->user_agent), CR_MSG_UA_MAX, &ua_len);
		if (r.err == CR_E_TOOLARGE)
			r.err = CR_E_MSG_UA;
		out->user_agent_len = (uint16_t)ua_len;
		out->omitted = 2;
	}
	if (!r.err && r.len) {
		out->start_height = (int32_t)cr_read_u32le(&r);
		out->omitted = 1;
	}
	if (!r.err && r.len) {
		out->relay = cr_read_u8(&r) != 0;
		out->omitted = 0;
	}
	return finish_read(&r, true, out, sizeof(*out));
}

int cr_msg_version_encode(uint8_t *out, size_t cap, const struct cr_version *in)
{
	struct cr_writer w;

	if (in->user_agent_len > CR_MSG_UA_MAX)
		return CR_E_MSG_UA;
	if (in->omitted > 4)
		return CR_E_INVAL;
	cr_writer_init(&w, out, cap);
	cr_write_u32le(&w, (uint32_t)in->version);
	cr_write_u64le(&w, in->services);
	cr_write_u64le(&w, (uint64_t)in->timestamp);
	write_version_addr(&w, &in->addr_recv);
	if (in->omitted < 4) {
		write_version_addr(&w, &in->addr_from);
		cr_write_u64le(&w, in->nonce);
	}
	if (in->omitted < 3)
		cr_write_varstr(&w, in->user_agent, in->user_agent_len);
	if (in->omitted < 2)
		cr_write_u32le(&w, (uint32_t)in->start_height);
	if (in->omitted < 1)
		cr_write_u8(&w, in->relay ? 1 : 0);
	return finish_write(&w);
}

static int decode_u64(uint64_t *out, const uint8_t *p, size_t len)
{
	struct cr_reader r;

	cr_reader_init(&r, p, len);
	*out = cr_read_u64le(&r);
	return finish_read(&r, false, out, sizeof(*out));
}

static int encode_u64(uint8_t *out, size_t cap, uint64_t v)
{
	struct cr_writer w;

	cr_writer_init(&w, out, cap);
	cr_write_u64le(&w, v);
	return finish_write(&w);
}

int cr_msg_ping_decode(struct cr_ping *out, const uint8_t *p, size_t len)
{
	return decode_u64(&out->nonce, p, len);
}

int cr_msg_ping_encode(uint8_t *out, size_t cap, const struct cr_ping *in)
{
	return encode_u64(out, cap, in->nonce);
}

int cr_msg_pong_decode(struct cr_ping *out, const uint8_t *p, size_t len)
{
	return decode_u64(&out->nonce, p, len);
}

int cr_msg_pong_encode(uint8_t *out, size_t cap, const struct cr_ping *in)
{
	return encode_u64(out, cap, in->nonce);
}

int cr_msg_feefilter_decode(struct cr_feefilter *out, const uint8_t *p, size_t len)
{
	uint64_t v;
	int err = decode_u64(&v, p, len);

	out->feerate = (int64_t)v;
	return err;
}

int cr_msg_feefilter_encode(uint8_t *out, size_t cap, const struct cr_feefilter *in)
{
	return encode_u64(out, cap, (uint64_t)in->feerate);
}

int cr_msg_sendcmpct_decode(struct cr_sendcmpct *out, const uint8_t *p, size_t len)
{
	struct cr_reader r;

	memset(out, 0, sizeof(*out));
	cr_reader_init(&r, p, len);
	out->announce = cr_read_u8(&r) != 0;
	out->version = cr_read_u64le(&r);
	return finish_read(&r, false, out, sizeof(*out));
}

int cr_msg_sendcmpct_encode(uint8_t *out, size_t cap, const struct cr_sendcmpct *in)
{
	struct cr_writer w;

	cr_writer_init(&w, out, cap);
	cr_write_u8(&w, in->announce ? 1 : 0);
	cr_write_u64le(&w, in->version);
	return finish_write(&w);
}

int cr_msg_empty_decode(const uint8_t *p, size_t len)
{
	(void)p;
	return len ? CR_E_MSG_TRAILING : 0;
}

int cr_msg_empty_encode(uint8_t *out, size_t cap)
{
	(void)out;
	(void)cap;
	return 0;
}
