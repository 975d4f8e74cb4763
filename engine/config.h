/* The engine's configuration behind the opaque struct cr_config of
 * <connring/connring.h>. Scalar options are listed once, in
 * CR_CONFIG_SCALARS: each line is X(type, name, default, check), and from
 * it come the struct field, the default in cr_config_new and the setter
 * cr_config_set_<name>(cfg, v), which stores v when check (an expression
 * over v) holds and returns CR_E_CONFIG_RANGE otherwise. Lists, strings
 * and callbacks have setters of their own in config.c. Engine-internal. */
#ifndef CR_ENGINE_CONFIG_H
#define CR_ENGINE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include <connring/connring.h>

#include "addr/netperm.h"
#include "proto/msg.h"

#define CR_MAX_WORKERS CR_WORKERS_MAX
#define CR_BIND_MAX 8          /* listen addresses (each worker has 2x sockets) */
#define CR_HOSTPORT_MAX 128    /* "host:port" of a manual peer, with its NUL */
#define CR_RECV_BUF_COUNT_MAX 32768
#define CR_WHITELIST_MAX 256   /* -whitelist entries */
#define CR_WHITEBIND_MAX 8     /* -whitebind entries (listeners like -bind) */
#define CR_PATH_MAX 4096

static inline bool cr__pow2(unsigned v)
{
	return v && !(v & (v - 1));
}

#define CR_CONFIG_SCALARS(X)                                                            \
	X(enum cr_chain_id, chain, CR_CHAIN_MAIN, (unsigned)v < CR_CHAIN_COUNT)           \
	X(unsigned, workers, 0, v <= CR_MAX_WORKERS)                                      \
	X(bool, pin_workers, false, true)                                                 \
	X(bool, listen, true, true)                                                       \
	X(uint16_t, port, 0, true)                                                        \
	X(unsigned, max_connections, CR_DEFAULT_MAX_CONNECTIONS, v >= 1)                  \
	X(unsigned, outbound_slots, 11, true)                                             \
	X(unsigned, manual_retry_ms, 5000, true)                                          \
	X(unsigned, manual_retry_max_ms, 300000, true)                                    \
	X(bool, v2transport, true, true)                                                  \
	X(int32_t, protocol_version, CR_PROTOCOL_VERSION, v >= CR_MSG_MIN_PEER_VERSION)   \
	X(uint64_t, services, 0, true)                                                    \
	X(int32_t, start_height, 0, true)                                                 \
	X(bool, relay, true, true)                                                        \
	X(unsigned, connect_timeout_ms, 5000, v >= 1)                                     \
	X(unsigned, handshake_timeout_ms, 60000, v >= 1)                                  \
	X(unsigned, inactivity_timeout_ms, 20 * 60 * 1000, v >= 1)                        \
	X(unsigned, ping_interval_ms, 2 * 60 * 1000, v >= 1)                              \
	X(unsigned, ping_timeout_ms, 20 * 60 * 1000, v >= 1)                              \
	X(unsigned, stop_flush_ms, 2000, true)                                            \
	X(size_t, recv_flood_bytes, 5000000, true)                                        \
	X(size_t, send_buffer_bytes, 1000000, true)                                       \
	X(size_t, send_queue_max_bytes, 0, true)                                          \
	X(size_t, recv_budget_bytes, 0, true)                                             \
	X(size_t, send_budget_bytes, 0, true)                                             \
	X(unsigned, budget_stall_ms, 10000, v >= 1)                                       \
	X(size_t, zc_threshold_bytes, 65536, true)                                        \
	X(bool, zc_loopback, false, true)                                                 \
	X(unsigned, max_peers_per_worker, 0, true)                                        \
	X(unsigned, recv_buf_count, 1024, cr__pow2(v) && v <= CR_RECV_BUF_COUNT_MAX)      \
	X(unsigned, recv_buf_size, 16384, v >= 512)                                       \
	X(unsigned, ring_entries, 4096, v >= 64)                                          \
	X(bool, routable127, false, true)                                                 \
	X(bool, whitelist_relay, true, true)                                              \
	X(bool, whitelist_forcerelay, false, true)                                        \
	X(unsigned, ban_time_s, 24 * 60 * 60, v >= 1)                                     \
	X(unsigned, ban_score_threshold, 0, true)                                         \
	X(bool, flood_defence, true, true)                                                \
	X(double, flood_rate, 1.0, v >= 0.001 && v <= 1e6)                                \
	X(double, flood_burst, 10.0, v >= 1 && v <= 1e6)                                  \
	X(unsigned, flood_group_cap, 8, true)                                             \
	X(unsigned, flood_hold_s, 60, v >= 1 && v <= 86400)                               \
	X(unsigned, evict_wait_max, 64, v >= 1 && v <= 4096)                              \
	X(unsigned, evict_wait_ms, 2000, v >= 1 && v <= 60000)                            \
	X(bool, auto_connect, false, true)                                                \
	X(bool, dnsseed, true, true)                                                      \
	X(bool, forcednsseed, false, true)                                                \
	X(bool, fixedseeds, true, true)                                                   \
	X(unsigned, onlynet, 0, v < (1u << 8) && !(v & 1u))                               \
	X(unsigned, addrman_save_ms, 15 * 60 * 1000, v >= 1)                              \
	X(unsigned, feeler_interval_ms, 2 * 60 * 1000, v >= 1)                            \
	X(unsigned, extra_peer_interval_ms, 5 * 60 * 1000, v >= 1)                        \
	X(unsigned, stale_check_ms, 10 * 60 * 1000, v >= 1)                               \
	X(unsigned, stale_tip_ms, 30 * 60 * 1000, v >= 3)                                 \
	X(unsigned, addr_fetch_timeout_ms, 300000, v >= 1)                                \
	X(unsigned, addr_send_interval_ms, 30000, v >= 1)                                 \
	X(unsigned, local_addr_interval_ms, 24 * 60 * 60 * 1000, v >= 1)

/* A list of "host[:port]" strings, each malloc'd. */
struct cr_strlist {
	char **v;
	unsigned n;
};

struct cr_config {
#define CR_CONFIG_FIELD(type, name, def, check) type name;
	CR_CONFIG_SCALARS(CR_CONFIG_FIELD)
#undef CR_CONFIG_FIELD
	struct cr_strlist bind, connect, addnode;
	struct cr_strlist seednode, dnsseed_name; /* -seednode; test-only DNS seed names */
	struct cr_whitelist whitelist[CR_WHITELIST_MAX];
	unsigned nwhitelist;
	struct cr_whitebind whitebind[CR_WHITEBIND_MAX];
	unsigned nwhitebind;
	char banlist_path[CR_PATH_MAX]; /* "" = bans kept in memory only */
	char peers_path[CR_PATH_MAX];   /* the address manager's file, "" = none */
	char anchors_path[CR_PATH_MAX]; /* anchors, "" = none */
	char asmap_path[CR_PATH_MAX];   /* "" = /16 netgroups */
	char dns_server[CR_HOSTPORT_MAX]; /* test only: "ip:port" for DNS, "" = the system's */
	char proxy[CR_HOSTPORT_MAX];     /* "" = none */
	char external_ip[CR_HOSTPORT_MAX]; /* "" = none (addr_out.c advertises it) */
	char user_agent[CR_UA_MAX + 1];  /* "" = "/connring:" CR_VERSION "/" */

	void *user;
	cr_on_peer_ready_fn on_peer_ready;
	cr_on_message_fn on_message;
	cr_on_peer_closed_fn on_peer_closed;
	cr_on_log_fn on_log;
	cr_on_accept_fn on_accept;
};

/* Deep copy of src into dst (lists duplicated): 0 or -ENOMEM (dst then
 * holds no lists). cr__config_clear frees the lists of a copy. */
int cr__config_copy(struct cr_config *dst, const struct cr_config *src);
void cr__config_clear(struct cr_config *c);
/* Appends a copy of s: 0 or -ENOMEM. */
int cr__config_list_add(struct cr_strlist *l, const char *s);
/* 0 when s is "host[:port]" text a manual peer may be, else CR_E_BAD_ADDRESS. */
int cr__config_hostport_ok(const char *s);

#endif
