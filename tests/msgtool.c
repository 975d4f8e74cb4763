/* msgtool: connring's V1 framing and message codecs behind a command line,
 * so an independent implementation (tests/py_bitcoinlib_v1.py drives
 * python3-bitcoinlib) can check them in both directions.
 *
 *   msgtool [-chain NAME] [-chunk N] decode HEX
 *       Feeds the bytes to a V1 decoder (N bytes at a time; 0 = all at
 *       once) and prints one JSON object per message yielded, then one
 *       {"fatal": code} if the stream was cut off by a fatal error.
 *   msgtool [-chain NAME] encode COMMAND [key=value ...]
 *       Encodes one message and prints the framed bytes as hex. Keys:
 *       version: version services time recv_services recv_ip recv_port
 *         from_services from_ip from_port nonce ua (hex) height relay omitted
 *       ping, pong: nonce          feefilter: feerate
 *       sendcmpct: announce version
 *       addr: entry=TIME,SERVICES,IP,PORT (repeatable; IP as text)
 *       anything else: payload=HEX
 * Test tool only: single-threaded, exits non-zero on any error. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/chain.h"
#include "proto/err.h"
#include "proto/msg.h"
#include "proto/v1.h"

static void die(const char *what)
{
	fprintf(stderr, "msgtool: %s\n", what);
	exit(2);
}

static void print_hex(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
}

static size_t unhex(uint8_t *out, size_t cap, const char *hex)
{
	size_t n = strlen(hex);
	if (n % 2 || n / 2 > cap)
		die("bad hex");
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			die("bad hex");
		out[i] = (uint8_t)v;
	}
	return n / 2;
}

static void print_vaddr(const char *prefix, const struct cr_version_addr *a)
{
	printf(", \"%s_services\": %" PRIu64 ", \"%s_ip\": \"", prefix, a->services, prefix);
	print_hex(a->ip, 16);
	printf("\", \"%s_port\": %u", prefix, a->port);
}

static void print_version(const struct cr_version *v)
{
	printf(", \"version\": %" PRId32 ", \"services\": %" PRIu64 ", \"time\": %" PRId64,
	       v->version, v->services, v->timestamp);
	print_vaddr("recv", &v->addr_recv);
	print_vaddr("from", &v->addr_from);
	printf(", \"nonce\": %" PRIu64 ", \"ua\": \"", v->nonce);
	print_hex((const uint8_t *)v->user_agent, v->user_agent_len);
	printf("\", \"height\": %" PRId32 ", \"relay\": %s, \"omitted\": %u", v->start_height,
	       v->relay ? "true" : "false", v->omitted);
}

static void print_addrs(const struct cr_addr_list *l)
{
	printf(", \"skipped\": %zu, \"entries\": [", l->skipped);
	for (size_t i = 0; i < l->count; i++) {
		const struct cr_peeraddr *a = &l->entries[i];
		printf("%s{\"time\": %" PRIu32 ", \"services\": %" PRIu64 ", \"net\": %u, \"addr\": \"",
		       i ? ", " : "", a->time, a->services, a->na.net);
		print_hex(a->na.addr, a->na.len);
		printf("\", \"port\": %u}", a->port);
	}
	printf("]");
}

/* Decodes a message's payload with its codec and prints the fields. */
static void print_msg(const struct cr_msg *m)
{
	static struct cr_peeraddr entries[CR_MSG_ADDR_MAX];
	struct cr_addr_list l = {.entries = entries, .cap = CR_MSG_ADDR_MAX};
	struct cr_version v;
	struct cr_ping p;
	int err = 0;

	printf("{\"command\": \"%s\", \"reject\": %d, \"len\": %" PRIu32 ", \"payload\": \"", m->command,
	       m->reject, m->len);
	print_hex(m->payload, m->len);
	printf("\"");
	switch (m->reject ? CR_MSG_OTHER : cr_msg_type(m->command)) {
	case CR_MSG_VERSION:
		if (!(err = cr_msg_version_decode(&v, m->payload, m->len)))
			print_version(&v);
		break;
	case CR_MSG_PING:
	case CR_MSG_PONG:
		if (!(err = cr_msg_ping_decode(&p, m->payload, m->len)))
			printf(", \"nonce\": %" PRIu64, p.nonce);
		break;
	case CR_MSG_ADDR:
		if (!(err = cr_msg_addr_decode(&l, m->payload, m->len)))
			print_addrs(&l);
		break;
	case CR_MSG_ADDRV2:
		if (!(err = cr_msg_addrv2_decode(&l, m->payload, m->len)))
			print_addrs(&l);
		break;
	case CR_MSG_OTHER:
		break;
	default:
		/* The remaining codecs are empty or fixed-size; only the
		 * empty ones matter to the cross-check. */
		if (m->len == 0)
			err = cr_msg_empty_decode(m->payload, m->len);
		break;
	}
	if (err)
		printf(", \"error\": %d, \"reason\": \"%s\"", err, cr_proto_strerror(err));
	printf("}\n");
}

static int cmd_decode(const uint8_t *magic, size_t chunk, const char *hex)
{
	size_t cap = strlen(hex) / 2 + 1, len, pos = 0;
	uint8_t *buf = malloc(cap);
	struct cr_v1_decoder d;
	struct cr_msg m;

	if (!buf)
		die("out of memory");
	len = unhex(buf, cap, hex);
	cr_v1_decoder_init(&d, magic, 0);
	while (pos < len) {
		size_t n = chunk && chunk < len - pos ? chunk : len - pos;
		int r = cr_v1_decode(&d, &m, buf + pos, n);
		if (r < 0) {
			printf("{\"fatal\": %d, \"reason\": \"%s\"}\n", r, cr_proto_strerror(r));
			break;
		}
		pos += (size_t)r;
		if (m.command[0])
			print_msg(&m);
	}
	cr_v1_decoder_clear(&d);
	free(buf);
	return 0;
}

static const char *arg(int argc, char **argv, const char *key, const char *dflt)
{
	size_t k = strlen(key);
	for (int i = 0; i < argc; i++)
		if (strncmp(argv[i], key, k) == 0 && argv[i][k] == '=')
			return argv[i] + k + 1;
	return dflt;
}

static uint64_t num(int argc, char **argv, const char *key)
{
	return strtoull(arg(argc, argv, key, "0"), NULL, 0);
}

static void parse_ip(uint8_t ip[16], const char *text)
{
	struct in_addr v4;
	memset(ip, 0, 16);
	if (inet_pton(AF_INET, text, &v4) == 1) {
		ip[10] = ip[11] = 0xff;
		memcpy(ip + 12, &v4, 4);
	} else if (inet_pton(AF_INET6, text, ip) != 1) {
		die("bad ip");
	}
}

static void parse_vaddr(struct cr_version_addr *a, int argc, char **argv, const char *prefix)
{
	char k[32];
	snprintf(k, sizeof(k), "%s_services", prefix);
	a->services = num(argc, argv, k);
	snprintf(k, sizeof(k), "%s_ip", prefix);
	parse_ip(a->ip, arg(argc, argv, k, "0.0.0.0"));
	snprintf(k, sizeof(k), "%s_port", prefix);
	a->port = (uint16_t)num(argc, argv, k);
}

/* addr entries "TIME,SERVICES,IP,PORT" into l. */
static void parse_entries(struct cr_addr_list *l, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		char ip[64];
		unsigned long long t, s;
		unsigned port;
		if (strncmp(argv[i], "entry=", 6) != 0)
			continue;
		if (sscanf(argv[i] + 6, "%llu,%llu,%63[^,],%u", &t, &s, ip, &port) != 4 || l->count >= l->cap)
			die("bad entry");
		struct cr_peeraddr *a = &l->entries[l->count++];
		uint8_t raw[16];
		memset(a, 0, sizeof(*a));
		a->time = (uint32_t)t;
		a->services = s;
		a->port = (uint16_t)port;
		parse_ip(raw, ip);
		static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		a->na.net = memcmp(raw, mapped, 12) == 0 ? CR_NET_IPV4 : CR_NET_IPV6;
		a->na.len = a->na.net == CR_NET_IPV4 ? 4 : 16;
		memcpy(a->na.addr, a->na.net == CR_NET_IPV4 ? raw + 12 : raw, a->na.len);
	}
}

/* Encodes the payload of `cmd` at out; returns its length. */
static int encode_payload(uint8_t *out, size_t cap, const char *cmd, int argc, char **argv)
{
	static struct cr_peeraddr entries[CR_MSG_ADDR_MAX + 1];
	struct cr_addr_list l = {.entries = entries, .cap = CR_MSG_ADDR_MAX + 1};
	struct cr_version v;
	struct cr_ping p;

	switch (cr_msg_type(cmd)) {
	case CR_MSG_VERSION:
		memset(&v, 0, sizeof(v));
		v.version = (int32_t)num(argc, argv, "version");
		v.services = num(argc, argv, "services");
		v.timestamp = (int64_t)num(argc, argv, "time");
		parse_vaddr(&v.addr_recv, argc, argv, "recv");
		parse_vaddr(&v.addr_from, argc, argv, "from");
		v.nonce = num(argc, argv, "nonce");
		v.user_agent_len = (uint16_t)unhex((uint8_t *)v.user_agent, CR_MSG_UA_MAX + 1,
						   arg(argc, argv, "ua", ""));
		v.start_height = (int32_t)num(argc, argv, "height");
		v.relay = num(argc, argv, "relay") != 0;
		v.omitted = (uint8_t)num(argc, argv, "omitted");
		return cr_msg_version_encode(out, cap, &v);
	case CR_MSG_PING:
	case CR_MSG_PONG:
		p.nonce = num(argc, argv, "nonce");
		return cr_msg_ping_encode(out, cap, &p);
	case CR_MSG_ADDR:
		parse_entries(&l, argc, argv);
		return cr_msg_addr_encode(out, cap, &l);
	case CR_MSG_FEEFILTER:
		return cr_msg_feefilter_encode(out, cap, &(struct cr_feefilter){(int64_t)num(argc, argv, "feerate")});
	case CR_MSG_SENDCMPCT:
		return cr_msg_sendcmpct_encode(out, cap, &(struct cr_sendcmpct){
			num(argc, argv, "announce") != 0, num(argc, argv, "version")});
	case CR_MSG_OTHER:
		return (int)unhex(out, cap, arg(argc, argv, "payload", ""));
	default:
		return cr_msg_empty_encode(out, cap);
	}
}

static int cmd_encode(const uint8_t *magic, const char *cmd, int argc, char **argv)
{
	static uint8_t buf[CR_V1_HEADER_SIZE + CR_MSG_ADDRV2_SIZE_MAX];
	int n = encode_payload(buf + CR_V1_HEADER_SIZE, sizeof(buf) - CR_V1_HEADER_SIZE, cmd, argc, argv);
	if (n < 0) {
		fprintf(stderr, "msgtool: encode %s: %s\n", cmd, cr_proto_strerror(n));
		return 1;
	}
	n = cr_v1_encode(buf, sizeof(buf), magic, cmd, (uint32_t)n);
	if (n < 0) {
		fprintf(stderr, "msgtool: frame %s: %s\n", cmd, cr_proto_strerror(n));
		return 1;
	}
	print_hex(buf, (size_t)n);
	printf("\n");
	return 0;
}

int main(int argc, char **argv)
{
	const struct cr_chain *chain = cr_chain_get(CR_CHAIN_MAIN);
	size_t chunk = 0;
	int i = 1;

	for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		if (strcmp(argv[i], "-chain") == 0)
			chain = cr_chain_by_name(argv[i + 1]);
		else if (strcmp(argv[i], "-chunk") == 0)
			chunk = strtoul(argv[i + 1], NULL, 0);
		else
			die("unknown option");
		if (!chain)
			die("unknown chain");
	}
	if (i + 1 < argc && strcmp(argv[i], "decode") == 0)
		return cmd_decode(chain->magic, chunk, argv[i + 1]);
	if (i + 1 < argc && strcmp(argv[i], "encode") == 0)
		return cmd_encode(chain->magic, argv[i + 1], argc - i - 2, argv + i + 2);
	fprintf(stderr, "usage: msgtool [-chain NAME] [-chunk N] decode HEX | encode COMMAND [key=value ...]\n");
	return 2;
}
