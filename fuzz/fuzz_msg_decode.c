/* libFuzzer target: every message codec on arbitrary payloads.
 *
 * Input: one byte choosing the codec, then the payload. Invariants: no
 * crash or over-read; a failed decode leaves its output zeroed; whatever
 * decodes re-encodes, decodes again to the same value, and that value
 * encodes to the same bytes (decode -> encode -> decode is stable). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/err.h"
#include "proto/msg.h"

static uint8_t out1[CR_MSG_ADDRV2_SIZE_MAX], out2[CR_MSG_ADDRV2_SIZE_MAX];
static struct cr_peeraddr e1[CR_MSG_ADDR_MAX], e2[CR_MSG_ADDR_MAX];

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* Runs decode -> encode -> decode -> encode on a fixed-size struct codec. */
#define STABLE(type, dec, enc, p, len)                                                  \
	do {                                                                            \
		type a, b;                                                              \
		memset(&a, 0xa5, sizeof(a));                                            \
		if (dec(&a, p, len) != 0) {                                             \
			if (!all_zero(&a, sizeof(a)))                                   \
				abort();                                                \
			break;                                                          \
		}                                                                       \
		int n1 = enc(out1, sizeof(out1), &a);                                   \
		if (n1 < 0 || (size_t)n1 > len + 16)                                    \
			abort();                                                        \
		memset(&b, 0x5a, sizeof(b));                                            \
		if (dec(&b, out1, (size_t)n1) != 0 || memcmp(&a, &b, sizeof(a)) != 0)   \
			abort();                                                        \
		int n2 = enc(out2, sizeof(out2), &b);                                   \
		if (n2 != n1 || memcmp(out1, out2, (size_t)n1) != 0)                    \
			abort();                                                        \
	} while (0)

static void addr_stable(bool v2, const uint8_t *p, size_t len)
{
	struct cr_addr_list a = {.entries = e1, .cap = CR_MSG_ADDR_MAX};
	struct cr_addr_list b = {.entries = e2, .cap = CR_MSG_ADDR_MAX};
	int (*dec)(struct cr_addr_list *, const uint8_t *, size_t) =
		v2 ? cr_msg_addrv2_decode : cr_msg_addr_decode;
	int (*enc)(uint8_t *, size_t, const struct cr_addr_list *) =
		v2 ? cr_msg_addrv2_encode : cr_msg_addr_encode;

	memset(e1, 0, sizeof(e1));
	if (dec(&a, p, len) != 0) {
		if (a.count || a.skipped || !all_zero(e1, sizeof(e1)))
			abort();
		return;
	}
	if (a.count + a.skipped > CR_MSG_ADDR_MAX)
		abort();
	int n1 = enc(out1, sizeof(out1), &a);
	if (n1 < 0)
		abort();
	if (a.skipped == 0 && (size_t)n1 != len && !v2)
		abort(); /* addr has one encoding per entry: same length */
	if (dec(&b, out1, (size_t)n1) != 0 || b.count != a.count || b.skipped != 0 ||
	    memcmp(e1, e2, a.count * sizeof(e1[0])) != 0)
		abort();
	int n2 = enc(out2, sizeof(out2), &b);
	if (n2 != n1 || memcmp(out1, out2, (size_t)n1) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const uint8_t *p = data + 1;
	size_t len = size - 1;

	switch (data[0] % 8) {
	case 0:
		STABLE(struct cr_version, cr_msg_version_decode, cr_msg_version_encode, p, len);
		break;
	case 1:
		STABLE(struct cr_ping, cr_msg_ping_decode, cr_msg_ping_encode, p, len);
		STABLE(struct cr_ping, cr_msg_pong_decode, cr_msg_pong_encode, p, len);
		break;
	case 2:
		STABLE(struct cr_feefilter, cr_msg_feefilter_decode, cr_msg_feefilter_encode, p, len);
		break;
	case 3:
		STABLE(struct cr_sendcmpct, cr_msg_sendcmpct_decode, cr_msg_sendcmpct_encode, p, len);
		break;
	case 4:
		if ((cr_msg_empty_decode(p, len) == 0) != (len == 0))
			abort();
		if (cr_msg_empty_encode(out1, sizeof(out1)) != 0)
			abort();
		break;
	case 5:
		addr_stable(false, p, len);
		break;
	case 6:
		addr_stable(true, p, len);
		break;
	default: {
		/* The command table: any string maps to a type whose command
		 * maps back, or to CR_MSG_OTHER. */
		char cmd[16] = {0};
		memcpy(cmd, p, len < 15 ? len : 15);
		enum cr_msg_type t = cr_msg_type(cmd);
		if (t != CR_MSG_OTHER && strcmp(cr_msg_command(t), cmd) != 0)
			abort();
		break;
	}
	}
	return 0;
}
