/* BIP324 cipher suite over proto/crypto.h; see bip324.h. One thread at a
 * time per struct cr_bip324.
 *
 * The length cipher consumes 3 keystream bytes per packet, so it keeps the
 * last ChaCha20 block and refills it once per ~21 packets instead of calling
 * into libcrypto for every length. */
#include <string.h>

#include "proto/bip324.h"
#include "proto/crypto.h"
#include "proto/err.h"

/* Bodies up to this size are copied next to the header and sealed in one
 * pass; larger ones are sealed where they lie. */
#define SMALL_BODY 16384

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void fschacha20_setup(struct cr_fschacha20 *f, const uint8_t key[32],
			     struct cr_cipher_ws *ws)
{
	memset(f, 0, sizeof(*f));
	f->ws = ws;
	f->ks_pos = sizeof(f->ks);
	memcpy(f->key, key, 32);
}

int cr_fschacha20_init(struct cr_fschacha20 *f, const uint8_t key[32])
{
	struct cr_cipher_ws *ws = cr_cipher_ws_new();

	fschacha20_setup(f, key, ws);
	if (!ws) {
		cr_fschacha20_clear(f);
		return CR_E_NOMEM;
	}
	f->own_ws = true;
	return 0;
}

void cr_fschacha20_clear(struct cr_fschacha20 *f)
{
	if (f->own_ws)
		cr_cipher_ws_free(f->ws);
	cr_wipe(f, sizeof(*f));
}

/* Copies n (<= 64) keystream bytes of the current epoch into out. */
static int keystream(struct cr_fschacha20 *f, uint8_t *out, size_t n)
{
	uint8_t nonce[12] = {0};

	put_le64(nonce + 4, f->chunk / CR_BIP324_REKEY_INTERVAL);
	while (n) {
		if (f->ks_pos == sizeof(f->ks)) {
			int err = cr_chacha20_xor_ws(f->ws, f->key, nonce, f->block++, f->ks,
						     NULL, sizeof(f->ks));
			if (err)
				return err;
			f->ks_pos = 0;
		}
		size_t k = sizeof(f->ks) - f->ks_pos;
		if (k > n)
			k = n;
		memcpy(out, f->ks + f->ks_pos, k);
		f->ks_pos = (uint8_t)(f->ks_pos + k);
		out += k;
		n -= k;
	}
	return 0;
}

int cr_fschacha20_crypt(struct cr_fschacha20 *f, uint8_t *out, const uint8_t *in, size_t len)
{
	uint8_t ks[64];
	int err;

	if (len > sizeof(ks))
		return CR_E_INVAL;
	err = keystream(f, ks, len);
	for (size_t i = 0; !err && i < len; i++)
		out[i] = in[i] ^ ks[i];
	if (!err && (f->chunk + 1) % CR_BIP324_REKEY_INTERVAL == 0) {
		/* BIP324: the next 32 keystream bytes are the next epoch's key;
		 * the block counter restarts (224 * 3 + 32 bytes end exactly on
		 * a block boundary, so no buffered keystream is dropped). */
		uint8_t key[32];
		err = keystream(f, key, sizeof(key));
		if (!err)
			memcpy(f->key, key, sizeof(key));
		cr_wipe(key, sizeof(key));
		/* The workspace still holds the old epoch's key: forward
		 * secrecy wants it gone now, not at the next packet. */
		cr_cipher_ws_wipe(f->ws);
		f->block = 0;
		f->ks_pos = sizeof(f->ks);
	}
	cr_wipe(ks, sizeof(ks));
	f->chunk++;
	return err;
}

int cr_fsaead_init(struct cr_fsaead *f, const uint8_t key[32])
{
	memset(f, 0, sizeof(*f));
	memcpy(f->key, key, 32);
	f->ws = cr_cipher_ws_new();
	if (!f->ws) {
		cr_fsaead_clear(f);
		return CR_E_NOMEM;
	}
	f->own_ws = true;
	return 0;
}

void cr_fsaead_clear(struct cr_fsaead *f)
{
	if (f->own_ws)
		cr_cipher_ws_free(f->ws);
	cr_wipe(f, sizeof(*f));
}

static void fsaead_nonce(const struct cr_fsaead *f, uint8_t nonce[12])
{
	put_le32(nonce, (uint32_t)(f->packet % CR_BIP324_REKEY_INTERVAL));
	put_le64(nonce + 4, f->packet / CR_BIP324_REKEY_INTERVAL);
}

/* Counts one packet and rekeys after every 224th. Runs whether or not the
 * packet authenticated, as the spec's crypt() does. */
static int fsaead_advance(struct cr_fsaead *f)
{
	int err = 0;

	if ((f->packet + 1) % CR_BIP324_REKEY_INTERVAL == 0) {
		uint8_t nonce[12], key[32];
		put_le32(nonce, 0xffffffffu);
		put_le64(nonce + 4, f->packet / CR_BIP324_REKEY_INTERVAL);
		err = cr_aead_keystream_ws(f->ws, f->key, nonce, key, sizeof(key));
		if (!err)
			memcpy(f->key, key, sizeof(key));
		cr_wipe(key, sizeof(key));
		cr_cipher_ws_wipe(f->ws); /* drop the old epoch's key */
	}
	f->packet++;
	return err;
}

static void fsaead_setup(struct cr_fsaead *f, const uint8_t key[32], struct cr_cipher_ws *ws)
{
	memset(f, 0, sizeof(*f));
	f->ws = ws;
	memcpy(f->key, key, 32);
}

static int derive(uint8_t out[32], const uint8_t prk[32], const char *info)
{
	return cr_hkdf_sha256_expand(out, 32, prk, (const uint8_t *)info, strlen(info));
}

/* Expands prk into the session id, terminators and the four cipher keys,
 * and keys the ciphers for the role. */
static int setup(struct cr_bip324 *b, const uint8_t prk[32], bool initiator,
		 struct cr_cipher_ws *ws)
{
	uint8_t il[32], ip[32], rl[32], rp[32], terms[32];
	int err;

	err = derive(b->session_id, prk, "session_id");
	if (!err)
		err = derive(il, prk, "initiator_L");
	if (!err)
		err = derive(ip, prk, "initiator_P");
	if (!err)
		err = derive(rl, prk, "responder_L");
	if (!err)
		err = derive(rp, prk, "responder_P");
	if (!err)
		err = derive(terms, prk, "garbage_terminators");
	if (!err) {
		memcpy(b->send_term, initiator ? terms : terms + 16, 16);
		memcpy(b->recv_term, initiator ? terms + 16 : terms, 16);
		fschacha20_setup(&b->send_l, initiator ? il : rl, ws);
		fschacha20_setup(&b->recv_l, initiator ? rl : il, ws);
		fsaead_setup(&b->send_p, initiator ? ip : rp, ws);
		fsaead_setup(&b->recv_p, initiator ? rp : ip, ws);
	}
	/* BIP324: wipe the key material once the ciphers hold it (the
	 * copies in b are wiped by cr_bip324_clear). */
	cr_wipe(il, 32);
	cr_wipe(ip, 32);
	cr_wipe(rl, 32);
	cr_wipe(rp, 32);
	cr_wipe(terms, 32);
	return err;
}

int cr_bip324_init_ws(struct cr_bip324 *b, const uint8_t secret[32], const uint8_t magic[4],
		      bool initiator, struct cr_cipher_ws *ws)
{
	static const char salt_prefix[] = "bitcoin_v2_shared_secret";
	uint8_t salt[sizeof(salt_prefix) - 1 + 4], prk[32];
	int err;

	memset(b, 0, sizeof(*b));
	memcpy(salt, salt_prefix, sizeof(salt_prefix) - 1);
	memcpy(salt + sizeof(salt_prefix) - 1, magic, 4);
	err = cr_hkdf_sha256_extract(prk, salt, sizeof(salt), secret, 32);
	if (!err)
		err = setup(b, prk, initiator, ws);
	cr_wipe(prk, sizeof(prk));
	if (err)
		cr_bip324_clear(b);
	return err;
}

int cr_bip324_init(struct cr_bip324 *b, const uint8_t secret[32], const uint8_t magic[4],
		   bool initiator)
{
	struct cr_cipher_ws *ws = cr_cipher_ws_new();
	int err;

	if (!ws) {
		memset(b, 0, sizeof(*b));
		return CR_E_NOMEM;
	}
	err = cr_bip324_init_ws(b, secret, magic, initiator, ws);
	if (err)
		cr_cipher_ws_free(ws);
	else
		b->send_l.own_ws = true;
	return err;
}

void cr_bip324_clear(struct cr_bip324 *b)
{
	/* The shared workspace may hold one of our keys: overwrite it. */
	if (b->send_l.ws)
		cr_cipher_ws_wipe(b->send_l.ws);
	cr_fschacha20_clear(&b->recv_l);
	cr_fsaead_clear(&b->send_p);
	cr_fsaead_clear(&b->recv_p);
	cr_fschacha20_clear(&b->send_l); /* last: may free the workspace */
	cr_wipe(b, sizeof(*b));
}

long cr_bip324_encrypt(struct cr_bip324 *b, uint8_t *out,
		       const uint8_t *head, size_t head_len,
		       const uint8_t *body, size_t body_len,
		       const uint8_t *aad, size_t aad_len, bool ignore)
{
	/* The header byte and the small head go through the AEAD as one
	 * piece so the large body is sealed in a single call. */
	uint8_t first[1 + 64], nonce[12], len_plain[3];
	size_t len = head_len + body_len;
	uint8_t *ct = out + CR_BIP324_LENGTH_LEN;
	int err;

	if (len > CR_BIP324_MAX_CONTENTS || head_len > 64)
		return CR_E_V2_LENGTH;
	first[0] = ignore ? CR_BIP324_IGNORE_BIT : 0;
	if (head_len)
		memcpy(first + 1, head, head_len);
	fsaead_nonce(&b->send_p, nonce);
	if (body_len <= SMALL_BODY) {
		/* One contiguous AEAD pass beats two EVP updates (the second
		 * starts mid-block) when the copy is this cheap. */
		memcpy(ct, first, 1 + head_len);
		if (body_len)
			memmove(ct + 1 + head_len, body, body_len);
		err = cr_aead_seal2_ws(b->send_p.ws, b->send_p.key, nonce, aad, aad_len, ct,
				       ct, 1 + len, NULL, 0, ct + 1 + len);
	} else {
		err = cr_aead_seal2_ws(b->send_p.ws, b->send_p.key, nonce, aad, aad_len, ct,
				       first, 1 + head_len, body, body_len, ct + 1 + len);
	}
	if (!err)
		err = fsaead_advance(&b->send_p);
	len_plain[0] = (uint8_t)len;
	len_plain[1] = (uint8_t)(len >> 8);
	len_plain[2] = (uint8_t)(len >> 16);
	if (!err)
		err = cr_fschacha20_crypt(&b->send_l, out, len_plain, CR_BIP324_LENGTH_LEN);
	if (err)
		return err;
	return (long)(CR_BIP324_OVERHEAD + len);
}

uint32_t cr_bip324_decrypt_length(struct cr_bip324 *b, const uint8_t in[CR_BIP324_LENGTH_LEN])
{
	uint8_t p[3];

	/* ChaCha20 on an already keyed context cannot fail short of memory
	 * corruption; a failure would garble the length, which the caller
	 * bounds and the AEAD then rejects. */
	if (cr_fschacha20_crypt(&b->recv_l, p, in, sizeof(p)))
		memset(p, 0xff, sizeof(p));
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
}

int cr_bip324_decrypt(struct cr_bip324 *b, uint8_t *out, const uint8_t *in,
		      size_t contents_len, const uint8_t *aad, size_t aad_len, bool *ignore)
{
	uint8_t nonce[12];
	size_t n = CR_BIP324_HEADER_LEN + contents_len;
	int err, adv;

	*ignore = false;
	fsaead_nonce(&b->recv_p, nonce);
	err = cr_aead_open_ws(b->recv_p.ws, b->recv_p.key, nonce, aad, aad_len, out, in, n, in + n);
	adv = fsaead_advance(&b->recv_p);
	if (err)
		return err;
	if (adv)
		return adv;
	*ignore = (out[0] & CR_BIP324_IGNORE_BIT) != 0;
	return 0;
}
