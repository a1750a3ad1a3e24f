// noise-vectors FILE: runs every Noise test vector in FILE (noise-c JSON format) whose protocol
// zsend supports through our handshake and transport code. Prints each failure, then
// "N passed, N failed" and the number skipped as unsupported. Exit 0 only when at least one
// vector ran and none failed; 1 on a failed vector; 2 when FILE cannot be read or parsed.
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tools/noise_vectors/vector_runner.h"

int main(int argc, char** argv) {
  using zsend::noise_vectors::Outcome;
  if (argc != 2) {
    std::fprintf(stderr, "usage: noise-vectors FILE (Noise test vectors, noise-c JSON format)\n");
    return 2;
  }
  std::ifstream in(argv[1]);
  if (!in) {
    std::fprintf(stderr, "noise-vectors: cannot open %s; pass an existing vectors file\n", argv[1]);
    return 2;
  }
  nlohmann::json document;
  try {
    document = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& error) {
    std::fprintf(stderr, "noise-vectors: %s is not valid JSON: %s\n", argv[1], error.what());
    return 2;
  }
  if (!document.contains("vectors") || !document["vectors"].is_array()) {
    std::fprintf(stderr, "noise-vectors: %s has no \"vectors\" array\n", argv[1]);
    return 2;
  }
  int passed = 0, failed = 0, skipped = 0;
  for (const nlohmann::json& vector : document["vectors"]) {
    zsend::noise_vectors::VectorResult result = zsend::noise_vectors::RunVector(vector);
    if (result.outcome == Outcome::kPassed) {
      ++passed;
    } else if (result.outcome == Outcome::kFailed) {
      ++failed;
      std::printf("FAILED %s: %s\n", result.name.c_str(), result.detail.c_str());
    } else {
      ++skipped;
    }
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  std::printf("%d skipped as unsupported\n", skipped);
  if (passed == 0 && failed == 0) {
    std::printf("no supported vector in %s\n", argv[1]);
    return 1;
  }
  return failed == 0 ? 0 : 1;
}
