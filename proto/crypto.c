/* OpenSSL libcrypto behind proto/crypto.h. Any thread, on its own objects.
 *
 * The low-level SHA256_* and HMAC() calls are deprecated in OpenSSL 3 but
 * remain the fastest path (no EVP fetch or allocation per call), so this one
 * file asks for the 1.1.1 API. */
#define OPENSSL_API_COMPAT 0x10101000L
#define OPENSSL_NO_DEPRECATED_3_0_DISABLE
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include "proto/crypto.h"
#include "proto/err.h"

_Static_assert(sizeof(struct cr_sha256) >= sizeof(SHA256_CTX), "cr_sha256 too small");

/* OpenSSL 3's one-shot SHA256() goes through EVP_Q_digest, which fetches the
 * digest and allocates on every call (about 1 us and 400 heap bytes for a
 * 32-byte input); the low-level context API does neither. */
void cr_sha256(uint8_t out[32], const void *data, size_t len)
{
	SHA256_CTX c;
	SHA256_Init(&c);
	SHA256_Update(&c, data, len);
	SHA256_Final(out, &c);
}

void cr_sha256d(uint8_t out[32], const void *data, size_t len)
{
	uint8_t mid[32];
	cr_sha256(mid, data, len);
	cr_sha256(out, mid, sizeof(mid));
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

/* HMAC-SHA256 on the low-level SHA-256: the padded key's two compression
 * states are computed once and copied per message, so HKDF-Expand's six
 * BIP324 outputs cost two compressions each and no EVP fetch. */
struct hmac_key {
	SHA256_CTX inner, outer;
};

static void hmac_key_init(struct hmac_key *h, const uint8_t *key, size_t key_len)
{
	uint8_t k[64] = {0}, pad[64];

	if (key_len > sizeof(k))
		cr_sha256(k, key, key_len);
	else if (key_len)
		memcpy(k, key, key_len);
	for (int i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x36;
	SHA256_Init(&h->inner);
	SHA256_Update(&h->inner, pad, 64);
	for (int i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x5c;
	SHA256_Init(&h->outer);
	SHA256_Update(&h->outer, pad, 64);
	cr_wipe(k, sizeof(k));
	cr_wipe(pad, sizeof(pad));
}

/* out = HMAC(key, m1 || m2 || m3); h is left untouched. */
static void hmac_run(const struct hmac_key *h, uint8_t out[32], const uint8_t *m1, size_t l1,
		     const uint8_t *m2, size_t l2, const uint8_t *m3, size_t l3)
{
	SHA256_CTX c = h->inner;
	uint8_t mid[32];

	if (l1)
		SHA256_Update(&c, m1, l1);
	if (l2)
		SHA256_Update(&c, m2, l2);
	if (l3)
		SHA256_Update(&c, m3, l3);
	SHA256_Final(mid, &c);
	c = h->outer;
	SHA256_Update(&c, mid, 32);
	SHA256_Final(out, &c);
	cr_wipe(mid, sizeof(mid));
	cr_wipe(&c, sizeof(c));
}

int cr_hmac_sha256(uint8_t out[32], const uint8_t *key, size_t key_len,
		   const uint8_t *msg, size_t msg_len)
{
	struct hmac_key h;

	hmac_key_init(&h, key, key_len);
	hmac_run(&h, out, msg, msg_len, NULL, 0, NULL, 0);
	cr_wipe(&h, sizeof(h));
	return 0;
}

int cr_hkdf_sha256_extract(uint8_t prk[32], const uint8_t *salt, size_t salt_len,
			   const uint8_t *ikm, size_t ikm_len)
{
	/* RFC 5869: PRK = HMAC(salt, IKM); an empty salt is HashLen zeros,
	 * which HMAC's zero padding makes identical to no key at all. */
	return cr_hmac_sha256(prk, salt, salt_len, ikm, ikm_len);
}

int cr_hkdf_sha256_expand(uint8_t *out, size_t out_len, const uint8_t prk[32],
			  const uint8_t *info, size_t info_len)
{
	struct hmac_key h;
	uint8_t t[32];

	if (out_len > 255 * 32 || info_len > 255)
		return CR_E_INVAL;
	hmac_key_init(&h, prk, 32);
	for (size_t done = 0, i = 1; done < out_len; i++) {
		/* T(i) = HMAC(PRK, T(i-1) || info || i) */
		uint8_t ctr = (uint8_t)i;
		hmac_run(&h, t, t, i == 1 ? 0 : 32, info, info_len, &ctr, 1);
		size_t n = out_len - done < 32 ? out_len - done : 32;
		memcpy(out + done, t, n);
		done += n;
	}
	cr_wipe(t, sizeof(t));
	cr_wipe(&h, sizeof(h));
	return 0;
}

struct cr_chacha20 {
	EVP_CIPHER_CTX *ctx;
};

struct cr_chacha20 *cr_chacha20_new(const uint8_t key[32])
{
	static const uint8_t iv[16];
	struct cr_chacha20 *c = OPENSSL_zalloc(sizeof(*c));

	if (!c)
		return NULL;
	/* The cipher is named (and fetched) once here; rekeying passes NULL
	 * and keeps it, so a rekey costs no provider lookup. */
	c->ctx = EVP_CIPHER_CTX_new();
	if (!c->ctx || EVP_EncryptInit_ex(c->ctx, EVP_chacha20(), NULL, key, iv) != 1) {
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
	if (EVP_EncryptInit_ex(c->ctx, NULL, NULL, key, NULL) != 1)
		return CR_E_CRYPTO;
	return 0;
}

/* out = in XOR keystream, or the bare keystream when in is NULL. The
 * context must already hold its key and IV. */
static int stream_xor(EVP_CIPHER_CTX *ctx, uint8_t *out, const uint8_t *in, size_t len)
{
	static const uint8_t zeros[256];
	int n;

	if (in) {
		for (size_t done = 0; done < len;) {
			/* EVP lengths are int: feed huge inputs in slices. */
			size_t k = len - done < (1u << 30) ? len - done : (1u << 30);
			if (EVP_CipherUpdate(ctx, out + done, &n, in + done, (int)k) != 1)
				return CR_E_CRYPTO;
			done += k;
		}
		return 0;
	}
	for (size_t done = 0; done < len;) {
		size_t k = len - done < sizeof(zeros) ? len - done : sizeof(zeros);
		if (EVP_CipherUpdate(ctx, out + done, &n, zeros, (int)k) != 1)
			return CR_E_CRYPTO;
		done += k;
	}
	return 0;
}

/* OpenSSL's 16-byte ChaCha20 IV is the little-endian block counter
 * followed by the 96-bit nonce. */
static void chacha_iv(uint8_t iv[16], uint32_t counter, const uint8_t nonce[12])
{
	iv[0] = (uint8_t)counter;
	iv[1] = (uint8_t)(counter >> 8);
	iv[2] = (uint8_t)(counter >> 16);
	iv[3] = (uint8_t)(counter >> 24);
	memcpy(iv + 4, nonce, 12);
}

int cr_chacha20_xor(struct cr_chacha20 *c, const uint8_t nonce[12], uint32_t counter,
		    uint8_t *out, const uint8_t *in, size_t len)
{
	uint8_t iv[16];

	chacha_iv(iv, counter, nonce);
	if (EVP_EncryptInit_ex(c->ctx, NULL, NULL, NULL, iv) != 1)
		return CR_E_CRYPTO;
	return stream_xor(c->ctx, out, in, len);
}

/* One EVP context per direction, created on first use: a BIP324 cipher
 * only ever seals or only ever opens, so a session holds two contexts, not
 * four. The key is kept (wiped on free) to set up the missing one. */
struct cr_aead {
	EVP_CIPHER_CTX *enc;
	EVP_CIPHER_CTX *dec;
	uint8_t key[32];
};

struct cr_aead *cr_aead_new(const uint8_t key[32])
{
	struct cr_aead *a = OPENSSL_zalloc(sizeof(*a));
	if (!a)
		return NULL;
	memcpy(a->key, key, 32);
	return a;
}

void cr_aead_free(struct cr_aead *a)
{
	if (!a)
		return;
	EVP_CIPHER_CTX_free(a->enc);
	EVP_CIPHER_CTX_free(a->dec);
	OPENSSL_clear_free(a, sizeof(*a));
}

/* The context for one direction, created and keyed on first use. */
static EVP_CIPHER_CTX *aead_ctx(struct cr_aead *a, int enc)
{
	EVP_CIPHER_CTX **pc = enc ? &a->enc : &a->dec;

	if (*pc)
		return *pc;
	*pc = EVP_CIPHER_CTX_new();
	if (!*pc)
		return NULL;
	if (EVP_CipherInit_ex(*pc, EVP_chacha20_poly1305(), NULL, a->key, NULL, enc) != 1) {
		EVP_CIPHER_CTX_free(*pc);
		*pc = NULL;
	}
	return *pc;
}

int cr_aead_rekey(struct cr_aead *a, const uint8_t key[32])
{
	memcpy(a->key, key, 32);
	/* NULL cipher keeps the fetched one: no provider lookup per rekey. */
	if ((a->enc && EVP_EncryptInit_ex(a->enc, NULL, NULL, key, NULL) != 1) ||
	    (a->dec && EVP_DecryptInit_ex(a->dec, NULL, NULL, key, NULL) != 1))
		return CR_E_CRYPTO;
	return 0;
}

int cr_aead_seal(struct cr_aead *a, const uint8_t nonce[12],
		 const uint8_t *aad, size_t aad_len,
		 uint8_t *out, const uint8_t *in, size_t len, uint8_t tag[16])
{
	return cr_aead_seal2(a, nonce, aad, aad_len, out, in, len, NULL, 0, tag);
}

/* Seals with ctx; key NULL keeps the context's key. Keying rides on the
 * nonce's Init call, so a keyed call costs no extra libcrypto round. */
static int seal_ctx(EVP_CIPHER_CTX *ctx, const uint8_t *key, const uint8_t nonce[12],
		    const uint8_t *aad, size_t aad_len, uint8_t *out,
		    const uint8_t *in1, size_t len1, const uint8_t *in2, size_t len2,
		    uint8_t tag[16])
{
	int n;

	if (aad_len > INT_MAX)
		return CR_E_INVAL;
	if (EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, 1) != 1)
		return CR_E_CRYPTO;
	if (aad_len && EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1)
		return CR_E_CRYPTO;
	if (len1 && stream_xor(ctx, out, in1, len1))
		return CR_E_CRYPTO;
	if (len2 && stream_xor(ctx, out + len1, in2, len2))
		return CR_E_CRYPTO;
	if (EVP_EncryptFinal_ex(ctx, out + len1 + len2, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, tag) != 1)
		return CR_E_CRYPTO;
	return 0;
}

static int open_ctx(EVP_CIPHER_CTX *ctx, const uint8_t *key, const uint8_t nonce[12],
		    const uint8_t *aad, size_t aad_len,
		    uint8_t *out, const uint8_t *in, size_t len, const uint8_t tag[16])
{
	uint8_t t[16];
	int n;

	if (aad_len > INT_MAX)
		return CR_E_INVAL;
	/* The tag may sit right after the ciphertext in a buffer that is being
	 * decrypted in place: copy it before out is written. */
	memcpy(t, tag, 16);
	if (EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, 0) != 1)
		return CR_E_CRYPTO;
	if (aad_len && EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1)
		return CR_E_CRYPTO;
	if (len && stream_xor(ctx, out, in, len))
		return CR_E_CRYPTO;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16, t) != 1)
		return CR_E_CRYPTO;
	if (EVP_DecryptFinal_ex(ctx, out + len, &n) != 1) {
		cr_wipe(out, len);
		return CR_E_V2_AUTH;
	}
	return 0;
}

/* Either direction XORs the same keystream into zeros; the Poly1305 state
 * this leaves behind is discarded by the next Init. */
static int keystream_ctx(EVP_CIPHER_CTX *ctx, const uint8_t *key, int enc,
			 const uint8_t nonce[12], uint8_t *out, size_t len)
{
	if (EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) != 1)
		return CR_E_CRYPTO;
	return stream_xor(ctx, out, NULL, len);
}

int cr_aead_seal2(struct cr_aead *a, const uint8_t nonce[12],
		  const uint8_t *aad, size_t aad_len, uint8_t *out,
		  const uint8_t *in1, size_t len1, const uint8_t *in2, size_t len2,
		  uint8_t tag[16])
{
	EVP_CIPHER_CTX *ctx = aead_ctx(a, 1);

	if (!ctx)
		return CR_E_NOMEM;
	return seal_ctx(ctx, NULL, nonce, aad, aad_len, out, in1, len1, in2, len2, tag);
}

int cr_aead_open(struct cr_aead *a, const uint8_t nonce[12],
		 const uint8_t *aad, size_t aad_len,
		 uint8_t *out, const uint8_t *in, size_t len, const uint8_t tag[16])
{
	EVP_CIPHER_CTX *ctx = aead_ctx(a, 0);

	if (!ctx)
		return CR_E_NOMEM;
	return open_ctx(ctx, NULL, nonce, aad, aad_len, out, in, len, tag);
}

int cr_aead_keystream(struct cr_aead *a, const uint8_t nonce[12], uint8_t *out, size_t len)
{
	EVP_CIPHER_CTX *ctx = a->dec ? a->dec : aead_ctx(a, 1);

	if (!ctx)
		return CR_E_NOMEM;
	return keystream_ctx(ctx, NULL, -1, nonce, out, len);
}

/* Keying a context costs about 40 ns (a provider parameter query and the
 * key setup), 10% of a small packet. A peer's packets come in bursts, so
 * each context remembers the key it holds and is rekeyed only when the
 * next call brings another one. */
struct cr_cipher_ws {
	EVP_CIPHER_CTX *stream; /* ChaCha20 */
	EVP_CIPHER_CTX *aead;   /* ChaCha20-Poly1305 */
	bool stream_keyed, aead_keyed;
	uint8_t stream_key[32]; /* valid while *_keyed */
	uint8_t aead_key[32];
};

/* The key to pass to Init: key, or NULL when the context already holds
 * it. The caller sets *keyed once the Init succeeded. */
static const uint8_t *ws_key(bool *keyed, uint8_t held[32], const uint8_t key[32])
{
	if (*keyed && CRYPTO_memcmp(held, key, 32) == 0)
		return NULL;
	*keyed = false;
	memcpy(held, key, 32);
	return key;
}

struct cr_cipher_ws *cr_cipher_ws_new(void)
{
	static const uint8_t zero[32];
	struct cr_cipher_ws *w = OPENSSL_zalloc(sizeof(*w));

	if (!w)
		return NULL;
	/* Both ciphers are fetched once here; every later Init passes NULL
	 * and keeps them. */
	w->stream = EVP_CIPHER_CTX_new();
	w->aead = EVP_CIPHER_CTX_new();
	if (!w->stream || !w->aead ||
	    EVP_EncryptInit_ex(w->stream, EVP_chacha20(), NULL, zero, zero) != 1 ||
	    EVP_EncryptInit_ex(w->aead, EVP_chacha20_poly1305(), NULL, zero, zero) != 1) {
		cr_cipher_ws_free(w);
		return NULL;
	}
	return w;
}

void cr_cipher_ws_free(struct cr_cipher_ws *w)
{
	if (!w)
		return;
	EVP_CIPHER_CTX_free(w->stream); /* cleanses the key schedules */
	EVP_CIPHER_CTX_free(w->aead);
	OPENSSL_free(w);
}

void cr_cipher_ws_wipe(struct cr_cipher_ws *w)
{
	static const uint8_t zero[32];
	uint8_t junk[64];

	/* Rekeying with zeros replaces the key words; running one block
	 * replaces the keystream ChaCha20 keeps buffered. Cannot fail on a
	 * context that is already set up. */
	(void)EVP_CipherInit_ex(w->stream, NULL, NULL, zero, zero, 1);
	(void)stream_xor(w->stream, junk, NULL, sizeof(junk));
	(void)EVP_CipherInit_ex(w->aead, NULL, NULL, zero, zero, 1);
	(void)stream_xor(w->aead, junk, NULL, sizeof(junk));
	(void)EVP_CipherInit_ex(w->aead, NULL, NULL, zero, zero, 1);
	w->stream_keyed = w->aead_keyed = false;
	cr_wipe(w->stream_key, sizeof(w->stream_key));
	cr_wipe(w->aead_key, sizeof(w->aead_key));
}

int cr_chacha20_xor_ws(struct cr_cipher_ws *w, const uint8_t key[32], const uint8_t nonce[12],
		       uint32_t counter, uint8_t *out, const uint8_t *in, size_t len)
{
	uint8_t iv[16];

	chacha_iv(iv, counter, nonce);
	if (EVP_CipherInit_ex(w->stream, NULL, NULL, ws_key(&w->stream_keyed, w->stream_key, key),
			      iv, 1) != 1)
		return CR_E_CRYPTO;
	w->stream_keyed = true;
	return stream_xor(w->stream, out, in, len);
}

int cr_aead_seal2_ws(struct cr_cipher_ws *w, const uint8_t key[32], const uint8_t nonce[12],
		     const uint8_t *aad, size_t aad_len, uint8_t *out,
		     const uint8_t *in1, size_t len1, const uint8_t *in2, size_t len2,
		     uint8_t tag[16])
{
	const uint8_t *k = ws_key(&w->aead_keyed, w->aead_key, key);
	int err = seal_ctx(w->aead, k, nonce, aad, aad_len, out, in1, len1, in2, len2, tag);

	/* Any error past the Init leaves the context keyed: still true. */
	w->aead_keyed = err != CR_E_CRYPTO && err != CR_E_INVAL;
	return err;
}

int cr_aead_open_ws(struct cr_cipher_ws *w, const uint8_t key[32], const uint8_t nonce[12],
		    const uint8_t *aad, size_t aad_len,
		    uint8_t *out, const uint8_t *in, size_t len, const uint8_t tag[16])
{
	const uint8_t *k = ws_key(&w->aead_keyed, w->aead_key, key);
	int err = open_ctx(w->aead, k, nonce, aad, aad_len, out, in, len, tag);

	/* A failed tag check still ran under this key. */
	w->aead_keyed = err != CR_E_CRYPTO && err != CR_E_INVAL;
	return err;
}

int cr_aead_keystream_ws(struct cr_cipher_ws *w, const uint8_t key[32],
			 const uint8_t nonce[12], uint8_t *out, size_t len)
{
	const uint8_t *k = ws_key(&w->aead_keyed, w->aead_key, key);
	int err = keystream_ctx(w->aead, k, 1, nonce, out, len);

	w->aead_keyed = err == 0;
	return err;
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
