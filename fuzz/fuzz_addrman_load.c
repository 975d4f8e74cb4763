/* fuzz_addrman_load: arbitrary bytes as a stored address manager. The first
 * byte picks the path: odd, the rest is a store body given straight to
 * cr_addrman_deserialize (deep coverage of the body checks); even, the rest
 * is written as a whole file and read through cr_addrman_load (store
 * framing, checksum, moving aside). Either a clean error and an empty
 * manager, or a state that passes the full check and survives
 * serialize -> deserialize -> serialize byte for byte. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr/addrman.h"
#include "addr/store.h"
#include "addr/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cr_addrman *am, *copy;
static char dir[64], path[128], aside[160];

static void setup(void)
{
	static const uint8_t key[32] = {1, 2, 3};
	am = cr_addrman_new(key, NULL, 0);
	copy = cr_addrman_new(key, NULL, 0);
	snprintf(dir, sizeof(dir), "/tmp/fuzz_addrman_XXXXXX");
	if (!am || !copy || !mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/peers.dat", dir);
	snprintf(aside, sizeof(aside), "%s.bad-1", path);
}

/* A successful deserialize has already run the full check itself. */
static void check_loaded(void)
{
	if (cr_addrman_check(am, 0) != 0)
		abort();
	uint8_t *b1, *b2;
	size_t l1, l2;
	if (cr_addrman_serialize(am, &b1, &l1) != 0)
		abort();
	if (cr_addrman_deserialize(copy, b1, l1, NULL, 0) != 0)
		abort();
	if (cr_addrman_serialize(copy, &b2, &l2) != 0)
		abort();
	if (l1 != l2 || memcmp(b1, b2, l1) != 0)
		abort();
	free(b1);
	free(b2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[256];
	if (!am)
		setup();
	if (size == 0)
		return 0;
	int err;
	if (data[0] & 1) {
		err = cr_addrman_deserialize(am, data + 1, size - 1, why, sizeof(why));
		if (err != 0 && err != CR_E_ADDRMAN_CORRUPT)
			abort();
	} else {
		FILE *f = fopen(path, "wb");
		if (!f)
			abort();
		if (size > 1 && fwrite(data + 1, 1, size - 1, f) != size - 1)
			abort();
		fclose(f);
		err = cr_addrman_load(am, path, why, sizeof(why));
		if (err == -ENOENT || (err < 0 && err > -1000))
			abort(); /* the file exists and is readable */
		unlink(path);
		unlink(aside);
	}
	if (err == 0) {
		check_loaded();
	} else if (cr_addrman_size(am, 0, CR_ADDRMAN_ANY) != 0 ||
		   cr_addrman_check(am, 0) != 0 || why[0] == 0) {
		abort();
	}
	return 0;
}
