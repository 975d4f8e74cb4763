/* The coordinator's address manager on disk: peers.dat is loaded at start
 * and saved at a clean stop (its addresses survive a restart), saved
 * periodically while the engine runs, a corrupt file is set aside and the
 * engine starts fresh, a bad asmap refuses to start; the new setters check
 * their values. */
#include "check.h"
#include "engine_util.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr/addrman.h"
#include "addr/addrstr.h"

static char dir[] = "/tmp/cr_addrfile_XXXXXX";

static void path_in(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", dir, name);
}

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static struct cr_engine *start(struct rec *r, const char *peers, unsigned save_ms)
{
	struct cr_config *c = test_config(r, "A", NULL);
	CHECK_EQ(cr_config_set_peers_path(c, peers), 0);
	if (save_ms)
		CHECK_EQ(cr_config_set_addrman_save_ms(c, save_ms), 0);
	struct cr_engine *e = NULL;
	CHECK_EQ(cr_engine_new(&e, c), 0);
	cr_config_free(c);
	CHECK_EQ(cr_engine_start(e), 0);
	return e;
}

/* A file of n addresses in n /16 groups, written as the engine would. */
static void write_peers(const char *path, unsigned n)
{
	uint8_t key[32] = { 7 };
	struct cr_addrman *am = cr_addrman_new(key, NULL, 0);
	CHECK(am);
	struct cr_rng rng;
	cr_rng_seed(&rng, 1);
	struct cr_netaddr src;
	CHECK_EQ(cr_addrstr_parse_host(&src, "192.0.2.1", 9, 0), 0);
	int64_t now = (int64_t)time(NULL);
	for (unsigned k = 0; k < n; k++) {
		struct cr_peeraddr pa = { .port = 8333, .time = (uint32_t)now - 3600, .services = 9 };
		char host[32];
		snprintf(host, sizeof host, "%u.%u.7.1", 20 + k % 100, k / 100);
		CHECK_EQ(cr_addrstr_parse_host(&pa.na, host, strlen(host), 0), 0);
		cr_addrman_add(am, &pa, 1, &src, 0, now, &rng);
	}
	CHECK_EQ(cr_addrman_save(am, path), 0);
	cr_addrman_free(am);
}

static size_t count_peers(const char *path)
{
	uint8_t key[32] = { 0 };
	struct cr_addrman *am = cr_addrman_new(key, NULL, 0);
	char why[256];
	CHECK(am);
	size_t n = cr_addrman_load(am, path, why, sizeof why) == 0 ? cr_addrman_size(am, 0, CR_ADDRMAN_ANY)
								  : (size_t)-1;
	cr_addrman_free(am);
	return n;
}

static void test_engine_addrfile_restart(void)
{
	char peers[256];
	path_in(peers, sizeof peers, "peers.dat");
	write_peers(peers, 300);
	size_t before = count_peers(peers);
	CHECK(before > 250 && before <= 300);
	struct rec r;
	struct cr_engine *e = start(&r, peers, 0);
	/* the engine rewrites the file at its clean stop: remove ours so that
	 * what is there afterwards can only be the engine's */
	CHECK_EQ(unlink(peers), 0);
	cr_engine_free(e);
	CHECK(exists(peers));
	CHECK_EQ(count_peers(peers), before);
}

static void test_engine_addrfile_periodic(void)
{
	char peers[256];
	path_in(peers, sizeof peers, "periodic.dat");
	struct rec r;
	struct cr_engine *e = start(&r, peers, 50);
	CHECK(WAIT_FOR(exists(peers), 10000));
	CHECK_EQ(unlink(peers), 0);
	CHECK(WAIT_FOR(exists(peers), 10000)); /* and again */
	CHECK_EQ(count_peers(peers), 0);
	cr_engine_free(e);
}

static void test_engine_addrfile_corrupt(void)
{
	char peers[256], bad[300];
	path_in(peers, sizeof peers, "corrupt.dat");
	snprintf(bad, sizeof bad, "%s.bad-1", peers);
	FILE *f = fopen(peers, "w");
	CHECK(f);
	fputs("not an address file at all", f);
	fclose(f);
	struct rec r;
	struct cr_engine *e = start(&r, peers, 0);
	CHECK(exists(bad)); /* set aside, not destroyed */
	cr_engine_free(e);
	CHECK_EQ(count_peers(peers), 0); /* a fresh, empty one */
}

static void test_engine_addrfile_bad_asmap(void)
{
	char asmap[256];
	path_in(asmap, sizeof asmap, "asmap.dat");
	FILE *f = fopen(asmap, "w");
	CHECK(f);
	fputs("\xff\xff\xff\xff", f); /* jumps past its end: fails the sanity check */
	fclose(f);
	struct rec r;
	struct cr_config *c = test_config(&r, "A", NULL);
	CHECK_EQ(cr_config_set_asmap_path(c, asmap), 0);
	struct cr_engine *e = NULL;
	CHECK_EQ(cr_engine_new(&e, c), 0);
	cr_config_free(c);
	CHECK(cr_engine_start(e) < 0);
	cr_engine_free(e);
}

static void test_engine_addrfile_setters(void)
{
	struct cr_config *c = cr_config_new();
	CHECK(c);
	CHECK_EQ(cr_config_set_onlynet(c, CR_ONLYNET_IPV4 | CR_ONLYNET_ONION), 0);
	CHECK_EQ(cr_config_set_onlynet(c, 1), CR_E_CONFIG_RANGE);
	CHECK_EQ(cr_config_set_onlynet(c, 1u << 8), CR_E_CONFIG_RANGE);
	CHECK_EQ(cr_config_set_stale_tip_ms(c, 2), CR_E_CONFIG_RANGE);
	CHECK_EQ(cr_config_set_feeler_interval_ms(c, 0), CR_E_CONFIG_RANGE);
	CHECK_EQ(cr_config_add_dnsseed_name(c, "seed.example.org"), 0);
	CHECK_EQ(cr_config_add_dnsseed_name(c, "bad name"), CR_E_BAD_ADDRESS);
	CHECK_EQ(cr_config_add_dnsseed_name(c, ""), CR_E_BAD_ADDRESS);
	CHECK_EQ(cr_config_add_seednode(c, "seed.example.org:8333"), 0);
	CHECK_EQ(cr_config_add_seednode(c, "a b"), CR_E_BAD_ADDRESS);
	CHECK_EQ(cr_config_set_dns_server(c, "127.0.0.1:5353"), 0);
	CHECK_EQ(cr_config_set_dns_server(c, "localhost:53"), CR_E_BAD_ADDRESS);
	CHECK_EQ(cr_config_set_dns_server(c, NULL), 0);
	char big[5000];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	CHECK_EQ(cr_config_set_peers_path(c, big), CR_E_CONFIG_RANGE);
	CHECK_EQ(cr_config_set_anchors_path(c, "/tmp/x"), 0);
	/* a copy holds its own lists */
	struct cr_engine *e = NULL;
	CHECK_EQ(cr_engine_new(&e, c), 0);
	cr_config_free(c);
	cr_engine_free(e);
}

int main(void)
{
	test_watchdog();
	CHECK(mkdtemp(dir) != NULL);
	RUN(test_engine_addrfile_setters);
	RUN(test_engine_addrfile_restart);
	RUN(test_engine_addrfile_periodic);
	RUN(test_engine_addrfile_corrupt);
	RUN(test_engine_addrfile_bad_asmap);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	CHECK_EQ(system(cmd), 0);
	return check_done();
}
