// HandshakeState between two in-process parties: IK with authorized and unauthorized
// initiators, wrong keys, tampering, and every supported pattern end to end.
#include "engine/crypto/noise_handshake.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include "engine/crypto/keys.h"

namespace zsend::noise {
namespace {

Bytes Text(const std::string& s) {
  return Bytes(s.begin(), s.end());
}

HandshakeConfig Config(const std::string& protocol, Role role) {
  HandshakeConfig config;
  config.protocol_name = protocol;
  config.role = role;
  config.prologue = Text("zsend/1 test prologue");
  return config;
}

HandshakeState Make(const HandshakeConfig& config) {
  Result<HandshakeState> state = HandshakeState::Create(config);
  EXPECT_TRUE(state.ok()) << state.status().message();
  return std::move(*state);
}

// Moves the next message from `writer` to `reader`; returns the payload the reader saw.
Result<Bytes> Pass(HandshakeState& writer, HandshakeState& reader, const std::string& payload) {
  Result<Bytes> message = writer.WriteMessage(Text(payload));
  if (!message.ok()) return message.status();
  return reader.ReadMessage(*message);
}

// The IK responder's rule: after message 1, the initiator's static key must be authorized.
struct IkParties {
  KeyPair initiator_key = KeyPair::Generate();
  KeyPair responder_key = KeyPair::Generate();
  HandshakeState Initiator(const PublicKey& peer, const std::string& protocol) const {
    HandshakeConfig config = Config(protocol, Role::kInitiator);
    config.local_static = initiator_key;
    config.remote_static = peer;
    return Make(config);
  }
  HandshakeState Responder(const std::string& protocol) const {
    HandshakeConfig config = Config(protocol, Role::kResponder);
    config.local_static = responder_key;
    return Make(config);
  }
};

TEST(NoiseHandshake, IkWithAuthorizedInitiatorYieldsWorkingTransport) {
  for (const char* protocol :
       {"Noise_IK_25519_ChaChaPoly_BLAKE2b", "Noise_IK_25519_AESGCM_BLAKE2b"}) {
    SCOPED_TRACE(protocol);
    IkParties parties;
    AuthorizedKeys authorized;
    authorized.Add(KeyPair::Generate().public_key, "someone else");
    authorized.Add(parties.initiator_key.public_key, "backup host");
    HandshakeState initiator = parties.Initiator(parties.responder_key.public_key, protocol);
    HandshakeState responder = parties.Responder(protocol);
    EXPECT_TRUE(initiator.IsMyTurnToWrite());
    EXPECT_FALSE(responder.IsMyTurnToWrite());

    Result<Bytes> offer = Pass(initiator, responder, "offer");
    ASSERT_TRUE(offer.ok()) << offer.status().message();
    EXPECT_EQ(*offer, Text("offer"));
    ASSERT_TRUE(responder.remote_static().has_value());
    const AuthorizedKey* entry = authorized.Find(*responder.remote_static());
    ASSERT_NE(entry, nullptr);
    EXPECT_EQ(entry->comment, "backup host");

    Result<Bytes> choice = Pass(responder, initiator, "choice");
    ASSERT_TRUE(choice.ok()) << choice.status().message();
    EXPECT_EQ(*choice, Text("choice"));
    ASSERT_TRUE(initiator.IsFinished() && responder.IsFinished());

    Result<TransportState> a = initiator.Finish(), b = responder.Finish();
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(a->handshake_hash, b->handshake_hash);
    EXPECT_EQ(*a->remote_static, parties.responder_key.public_key);
    for (int i = 0; i < 3; ++i) {
      Result<Bytes> up = b->receive.DecryptWithAd({}, *a->send.EncryptWithAd({}, Text("up")));
      Result<Bytes> down = a->receive.DecryptWithAd({}, *b->send.EncryptWithAd({}, Text("dn")));
      ASSERT_TRUE(up.ok() && down.ok());
      EXPECT_EQ(*up, Text("up"));
      EXPECT_EQ(*down, Text("dn"));
    }
    EXPECT_FALSE(initiator.Finish().ok());  // Split only once
  }
}

TEST(NoiseHandshake, IkUnauthorizedInitiatorIsIdentifiedAfterTheFirstMessage) {
  IkParties parties;
  AuthorizedKeys authorized;
  authorized.Add(KeyPair::Generate().public_key, "the only authorized host");
  HandshakeState initiator =
      parties.Initiator(parties.responder_key.public_key, "Noise_IK_25519_ChaChaPoly_BLAKE2b");
  HandshakeState responder = parties.Responder("Noise_IK_25519_ChaChaPoly_BLAKE2b");
  ASSERT_TRUE(Pass(initiator, responder, "").ok());
  ASSERT_TRUE(responder.remote_static().has_value());
  // The key the responder learned is the intruder's real key, and it is not in the list.
  EXPECT_EQ(*responder.remote_static(), parties.initiator_key.public_key);
  EXPECT_EQ(authorized.Find(*responder.remote_static()), nullptr);
  EXPECT_FALSE(responder.IsFinished());
}

TEST(NoiseHandshake, IkInitiatorWithWrongResponderKeyFailsAtTheResponder) {
  IkParties parties;
  const PublicKey wrong = KeyPair::Generate().public_key;
  HandshakeState initiator = parties.Initiator(wrong, "Noise_IK_25519_ChaChaPoly_BLAKE2b");
  HandshakeState responder = parties.Responder("Noise_IK_25519_ChaChaPoly_BLAKE2b");
  Result<Bytes> read = Pass(initiator, responder, "secret offer");
  EXPECT_EQ(read.status().code(), StatusCode::kPermissionDenied);
  EXPECT_FALSE(responder.remote_static().has_value());
  // A failed handshake stays failed.
  EXPECT_FALSE(responder.WriteMessage({}).ok());
}

TEST(NoiseHandshake, TamperedOrTruncatedMessagesAreRejected) {
  IkParties parties;
  const std::string protocol = "Noise_IK_25519_ChaChaPoly_BLAKE2b";
  const Bytes message =
      *parties.Initiator(parties.responder_key.public_key, protocol).WriteMessage(Text("payload"));
  for (size_t i = 0; i < message.size(); i += 7) {
    Bytes tampered = message;
    tampered[i] ^= 0x80;
    HandshakeState responder = parties.Responder(protocol);
    EXPECT_EQ(responder.ReadMessage(tampered).status().code(), StatusCode::kPermissionDenied)
        << "byte " << i;
  }
  for (size_t len : {size_t{0}, size_t{31}, size_t{32 + 47}, message.size() - 1}) {
    HandshakeState responder = parties.Responder(protocol);
    EXPECT_EQ(responder.ReadMessage(ByteSpan(message).first(len)).status().code(),
              StatusCode::kPermissionDenied)
        << "length " << len;
  }
  HandshakeState responder = parties.Responder(protocol);
  EXPECT_TRUE(responder.ReadMessage(message).ok());
}

TEST(NoiseHandshake, RandomBytesNeverAuthenticate) {
  IkParties parties;
  const std::string protocol = "Noise_IK_25519_ChaChaPoly_BLAKE2b";
  for (size_t len : {0, 1, 32, 48, 80, 96, 97, 200, 65535, 65536}) {
    Bytes junk(len);
    if (!junk.empty()) randombytes_buf(junk.data(), junk.size());
    HandshakeState responder = parties.Responder(protocol);
    Result<Bytes> read = responder.ReadMessage(junk);
    EXPECT_EQ(read.status().code(), StatusCode::kPermissionDenied) << "length " << len;
    EXPECT_FALSE(responder.remote_static().has_value());
  }
}

TEST(NoiseHandshake, DifferentProloguesDoNotAgree) {
  IkParties parties;
  const std::string protocol = "Noise_XX_25519_ChaChaPoly_BLAKE2b";
  HandshakeConfig init_config = Config(protocol, Role::kInitiator);
  init_config.local_static = parties.initiator_key;
  HandshakeConfig resp_config = Config(protocol, Role::kResponder);
  resp_config.local_static = parties.responder_key;
  resp_config.prologue = Text("zsend/1 something else");
  HandshakeState initiator = Make(init_config), responder = Make(resp_config);
  ASSERT_TRUE(Pass(initiator, responder, "").ok());  // message 1 has no key yet
  EXPECT_EQ(Pass(responder, initiator, "").status().code(), StatusCode::kPermissionDenied);
}

TEST(NoiseHandshake, TurnsAndMissingKeysAreEnforced) {
  IkParties parties;
  HandshakeState responder = parties.Responder("Noise_IK_25519_ChaChaPoly_BLAKE2b");
  EXPECT_EQ(responder.WriteMessage({}).status().code(), StatusCode::kFailedPrecondition);
  HandshakeConfig no_peer = Config("Noise_IK_25519_ChaChaPoly_BLAKE2b", Role::kInitiator);
  no_peer.local_static = parties.initiator_key;
  EXPECT_EQ(HandshakeState::Create(no_peer).status().code(), StatusCode::kInvalidArgument);
  HandshakeConfig no_static = Config("Noise_XX_25519_ChaChaPoly_BLAKE2b", Role::kResponder);
  EXPECT_EQ(HandshakeState::Create(no_static).status().code(), StatusCode::kInvalidArgument);
  HandshakeConfig unneeded_peer = Config("Noise_XX_25519_ChaChaPoly_BLAKE2b", Role::kInitiator);
  unneeded_peer.local_static = parties.initiator_key;
  unneeded_peer.remote_static = parties.responder_key.public_key;
  EXPECT_EQ(HandshakeState::Create(unneeded_peer).status().code(), StatusCode::kInvalidArgument);
}

TEST(NoiseHandshake, ProtocolNamesOutsideTheSupportedSetAreRefused) {
  EXPECT_TRUE(ParseProtocolName("Noise_XX_25519_AESGCM_BLAKE2b").ok());
  for (const char* name :
       {"Noise_XX_448_ChaChaPoly_BLAKE2b", "Noise_XX_25519_ChaChaPoly_SHA256",
        "Noise_XXpsk3_25519_ChaChaPoly_BLAKE2b", "Noise_ZZ_25519_ChaChaPoly_BLAKE2b",
        "Noise_XX_25519_AESGCM", "NoisePQ_XX_25519_ChaChaPoly_BLAKE2b"}) {
    EXPECT_EQ(ParseProtocolName(name).status().code(), StatusCode::kInvalidArgument) << name;
  }
}

// Every pattern in the table, both ciphers: the two sides agree on the hash, learn each
// other's static keys where the pattern transmits them, and can talk afterwards.
TEST(NoiseHandshake, EveryPatternCompletesAndAgrees) {
  for (const char* pattern :
       {"N", "K", "X", "NN", "NK", "NX", "XN", "XK", "XX", "KN", "KK", "KX", "IN", "IK", "IX"}) {
    for (const char* cipher : {"ChaChaPoly", "AESGCM"}) {
      const std::string protocol =
          std::string("Noise_") + pattern + "_25519_" + cipher + "_BLAKE2b";
      SCOPED_TRACE(protocol);
      const HandshakePattern* p = FindPattern(pattern);
      ASSERT_NE(p, nullptr);
      const KeyPair init_key = KeyPair::Generate(), resp_key = KeyPair::Generate();
      HandshakeConfig init_config = Config(protocol, Role::kInitiator);
      HandshakeConfig resp_config = Config(protocol, Role::kResponder);
      init_config.local_static = init_key;
      resp_config.local_static = resp_key;
      if (!p->responder_pre_message.empty()) init_config.remote_static = resp_key.public_key;
      if (!p->initiator_pre_message.empty()) resp_config.remote_static = init_key.public_key;
      HandshakeState initiator = Make(init_config), responder = Make(resp_config);
      for (size_t i = 0; i < p->messages.size(); ++i) {
        const bool forward = i % 2 == 0;
        Result<Bytes> payload = forward ? Pass(initiator, responder, "m" + std::to_string(i))
                                        : Pass(responder, initiator, "m" + std::to_string(i));
        ASSERT_TRUE(payload.ok()) << "message " << i << ": " << payload.status().message();
        EXPECT_EQ(*payload, Text("m" + std::to_string(i)));
      }
      Result<TransportState> a = initiator.Finish(), b = responder.Finish();
      ASSERT_TRUE(a.ok() && b.ok());
      EXPECT_EQ(a->handshake_hash, b->handshake_hash);
      bool initiator_s_known = !p->initiator_pre_message.empty();
      bool responder_s_known = !p->responder_pre_message.empty();
      for (size_t i = 0; i < p->messages.size(); ++i) {
        for (Token token : p->messages[i]) {
          if (token == Token::kS) (i % 2 == 0 ? initiator_s_known : responder_s_known) = true;
        }
      }
      ASSERT_EQ(b->remote_static.has_value(), initiator_s_known);
      ASSERT_EQ(a->remote_static.has_value(), responder_s_known);
      if (initiator_s_known) {
        EXPECT_EQ(*b->remote_static, init_key.public_key);
      }
      if (responder_s_known) {
        EXPECT_EQ(*a->remote_static, resp_key.public_key);
      }
      Result<Bytes> up = b->receive.DecryptWithAd({}, *a->send.EncryptWithAd({}, Text("data")));
      ASSERT_TRUE(up.ok());
      EXPECT_EQ(*up, Text("data"));
    }
  }
}

}  // namespace
}  // namespace zsend::noise
