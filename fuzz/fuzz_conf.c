/* Fuzzes connringd's config-file parser with arbitrary bytes split at
 * newlines. Invariants: an error names the line it stopped at and is
 * sticky; counts and strings never exceed their arrays; a port set from a
 * file is in 1..65535. */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "cmd/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cr_dopts o;
	struct cr_conf c;
	cr_dopts_init(&o);
	cr_conf_init(&c, &o);
	const char *p = (const char *)data, *end = p + size;
	unsigned lines = 0;
	int r = 0;
	while (p < end && r == 0) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		r = cr_conf_line(&c, p, n);
		lines++;
		p += n + 1;
	}
	assert(c.line == lines);
	if (r < 0) {
		char want[32];
		snprintf(want, sizeof(want), "line %u: ", lines);
		assert(strncmp(c.msg, want, strlen(want)) == 0);
		assert(cr_conf_line(&c, "port=1", 6) == r && c.line == lines);
	}
	assert(cr_conf_finish(&c) == r);
	assert(o.eng.nbind <= CR_DOPTS_BIND_MAX && o.eng.nconnect <= CR_DOPTS_MANUAL_MAX &&
	       o.eng.naddnode <= CR_DOPTS_MANUAL_MAX);
	assert(memchr(o.eng.proxy, 0, sizeof(o.eng.proxy)) && memchr(o.datadir, 0, sizeof(o.datadir)));
	for (unsigned i = 0; i < o.eng.nconnect; i++)
		assert(memchr(o.eng.connect[i], 0, sizeof(o.eng.connect[i])));
	return 0;
}
