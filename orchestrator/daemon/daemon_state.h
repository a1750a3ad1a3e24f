// The daemon's inner state, shared by daemon_loop.cpp (the loop: config, schedule ticks, the
// socket, signals) and daemon_runs.cpp (one job's run: hooks and the backup child, phase by
// phase). Internal to orchestrator/daemon/; daemon_loop.h is the interface.
//
// Thread-safety: the daemon's main thread only.
#pragma once

#include <sys/types.h>

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "orchestrator/daemon/daemon_config.h"
#include "orchestrator/daemon/daemon_loop.h"
#include "orchestrator/daemon/job_table.h"
#include "orchestrator/daemon/schedule.h"
#include "orchestrator/report/history.h"

namespace zsend::orchestrator::daemon_detail {

enum class Phase { kPreSnapshot, kBackup, kPostRun };

struct Running {
  Phase phase = Phase::kBackup;
  pid_t pid = 0;
  double deadline = 0;  // hooks: killed after this; 0: none
  std::vector<std::string> tags;
  int exit_code = 0;
  std::string result, error;  // of the backup, for post-run and the end
};

struct JobState {
  DaemonJob job;
  Schedule schedule;
  TagCoverage coverage;
  DaemonJobRecord record;
  double since = 0;  // when this daemon first saw the job
  bool queued = false;
  bool manual = false;
  std::optional<Running> running;
};

class Daemon {
 public:
  Daemon(const DaemonOptions& options, const Clock& clock, std::ostream& log)
      : options_(options), clock_(clock), log_(log) {}
  int Run();

 private:
  void Apply(const DaemonConfig& config);
  void Save(JobState& state);
  void Tick(double now);
  void Start(JobState& state, double now);
  bool StartPhase(JobState& state, Phase phase, double now);
  void ChildEnded(JobState& state, int wait_status, double now);
  void Finish(JobState& state, const std::string& result, const std::string& error, double now);
  void Serve(int fd);
  std::vector<JobRow> Rows(double now) const;
  void Stop(double now);
  std::string KeptConfig() const { return options_.state_dir + "/daemon-config.json"; }

  DaemonOptions options_;
  const Clock& clock_;
  std::ostream& log_;
  DaemonConfig config_;
  std::unique_ptr<History> history_;
  std::map<std::string, JobState> jobs_;
  std::deque<std::string> queue_;
  bool stopping_ = false;
  double stop_deadline_ = 0;
};

inline int RunningCount(const std::map<std::string, JobState>& jobs) {
  return static_cast<int>(std::count_if(
      jobs.begin(), jobs.end(), [](const auto& j) { return j.second.running.has_value(); }));
}

}  // namespace zsend::orchestrator::daemon_detail
