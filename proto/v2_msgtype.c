/* BIP324 message types: the 1-byte short id table and the decoding of a
 * packet's contents into a command and payload. Pure: any thread. */
#include <stdio.h>
#include <string.h>

#include "proto/err.h"
#include "proto/v2.h"
#include "proto/v2_internal.h"

/* BIP324 "v2 Bitcoin P2P message structure": ids 1..28. Ids proposed by
 * later BIPs (29 and up, bip-0324/message_type_ids.md) are not final and
 * Core does not map them, so they arrive as unknown. */
static const char *const short_ids[CR_V2_SHORTID_MAX + 1] = {
	NULL, "addr", "block", "blocktxn", "cmpctblock", "feefilter", "filteradd",
	"filterclear", "filterload", "getblocks", "getblocktxn", "getdata",
	"getheaders", "headers", "inv", "mempool", "merkleblock", "notfound",
	"ping", "pong", "sendcmpct", "tx", "getcfilters", "cfilter",
	"getcfheaders", "cfheaders", "getcfcheckpt", "cfcheckpt", "addrv2",
};

const char *cr_v2_shortid_command(unsigned id)
{
	return id >= 1 && id <= CR_V2_SHORTID_MAX ? short_ids[id] : NULL;
}

unsigned cr_v2_command_shortid(const char *cmd)
{
	/* Called for every packet framed: skip on the first letter. */
	for (unsigned id = 1; id <= CR_V2_SHORTID_MAX; id++)
		if (short_ids[id][0] == cmd[0] && strcmp(short_ids[id], cmd) == 0)
			return id;
	return 0;
}

int cr_v2_encode_type(uint8_t head[1 + CR_COMMAND_MAX], const char *cmd)
{
	size_t n = strnlen(cmd, CR_COMMAND_MAX + 1);
	unsigned id;

	if (n == 0 || n > CR_COMMAND_MAX)
		return CR_E_V1_COMMAND;
	memset(head, 0, 1 + CR_COMMAND_MAX);
	memcpy(head + 1, cmd, n);
	if (!cr_v1_command_valid((const char *)head + 1))
		return CR_E_V1_COMMAND;
	id = cr_v2_command_shortid(cmd);
	if (id) {
		head[0] = (uint8_t)id;
		return 1;
	}
	return 1 + CR_COMMAND_MAX;
}

/* A rejected message still needs a non-empty, printable command for logs. */
static void stand_in(struct cr_msg *m, const uint8_t *raw, size_t n, int reason)
{
	size_t k = 0;

	for (size_t i = 0; i < n && raw[i]; i++)
		m->command[k++] = raw[i] >= 0x20 && raw[i] <= 0x7e ? (char)raw[i] : '?';
	if (k == 0)
		m->command[k++] = '?';
	m->command[k] = '\0';
	m->reject = reason;
}

void cr_v2_decode_type(struct cr_msg *m, const uint8_t *contents, uint32_t len)
{
	static const uint8_t none[1];

	memset(m, 0, sizeof(*m));
	m->payload = none;
	if (len == 0) {
		/* Core: no message type at all; dropped as unknown. */
		stand_in(m, NULL, 0, CR_E_V2_EMPTY);
		return;
	}
	if (contents[0] != 0) {
		const char *cmd = cr_v2_shortid_command(contents[0]);
		if (cmd) {
			strcpy(m->command, cmd);
		} else {
			/* "shortid:255" is 11 characters: fits a command. */
			snprintf(m->command, sizeof(m->command), "shortid:%u", contents[0]);
			m->reject = CR_E_V2_SHORTID;
		}
		m->payload = contents + 1;
		m->len = len - 1;
		return;
	}
	if (len < 1 + CR_COMMAND_MAX) {
		stand_in(m, contents + 1, len - 1, CR_E_V2_COMMAND);
		return;
	}
	stand_in(m, contents + 1, CR_COMMAND_MAX, 0);
	if (!cr_v1_command_valid((const char *)contents + 1))
		m->reject = CR_E_V2_COMMAND;
	m->payload = contents + 1 + CR_COMMAND_MAX;
	m->len = len - 1 - CR_COMMAND_MAX;
}
