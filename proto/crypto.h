/* Hashes, MACs and ciphers for the protocol layer.
 *
 * The only door to OpenSSL libcrypto: nothing else in connring includes an
 * OpenSSL header. SHA-256 uses the low-level API (SHA-NI where the CPU has
 * it, no EVP allocation per call). ChaCha20 and ChaCha20-Poly1305 objects
 * hold an EVP context each and are created once per key schedule, never per
 * message; a cipher workspace serves many keys with two contexts. No globals: any thread may call any function on its own objects. */
#ifndef CR_PROTO_CRYPTO_H
#define CR_PROTO_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

/* One-shot SHA-256 and SHA256d (SHA-256 of SHA-256). */
void cr_sha256(uint8_t out[32], const void *data, size_t len);
void cr_sha256d(uint8_t out[32], const void *data, size_t len);

/* Incremental SHA-256. The state is plain memory: copy it to fork a hash. */
struct cr_sha256 {
	uint64_t opaque[14]; /* holds an OpenSSL SHA256_CTX (112 bytes) */
};
void cr_sha256_init(struct cr_sha256 *h);
void cr_sha256_update(struct cr_sha256 *h, const void *data, size_t len);
void cr_sha256_final(struct cr_sha256 *h, uint8_t out[32]);

/* BIP340-style tagged hash: SHA256(SHA256(tag) || SHA256(tag) || msg). */
void cr_tagged_hash_init(struct cr_sha256 *h, const char *tag);

/* HMAC-SHA256 and HKDF-SHA256 (RFC 5869). Return 0 or CR_E_* (expand:
 * CR_E_INVAL above 255 * 32 output or 255 info bytes). */
int cr_hmac_sha256(uint8_t out[32], const uint8_t *key, size_t key_len,
		   const uint8_t *msg, size_t msg_len);
int cr_hkdf_sha256_extract(uint8_t prk[32], const uint8_t *salt, size_t salt_len,
			   const uint8_t *ikm, size_t ikm_len);
/* out_len <= 255 * 32. */
int cr_hkdf_sha256_expand(uint8_t *out, size_t out_len, const uint8_t prk[32],
			  const uint8_t *info, size_t info_len);

/* ChaCha20 (RFC 8439 layout: 32-bit block counter, 96-bit nonce). */
struct cr_chacha20;
struct cr_chacha20 *cr_chacha20_new(const uint8_t key[32]);
void cr_chacha20_free(struct cr_chacha20 *c);
/* Replace the key (for rekeying) without reallocating. */
int cr_chacha20_rekey(struct cr_chacha20 *c, const uint8_t key[32]);
/* out = in XOR keystream(nonce, starting at block `counter`). in may be NULL
 * to get the bare keystream. in and out may alias. Returns 0 or CR_E_CRYPTO. */
int cr_chacha20_xor(struct cr_chacha20 *c, const uint8_t nonce[12], uint32_t counter,
		    uint8_t *out, const uint8_t *in, size_t len);

/* AEAD_CHACHA20_POLY1305 (RFC 8439), 16-byte tag. The EVP context of each
 * direction is created on its first seal or open (CR_E_NOMEM if that fails),
 * so an object used one way only holds one. */
struct cr_aead;
struct cr_aead *cr_aead_new(const uint8_t key[32]);
void cr_aead_free(struct cr_aead *a);
int cr_aead_rekey(struct cr_aead *a, const uint8_t key[32]);
/* out (len bytes) may alias in; tag written separately. Returns 0 or CR_E_CRYPTO. */
int cr_aead_seal(struct cr_aead *a, const uint8_t nonce[12],
		 const uint8_t *aad, size_t aad_len,
		 uint8_t *out, const uint8_t *in, size_t len, uint8_t tag[16]);
/* The same over in1 || in2 (len1 + len2 bytes written to out), so a packet
 * header and a caller's payload are sealed without copying them together. */
int cr_aead_seal2(struct cr_aead *a, const uint8_t nonce[12],
		  const uint8_t *aad, size_t aad_len, uint8_t *out,
		  const uint8_t *in1, size_t len1, const uint8_t *in2, size_t len2,
		  uint8_t tag[16]);
/* Returns 0, or CR_E_V2_AUTH when the tag does not verify (out is then
 * zeroed), or CR_E_CRYPTO. out may alias in; tag may follow in directly. */
int cr_aead_open(struct cr_aead *a, const uint8_t nonce[12],
		 const uint8_t *aad, size_t aad_len,
		 uint8_t *out, const uint8_t *in, size_t len, const uint8_t tag[16]);
/* The keystream the AEAD would XOR into plaintext under nonce (ChaCha20
 * from block counter 1), len bytes into out; no tag. Equals the ciphertext
 * of len zero bytes: BIP324 rekeys with it. Returns 0 or CR_E_*. */
int cr_aead_keystream(struct cr_aead *a, const uint8_t nonce[12], uint8_t *out, size_t len);

/* A keyless cipher workspace: one ChaCha20 and one ChaCha20-Poly1305 EVP
 * context that take the key on every call. A thread that holds many keys
 * but uses one at a time (a worker's BIP324 sessions) keeps one workspace
 * instead of four libcrypto contexts (about 3.4 KB) per session. Keying
 * rides on the nonce setup each call does anyway and is skipped when the
 * context already holds that key (about 40 ns saved on consecutive calls
 * under one key). One thread at a time per workspace. The workspace keeps
 * the last key used in each context (and a copy, to compare) until another
 * key replaces it or cr_cipher_ws_wipe(). */
struct cr_cipher_ws;
struct cr_cipher_ws *cr_cipher_ws_new(void);
void cr_cipher_ws_free(struct cr_cipher_ws *w);
/* Overwrites the key state of both contexts (a session ended or rekeyed). */
void cr_cipher_ws_wipe(struct cr_cipher_ws *w);
/* As cr_chacha20_xor, under key. Returns 0 or CR_E_CRYPTO. */
int cr_chacha20_xor_ws(struct cr_cipher_ws *w, const uint8_t key[32], const uint8_t nonce[12],
		       uint32_t counter, uint8_t *out, const uint8_t *in, size_t len);
/* As cr_aead_seal2, cr_aead_open and cr_aead_keystream, under key. */
int cr_aead_seal2_ws(struct cr_cipher_ws *w, const uint8_t key[32], const uint8_t nonce[12],
		     const uint8_t *aad, size_t aad_len, uint8_t *out,
		     const uint8_t *in1, size_t len1, const uint8_t *in2, size_t len2,
		     uint8_t tag[16]);
int cr_aead_open_ws(struct cr_cipher_ws *w, const uint8_t key[32], const uint8_t nonce[12],
		    const uint8_t *aad, size_t aad_len,
		    uint8_t *out, const uint8_t *in, size_t len, const uint8_t tag[16]);
int cr_aead_keystream_ws(struct cr_cipher_ws *w, const uint8_t key[32],
			 const uint8_t nonce[12], uint8_t *out, size_t len);

/* Zero memory in a way the compiler may not elide. */
void cr_wipe(void *p, size_t len);

/* Constant-time comparison: 0 when equal. */
int cr_memcmp_ct(const void *a, const void *b, size_t len);

/* One-shot SHA3-256 (FIPS 202), for Tor v3 onion address checksums.
 * Returns 0 or CR_E_CRYPTO. */
int cr_sha3_256(uint8_t out[32], const void *data, size_t len);

#endif
