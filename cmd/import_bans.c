/* banlist.json decoding with jansson and whole-file reading; see
 * import.h. Any thread. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include <connring/connring.h>

#include "cmd/import.h"

int cr_import_read_file(const char *path, size_t max, uint8_t **buf, size_t *len, char *why,
			size_t why_len)
{
	*buf = NULL;
	*len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		snprintf(why, why_len, "%s: %s", path, strerror(e));
		return -e;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
		snprintf(why, why_len, "%s: not a regular file of at most %zu bytes", path, max);
		close(fd);
		return -EFBIG;
	}
	uint8_t *b = malloc((size_t)st.st_size + 1);
	size_t got = 0;
	while (b && got < (size_t)st.st_size) {
		ssize_t r = read(fd, b + got, (size_t)st.st_size - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (!b || got != (size_t)st.st_size) {
		free(b);
		snprintf(why, why_len, "%s: read failed", path);
		return -EIO;
	}
	b[got] = '\0';
	*buf = b;
	*len = got;
	return 0;
}

static int refuse(char *why, size_t why_len, const char *fmt, size_t i)
{
	snprintf(why, why_len, fmt, i);
	return -EINVAL;
}

int cr_import_banlist_json(const char *text, size_t len, struct cr_ban **out, size_t *n,
			   size_t *skipped, char *why, size_t why_len)
{
	*out = NULL;
	*n = *skipped = 0;
	json_error_t jerr;
	json_t *root = json_loadb(text, len, 0, &jerr);
	if (!root) {
		snprintf(why, why_len, "not JSON: %s (line %d)", jerr.text, jerr.line);
		return -EINVAL;
	}
	json_t *nets = json_object_get(root, "banned_nets");
	if (!json_is_array(nets)) {
		json_decref(root);
		snprintf(why, why_len, "no \"banned_nets\" array: not a bitcoind banlist.json");
		return -EINVAL;
	}
	size_t count = json_array_size(nets);
	if (count > CR_BANLIST_MAX) {
		json_decref(root);
		return refuse(why, why_len, "%zu entries: more than the ban list holds", count);
	}
	struct cr_ban *bans = calloc(count ? count : 1, sizeof(*bans));
	if (!bans) {
		json_decref(root);
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	int err = 0;
	size_t i;
	json_t *e;
	json_array_foreach(nets, i, e) {
		json_t *ver = json_object_get(e, "version"), *created = json_object_get(e, "ban_created"),
		       *until = json_object_get(e, "banned_until"), *addr = json_object_get(e, "address");
		if (!json_is_object(e) || !json_is_integer(ver) || !json_is_integer(created) ||
		    !json_is_integer(until) || !json_is_string(addr)) {
			err = refuse(why, why_len, "entry %zu: not {version, ban_created, banned_until, address}", i);
			break;
		}
		struct cr_ban *b = &bans[*n];
		const char *a = json_string_value(addr);
		/* Core drops these and keeps the rest (CBanEntry version 1). */
		if (json_integer_value(ver) != 1 || cr_subnet_parse(&b->subnet, a, strlen(a), 0) != 0) {
			(*skipped)++;
			continue;
		}
		b->created = json_integer_value(created);
		b->until = json_integer_value(until);
		(*n)++;
	}
	json_decref(root);
	if (err) {
		free(bans);
		*n = *skipped = 0;
		return err;
	}
	*out = bans;
	return 0;
}

int cr_import_peers_read(const char *path, enum cr_chain_id chain, struct cr_peersdat *out,
			 char *why, size_t why_len)
{
	uint8_t *buf;
	size_t len;
	memset(out, 0, sizeof(*out));
	int r = cr_import_read_file(path, CR_IMPORT_FILE_MAX, &buf, &len, why, why_len);
	if (r == 0) {
		r = cr_peersdat_decode(out, buf, len, cr_chain_get(chain)->magic, why, why_len);
		free(buf);
	}
	return r;
}

int cr_import_peers_file(const char *path, enum cr_chain_id chain, size_t *n, size_t *skipped,
			 char *why, size_t why_len)
{
	struct cr_peersdat p;
	int r = cr_import_peers_read(path, chain, &p, why, why_len);
	*n = p.n;
	*skipped = p.skipped;
	cr_peersdat_clear(&p);
	return r;
}

int cr_import_bans_read(const char *path, struct cr_ban **out, size_t *n, size_t *skipped,
			char *why, size_t why_len)
{
	uint8_t *buf;
	size_t len;
	*out = NULL;
	*n = *skipped = 0;
	int r = cr_import_read_file(path, CR_IMPORT_FILE_MAX, &buf, &len, why, why_len);
	if (r == 0) {
		r = cr_import_banlist_json((const char *)buf, len, out, n, skipped, why, why_len);
		free(buf);
	}
	return r;
}

int cr_import_bans_file(const char *path, size_t *n, size_t *skipped, char *why, size_t why_len)
{
	struct cr_ban *b;
	int r = cr_import_bans_read(path, &b, n, skipped, why, why_len);
	free(b);
	return r;
}

int cr_import_bans_apply(const char *json_path, const char *banlist_path, int64_t now, size_t *added,
			 size_t *skipped, char *why, size_t why_len)
{
	struct cr_ban *b;
	size_t n;
	*added = 0;
	int r = cr_import_bans_read(json_path, &b, &n, skipped, why, why_len);
	if (r != 0)
		return r;
	uint64_t seed = 0;
	uint32_t tweak = 0;
	if (getrandom(&seed, sizeof seed, 0) != sizeof seed || getrandom(&tweak, sizeof tweak, 0) != sizeof tweak)
		seed ^= (uint64_t)now; /* the table's layout only: never written out */
	struct cr_banlist *bl = cr_banlist_new(seed, tweak);
	if (!bl) {
		free(b);
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	char lwhy[256];
	r = cr_banlist_load(bl, banlist_path, now, lwhy, sizeof lwhy);
	if (r == -ENOENT)
		r = 0;
	else if (r != 0)
		snprintf(why, why_len, "%s: %s", banlist_path, lwhy);
	for (size_t i = 0; r == 0 && i < n; i++) {
		/* Core drops expired bans when it loads banlist.json (SweepBanned) */
		if (b[i].until <= now) {
			(*skipped)++;
			continue;
		}
		size_t had = cr_banlist_count(bl);
		r = cr_banlist_ban_until(bl, &b[i].subnet, b[i].created, b[i].until);
		if (r != 0)
			snprintf(why, why_len, "entry %zu: %s", i, cr_strerror(r));
		else if (cr_banlist_count(bl) > had) /* not a merge into a ban there */
			(*added)++;
	}
	if (r == 0) {
		r = cr_banlist_save(bl, banlist_path);
		if (r != 0)
			snprintf(why, why_len, "%s: %s", banlist_path, cr_strerror(r));
	}
	if (r != 0)
		*added = 0;
	cr_banlist_free(bl);
	free(b);
	return r;
}

size_t cr_import_peers_entries(const struct cr_peersdat *p, struct cr_addr_import **out)
{
	*out = p->n ? calloc(p->n, sizeof **out) : NULL;
	if (!*out)
		return p->n;
	for (size_t i = 0; i < p->n; i++) {
		const struct cr_peersdat_entry *x = &p->entries[i];
		struct cr_addr_import *y = &(*out)[i];
		y->a.net = x->addr.na.net;
		y->a.len = x->addr.na.len;
		memcpy(y->a.addr, x->addr.na.addr, x->addr.na.len);
		y->a.port = x->addr.port;
		y->a.services = x->addr.services;
		y->a.time = x->addr.time;
		y->source.net = x->source.net;
		y->source.len = x->source.len;
		memcpy(y->source.addr, x->source.addr, x->source.len);
		y->tried = x->tried;
	}
	return p->n;
}
