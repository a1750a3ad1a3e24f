// Status: the state of each dataset of each job, summarised from the history's transfers, as
// the `zsend status` table, its --json form, and the input of `zsend check` and the metrics
// file.
//
// For each (backup name, source dataset) the newest transfer gives the last result, size,
// rate and error; the newest successful one gives the last success time and snapshot; the
// snapshot counts and oldest/newest names come from the newest transfer that recorded them.
// "ok" and "up-to-date" count as success; "failed" as failure; "skipped" is shown but is not a
// success.
//
// Pure functions over values, thread-safe. Times are seconds since the epoch; `now` is passed
// in so output is reproducible.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "orchestrator/report/history.h"

namespace zsend::orchestrator {

struct DatasetStatus {
  std::string backup_name;
  std::string source_dataset;
  std::string target_dataset;
  std::string source_host;
  std::string target_host;
  double last_success = 0;  // end of the newest successful transfer; 0: never
  std::string last_success_snapshot;
  double last_attempt = 0;  // end (or start) of the newest transfer
  std::string last_result;  // of the newest transfer
  std::string last_error;
  std::string last_kind;
  uint64_t last_wire_bytes = 0;  // of the newest successful transfer
  uint64_t last_stream_bytes = 0;
  double last_seconds = 0;
  int64_t source_snapshots = -1;  // -1: not recorded
  int64_t target_snapshots = -1;
  std::string oldest_snapshot;
  std::string newest_snapshot;
  int failures_total = 0;        // failed transfers recorded
  int consecutive_failures = 0;  // failed transfers since the last success

  bool succeeded_last() const { return last_result == "ok" || last_result == "up-to-date"; }
  // Stream bytes per second of the newest successful transfer; 0 when unknown.
  double last_rate() const;
};

// One entry per (backup name, source dataset), sorted by both; restores (kind "restore") are
// left out.
std::vector<DatasetStatus> SummarizeStatus(const std::vector<TransferRecord>& transfers);

// The `zsend status` table: one line per dataset, aligned columns, header first.
std::string FormatStatusTable(const std::vector<DatasetStatus>& statuses, double now);
// The same as JSON: {"generated": ..., "datasets": [{...}, ...]}.
std::string FormatStatusJson(const std::vector<DatasetStatus>& statuses, double now);
// The `zsend history` table of runs, newest first.
std::string FormatRunsTable(const std::vector<RunRecord>& runs);

// "2024-01-04 12:00:00Z"; "-" for 0.
std::string FormatUtc(double epoch_seconds);
// Left-aligned columns separated by two spaces; the last column is not padded.
std::string AlignColumns(const std::vector<std::vector<std::string>>& rows);
// "45s", "12m05s", "3h07m", "2d04h"; "-" for a negative age.
std::string FormatAge(double seconds);

}  // namespace zsend::orchestrator
