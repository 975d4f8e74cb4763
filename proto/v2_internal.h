/* Helpers shared by the v2 session files; not part of the public API. */
#ifndef CR_PROTO_V2_INTERNAL_H
#define CR_PROTO_V2_INTERNAL_H

#include <stdint.h>

#include "proto/v1.h"

/* Writes the message type for cmd into head: the 1-byte short id, or 0x00
 * and the NUL-padded command. Returns the length used (1 or 13) or
 * CR_E_V1_COMMAND. */
int cr_v2_encode_type(uint8_t head[1 + CR_COMMAND_MAX], const char *cmd);
/* Splits decrypted contents into command and payload (a view into
 * contents); sets m->reject for what Core would drop. */
void cr_v2_decode_type(struct cr_msg *m, const uint8_t *contents, uint32_t len);

#endif
