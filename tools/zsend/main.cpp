// zsend: the orchestrator. A thin CLI over orchestrator/: each subcommand lives in its own
// file and registers itself here with one line.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "tools/zsend/commands.h"
#include "tools/zsend/exit_codes.h"

int main(int argc, char** argv) {
  using namespace zsend::cli;
  CLI::App app{"zsend: ZFS backups: snapshot, send, rotate, record, report"};
  app.footer(kExitCodeHelp);
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("zsend 0.1.0"));
  CommandRun run;
  RegisterBackupCommand(app, &run);
  RegisterStatusCommand(app, &run);
  RegisterHistoryCommand(app, &run);
  RegisterCheckCommand(app, &run);
  RegisterReportCommand(app, &run);
  RegisterPruneCommand(app, &run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string sub;
    for (const CLI::App* s : app.get_subcommands()) sub = " " + s->get_name();
    if (sub == " check") {
      // A Nagios plugin reports its own usage errors as UNKNOWN (exit 3).
      std::printf("ZSEND UNKNOWN - %s; see 'zsend check --help'\n", e.what());
      return 3;
    }
    std::fprintf(stderr, "zsend%s: %s; see 'zsend%s --help'\n", sub.c_str(), e.what(), sub.c_str());
    return kExitFatal;
  }
  return run ? run() : kExitFatal;
}
