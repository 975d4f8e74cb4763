/* Fuzzes the SOCKS5 client with arbitrary proxy answers in arbitrary chunks.
 * Invariants: never consumes more than it was given; errors are sticky; once
 * done it consumes nothing more and its bound address fits its type; what it
 * asks to send is a prefix-consistent view of at most its buffer. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proto/err.h"
#include "proto/socks5.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	struct cr_socks5 s;
	uint8_t mode = data[0], chunk = (uint8_t)(data[1] | 1);
	data += 2;
	size -= 2;
	int r = (mode & 1) ? cr_socks5_init_auth(&s, "peer.example", 8333, "u", 1, "p", 1)
			   : cr_socks5_init(&s, (mode & 2) ? "::1" : "10.0.0.1", 8333);
	assert(r == 0);
	size_t off = 0;
	int last = 0;
	while (off < size) {
		const uint8_t *p;
		size_t n = cr_socks5_pending(&s, &p);
		assert(n <= sizeof(s.out));
		if (n) {
			cr_socks5_sent(&s, (mode & 4) ? 1 : n);
			continue;
		}
		size_t take = size - off < chunk ? size - off : chunk;
		r = cr_socks5_recv(&s, data + off, take);
		if (r < 0) {
			assert(r <= -1400 && r > -1500);
			assert(cr_socks5_recv(&s, data, 1) == r);
			assert(!cr_socks5_done(&s));
			last = r;
			break;
		}
		assert((size_t)r <= take);
		off += (size_t)r;
		if (cr_socks5_done(&s)) {
			assert(s.bound_atyp == 1 || s.bound_atyp == 3 || s.bound_atyp == 4);
			assert(s.bound_atyp != 1 || s.bound_len == 4);
			assert(s.bound_atyp != 4 || s.bound_len == 16);
			assert(s.bound_atyp != 3 || s.bound_len >= 1);
			assert(cr_socks5_recv(&s, data, size) == 0);
			break;
		}
		assert((size_t)r == take);
	}
	(void)last;
	return 0;
}
