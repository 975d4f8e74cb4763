/* OpenSSL libcrypto behind proto/crypto.h. Any thread, on its own objects.
 *
 * The low-level SHA256_* and HMAC() calls are deprecated in OpenSSL 3 but
 * remain the fastest path (no EVP fetch or allocation per call), so this one
 * file asks for the 1.1.1 API. */
#define OPENSSL_API_COMPAT 0x10101000L
#define OPENSSL_NO_DEPRECATED_3_0_DISABLE
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <string.h>

#include "proto/crypto.h"
#include "proto/err.h"

_Static_assert(sizeof(struct cr_sha256) >= sizeof(SHA256_CTX), "cr_sha256 too small");

void cr_sha256(uint8_t out[32], const void *data, size_t len)
{
	SHA256(data, len, out);
}

void cr_sha256d(uint8_t out[32], const void *data, size_t len)
{
	uint8_t mid[32];
	SHA256(data, len, mid);
	SHA256(mid, sizeof(mid), out);
}

void cr_sha256_init(struct cr_sha256 *h)
{
	SHA256_Init((SHA256_CTX *)h->opaque);
}

void cr_sha256_update(struct cr_sha256 *h, const void *data, size_t len)
{
	SHA256_Update((SHA256_CTX *)h->opaque, data, len);
}

void cr_sha256_final(struct cr_sha256 *h, uint8_t out[32])
{
	SHA256_Final(out, (SHA256_CTX *)h->opaque);
}

void cr_tagged_hash_init(struct cr_sha256 *h, const char *tag)
{
	uint8_t t[32];
	cr_sha256(t, tag, strlen(tag));
	cr_sha256_init(h);
	cr_sha256_update(h, t, 32);
	cr_sha256_update(h, t, 32);
}

int cr_hmac_sha256(uint8_t out[32], const uint8_t *key, size_t key_len,
		   const uint8_t *msg, size_t msg_len)
{
	unsigned int n = 32;
	if (!HMAC(EVP_sha256(), key, (int)key_len, msg, msg_len, out, &n))
		return CR_E_CRYPTO;
	return 0;
}

int cr_hkdf_sha256_extract(uint8_t prk[32], const uint8_t *salt, size_t salt_len,
			   const uint8_t *ikm, size_t ikm_len)
{
	return cr_hmac_sha256(prk, salt, salt_len, ikm, ikm_len);
}

int cr_hkdf_sha256_expand(uint8_t *out, size_t out_len, const uint8_t prk[32],
			  const uint8_t *info, size_t info_len)
{
	uint8_t t[32 + 255 + 1], block[32];
	size_t t_len = 0, done = 0;

	if (out_len > 255 * 32 || info_len > 255)
		return CR_E_INVAL;
	for (uint8_t i = 1; done < out_len; i++) {
		/* T(i) = HMAC(PRK, T(i-1) || info || i) */
		memcpy(t + t_len, info, info_len);
		t[t_len + info_len] = i;
		if (cr_hmac_sha256(block, prk, 32, t, t_len + info_len + 1))
			return CR_E_CRYPTO;
		size_t n = out_len - done < 32 ? out_len - done : 32;
		memcpy(out + done, block, n);
		done += n;
		memcpy(t, block, 32);
		t_len = 32;
	}
	cr_wipe(block, sizeof(block));
	cr_wipe(t, sizeof(t));
	return 0;
}

struct cr_chacha20 {
	EVP_CIPHER_CTX *ctx;
};

struct cr_chacha20 *cr_chacha20_new(const uint8_t key[32])
{
	struct cr_chacha20 *c = OPENSSL_zalloc(sizeof(*c));
	if (!c)
		return NULL;
	c->ctx = EVP_CIPHER_CTX_new();
	if (!c->ctx || cr_chacha20_rekey(c, key)) {
		cr_chacha20_free(c);
		return NULL;
	}
	return c;
}

void cr_chacha20_free(struct cr_chacha20 *c)
{
	if (!c)
		return;
	EVP_CIPHER_CTX_free(c->ctx); /* cleanses the key schedule */
	OPENSSL_free(c);
}

int cr_chacha20_rekey(struct cr_chacha20 *c, const uint8_t key[32])
{
	uint8_t iv[16] = {0};
	if (EVP_EncryptInit_ex(c->ctx, EVP_chacha20(), NULL, key, iv) != 1)
		return CR_E_CRYPTO;
	return 0;
}

int cr_chacha20_xor(struct cr_chacha20 *c, const uint8_t nonce[12], uint32_t counter,
		    uint8_t *out, const uint8_t *in, size_t len)
{
	/* OpenSSL's 16-byte ChaCha20 IV is the little-endian block counter
	 * followed by the 96-bit nonce. */
	uint8_t iv[16], zeros[256];
	int n;

	iv[0] = (uint8_t)counter;
	iv[1] = (uint8_t)(counter >> 8);
	iv[2] = (uint8_t)(counter >> 16);
	iv[3] = (uint8_t)(counter >> 24);
	memcpy(iv + 4, nonce, 12);
	if (EVP_EncryptInit_ex(c->ctx, NULL, NULL, NULL, iv) != 1)
		return CR_E_CRYPTO;
	if (in) {
		if (EVP_EncryptUpdate(c->ctx, out, &n, in, (int)len) != 1)
			return CR_E_CRYPTO;
		return 0;
	}
	memset(zeros, 0, sizeof(zeros));
	for (size_t done = 0; done < len;) {
		size_t k = len - done < sizeof(zeros) ? len - done : sizeof(zeros);
		if (EVP_EncryptUpdate(c->ctx, out + done, &n, zeros, (int)k) != 1)
			return CR_E_CRYPTO;
		done += k;
	}
	return 0;
}

struct cr_aead {
	EVP_CIPHER_CTX *enc;
	EVP_CIPHER_CTX *dec;
};

struct cr_aead *cr_aead_new(const uint8_t key[32])
{
	struct cr_aead *a = OPENSSL_zalloc(sizeof(*a));
	if (!a)
		return NULL;
	a->enc = EVP_CIPHER_CTX_new();
	a->dec = EVP_CIPHER_CTX_new();
	if (!a->enc || !a->dec || cr_aead_rekey(a, key)) {
		cr_aead_free(a);
		return NULL;
	}
	return a;
}

void cr_aead_free(struct cr_aead *a)
{
	if (!a)
		return;
	EVP_CIPHER_CTX_free(a->enc);
	EVP_CIPHER_CTX_free(a->dec);
	OPENSSL_free(a);
}

int cr_aead_rekey(struct cr_aead *a, const uint8_t key[32])
{
	if (EVP_EncryptInit_ex(a->enc, EVP_chacha20_poly1305(), NULL, key, NULL) != 1 ||
	    EVP_DecryptInit_ex(a->dec, EVP_chacha20_poly1305(), NULL, key, NULL) != 1)
		return CR_E_CRYPTO;
	return 0;
}

int cr_aead_seal(struct cr_aead *a, const uint8_t nonce[12],
		 const uint8_t *aad, size_t aad_len,
		 uint8_t *out, const uint8_t *in, size_t len, uint8_t tag[16])
{
	int n;
	if (EVP_EncryptInit_ex(a->enc, NULL, NULL, NULL, nonce) != 1)
		return CR_E_CRYPTO;
	if (aad_len && EVP_EncryptUpdate(a->enc, NULL, &n, aad, (int)aad_len) != 1)
		return CR_E_CRYPTO;
	if (len && EVP_EncryptUpdate(a->enc, out, &n, in, (int)len) != 1)
		return CR_E_CRYPTO;
	if (EVP_EncryptFinal_ex(a->enc, out + len, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(a->enc, EVP_CTRL_AEAD_GET_TAG, 16, tag) != 1)
		return CR_E_CRYPTO;
	return 0;
}

int cr_aead_open(struct cr_aead *a, const uint8_t nonce[12],
		 const uint8_t *aad, size_t aad_len,
		 uint8_t *out, const uint8_t *in, size_t len, const uint8_t tag[16])
{
	int n;
	if (EVP_DecryptInit_ex(a->dec, NULL, NULL, NULL, nonce) != 1)
		return CR_E_CRYPTO;
	if (aad_len && EVP_DecryptUpdate(a->dec, NULL, &n, aad, (int)aad_len) != 1)
		return CR_E_CRYPTO;
	if (len && EVP_DecryptUpdate(a->dec, out, &n, in, (int)len) != 1)
		return CR_E_CRYPTO;
	if (EVP_CIPHER_CTX_ctrl(a->dec, EVP_CTRL_AEAD_SET_TAG, 16, (void *)tag) != 1)
		return CR_E_CRYPTO;
	if (EVP_DecryptFinal_ex(a->dec, out + len, &n) != 1) {
		cr_wipe(out, len);
		return CR_E_V2_AUTH;
	}
	return 0;
}

void cr_wipe(void *p, size_t len)
{
	OPENSSL_cleanse(p, len);
}

int cr_memcmp_ct(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len);
}

int cr_sha3_256(uint8_t out[32], const void *data, size_t len)
{
	unsigned int n = 0;
	if (EVP_Digest(data, len, out, &n, EVP_sha3_256(), NULL) != 1 || n != 32)
		return CR_E_CRYPTO;
	return 0;
}
