/* Fuzzes the on-disk formats: the store envelope (addr/store), the ban
 * list body and the anchors body. Arbitrary bytes must give a clean error
 * or a valid state; a ban list that decodes re-encodes to bytes that
 * decode to the same list (encode is canonical). The first byte chooses:
 * 0 store envelope (the rest as a whole file image; an accepted body then
 * goes to the ban list decoder), 1 ban list body, 2 anchors body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr/anchors.h"
#include "addr/banlist.h"
#include "addr/store.h"
#include "addr/err.h"

static struct cr_banlist *bl, *bl2;

static void banlist_body(const uint8_t *d, size_t n)
{
	int rc = cr_banlist_decode(bl, d, n, 1000);
	if (rc) {
		if (rc != CR_E_STORE_BODY || cr_banlist_count(bl))
			abort();
		return;
	}
	uint8_t *e1, *e2;
	size_t l1, l2;
	if (cr_banlist_encode(bl, &e1, &l1) || cr_banlist_decode(bl2, e1, l1, 1000) ||
	    cr_banlist_count(bl2) != cr_banlist_count(bl) || cr_banlist_encode(bl2, &e2, &l2))
		abort();
	if (l1 != l2 || memcmp(e1, e2, l1))
		abort();
	for (size_t i = 0; i < cr_banlist_count(bl); i++) {
		const struct cr_ban *b = cr_banlist_at(bl, i);
		if (b->until <= 1000 || !cr_subnet_contains(&b->subnet, &b->subnet.net) ||
		    !cr_banlist_is_banned(bl, &b->subnet.net, 1000))
			abort();
	}
	free(e1);
	free(e2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!bl) {
		bl = cr_banlist_new(1, 1);
		bl2 = cr_banlist_new(2, 2);
	}
	if (size < 1)
		return 0;
	const uint8_t *d = data + 1;
	size_t n = size - 1;
	if (data[0] == 0) {
		const uint8_t *body;
		size_t blen;
		uint32_t v;
		char why[200];
		int rc = cr_store_parse(d, n, CR_BANLIST_MAGIC, CR_BANLIST_VERSION, &v, &body,
					&blen, why, sizeof(why));
		if (rc == 0) {
			if (blen + CR_STORE_HEADER_LEN + CR_STORE_CHECKSUM_LEN != n)
				abort();
			banlist_body(body, blen);
		} else if (rc > -1500 || rc < -1505 || body || blen || !why[0]) {
			abort();
		}
	} else if (data[0] == 1) {
		banlist_body(d, n);
	} else if (data[0] == 2) {
		struct cr_peeraddr out[CR_ANCHORS_MAX];
		size_t cnt;
		uint8_t re[CR_ANCHORS_BODY_MAX];
		if (cr_anchors_decode(out, &cnt, d, n) == 0) {
			int l = cr_anchors_encode(re, out, cnt);
			if (l < 0 || (size_t)l != n || memcmp(re, d, n))
				abort();
		}
	}
	return 0;
}
