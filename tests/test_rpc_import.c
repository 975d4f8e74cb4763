/* banlist.json import: Core's layout accepted, entries Core drops are
 * dropped, anything else refuses the whole file; file reading bounds. */
#include <errno.h>
#include <unistd.h>

#include "check.h"
#include "addr/subnet.h"
#include "cmd/import.h"

static const char good[] =
	"{\"banned_nets\":[{\"version\":1,\"ban_created\":1700000000,\"banned_until\":1700086400,"
	"\"address\":\"1.2.3.4/32\"},{\"version\":1,\"ban_created\":1700000001,\"banned_until\":1800000000,"
	"\"address\":\"2001:db8::/32\"},{\"version\":2,\"ban_created\":1,\"banned_until\":2,"
	"\"address\":\"5.6.7.8/32\"},{\"version\":1,\"ban_created\":1,\"banned_until\":2,"
	"\"address\":\"not an address\"}]}";

static void test_good(void)
{
	struct cr_ban *b;
	size_t n, skipped;
	char why[256];
	CHECK_EQ(cr_import_banlist_json(good, strlen(good), &b, &n, &skipped, why, sizeof(why)), 0);
	CHECK_EQ(n, 2);
	CHECK_EQ(skipped, 2);
	char text[64];
	cr_subnet_format(text, sizeof(text), &b[0].subnet);
	CHECK(strcmp(text, "1.2.3.4/32") == 0);
	CHECK_EQ(b[0].created, 1700000000);
	CHECK_EQ(b[0].until, 1700086400);
	cr_subnet_format(text, sizeof(text), &b[1].subnet);
	CHECK(strcmp(text, "2001:db8::/32") == 0);
	free(b);
}

static void test_refused(void)
{
	static const char *const bad[] = {
		"", "{", "[]", "{\"banned\":[]}", "{\"banned_nets\":{}}",
		"{\"banned_nets\":[1]}",
		"{\"banned_nets\":[{\"version\":1,\"ban_created\":\"1\",\"banned_until\":2,\"address\":\"1.2.3.4\"}]}",
		"{\"banned_nets\":[{\"version\":1,\"ban_created\":1,\"banned_until\":2}]}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cr_ban *b = (struct cr_ban *)1;
		size_t n = 9, skipped = 9;
		char why[256] = "";
		CHECK(cr_import_banlist_json(bad[i], strlen(bad[i]), &b, &n, &skipped, why, sizeof(why)) < 0);
		CHECK(b == NULL && n == 0 && why[0]);
	}
	/* every truncation of a good file is refused too */
	for (size_t len = 0; len < strlen(good) - 1; len++) {
		struct cr_ban *b;
		size_t n, skipped;
		char why[256];
		int r = cr_import_banlist_json(good, len, &b, &n, &skipped, why, sizeof(why));
		CHECK(r < 0);
		if (r == 0)
			free(b);
	}
}

static void test_read_file(void)
{
	uint8_t *buf;
	size_t len;
	char why[256];
	CHECK(cr_import_read_file("/nonexistent/banlist.json", 100, &buf, &len, why, sizeof(why)) == -ENOENT);
	CHECK(cr_import_read_file("/tmp", 100, &buf, &len, why, sizeof(why)) < 0);
	char path[] = "/tmp/cr-test-import-XXXXXX";
	int fd = mkstemp(path);
	CHECK(write(fd, good, strlen(good)) == (ssize_t)strlen(good));
	close(fd);
	CHECK(cr_import_read_file(path, 10, &buf, &len, why, sizeof(why)) == -EFBIG);
	CHECK(cr_import_read_file(path, 1 << 20, &buf, &len, why, sizeof(why)) == 0);
	CHECK(len == strlen(good) && memcmp(buf, good, len) == 0);
	free(buf);
	unlink(path);
}

int main(void)
{
	RUN(test_good);
	RUN(test_refused);
	RUN(test_read_file);
	return check_done();
}
