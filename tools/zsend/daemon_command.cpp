// zsend daemon --config FILE [--state-dir DIR]: runs every job of FILE on its schedule until
// SIGTERM (orchestrator/daemon/daemon_loop.h). Exit 0 after SIGTERM/SIGINT; 255 when it cannot
// start (bad config, state directory, socket).
#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>

#include "orchestrator/daemon/daemon_loop.h"
#include "tools/zsend/commands.h"
#include "tools/zsend/common_options.h"

namespace zsend::cli {
namespace {

struct DaemonArgs {
  orchestrator::DaemonOptions options;
};

int RunDaemonCommand(DaemonArgs& args) {
  std::error_code error;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  args.options.zsend_program = error ? "zsend" : self.string();
  orchestrator::SystemClock clock;
  return orchestrator::RunDaemon(args.options, clock, std::cerr);
}

}  // namespace

void RegisterDaemonCommand(CLI::App& app, CommandRun* run) {
  auto args = std::make_shared<DaemonArgs>();
  CLI::App* sub = app.add_subcommand(
      "daemon", "Run the config file's jobs on their schedules (in the foreground; systemd)");
  sub->add_option("--config", args->options.config_path,
                  "JSON job file with schedules (docs/configuration.md)")
      ->required();
  sub->add_option("--stop-grace", args->options.stop_grace_seconds,
                  "After SIGTERM, running jobs get SECONDS to stop before SIGKILL (default 60)")
      ->check(CLI::PositiveNumber);
  AddStateDirOption(*sub, &args->options.state_dir);
  sub->callback([args, run] { *run = [args] { return RunDaemonCommand(*args); }; });
}

}  // namespace zsend::cli
