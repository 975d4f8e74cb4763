/* The BIP324 cipher suite: key schedule, FSChaCha20 for packet lengths,
 * FSChaCha20Poly1305 for packet contents, both rekeying every 224 uses.
 *
 * Pure computation over caller memory. A session holds only its keys,
 * counters and one buffered length-keystream block per direction; the
 * libcrypto contexts live in a cipher workspace (proto/crypto.h) that
 * the caller shares among all the sessions of its thread
 * (cr_bip324_init_ws), or that cr_bip324_init creates for the session.
 * Nothing is allocated per packet. One thread at a time per struct
 * cr_bip324 and its workspace (the peer's worker). The handshake state
 * machine around it is proto/v2.h. */
#ifndef CR_PROTO_BIP324_H
#define CR_PROTO_BIP324_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CR_BIP324_LENGTH_LEN 3     /* encrypted contents length */
#define CR_BIP324_HEADER_LEN 1     /* header byte inside the AEAD */
#define CR_BIP324_TAG_LEN 16       /* Poly1305 tag */
#define CR_BIP324_OVERHEAD (CR_BIP324_LENGTH_LEN + CR_BIP324_HEADER_LEN + CR_BIP324_TAG_LEN)
#define CR_BIP324_REKEY_INTERVAL 224
#define CR_BIP324_IGNORE_BIT 0x80  /* header bit 7: decoy packet */
#define CR_BIP324_TERM_LEN 16      /* garbage terminator */
#define CR_BIP324_MAX_CONTENTS ((1u << 24) - 1) /* what 3 length bytes can say */

struct cr_cipher_ws;

/* FSChaCha20: one ChaCha20 stream per 224 chunks under nonce 0^4 || epoch,
 * whose next 32 keystream bytes become the key of the following epoch. */
struct cr_fschacha20 {
	struct cr_cipher_ws *ws;
	bool own_ws;       /* made by cr_fschacha20_init, freed on clear */
	uint8_t ks_pos;    /* first unused byte of ks; 64 when empty */
	uint32_t block;    /* next ChaCha20 block counter in this epoch */
	uint64_t chunk;    /* chunks crypted so far */
	uint8_t key[32];   /* this epoch's key */
	uint8_t ks[64];    /* keystream buffered from the last block */
};

/* FSChaCha20Poly1305: nonce = LE32(packet % 224) || LE64(packet / 224);
 * after every 224th packet the key becomes the AEAD encryption of 32 zero
 * bytes under nonce 0xffffffff || LE64(epoch). */
struct cr_fsaead {
	struct cr_cipher_ws *ws;
	bool own_ws;
	uint64_t packet;   /* packets sealed or opened so far */
	uint8_t key[32];   /* this epoch's key */
};

/* Keys hold their own zero state: init on zeroed memory, clear anything. */
int cr_fschacha20_init(struct cr_fschacha20 *f, const uint8_t key[32]);
void cr_fschacha20_clear(struct cr_fschacha20 *f);
/* XORs len (<= 64) bytes of keystream into in -> out: one chunk. */
int cr_fschacha20_crypt(struct cr_fschacha20 *f, uint8_t *out, const uint8_t *in, size_t len);

int cr_fsaead_init(struct cr_fsaead *f, const uint8_t key[32]);
void cr_fsaead_clear(struct cr_fsaead *f);

/* Both directions of one session. */
struct cr_bip324 {
	/* All four share one workspace; when cr_bip324_init made it,
	 * send_l owns it (own_ws) and frees it on clear. */
	struct cr_fschacha20 send_l, recv_l;
	struct cr_fsaead send_p, recv_p;
	uint8_t send_term[CR_BIP324_TERM_LEN];
	uint8_t recv_term[CR_BIP324_TERM_LEN];
	uint8_t session_id[32];
};

/* Derives every key from the ECDH secret with HKDF-SHA256, salt
 * "bitcoin_v2_shared_secret" || magic, and sets up both directions for the
 * given role. Intermediate key material is wiped. Returns 0, CR_E_NOMEM or
 * CR_E_CRYPTO (b is then cleared). */
int cr_bip324_init(struct cr_bip324 *b, const uint8_t secret[32], const uint8_t magic[4],
		   bool initiator);
/* The same, with the libcrypto contexts of ws (which must outlive b, and
 * which no other thread uses meanwhile): the session itself holds no heap
 * memory. Returns 0 or CR_E_CRYPTO. */
int cr_bip324_init_ws(struct cr_bip324 *b, const uint8_t secret[32], const uint8_t magic[4],
		      bool initiator, struct cr_cipher_ws *ws);
/* Wipes every key (and the workspace's copy of them), frees what
 * cr_bip324_init allocated; b may be initialised again. */
void cr_bip324_clear(struct cr_bip324 *b);

/* Encrypts one packet whose contents are head || body (either part may be
 * empty) into out, which needs CR_BIP324_OVERHEAD + head_len + body_len
 * bytes: enc_len(3) || AEAD(aad, header || contents) || tag. The contents
 * must not exceed CR_BIP324_MAX_CONTENTS. Returns the bytes written or a
 * negative CR_E_*. */
long cr_bip324_encrypt(struct cr_bip324 *b, uint8_t *out,
		       const uint8_t *head, size_t head_len,
		       const uint8_t *body, size_t body_len,
		       const uint8_t *aad, size_t aad_len, bool ignore);

/* Decrypts the 3 length bytes that open the next packet: the contents
 * length. Each packet's length must be decrypted exactly once, in order. */
uint32_t cr_bip324_decrypt_length(struct cr_bip324 *b, const uint8_t in[CR_BIP324_LENGTH_LEN]);

/* Decrypts the rest of that packet: in holds header || contents || tag
 * (1 + contents_len + 16 bytes), out receives header || contents
 * (1 + contents_len bytes; out may equal in). *ignore tells a decoy.
 * Returns 0, or CR_E_V2_AUTH (out zeroed: the session must end). */
int cr_bip324_decrypt(struct cr_bip324 *b, uint8_t *out, const uint8_t *in,
		      size_t contents_len, const uint8_t *aad, size_t aad_len, bool *ignore);

#endif
