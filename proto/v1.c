/* V1 framing: streaming decoder and in-place encoder; see v1.h. A decoder is
 * used by one thread at a time (the peer's worker); encoders are pure.
 *
 * The decoder has two states: collecting the 24-byte header (hdr_have < 24)
 * and collecting the payload (hdr_have == 24, have < len). The common case,
 * a whole message inside one input, never touches either: the header is
 * parsed where it lies and the payload is handed out as a view. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "proto/crypto.h"
#include "proto/err.h"
#include "proto/v1.h"
#include "proto/wire.h"

/* Smallest reassembly allocation: most split messages are small, and this
 * keeps a slow sender's first bytes from costing more than a page. */
#define MIN_BUFFER 4096

static const uint8_t empty_payload[1];

static void msg_none(struct cr_msg *m)
{
	m->command[0] = '\0';
	m->payload = NULL;
	m->len = 0;
	m->reject = 0;
}

static bool printable(uint8_t c)
{
	return c >= 0x20 && c <= 0x7e;
}

bool cr_v1_command_valid(const char cmd[CR_COMMAND_MAX])
{
	const uint8_t *c = (const uint8_t *)cmd;
	size_t i = 0;

	/* Core's CMessageHeader::IsCommandValid(), except that an empty
	 * command is refused (see v1.h). */
	while (i < CR_COMMAND_MAX && c[i] != 0) {
		if (!printable(c[i]))
			return false;
		i++;
	}
	if (i == 0)
		return false;
	for (; i < CR_COMMAND_MAX; i++)
		if (c[i] != 0)
			return false;
	return true;
}

void cr_v1_decoder_init(struct cr_v1_decoder *d, const uint8_t magic[4], uint32_t max_payload)
{
	memset(d, 0, sizeof(*d));
	memcpy(d->magic, magic, 4);
	if (max_payload == 0 || max_payload > CR_V1_MAX_PAYLOAD)
		max_payload = CR_V1_MAX_PAYLOAD;
	d->max_payload = max_payload;
}

void cr_v1_decoder_set_limit(struct cr_v1_decoder *d, uint32_t max_payload)
{
	if (max_payload == 0 || max_payload > CR_V1_MAX_PAYLOAD)
		max_payload = CR_V1_MAX_PAYLOAD;
	d->max_payload = max_payload;
}

size_t cr_v1_decoder_buffer_bytes(const struct cr_v1_decoder *d)
{
	return d->buf_cap;
}

size_t cr_v1_decoder_declared(const struct cr_v1_decoder *d)
{
	if (d->err || d->hdr_have < CR_V1_HEADER_SIZE)
		return 0;
	return CR_V1_HEADER_SIZE + (size_t)d->len;
}

void cr_v1_decoder_clear(struct cr_v1_decoder *d)
{
	free(d->buf);
	memset(d, 0, sizeof(*d));
}

static void release_buffer(struct cr_v1_decoder *d)
{
	free(d->buf);
	d->buf = NULL;
	d->buf_cap = 0;
	d->release = false;
}

void cr_v1_decoder_trim(struct cr_v1_decoder *d)
{
	if (d->have == 0)
		release_buffer(d);
}

size_t cr_v1_decoder_pending(const struct cr_v1_decoder *d)
{
	return (size_t)d->hdr_have + d->have;
}

/* The two checks Core makes on a header before reading the payload, both
 * fatal (V1Transport::readHeader). Sets d->len. */
static int check_header(struct cr_v1_decoder *d, const uint8_t *hdr)
{
	uint32_t len = cr_le32(hdr + 16);

	if (memcmp(hdr, d->magic, 4) != 0)
		return CR_E_V1_MAGIC;
	if (len > d->max_payload)
		return CR_E_V1_LENGTH;
	d->len = len;
	return 0;
}

static int fail(struct cr_v1_decoder *d, int err)
{
	d->err = err;
	return err;
}

/* Fills *m for a complete message. Checksum first, then the command, as in
 * Core's V1Transport::GetReceivedMessage(); either only drops the message. */
static void yield(struct cr_msg *m, const uint8_t *hdr, const uint8_t *payload, uint32_t len)
{
	uint8_t hash[32];
	const char *cmd = (const char *)hdr + 4;
	bool valid = cr_v1_command_valid(cmd);

	cr_sha256d(hash, payload, len);
	m->payload = len ? payload : empty_payload;
	m->len = len;
	if (memcmp(hash, hdr + 20, 4) != 0)
		m->reject = CR_E_V1_CHECKSUM;
	else if (!valid)
		m->reject = CR_E_V1_COMMAND;
	if (valid) {
		memcpy(m->command, cmd, CR_COMMAND_MAX);
		m->command[CR_COMMAND_MAX] = '\0';
		return;
	}
	/* A readable stand-in for a malformed command: up to its last
	 * non-NUL byte, non-printable bytes as '?', never empty. */
	size_t end = CR_COMMAND_MAX;
	memset(m->command, 0, sizeof(m->command));
	while (end > 0 && cmd[end - 1] == 0)
		end--;
	for (size_t i = 0; i < end; i++)
		m->command[i] = printable((uint8_t)cmd[i]) ? cmd[i] : '?';
	if (end == 0)
		m->command[end++] = '?';
	m->command[end] = '\0';
}

/* Makes room for `need` payload bytes in the reassembly buffer. Grows by
 * doubling, never past the declared length, so a peer that announces 4 MB
 * and trickles bytes holds about twice what it actually sent. */
static int grow(struct cr_v1_decoder *d, uint32_t need)
{
	if (need <= d->buf_cap)
		return 0;
	uint64_t cap = (uint64_t)d->buf_cap * 2;
	if (cap < need)
		cap = need;
	if (cap < MIN_BUFFER)
		cap = MIN_BUFFER;
	if (cap > d->len)
		cap = d->len;
	uint8_t *p = realloc(d->buf, (size_t)cap);
	if (!p)
		return CR_E_NOMEM;
	d->buf = p;
	d->buf_cap = (uint32_t)cap;
	return 0;
}

/* The reassembled payload is complete: hand it out and go back to headers.
 * A buffer too large to keep is freed on the next call, after the caller
 * is done with the view. */
static void finish(struct cr_v1_decoder *d, struct cr_msg *m)
{
	yield(m, d->hdr, d->buf, d->len);
	d->hdr_have = 0;
	d->have = 0;
	if (d->buf_cap > CR_V1_KEEP_BUFFER)
		d->release = true;
}

/* Collects header bytes; returns bytes used, or a fatal error. On return
 * with a complete header d->len is valid. */
static int take_header(struct cr_v1_decoder *d, const uint8_t *in, size_t in_len)
{
	size_t n = CR_V1_HEADER_SIZE - d->hdr_have;
	if (n > in_len)
		n = in_len;
	memcpy(d->hdr + d->hdr_have, in, n);
	d->hdr_have += (uint32_t)n;
	if (d->hdr_have == CR_V1_HEADER_SIZE) {
		int err = check_header(d, d->hdr);
		if (err)
			return fail(d, err);
	}
	return (int)n;
}

int cr_v1_decode(struct cr_v1_decoder *d, struct cr_msg *msg, const uint8_t *in, size_t in_len)
{
	size_t used = 0;

	msg_none(msg);
	if (d->err)
		return d->err;
	if (d->release)
		release_buffer(d);
	if (in_len == 0)
		return 0;
	if (d->hdr_have == 0 && in_len >= CR_V1_HEADER_SIZE) {
		/* Fast path: the header lies whole in the input. */
		int err = check_header(d, in);
		if (err)
			return fail(d, err);
		if (in_len - CR_V1_HEADER_SIZE >= d->len) {
			yield(msg, in, in + CR_V1_HEADER_SIZE, d->len);
			return CR_V1_HEADER_SIZE + (int)d->len;
		}
		memcpy(d->hdr, in, CR_V1_HEADER_SIZE);
		d->hdr_have = CR_V1_HEADER_SIZE;
		used = CR_V1_HEADER_SIZE;
	} else if (d->hdr_have < CR_V1_HEADER_SIZE) {
		int n = take_header(d, in, in_len);
		if (n < 0)
			return n;
		used = (size_t)n;
		if (d->hdr_have < CR_V1_HEADER_SIZE)
			return (int)used;
		/* A header split across inputs, its payload whole in this one. */
		if (in_len - used >= d->len) {
			yield(msg, d->hdr, in + used, d->len);
			d->hdr_have = 0;
			return (int)(used + d->len);
		}
	}

	size_t n = d->len - d->have;
	if (n > in_len - used)
		n = in_len - used;
	if (n) {
		if (grow(d, d->have + (uint32_t)n) < 0)
			return fail(d, CR_E_NOMEM);
		memcpy(d->buf + d->have, in + used, n);
		d->have += (uint32_t)n;
		used += n;
	}
	if (d->have == d->len)
		finish(d, msg);
	return (int)used;
}

uint8_t *cr_v1_decode_direct(struct cr_v1_decoder *d, size_t *want)
{
	*want = 0;
	if (d->err || d->hdr_have < CR_V1_HEADER_SIZE || d->have >= d->len)
		return NULL;
	/* Room for what has arrived plus as much again: the buffer grows with
	 * the bytes, never all at once on a header's word. */
	if (d->have == d->buf_cap && grow(d, d->have + 1) < 0)
		return NULL;
	*want = (d->buf_cap < d->len ? d->buf_cap : d->len) - d->have; /* a kept buffer may be larger */
	return d->buf + d->have;
}

int cr_v1_decode_commit(struct cr_v1_decoder *d, struct cr_msg *msg, size_t n)
{
	msg_none(msg);
	if (d->err)
		return d->err;
	if (d->hdr_have < CR_V1_HEADER_SIZE || n > d->len - d->have || d->have + n > d->buf_cap)
		return CR_E_INVAL;
	d->have += (uint32_t)n;
	if (d->have == d->len)
		finish(d, msg);
	return (int)n;
}

/* Copies a command into its 12-byte NUL-padded field; returns its length,
 * or -1 when it does not fit. */
static int put_command(uint8_t field[CR_COMMAND_MAX], const char *cmd)
{
	size_t n = strnlen(cmd, CR_COMMAND_MAX + 1);
	if (n > CR_COMMAND_MAX)
		return -1;
	memset(field, 0, CR_COMMAND_MAX);
	memcpy(field, cmd, n);
	return (int)n;
}

void cr_v1_encode_header(uint8_t hdr[CR_V1_HEADER_SIZE], const uint8_t magic[4], const char *cmd,
			 const uint8_t *payload, uint32_t len)
{
	uint8_t hash[32];
	int n = put_command(hdr + 4, cmd);

	assert(n > 0 && cr_v1_command_valid((const char *)hdr + 4));
	(void)n;
	memcpy(hdr, magic, 4);
	cr_put_le32(hdr + 16, len);
	cr_sha256d(hash, payload, len);
	memcpy(hdr + 20, hash, 4);
}

int cr_v1_encode(uint8_t *buf, size_t buf_cap, const uint8_t magic[4], const char *cmd, uint32_t payload_len)
{
	uint8_t field[CR_COMMAND_MAX];

	if (put_command(field, cmd) < 0 || !cr_v1_command_valid((const char *)field))
		return CR_E_V1_COMMAND;
	if (payload_len > CR_V1_MAX_PAYLOAD)
		return CR_E_V1_LENGTH;
	if (buf_cap < CR_V1_HEADER_SIZE || buf_cap - CR_V1_HEADER_SIZE < payload_len)
		return CR_E_OVERFLOW;
	cr_v1_encode_header(buf, magic, cmd, buf + CR_V1_HEADER_SIZE, payload_len);
	return CR_V1_HEADER_SIZE + (int)payload_len;
}
