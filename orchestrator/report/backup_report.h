// What `zsend backup` prints: a line per dataset, a summary, and the --json document.
//
//   pool/a -> backup/pool/a: full+incremental, 1.20 MiB in 0.8 s (1.50 MiB/s), pipe
//   pool/b -> backup/pool/b: up to date (the target has daily-20260101120000)
//   pool/c -> backup/pool/c: FAILED: zfs receive failed (exit 1) on local: ...
//       command: zfs receive backup/pool/c
//       stderr:  cannot receive incremental stream: destination has been modified
//   pool/c/d -> backup/pool/c/d: skipped: a dataset it depends on, pool/c, failed
//   backup daily: 4 datasets, 1 transferred, 1 up to date, 1 failed, 1 skipped; 1.20 MiB in 2.1 s
//
// Pure functions of a BackupResult, thread-safe.
#pragma once

#include <string>

#include "orchestrator/report/history.h"
#include "orchestrator/run/backup_run.h"

namespace zsend::orchestrator {

std::string FormatDatasetLine(const DatasetReport& report);
std::string FormatSummary(const std::string& backup_name, const BackupResult& result);
// The whole run as JSON (one object: backup, snapshot, exit_code, datasets[], summary).
std::string BackupJson(const std::string& backup_name, const BackupResult& result);

// The history rows of a run: one per dataset of the plan, with the run's id, backup name and
// hosts from `run`. kind is the steps' kinds as on the dataset line ("full",
// "full+incremental", "resumed+incremental"...), bytes and seconds are summed over the steps,
// transport is the last step's; result is ok, up-to-date, failed or skipped; error holds the
// reason, the failing command and its whole stderr. Datasets that never ran get the run's
// start as their times.
std::vector<TransferRecord> TransferRecordsOf(const BackupResult& result, const RunRecord& run);

}  // namespace zsend::orchestrator
