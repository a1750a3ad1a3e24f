// zsend prune BACKUP_NAME TARGET_PATH [host and selection options] [--keep-source SPEC]
// [--keep-target SPEC] [--dry-run]: rotation without a backup. Prints each decision (what
// goes and why each snapshot stays), destroys in batches, records the run in the history.
// Exit code: the number of datasets that had an error (at most 254); 255 when nothing could
// start (bad spec, source unreachable, the job's lock held by another run).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>

#include "orchestrator/host/run_lock.h"
#include "orchestrator/plan/selection.h"
#include "orchestrator/report/history.h"
#include "orchestrator/report/syslog_tee.h"
#include "orchestrator/retention/job_rotation.h"
#include "orchestrator/run/backup_steps.h"
#include "tools/zsend/commands.h"
#include "tools/zsend/common_options.h"
#include "tools/zsend/exit_codes.h"
#include "tools/zsend/history_access.h"
#include "tools/zsend/mail_options.h"

namespace zsend::cli {
namespace {

using namespace orchestrator;

struct PruneArgs : JobArgs {
  std::string keep_source = kDefaultKeepSource;
  std::string keep_target = kDefaultKeepTarget;
  std::string keep_tags;
  bool source_only = false;
  bool target_only = false;
  bool dry_run = false;
  bool syslog = false;
};

int Fatal(const Status& status) {
  return FatalError("prune", status);
}

int RunPrune(PruneArgs& args) {
  if (Status s = ApplyConfig(*args.app, args.config, &args.backup_name, &args.target_path);
      !s.ok()) {
    return Fatal(s);
  }
  std::optional<SyslogTee> tee;
  if (args.syslog) tee.emplace();
  if (args.target_path.empty()) return Fatal(InvalidArgument("TARGET_PATH is required"));
  PruneOptions options;
  options.group = args.selection.group.empty() ? args.backup_name : args.selection.group;
  options.backup_name = args.backup_name;
  options.now = static_cast<int64_t>(Now());
  // The same parsing as backup's rotation (--keep-tags included), each side when it is pruned.
  Result<BackupRotation> rotation =
      ParseBackupRotation(args.target_only ? "" : args.keep_source,
                          args.source_only ? "" : args.keep_target, args.keep_tags);
  if (!rotation.ok()) return Fatal(rotation.status());
  options.keep_source = rotation->keep_source;
  options.keep_target = rotation->keep_target;

  std::optional<RunLock> lock;
  std::unique_ptr<History> history;
  if (!args.dry_run) {
    Result<RunLock> acquired = RunLock::Acquire(args.state_dir, args.backup_name);
    if (!acquired.ok()) return Fatal(acquired.status());
    lock.emplace(std::move(*acquired));
  }
  {
    // A dry run reads an existing history (for the last common snapshots) but creates nothing.
    Result<std::unique_ptr<History>> opened =
        args.dry_run ? OpenHistoryForReading(args.state_dir) : History::Open(args.state_dir);
    if (opened.ok()) {
      history = std::move(*opened);
    } else if (!args.dry_run) {
      return Fatal(opened.status());
    }
  }
  if (history) {
    auto transfers = history->Transfers(args.backup_name, 0);
    if (transfers.ok()) options.known_common = KnownCommonSnapshots(*transfers);
  }

  Hosts hosts(args.hosts);
  if (Status s = hosts.ConnectSource(); !s.ok()) return Fatal(s);
  DryRunRunner source_dry(hosts.source(), std::cout);
  DryRunRunner target_dry(hosts.target(), std::cout);
  Zfs source(args.dry_run ? static_cast<CommandRunner&>(source_dry) : hosts.source());
  Zfs target(args.dry_run ? static_cast<CommandRunner&>(target_dry) : hosts.target());
  if (Status s = source.Probe(); !s.ok()) return Fatal(s);
  Status target_error = hosts.ConnectTarget();
  if (target_error.ok()) target_error = target.Probe();
  if (!target_error.ok()) {
    std::cout << "target unreachable: " << target_error.message() << "\n";
  }

  Result<std::vector<std::string>> datasets =
      SelectJobDatasets(source, hosts.source(), args.backup_name, args.selection);
  if (!datasets.ok()) return Fatal(datasets.status());

  RunRecord run;
  run.backup_name = args.backup_name;
  run.command = "prune";
  run.host = HostName();
  run.source_host = hosts.source().HostLabel();
  run.target_host = hosts.target().HostLabel();
  run.started = Now();
  int64_t run_id = 0;
  if (history && !args.dry_run) {
    Result<int64_t> id = history->BeginRun(run);
    if (id.ok()) run_id = *id;
  }

  int failed = 0;
  std::vector<RotationPair> pairs;
  for (const std::string& dataset : *datasets) {
    Result<std::string> target_name =
        TargetName(dataset, args.target_path, args.selection.strip_path);
    if (!target_name.ok()) {
      std::cout << "source " << dataset << ": error: " << target_name.status().message() << "\n";
      ++failed;
      continue;
    }
    pairs.push_back({dataset, *target_name});
  }
  RotationResult rotated = Rotate(source, target_error.ok() ? &target : nullptr, target_error,
                                  pairs, options, std::cout);
  failed += static_cast<int>(rotated.failed.size());
  const std::string first_error = rotated.first_error;
  const int total = static_cast<int>(datasets->size());
  std::cout << "prune " << args.backup_name << (args.dry_run ? " (dry run)" : "") << ": " << total
            << " dataset" << (total == 1 ? "" : "s") << ", "
            << RotationSummary(rotated, args.dry_run) << "\n";
  if (history && run_id != 0) {
    Status ended = history->EndRun(run_id, Now(), failed > 0 ? "failed" : "ok", total - failed,
                                   failed, first_error);
    if (!ended.ok()) std::cerr << "zsend prune: " << ended.message() << "\n";
  }
  return std::min(failed, kMaxFailureCount);
}

}  // namespace

void RegisterPruneCommand(CLI::App& app, CommandRun* run) {
  auto args = std::make_shared<PruneArgs>();
  CLI::App* sub = app.add_subcommand(
      "prune", "destroy old snapshots of a backup on source and target (retention only)");
  sub->add_option("BACKUP_NAME", args->backup_name, "the backup (or the job with --config)")
      ->required();
  sub->add_option("TARGET_PATH", args->target_path, "where the backup's datasets are received");
  sub->add_option("--keep-source", args->keep_source,
                  "SPEC: a count (5) or a thinning schedule (10,1d1w,1w1m,1m1y); default 10");
  sub->add_option("--keep-target", args->keep_target, "SPEC for the target; default 30");
  sub->add_option("--keep-tags", args->keep_tags,
                  "rotate tagged snapshots by tag: TAG=COUNT,... (without it tagged snapshots "
                  "stay; zsend backup --keep-tags)");
  CLI::Option* source_only =
      sub->add_flag("--source-only", args->source_only, "prune only the source");
  sub->add_flag("--target-only", args->target_only, "prune only the target")->excludes(source_only);
  sub->add_flag("--dry-run", args->dry_run,
                "print every decision and the destroy commands; change nothing");
  AddJobOptions(*sub, args.get());
  AddSyslogOption(*sub, &args->syslog);
  sub->callback([args, run] { *run = [args] { return RunPrune(*args); }; });
}

}  // namespace zsend::cli
