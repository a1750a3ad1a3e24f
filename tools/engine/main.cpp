// zsend-engine: the data mover. A thin CLI over engine/ and transports/.
//
// Invoked as "mbuffer" (through a link), it takes mbuffer's own command line instead.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstring>
#include <string>

#include "base/engine_contract.h"
#include "tools/engine/commands.h"
#include "tools/engine/exit_codes.h"

namespace {

std::string BaseName(const char* path) {
  const char* slash = std::strrchr(path, '/');
  return slash != nullptr ? slash + 1 : path;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace zsend::tool;
  if (argc > 0 && BaseName(argv[0]) == "mbuffer") return MbufferMain(argc, argv);

  CLI::App app{"zsend-engine: buffer, compress, encrypt and move zfs send streams"};
  app.footer(kExitCodeHelp);
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(zsend::engine_contract::kProgramName) + " " +
                                        zsend::engine_contract::kProgramVersion);
  CommandRun run;
  RegisterBufferCommand(app, &run);
  RegisterKeygenCommand(app, &run);
  RegisterSendCommand(app, &run);
  RegisterRecvCommand(app, &run);
  RegisterServeCommand(app, &run);
  RegisterSessionCommand(app, &run);
  RegisterBenchCommand(app, &run);
  RegisterVersionCommand(app, &run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string sub;
    for (const CLI::App* s : app.get_subcommands()) sub = " " + s->get_name();
    std::fprintf(stderr, "zsend-engine%s: %s; see 'zsend-engine%s --help'\n", sub.c_str(), e.what(),
                 sub.c_str());
    return kExitUsage;
  }
  return run ? run() : kExitUsage;
}
