// RunDaemon: the loop of `zsend daemon`. Runs every job of the config file on its schedule
// (schedule.h) with at most `worker-limit` jobs at once, and serves the job table on its socket
// (daemon_socket.h). The process does not daemonize itself; systemd (or a shell) starts it.
//
// Each run is a sequence of child processes, one at a time, none of them blocking the loop:
//   1. the "pre-snapshot" hook (sh -c), when the job has one: a failure or its timeout skips the
//      run ("skipped: pre-snapshot hook ..." in the state and the table);
//   2. `zsend backup --config KEPT JOB --state-dir DIR --no-progress` (with --no-send for a
//      snapshot-only job): the very command users run, so the backup, its rotation, history
//      rows, lock and signal handling are those of `zsend backup`;
//   3. the "post-run" hook, which sees the result.
// Hooks get ZSEND_JOB, ZSEND_DATASETS (space-separated "dataset" values), ZSEND_TAGS, ZSEND_HOOK
// and, in post-run, ZSEND_RESULT and ZSEND_EXIT_CODE; a hook past its timeout is killed (its
// whole process group). The children write to the daemon's stderr (the journal).
//
// KEPT is STATE_DIR/daemon-config.json, a copy of the config file as the daemon last read it
// well: an edit that SIGHUP refused never reaches a run.
// State: the daemon_jobs table of the history database (history.h) holds each job's coverage,
// last run and next run, written at each start and end, so a restart catches up (schedule.h).
//
// Signals: SIGTERM or SIGINT: no new run starts, each running child gets SIGTERM (a backup then
// stops its transfers and records them interrupted, backup_job.h step 4), and the daemon exits
// 0 when they have ended, at most stop_grace_seconds later (then SIGKILL). SIGHUP: the config is
// read again; a bad config is logged and the old one stays in force.
//
// Exit: 0 after SIGTERM/SIGINT; kExitFatal (255) when it cannot start (bad config, state
// directory or socket). Call from the main thread; installs its own signal handlers.
#pragma once

#include <ostream>
#include <string>

namespace zsend::orchestrator {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual double Now() const = 0;  // seconds since the epoch
};

class SystemClock : public Clock {
 public:
  double Now() const override;
};

struct DaemonOptions {
  std::string config_path;
  std::string state_dir;      // "" : the config's defaults.state-dir, else /var/lib/zsend
  std::string zsend_program;  // the zsend binary run for each job
  double stop_grace_seconds = 60;
};

int RunDaemon(const DaemonOptions& options, const Clock& clock, std::ostream& log);

}  // namespace zsend::orchestrator
