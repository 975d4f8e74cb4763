// ElligatorSwift and the BIP324 handshake crypto, per second: encode (key
// generation included), decode, x-only ECDH with the shared-secret hash, and
// one side's whole handshake (key, encode, decode theirs, ECDH, HKDF key
// schedule). Field and libsecp256k1 primitives are listed beside them so a
// profile can be read off the table. CR_BENCH_QUICK=1 keeps every run short.
#include "gbench_util.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>

extern "C" {
#include <secp256k1.h>
#include <secp256k1_ecdh.h>

#include "proto/crypto.h"
#include "proto/ellswift.h"
#include "proto/field.h"
}

namespace {

constexpr int kPeers = 64;

// Deterministic keys and peer encodings: key i = SHA256("key" || i).
struct Fixture {
	cr_secp *s;
	uint8_t keys[kPeers][32];
	uint8_t ells[kPeers][64];

	Fixture()
	{
		uint8_t seed[32] = { 42 };
		s = cr_secp_new(seed);
		for (int i = 0; i < kPeers; i++) {
			uint8_t in[8] = { 'k', 'e', 'y', 0, (uint8_t)i };
			cr_sha256(keys[i], in, sizeof(in));
			cr_sha256(seed, keys[i], 32);
			if (cr_ellswift_create(s, ells[i], keys[i], seed) != 0)
				abort();
		}
	}
	~Fixture() { cr_secp_free(s); }
};

void SetRate(benchmark::State &state)
{
	state.counters["ops/s"] = benchmark::Counter((double)state.iterations(),
						     benchmark::Counter::kIsRate);
}

void BM_FieldMul(benchmark::State &state)
{
	cr_fe a, b;
	cr_fe_set_int(&a, 3);
	cr_fe_set_int(&b, 0x123456789);
	for (auto _ : state) {
		cr_fe_mul(&a, &a, &b);
		benchmark::DoNotOptimize(a);
	}
	SetRate(state);
}

void BM_FieldSqr(benchmark::State &state)
{
	cr_fe a;
	cr_fe_set_int(&a, 3);
	for (auto _ : state) {
		cr_fe_sqr(&a, &a);
		benchmark::DoNotOptimize(a);
	}
	SetRate(state);
}

void BM_FieldInv(benchmark::State &state)
{
	cr_fe a;
	cr_fe_set_int(&a, 3);
	for (auto _ : state) {
		cr_fe_inv(&a, &a);
		benchmark::DoNotOptimize(a);
	}
	SetRate(state);
}

void BM_FieldSqrt(benchmark::State &state)
{
	cr_fe a, r;
	cr_fe_set_int(&a, 3);
	for (auto _ : state) {
		benchmark::DoNotOptimize(cr_fe_sqrt(&r, &a));
		a.n[0] ^= r.n[0] & 1;
	}
	SetRate(state);
}

void BM_FieldIsSquareVar(benchmark::State &state)
{
	cr_fe a, one;
	cr_fe_set_int(&a, 3);
	cr_fe_set_int(&one, 1);
	for (auto _ : state) {
		benchmark::DoNotOptimize(cr_fe_is_square_var(&a));
		cr_fe_add(&a, &a, &one);
	}
	SetRate(state);
}

void BM_SecpPubkeyCreate(benchmark::State &state)
{
	Fixture f;
	secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
	secp256k1_pubkey pk;
	int i = 0;
	for (auto _ : state) {
		benchmark::DoNotOptimize(secp256k1_ec_pubkey_create(ctx, &pk, f.keys[i++ % kPeers]));
	}
	secp256k1_context_destroy(ctx);
	SetRate(state);
}

void BM_SecpEcdh(benchmark::State &state)
{
	Fixture f;
	secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
	secp256k1_pubkey pk[kPeers];
	uint8_t out[32];
	for (int i = 0; i < kPeers; i++)
		if (!secp256k1_ec_pubkey_create(ctx, &pk[i], f.keys[i]))
			abort();
	int i = 0;
	for (auto _ : state) {
		benchmark::DoNotOptimize(
			secp256k1_ecdh(ctx, out, &pk[i % kPeers], f.keys[(i + 1) % kPeers], nullptr, nullptr));
		i++;
	}
	secp256k1_context_destroy(ctx);
	SetRate(state);
}

void BM_HkdfKeys(benchmark::State &state);

void BM_EllswiftEncode(benchmark::State &state)
{
	Fixture f;
	uint8_t ell[64], rnd[32] = { 0 };
	uint32_t i = 0;
	for (auto _ : state) {
		memcpy(rnd, &i, sizeof(i));
		if (cr_ellswift_create(f.s, ell, f.keys[i % kPeers], rnd) != 0)
			abort();
		i++;
		benchmark::DoNotOptimize(ell);
	}
	SetRate(state);
}

void BM_EllswiftDecode(benchmark::State &state)
{
	Fixture f;
	uint8_t x[32];
	int i = 0;
	for (auto _ : state) {
		cr_ellswift_decode_var(x, f.ells[i++ % kPeers]);
		benchmark::DoNotOptimize(x);
	}
	SetRate(state);
}

void BM_EllswiftXdh(benchmark::State &state)
{
	Fixture f;
	uint8_t secret[32];
	int i = 0;
	for (auto _ : state) {
		int a = i % kPeers, b = (i + 1) % kPeers;
		if (cr_ellswift_xdh(f.s, secret, f.ells[a], f.ells[b], f.keys[a], true) != 0)
			abort();
		i++;
		benchmark::DoNotOptimize(secret);
	}
	SetRate(state);
}

// BIP324 key schedule: HKDF-SHA256 with salt "bitcoin_v2_shared_secret" ||
// network magic, then the six expansions.
void DeriveKeys(uint8_t out[6][32], const uint8_t secret[32])
{
	static const uint8_t kMagic[4] = { 0xf9, 0xbe, 0xb4, 0xd9 };
	static const char *const kInfo[6] = { "initiator_L", "initiator_P", "responder_L",
					      "responder_P", "garbage_terminators", "session_id" };
	uint8_t salt[28], prk[32];
	memcpy(salt, "bitcoin_v2_shared_secret", 24);
	memcpy(salt + 24, kMagic, 4);
	if (cr_hkdf_sha256_extract(prk, salt, sizeof(salt), secret, 32) != 0)
		abort();
	for (int k = 0; k < 6; k++)
		if (cr_hkdf_sha256_expand(out[k], 32, prk, (const uint8_t *)kInfo[k],
					  strlen(kInfo[k])) != 0)
			abort();
}

void BM_HkdfKeys(benchmark::State &state)
{
	uint8_t secret[32] = { 1 }, keys[6][32];
	for (auto _ : state) {
		DeriveKeys(keys, secret);
		secret[0] = keys[5][0];
		benchmark::DoNotOptimize(keys);
	}
	SetRate(state);
}

// One side's crypto for a whole handshake: fresh key, encode, decode theirs
// + ECDH + shared-secret hash, key schedule. The initiator does the same
// work; only the order of the encodings in the hash differs.
void Handshake(benchmark::State &state, bool initiating)
{
	Fixture f;
	uint8_t key[32], rnd[32], ell[64], secret[32], keys[6][32];
	uint64_t i = 0;
	for (auto _ : state) {
		uint8_t in[8];
		memcpy(in, &i, sizeof(in));
		cr_sha256(key, in, sizeof(in)); // stands in for the RNG draws
		cr_sha256(rnd, key, sizeof(key));
		if (cr_ellswift_create(f.s, ell, key, rnd) != 0 ||
		    cr_ellswift_xdh(f.s, secret, ell, f.ells[i % kPeers], key, initiating) != 0)
			abort();
		DeriveKeys(keys, secret);
		benchmark::DoNotOptimize(keys);
		i++;
	}
	SetRate(state);
}

void BM_HandshakeResponder(benchmark::State &state)
{
	Handshake(state, false);
}

void BM_HandshakeInitiator(benchmark::State &state)
{
	Handshake(state, true);
}

} // namespace

int main(int argc, char **argv)
{
	const bool quick = bench_quick();
	struct {
		const char *name;
		void (*fn)(benchmark::State &);
	} const list[] = {
		{ "field_mul", BM_FieldMul },
		{ "field_sqr", BM_FieldSqr },
		{ "field_inv", BM_FieldInv },
		{ "field_sqrt", BM_FieldSqrt },
		{ "field_is_square_var", BM_FieldIsSquareVar },
		{ "secp_pubkey_create", BM_SecpPubkeyCreate },
		{ "secp_ecdh", BM_SecpEcdh },
		{ "hkdf_bip324_keys", BM_HkdfKeys },
		{ "ellswift_encode", BM_EllswiftEncode },
		{ "ellswift_decode", BM_EllswiftDecode },
		{ "ellswift_xdh", BM_EllswiftXdh },
		{ "handshake_responder", BM_HandshakeResponder },
		{ "handshake_initiator", BM_HandshakeInitiator },
	};
	for (const auto &b : list) {
		auto *reg = benchmark::RegisterBenchmark(b.name, b.fn);
		if (quick)
			reg->MinTime(0.01);
	}
	return bench_main(argc, argv);
}
