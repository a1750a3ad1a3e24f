// zsend: the orchestrator. A thin CLI over orchestrator/: each subcommand lives in its own
// file and registers itself here with one line.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include "orchestrator/host/run_dir.h"
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
  RegisterListCommand(app, &run);
  RegisterRestoreCommand(app, &run);
  RegisterVerifyCommand(app, &run);
  RegisterDigestTreeCommand(app, &run);
  RegisterDaemonCommand(app, &run);
  RegisterJobsCommand(app, &run);
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
  if (!run) return kExitFatal;
  // Every temporary file of this run, on this host, goes into one private directory that a
  // later zsend removes should this one be killed with SIGKILL (run_dir.h).
  std::error_code ec;
  const std::string temp = std::filesystem::temp_directory_path(ec).string();
  std::optional<zsend::orchestrator::RunDir> run_dir;
  if (!ec) {
    zsend::orchestrator::SweepRunDirs(temp);
    auto made = zsend::orchestrator::RunDir::Create(temp);
    if (made.ok()) {
      run_dir.emplace(std::move(*made));
      setenv("TMPDIR", run_dir->path().c_str(), 1);
    }
  }
  return run();
}
