// zsend status [BACKUP_NAME] [--json]: the state of each dataset from the history.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "orchestrator/report/status_table.h"
#include "tools/zsend/commands.h"
#include "tools/zsend/common_options.h"
#include "tools/zsend/exit_codes.h"
#include "tools/zsend/history_access.h"

namespace zsend::cli {
namespace {

struct StatusArgs {
  std::string backup_name;
  std::string state_dir;
  bool json = false;
};

int RunStatus(const StatusArgs& args) {
  auto history = OpenHistoryForReading(args.state_dir);
  if (!history.ok()) {
    std::fprintf(stderr, "zsend status: %s\n", history.status().message().c_str());
    return kExitFatal;
  }
  auto transfers = (*history)->Transfers(args.backup_name, 0);
  if (!transfers.ok()) {
    std::fprintf(stderr, "zsend status: %s\n", transfers.status().message().c_str());
    return kExitFatal;
  }
  std::vector<orchestrator::DatasetStatus> statuses = orchestrator::SummarizeStatus(*transfers);
  const double now = Now();
  if (args.json) {
    std::cout << orchestrator::FormatStatusJson(statuses, now);
  } else if (statuses.empty()) {
    std::cout << "no transfers recorded"
              << (args.backup_name.empty() ? "" : " for backup '" + args.backup_name + "'") << "\n";
  } else {
    std::cout << orchestrator::FormatStatusTable(statuses, now);
  }
  return kExitOk;
}

}  // namespace

void RegisterStatusCommand(CLI::App& app, CommandRun* run) {
  auto args = std::make_shared<StatusArgs>();
  CLI::App* sub = app.add_subcommand("status", "per-dataset state of the backups, from history");
  sub->add_option("BACKUP_NAME", args->backup_name, "only this backup (default: all)");
  sub->add_flag("--json", args->json, "JSON instead of a table");
  AddStateDirOption(*sub, &args->state_dir);
  sub->callback([args, run] { *run = [args] { return RunStatus(*args); }; });
}

}  // namespace zsend::cli
