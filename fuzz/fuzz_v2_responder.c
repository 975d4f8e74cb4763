/* Fuzzes a V2 responder transport with arbitrary bytes in arbitrary chunks:
 * V1 detection (and then the V1 decoder), the key, the garbage search.
 * Invariants: never consumes more than it was given and makes progress;
 * errors are sticky and have a reason; a yielded message has a command and
 * a payload within the limits; the responder sends nothing until it has
 * decided, and nothing at all once it turned V1; it is ready only as V2
 * after a full key, or as V1. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proto/err.h"
#include "proto/transport.h"
#include "proto/v2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cr_secp *secp; /* created once: contexts are expensive */

static _Alignas(16) uint8_t tbuf[4096];

/* What the responder may send, and when it may call itself ready. */
static void check_sending(struct cr_transport *t, size_t received, uint8_t mode)
{
	const uint8_t *p;
	size_t n = cr_transport_pending(t, &p);
	enum cr_transport_kind k = cr_transport_kind(t);

	if (k == CR_TRANSPORT_DETECTING)
		assert(n == 0 && !cr_transport_ready(t));
	if (k == CR_TRANSPORT_V1)
		assert(n == 0 && cr_transport_ready(t) && !cr_transport_session_id(t));
	if (k == CR_TRANSPORT_V2 && cr_transport_ready(t))
		assert(received >= 64 && cr_transport_session_id(t));
	if (n) {
		(void)(volatile uint8_t)(p[0] ^ p[n - 1]);
		cr_transport_pending_sent(t, (mode & 0x40) ? 1 : n);
	}
	if (mode & 0x20)
		cr_transport_trim(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cr_v2_entropy ent;
	struct cr_transport *t = (struct cr_transport *)tbuf;
	const struct cr_chain *chain;
	size_t off = 0, received = 0;
	int last = 0;

	if (size < 3)
		return 0;
	if (!secp) {
		uint8_t seed[32] = {1};
		secp = cr_secp_new(seed);
	}
	assert(cr_transport_size() <= sizeof(tbuf));
	chain = cr_chain_get((enum cr_chain_id)(data[0] % CR_CHAIN_COUNT));
	uint8_t chunk_max = (uint8_t)(data[1] | 1), mode = data[2];
	data += 3;
	size -= 3;
	memset(&ent, 0, sizeof(ent));
	memset(ent.seckey, 0x11, 32);
	memset(ent.ell_rnd, 0x22, 32);
	ent.garbage_len = (uint16_t)((mode & 0xf) * 37);
	assert(cr_transport_init_v2(t, chain, secp, false, &ent) == 0);

	while (off < size) {
		size_t take = size - off < chunk_max ? size - off : chunk_max;
		if (mode & 0x80)
			take = 1 + (data[off] % take); /* chunk sizes from the data */
		struct cr_msg m;
		int r = cr_transport_recv(t, &m, data + off, take);
		if (r < 0) {
			assert(cr_proto_strerror(r)[0] != '\0');
			assert(last == 0 || last == r);
			last = r;
			struct cr_msg m2;
			assert(cr_transport_recv(t, &m2, data + off, take) == r);
			break;
		}
		assert((size_t)r <= take);
		assert(r > 0 || m.command[0]);
		if (m.command[0]) {
			assert(strlen(m.command) <= CR_COMMAND_MAX);
			assert(m.payload != NULL);
			assert(m.len <= CR_V2_MAX_CONTENTS);
			if (m.len)
				(void)(volatile uint8_t)(m.payload[0] ^ m.payload[m.len - 1]);
		}
		off += (size_t)r;
		received += (size_t)r;
		check_sending(t, received, mode);
	}
	assert(cr_transport_eof(t) == 0); /* a responder never falls back */
	cr_transport_clear(t);
	return 0;
}
