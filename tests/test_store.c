/* Tests of addr/store: round trip, every kind of bad file set aside with a
 * reason, failed saves that keep the old file, and a kill test: a writer
 * process is SIGKILLed at random points during saves, and after each kill
 * the file holds the last completed save or the one in progress, never a
 * corrupt file. Temporaries are unique, 0600, never follow a symlink, and
 * crash leftovers are swept. Uses a mkdtemp directory under /tmp, removed at
 * the end. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "addr/anchors.h"
#include "addr/store.h"
#include "addr/err.h"
#include "check.h"

#define MAGIC 0x54534554u /* "TEST" */

static char dir[64];
static uint64_t seed;

static void path_of(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%.63s/%.200s", dir, name);
}

static void clean_dir(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[512];
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		path_of(p, sizeof(p), e->d_name);
		if (unlink(p) < 0)
			rmdir(p);
	}
	if (d)
		closedir(d);
}

/* How many files of dir are temporaries of the target named base. */
static int count_tmps(const char *base)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char pre[300];
	int n = 0;
	snprintf(pre, sizeof(pre), "%s.new-", base);
	while (d && (e = readdir(d)))
		n += strncmp(e->d_name, pre, strlen(pre)) == 0;
	if (d)
		closedir(d);
	return n;
}

static long file_size(const char *p)
{
	struct stat st;
	return stat(p, &st) < 0 ? -1 : (long)st.st_size;
}

static void write_raw(const char *p, const uint8_t *d, size_t n)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0);
	CHECK_EQ(write(fd, d, n), (long)n);
	close(fd);
}

static size_t read_raw(const char *p, uint8_t *d, size_t cap)
{
	int fd = open(p, O_RDONLY);
	CHECK(fd >= 0);
	ssize_t r = read(fd, d, cap);
	close(fd);
	return r < 0 ? 0 : (size_t)r;
}

static void test_store_round_trip(void)
{
	char p[512];
	uint8_t body[1000], *got;
	size_t len;
	uint32_t v;

	clean_dir();
	path_of(p, sizeof(p), "rt.dat");
	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)(i * 7);
	CHECK_EQ(cr_store_load(p, MAGIC, 1, &v, &got, &len, NULL, 0), -ENOENT);
	CHECK(got == NULL);
	CHECK_EQ(cr_store_save(p, MAGIC, 1, body, sizeof(body)), 0);
	CHECK_EQ(file_size(p), (long)(sizeof(body) + 48));
	CHECK_EQ(cr_store_load(p, MAGIC, 1, &v, &got, &len, NULL, 0), 0);
	CHECK_EQ(v, 1);
	CHECK_EQ(len, sizeof(body));
	CHECK(got && memcmp(got, body, len) == 0);
	free(got);
	/* An older version loads under a newer max_version. */
	CHECK_EQ(cr_store_load(p, MAGIC, 7, &v, &got, &len, NULL, 0), 0);
	free(got);
	/* Empty body. */
	CHECK_EQ(cr_store_save(p, MAGIC, 0, NULL, 0), 0);
	CHECK_EQ(cr_store_load(p, MAGIC, 0, &v, &got, &len, NULL, 0), 0);
	CHECK(got != NULL);
	CHECK_EQ(len, 0);
	CHECK_EQ(v, 0);
	free(got);
	/* No temporary file is left behind. */
	CHECK_EQ(count_tmps("rt.dat"), 0);
}

/* The file and its temporary are 0600 whatever the umask allows, and a
 * stale temporary (ours by name, even a symlink) is removed by the next
 * save without touching what it points to; other names are left alone. */
static void test_store_mode_and_tmp(void)
{
	char p[512], stale[600], link_[600], other[600], target[600];
	uint8_t body[8] = {1};
	struct stat st;

	clean_dir();
	path_of(p, sizeof(p), "m.dat");
	mode_t old = umask(022);
	CHECK_EQ(cr_store_save(p, MAGIC, 1, body, sizeof(body)), 0);
	CHECK_EQ(stat(p, &st), 0);
	CHECK_EQ(st.st_mode & 0777, 0600);
	umask(old);

	snprintf(stale, sizeof(stale), "%s.new-0123456789abcdef", p);
	snprintf(link_, sizeof(link_), "%s.new-fedcba9876543210", p);
	snprintf(other, sizeof(other), "%s.new-notours", p);
	path_of(target, sizeof(target), "victim");
	write_raw(stale, body, 3);
	write_raw(other, body, 3);
	write_raw(target, body, 5);
	CHECK_EQ(symlink(target, link_), 0);
	CHECK_EQ(count_tmps("m.dat"), 3);
	CHECK_EQ(cr_store_save(p, MAGIC, 1, body, sizeof(body)), 0);
	CHECK_EQ(file_size(stale), -1);
	CHECK_EQ(lstat(link_, &st), -1);
	CHECK_EQ(file_size(other), 3);
	CHECK_EQ(file_size(target), 5); /* the symlink's target is untouched */
	CHECK_EQ(count_tmps("m.dat"), 1); /* only "notours" */
}

/* Loads a bad file and checks the error, the reason and the set-aside name. */
static void expect_bad(const char *p, int want, const char *why_has, unsigned bad_n)
{
	char why[512], bad[300];
	uint8_t *got = (uint8_t *)1;
	size_t len = 1;
	uint32_t v = 1;
	int rc = cr_store_load(p, MAGIC, 2, &v, &got, &len, why, sizeof(why));
	if (want)
		CHECK_EQ(rc, want);
	else
		CHECK(rc <= -1500 && rc >= -1505);
	CHECK(got == NULL && len == 0 && v == 0);
	CHECK(strstr(why, "moved aside") != NULL);
	if (why_has)
		CHECK(strstr(why, why_has) != NULL);
	snprintf(bad, sizeof(bad), "%s.bad-%u", p, bad_n);
	CHECK(strstr(why, bad) != NULL);
	CHECK(file_size(bad) >= 0);
	CHECK_EQ(file_size(p), -1);
}

static void test_store_bad_files(void)
{
	char p[512];
	uint8_t body[64], img[200];
	size_t n;

	clean_dir();
	path_of(p, sizeof(p), "bad.dat");
	memset(body, 0xab, sizeof(body));
	CHECK_EQ(cr_store_save(p, MAGIC, 2, body, sizeof(body)), 0);
	n = read_raw(p, img, sizeof(img));
	CHECK_EQ(n, sizeof(body) + 48);

	unsigned bad_n = 0;
	/* Every truncation. */
	for (size_t cut = 0; cut < n; cut++) {
		write_raw(p, img, cut);
		expect_bad(p, CR_E_STORE_TRUNCATED, "truncated", ++bad_n);
	}
	/* Every single-byte corruption is caught (magic, length, version or
	 * checksum), and each file goes aside under a new name. */
	for (size_t i = 0; i < n; i++) {
		img[i] ^= 0x40;
		write_raw(p, img, n);
		expect_bad(p, 0, NULL, ++bad_n);
		img[i] ^= 0x40;
	}
	clean_dir();
	/* Specific reasons. */
	write_raw(p, img, n);
	uint8_t *got;
	size_t len;
	uint32_t v;
	char why[512];
	CHECK_EQ(cr_store_load(p, MAGIC ^ 1, 2, &v, &got, &len, why, sizeof(why)),
		 CR_E_STORE_MAGIC);
	CHECK(strstr(why, "wrong magic") != NULL);
	clean_dir();
	CHECK_EQ(cr_store_save(p, MAGIC, 3, body, sizeof(body)), 0);
	expect_bad(p, CR_E_STORE_VERSION, "newer", 1);
	clean_dir();
	uint8_t longer[300];
	memcpy(longer, img, n);
	longer[n] = 0;
	write_raw(p, longer, n + 1);
	expect_bad(p, CR_E_STORE_TOOLARGE, "trailing", 1);
	/* Declared body length above the limit. */
	clean_dir();
	memcpy(longer, img, n);
	longer[8] = 0;
	longer[9] = 0;
	longer[10] = 0;
	longer[11] = 0x20; /* 512 MiB */
	write_raw(p, longer, n);
	expect_bad(p, CR_E_STORE_TOOLARGE, "above the limit", 1);
}

static void test_store_failed_save_keeps_old(void)
{
	char p[256];
	uint8_t body[32] = {1, 2, 3}, *got;
	size_t len;
	uint32_t v;

	clean_dir();
	path_of(p, sizeof(p), "keep.dat");
	CHECK_EQ(cr_store_save(p, MAGIC, 1, body, sizeof(body)), 0);
	/* A write that fails half way (the file size limit stands in for a
	 * full disk; tests/py_faults.py fills a real tmpfs): the save fails,
	 * the old file stays and no temporary is left. */
	static uint8_t big[100000];
	struct rlimit rl, small = {.rlim_cur = 4096, .rlim_max = RLIM_INFINITY};
	CHECK_EQ(getrlimit(RLIMIT_FSIZE, &rl), 0);
	small.rlim_max = rl.rlim_max;
	signal(SIGXFSZ, SIG_IGN);
	CHECK_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
	CHECK_EQ(cr_store_save(p, MAGIC, 1, big, sizeof(big)), -EFBIG);
	CHECK_EQ(setrlimit(RLIMIT_FSIZE, &rl), 0);
	signal(SIGXFSZ, SIG_DFL);
	CHECK_EQ(count_tmps("keep.dat"), 0);
	/* Too large a body is refused outright. */
	uint8_t other[16] = {9};
	CHECK_EQ(cr_store_save(p, MAGIC, 1, other, (size_t)CR_STORE_MAX_BODY + 1),
		 CR_E_STORE_TOOLARGE);
	CHECK_EQ(cr_store_load(p, MAGIC, 1, &v, &got, &len, NULL, 0), 0);
	CHECK_EQ(len, sizeof(body));
	CHECK(got && memcmp(got, body, sizeof(body)) == 0);
	free(got);
	/* A missing directory is an error, not a crash. */
	char nodir[600];
	snprintf(nodir, sizeof(nodir), "%s/none/x.dat", dir);
	CHECK_EQ(cr_store_save(nodir, MAGIC, 1, other, sizeof(other)), -ENOENT);
}

/* Generation g's body: its number, then a pattern, of a size that varies
 * so that old and new files differ in length too. */
static size_t gen_body(uint8_t *b, uint64_t g)
{
	size_t n = 8 + (size_t)((g * 7919) % 60000);
	memcpy(b, &g, 8);
	for (size_t i = 8; i < n; i++)
		b[i] = (uint8_t)(g * 31 + i);
	return n;
}

static void writer(const char *p, int fd, uint64_t g)
{
	static uint8_t b[70000];
	for (;; g++) {
		size_t n = gen_body(b, g);
		if (cr_store_save(p, MAGIC, 1, b, n) != 0)
			_exit(3);
		if (write(fd, &g, 8) != 8)
			_exit(4);
	}
}

static void test_store_kill_during_save(void)
{
	static uint8_t want[70000];
	char p[512];
	uint64_t s = seed, done = 0;
	int rounds = getenv("CR_SANITIZE") ? 60 : 300;
	int old_seen = 0, new_seen = 0, mid_write = 0;

	clean_dir();
	path_of(p, sizeof(p), "kill.dat");
	size_t n0 = gen_body(want, 0);
	CHECK_EQ(cr_store_save(p, MAGIC, 1, want, n0), 0);
	for (int r = 0; r < rounds; r++) {
		int pfd[2];
		CHECK_EQ(pipe(pfd), 0);
		pid_t pid = fork();
		if (pid == 0) {
			close(pfd[0]);
			writer(p, pfd[1], done + 1);
		}
		close(pfd[1]);
		usleep((useconds_t)(check_rand(&s) % 4000));
		kill(pid, SIGKILL);
		int st;
		waitpid(pid, &st, 0);
		CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
		uint64_t g;
		while (read(pfd[0], &g, 8) == 8)
			done = g;
		close(pfd[0]);

		/* A leftover temporary means the kill landed before the
		 * rename; the next save removes it, so there is at most one. */
		int tmps = count_tmps("kill.dat");
		CHECK(tmps <= 1);
		mid_write += tmps;
		uint8_t *got;
		size_t len;
		uint32_t v;
		char why[512];
		int rc = cr_store_load(p, MAGIC, 1, &v, &got, &len, why, sizeof(why));
		CHECK_EQ(rc, 0);
		if (rc) {
			fprintf(stderr, "round %d: %s\n", r, why);
			return;
		}
		uint64_t fg;
		CHECK(len >= 8);
		memcpy(&fg, got, 8);
		/* The last reported save, or the one the kill interrupted after
		 * its rename but before it could report. */
		CHECK(fg == done || fg == done + 1);
		old_seen += fg == done;
		new_seen += fg == done + 1;
		size_t wn = gen_body(want, fg);
		CHECK_EQ(len, wn);
		CHECK(len == wn && memcmp(got, want, len) == 0);
		free(got);
		done = fg;
	}
	printf("kill test: %d rounds, file at last reported save %d times, "
	       "at the interrupted one %d times, killed before the rename %d times, "
	       "%llu saves in all\n",
	       rounds, old_seen, new_seen, mid_write, (unsigned long long)done);
}

static void test_anchors(void)
{
	char p[512], why[512];
	struct cr_peeraddr in[3], out[CR_ANCHORS_MAX];
	size_t n = 9;

	clean_dir();
	path_of(p, sizeof(p), "anchors.dat");
	memset(in, 0, sizeof(in));
	in[0].na.net = CR_NET_IPV4;
	in[0].na.len = 4;
	memcpy(in[0].na.addr, "\x01\x02\x03\x04", 4);
	in[0].port = 8333;
	in[0].time = 1700000000;
	in[0].services = 0x409;
	in[1].na.net = CR_NET_TORV3;
	in[1].na.len = 32;
	memset(in[1].na.addr, 0xab, 32);
	in[1].port = 9050;
	in[1].services = 1;
	in[2] = in[0];
	CHECK_EQ(cr_anchors_load(p, out, &n, why, sizeof(why)), -ENOENT);
	CHECK_EQ(n, 0);
	/* 0, 1, 2 anchors round-trip; 3 is above the limit. */
	for (size_t k = 0; k <= 2; k++) {
		CHECK_EQ(cr_anchors_save(p, in, k), 0);
		CHECK_EQ(cr_anchors_load(p, out, &n, why, sizeof(why)), 0);
		CHECK_EQ(n, k);
		CHECK(memcmp(out, in, k * sizeof(*in)) == 0);
	}
	CHECK_EQ(cr_anchors_save(p, in, 3), CR_E_INVAL);
	CHECK_EQ(cr_anchors_load(p, out, &n, why, sizeof(why)), 0); /* still the 2 */
	CHECK_EQ(n, 2);
	/* A body with count 3, or a bad network, is refused and set aside. */
	uint8_t body[CR_ANCHORS_BODY_MAX + 64];
	int len = cr_anchors_encode(body, in, 2);
	CHECK(len > 0);
	for (int cut = 0; cut < len; cut++)
		CHECK_EQ(cr_anchors_decode(out, &n, body, (size_t)cut), CR_E_STORE_BODY);
	body[0] = 3;
	CHECK_EQ(cr_anchors_save(p, in, 2), 0);
	CHECK_EQ(cr_store_save(p, CR_ANCHORS_MAGIC, CR_ANCHORS_VERSION, body, (size_t)len), 0);
	CHECK_EQ(cr_anchors_load(p, out, &n, why, sizeof(why)), CR_E_STORE_BODY);
	CHECK(n == 0 && strstr(why, "moved aside") != NULL);
	body[0] = 2;
	body[1] = CR_NET_TORV2;
	CHECK_EQ(cr_anchors_decode(out, &n, body, (size_t)len), CR_E_STORE_BODY);
	/* A ban list file is not an anchors file. */
	CHECK_EQ(cr_store_save(p, 0x6e627263u, 1, body, 4), 0);
	CHECK_EQ(cr_anchors_load(p, out, &n, why, sizeof(why)), CR_E_STORE_MAGIC);
}

int main(int argc, char **argv)
{
	seed = check_seed(argc, argv);
	snprintf(dir, sizeof(dir), "/tmp/cr_store_XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_store_round_trip);
	RUN(test_store_mode_and_tmp);
	RUN(test_store_bad_files);
	RUN(test_store_failed_save_keeps_old);
	RUN(test_store_kill_during_save);
	RUN(test_anchors);
	clean_dir();
	rmdir(dir);
	return check_done();
}
