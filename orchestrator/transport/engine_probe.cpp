#include "orchestrator/transport/engine_probe.h"

#include <algorithm>
#include <optional>
#include <sstream>

#include "base/engine_contract.h"

namespace zsend::orchestrator {
namespace {

namespace contract = engine_contract;

std::string Where(const EngineOnHost& e) {
  return e.host->HostLabel() + " (" + e.engine + ")";
}

// The last non-empty line of `text`.
std::string LastLine(const std::string& text) {
  std::istringstream lines(text);
  std::string last;
  for (std::string line; std::getline(lines, line);) {
    if (line.find_first_not_of(" \t\r") != std::string::npos) last = line;
  }
  return last;
}

std::string Joined(const std::vector<std::string>& words) {
  std::string text;
  for (const std::string& w : words) text += (text.empty() ? "" : ", ") + w;
  return text;
}

// The engine's version document, or what is wrong with it (`check` set).
std::optional<contract::EngineVersion> Ask(const EngineOnHost& e, EngineCheck* check) {
  const std::string install =
      std::string("install zsend-engine ") + contract::kProgramVersion + " there";
  Result<CommandOutput> asked =
      e.host->Run({{e.engine, contract::kCommandVersion, "--json"}, Effect::kReadOnly, ""});
  if (asked.ok() && asked->exit_code == contract::kExitUsage) {
    *check = {"zsend-engine on " + Where(e) + " is older than this zsend (it has no '" +
                  contract::kCommandVersion + " --json')",
              install};
    return std::nullopt;
  }
  if (!asked.ok() || !asked->ok()) {
    std::string why = asked.ok() ? asked->FirstErrorLine() : asked.status().message();
    *check = {"no zsend-engine with send/recv on " + Where(e) + (why.empty() ? "" : ": " + why),
              "install it there"};
    return std::nullopt;
  }
  Result<contract::EngineVersion> version = contract::ParseEngineVersion(LastLine(asked->out));
  if (!version.ok()) {
    *check = {"zsend-engine on " + Where(e) + " answered '" + contract::kCommandVersion +
                  " --json' with no version document: " + version.status().message(),
              install};
    return std::nullopt;
  }
  std::vector<std::string> missing = contract::MissingCapabilities(*version);
  if (!e.also_needs.empty() && std::find(version->commands.begin(), version->commands.end(),
                                         e.also_needs) == version->commands.end()) {
    missing.push_back("command " + e.also_needs);
  }
  if (!missing.empty()) {
    *check = {"zsend-engine " + version->version + " on " + Where(e) + " lacks " + Joined(missing),
              install};
    return std::nullopt;
  }
  return *version;
}

}  // namespace

EngineCheck CheckEngines(const std::vector<EngineOnHost>& engines) {
  std::vector<EngineOnHost> order = engines;
  std::stable_partition(order.begin(), order.end(),
                        [](const EngineOnHost& e) { return e.host->IsRemote(); });
  EngineCheck check;
  std::optional<contract::EngineVersion> first;
  for (size_t i = 0; i < order.size(); ++i) {
    std::optional<contract::EngineVersion> version = Ask(order[i], &check);
    if (!version) return check;
    if (first && version->protocol != first->protocol) {
      return {"zsend-engine on " + Where(order[i]) + " speaks protocol " +
                  std::to_string(version->protocol) + ", the one on " + Where(order[0]) +
                  " protocol " + std::to_string(first->protocol),
              "install the same zsend-engine version on both"};
    }
    if (!first) first = version;
  }
  return check;
}

}  // namespace zsend::orchestrator
