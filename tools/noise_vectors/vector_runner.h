// Runs one Noise test vector (noise-c JSON format, see shared/testdata/noise/README.md) through
// engine/crypto/noise_handshake.h and the transport CipherStates, both as initiator and responder.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace zsend::noise_vectors {

enum class Outcome { kPassed, kFailed, kSkipped };

struct VectorResult {
  Outcome outcome = Outcome::kFailed;
  std::string name;
  std::string detail;  // why it failed or was skipped
};

VectorResult RunVector(const nlohmann::json& vector);

}  // namespace zsend::noise_vectors
