// Bulk sealing per core, one 1 MiB frame at a time: the figures behind the choice of backends in
// docs/protocol.md ("Bulk cipher backends"). FrameCipher uses OpenSSL EVP for AES-256-GCM and
// libsodium for ChaCha20-Poly1305; libsodium's own AES-256-GCM is measured beside them.
#include <benchmark/benchmark.h>
#include <sodium.h>

#include <cstring>
#include <vector>

#include "engine/wire/frame.h"

namespace zsend {
namespace {

constexpr size_t kPayload = 1 << 20;

void SealFrames(benchmark::State& state, BulkCipher cipher) {
  noise::CipherKey key;
  std::memset(key.data(), 7, key.size());
  FrameCipher sealer(cipher, key);
  std::vector<std::byte> frame(kFrameHeaderSize + kPayload + kFrameTagSize, std::byte{1});
  uint64_t sequence = 0;
  for (auto _ : state) {
    EncodeFrameHeader({FrameType::kData, 0, 0, kPayload + kFrameTagSize, sequence++}, frame.data());
    benchmark::DoNotOptimize(sealer.Seal(frame.data(), kPayload));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kPayload));
}

void BM_SealAesGcmOpenSsl(benchmark::State& state) {
  SealFrames(state, BulkCipher::kAesGcm);
}
void BM_SealChaChaPolySodium(benchmark::State& state) {
  SealFrames(state, BulkCipher::kChaChaPoly);
}
void BM_SealChecksumOnly(benchmark::State& state) {
  SealFrames(state, BulkCipher::kNone);
}

void BM_SealAesGcmSodium(benchmark::State& state) {
  noise::EnsureSodiumInitialized();
  if (crypto_aead_aes256gcm_is_available() == 0) {
    state.SkipWithError("no AES instructions");
    return;
  }
  unsigned char key[32] = {7};
  unsigned char nonce[12] = {0};
  unsigned char ad[16] = {0};
  std::vector<unsigned char> buf(kPayload + 16, 1);
  crypto_aead_aes256gcm_state ctx;
  crypto_aead_aes256gcm_beforenm(&ctx, key);
  for (auto _ : state) {
    ++nonce[11];
    unsigned long long len = 0;
    crypto_aead_aes256gcm_encrypt_afternm(buf.data(), &len, buf.data(), kPayload, ad, sizeof ad,
                                          nullptr, nonce, &ctx);
    benchmark::DoNotOptimize(len);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kPayload));
}

BENCHMARK(BM_SealAesGcmOpenSsl);
BENCHMARK(BM_SealAesGcmSodium);
BENCHMARK(BM_SealChaChaPolySodium);
BENCHMARK(BM_SealChecksumOnly);

}  // namespace
}  // namespace zsend

BENCHMARK_MAIN();
