/* connringd's options for automatic connections (-dnsseed, -seednode,
 * -onlynet, -asmap and the test-only ones), parsed into struct
 * cr_dopts_sched and handed to the engine's config; see conf.h. Sans-IO,
 * no globals; any thread. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/conf.h"

static int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

void cr_dopts_sched_init(struct cr_dopts_sched *s)
{
	memset(s, 0, sizeof *s);
	s->dnsseed = true;
	s->fixedseeds = true;
}

static int set_bool(bool *dst, const char *name, const char *v, char *err, size_t len)
{
	if (!v || strcmp(v, "1") == 0)
		*dst = true;
	else if (strcmp(v, "0") == 0)
		*dst = false;
	else
		return fail(err, len, "-%s=%s: expected 0 or 1", name, v);
	return 0;
}

static int set_ms(unsigned *dst, const char *name, const char *v, char *err, size_t len)
{
	char *end;
	errno = 0;
	unsigned long n = v ? strtoul(v, &end, 10) : 0;
	if (!v || !*v || *end || errno || v[0] == '-' || n < 1 || n > 86400000ul)
		return fail(err, len, "-%s: expected milliseconds, 1..86400000", name);
	*dst = (unsigned)n;
	return 0;
}

static int add(char *slot0, size_t width, unsigned *n, const char *name, const char *v, char *err,
	       size_t len)
{
	if (!v || !*v || strcmp(v, "0") == 0) { /* -noseednode: none */
		*n = 0;
		return 0;
	}
	if (strlen(v) >= width)
		return fail(err, len, "-%s=%.64s: longer than %zu characters", name, v, width - 1);
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return fail(err, len, "-%s=%s: expected host[:port]", name, v);
	if (*n >= CR_DOPTS_SEED_MAX)
		return fail(err, len, "-%s: more than %u entries", name, CR_DOPTS_SEED_MAX);
	memcpy(slot0 + (size_t)(*n)++ * width, v, strlen(v) + 1);
	return 0;
}

static int onlynet(struct cr_dopts_sched *s, const char *v, char *err, size_t len)
{
	static const struct { const char *name; unsigned bit; } nets[] = {
		{ "ipv4", CR_ONLYNET_IPV4 }, { "ipv6", CR_ONLYNET_IPV6 }, { "onion", CR_ONLYNET_ONION },
		{ "i2p", CR_ONLYNET_I2P },   { "cjdns", CR_ONLYNET_CJDNS },
	};
	if (!v || strcmp(v, "0") == 0) {
		s->onlynet = 0;
		return 0;
	}
	for (size_t i = 0; i < sizeof nets / sizeof nets[0]; i++)
		if (strcmp(v, nets[i].name) == 0) {
			s->onlynet |= nets[i].bit;
			return 0;
		}
	return fail(err, len, "-onlynet=%s: expected ipv4, ipv6, onion, i2p or cjdns", v);
}

int cr_dopts_sched_set(struct cr_dopts_sched *s, const char *name, const char *v, char *err,
		       size_t len)
{
	if (strcmp(name, "dnsseed") == 0)
		return set_bool(&s->dnsseed, name, v, err, len);
	if (strcmp(name, "forcednsseed") == 0)
		return set_bool(&s->forcednsseed, name, v, err, len);
	if (strcmp(name, "fixedseeds") == 0)
		return set_bool(&s->fixedseeds, name, v, err, len);
	if (strcmp(name, "seednode") == 0)
		return add(s->seednode[0], sizeof s->seednode[0], &s->nseednode, name, v, err, len);
	if (strcmp(name, "dnsseedname") == 0)
		return add(s->seedname[0], sizeof s->seedname[0], &s->nseedname, name, v, err, len);
	if (strcmp(name, "onlynet") == 0)
		return onlynet(s, v, err, len);
	if (strcmp(name, "asmap") == 0 || strcmp(name, "dnsserver") == 0) {
		char *dst = name[0] == 'a' ? s->asmap : s->dnsserver;
		size_t cap = name[0] == 'a' ? sizeof s->asmap : sizeof s->dnsserver;
		if (v && strcmp(v, "0") == 0) { /* -noasmap, -nodnsserver: none */
			dst[0] = 0;
			return 0;
		}
		if (!v || !*v)
			return fail(err, len, "-%s needs a value", name);
		if (strlen(v) >= cap)
			return fail(err, len, "-%s: longer than %zu characters", name, cap - 1);
		memcpy(dst, v, strlen(v) + 1);
		return 0;
	}
	unsigned *ms = strcmp(name, "feelerinterval") == 0      ? &s->feeler_ms
		       : strcmp(name, "extrapeerinterval") == 0 ? &s->extra_peer_ms
		       : strcmp(name, "staletipcheck") == 0     ? &s->stale_check_ms
		       : strcmp(name, "staletip") == 0          ? &s->stale_tip_ms
		       : strcmp(name, "addrsaveinterval") == 0  ? &s->save_ms
							       : NULL;
	if (!ms)
		return fail(err, len, "unknown option -%s", name);
	return set_ms(ms, name, v, err, len);
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
	if (r < 0)
		return fail(err, len, "-%s: %s", name, cr_strerror(r));
	for (unsigned i = 0; i < s->nseednode; i++)
		if ((r = cr_config_add_seednode(cfg, s->seednode[i])) < 0)
			return fail(err, len, "-seednode=%s: %s", s->seednode[i], cr_strerror(r));
	for (unsigned i = 0; i < s->nseedname; i++)
		if ((r = cr_config_add_dnsseed_name(cfg, s->seedname[i])) < 0)
			return fail(err, len, "-dnsseedname=%s: %s", s->seedname[i], cr_strerror(r));
	return 0;
}
