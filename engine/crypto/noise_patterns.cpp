#include "engine/crypto/noise_patterns.h"

#include <map>
#include <sstream>

namespace zsend::noise {
namespace {

// One pattern in the spec's notation: pre-messages and messages as comma-separated tokens.
struct PatternText {
  const char* name;
  const char* initiator_pre;
  const char* responder_pre;
  std::vector<const char*> messages;
};

const std::vector<PatternText>& PatternTexts() {
  static const std::vector<PatternText> kPatterns = {
      {"N", "", "s", {"e, es"}},
      {"K", "s", "s", {"e, es, ss"}},
      {"X", "", "s", {"e, es, s, ss"}},
      {"NN", "", "", {"e", "e, ee"}},
      {"NK", "", "s", {"e, es", "e, ee"}},
      {"NX", "", "", {"e", "e, ee, s, es"}},
      {"XN", "", "", {"e", "e, ee", "s, se"}},
      {"XK", "", "s", {"e, es", "e, ee", "s, se"}},
      {"XX", "", "", {"e", "e, ee, s, es", "s, se"}},
      {"KN", "s", "", {"e", "e, ee, se"}},
      {"KK", "s", "s", {"e, es, ss", "e, ee, se"}},
      {"KX", "s", "", {"e", "e, ee, se, s, es"}},
      {"IN", "", "", {"e, s", "e, ee, se"}},
      {"IK", "", "s", {"e, es, s, ss", "e, ee, se"}},
      {"IX", "", "", {"e, s", "e, ee, se, s, es"}},
  };
  return kPatterns;
}

std::vector<Token> ParseTokens(const char* text) {
  static const std::map<std::string, Token> kTokens = {{"e", Token::kE},   {"s", Token::kS},
                                                       {"ee", Token::kEE}, {"es", Token::kES},
                                                       {"se", Token::kSE}, {"ss", Token::kSS}};
  std::vector<Token> tokens;
  std::stringstream in(text);
  std::string word;
  while (std::getline(in, word, ',')) {
    word.erase(0, word.find_first_not_of(' '));
    if (!word.empty()) tokens.push_back(kTokens.at(word));
  }
  return tokens;
}

std::map<std::string, HandshakePattern, std::less<>> BuildPatterns() {
  std::map<std::string, HandshakePattern, std::less<>> patterns;
  for (const PatternText& text : PatternTexts()) {
    HandshakePattern pattern;
    pattern.name = text.name;
    pattern.initiator_pre_message = ParseTokens(text.initiator_pre);
    pattern.responder_pre_message = ParseTokens(text.responder_pre);
    for (const char* message : text.messages) pattern.messages.push_back(ParseTokens(message));
    pattern.one_way = pattern.name.size() == 1;
    patterns.emplace(pattern.name, std::move(pattern));
  }
  return patterns;
}

}  // namespace

const HandshakePattern* FindPattern(std::string_view name) {
  static const auto kPatterns = BuildPatterns();
  auto it = kPatterns.find(name);
  return it == kPatterns.end() ? nullptr : &it->second;
}

Result<Protocol> ParseProtocolName(std::string_view name) {
  std::vector<std::string> parts;
  std::stringstream in{std::string(name)};
  std::string part;
  while (std::getline(in, part, '_')) parts.push_back(part);
  auto unsupported = [&](const std::string& why) {
    return InvalidArgument("unsupported Noise protocol '" + std::string(name) + "': " + why);
  };
  if (parts.size() != 5 || parts[0] != "Noise") return unsupported("not Noise_P_DH_CIPHER_HASH");
  Protocol protocol;
  protocol.name = std::string(name);
  protocol.pattern = FindPattern(parts[1]);
  if (protocol.pattern == nullptr) return unsupported("pattern " + parts[1]);
  if (parts[2] != "25519") return unsupported("DH " + parts[2]);
  if (parts[3] == "ChaChaPoly") {
    protocol.cipher = CipherKind::kChaChaPoly;
  } else if (parts[3] == "AESGCM") {
    protocol.cipher = CipherKind::kAesGcm;
  } else {
    return unsupported("cipher " + parts[3]);
  }
  if (parts[4] != "BLAKE2b") return unsupported("hash " + parts[4]);
  return protocol;
}

}  // namespace zsend::noise
