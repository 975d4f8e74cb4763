/* Bitcoin V1/V2 peers for the load client (connring-load); see load_btc.c.
 * btc_proto_init() fills a struct load_proto; arg must outlive the run. */
#ifndef CR_BENCH_LOAD_BTC_H
#define CR_BENCH_LOAD_BTC_H

#include "bench/load/load_client.h"
#include "proto/chain.h"

enum btc_mode { BTC_V1, BTC_V2, BTC_MIX };

struct btc_arg {
	const struct cr_chain *chain;
	enum btc_mode mode; /* mix: even peers V1, odd peers V2 */
	unsigned inv_k;
	struct sockaddr_storage dst; /* for the version message's addr_recv */
};

size_t btc_peer_size(void);
void btc_proto_init(struct load_proto *proto, const struct btc_arg *a);

#endif
