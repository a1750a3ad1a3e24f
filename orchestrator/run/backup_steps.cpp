#include "orchestrator/run/backup_steps.h"

#include <chrono>
#include <map>

#include "orchestrator/plan/selection.h"
#include "orchestrator/report/backup_report.h"
#include "orchestrator/zfs/host_state.h"
#include "orchestrator/zfs/snapshot_batch.h"

namespace zsend::orchestrator {

double Now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

RunBook::RunBook(History* history, RunRecord run, std::ostream& err)
    : history_(history), run_(std::move(run)), err_(err) {
  if (history_ == nullptr) return;
  Result<int64_t> id = history_->BeginRun(run_);
  if (id.ok()) {
    run_.id = *id;
  } else {
    err_ << "zsend backup: the run is not recorded: " << id.status().message() << "\n";
  }
}

void RunBook::End(const std::string& result, int ok, int failed, const std::string& error) {
  if (run_.ended == 0) run_.ended = Now();
  run_.result = result;
  run_.datasets_ok = ok;
  run_.datasets_failed = failed;
  run_.error = error;
  if (history_ == nullptr || run_.id == 0) return;
  Status ended = history_->EndRun(run_.id, run_.ended, result, ok, failed, error);
  if (!ended.ok()) err_ << "zsend backup: " << ended.message() << "\n";
}

void RunBook::Add(const TransferRecord& transfer) {
  if (history_ == nullptr || run_.id == 0) return;
  Result<int64_t> added = history_->AddTransfer(transfer);
  if (!added.ok()) err_ << "zsend backup: " << added.status().message() << "\n";
}

void RunBook::RecordOverhead(const RunOverhead& overhead) {
  run_.source_zfs_commands = overhead.source.total();
  run_.target_zfs_commands = overhead.target.total();
  run_.ssh_connections = overhead.ssh_connections;
  run_.engine_sessions = overhead.engine_sessions;
  run_.planning_seconds = overhead.planning_seconds;
  run_.transfer_seconds = overhead.transfer_seconds;
  run_.rotation_seconds = overhead.rotation_seconds;
  if (history_ == nullptr || run_.id == 0) return;
  Status recorded = history_->RecordOverhead(run_.id, run_);
  if (!recorded.ok()) err_ << "zsend backup: " << recorded.message() << "\n";
}

Result<BackupRotation> ParseBackupRotation(const std::string& keep_source,
                                           const std::string& keep_target,
                                           const std::string& keep_tags) {
  BackupRotation rotation;
  std::map<std::string, int> tags;
  if (!keep_tags.empty()) {
    Result<std::map<std::string, int>> parsed = ParseTagKeeps(keep_tags, "--keep-tags");
    if (!parsed.ok()) return parsed.status();
    tags = std::move(*parsed);
  }
  if (!keep_source.empty()) {
    Result<RetentionSpec> spec = ParseRetentionSpec(keep_source, "--keep-source");
    if (!spec.ok()) return spec.status();
    rotation.keep_source = *spec;
    rotation.keep_source->keep_tags = tags;
  }
  if (!keep_target.empty()) {
    Result<RetentionSpec> spec = ParseRetentionSpec(keep_target, "--keep-target");
    if (!spec.ok()) return spec.status();
    rotation.keep_target = *spec;
    rotation.keep_target->keep_tags = tags;
  }
  return rotation;
}

std::vector<RotationPair> BackupPairs(const BackupOptions& options, const BackupResult& result) {
  std::vector<RotationPair> pairs;
  for (const std::string& source : result.selected) {
    std::string target;
    for (const DatasetReport& report : result.datasets) {
      if (report.source == source) target = report.target;
    }
    if (target.empty()) {
      Result<std::string> name = TargetName(source, options.target_path, options.strip_path);
      if (!name.ok()) continue;  // the run itself reported it
      target = *name;
    }
    pairs.push_back({source, target});
  }
  return pairs;
}

RotationResult RotateAfterBackup(const BackupOptions& options, const BackupResult& result,
                                 const BackupRotation& rotation, Zfs& source, Zfs* target,
                                 const Status& target_error, History* history, std::ostream& out) {
  PruneOptions prune;
  prune.group = options.group.empty() ? options.backup_name : options.group;
  prune.backup_name = options.backup_name;
  prune.now = static_cast<int64_t>(Now());
  prune.keep_source = rotation.keep_source;
  prune.keep_target = target != nullptr ? rotation.keep_target : std::nullopt;
  prune.needed = result.needed_source_snapshots;
  if (history != nullptr) {
    auto transfers = history->Transfers(options.backup_name, 0);
    if (transfers.ok()) prune.known_common = KnownCommonSnapshots(*transfers);
  }
  return Rotate(source, target, target_error, BackupPairs(options, result), prune, out);
}

namespace {

// The snapshots of `datasets` on one host: one read for all (host_state.h); a dataset that is
// gone makes that read fail, and then each is listed alone.
std::map<std::string, std::vector<SnapshotInfo>> SnapshotsOf(
    Zfs& zfs, const std::vector<std::string>& datasets) {
  std::map<std::string, std::vector<SnapshotInfo>> snapshots;
  Result<HostState> state = ReadHostState(zfs, datasets, false);
  if (state.ok()) {
    for (const auto& [name, record] : state->datasets()) snapshots[name] = record.snapshots;
    return snapshots;
  }
  for (const std::string& dataset : datasets) {
    Result<std::vector<SnapshotInfo>> listed = zfs.ListSnapshots(dataset);
    if (listed.ok()) snapshots[dataset] = std::move(*listed);
  }
  return snapshots;
}

}  // namespace

std::vector<TransferRecord> BackupRecords(const BackupOptions& options, const BackupResult& result,
                                          const RunRecord& run, Zfs& source, Zfs* target) {
  std::vector<TransferRecord> records = TransferRecordsOf(result, run);
  const std::string group = options.group.empty() ? options.backup_name : options.group;
  std::vector<std::string> source_names, target_names;
  for (const TransferRecord& t : records) {
    source_names.push_back(t.source_dataset);
    target_names.push_back(t.target_dataset);
  }
  std::map<std::string, std::vector<SnapshotInfo>> own = SnapshotsOf(source, source_names);
  std::map<std::string, std::vector<SnapshotInfo>> copies;
  if (target != nullptr) copies = SnapshotsOf(*target, target_names);
  for (TransferRecord& t : records) {
    auto mine = own.find(t.source_dataset);
    if (mine != own.end()) t.source_snapshots = static_cast<int64_t>(mine->second.size());
    auto copy = copies.find(t.target_dataset);
    if (copy == copies.end()) continue;
    t.target_snapshots = static_cast<int64_t>(copy->second.size());
    for (const SnapshotInfo& s : copy->second) {  // oldest first
      if (!IsGroupSnapshot(group, s.name)) continue;
      if (t.oldest_snapshot.empty()) t.oldest_snapshot = s.name;
      t.newest_snapshot = s.name;
    }
  }
  return records;
}

Status MailAfterRun(const MailOptions& mail, const RunSummary& summary, std::ostream& log) {
  if (mail.to.empty()) return Status::Ok();
  Result<MailOn> policy = ParseMailOn(mail.on);
  if (!policy.ok()) return policy.status();
  const int failed =
      summary.run.result == "failed" ? std::max(1, summary.failed()) : summary.failed();
  if (!ShouldSendMail(*policy, failed)) return Status::Ok();
  MailMessage message =
      BuildRunMail(summary, mail.from.empty() ? DefaultMailFrom() : mail.from, mail.to);
  Status sent = SendMail(mail, message);
  if (sent.ok()) {
    std::string to;
    for (const std::string& address : mail.to) to += (to.empty() ? "" : ", ") + address;
    log << "mail: sent to " << to << " (" << message.subject << ")\n";
  }
  return sent;
}

}  // namespace zsend::orchestrator
