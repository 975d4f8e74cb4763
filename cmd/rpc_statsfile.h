/* connringd's -statsfile: totals and every peer as one JSON document,
 * written with jansson through a temporary file and a rename. A peer's
 * user agent and message-type names are the peer's bytes: printable ASCII
 * is kept (jansson escapes quotes and backslashes) and every other byte is
 * written as the text \xNN, so whatever a peer sends, the file is valid
 * JSON and UTF-8 and says exactly what was received. Not from an engine
 * thread (it waits for the workers' snapshots). */
#ifndef CR_CMD_RPC_STATSFILE_H
#define CR_CMD_RPC_STATSFILE_H

#include <stddef.h>

#include <connring/connring.h>

/* Returns 0, or -errno with err filled. */
int cr_statsfile_write(struct cr_engine *e, const char *path, char *err, size_t err_len);

/* Printable ASCII kept, other bytes as \xNN (out holds 4 * len + 1). */
void cr_statsfile_escape(char *out, const char *in, size_t len);

#endif
