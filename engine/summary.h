/* The coordinator's table of peer summaries: what the coordinator knows of
 * every ready peer (and of every outbound connection it opened, from the
 * handshake on), fed only by events the workers post (ready, update,
 * closed) -- the coordinator never reads a worker's memory.
 *
 * Who uses it: the open-connections scheduler (outbound counts by type,
 * netgroups, connected addresses), inbound eviction (issue 9: connected
 * time, min ping, last block and transaction times, relaytxes, keyed
 * netgroup, network, permissions, discouraged) and the control plane
 * (issue 11, through cr__summary_snapshot).
 *
 * Threads: every function except cr__summary_snapshot runs on the
 * coordinator thread only, on the table in e->co.sum; a row pointer is
 * valid until the next add or remove. cr__summary_snapshot may be called
 * from any thread that is not an engine thread: it asks the coordinator
 * through its mailbox and gets a copy. */
#ifndef CR_ENGINE_SUMMARY_H
#define CR_ENGINE_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <connring/connring.h>

#include "addr/netgroup.h"
#include "engine/policy/ipset.h"
#include "proto/netaddr.h"

struct cr_asmap;
struct cr__peer_ev;

struct cr__peer_summary {
	uint64_t id;               /* peer id */
	uint64_t seq;              /* order of arrival (Core's NodeId order) */
	uint64_t token;            /* coordinator's connect token (0: inbound, cr_connect) */
	uint8_t type;              /* enum cr_conn_type */
	uint8_t net;               /* BIP155 network of addr (0: a proxy name) */
	uint8_t netclass;          /* enum cr_netclass of addr: the network it came through */
	uint8_t transport;         /* 1 = V1, 2 = V2 */
	bool ready;                /* handshake done (rows of failed connects never are) */
	bool relaytxes;            /* fRelay in its version */
	bool discouraged;          /* its address is discouraged (ban list) */
	bool disconnecting;        /* the coordinator asked it to close */
	bool addr_relay;           /* address relay enabled (coord_addr.c) */
	bool addrv2;               /* it sent sendaddrv2 */
	uint32_t permissions;      /* permission flags (issue 9), 0 = none */
	struct cr_netaddr addr;
	uint16_t port;
	uint8_t group_len;
	uint8_t group[CR_NETGROUP_MAX]; /* netgroup (asmap when loaded) */
	uint64_t keyed_group;      /* keyed with the start-up secret */
	uint64_t services;
	int32_t version;
	int64_t connected_us;      /* wall clock */
	int64_t min_ping_us;       /* -1 = none measured */
	int64_t last_block_us;     /* wall clock, 0 = never */
	int64_t last_tx_us;
};

struct cr__summaries {
	struct cr__peer_summary *rows;
	size_t n, cap;
	uint32_t *index;           /* open addressing: row + 1, 0 = empty */
	size_t index_cap;          /* power of two */
	uint64_t next_seq;
	uint64_t keyed_secret;
	const struct cr_asmap *asmap;
	unsigned ng_flags;
	struct cr_ipset addrs;     /* every row's address, counted */
	unsigned by_type[CR_CONN_TYPES];
	/* bumped by add, remove and an update that changes addr_relay or
	 * addrv2: whoever caches a view of the rows (coord_addr.c's relay
	 * candidates) rebuilds it when this moved */
	uint64_t gen;
};

/* secret keys the netgroups and the address set; asmap may be NULL.
 * Returns 0 or -ENOMEM. */
int cr__summaries_init(struct cr__summaries *t, uint64_t secret, uint64_t k0, uint64_t k1,
		       const struct cr_asmap *asmap, unsigned ng_flags);
void cr__summaries_clear(struct cr__summaries *t);

/* A ready peer (or an outbound one the coordinator is waiting for).
 * Returns the row (existing rows are updated in place) or NULL on ENOMEM. */
struct cr__peer_summary *cr__summary_add(struct cr__summaries *t, uint64_t id,
					 const struct cr__peer_ev *ev,
					 const struct sockaddr_storage *addr);
/* NULL when absent. */
struct cr__peer_summary *cr__summary_find(const struct cr__summaries *t, uint64_t id);
/* Applies an update event (min ping, last block/tx times; times only move
 * forward; address relay: once on, it stays on). No-op for an unknown id. */
void cr__summary_update(struct cr__summaries *t, uint64_t id, const struct cr__peer_ev *ev);
/* Removes id; *out (may be NULL) gets the row as it was. Returns false
 * when absent. */
bool cr__summary_remove(struct cr__summaries *t, uint64_t id, struct cr__peer_summary *out);

static inline size_t cr__summary_count(const struct cr__summaries *t)
{
	return t->n;
}
static inline struct cr__peer_summary *cr__summary_at(const struct cr__summaries *t, size_t i)
{
	return &t->rows[i];
}

/* A copy of every row, from a non-engine thread: *rows is malloc'd (free()
 * it), *n its length. Returns 0, -ESHUTDOWN (engine not running), -ENOMEM
 * or -EDEADLK (called from an engine thread). */
int cr__summary_snapshot(struct cr_engine *e, struct cr__peer_summary **rows, size_t *n);

#endif
