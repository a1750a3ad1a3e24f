#include "orchestrator/transport/far_side.h"

#include <cctype>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/engine_contract.h"

namespace zsend::orchestrator {
namespace {

constexpr const char kDirMarker[] = "zsend-keydir ";
constexpr const char kPubMarker[] = "zsend-pubkey ";
constexpr const char kDirPrefix[] = "zsend-key.";
constexpr size_t kRandomChars = 10;

bool IsPublicKey(const std::string& text) {
  if (text.rfind("zsend1:", 0) != 0 || text.size() > 100) return false;
  for (char c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != ':' && c != '+' && c != '/' &&
        c != '=') {
      return false;
    }
  }
  return true;
}

}  // namespace

bool IsOurKeyDir(const std::string& dir) {
  if (dir.size() < 2 || dir[0] != '/' || dir.back() == '/') return false;
  std::stringstream parts(dir.substr(1));
  std::string part, last;
  while (std::getline(parts, part, '/')) {
    if (part.empty() || part == "." || part == "..") return false;
    for (char c : part) {
      if (std::iscntrl(static_cast<unsigned char>(c))) return false;
    }
    last = part;
  }
  const size_t prefix = sizeof(kDirPrefix) - 1;
  if (last.size() != prefix + kRandomChars || last.compare(0, prefix, kDirPrefix) != 0) {
    return false;
  }
  for (size_t i = prefix; i < last.size(); ++i) {
    if (!std::isalnum(static_cast<unsigned char>(last[i]))) return false;
  }
  return true;
}

Result<FarKey> ParseKeygenOutput(const std::string& out) {
  FarKey key;
  std::stringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(kDirMarker, 0) == 0) key.dir = line.substr(sizeof(kDirMarker) - 1);
    if (line.rfind(kPubMarker, 0) == 0) key.pub = line.substr(sizeof(kPubMarker) - 1);
  }
  if (!IsOurKeyDir(key.dir)) {
    return Unavailable("keygen on the source printed no key directory of the form " +
                       std::string("$TMPDIR/") + kDirPrefix + "XXXXXXXXXX (got '" +
                       key.dir.substr(0, 200) + "')");
  }
  if (!IsPublicKey(key.pub)) {
    return Unavailable("keygen on the source printed no public key (got '" +
                       key.pub.substr(0, 200) + "')");
  }
  return key;
}

Result<FarKey> MakeKey(CommandRunner& host, const std::string& engine) {
  Result<CommandOutput> made =
      host.Run({{"sh", "-c", kKeygenScript, "sh", engine}, Effect::kReadOnly, ""});
  if (!made.ok()) return made.status();
  if (!made->ok()) return CommandFailed(host, {{engine, "keygen"}, Effect::kReadOnly, ""}, *made);
  Result<FarKey> key = ParseKeygenOutput(made->out);
  if (!key.ok()) return key.status().WithContext(host.HostLabel());
  return key;
}

void RemoveKeyDir(CommandRunner& host, const std::string& dir) {
  if (!IsOurKeyDir(dir)) return;
  Command remove{{"rm", "-rf", "--", dir}, Effect::kReadOnly, ""};
  remove.cleanup = true;
  (void)host.Run(remove);
}

Result<Announce> ParseAnnounce(const std::string& line) {
  nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
  using namespace engine_contract;
  const bool valid =
      j.is_object() && j.value(kAnnounceEvent, nlohmann::json()).is_string() &&
      j[kAnnounceEvent] == kAnnounceListening && j.contains(kAnnouncePort) &&
      j[kAnnouncePort].is_number_unsigned() && j[kAnnouncePort].get<uint64_t>() >= 1 &&
      j[kAnnouncePort].get<uint64_t>() <= 65535 && j.contains(kAnnouncePubkey) &&
      j[kAnnouncePubkey].is_string() && IsPublicKey(j[kAnnouncePubkey].get<std::string>());
  if (!valid) {
    return Unavailable(
        "announced no port: expected {\"event\":\"listening\",\"port\":1..65535,"
        "\"pubkey\":\"zsend1:...\"}, got '" +
        line.substr(0, 200) + "'");
  }
  return Announce{static_cast<int>(j[kAnnouncePort].get<uint64_t>()),
                  j[kAnnouncePubkey].get<std::string>()};
}

}  // namespace zsend::orchestrator
