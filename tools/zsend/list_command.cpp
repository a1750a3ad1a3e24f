// zsend list BACKUP_NAME TARGET_PATH [DATASET] [host and selection options] [--json]: the
// revisions (this backup's snapshots) of each selected dataset on source and target, with
// sizes, holds and the transfers the history recorded (orchestrator/restore/revision_list.h).
// Exit code: 0; 255 when nothing could be listed (bad arguments, source unreachable, DATASET
// not in the backup).
#include <CLI/CLI.hpp>
#include <iostream>

#include "orchestrator/restore/revision_list.h"
#include "tools/zsend/commands.h"
#include "tools/zsend/common_options.h"
#include "tools/zsend/exit_codes.h"
#include "tools/zsend/history_access.h"

namespace zsend::cli {
namespace {

using namespace orchestrator;

struct ListArgs : JobArgs {
  std::string dataset;
  bool json = false;
};

int Fatal(const Status& status) {
  return FatalError("list", status);
}

int RunList(ListArgs& args) {
  if (Status s = ApplyConfig(*args.app, args.config, &args.backup_name, &args.target_path);
      !s.ok()) {
    return Fatal(s);
  }
  if (args.target_path.empty()) {
    return Fatal(InvalidArgument("TARGET_PATH is required: where the backup's datasets are"));
  }
  std::vector<TransferRecord> transfers;
  if (auto history = OpenHistoryForReading(args.state_dir); history.ok()) {
    auto rows = (*history)->Transfers(args.backup_name, 0);
    if (rows.ok()) transfers = std::move(*rows);
  }
  Hosts hosts(args.hosts);
  if (Status s = hosts.ConnectSource(); !s.ok()) return Fatal(s);
  Zfs source(hosts.source()), target(hosts.target());
  if (Status s = source.Probe(); !s.ok()) return Fatal(s);
  Status target_error = hosts.ConnectTarget();
  if (target_error.ok()) target_error = target.Probe();

  Result<std::vector<std::string>> selected =
      SelectDatasets(source, hosts.source(), args.backup_name, args.selection);
  if (!selected.ok()) return Fatal(selected.status());
  ListRequest request;
  request.target_path = args.target_path;
  request.group = args.selection.group.empty() ? args.backup_name : args.selection.group;
  request.strip_path = args.selection.strip_path;
  request.dataset = args.dataset;
  Result<std::vector<DatasetRevisions>> listed =
      ListBackupRevisions(source, target_error.ok() ? &target : nullptr, target_error.message(),
                          *selected, request, transfers);
  if (!listed.ok()) return Fatal(listed.status());
  if (args.json) {
    std::cout << FormatRevisionJson(*listed);
  } else if (listed->empty()) {
    std::cout << "no datasets selected for backup '" << args.backup_name
              << "' (set zsend:" << args.backup_name << "=true on them or pass --dataset)\n";
  } else {
    std::cout << FormatRevisionTable(*listed);
  }
  return kExitOk;
}

}  // namespace

void RegisterListCommand(CLI::App& app, CommandRun* run) {
  auto args = std::make_shared<ListArgs>();
  CLI::App* sub = app.add_subcommand(
      "list", "revisions of a backup per dataset: on source and target, sizes, holds, transfers");
  sub->add_option("BACKUP_NAME", args->backup_name, "the backup (or the job with --config)")
      ->required();
  sub->add_option("TARGET_PATH", args->target_path, "where the backup's datasets are received");
  sub->add_option("DATASET", args->dataset, "only this dataset (source or target name)");
  sub->add_flag("--json", args->json, "JSON instead of tables");
  AddJobOptions(*sub, args.get());
  sub->callback([args, run] { *run = [args] { return RunList(*args); }; });
}

}  // namespace zsend::cli
