/* proto/crypto against published vectors: RFC 8439 (ChaCha20 block and
 * encryption, AEAD_CHACHA20_POLY1305 seal and open), RFC 5869 (HKDF-SHA256
 * test cases 1-3), RFC 4231 HMAC, FIPS 180 SHA-256, plus the properties
 * BIP324 relies on (keystream = ciphertext of zeros, tamper detection). */
#include <stdbool.h>
#include <stdint.h>

#include "proto/crypto.h"
#include "proto/err.h"
#include "tests/check.h"

static size_t unhex(uint8_t *out, size_t cap, const char *hex)
{
	long n = check_unhex(out, cap, hex);
	CHECK(n >= 0);
	return n < 0 ? 0 : (size_t)n;
}

static const char sunscreen[] =
	"Ladies and Gentlemen of the class of '99: If I could offer you only one tip "
	"for the future, sunscreen would be it.";

static void seq(uint8_t *p, size_t n, uint8_t start)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(start + i);
}

static void test_sha256_vectors(void)
{
	uint8_t out[32], want[32];
	struct cr_sha256 h;

	cr_sha256(out, "abc", 3);
	unhex(want, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	CHECK_MEM(out, want, 32);
	cr_sha256_init(&h);
	for (int i = 0; i < 1000000 / 1000; i++) {
		char a[1000];
		memset(a, 'a', sizeof(a));
		cr_sha256_update(&h, a, sizeof(a));
	}
	cr_sha256_final(&h, out);
	unhex(want, 32, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	CHECK_MEM(out, want, 32);
}

/* RFC 4231 test cases 1 and 2. */
static void test_hmac_rfc4231(void)
{
	uint8_t key[20], out[32], want[32];

	memset(key, 0x0b, 20);
	CHECK_EQ(cr_hmac_sha256(out, key, 20, (const uint8_t *)"Hi There", 8), 0);
	unhex(want, 32, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	CHECK_MEM(out, want, 32);
	CHECK_EQ(cr_hmac_sha256(out, (const uint8_t *)"Jefe", 4,
				(const uint8_t *)"what do ya want for nothing?", 28), 0);
	unhex(want, 32, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	CHECK_MEM(out, want, 32);
}

static void hkdf_case(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len,
		      const uint8_t *info, size_t info_len, const char *prk_hex,
		      const char *okm_hex)
{
	uint8_t prk[32], want_prk[32], okm[82], want[82];
	size_t n = unhex(want, sizeof(want), okm_hex);

	unhex(want_prk, 32, prk_hex);
	CHECK_EQ(cr_hkdf_sha256_extract(prk, salt, salt_len, ikm, ikm_len), 0);
	CHECK_MEM(prk, want_prk, 32);
	CHECK_EQ(cr_hkdf_sha256_expand(okm, n, prk, info, info_len), 0);
	CHECK_MEM(okm, want, n);
	/* A shorter output is a prefix of the longer one. */
	CHECK_EQ(cr_hkdf_sha256_expand(okm, 13, prk, info, info_len), 0);
	CHECK_MEM(okm, want, 13);
}

static void test_hkdf_rfc5869(void)
{
	uint8_t ikm[80], salt[80], info[80];

	/* Test case 1: basic. */
	memset(ikm, 0x0b, 22);
	seq(salt, 13, 0x00);
	seq(info, 10, 0xf0);
	hkdf_case(ikm, 22, salt, 13, info, 10,
		  "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
		  "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
		  "34007208d5b887185865");
	/* Test case 2: 80-byte inputs, 82-byte output (three HMAC blocks). */
	seq(ikm, 80, 0x00);
	seq(salt, 80, 0x60);
	seq(info, 80, 0xb0);
	hkdf_case(ikm, 80, salt, 80, info, 80,
		  "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
		  "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
		  "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
		  "cc30c58179ec3e87c14c01d5c1f3434f1d87");
	/* Test case 3: empty salt and info. */
	memset(ikm, 0x0b, 22);
	hkdf_case(ikm, 22, NULL, 0, NULL, 0,
		  "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
		  "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
		  "9d201395faa4b61a96c8");
	/* Bounds: 255 blocks is the most RFC 5869 allows. */
	uint8_t prk[32] = {1}, big[255 * 32 + 1];
	CHECK_EQ(cr_hkdf_sha256_expand(big, 255 * 32, prk, info, 3), 0);
	CHECK_EQ(cr_hkdf_sha256_expand(big, 255 * 32 + 1, prk, info, 3), CR_E_INVAL);
}

/* RFC 8439 2.3.2 (block function), A.1 #1 (zero key) and 2.4.2 (encryption,
 * counter 1) through the keystream/xor interface. */
static void test_chacha20_rfc8439(void)
{
	uint8_t key[32], nonce[12], out[128], want[128];
	struct cr_chacha20 *c;
	size_t n;

	seq(key, 32, 0);
	unhex(nonce, 12, "000000090000004a00000000");
	c = cr_chacha20_new(key);
	CHECK(c != NULL);
	if (!c)
		return;
	CHECK_EQ(cr_chacha20_xor(c, nonce, 1, out, NULL, 64), 0);
	unhex(want, 64, "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e"
			"d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e");
	CHECK_MEM(out, want, 64);

	unhex(nonce, 12, "000000000000004a00000000");
	n = strlen(sunscreen);
	CHECK_EQ(cr_chacha20_xor(c, nonce, 1, out, (const uint8_t *)sunscreen, n), 0);
	unhex(want, n, "6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b"
		       "f91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8"
		       "07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736"
		       "5af90bbf74a35be6b40b8eedf2785e42874d");
	CHECK_MEM(out, want, n);
	/* In place decrypts back. */
	CHECK_EQ(cr_chacha20_xor(c, nonce, 1, out, out, n), 0);
	CHECK_MEM(out, sunscreen, n);

	/* Rekeying to the zero key gives RFC 8439 A.1 test vector #1. */
	memset(key, 0, 32);
	memset(nonce, 0, 12);
	CHECK_EQ(cr_chacha20_rekey(c, key), 0);
	CHECK_EQ(cr_chacha20_xor(c, nonce, 0, out, NULL, 64), 0);
	unhex(want, 64, "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7"
			"da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586");
	CHECK_MEM(out, want, 64);
	/* Counter seek: block 1 alone equals bytes 64..127 of a 2-block run. */
	CHECK_EQ(cr_chacha20_xor(c, nonce, 0, out, NULL, 128), 0);
	CHECK_EQ(cr_chacha20_xor(c, nonce, 1, want, NULL, 64), 0);
	CHECK_MEM(out + 64, want, 64);
	cr_chacha20_free(c);
}

/* RFC 8439 2.8.2: seal, open, and rejection of any flipped bit. */
static void test_aead_rfc8439_seal(void)
{
	uint8_t key[32], nonce[12], aad[12], out[128], tag[16], want[128], want_tag[16];
	size_t n = strlen(sunscreen);
	struct cr_aead *a;

	seq(key, 32, 0x80);
	unhex(nonce, 12, "070000004041424344454647");
	unhex(aad, 12, "50515253c0c1c2c3c4c5c6c7");
	unhex(want, n, "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
		       "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
		       "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
		       "3ff4def08e4b7a9de576d26586cec64b6116");
	unhex(want_tag, 16, "1ae10b594f09e26a7e902ecbd0600691");
	a = cr_aead_new(key);
	CHECK(a != NULL);
	if (!a)
		return;
	CHECK_EQ(cr_aead_seal(a, nonce, aad, 12, out, (const uint8_t *)sunscreen, n, tag), 0);
	CHECK_MEM(out, want, n);
	CHECK_MEM(tag, want_tag, 16);
	/* Split input (seal2) gives the same bytes at every split point. */
	for (size_t cut = 0; cut <= n; cut += 7) {
		memset(out, 0, sizeof(out));
		CHECK_EQ(cr_aead_seal2(a, nonce, aad, 12, out, (const uint8_t *)sunscreen, cut,
				       (const uint8_t *)sunscreen + cut, n - cut, tag), 0);
		CHECK_MEM(out, want, n);
		CHECK_MEM(tag, want_tag, 16);
	}
	CHECK_EQ(cr_aead_open(a, nonce, aad, 12, out, want, n, want_tag), 0);
	CHECK_MEM(out, sunscreen, n);
	/* Keystream = ciphertext XOR plaintext. */
	uint8_t ks[32];
	CHECK_EQ(cr_aead_keystream(a, nonce, ks, sizeof(ks)), 0);
	for (int i = 0; i < 32; i++)
		CHECK_EQ(ks[i], want[i] ^ (uint8_t)sunscreen[i]);
	/* Every single-bit flip of ciphertext, tag or AAD is rejected. */
	int rejected = 0, total = 0;
	for (size_t bit = 0; bit < (n + 16 + 12) * 8; bit++) {
		uint8_t c[128], t[16], d[12];
		memcpy(c, want, n);
		memcpy(t, want_tag, 16);
		memcpy(d, aad, 12);
		size_t byte = bit / 8;
		uint8_t *p = byte < n ? c + byte : byte < n + 16 ? t + byte - n : d + byte - n - 16;
		*p ^= (uint8_t)(1u << (bit % 8));
		total++;
		if (cr_aead_open(a, nonce, d, 12, out, c, n, t) == CR_E_V2_AUTH) {
			uint8_t z[128] = {0};
			rejected += memcmp(out, z, n) == 0;
		}
	}
	CHECK_EQ(rejected, total);
	cr_aead_free(a);
}

/* A cipher workspace keyed per call gives the RFC 8439 bytes even when
 * calls under another key (and a wipe) come in between: shared contexts
 * carry no state from one key to the next. */
static void test_cipher_ws_interleaved(void)
{
	uint8_t key[32], other[32], nonce[12], aad[12], out[128], tag[16], want[128],
		want_tag[16], scratch[128], t2[16], ks[64], ks_obj[64];
	size_t n = strlen(sunscreen);
	struct cr_cipher_ws *w = cr_cipher_ws_new();
	struct cr_chacha20 *c;

	CHECK(w != NULL);
	if (!w)
		return;
	seq(key, 32, 0x80);
	memset(other, 0xa5, sizeof(other));
	unhex(nonce, 12, "070000004041424344454647");
	unhex(aad, 12, "50515253c0c1c2c3c4c5c6c7");
	unhex(want, n, "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
		       "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
		       "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
		       "3ff4def08e4b7a9de576d26586cec64b6116");
	unhex(want_tag, 16, "1ae10b594f09e26a7e902ecbd0600691");
	for (int round = 0; round < 3; round++) {
		/* Another key's seal, open and keystream before each use. */
		CHECK_EQ(cr_aead_seal2_ws(w, other, nonce, NULL, 0, scratch,
					  (const uint8_t *)sunscreen, 40, NULL, 0, t2), 0);
		CHECK_EQ(cr_aead_open_ws(w, other, nonce, aad, 12, scratch, want, 16, want_tag),
			 CR_E_V2_AUTH);
		if (round == 2)
			cr_cipher_ws_wipe(w);
		CHECK_EQ(cr_aead_seal2_ws(w, key, nonce, aad, 12, out, (const uint8_t *)sunscreen,
					  (size_t)round * 20, (const uint8_t *)sunscreen + round * 20,
					  n - (size_t)round * 20, tag), 0);
		CHECK_MEM(out, want, n);
		CHECK_MEM(tag, want_tag, 16);
		CHECK_EQ(cr_chacha20_xor_ws(w, other, nonce, 3, scratch, NULL, 64), 0);
		CHECK_EQ(cr_aead_open_ws(w, key, nonce, aad, 12, out, want, n, want_tag), 0);
		CHECK_MEM(out, sunscreen, n);
		CHECK_EQ(cr_aead_keystream_ws(w, key, nonce, ks, 32), 0);
		for (int i = 0; i < 32; i++)
			CHECK_EQ(ks[i], want[i] ^ (uint8_t)sunscreen[i]);
		/* A flipped tag bit: rejected, output zeroed. */
		memcpy(t2, want_tag, 16);
		t2[round] ^= 1;
		CHECK_EQ(cr_aead_open_ws(w, key, nonce, aad, 12, out, want, n, t2), CR_E_V2_AUTH);
		memset(scratch, 0, sizeof(scratch));
		CHECK_MEM(out, scratch, n);
	}
	/* Raw ChaCha20 through the workspace equals a keyed object's. */
	c = cr_chacha20_new(key);
	CHECK(c != NULL);
	for (uint32_t ctr = 0; c && ctr < 4; ctr++) {
		CHECK_EQ(cr_chacha20_xor_ws(w, other, nonce, ctr, scratch, NULL, 64), 0);
		CHECK_EQ(cr_chacha20_xor_ws(w, key, nonce, ctr, ks, NULL, 64), 0);
		CHECK_EQ(cr_chacha20_xor(c, nonce, ctr, ks_obj, NULL, 64), 0);
		CHECK_MEM(ks, ks_obj, 64);
	}
	cr_chacha20_free(c);
	cr_cipher_ws_free(w);
}

/* RFC 8439 A.5: decryption of a 265-byte Internet-Draft text. */
static void test_aead_rfc8439_open(void)
{
	static const char ct_hex[] =
		"64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb2"
		"4c6cfc18755d43eea09ee94e382d26b0bdb7b73c321b0100d4f03b7f355894cf"
		"332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f982b1ff37c855"
		"9797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4"
		"b9166c767b804d46a59b5216cde7a4e99040c5a40433225ee282a1b0a06c523e"
		"af4534d7f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a"
		"0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a10"
		"49e617d91d361094fa68f0ff77987130305beaba2eda04df997b714d6c6f2c29"
		"a6ad5cb4022b02709b";
	static const char pt_hex[] =
		"496e7465726e65742d4472616674732061726520647261667420646f63756d65"
		"6e74732076616c696420666f722061206d6178696d756d206f6620736978206d"
		"6f6e74687320616e64206d617920626520757064617465642c207265706c6163"
		"65642c206f72206f62736f6c65746564206279206f7468657220646f63756d65"
		"6e747320617420616e792074696d652e20497420697320696e617070726f7072"
		"6961746520746f2075736520496e7465726e65742d4472616674732061732072"
		"65666572656e6365206d6174657269616c206f7220746f206369746520746865"
		"6d206f74686572207468616e206173202fe2809c776f726b20696e2070726f67"
		"726573732e2fe2809d";
	uint8_t key[32], nonce[12], aad[12], ct[300], pt[300], tag[16], out[300], tag2[16];
	struct cr_aead *a;
	size_t n;

	unhex(key, 32, "1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0");
	unhex(nonce, 12, "000000000102030405060708");
	unhex(aad, 12, "f33388860000000000004e91");
	unhex(tag, 16, "eead9d67890cbb22392336fea1851f38");
	n = unhex(ct, sizeof(ct), ct_hex);
	CHECK_EQ(unhex(pt, sizeof(pt), pt_hex), n);
	CHECK_EQ(n, 265);
	a = cr_aead_new(key);
	CHECK(a != NULL);
	if (!a)
		return;
	CHECK_EQ(cr_aead_open(a, nonce, aad, 12, out, ct, n, tag), 0);
	CHECK_MEM(out, pt, n);
	/* Seal gives the published ciphertext and tag back. */
	CHECK_EQ(cr_aead_seal(a, nonce, aad, 12, out, pt, n, tag2), 0);
	CHECK_MEM(out, ct, n);
	CHECK_MEM(tag2, tag, 16);
	/* In place, with the tag right behind the ciphertext. */
	memcpy(out, ct, n);
	memcpy(out + n, tag, 16);
	CHECK_EQ(cr_aead_open(a, nonce, aad, 12, out, out, n, out + n), 0);
	CHECK_MEM(out, pt, n);
	/* Wrong AAD length is rejected. */
	CHECK_EQ(cr_aead_open(a, nonce, aad, 11, out, ct, n, tag), CR_E_V2_AUTH);
	/* Rekeying to the same key keeps working; to another key it fails. */
	CHECK_EQ(cr_aead_rekey(a, key), 0);
	CHECK_EQ(cr_aead_open(a, nonce, aad, 12, out, ct, n, tag), 0);
	key[0] ^= 1;
	CHECK_EQ(cr_aead_rekey(a, key), 0);
	CHECK_EQ(cr_aead_open(a, nonce, aad, 12, out, ct, n, tag), CR_E_V2_AUTH);
	cr_aead_free(a);
}

/* Empty plaintext and empty AAD still produce a tag that verifies, and the
 * keystream for a fresh object (no context yet) matches sealing zeros. */
static void test_aead_edges(void)
{
	uint8_t key[32], nonce[12] = {1}, tag[16], zeros[64] = {0}, ct[64], ks[64];
	struct cr_aead *a, *b;

	seq(key, 32, 7);
	a = cr_aead_new(key);
	b = cr_aead_new(key);
	CHECK(a && b);
	if (!a || !b)
		return;
	CHECK_EQ(cr_aead_seal(a, nonce, NULL, 0, ct, NULL, 0, tag), 0);
	CHECK_EQ(cr_aead_open(b, nonce, NULL, 0, ct, NULL, 0, tag), 0);
	tag[3] ^= 0x40;
	CHECK_EQ(cr_aead_open(b, nonce, NULL, 0, ct, NULL, 0, tag), CR_E_V2_AUTH);
	CHECK_EQ(cr_aead_seal(a, nonce, NULL, 0, ct, zeros, 64, tag), 0);
	CHECK_EQ(cr_aead_keystream(b, nonce, ks, 64), 0); /* b has only a dec context */
	CHECK_MEM(ks, ct, 64);
	cr_aead_free(a);
	cr_aead_free(b);
}

static void test_memcmp_ct(void)
{
	CHECK_EQ(cr_memcmp_ct("abcd", "abcd", 4), 0);
	CHECK(cr_memcmp_ct("abcd", "abce", 4) != 0);
	uint8_t w[8] = {1, 2, 3, 4, 5, 6, 7, 8}, z[8] = {0};
	cr_wipe(w, sizeof(w));
	CHECK_MEM(w, z, 8);
}

int main(void)
{
	RUN(test_sha256_vectors);
	RUN(test_hmac_rfc4231);
	RUN(test_hkdf_rfc5869);
	RUN(test_chacha20_rfc8439);
	RUN(test_aead_rfc8439_seal);
	RUN(test_aead_rfc8439_open);
	RUN(test_aead_edges);
	RUN(test_cipher_ws_interleaved);
	RUN(test_memcmp_ct);
	return check_done();
}
