/* Fuzzes asmap loading: arbitrary bytes either fail Core's sanity check
 * with CR_E_ASMAP / CR_E_ASMAP_SIZE, or load, after which lookups of any
 * address stay inside the map (ASan checks every read) and are
 * deterministic. The last 16 bytes of the input double as an address. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr/asmap.h"
#include "addr/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cr_asmap *m;
	int rc = cr_asmap_from_bytes(&m, data, size);
	if (rc) {
		if ((rc != CR_E_ASMAP && rc != CR_E_ASMAP_SIZE) || m)
			abort();
		return 0;
	}
	uint8_t ip[16] = {0};
	memcpy(ip, data + (size > 16 ? size - 16 : 0), size < 16 ? size : 16);
	static const uint8_t fixed[4][16] = {
		{0}, {[10] = 0xff, [11] = 0xff, 1, 2, 3, 4},
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		{0x2a, 0x01, 0x04, 0xf8},
	};
	uint32_t a = cr_asmap_lookup(m, ip);
	if (cr_asmap_lookup(m, ip) != a)
		abort();
	for (int i = 0; i < 4; i++)
		(void)cr_asmap_lookup(m, fixed[i]);
	cr_asmap_free(m);
	return 0;
}
