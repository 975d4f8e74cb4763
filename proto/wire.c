/* Bounded wire reader and writer; see wire.h. Any thread. */
#include <string.h>

#include "proto/err.h"
#include "proto/wire.h"

/* Returns the next n bytes and advances, or NULL with the error set. */
static const uint8_t *take(struct cr_reader *r, size_t n)
{
	if (r->err)
		return NULL;
	if (n > r->len) {
		r->err = CR_E_SHORT;
		return NULL;
	}
	const uint8_t *p = r->p;
	/* A reader over (NULL, 0) is legal; NULL + 0 is not (UBSan). */
	if (n == 0)
		return p;
	r->p += n;
	r->len -= n;
	return p;
}

uint8_t cr_read_u8(struct cr_reader *r)
{
	const uint8_t *p = take(r, 1);
	return p ? p[0] : 0;
}

uint16_t cr_read_u16le(struct cr_reader *r)
{
	const uint8_t *p = take(r, 2);
	return p ? (uint16_t)(p[0] | p[1] << 8) : 0;
}

uint16_t cr_read_u16be(struct cr_reader *r)
{
	const uint8_t *p = take(r, 2);
	return p ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

uint32_t cr_read_u32le(struct cr_reader *r)
{
	const uint8_t *p = take(r, 4);
	return p ? cr_le32(p) : 0;
}

uint64_t cr_read_u64le(struct cr_reader *r)
{
	const uint8_t *p = take(r, 8);
	return p ? cr_le64(p) : 0;
}

void cr_read_bytes(struct cr_reader *r, void *out, size_t len)
{
	const uint8_t *p = take(r, len);
	if (len == 0)
		return;
	if (p)
		memcpy(out, p, len);
	else
		memset(out, 0, len);
}

const uint8_t *cr_read_view(struct cr_reader *r, size_t len)
{
	return take(r, len);
}

void cr_read_hash(struct cr_reader *r, uint8_t out[32])
{
	cr_read_bytes(r, out, 32);
}

uint64_t cr_read_compact(struct cr_reader *r, bool range_check)
{
	uint8_t first = cr_read_u8(r);
	uint64_t v, min;

	if (r->err)
		return 0;
	if (first < 0xfd)
		return first;
	if (first == 0xfd) {
		v = cr_read_u16le(r);
		min = 0xfd;
	} else if (first == 0xfe) {
		v = cr_read_u32le(r);
		min = 0x10000;
	} else {
		v = cr_read_u64le(r);
		min = 0x100000000ull;
	}
	if (r->err)
		return 0;
	if (v < min) {
		r->err = CR_E_NONCANONICAL;
		return 0;
	}
	if (range_check && v > CR_WIRE_MAX_SIZE) {
		r->err = CR_E_TOOLARGE;
		return 0;
	}
	return v;
}

void cr_read_varstr(struct cr_reader *r, char *out, size_t out_cap, size_t max, size_t *len)
{
	uint64_t n = cr_read_compact(r, true);

	*len = 0;
	if (out_cap)
		out[0] = '\0';
	if (r->err)
		return;
	if (n > max || n + 1 > out_cap) {
		r->err = CR_E_TOOLARGE;
		return;
	}
	const uint8_t *p = take(r, (size_t)n);
	if (r->err)
		return;
	if (n)
		memcpy(out, p, (size_t)n);
	out[n] = '\0';
	*len = (size_t)n;
}

/* Returns room for n bytes and advances, or NULL with the error set. */
static uint8_t *room(struct cr_writer *w, size_t n)
{
	if (w->err)
		return NULL;
	if (n > w->cap - w->len) {
		w->err = CR_E_OVERFLOW;
		return NULL;
	}
	if (n == 0)
		return w->p; /* may be NULL for a (NULL, 0) writer: no arithmetic */
	uint8_t *p = w->p + w->len;
	w->len += n;
	return p;
}

void cr_write_u8(struct cr_writer *w, uint8_t v)
{
	uint8_t *p = room(w, 1);
	if (p)
		p[0] = v;
}

void cr_write_u16le(struct cr_writer *w, uint16_t v)
{
	uint8_t *p = room(w, 2);
	if (p) {
		p[0] = (uint8_t)v;
		p[1] = (uint8_t)(v >> 8);
	}
}

void cr_write_u16be(struct cr_writer *w, uint16_t v)
{
	uint8_t *p = room(w, 2);
	if (p) {
		p[0] = (uint8_t)(v >> 8);
		p[1] = (uint8_t)v;
	}
}

void cr_write_u32le(struct cr_writer *w, uint32_t v)
{
	uint8_t *p = room(w, 4);
	if (p)
		cr_put_le32(p, v);
}

void cr_write_u64le(struct cr_writer *w, uint64_t v)
{
	uint8_t *p = room(w, 8);
	if (p)
		cr_put_le64(p, v);
}

void cr_write_bytes(struct cr_writer *w, const void *src, size_t len)
{
	uint8_t *p = room(w, len);
	if (!w->err && len)
		memcpy(p, src, len);
}

size_t cr_compact_size(uint64_t v)
{
	if (v < 0xfd)
		return 1;
	if (v <= 0xffff)
		return 3;
	if (v <= 0xffffffffu)
		return 5;
	return 9;
}

void cr_write_compact(struct cr_writer *w, uint64_t v)
{
	uint8_t *p = room(w, cr_compact_size(v));
	if (!p)
		return;
	if (v < 0xfd) {
		p[0] = (uint8_t)v;
	} else if (v <= 0xffff) {
		p[0] = 0xfd;
		p[1] = (uint8_t)v;
		p[2] = (uint8_t)(v >> 8);
	} else if (v <= 0xffffffffu) {
		p[0] = 0xfe;
		cr_put_le32(p + 1, (uint32_t)v);
	} else {
		p[0] = 0xff;
		cr_put_le64(p + 1, v);
	}
}

void cr_write_varstr(struct cr_writer *w, const char *s, size_t len)
{
	if (w->err)
		return;
	/* Checked as two steps so a huge len cannot wrap the sum. */
	if (len > w->cap - w->len || cr_compact_size(len) > w->cap - w->len - len) {
		w->err = CR_E_OVERFLOW;
		return;
	}
	cr_write_compact(w, len);
	cr_write_bytes(w, s, len);
}
