/* -statsfile with jansson; see rpc_statsfile.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd/rpc_net.h"
#include "cmd/rpc_statsfile.h"

void cr_statsfile_escape(char *out, const char *in, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len && in[i]; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c >= 0x20 && c < 0x7f)
			out[n++] = (char)c;
		else
			n += (size_t)sprintf(out + n, "\\x%02x", c);
	}
	out[n] = '\0';
}

static json_t *peer_json(const struct cr_peer_info *pi)
{
	char id[17], session[65] = "", ua[4 * (CR_UA_MAX + 1)];
	snprintf(id, sizeof(id), "%" PRIx64, pi->id);
	for (int i = 0; i < 32 && pi->transport == 2; i++)
		snprintf(session + 2 * i, 3, "%02x", pi->session_id[i]);
	cr_statsfile_escape(ua, pi->user_agent, sizeof(pi->user_agent));
	json_t *cmds = json_object();
	for (unsigned i = 0; i < pi->nmsg_stats && i < CR_MSG_STATS_MAX; i++) {
		const struct cr_msg_stats *m = &pi->msg_stats[i];
		char name[4 * sizeof(m->command)];
		cr_statsfile_escape(name, m->command, sizeof(m->command));
		json_object_set_new(cmds, name,
				    json_pack("{s:I,s:I,s:I,s:I}", "msgs_sent", (json_int_t)m->msgs_sent,
					      "bytes_sent", (json_int_t)m->bytes_sent, "msgs_recv",
					      (json_int_t)m->msgs_recv, "bytes_recv", (json_int_t)m->bytes_recv));
	}
	return json_pack("{s:s,s:s,s:b,s:i,s:s,s:b,s:i,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:o}", "id", id, "addr",
			 pi->addr_str, "inbound", pi->inbound, "transport", pi->transport, "session_id", session,
			 "handshaked", pi->handshaked, "version", (int)pi->version, "user_agent", ua,
			 "bytes_sent", (json_int_t)pi->bytes_sent, "bytes_recv", (json_int_t)pi->bytes_recv,
			 "msgs_sent", (json_int_t)pi->msgs_sent, "msgs_recv", (json_int_t)pi->msgs_recv,
			 "ping_last_us", (json_int_t)pi->ping_last_us, "ping_min_us", (json_int_t)pi->ping_min_us,
			 "cmds", cmds);
}

int cr_statsfile_write(struct cr_engine *e, const char *path, char *err, size_t err_len)
{
	struct cr_totals t;
	cr_engine_totals(e, &t, sizeof(t));
	struct cr_peer_info *pi;
	size_t n;
	if (cr_rpc_collect_peers(e, &pi, &n) != 0) {
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	json_t *peers = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(peers, peer_json(&pi[i]));
	free(pi);
	json_t *doc = json_pack("{s:{s:I,s:I,s:I,s:I,s:I,s:I},s:o}", "totals", "peers", (json_int_t)t.peers,
				"handshaked", (json_int_t)t.handshaked, "msgs_sent", (json_int_t)t.msgs_sent,
				"msgs_recv", (json_int_t)t.msgs_recv, "bytes_sent", (json_int_t)t.bytes_sent,
				"bytes_recv", (json_int_t)t.bytes_recv, "peers", peers);
	char tmp[4096];
	int r = 0;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		r = -ENAMETOOLONG;
	else if (!doc || json_dump_file(doc, tmp, JSON_COMPACT) != 0)
		r = errno ? -errno : -EIO;
	else if (rename(tmp, path) != 0)
		r = -errno;
	json_decref(doc);
	if (r)
		snprintf(err, err_len, "cannot write %s: %s", path, strerror(-r));
	return r;
}
