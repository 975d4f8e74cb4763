/* What bench/ceiling's client speaks to its echo server: "raw" (32-byte
 * blocks), or "v1" / "v2", the same per-message client work connring-load
 * does against connringd (V1 framing and checksums; BIP324 sealing and
 * opening), arranged so that an echoed message reads as the reply. See
 * ceiling_proto.c for how each decodes its own echo. */
#ifndef CR_BENCH_CEILING_PROTO_H
#define CR_BENCH_CEILING_PROTO_H

#include "bench/load/load_client.h"

/* Fills proto for name ("raw", "v1", "v2"); 0 or -EINVAL. For v1 and v2
 * the load's proto_arg must be the struct cr_chain to frame for. */
int ceiling_proto_init(struct load_proto *proto, const char *name);

#endif
