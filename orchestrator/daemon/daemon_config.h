// DaemonConfig: the parts of the JSON job file (job_config.h) that `zsend daemon` reads on top of
// what `zsend backup --config FILE JOB` reads:
//
//   "daemon":    {"worker-limit": 1}                       jobs run at once (default 1)
//   "schedules": {"fast": {"often":  {"interval": "2s", "keep": 3},
//                          "slower": {"interval": "6s", "keep": 2}}}
//   "jobs":      {"local": {"target": "tank2/bk", "schedule": "fast",
//                           "pre-snapshot": "/usr/local/bin/freeze-db", "hook-timeout": 60}}
//
// A schedule is a set of named intervals (the names are the tags of the runs). An interval is a
// duration ("90", "30s", "15min", "1h", "1d", "1w", "1m" = 30 days, "1y"); keep is a count of
// runs kept per tag. A job with no "schedule" uses the schedule "default"; a job without
// "target" is snapshot-only. Every error is one line naming the key and the fix.
//
// Pure parsing, thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/status.h"

namespace zsend::orchestrator {

struct ScheduleInterval {
  std::string tag;  // the interval's name: "daily"
  double seconds = 0;
  int keep = 0;  // runs kept per tag; 0: none beyond the rotation of the job
};

struct Schedule {
  std::string name;
  std::vector<ScheduleInterval> intervals;  // sorted by tag name
  double ShortestSeconds() const;
};

struct DaemonJob {
  std::string name;
  std::string schedule;                      // name in DaemonConfig::schedules
  bool snapshot_only = false;                // no "target"
  std::vector<std::string> datasets;         // "dataset" values (hook environment)
  std::map<std::string, std::string> hooks;  // "pre-snapshot" ... -> shell command
  double hook_timeout = 60;
};

struct DaemonConfig {
  int worker_limit = 1;
  std::string state_dir;  // defaults.state-dir, "" when absent
  std::map<std::string, Schedule> schedules;
  std::vector<DaemonJob> jobs;  // sorted by name
  const DaemonJob* FindJob(const std::string& name) const;
};

// The hooks the daemon runs around a job's `zsend backup` child. "post-snapshot" and "pre-send"
// run inside it (`zsend backup --post-snapshot/--pre-send`, read from the same job).
inline constexpr const char* kHookNames[] = {"pre-snapshot", "post-run"};

// Parses the whole file; `origin` names it in errors.
Result<DaemonConfig> ParseDaemonConfig(const std::string& json_text, const std::string& origin);
Result<DaemonConfig> LoadDaemonConfig(const std::string& path);
// Loads like LoadDaemonConfig and, when the file is good, keeps a copy of its text at `kept`
// (mode 0600, written atomically): the daemon's runs read that copy, so an edit refused on
// SIGHUP never reaches a run.
Result<DaemonConfig> LoadAndKeepDaemonConfig(const std::string& path, const std::string& kept);

// "2s", "15min", "1h", "1d", "1w", "1m", "1y" or plain seconds -> seconds; `what` names the key.
Result<double> ParseInterval(const std::string& text, const std::string& what);

}  // namespace zsend::orchestrator
