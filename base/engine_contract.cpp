#include "base/engine_contract.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace zsend::engine_contract {
namespace {

bool Contains(const std::vector<std::string>& list, const std::string& name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

// The string list `field` of `j`; false when it is missing or holds anything but strings.
bool ReadList(const nlohmann::json& j, const char* field, std::vector<std::string>* out) {
  if (!j.contains(field) || !j[field].is_array()) return false;
  for (const nlohmann::json& item : j[field]) {
    if (!item.is_string()) return false;
    out->push_back(item.get<std::string>());
  }
  return true;
}

}  // namespace

std::string FormatAnnounceLine(int port, const std::string& pubkey) {
  nlohmann::json line = {
      {kAnnounceEvent, kAnnounceListening}, {kAnnouncePort, port}, {kAnnouncePubkey, pubkey}};
  return line.dump();
}

std::string FormatProgressLine(const ProgressReport& report) {
  nlohmann::json line = {{kAnnounceEvent, kProgressEvent},
                         {kStatsStreamBytes, report.stream_bytes},
                         {kProgressSeconds, report.seconds}};
  return line.dump();
}

Result<ProgressReport> ParseProgressLine(const std::string& line) {
  nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
  if (!j.is_object() || !j.contains(kAnnounceEvent) || j[kAnnounceEvent] != kProgressEvent ||
      !j.contains(kStatsStreamBytes) || !j[kStatsStreamBytes].is_number_unsigned() ||
      !j.contains(kProgressSeconds) || !j[kProgressSeconds].is_number()) {
    return InvalidArgument("not a progress line: '" + line.substr(0, 200) + "'");
  }
  ProgressReport report;
  report.stream_bytes = j[kStatsStreamBytes].get<uint64_t>();
  report.seconds = j[kProgressSeconds].get<double>();
  return report;
}

EngineVersion ThisEngine(std::vector<std::string> codecs) {
  EngineVersion v;
  v.program = kProgramName;
  v.version = kProgramVersion;
  v.protocol = kProtocolVersion;
  v.commands = {kCommandBuffer, kCommandSend,    kCommandRecv,  kCommandKeygen,
                kCommandBench,  kCommandVersion, kCommandServe, kCommandSession};
  v.transports = {kTransportTcp, kTransportSsh, kTransportStdio};
  v.codecs = std::move(codecs);
  v.features = {kFeatureConnect,   kFeatureListen,  kFeatureAnnounce,  kFeatureAuthorize,
                kFeatureJsonStats, kFeatureTimeout, kFeatureRateLimit, kFeatureProgressFd};
  return v;
}

std::string FormatEngineVersion(const EngineVersion& v) {
  nlohmann::json j = {{"program", v.program},       {"version", v.version},
                      {"protocol", v.protocol},     {"commands", v.commands},
                      {"transports", v.transports}, {"codecs", v.codecs},
                      {"features", v.features}};
  return j.dump();
}

Result<EngineVersion> ParseEngineVersion(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) {
    return InvalidArgument("the version document is not a JSON object (got '" +
                           text.substr(0, 200) + "')");
  }
  EngineVersion v;
  if (!j.contains("program") || !j["program"].is_string() || !j.contains("version") ||
      !j["version"].is_string()) {
    return InvalidArgument("the version document has no string 'program' and 'version'");
  }
  v.program = j["program"].get<std::string>();
  v.version = j["version"].get<std::string>();
  if (!j.contains("protocol") || !j["protocol"].is_number_integer()) {
    return InvalidArgument("the version document has no integer 'protocol'");
  }
  v.protocol = j["protocol"].get<int>();
  for (auto [field, list] : {std::pair{"commands", &v.commands},
                             {"transports", &v.transports},
                             {"codecs", &v.codecs},
                             {"features", &v.features}}) {
    if (!ReadList(j, field, list)) {
      return InvalidArgument(std::string("the version document has no string list '") + field +
                             "'");
    }
  }
  return v;
}

std::vector<std::string> MissingCapabilities(const EngineVersion& v) {
  std::vector<std::string> missing;
  for (const char* c : {kCommandSend, kCommandRecv, kCommandKeygen}) {
    if (!Contains(v.commands, c)) missing.push_back(std::string("command ") + c);
  }
  for (const char* t : {kTransportTcp, kTransportSsh, kTransportStdio}) {
    if (!Contains(v.transports, t)) missing.push_back(std::string("transport ") + t);
  }
  for (const char* f : {kFeatureConnect, kFeatureListen, kFeatureAnnounce, kFeatureAuthorize,
                        kFeatureJsonStats, kFeatureTimeout}) {
    if (!Contains(v.features, f)) missing.push_back(std::string("feature ") + f);
  }
  return missing;
}

}  // namespace zsend::engine_contract
