#include "tools/noise_vectors/vector_runner.h"

#include <optional>

#include "engine/crypto/noise_handshake.h"

namespace zsend::noise_vectors {
namespace {

using noise::Bytes;
using noise::HandshakeConfig;
using noise::HandshakeState;

// Fields that mean a feature we do not implement (PSKs, fallback, hybrid forward secrecy).
const char* const kUnsupportedFields[] = {"init_psks", "resp_psks",        "init_psk", "resp_psk",
                                          "fallback",  "fallback_pattern", "hybrid",   "fail"};

struct VectorError {
  std::string detail;
};

Bytes HexField(const nlohmann::json& vector, const std::string& field) {
  if (!vector.contains(field)) return {};
  Result<Bytes> bytes = noise::FromHex(vector.at(field).get<std::string>());
  if (!bytes.ok()) throw VectorError{field + ": " + bytes.status().message()};
  return *bytes;
}

std::optional<noise::KeyPair> KeyPairField(const nlohmann::json& vector, const std::string& field) {
  if (!vector.contains(field)) return std::nullopt;
  Bytes bytes = HexField(vector, field);
  if (bytes.size() != noise::kDhLen) throw VectorError{field + " is not 32 bytes"};
  noise::PrivateKey key;
  std::copy(bytes.begin(), bytes.end(), key.data());
  return noise::KeyPair::FromPrivate(key);
}

std::optional<noise::PublicKey> PublicKeyField(const nlohmann::json& vector,
                                               const std::string& field) {
  if (!vector.contains(field)) return std::nullopt;
  Bytes bytes = HexField(vector, field);
  if (bytes.size() != noise::kDhLen) throw VectorError{field + " is not 32 bytes"};
  noise::PublicKey key;
  std::copy(bytes.begin(), bytes.end(), key.begin());
  return key;
}

HandshakeState MakeParty(const nlohmann::json& vector, const noise::Protocol& protocol,
                         noise::Role role) {
  const std::string prefix = role == noise::Role::kInitiator ? "init_" : "resp_";
  const auto& peer_pre = role == noise::Role::kInitiator ? protocol.pattern->responder_pre_message
                                                         : protocol.pattern->initiator_pre_message;
  HandshakeConfig config;
  config.protocol_name = protocol.name;
  config.role = role;
  config.prologue = HexField(vector, prefix + "prologue");
  config.local_static = KeyPairField(vector, prefix + "static");
  config.fixed_ephemeral = KeyPairField(vector, prefix + "ephemeral");
  if (std::find(peer_pre.begin(), peer_pre.end(), noise::Token::kS) != peer_pre.end()) {
    config.remote_static = PublicKeyField(vector, prefix + "remote_static");
  }
  Result<HandshakeState> state = HandshakeState::Create(config);
  if (!state.ok()) throw VectorError{prefix + "party: " + state.status().message()};
  return std::move(*state);
}

Bytes Expect(Result<Bytes> result, const std::string& what) {
  if (!result.ok()) throw VectorError{what + ": " + result.status().message()};
  return std::move(*result);
}

void CheckEqual(const Bytes& got, const Bytes& want, const std::string& what) {
  if (got != want) {
    throw VectorError{what + " differs: got " + noise::ToHex(got) + ", want " + noise::ToHex(want)};
  }
}

void Run(const nlohmann::json& vector, const noise::Protocol& protocol) {
  HandshakeState initiator = MakeParty(vector, protocol, noise::Role::kInitiator);
  HandshakeState responder = MakeParty(vector, protocol, noise::Role::kResponder);
  std::optional<noise::TransportState> init_transport, resp_transport;
  const nlohmann::json& messages = vector.at("messages");
  if (messages.size() < protocol.pattern->messages.size()) {
    throw VectorError{"fewer messages than the handshake has"};
  }
  for (size_t i = 0; i < messages.size(); ++i) {
    const bool from_initiator = protocol.pattern->one_way || i % 2 == 0;
    const Bytes payload = HexField(messages[i], "payload");
    const Bytes ciphertext = HexField(messages[i], "ciphertext");
    const std::string where = "message " + std::to_string(i);
    if (i < protocol.pattern->messages.size()) {
      HandshakeState& writer = from_initiator ? initiator : responder;
      HandshakeState& reader = from_initiator ? responder : initiator;
      CheckEqual(Expect(writer.WriteMessage(payload), where + " write"), ciphertext,
                 where + " ciphertext");
      CheckEqual(Expect(reader.ReadMessage(ciphertext), where + " read"), payload,
                 where + " payload");
      if (i + 1 == protocol.pattern->messages.size()) {
        Result<noise::TransportState> a = initiator.Finish(), b = responder.Finish();
        if (!a.ok() || !b.ok()) throw VectorError{"Split failed"};
        init_transport.emplace(std::move(*a));
        resp_transport.emplace(std::move(*b));
        Bytes init_hash(init_transport->handshake_hash.begin(),
                        init_transport->handshake_hash.end());
        Bytes resp_hash(resp_transport->handshake_hash.begin(),
                        resp_transport->handshake_hash.end());
        CheckEqual(resp_hash, init_hash, "responder's handshake hash");
        if (vector.contains("handshake_hash")) {
          CheckEqual(init_hash, HexField(vector, "handshake_hash"), "handshake hash");
        }
      }
      continue;
    }
    noise::TransportState& writer = from_initiator ? *init_transport : *resp_transport;
    noise::TransportState& reader = from_initiator ? *resp_transport : *init_transport;
    CheckEqual(Expect(writer.send.EncryptWithAd({}, payload), where + " encrypt"), ciphertext,
               where + " ciphertext");
    CheckEqual(Expect(reader.receive.DecryptWithAd({}, ciphertext), where + " decrypt"), payload,
               where + " payload");
  }
}

}  // namespace

VectorResult RunVector(const nlohmann::json& vector) {
  VectorResult result;
  result.name = vector.value("name", vector.value("protocol_name", std::string("(unnamed)")));
  Result<noise::Protocol> protocol = noise::ParseProtocolName(result.name);
  if (!protocol.ok()) {
    result.outcome = Outcome::kSkipped;
    result.detail = protocol.status().message();
    return result;
  }
  for (const char* field : kUnsupportedFields) {
    if (vector.contains(field)) {
      result.outcome = Outcome::kSkipped;
      result.detail = std::string("uses unsupported field '") + field + "'";
      return result;
    }
  }
  try {
    Run(vector, *protocol);
    result.outcome = Outcome::kPassed;
  } catch (const VectorError& error) {
    result.detail = error.detail;
  } catch (const nlohmann::json::exception& error) {
    result.detail = std::string("malformed vector: ") + error.what();
  }
  return result;
}

}  // namespace zsend::noise_vectors
