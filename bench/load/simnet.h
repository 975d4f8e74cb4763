/* simnet: a simulated Bitcoin network on loopback for system tests of the
 * open-connections scheduler. Shared between simnet.c (options, node
 * table, event loop) and simnet_peer.c (one connection's protocol).
 * Single-threaded; nothing here is used by other tools. */
#ifndef CR_BENCH_SIMNET_H
#define CR_BENCH_SIMNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/chain.h"
#include "proto/ellswift.h"
#include "proto/netaddr.h"
#include "proto/transport.h"

struct sim_node {
	struct cr_netaddr addr;  /* 127.a.b.c */
	uint16_t port;
	bool reachable;          /* listening; unreachable ones are only gossiped */
	bool v2_bit;             /* advertises NODE_P2P_V2 (every node accepts V1 and V2) */
	int lfd;                 /* listening socket, -1 when unreachable */
	unsigned conns, handshakes, getaddrs;
};

struct sim_conn {
	int fd;
	unsigned node;           /* index of the fake node it reached */
	struct cr_transport *t;
	uint8_t *out;            /* bytes waiting for the socket */
	size_t out_len, out_cap;
	bool got_version, sent_version, ready, wants_addrv2, getaddr_done, closing;
	char peer[64];
};

struct sim {
	const struct cr_chain *chain;
	struct cr_secp *secp;
	struct sim_node *nodes;
	unsigned nnodes;
	unsigned getaddr_count;  /* addresses per getaddr answer */
	int64_t start_ms;
	unsigned blocks_announced;
	uint64_t rng;
};

/* simnet_peer.c */
int sim_conn_start(struct sim *s, struct sim_conn *c);  /* transport as responder */
/* Feeds received bytes; returns < 0 when the connection must close. */
int sim_conn_recv(struct sim *s, struct sim_conn *c, const uint8_t *in, size_t len);
/* Queues one message; returns < 0 on failure. */
int sim_conn_send(struct sim *s, struct sim_conn *c, const char *cmd, const uint8_t *p, size_t len);
void sim_conn_free(struct sim_conn *c);
uint64_t sim_rand(struct sim *s);

#endif
