/* connring-cli -netinfo: Core's dashboard of peer counts by direction and
 * network (with block-relay-only and manual columns), plus counts by
 * connection type and transport; with a level, a peer table sorted as
 * Core's (inbound first, then by minimum ping): level 1 without addresses,
 * 2 with addresses, 3 with versions, 4 with both. Pure text formatting
 * over the two results; any thread. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <connring/version.h>

#include "cmd/client_args.h"

static const char *const nets[] = {"ipv4", "ipv6", "onion", "i2p", "cjdns", "not_publicly_routable"};
static const char *const net_short[] = {"ipv4", "ipv6", "onion", "i2p", "cjdns", "npr"};
#define NNETS 6

static int net_index(const char *name)
{
	for (int i = 0; i < NNETS; i++)
		if (name && strcmp(name, nets[i]) == 0)
			return i;
	return NNETS - 1;
}

struct row {
	const json_t *p;
	bool inbound;
	double minping;
};

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	if (x->inbound != y->inbound)
		return x->inbound ? -1 : 1;
	return (x->minping > y->minping) - (x->minping < y->minping);
}

static const char *type_short(const char *t)
{
	if (!t)
		return "";
	if (strcmp(t, "outbound-full-relay") == 0)
		return "full";
	if (strcmp(t, "block-relay-only") == 0)
		return "block";
	if (strcmp(t, "addr-fetch") == 0)
		return "addr";
	if (strcmp(t, "inbound") == 0)
		return "";
	return t;
}

static void peer_table(FILE *f, const json_t *peers, int level, int64_t now)
{
	size_t n = json_array_size(peers);
	struct row *rows = calloc(n ? n : 1, sizeof(*rows));
	if (!rows)
		return;
	for (size_t i = 0; i < n; i++) {
		const json_t *p = json_array_get(peers, i);
		rows[i].p = p;
		rows[i].inbound = json_is_true(json_object_get(p, "inbound"));
		const json_t *mp = json_object_get(p, "minping");
		rows[i].minping = mp ? json_number_value(mp) : 1e18;
	}
	qsort(rows, n, sizeof(*rows), row_cmp);
	fprintf(f, "<->   type   net  v  mping   ping send recv  age id%s%s\n",
		level == 2 || level == 4 ? "                   address" : "",
		level >= 3 ? "  version" : "");
	for (size_t i = 0; i < n; i++) {
		const json_t *p = rows[i].p;
		const char *tp = json_string_value(json_object_get(p, "transport_protocol_type"));
		const json_t *mp = json_object_get(p, "minping"), *pp = json_object_get(p, "pingtime");
		char mping[16] = "", ping[16] = "";
		if (mp)
			snprintf(mping, sizeof(mping), "%.0f", json_number_value(mp) * 1000);
		if (pp)
			snprintf(ping, sizeof(ping), "%.0f", json_number_value(pp) * 1000);
		int64_t ls = json_integer_value(json_object_get(p, "lastsend"));
		int64_t lr = json_integer_value(json_object_get(p, "lastrecv"));
		int64_t ct = json_integer_value(json_object_get(p, "conntime"));
		fprintf(f, "%-4s %6s %5s %2s %6s %6s %4" PRId64 " %4" PRId64 " %4" PRId64 " %" JSON_INTEGER_FORMAT,
			rows[i].inbound ? "in" : "out",
			type_short(json_string_value(json_object_get(p, "connection_type"))),
			net_short[net_index(json_string_value(json_object_get(p, "network")))],
			tp && tp[0] == 'v' ? tp + 1 : "", mping, ping, ls ? now - ls : 0, lr ? now - lr : 0,
			ct ? (now - ct) / 60 : 0, json_integer_value(json_object_get(p, "id")));
		if (level == 2 || level == 4)
			fprintf(f, "  %s", json_string_value(json_object_get(p, "addr")));
		if (level >= 3)
			fprintf(f, "  %" JSON_INTEGER_FORMAT "%s", json_integer_value(json_object_get(p, "version")),
				json_string_value(json_object_get(p, "subver")));
		fputc('\n', f);
	}
	fprintf(f, "                     ms     ms  sec  sec  min\n\n");
	free(rows);
}

char *cr_client_netinfo(const json_t *ni, const json_t *peers, int level, int64_t now)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	unsigned cnt[2][NNETS] = {{0}}, block = 0, manual = 0, v1 = 0, v2 = 0;
	static const char *const types[] = {"inbound", "outbound-full-relay", "block-relay-only",
					    "manual", "feeler", "addr-fetch"};
	unsigned by_type[6] = {0};
	size_t i;
	const json_t *p;
	json_array_foreach(peers, i, p) {
		bool in = json_is_true(json_object_get(p, "inbound"));
		cnt[in ? 0 : 1][net_index(json_string_value(json_object_get(p, "network")))]++;
		const char *t = json_string_value(json_object_get(p, "connection_type"));
		for (int k = 0; k < 6; k++)
			if (t && strcmp(t, types[k]) == 0)
				by_type[k]++;
		block += t && strcmp(t, "block-relay-only") == 0;
		manual += t && strcmp(t, "manual") == 0;
		const char *tp = json_string_value(json_object_get(p, "transport_protocol_type"));
		v1 += tp && strcmp(tp, "v1") == 0;
		v2 += tp && strcmp(tp, "v2") == 0;
	}
	fprintf(f, "connring client v%s - server %" JSON_INTEGER_FORMAT "%s\n\n", CR_VERSION,
		json_integer_value(json_object_get(ni, "protocolversion")),
		json_string_value(json_object_get(ni, "subversion")) ?: "");
	if (level > 0)
		peer_table(f, peers, level, now);
	fprintf(f, "     ");
	for (int k = 0; k < NNETS; k++)
		fprintf(f, "%8s", net_short[k]);
	fprintf(f, "   total   block  manual\n");
	const char *const dir[] = {"in", "out", "total"};
	for (int d = 0; d < 3; d++) {
		unsigned tot = 0;
		fprintf(f, "%-5s", dir[d]);
		for (int k = 0; k < NNETS; k++) {
			unsigned v = d < 2 ? cnt[d][k] : cnt[0][k] + cnt[1][k];
			tot += v;
			fprintf(f, "%8u", v);
		}
		fprintf(f, "%8u", tot);
		if (d == 1)
			fprintf(f, "%8u%8u", block, manual);
		fputc('\n', f);
	}
	fprintf(f, "\nby type:");
	for (int k = 0; k < 6; k++)
		fprintf(f, "%s %s %u", k ? "," : "", types[k], by_type[k]);
	fprintf(f, "\nby transport: v1 %u, v2 %u\n", v1, v2);
	const json_t *la = json_object_get(ni, "localaddresses");
	fprintf(f, "\nLocal addresses: %s\n", json_array_size(la) ? "" : "n/a");
	const json_t *a;
	json_array_foreach(la, i, a)
		fprintf(f, "%-40s port %6" JSON_INTEGER_FORMAT "    score %6" JSON_INTEGER_FORMAT "\n",
			json_string_value(json_object_get(a, "address")),
			json_integer_value(json_object_get(a, "port")),
			json_integer_value(json_object_get(a, "score")));
	fclose(f);
	return buf;
}
