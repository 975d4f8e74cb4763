/* connringd's options for automatic connections (-dnsseed, -seednode,
 * -onlynet, -asmap and the test-only ones): their defaults and their
 * hand-over to the engine's config; cmd/conf.c parses them into struct
 * cr_dopts_sched with its option kinds; see conf.h. Sans-IO,
 * no globals; any thread. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/conf.h"

/* The error text in err; -EINVAL. */
#define FAIL(err, len, ...) (snprintf((err), (len), __VA_ARGS__), -EINVAL)

void cr_dopts_sched_init(struct cr_dopts_sched *s)
{
	memset(s, 0, sizeof *s);
	s->dnsseed = true;
	s->fixedseeds = true;
}

int cr_dopts_sched_apply(const struct cr_dopts_sched *s, bool have_connect, struct cr_config *cfg,
			 char *err, size_t len)
{
	const char *name = "dnsseed";
	int r = cr_config_set_auto_connect(cfg, !have_connect);
	if (!r)
		r = cr_config_set_dnsseed(cfg, s->dnsseed && !have_connect);
	if (!r && (name = "forcednsseed"))
		r = cr_config_set_forcednsseed(cfg, s->forcednsseed);
	if (!r && (name = "fixedseeds"))
		r = cr_config_set_fixedseeds(cfg, s->fixedseeds);
	if (!r && (name = "onlynet"))
		r = cr_config_set_onlynet(cfg, s->onlynet);
	if (!r && s->asmap[0] && (name = "asmap"))
		r = cr_config_set_asmap_path(cfg, s->asmap);
	if (!r && s->dnsserver[0] && (name = "dnsserver"))
		r = cr_config_set_dns_server(cfg, s->dnsserver);
	if (!r && s->feeler_ms && (name = "feelerinterval"))
		r = cr_config_set_feeler_interval_ms(cfg, s->feeler_ms);
	if (!r && s->extra_peer_ms && (name = "extrapeerinterval"))
		r = cr_config_set_extra_peer_interval_ms(cfg, s->extra_peer_ms);
	if (!r && s->stale_check_ms && (name = "staletipcheck"))
		r = cr_config_set_stale_check_ms(cfg, s->stale_check_ms);
	if (!r && s->stale_tip_ms && (name = "staletip"))
		r = cr_config_set_stale_tip_ms(cfg, s->stale_tip_ms);
	if (!r && s->save_ms && (name = "addrsaveinterval"))
		r = cr_config_set_addrman_save_ms(cfg, s->save_ms);
	if (!r && s->local_addr_ms && (name = "localaddrinterval"))
		r = cr_config_set_local_addr_interval_ms(cfg, s->local_addr_ms);
	if (!r && s->addr_send_ms && (name = "addrsendinterval"))
		r = cr_config_set_addr_send_interval_ms(cfg, s->addr_send_ms);
	if (r < 0)
		return FAIL(err, len, "-%s: %s", name, cr_strerror(r));
	for (unsigned i = 0; i < s->nseednode; i++)
		if ((r = cr_config_add_seednode(cfg, s->seednode[i])) < 0)
			return FAIL(err, len, "-seednode=%s: %s", s->seednode[i], cr_strerror(r));
	for (unsigned i = 0; i < s->nseedname; i++)
		if ((r = cr_config_add_dnsseed_name(cfg, s->seedname[i])) < 0)
			return FAIL(err, len, "-dnsseedname=%s: %s", s->seedname[i], cr_strerror(r));
	return 0;
}
