#include "orchestrator/run/backup_job.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>

#include "orchestrator/host/run_lock.h"
#include "orchestrator/report/backup_report.h"
#include "orchestrator/report/progress_board.h"
#include "orchestrator/run/run_interrupt.h"

namespace zsend::orchestrator {
namespace {

int Fatal(std::ostream& err, const std::string& message) {
  err << "zsend backup: " << message << "\n";
  return kExitFatal;
}

// Mails the run (when due) and turns a mail failure into its exit status: the backup's own
// code stays (failed datasets, 255), a run that was fine exits 1.
int Finish(const BackupJob& job, RunBook& book, const std::vector<TransferRecord>& transfers,
           const std::vector<std::string>& notes, int exit_code, std::ostream& err) {
  if (job.options.dry_run) {
    if (!job.mail.to.empty()) err << "dry-run: no mail sent\n";
    return exit_code;
  }
  RunSummary summary{HostName(), book.run(), transfers, notes};
  Status mailed = MailAfterRun(job.mail, summary, err);
  if (mailed.ok()) return exit_code;
  err << "zsend backup: mail not sent: " << mailed.message()
      << " (the backup result above stands)\n";
  book.End(book.run().result, book.run().datasets_ok, book.run().datasets_failed,
           (book.run().error.empty() ? "" : book.run().error + "; ") +
               "mail not sent: " + mailed.message());
  return exit_code == 0 ? 1 : exit_code;
}

int FatalRun(const BackupJob& job, RunBook& book, const Status& status, std::ostream& err) {
  err << "zsend backup: " << status.message() << "\n";
  if (Interrupted()) {
    book.End("interrupted", 0, 0, InterruptedStatus(status.message()).message());
    return Finish(job, book, {}, {}, kExitInterruptedBase + InterruptSignal(), err);
  }
  book.End("failed", 0, 0, status.message());
  return Finish(job, book, {}, {}, kExitFatal, err);
}

// After SIGINT/SIGTERM/SIGHUP: no rotation, the datasets' rows (interrupted ones so named), the
// run row "interrupted", the mail, and exit 128 + the signal. The transports have already
// stopped their processes and removed their keys and temporary files.
int InterruptedRun(const BackupJob& job, RunBook& book, const BackupResult& result,
                   CommandRunner& source, std::ostream& err) {
  const BackupOptions& o = job.options;
  err << "zsend backup: " << InterruptedStatus("stopped the transfers; no rotation").message()
      << "\n";
  std::vector<TransferRecord> transfers;
  if (!o.dry_run) {
    // Snapshot counts are not read: every command is refused once interrupted.
    Zfs source_zfs(source);
    transfers = BackupRecords(o, result, book.run(), source_zfs, nullptr);
    for (const TransferRecord& t : transfers) book.Add(t);
  }
  int ok = 0, failed = 0;
  std::string error;
  for (const TransferRecord& t : transfers) {
    if (t.result == "ok" || t.result == "up-to-date") {
      ++ok;
    } else {
      ++failed;
      if (error.empty()) error = t.source_dataset + ": " + t.error;
    }
  }
  if (error.empty()) error = InterruptedStatus("").message();
  book.End("interrupted", ok, failed, error.substr(0, error.find('\n')));
  return Finish(job, book, transfers, {}, kExitInterruptedBase + InterruptSignal(), err);
}

}  // namespace

int RunBackupOnHosts(const BackupJob& job, RunBook& book, CommandRunner& source,
                     CommandRunner& target, Status target_error, History* history,
                     std::ostream& out_stream, std::ostream& err) {
  const BackupOptions& o = job.options;
  std::ostream& out = job.json ? err : out_stream;
  std::optional<ProgressBoard> board;
  BackupOptions options = o;
  if (job.progress != BackupJob::Progress::kOff && !o.dry_run) {
    board.emplace(job.progress_out ? *job.progress_out : err,
                  job.progress == BackupJob::Progress::kTerminal ? ProgressBoard::Mode::kTerminal
                                                                 : ProgressBoard::Mode::kLines,
                  job.terminal_width);
    if (job.progress_out) board->SetLogStream(&err);
    options.transport.progress = &*board;
  }
  BackupResult result = RunBackup(options, source, target, err, out_stream);
  if (board) board->Finish();
  RunOverhead& overhead = result.overhead;
  overhead.ssh_connections += (source.IsRemote() ? 1 : 0) + (target.IsRemote() ? 1 : 0);
  // The JSON (with the overhead) once the run's last phase is done; before it on the way out.
  auto finish_json = [&] {
    if (job.json) out_stream << BackupJson(o.backup_name, result) << "\n";
    book.RecordOverhead(overhead);
  };
  if (!result.fatal.ok()) {
    finish_json();
    return FatalRun(job, book, result.fatal, err);
  }
  if (!job.json) {
    for (const DatasetReport& report : result.datasets) out << FormatDatasetLine(report) << "\n";
    out << FormatSummary(o.backup_name, result) << "\n";
  }

  if (Interrupted()) {
    finish_json();
    return InterruptedRun(job, book, result, source, err);
  }

  // Rotation and the history's snapshot counts, counted as the run's rotation phase.
  CountingRunner source_counted(source), target_counted(target);
  const auto rotation_started = std::chrono::steady_clock::now();
  Zfs source_zfs(source_counted), target_zfs(target_counted);
  if (target_error.ok()) target_error = target_zfs.Probe();
  Zfs* reachable_target = target_error.ok() ? &target_zfs : nullptr;
  std::vector<std::string> notes;
  std::set<std::string> failed;
  for (const DatasetReport& report : result.datasets) {
    if (report.outcome == Outcome::kFailed || report.outcome == Outcome::kSkipped) {
      failed.insert(report.source);
    }
  }
  if (job.rotation.wanted() && source_zfs.Probe().ok()) {
    RotationResult rotated = RotateAfterBackup(o, result, job.rotation, source_zfs,
                                               reachable_target, target_error, history, out);
    const std::string line =
        "rotation " + o.backup_name + ": " + RotationSummary(rotated, o.dry_run);
    out << line << "\n";
    notes.push_back(line);
    if (!rotated.first_error.empty()) notes.push_back("rotation error: " + rotated.first_error);
    failed.insert(rotated.failed.begin(), rotated.failed.end());
  }
  std::vector<TransferRecord> transfers;
  if (!o.dry_run) {
    transfers = BackupRecords(o, result, book.run(), source_zfs, reachable_target);
    for (const TransferRecord& t : transfers) book.Add(t);
  }
  overhead.source.rotation = source_counted.zfs_commands();
  overhead.target.rotation = target_counted.zfs_commands();
  overhead.rotation_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - rotation_started).count();
  finish_json();
  const int failed_count = static_cast<int>(failed.size());
  const int total = static_cast<int>(result.datasets.size());
  std::string error;
  for (const TransferRecord& t : transfers) {
    if (error.empty() && t.result == "failed") error = t.source_dataset + ": " + t.error;
  }
  if (error.empty() && !notes.empty() && notes.back().rfind("rotation error: ", 0) == 0) {
    error = notes.back();
  }
  book.End(failed_count > 0 ? "failed" : "ok", std::max(0, total - failed_count), failed_count,
           error.substr(0, error.find('\n')));
  return Finish(job, book, transfers, notes, std::min(failed_count, kMaxFailureCount), err);
}

int RunBackupJob(BackupJob job, std::ostream& out, std::ostream& err) {
  BackupOptions& o = job.options;
  // One run per job at a time; a dry run takes no lock and writes no history (it reads the
  // history, when there is one, for the rotation's known common snapshots).
  std::optional<RunLock> lock;
  std::unique_ptr<History> history;
  if (!o.dry_run) {
    Result<RunLock> acquired = RunLock::Acquire(job.state_dir, o.backup_name);
    if (!acquired.ok()) return Fatal(err, acquired.status().message());
    lock.emplace(std::move(*acquired));
    Result<std::unique_ptr<History>> opened = History::Open(job.state_dir);
    if (!opened.ok()) return Fatal(err, opened.status().message());
    history = std::move(*opened);
    // The lock proves that no other run of the job is alive: a row still "running" belongs to
    // a run that was killed (SIGKILL) or lost its host.
    if (Result<int> ended = history->EndAbandonedRuns(o.backup_name, Now());
        ended.ok() && *ended > 0) {
      err << "zsend backup: " << *ended
          << " earlier run(s) of this job never ended; recorded as interrupted\n";
    }
  } else if (std::error_code ec;
             std::filesystem::exists(History::DatabasePath(job.state_dir), ec)) {
    if (auto opened = History::Open(job.state_dir); opened.ok()) history = std::move(*opened);
  }

  LocalRunner local(job.command_timeout);
  auto ssh_for = [&](const std::string& destination) {
    SshOptions ssh = job.ssh;
    ssh.destination = destination;
    return std::make_unique<SshRunner>(ssh, local);
  };
  RunRecord record;
  record.backup_name = o.backup_name;
  record.command = "backup";
  record.host = HostName();
  record.source_host = job.ssh_source.empty() ? local.HostLabel() : job.ssh_source;
  record.target_host = job.ssh_target.empty() ? local.HostLabel() : job.ssh_target;
  record.started = Now();
  RunBook book(o.dry_run ? nullptr : history.get(), record, err);

  std::unique_ptr<SshRunner> source_ssh, target_ssh;
  CommandRunner* source = &local;
  CommandRunner* target = &local;
  Status target_error;
  if (!job.ssh_source.empty()) {
    source_ssh = ssh_for(job.ssh_source);
    Status connected = source_ssh->Connect();
    if (!connected.ok()) return FatalRun(job, book, connected, err);
    source = source_ssh.get();
  }
  if (!job.ssh_target.empty()) {
    target_ssh = ssh_for(job.ssh_target);
    target_error = target_ssh->Connect();
    // Snapshot-only runs (--no-send) go on without the target; rotation then keeps the
    // common snapshot the history knows.
    if (!target_error.ok() && !o.no_send) return FatalRun(job, book, target_error, err);
    if (!target_error.ok()) err << "target unreachable: " << target_error.message() << "\n";
    target = target_ssh.get();
  }
  std::unique_ptr<DebugRunner> source_debug, target_debug;
  if (job.debug) {
    source_debug = std::make_unique<DebugRunner>(*source, err);
    target_debug = std::make_unique<DebugRunner>(*target, err);
    source = source_debug.get();
    target = target_debug.get();
    o.verbose = true;
  }
  std::unique_ptr<DryRunRunner> source_dry, target_dry;
  if (o.dry_run) {
    source_dry = std::make_unique<DryRunRunner>(*source, out);
    target_dry = std::make_unique<DryRunRunner>(*target, out);
    source = source_dry.get();
    target = target_dry.get();
  }
  return RunBackupOnHosts(job, book, *source, *target, target_error, history.get(), out, err);
}

}  // namespace zsend::orchestrator
