// JobRow: one line of the daemon's live job table (backy's: Job, SLA, Status, Last Backup, Last
// Tags, Last Dur, Next Backup, Next Tags), as the daemon sends it over its socket (JSON) and as
// `zsend jobs` prints it.
//
// SLA is "OK" while the last good run ended less than 1.5x the shortest interval ago (a job that
// never ran yet is OK until 1.5x after the daemon first saw it), else "TOO OLD".
//
// Values and pure functions, thread-safe.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"

namespace zsend::orchestrator {

struct JobRow {
  std::string job;
  std::string sla;        // "OK", "TOO OLD"
  std::string status;     // "running", "queued", "waiting", "ok", "failed: ...", "skipped: ..."
  double last_start = 0;  // 0: never
  double last_duration = 0;
  std::string last_tags;
  double next_due = 0;
  std::string next_tags;
};

// "OK" or "TOO OLD" (see above); `since` is when the daemon first saw the job.
std::string JobSla(double last_success, double since, double shortest_interval, double now);

// The table, header first; times as "YYYY-MM-DD hh:mm:ssZ" (UTC), durations as "12s", "3m04s".
std::string FormatJobTable(const std::vector<JobRow>& rows);

std::string JobRowsToJson(const std::vector<JobRow>& rows);
Result<std::vector<JobRow>> JobRowsFromJson(const std::string& text);

}  // namespace zsend::orchestrator
