#include "orchestrator/run/backup_run.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <map>

#include "orchestrator/plan/selection.h"
#include "orchestrator/retention/prune_datasets.h"
#include "orchestrator/run/exit_codes.h"
#include "orchestrator/zfs/holds.h"
#include "orchestrator/zfs/snapshot_batch.h"

namespace zsend::orchestrator {
namespace {

// A private temporary directory for the run (stats files, keys), removed at the end.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "zsend-run-XXXXXX").string();
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

Result<std::vector<std::string>> Select(const BackupOptions& options, Zfs& source,
                                        std::ostream& log) {
  if (!options.datasets.empty()) return CheckNamedDatasets(source, options.datasets);
  if (!options.vms.empty()) {
    std::vector<std::string> all;
    for (const std::string& uuid : options.vms) {
      Result<std::vector<std::string>> vm = VmDatasets(source.runner(), uuid);
      if (!vm.ok()) return vm.status();
      for (const std::string& d : *vm) {
        if (std::find(all.begin(), all.end(), d) == all.end()) all.push_back(d);
      }
    }
    return CheckNamedDatasets(source, all);
  }
  Result<std::vector<SelectionDecision>> decisions =
      SelectByProperty(source, options.backup_name, {}, options.include_received);
  if (!decisions.ok()) return decisions.status();
  if (options.verbose) {
    for (const SelectionDecision& d : *decisions) {
      if (d.reason == "not set") continue;
      log << (d.selected ? "selected: " : "ignored: ") << d.dataset << " (" << d.reason << ")\n";
    }
  }
  return SelectedNames(*decisions);
}

// Without --allow-empty: the selected datasets that changed since their newest group snapshot
// (all of them where zfs has no `written` property).
std::vector<std::string> ChangedOnly(Zfs& source, const std::vector<std::string>& selected,
                                     const std::string& group) {
  if (!source.dialect().list_parsable) return selected;  // older zfs: no `written`
  std::vector<std::string> argv = {"zfs", "get", "-H", "-p", "-o", "name,value", "written"};
  argv.insert(argv.end(), selected.begin(), selected.end());
  Result<CommandOutput> output = source.runner().Run({argv, Effect::kReadOnly, ""});
  if (!output.ok() || !output->ok()) return selected;
  std::map<std::string, std::string> written;
  for (const std::vector<std::string>& row : ParseTabRows(output->out)) {
    if (row.size() == 2) written[row[0]] = row[1];
  }
  std::vector<std::string> changed;
  for (const std::string& dataset : selected) {
    bool has_group_snapshot = false;
    Result<std::vector<SnapshotInfo>> snapshots = source.ListSnapshots(dataset);
    if (snapshots.ok()) {
      for (const SnapshotInfo& s : *snapshots) {
        has_group_snapshot = has_group_snapshot || IsGroupSnapshot(group, s.name);
      }
    }
    if (!has_group_snapshot || written[dataset] != "0") changed.push_back(dataset);
  }
  return changed;
}

}  // namespace

int BackupResult::ExitCode() const {
  if (!fatal.ok()) return kExitFatal;
  return std::min(failed, kMaxFailureCount);
}

BackupResult RunBackup(const BackupOptions& options, CommandRunner& source_runner,
                       CommandRunner& target_runner, std::ostream& log, std::ostream& dry_run_out) {
  auto started = std::chrono::steady_clock::now();
  BackupResult result;
  const std::string group = options.group.empty() ? options.backup_name : options.group;
  if (!options.snapshot_name.empty() && !IsValidSnapshotNamePart(options.snapshot_name)) {
    result.fatal = InvalidArgument("--snapshot-name " + options.snapshot_name +
                                   ": use letters, digits, '_', '.' and ':' only (no '-', so "
                                   "the name cannot be taken for another group's snapshot)");
    return result;
  }
  Zfs source(source_runner), target(target_runner);
  result.fatal = source.Probe();
  if (result.fatal.ok() && !options.no_send) result.fatal = target.Probe();
  if (!result.fatal.ok()) return result;

  Result<std::vector<std::string>> selected = Select(options, source, log);
  if (!selected.ok()) {
    result.fatal = selected.status();
    return result;
  }
  // Never back up the backup: on one host, datasets at or under TARGET_PATH are left out (a
  // received copy carries the selection property too).
  if (source_runner.HostLabel() == target_runner.HostLabel()) {
    std::string root = options.target_path;
    selected->erase(
        std::remove_if(selected->begin(), selected->end(),
                       [&](const std::string& d) { return d == root || IsDescendant(d, root); }),
        selected->end());
  }
  if (selected->empty()) {
    result.fatal = Status(StatusCode::kNotFound,
                          "nothing selected: set " + SelectionProperty(options.backup_name) +
                              "=true on the datasets to back up, or use --dataset");
    return result;
  }

  result.selected = *selected;

  // Snapshot.
  std::vector<std::string> snapshotted;
  if (!options.no_snapshot) {
    result.snapshot_name = BackupSnapshotName(group, options.snapshot_name, std::time(nullptr));
    snapshotted = options.allow_empty ? *selected : ChangedOnly(source, *selected, group);
    std::vector<std::string> pools;
    for (const std::string& d : snapshotted) {
      std::string pool = d.substr(0, d.find('/'));
      if (std::find(pools.begin(), pools.end(), pool) == pools.end()) pools.push_back(pool);
    }
    Result<std::vector<DatasetInfo>> all = source.ListDatasets(pools, true);
    if (!all.ok()) {
      result.fatal = all.status();
      return result;
    }
    std::vector<std::string> names;
    for (const DatasetInfo& info : *all) names.push_back(info.name);
    SnapshotBatch batch = PlanSnapshots(source.dialect(), snapshotted, names, result.snapshot_name);
    result.snapshot_atomic = batch.atomic;
    if (!batch.atomic) {
      log << "snapshot " << result.snapshot_name << ": " << batch.commands.size()
          << " zfs snapshot calls (this zfs cannot snapshot them all in one; each call is "
             "atomic for its subtree)\n";
    }
    Status made = source.RunSnapshotCommands(batch.commands);
    if (!made.ok()) {
      result.fatal = made;
      return result;
    }
    if (options.verbose) {
      log << "snapshot " << result.snapshot_name << " of " << snapshotted.size()
          << " dataset(s) on " << source_runner.HostLabel() << "\n";
    }
  }
  if (options.no_send) {
    result.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return result;
  }

  GatherOptions gather{options.target_path, options.strip_path};
  Result<std::vector<DatasetState>> states = GatherStates(source, target, *selected, gather);
  if (!states.ok()) {
    result.fatal = states.status();
    return result;
  }
  if (options.dry_run && !result.snapshot_name.empty()) {
    // The snapshot that would have been taken, so the plan shows what a real run sends.
    uint64_t fake_guid = 1;
    for (DatasetState& state : *states) {
      if (std::find(snapshotted.begin(), snapshotted.end(), state.source) == snapshotted.end()) {
        continue;
      }
      uint64_t txg = 0;
      for (const SnapshotInfo& s : state.source_snapshots) txg = std::max(txg, s.createtxg);
      state.source_snapshots.push_back(
          {state.source, result.snapshot_name, fake_guid++, txg + 1, 0});
    }
  }
  PlanOptions plan_options{group, options.force, options.rollback, options.force_rollback};
  SendPlan plan = PlanTransfers(*states, plan_options);
  for (const DatasetPlan& dataset : plan.datasets) {
    if (dataset.rollback_destroys.empty() || dataset.action != DatasetAction::kTransfer) continue;
    std::string names;
    for (const std::string& name : dataset.rollback_destroys) {
      names += (names.empty() ? "" : ", ") + dataset.target + "@" + name;
    }
    log << dataset.target << ": --rollback " << (options.dry_run ? "would destroy" : "destroys")
        << " on the target: " << names << "\n";
  }

  TempDir temp;
  if (temp.path().empty()) {
    result.fatal = FailedPrecondition("cannot create a temporary directory; check TMPDIR");
    return result;
  }
  TransportOptions transport = options.transport;
  transport.temp_dir = temp.path();
  transport.dry_run = options.dry_run;
  transport.dry_run_out = &dry_run_out;
  if (options.dry_run) transport.progress = nullptr;
  if (transport.progress) {
    transport.progress->Expect(static_cast<int>(
        std::count_if(plan.datasets.begin(), plan.datasets.end(),
                      [](const DatasetPlan& d) { return d.action == DatasetAction::kTransfer; })));
  }
  std::unique_ptr<StreamMover> mover = MakeStreamMover(source_runner, target_runner, transport);

  ExecutorOptions exec;
  exec.hold_tag = HoldTag(options.backup_name);
  exec.holds = !options.no_holds;
  exec.recv.resumable = !options.no_resume;
  exec.raw = options.raw;
  exec.recv.set_properties = options.set_properties;
  exec.recv.filter_properties = options.filter_properties;
  // The copies never carry the selection property: a backup is never selected as a source
  // (the target may be another pool of the same host, or the same host under another name).
  std::string selection_property = SelectionProperty(options.backup_name);
  if (std::find(exec.recv.filter_properties.begin(), exec.recv.filter_properties.end(),
                selection_property) == exec.recv.filter_properties.end()) {
    exec.recv.filter_properties.push_back(selection_property);
  }
  exec.recv.clear_mountpoint = options.clear_mountpoint;
  exec.recv.readonly = options.readonly;
  exec.recv.unmounted = !options.mount;
  exec.recv.clear_refreservation = options.clear_refreservation;
  exec.plan = plan_options;
  exec.gather = gather;
  exec.jobs = options.jobs;
  exec.ignore_transfer_errors = options.ignore_transfer_errors;
  exec.dry_run = options.dry_run;
  exec.dry_run_out = &dry_run_out;
  exec.estimate_sizes = transport.progress != nullptr;
  const bool verbose = options.verbose;
  TransferProgress* progress = transport.progress;
  exec.log = [&log, verbose, progress](const std::string& line) {
    bool important = line.find("fallback") != std::string::npos ||
                     line.find("resume token") != std::string::npos;
    if (!verbose && !important) return;
    // Above the progress display, which is redrawn after it (never garbled).
    if (progress) {
      progress->Print(line);
    } else {
      log << line << "\n" << std::flush;
    }
  };
  Executor executor(source, target, *mover, exec);
  result.datasets = executor.Run(plan);
  std::vector<DatasetOutcome> outcomes;
  for (const DatasetReport& report : result.datasets) {
    if (report.outcome == Outcome::kFailed || report.outcome == Outcome::kSkipped) ++result.failed;
    outcomes.push_back({report.outcome, report.error, report.reason});
  }
  result.needed_source_snapshots = NeededByUnfinishedTransfers(plan, outcomes);
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace zsend::orchestrator
