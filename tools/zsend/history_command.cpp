// zsend history [BACKUP_NAME] [--since DURATION] [--limit N] [--transfers]: past runs.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "base/units.h"
#include "orchestrator/report/status_table.h"
#include "tools/zsend/commands.h"
#include "tools/zsend/common_options.h"
#include "tools/zsend/exit_codes.h"
#include "tools/zsend/history_access.h"

namespace zsend::cli {
namespace {

struct HistoryArgs {
  std::string backup_name;
  std::string state_dir;
  std::string since;
  int limit = 50;
  bool transfers = false;
};

int Fail(const Status& status) {
  std::fprintf(stderr, "zsend history: %s\n", status.message().c_str());
  return kExitFatal;
}

int RunHistory(const HistoryArgs& args) {
  double since = 0;
  if (!args.since.empty()) {
    Result<double> seconds = ParseDuration(args.since, "--since");
    if (!seconds.ok()) return Fail(seconds.status());
    since = Now() - *seconds;
  }
  auto history = OpenHistoryForReading(args.state_dir);
  if (!history.ok()) return Fail(history.status());
  if (args.transfers) {
    auto transfers = (*history)->Transfers(args.backup_name, since);
    if (!transfers.ok()) return Fail(transfers.status());
    for (const orchestrator::TransferRecord& t : *transfers) {
      std::cout << orchestrator::FormatUtc(t.started) << "  " << t.backup_name << "  "
                << t.source_dataset << " -> " << t.target_dataset << "  " << t.result << "  "
                << (t.kind.empty() ? "-" : t.kind) << "  "
                << (t.to_snapshot.empty() ? "-" : t.to_snapshot) << "  "
                << FormatBytes(static_cast<double>(t.stream_bytes)) << "  "
                << FormatDuration(t.seconds)
                << (t.error.empty() ? "" : "  " + t.error.substr(0, t.error.find('\n'))) << "\n";
    }
    return kExitOk;
  }
  auto runs = (*history)->Runs(args.backup_name, since, args.limit);
  if (!runs.ok()) return Fail(runs.status());
  std::cout << orchestrator::FormatRunsTable(*runs);
  return kExitOk;
}

}  // namespace

void RegisterHistoryCommand(CLI::App& app, CommandRun* run) {
  auto args = std::make_shared<HistoryArgs>();
  CLI::App* sub = app.add_subcommand("history", "list past runs (newest first)");
  sub->add_option("BACKUP_NAME", args->backup_name, "only this backup (default: all)");
  sub->add_option("--since", args->since, "only runs newer than this (7d, 12h, ...)");
  sub->add_option("--limit", args->limit, "at most this many runs (0: all; default 50)");
  sub->add_flag("--transfers", args->transfers, "list dataset transfers instead of runs");
  AddStateDirOption(*sub, &args->state_dir);
  sub->callback([args, run] { *run = [args] { return RunHistory(*args); }; });
}

}  // namespace zsend::cli
