// The steps of a backup job after its transfers: rotation (--keep-source/--keep-target),
// the history rows (one per dataset, with snapshot counts after rotation), and the mail.
// RunBackupJob (backup_job.h) calls them in that order; each is a plain function of what the
// run produced.
//
// Thread-safety: call from the main thread; runners and the history are not owned.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "orchestrator/report/history.h"
#include "orchestrator/report/mail_message.h"
#include "orchestrator/report/mail_send.h"
#include "orchestrator/retention/job_rotation.h"
#include "orchestrator/run/backup_run.h"

namespace zsend::orchestrator {

// Rotation settings of a backup: nullopt specs leave that side alone (no rotation unless
// asked: a backup never destroys a snapshot by default).
// Smartcopy-like plain counts, the defaults of both `backup` and `prune` (docs/zsend.md).
inline constexpr const char* kDefaultKeepSource = "10";
inline constexpr const char* kDefaultKeepTarget = "30";

struct BackupRotation {
  std::optional<RetentionSpec> keep_source;
  std::optional<RetentionSpec> keep_target;
  bool wanted() const { return keep_source || keep_target; }
};

// The run's row in the history: begun (result "running") when made, before any host is
// touched, and ended with the result; the dataset rows are added to it. A null history (dry
// run) records nothing. Errors writing the history are printed, never fatal: the backup
// matters more than its record.
class RunBook {
 public:
  // Messages about the history go to `err`.
  RunBook(History* history, RunRecord run, std::ostream& err);
  RunRecord& run() { return run_; }
  // Sets the result; the end time is the first End()'s (a later call amends the text only).
  void End(const std::string& result, int ok, int failed, const std::string& error);
  void Add(const TransferRecord& transfer);
  // Stores the run's overhead in its row (zfs commands per host, connections, phase seconds).
  void RecordOverhead(const RunOverhead& overhead);

 private:
  History* history_;
  RunRecord run_;
  std::ostream& err_;
};

// Parses --keep-source/--keep-target ("" leaves the side alone) and --keep-tags ("": none;
// else the tag counts of both sides, retention_decision.h).
Result<BackupRotation> ParseBackupRotation(const std::string& keep_source,
                                           const std::string& keep_target,
                                           const std::string& keep_tags = "");

// The (source, target) pairs of the job's selected datasets.
std::vector<RotationPair> BackupPairs(const BackupOptions& options, const BackupResult& result);

// Rotates the job's datasets after the transfers. The source keeps what unfinished transfers
// need (result.needed_source_snapshots) and the common snapshot (by guid, or from `history`
// when the target is unreachable). `target` null: unreachable (`target_error` says why).
RotationResult RotateAfterBackup(const BackupOptions& options, const BackupResult& result,
                                 const BackupRotation& rotation, Zfs& source, Zfs* target,
                                 const Status& target_error, History* history, std::ostream& out);

// The run's transfer rows, with each dataset's snapshot counts (and the target's oldest and
// newest snapshot) read after rotation; `target` null: the target side stays unknown.
std::vector<TransferRecord> BackupRecords(const BackupOptions& options, const BackupResult& result,
                                          const RunRecord& run, Zfs& source, Zfs* target);

// Seconds since the epoch, now.
double Now();

// Sends the run's mail when the policy asks for it. Returns OK when no mail was due; `log`
// gets "mail: sent to ..." or nothing (the caller reports a failure).
Status MailAfterRun(const MailOptions& mail, const RunSummary& summary, std::ostream& log);

}  // namespace zsend::orchestrator
