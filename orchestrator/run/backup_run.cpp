#include "orchestrator/run/backup_run.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "orchestrator/plan/selection.h"
#include "orchestrator/retention/prune_datasets.h"
#include "orchestrator/run/exit_codes.h"
#include "orchestrator/transport/session_mover.h"
#include "orchestrator/zfs/holds.h"
#include "orchestrator/zfs/host_state.h"
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

// The selected datasets; those selected by a property value they inherit go to `inherited` too.
Result<std::vector<std::string>> Select(const BackupOptions& options, Zfs& source,
                                        std::ostream& log, std::set<std::string>& inherited) {
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
  for (const SelectionDecision& d : *decisions) {
    if (d.selected && d.inherited) inherited.insert(d.dataset);
    if (options.verbose && d.reason != "not set") {
      log << (d.selected ? "selected: " : "ignored: ") << d.dataset << " (" << d.reason << ")\n";
    }
  }
  return SelectedNames(*decisions);
}

// Without --allow-empty: the selected datasets that changed since their newest group snapshot
// (all of them where zfs has no `written` property). One read of the selected subtrees.
std::vector<std::string> ChangedOnly(Zfs& source, const std::vector<std::string>& selected,
                                     const std::string& group) {
  if (!source.dialect().list_parsable) return selected;  // older zfs: no `written`
  Result<HostState> state = ReadHostState(source, selected, true);
  if (!state.ok()) return selected;
  std::vector<std::string> changed;
  for (const std::string& dataset : selected) {
    const DatasetRecord* record = state->Find(dataset);
    bool has_group_snapshot = false;
    if (record != nullptr) {
      for (const SnapshotInfo& s : record->snapshots) {
        has_group_snapshot = has_group_snapshot || IsGroupSnapshot(group, s.name);
      }
    }
    if (record == nullptr || !has_group_snapshot || record->written != "0") {
      changed.push_back(dataset);
    }
  }
  return changed;
}

// Takes the run's snapshots (result.snapshot_name, result.snapshot_atomic). A name made from
// the clock that an earlier run took in the same second ("dataset already exists": two runs
// under a second apart) waits for the next second and takes that name; a name given with
// --snapshot-name is the user's and fails. Where the zfs needs several snapshot calls, those
// before the one that collided have made their snapshots under the taken name: they stay, as
// group snapshots one second older than the run's (rotation treats them as any other).
Status MakeSnapshots(Zfs& source, const BackupOptions& options, const std::string& group,
                     const std::vector<std::string>& snapshotted,
                     const std::vector<std::string>& all_datasets, BackupResult& result,
                     std::ostream& log) {
  for (int attempt = 1;; ++attempt) {
    SnapshotBatch batch =
        PlanSnapshots(source.dialect(), snapshotted, all_datasets, result.snapshot_name);
    if (!options.tags.empty()) {  // -o: the tags are set in the snapshots' own transaction
      for (std::vector<std::string>& argv : batch.commands) {
        argv.insert(argv.begin() + 2,
                    {"-o", std::string(kTagsProperty) + "=" + JoinTags(options.tags)});
      }
    }
    result.snapshot_atomic = batch.atomic;
    if (!batch.atomic && attempt == 1) {
      log << "snapshot " << result.snapshot_name << ": " << batch.commands.size()
          << " zfs snapshot calls (this zfs cannot snapshot them all in one; each call is "
             "atomic for its subtree)\n";
    }
    Status made = source.RunSnapshotCommands(batch.commands);
    const bool exists =
        !made.ok() && made.message().find("dataset already exists") != std::string::npos;
    if (exists && !options.snapshot_name.empty()) {
      return Status(made.code(), made.message() + "; choose another --snapshot-name");
    }
    if (!exists || attempt == 3) return made;
    // The next second's name, after sleeping into that second (named from the clock read
    // here: time() may lag it by a tick).
    const auto now = std::chrono::system_clock::now();
    const auto next_second =
        std::chrono::ceil<std::chrono::seconds>(now + std::chrono::milliseconds(1));
    std::this_thread::sleep_for(next_second - now);
    const std::string taken = result.snapshot_name;
    result.snapshot_name =
        BackupSnapshotName(group, "", std::chrono::system_clock::to_time_t(next_second));
    if (options.verbose) {
      log << "snapshot " << taken << " exists (a run earlier this second); taking "
          << result.snapshot_name << "\n";
    }
  }
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int DefaultJobs() {
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  return std::clamp(cores, 2, 4);
}

int BackupResult::ExitCode() const {
  if (!fatal.ok()) return kExitFatal;
  return std::min(failed, kMaxFailureCount);
}

// Runs one hook (options.post_snapshot_hook...) on this host; OK when it is unset or exits 0.
Status RunHook(const BackupOptions& options, const std::string& hook, const std::string& command,
               const std::vector<std::string>& datasets, const std::string& snapshot,
               std::ostream& dry_run_out) {
  if (command.empty()) return Status::Ok();
  if (options.dry_run) {
    dry_run_out << "dry-run: would run the " << hook << " hook: " << command << "\n";
    return Status::Ok();
  }
  std::string datasets_text;
  for (const std::string& d : datasets) datasets_text += (datasets_text.empty() ? "" : " ") + d;
  LocalRunner local;
  Result<CommandOutput> ran =
      local.Run({{"env", "ZSEND_JOB=" + options.backup_name, "ZSEND_HOOK=" + hook,
                  "ZSEND_DATASETS=" + datasets_text, "ZSEND_SNAPSHOT=" + snapshot,
                  "ZSEND_TAGS=" + JoinTags(options.tags), "/bin/sh", "-c", command},
                 Effect::kMutates,
                 "",
                 options.hook_timeout});
  if (!ran.ok() && ran.status().code() == StatusCode::kDeadlineExceeded) {
    return Status(StatusCode::kDeadlineExceeded,
                  hook + " hook timed out after " +
                      std::to_string(static_cast<int>(options.hook_timeout)) + "s");
  }
  if (!ran.ok()) return Status(ran.status().code(), hook + " hook: " + ran.status().message());
  if (!ran->ok()) {
    const std::string said = ran->FirstErrorLine();
    return Status(StatusCode::kAborted, hook + " hook failed (exit " +
                                            std::to_string(ran->exit_code) + ")" +
                                            (said.empty() ? "" : ": " + said));
  }
  return Status::Ok();
}

BackupResult RunBackup(const BackupOptions& options, CommandRunner& source_uncounted,
                       CommandRunner& target_uncounted, std::ostream& log,
                       std::ostream& dry_run_out) {
  auto started = std::chrono::steady_clock::now();
  CountingRunner source_runner(source_uncounted), target_runner(target_uncounted);
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

  std::set<std::string> selection_inherited;
  Result<std::vector<std::string>> selected = Select(options, source, log, selection_inherited);
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
  RunOverhead& overhead = result.overhead;
  int snapshot_started = source_runner.zfs_commands();
  auto count_planning = [&] {
    overhead.source.planning = source_runner.zfs_commands() - overhead.source.snapshot;
    overhead.target.planning = target_runner.zfs_commands();
    overhead.planning_seconds = SecondsSince(started);
  };

  // Snapshot.
  std::vector<std::string> snapshotted;
  if (!options.no_snapshot) {
    result.snapshot_name = BackupSnapshotName(group, options.snapshot_name, std::time(nullptr));
    // A tagged run snapshots every dataset: its tags keep that revision (backy's model), and
    // an unchanged dataset would otherwise never get the tags of a slow interval.
    snapshotted = options.allow_empty || !options.tags.empty()
                      ? *selected
                      : ChangedOnly(source, *selected, group);
    snapshot_started = source_runner.zfs_commands();
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
    Status made = MakeSnapshots(source, options, group, snapshotted, names, result, log);
    overhead.source.snapshot = source_runner.zfs_commands() - snapshot_started;
    if (!made.ok()) {
      result.fatal = made;
      return result;
    }
    if (options.verbose) {
      log << "snapshot " << result.snapshot_name << " of " << snapshotted.size()
          << " dataset(s) on " << source_runner.HostLabel() << "\n";
    }
  }
  if (Status hook = options.no_snapshot
                        ? Status::Ok()
                        : RunHook(options, "post-snapshot", options.post_snapshot_hook, snapshotted,
                                  result.snapshot_name, dry_run_out);
      !hook.ok()) {
    log << "zsend backup: " << hook.message() << " (the run goes on)\n";
  }
  if (options.no_send) {
    count_planning();
    result.seconds = SecondsSince(started);
    return result;
  }
  if (Status hook = RunHook(options, "pre-send", options.pre_send_hook, *selected,
                            result.snapshot_name, dry_run_out);
      !hook.ok()) {
    result.fatal = Status(hook.code(), hook.message() + ": nothing was sent");
    return result;
  }

  // One read per host (host_state.h), kept: the holds move from it after the transfers.
  GatherOptions gather{options.target_path, options.strip_path};
  Result<HostState> source_state = ReadHostState(source, *selected, true);
  if (!source_state.ok()) {
    result.fatal = source_state.status();
    return result;
  }
  Result<HostState> target_state = ReadHostState(target, {options.target_path}, true);
  if (!target_state.ok() && target_state.status().code() != StatusCode::kNotFound) {
    result.fatal = target_state.status();
    return result;
  }
  Result<std::vector<DatasetState>> states =
      GatherFromStates(source, *source_state, target_state.ok() ? &*target_state : nullptr,
                       target_runner.HostLabel(), *selected, gather);
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
  count_planning();
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
  if (options.sessions && !SessionIsPull(source_runner, target_runner)) {
    // A push (remote to remote too): the far serve receives below TARGET_PATH only.
    transport.session_roots = {options.target_path};
  } else if (options.sessions) {
    // A pull: the far serve sends from the planned datasets (and clones' origins) only.
    std::vector<std::string> sent;
    for (const DatasetPlan& d : plan.datasets) {
      if (d.action != DatasetAction::kTransfer) continue;
      sent.push_back(d.source);
      if (!d.origin.empty()) sent.push_back(d.origin.substr(0, d.origin.find('@')));
    }
    transport.session_roots = CoveringRoots(sent);
  }
  transport.connections = std::max(1, options.jobs);
  if (transport.progress) {
    transport.progress->Expect(static_cast<int>(
        std::count_if(plan.datasets.begin(), plan.datasets.end(),
                      [](const DatasetPlan& d) { return d.action == DatasetAction::kTransfer; })));
  }
  std::unique_ptr<StreamMover> mover = MakeStreamMover(source_runner, target_runner, transport);

  ExecutorOptions exec;
  exec.backup_name = options.backup_name;
  exec.hold_tag = HoldTag(options.backup_name);
  exec.holds = !options.no_holds;
  exec.bookmarks = !options.no_bookmarks;
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
  exec.selection_property = selection_property;
  exec.selection_inherited = std::move(selection_inherited);
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
  exec.source_state = &*source_state;
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
  const int source_before = source_runner.zfs_commands();
  const int target_before = target_runner.zfs_commands();
  auto transfer_started = std::chrono::steady_clock::now();
  result.datasets = executor.Run(plan);
  overhead.transfer_seconds = SecondsSince(transfer_started);
  overhead.source.transfer = source_runner.zfs_commands() - source_before;
  overhead.target.transfer = target_runner.zfs_commands() - target_before;
  overhead.engine_sessions = mover->sessions_started();
  for (const DatasetReport& report : result.datasets) {
    for (const StepReport& step : report.steps) {
      const bool engines = step.stream.transport == "tcp" || step.stream.transport == "ssh";
      if (engines && !step.stream.in_session) ++overhead.engine_sessions;
      if (step.stream.transport == "ssh") ++overhead.ssh_connections;
    }
  }
  std::vector<DatasetOutcome> outcomes;
  for (const DatasetReport& report : result.datasets) {
    if (report.outcome == Outcome::kFailed || report.outcome == Outcome::kSkipped) ++result.failed;
    outcomes.push_back({report.outcome, report.error, report.reason});
  }
  result.needed_source_snapshots = NeededByUnfinishedTransfers(plan, outcomes);
  result.seconds = SecondsSince(started);
  return result;
}

}  // namespace zsend::orchestrator
