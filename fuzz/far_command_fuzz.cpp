// libFuzzer target: what a serving engine does with a session stream's open frame
// (docs/protocol.md 5.8): decode the words, then hold them to the far-command grammar in both
// roles. Nothing may crash or over-read; a decoded payload must encode back to the same words,
// and an accepted command must name only datasets below the root.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "engine/transfer/far_command.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace zsend;
  const std::string payload(reinterpret_cast<const char*>(data), size);
  Result<std::vector<std::string>> words = DecodeCommandWords(payload);
  if (!words.ok()) return 0;
  // One encoding per command: the words encode back to the very payload they came from.
  const std::string encoded = EncodeCommandWords(*words);
  Result<std::vector<std::string>> again = DecodeCommandWords(encoded);
  if (encoded != payload || !again.ok() || *again != *words) std::abort();
  static const std::vector<std::string> kRoots = {"pool/backup"};
  for (FarRole role : {FarRole::kReceive, FarRole::kSend}) {
    Result<std::vector<std::string>> checked = CheckFarCommand(*words, role, kRoots);
    if (!checked.ok()) continue;
    // The operand is the last word; it must lie at or below the root.
    const std::string& last = checked->back();
    if (last.rfind("pool/backup", 0) != 0) std::abort();
    const char next = last.size() > 11 ? last[11] : '\0';
    if (next != '\0' && next != '/' && next != '@') std::abort();
  }
  return 0;
}
