// zsend-engine version [--json]: the program version, the wire protocol version and (with
// --json) the capabilities, as the engine contract defines them (base/engine_contract.h). The
// orchestrator asks every host's engine for this document before it starts a transfer.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "base/codec_spec.h"
#include "base/engine_contract.h"
#include "engine/codec/codec.h"
#include "tools/engine/commands.h"
#include "tools/engine/exit_codes.h"

namespace zsend::tool {
namespace {

// The codecs this build can make, by their --codec names, and the adaptive "auto".
std::vector<std::string> BuiltCodecs() {
  std::vector<std::string> names;
  for (CodecFormat format :
       {CodecFormat::kNone, CodecFormat::kZstd, CodecFormat::kGzip, CodecFormat::kLz4}) {
    if (MakeCodec(format, LevelRangeOf(format).default_level).ok()) {
      names.push_back(CodecFormatName(format));
    }
  }
  names.push_back("auto");
  return names;
}

int RunVersion(bool json) {
  const engine_contract::EngineVersion version = engine_contract::ThisEngine(BuiltCodecs());
  if (json) {
    std::printf("%s\n", engine_contract::FormatEngineVersion(version).c_str());
  } else {
    std::printf("%s %s (protocol %d)\n", version.program.c_str(), version.version.c_str(),
                version.protocol);
  }
  return kExitOk;
}

}  // namespace

void RegisterVersionCommand(CLI::App& app, CommandRun* run) {
  auto json = std::make_shared<bool>(false);
  CLI::App* cmd =
      app.add_subcommand(engine_contract::kCommandVersion,
                         "Print the program and protocol versions (--json: and the capabilities)");
  cmd->footer(kExitCodeHelp);
  cmd->add_flag("--json", *json,
                "One JSON line: program, version, protocol, commands, transports, codecs, "
                "features");
  cmd->callback([json, run] { *run = [json] { return RunVersion(*json); }; });
}

}  // namespace zsend::tool
