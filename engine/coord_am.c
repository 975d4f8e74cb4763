/* The coordinator's address manager (addr/addrman.h): created at engine
 * start with a fresh secret key, netgroups by asmap when one is given and
 * 127/8 routable when the test switch says so; loaded from the peers file
 * (a bad or newer file is set aside by addr/store with the reason logged,
 * and we start fresh: Core does the same with a corrupt peers.dat), saved
 * every addrman_save_ms and at a clean stop through addr/store's
 * crash-safe sequence. Only the coordinator thread touches e->co.am once
 * the engine runs; creation and the final free happen on the thread that
 * starts and stops the engine, while the coordinator thread is not
 * running. Saving is blocking file I/O on the coordinator thread, as the
 * ban list's: a 65,536-entry table is a few MB written once per 15
 * minutes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr/addrman.h"
#include "addr/asmap.h"
#include "addr/netgroup.h"
#include "engine/internal.h"

int64_t cr__coord_now_s(void)
{
	return (int64_t)(cr__wall_us() / 1000000u);
}

static int load_asmap(struct cr_engine *e)
{
	struct cr_coord *co = &e->co;
	const char *path = e->cfg.asmap_path;
	if (!path[0])
		return 0;
	int ret = cr_asmap_load(&co->asmap, path);
	if (ret < 0) {
		cr__log(e, CR_LOG_ERROR, CR_LOG_GENERAL, "asmap %s: %s", path, cr_strerror(ret));
		return ret;
	}
	uint8_t v[32];
	cr_asmap_version(co->asmap, v);
	cr__log(e, CR_LOG_INFO, CR_LOG_ADDRMAN, "using asmap %s, version %02x%02x%02x%02x...", path, v[0],
		v[1], v[2], v[3]);
	return 0;
}

static void load_peers(struct cr_engine *e)
{
	struct cr_coord *co = &e->co;
	const char *path = e->cfg.peers_path;
	if (!path[0])
		return;
	char why[512] = "";
	int ret = cr_addrman_load(co->am, path, why, sizeof why);
	if (ret == 0)
		cr__log(e, CR_LOG_INFO, CR_LOG_ADDRMAN, "loaded %zu addresses from %s",
			cr_addrman_size(co->am, 0, CR_ADDRMAN_ANY), path);
	else if (ret == -ENOENT)
		cr__log(e, CR_LOG_INFO, CR_LOG_ADDRMAN, "no address file %s: starting with an empty one", path);
	else
		cr__log(e, CR_LOG_WARN, CR_LOG_ADDRMAN, "address file %s not loaded (%s): starting fresh", path,
			why[0] ? why : cr_strerror(ret));
}

int cr__coord_am_start(struct cr_engine *e)
{
	struct cr_coord *co = &e->co;
	int ret = load_asmap(e);
	if (ret < 0)
		return ret;
	uint8_t key[32];
	uint64_t seed;
	cr__random(key, sizeof key);
	cr__random(&seed, sizeof seed);
	cr_rng_seed(&co->rng, seed);
	co->am = cr_addrman_new(key, co->asmap, e->cfg.routable127 ? CR_NETGROUP_LOOPBACK_ROUTABLE : 0);
	explicit_bzero(key, sizeof key);
	if (!co->am)
		return -ENOMEM;
	load_peers(e);
	if (e->nimport) { /* before the scheduler starts: its first pass sees them */
		cr__am_import(e, e->import, e->nimport);
		free(e->import);
		e->import = NULL;
		e->nimport = 0;
	}
	co->am_save_us = cr__now_us() + (uint64_t)e->cfg.addrman_save_ms * 1000u;
	return 0;
}

static void save(struct cr_engine *e)
{
	const char *path = e->cfg.peers_path;
	if (!path[0] || !e->co.am)
		return;
	int ret = cr_addrman_save(e->co.am, path);
	if (ret < 0)
		cr__log(e, CR_LOG_ERROR, CR_LOG_ADDRMAN, "saving addresses to %s: %s", path, cr_strerror(ret));
	else
		cr__log(e, CR_LOG_DEBUG, CR_LOG_ADDRMAN, "saved %zu addresses to %s",
			cr_addrman_size(e->co.am, 0, CR_ADDRMAN_ANY), path);
}

uint64_t cr__coord_am_tick(struct cr_engine *e, uint64_t now_us)
{
	struct cr_coord *co = &e->co;
	if (now_us >= co->am_save_us) {
		save(e);
		co->am_save_us = now_us + (uint64_t)e->cfg.addrman_save_ms * 1000u;
	}
	return co->am_save_us;
}

void cr__coord_am_stop(struct cr_engine *e)
{
	save(e);
}

void cr__coord_am_finish(struct cr_engine *e)
{
	struct cr_coord *co = &e->co;
	cr_addrman_free(co->am);
	co->am = NULL;
	cr_asmap_free(co->asmap);
	co->asmap = NULL;
}
