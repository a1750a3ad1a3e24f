// Asking the hosts' zsend-engines what they can do, before the engine transports use them.
//
// Each engine is asked `ENGINE version --json` (the engine contract, base/engine_contract.h):
// it must answer with a version document that has every capability the tcp and ssh transports
// need (MissingCapabilities), and the engines of one transfer must speak the same protocol. An
// engine older than the contract has no `version` subcommand and exits with kExitUsage: it is
// reported as older than this zsend, with the fix. The far hosts are asked first: their answer is
// the one a user can act on. A shell startup file's output before the document is ignored (the
// document is the last line). Thread-safety: as the runners'; no state.
#pragma once

#include <string>
#include <vector>

#include "orchestrator/host/command_runner.h"

namespace zsend::orchestrator {

struct EngineOnHost {
  CommandRunner* host;  // not owned
  std::string engine;   // the program to run there
  // A command it must have besides those of the tcp and ssh transports (an engine session's
  // "serve" or "session"); empty for none.
  std::string also_needs = "";
};

// What is wrong with the engines of one transfer; ok() when nothing is.
struct EngineCheck {
  std::string problem;  // one line naming host and engine, "" when ok
  std::string fix;      // what the user can do about it ("install it there")

  bool ok() const { return problem.empty(); }
};

EngineCheck CheckEngines(const std::vector<EngineOnHost>& engines);

}  // namespace zsend::orchestrator
