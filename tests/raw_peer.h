/* A raw V1 peer for engine tests: a plain blocking TCP socket on loopback
 * that frames messages by hand (proto/v1) and does the version/verack
 * handshake itself, so a test can misbehave exactly as an attacker would
 * (never read, stall mid-message, lie about lengths). Header-only, tests
 * only; expects check.h first. */
#ifndef CR_TESTS_RAW_PEER_H
#define CR_TESTS_RAW_PEER_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/chain.h"
#include "proto/msg.h"
#include "proto/v1.h"
#include "proto/wire.h"

/* Connects to 127.0.0.1:port; rcvbuf > 0 sets SO_RCVBUF first (a small one
 * makes a peer that never reads fill up fast). */
static inline int raw_connect_buf(uint16_t port, int rcvbuf)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK_EQ(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	return fd;
}

static inline int raw_connect(uint16_t port)
{
	return raw_connect_buf(port, 0);
}

/* Writes all of buf (a blocking socket may take it in pieces). */
static inline void raw_write(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n <= 0)
			break;
		p += n;
		len -= (size_t)n;
	}
	CHECK_EQ(len, 0);
}

/* One regtest V1 message with a payload of up to 4 KiB. */
static inline void raw_send(int fd, const char *cmd, const uint8_t *payload, size_t len)
{
	uint8_t buf[CR_V1_HEADER_SIZE + 4096];
	if (len)
		memcpy(buf + CR_V1_HEADER_SIZE, payload, len);
	int n = cr_v1_encode(buf, sizeof buf, cr_chain_get(CR_CHAIN_REGTEST)->magic, cmd, (uint32_t)len);
	CHECK(n > 0);
	if (n > 0)
		raw_write(fd, buf, (size_t)n);
}

/* Our side of the handshake: version (user agent "/raw:1/"), verack. */
static inline void raw_handshake(int fd)
{
	struct cr_version v;
	memset(&v, 0, sizeof v);
	v.version = 70016;
	v.nonce = 0x1234;
	v.user_agent_len = 6;
	memcpy(v.user_agent, "/raw:1/", 6);
	uint8_t p[CR_MSG_VERSION_SIZE_MAX];
	int n = cr_msg_version_encode(p, sizeof p, &v);
	CHECK(n > 0);
	raw_send(fd, "version", p, (size_t)n);
	raw_send(fd, "verack", NULL, 0);
}

/* The header of a message of len payload bytes whose payload is the
 * pattern raw_payload_byte(i) (its checksum computed over that). */
static inline uint8_t raw_payload_byte(size_t i)
{
	return (uint8_t)(i * 7 + (i >> 9));
}

static inline void raw_pattern_header(uint8_t hdr[CR_V1_HEADER_SIZE], const char *cmd, size_t len)
{
	uint8_t *payload = malloc(len ? len : 1);
	for (size_t i = 0; i < len; i++)
		payload[i] = raw_payload_byte(i);
	cr_v1_encode_header(hdr, cr_chain_get(CR_CHAIN_REGTEST)->magic, cmd, payload, (uint32_t)len);
	free(payload);
}

/* Bytes [from, to) of that payload. */
static inline void raw_pattern_send(int fd, size_t from, size_t to)
{
	uint8_t chunk[16384];
	while (from < to) {
		size_t n = to - from < sizeof chunk ? to - from : sizeof chunk;
		for (size_t i = 0; i < n; i++)
			chunk[i] = raw_payload_byte(from + i);
		raw_write(fd, chunk, n);
		from += n;
	}
}

#endif
