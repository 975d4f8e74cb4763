/* Bounded reader and writer for Bitcoin's wire encodings.
 *
 * A reader never reads past its end and a writer never writes past its
 * capacity: every call checks first and, on failure, sets a sticky error
 * and leaves the output zeroed. Callers may chain reads and check err once.
 * Little-endian integers, CompactSize with Bitcoin Core's rules, var strings
 * and 32-byte hashes. Sans-IO; any thread, on its own objects. */
#ifndef CR_PROTO_WIRE_H
#define CR_PROTO_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Core's MAX_SIZE: the largest CompactSize accepted where a size is read. */
#define CR_WIRE_MAX_SIZE 0x02000000u

struct cr_reader {
	const uint8_t *p;
	size_t len; /* bytes left */
	int err;    /* first error seen (negative CR_E_*), or 0 */
};

struct cr_writer {
	uint8_t *p;
	size_t cap; /* total capacity of p (room left is cap - len) */
	size_t len; /* bytes written so far */
	int err;
};

static inline void cr_reader_init(struct cr_reader *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->err = 0;
}

static inline void cr_writer_init(struct cr_writer *w, void *p, size_t cap)
{
	w->p = p;
	w->cap = cap;
	w->len = 0;
	w->err = 0;
}

/* Readers: on failure return 0 (or zero the output) and set r->err. */
uint8_t cr_read_u8(struct cr_reader *r);
uint16_t cr_read_u16le(struct cr_reader *r);
uint16_t cr_read_u16be(struct cr_reader *r);
uint32_t cr_read_u32le(struct cr_reader *r);
uint64_t cr_read_u64le(struct cr_reader *r);
/* Copies len bytes into out. */
void cr_read_bytes(struct cr_reader *r, void *out, size_t len);
/* Returns a view of the next len bytes and skips them, or NULL with r->err
 * set. A zero-length view of a reader over (NULL, 0) is NULL too: test
 * r->err, not the pointer. */
const uint8_t *cr_read_view(struct cr_reader *r, size_t len);
void cr_read_hash(struct cr_reader *r, uint8_t out[32]);
/* CompactSize: rejects non-canonical encodings (CR_E_NONCANONICAL) and, when
 * range_check is true, values above CR_WIRE_MAX_SIZE (CR_E_TOOLARGE). */
uint64_t cr_read_compact(struct cr_reader *r, bool range_check);
/* Var string (CompactSize length + bytes) of at most max bytes; writes a
 * NUL-terminated copy to out (out_cap >= max + 1) and its length to *len. */
void cr_read_varstr(struct cr_reader *r, char *out, size_t out_cap, size_t max, size_t *len);

/* Writers: on failure write nothing and set w->err = CR_E_OVERFLOW. */
void cr_write_u8(struct cr_writer *w, uint8_t v);
void cr_write_u16le(struct cr_writer *w, uint16_t v);
void cr_write_u16be(struct cr_writer *w, uint16_t v);
void cr_write_u32le(struct cr_writer *w, uint32_t v);
void cr_write_u64le(struct cr_writer *w, uint64_t v);
void cr_write_bytes(struct cr_writer *w, const void *p, size_t len);
void cr_write_compact(struct cr_writer *w, uint64_t v);
void cr_write_varstr(struct cr_writer *w, const char *s, size_t len);
/* Encoded size of a CompactSize value: 1, 3, 5 or 9. */
size_t cr_compact_size(uint64_t v);

/* Plain little-endian helpers for fixed layouts. */
static inline uint32_t cr_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void cr_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline uint64_t cr_le64(const uint8_t *p)
{
	return (uint64_t)cr_le32(p) | (uint64_t)cr_le32(p + 4) << 32;
}

static inline void cr_put_le64(uint8_t *p, uint64_t v)
{
	cr_put_le32(p, (uint32_t)v);
	cr_put_le32(p + 4, (uint32_t)(v >> 32));
}

#endif
