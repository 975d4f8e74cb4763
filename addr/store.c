/* Crash-safe stores: atomic save (temp, fsync, rename, fsync dir) and a
 * checking load that sets bad files aside. See store.h. Coordinator thread. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr/store.h"
#include "proto/crypto.h"
#include "addr/err.h"

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Splits path into its directory (or ".") and the last component. */
static int split_path(const char *path, char *dir, size_t dir_cap, const char **base)
{
	const char *slash = strrchr(path, '/');
	*base = slash ? slash + 1 : path;
	if (!slash) {
		strcpy(dir, ".");
	} else if (slash == path) {
		strcpy(dir, "/");
	} else {
		size_t n = (size_t)(slash - path);
		if (n >= dir_cap)
			return -ENAMETOOLONG;
		memcpy(dir, path, n);
		dir[n] = 0;
	}
	return 0;
}

/* The directory entry of the rename must reach the disk too, or a crash
 * right after the rename can bring back the old name on some filesystems. */
static int fsync_dir_of(const char *path)
{
	char dir[PATH_MAX];
	const char *base;
	int rc = split_path(path, dir, sizeof(dir), &base);
	if (rc)
		return rc;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

#define TMP_TAG ".new-"
#define TMP_HEX 16

/* True for "<base>.new-" followed by exactly 16 lowercase hex digits: the
 * names only cr_store_save makes for this target. */
static bool is_our_tmp(const char *name, const char *base)
{
	size_t bl = strlen(base), tl = sizeof(TMP_TAG) - 1;
	if (strncmp(name, base, bl) || strncmp(name + bl, TMP_TAG, tl) ||
	    strlen(name + bl + tl) != TMP_HEX)
		return false;
	for (const char *p = name + bl + tl; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

/* A save killed before its rename leaves its temporary behind under a name
 * nobody else uses; remove those of this target so crashes do not pile up
 * files. unlink removes a name, never what a symlink points to. */
static void remove_stale_tmps(const char *path)
{
	char dir[PATH_MAX];
	const char *base;
	if (split_path(path, dir, sizeof(dir), &base))
		return;
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)))
		if (is_our_tmp(e->d_name, base))
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
}

/* Creates a new temporary file next to path: a random name (the kernel's
 * RNG, so no global state here), O_CREAT|O_EXCL so an existing file or
 * symlink under that name is never opened or followed (O_NOFOLLOW says so
 * once more), mode 0600 so other users cannot read what the stores hold
 * (the address manager's bucketing key; the peers we know and keep). */
static int open_tmp(const char *path, char *tmp, size_t tmp_cap)
{
	for (int attempt = 0; attempt < 8; attempt++) {
		uint64_t r;
		if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
			return errno ? -errno : -EIO;
		if ((size_t)snprintf(tmp, tmp_cap, "%s" TMP_TAG "%016llx", path,
				     (unsigned long long)r) >= tmp_cap)
			return -ENAMETOOLONG;
		int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			      0600);
		if (fd >= 0 || errno != EEXIST)
			return fd >= 0 ? fd : -errno;
	}
	return -EEXIST;
}

int cr_store_save(const char *path, uint32_t magic, uint32_t version,
		  const uint8_t *body, size_t body_len)
{
	char tmp[PATH_MAX];
	uint8_t hdr[CR_STORE_HEADER_LEN], sum[32];
	struct cr_sha256 h;
	int fd, rc;

	if (body_len > CR_STORE_MAX_BODY)
		return CR_E_STORE_TOOLARGE;
	if (body_len && !body)
		return CR_E_INVAL;
	if (strlen(path) + sizeof(TMP_TAG) + TMP_HEX > sizeof(tmp))
		return -ENAMETOOLONG;
	put32(hdr, magic);
	put32(hdr + 4, version);
	put32(hdr + 8, (uint32_t)body_len);
	put32(hdr + 12, (uint32_t)((uint64_t)body_len >> 32));
	cr_sha256_init(&h);
	cr_sha256_update(&h, hdr, sizeof(hdr));
	if (body_len)
		cr_sha256_update(&h, body, body_len);
	cr_sha256_final(&h, sum);
	cr_sha256(sum, sum, 32);

	remove_stale_tmps(path);
	fd = open_tmp(path, tmp, sizeof(tmp));
	if (fd < 0)
		return fd;
	rc = write_all(fd, hdr, sizeof(hdr));
	if (!rc && body_len)
		rc = write_all(fd, body, body_len);
	if (!rc)
		rc = write_all(fd, sum, sizeof(sum));
	/* fsync before rename: otherwise the rename may hit the disk before
	 * the data and a crash leaves an empty or partial file under path. */
	if (!rc && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path) < 0)
		rc = -errno;
	if (rc) {
		unlink(tmp);
		return rc;
	}
	return fsync_dir_of(path);
}

int cr_store_set_aside(const char *path, const char *reason, char *why, size_t why_len)
{
	char bad[PATH_MAX];
	int rc = -EEXIST;

	for (unsigned n = 1; n <= 9999 && rc == -EEXIST; n++) {
		if ((size_t)snprintf(bad, sizeof(bad), "%s.bad-%u", path, n) >= sizeof(bad))
			return -ENAMETOOLONG;
		/* link() refuses to replace an existing name, so an earlier
		 * bad file is never overwritten (rename() would). */
		rc = link(path, bad) < 0 ? -errno : 0;
	}
	if (!rc && unlink(path) < 0)
		rc = -errno;
	if (!rc)
		fsync_dir_of(path);
	if (why && why_len) {
		if (rc)
			snprintf(why, why_len, "%s: %s; could not move it aside: %s",
				 path, reason ? reason : "bad file", cr_addr_strerror(rc));
		else
			snprintf(why, why_len, "%s: %s; moved aside to %s", path,
				 reason ? reason : "bad file", bad);
	}
	return rc;
}

static int read_all(int fd, uint8_t *p, size_t n)
{
	while (n) {
		ssize_t r = read(fd, p, n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return CR_E_STORE_TRUNCATED;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Checks header and checksum of a whole file image already in memory. */
static int check_image(const uint8_t *img, size_t len, uint32_t magic,
		       uint32_t max_version, char *reason, size_t reason_len)
{
	char dummy[1];
	uint8_t sum[32];
	uint64_t body_len;
	uint32_t v;

	if (!reason || !reason_len) {
		reason = dummy;
		reason_len = sizeof(dummy);
	}
	if (len < CR_STORE_HEADER_LEN + CR_STORE_CHECKSUM_LEN) {
		snprintf(reason, reason_len, "truncated (%zu bytes, header needs %u)", len,
			 CR_STORE_HEADER_LEN + CR_STORE_CHECKSUM_LEN);
		return CR_E_STORE_TRUNCATED;
	}
	if (get32(img) != magic) {
		snprintf(reason, reason_len, "wrong magic 0x%08x (expected 0x%08x)",
			 get32(img), magic);
		return CR_E_STORE_MAGIC;
	}
	body_len = get64(img + 8);
	if (body_len > CR_STORE_MAX_BODY) {
		snprintf(reason, reason_len, "declared body of %llu bytes above the limit",
			 (unsigned long long)body_len);
		return CR_E_STORE_TOOLARGE;
	}
	if (len < CR_STORE_HEADER_LEN + body_len + CR_STORE_CHECKSUM_LEN) {
		snprintf(reason, reason_len, "truncated (%zu bytes, header says %llu)", len,
			 (unsigned long long)(CR_STORE_HEADER_LEN + body_len +
					      CR_STORE_CHECKSUM_LEN));
		return CR_E_STORE_TRUNCATED;
	}
	if (len > CR_STORE_HEADER_LEN + body_len + CR_STORE_CHECKSUM_LEN) {
		snprintf(reason, reason_len, "%llu trailing bytes after the checksum",
			 (unsigned long long)(len - CR_STORE_HEADER_LEN - body_len -
					      CR_STORE_CHECKSUM_LEN));
		return CR_E_STORE_TOOLARGE;
	}
	cr_sha256d(sum, img, CR_STORE_HEADER_LEN + (size_t)body_len);
	if (cr_memcmp_ct(sum, img + CR_STORE_HEADER_LEN + body_len, 32)) {
		snprintf(reason, reason_len, "checksum mismatch (corrupt)");
		return CR_E_STORE_CHECKSUM;
	}
	/* Version last: only a file that is intact is reported as newer. */
	v = get32(img + 4);
	if (v > max_version) {
		snprintf(reason, reason_len, "format version %u is newer than %u",
			 v, max_version);
		return CR_E_STORE_VERSION;
	}
	return 0;
}

int cr_store_parse(const uint8_t *img, size_t len, uint32_t magic, uint32_t max_version,
		   uint32_t *version, const uint8_t **body, size_t *body_len,
		   char *reason, size_t reason_len)
{
	int rc = check_image(img, len, magic, max_version, reason, reason_len);
	*version = rc ? 0 : get32(img + 4);
	*body = rc ? NULL : img + CR_STORE_HEADER_LEN;
	*body_len = rc ? 0 : (size_t)get64(img + 8);
	return rc;
}

int cr_store_load(const char *path, uint32_t magic, uint32_t max_version,
		  uint32_t *version, uint8_t **body, size_t *body_len,
		  char *why, size_t why_len)
{
	char reason[160];
	uint8_t *img = NULL;
	struct stat st;
	size_t len;
	int fd, rc;

	*body = NULL;
	*body_len = 0;
	*version = 0;
	if (why && why_len)
		why[0] = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	/* Bound the read by the format's own limit before allocating. */
	if ((uint64_t)st.st_size > (uint64_t)CR_STORE_HEADER_LEN + CR_STORE_MAX_BODY +
					   CR_STORE_CHECKSUM_LEN) {
		close(fd);
		snprintf(reason, sizeof(reason), "file of %lld bytes above the limit",
			 (long long)st.st_size);
		cr_store_set_aside(path, reason, why, why_len);
		return CR_E_STORE_TOOLARGE;
	}
	len = (size_t)st.st_size;
	img = malloc(len ? len : 1);
	if (!img) {
		close(fd);
		return CR_E_NOMEM;
	}
	rc = read_all(fd, img, len);
	close(fd);
	if (rc == CR_E_STORE_TRUNCATED) /* shrank while reading */
		len = 0;
	else if (rc) {
		free(img);
		return rc;
	}
	rc = check_image(img, len, magic, max_version, reason, sizeof(reason));
	if (rc) {
		free(img);
		cr_store_set_aside(path, reason, why, why_len);
		return rc;
	}
	*version = get32(img + 4);
	*body_len = (size_t)get64(img + 8);
	memmove(img, img + CR_STORE_HEADER_LEN, *body_len);
	*body = img;
	return 0;
}
