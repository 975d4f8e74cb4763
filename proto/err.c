/* Readable reasons for proto/'s CR_E_* codes; see err.h. Any thread. */
#include <string.h>

#include "proto/err.h"

struct reason {
	int code;
	const char *text;
};

static const struct reason reasons[] = {
	{CR_E_SHORT, "input ended before the value did"},
	{CR_E_OVERFLOW, "output buffer too small"},
	{CR_E_NONCANONICAL, "non-canonical CompactSize"},
	{CR_E_TOOLARGE, "size above limit"},
	{CR_E_INVAL, "invalid argument"},
	{CR_E_NOMEM, "out of memory"},
	{CR_E_CRYPTO, "crypto library failure"},
	{CR_E_V1_MAGIC, "v1: wrong network magic"},
	{CR_E_V1_COMMAND, "v1: malformed command"},
	{CR_E_V1_LENGTH, "v1: payload length above 4000000"},
	{CR_E_V1_CHECKSUM, "v1: checksum mismatch"},
	{CR_E_MSG_TRAILING, "msg: trailing bytes"},
	{CR_E_MSG_COUNT, "msg: too many entries"},
	{CR_E_MSG_ADDR, "msg: address length wrong for its network"},
	{CR_E_MSG_FIELD, "msg: field out of range"},
	{CR_E_MSG_UA, "msg: user agent longer than 256 bytes"},
	{CR_E_V2_NOTERM, "v2: garbage terminator not found"},
	{CR_E_V2_AUTH, "v2: packet authentication failed"},
	{CR_E_V2_LENGTH, "v2: packet length above limit"},
	{CR_E_V2_MAGIC, "v2: v1 version message for another network"},
	{CR_E_V2_V1FALLBACK, "v2: peer closed during key exchange (retry with v1)"},
	{CR_E_V2_SHORTID, "v2: unknown short message id"},
	{CR_E_V2_COMMAND, "v2: malformed message type"},
	{CR_E_V2_STATE, "v2: call not valid in this state"},
	{CR_E_V2_KEY, "v2: key exchange failed"},
	{CR_E_V2_EMPTY, "v2: empty application packet"},
	{CR_E_SOCKS_VERSION, "socks5: server is not SOCKS5"},
	{CR_E_SOCKS_AUTH, "socks5: no acceptable authentication method"},
	{CR_E_SOCKS_REPLY, "socks5: connect refused by proxy"},
	{CR_E_SOCKS_ADDR, "socks5: bad address type in reply"},
	{CR_E_SOCKS_HOST, "socks5: host name too long"},
	{CR_E_SOCKS_DENIED, "socks5: username/password rejected"},
	{CR_E_SOCKS_PROTO, "socks5: malformed reply"},
	{CR_E_SOCKS_STATE, "socks5: reply before the request was sent"},
};

const char *cr_proto_strerror(int err)
{
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].code == err)
			return reasons[i].text;
	if (err < 0 && err > CR_E_SHORT) /* -errno: connring ranges start at -1000 */
		return strerror(-err);
	return "unknown error";
}
