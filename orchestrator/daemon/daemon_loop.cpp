#include "orchestrator/daemon/daemon_loop.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "orchestrator/daemon/child_process.h"
#include "orchestrator/daemon/daemon_config.h"
#include "orchestrator/daemon/daemon_socket.h"
#include "orchestrator/daemon/job_table.h"
#include "orchestrator/daemon/schedule.h"
#include "orchestrator/report/history.h"
#include "orchestrator/run/exit_codes.h"

namespace zsend::orchestrator {
namespace {

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

int Running_(const std::map<std::string, JobState>& jobs) {
  return static_cast<int>(std::count_if(
      jobs.begin(), jobs.end(), [](const auto& j) { return j.second.running.has_value(); }));
}

void Daemon::Apply(const DaemonConfig& config) {
  config_ = config;
  const double now = clock_.Now();
  std::map<std::string, DaemonJobRecord> saved;
  if (auto rows = history_->DaemonJobs(); rows.ok()) {
    for (const DaemonJobRecord& row : *rows) saved[row.job] = row;
  }
  for (auto it = jobs_.begin(); it != jobs_.end();) {  // jobs gone from the file (idle ones)
    const bool gone = config.FindJob(it->first) == nullptr && !it->second.running;
    it = gone ? jobs_.erase(it) : std::next(it);
  }
  for (const DaemonJob& job : config.jobs) {
    auto [it, added] = jobs_.try_emplace(job.name);
    JobState& state = it->second;
    if (added) {
      state.since = now;
      state.record = saved.count(job.name) ? saved[job.name] : DaemonJobRecord{};
      state.record.job = job.name;
      state.coverage = DecodeCoverage(state.record.coverage);
      if (state.record.last_start > state.record.last_end) {  // killed during the run
        state.record.last_result = "interrupted";
        state.record.last_error = "the daemon stopped during the run";
        state.record.last_end = state.record.last_start;
      }
    }
    state.job = job;
    state.schedule = config.schedules.at(job.schedule);
    InitCoverage(state.schedule, job.name, now, &state.coverage);
    Save(state);
  }
}

void Daemon::Save(JobState& state) {
  DaemonJobRecord& r = state.record;
  r.coverage = EncodeCoverage(state.coverage);
  const NextRun next = NextRunOf(state.schedule, state.job.name, state.coverage);
  r.next_due = next.due;
  r.next_tags = JoinTags(next.tags);
  r.shortest_interval = state.schedule.ShortestSeconds();
  if (Status s = history_->SaveDaemonJob(r); !s.ok()) {
    log_ << "zsend daemon: " << s.message() << "\n" << std::flush;
  }
}

void Daemon::Tick(double now) {
  if (stopping_) return;
  std::vector<std::pair<double, std::string>> due;
  for (auto& [name, state] : jobs_) {
    if (state.running || state.queued) continue;
    if (!DueTags(state.schedule, name, state.coverage, now).empty()) {
      due.emplace_back(NextRunOf(state.schedule, name, state.coverage).due, name);
    }
  }
  std::sort(due.begin(), due.end());
  for (const auto& [when, name] : due) {
    jobs_[name].queued = true;
    queue_.push_back(name);
  }
  while (!queue_.empty() && Running_(jobs_) < config_.worker_limit) {
    const std::string name = queue_.front();
    queue_.pop_front();
    auto it = jobs_.find(name);
    if (it == jobs_.end()) continue;
    it->second.queued = false;
    Start(it->second, now);
  }
}

void Daemon::Start(JobState& state, double now) {
  std::vector<std::string> tags = DueTags(state.schedule, state.job.name, state.coverage, now);
  MarkRun(state.schedule, state.job.name, tags, now, &state.coverage);
  if (tags.empty()) tags = {"manual"};  // `zsend jobs --run` between slots
  state.manual = false;
  state.running = Running{};
  state.running->tags = tags;
  // last_result and last_error stay those of the previous run until this one ends.
  state.record.last_start = now;
  state.record.last_tags = JoinTags(tags);
  log_ << "zsend daemon: " << state.job.name << ": started (tags " << state.record.last_tags
       << ")\n"
       << std::flush;
  Save(state);
  const bool hook = state.job.hooks.count("pre-snapshot") > 0;
  if (!StartPhase(state, hook ? Phase::kPreSnapshot : Phase::kBackup, now)) {
    Finish(state, "failed", "could not start a child process", now);
  }
}

bool Daemon::StartPhase(JobState& state, Phase phase, double now) {
  Running& run = *state.running;
  run.phase = phase;
  std::string datasets;
  for (const std::string& d : state.job.datasets) datasets += (datasets.empty() ? "" : " ") + d;
  std::vector<std::pair<std::string, std::string>> env = {{"ZSEND_JOB", state.job.name},
                                                          {"ZSEND_DATASETS", datasets},
                                                          {"ZSEND_TAGS", JoinTags(run.tags)}};
  std::vector<std::string> argv;
  if (phase == Phase::kBackup) {
    argv = {options_.zsend_program, "backup",      "--config",         KeptConfig(),
            state.job.name,         "--state-dir", options_.state_dir, "--no-progress"};
    if (state.job.snapshot_only) argv.push_back("--no-send");
    for (std::string& option : TagOptions(state.schedule, run.tags)) argv.push_back(option);
    run.deadline = 0;
  } else {
    const std::string hook = phase == Phase::kPreSnapshot ? "pre-snapshot" : "post-run";
    argv = {"/bin/sh", "-c", state.job.hooks.at(hook)};
    env.emplace_back("ZSEND_HOOK", hook);
    if (phase == Phase::kPostRun) {
      env.emplace_back("ZSEND_RESULT", run.result);
      env.emplace_back("ZSEND_EXIT_CODE", std::to_string(run.exit_code));
    }
    run.deadline = now + state.job.hook_timeout;
  }
  run.pid = SpawnChild(argv, env);
  return run.pid > 0;
}

std::string Describe(int wait_status) {
  if (WIFEXITED(wait_status)) return "exit " + std::to_string(WEXITSTATUS(wait_status));
  return "killed by signal " + std::to_string(WTERMSIG(wait_status));
}

void Daemon::ChildEnded(JobState& state, int wait_status, double now) {
  Running& run = *state.running;
  const bool ok = WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0;
  const bool timed_out = run.deadline > 0 && now >= run.deadline;
  switch (run.phase) {
    case Phase::kPreSnapshot:
      if (stopping_) return Finish(state, "interrupted", "the daemon was stopped", now);
      if (!ok) {
        return Finish(state, "skipped",
                      timed_out ? "pre-snapshot hook timed out after " +
                                      std::to_string(static_cast<int>(state.job.hook_timeout)) + "s"
                                : "pre-snapshot hook failed (" + Describe(wait_status) + ")",
                      now);
      }
      if (!StartPhase(state, Phase::kBackup, now)) {
        Finish(state, "failed", "could not start zsend backup", now);
      }
      return;
    case Phase::kBackup: {
      run.exit_code = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128;
      const bool signalled =
          (run.exit_code > kExitInterruptedBase && run.exit_code < kExitInterruptedBase + 32) ||
          (!WIFEXITED(wait_status) && stopping_);
      run.result = ok ? "ok" : signalled ? "interrupted" : "failed";
      run.error = ok ? "" : "zsend backup " + Describe(wait_status);
      if (!stopping_ && state.job.hooks.count("post-run") &&
          StartPhase(state, Phase::kPostRun, now)) {
        return;
      }
      return Finish(state, run.result, run.error, now);
    }
    case Phase::kPostRun:
      if (!ok) {
        log_ << "zsend daemon: " << state.job.name << ": post-run hook "
             << (timed_out ? "timed out" : "failed (" + Describe(wait_status) + ")") << "\n";
      }
      return Finish(state, run.result, run.error, now);
  }
}

void Daemon::Finish(JobState& state, const std::string& result, const std::string& error,
                    double now) {
  // `result` and `error` may live in state.running: copy them before it goes.
  state.record.last_end = now;
  state.record.last_result = result;
  state.record.last_error = error;
  state.running.reset();
  if (state.record.last_result == "ok") state.record.last_success = now;
  log_ << "zsend daemon: " << state.job.name << ": " << state.record.last_result
       << (state.record.last_error.empty() ? "" : ": " + state.record.last_error) << "\n"
       << std::flush;
  Save(state);
}

std::vector<JobRow> Daemon::Rows(double now) const {
  std::vector<JobRow> rows;
  for (const auto& [name, state] : jobs_) {
    const DaemonJobRecord& r = state.record;
    JobRow row;
    row.job = name;
    row.sla = JobSla(r.last_success, state.since, state.schedule.ShortestSeconds(), now);
    const std::string last =
        r.last_result.empty() ? ""
                              : r.last_result + (r.last_error.empty() ? "" : ": " + r.last_error);
    if (state.running) {
      row.status = "running";
    } else if (state.queued) {
      row.status = last.empty() ? "queued" : "queued (last: " + last + ")";
    } else {
      row.status = last.empty() ? "waiting" : last;
    }
    row.last_start = r.last_start;
    row.last_duration = state.running    ? now - r.last_start
                        : r.last_end > 0 ? r.last_end - r.last_start
                                         : 0;
    row.last_tags = r.last_tags;
    row.next_due = r.next_due;
    row.next_tags = r.next_tags;
    rows.push_back(row);
  }
  return rows;
}

void Daemon::Serve(int fd) {
  Result<std::string> request = ReadRequest(fd, 2);
  std::string answer;
  if (!request.ok()) {
    answer = nlohmann::json{{"error", request.status().message()}}.dump();
  } else if (*request == "list") {
    answer = JobRowsToJson(Rows(clock_.Now()));
  } else if (request->rfind("run ", 0) == 0) {
    const std::string name = request->substr(4);
    auto it = jobs_.find(name);
    if (it == jobs_.end()) {
      answer = nlohmann::json{{"error", "no job '" + name + "' in the daemon's config"}}.dump();
    } else if (stopping_) {
      answer = nlohmann::json{{"error", "the daemon is stopping"}}.dump();
    } else if (it->second.running || it->second.queued) {
      answer = nlohmann::json{{"ok", name + " is already running or queued"}}.dump();
    } else {
      it->second.queued = it->second.manual = true;
      queue_.push_back(name);
      answer = nlohmann::json{{"ok", name + " queued"}}.dump();
    }
  } else {
    answer = nlohmann::json{{"error", "unknown request; send 'list' or 'run JOB'"}}.dump();
  }
  WriteAnswer(fd, answer);
}

void Daemon::Stop(double now) {
  if (!stopping_) {
    log_ << "zsend daemon: stopping: no new runs; " << Running_(jobs_) << " running\n"
         << std::flush;
    stopping_ = true;
    stop_deadline_ = now + options_.stop_grace_seconds;
    for (const std::string& name : queue_) jobs_[name].queued = false;
    queue_.clear();
  }
  for (auto& [name, state] : jobs_) {
    if (!state.running) continue;
    // A backup stops its own children in order; a hook's whole group is signalled.
    if (state.running->phase == Phase::kBackup) {
      kill(state.running->pid, SIGTERM);
    } else {
      kill(-state.running->pid, SIGTERM);
    }
  }
}

int Daemon::Run() {
  Result<DaemonConfig> config = LoadDaemonConfig(options_.config_path);
  if (!config.ok()) {
    log_ << "zsend daemon: " << config.status().message() << "\n";
    return kExitFatal;
  }
  if (options_.state_dir.empty()) {
    options_.state_dir = config->state_dir.empty() ? kDefaultStateDir : config->state_dir;
  }
  auto history = History::Open(options_.state_dir);  // creates the state directory
  if (history.ok()) config = LoadAndKeepDaemonConfig(options_.config_path, KeptConfig());
  if (!config.ok()) {
    log_ << "zsend daemon: " << config.status().message() << "\n";
    return kExitFatal;
  }
  if (!history.ok()) {
    log_ << "zsend daemon: " << history.status().message() << "\n";
    return kExitFatal;
  }
  history_ = std::move(*history);
  const int signals = InstallDaemonSignals();
  Result<int> listener = ListenDaemonSocket(options_.state_dir);
  if (signals < 0 || !listener.ok()) {
    log_ << "zsend daemon: "
         << (listener.ok() ? "cannot install signal handlers" : listener.status().message())
         << "\n";
    return kExitFatal;
  }
  Apply(*config);
  log_ << "zsend daemon: " << jobs_.size() << " job(s), worker-limit " << config_.worker_limit
       << ", state in " << options_.state_dir << "\n"
       << std::flush;
  while (!stopping_ || Running_(jobs_) > 0) {
    double now = clock_.Now();
    Tick(now);
    double wait = 1.0;
    for (const auto& [name, state] : jobs_) {
      if (state.running && state.running->deadline > 0) {
        wait = std::min(wait, state.running->deadline - now);
      } else if (!state.running && !state.queued) {
        wait = std::min(wait, state.record.next_due - now);
      }
    }
    pollfd fds[2] = {{signals, POLLIN, 0}, {*listener, POLLIN, 0}};
    poll(fds, 2, static_cast<int>(std::clamp(wait, 0.01, 1.0) * 1000));
    now = clock_.Now();
    unsigned char signo = 0;
    while (read(signals, &signo, 1) == 1) {
      if (signo == SIGTERM || signo == SIGINT) Stop(now);
      if (signo == SIGHUP) {
        Result<DaemonConfig> reloaded = LoadAndKeepDaemonConfig(options_.config_path, KeptConfig());
        if (reloaded.ok()) {
          Apply(*reloaded);
          log_ << "zsend daemon: config reloaded: " << jobs_.size() << " job(s)\n" << std::flush;
        } else {
          log_ << "zsend daemon: SIGHUP: " << reloaded.status().message()
               << "; keeping the config in force\n"
               << std::flush;
        }
      }
    }
    for (auto [pid, status] = ReapChild(); pid != 0; std::tie(pid, status) = ReapChild()) {
      for (auto& [name, state] : jobs_) {
        if (state.running && state.running->pid == pid) ChildEnded(state, status, now);
      }
    }
    for (auto& [name, state] : jobs_) {  // hooks past their timeout
      if (state.running && state.running->deadline > 0 && now >= state.running->deadline) {
        kill(-state.running->pid, SIGKILL);
      }
    }
    if (stopping_ && now >= stop_deadline_) {
      for (auto& [name, state] : jobs_) {
        if (state.running) kill(-state.running->pid, SIGKILL);
      }
    }
    if (fds[1].revents & POLLIN) {
      const int client = accept4(*listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (client >= 0) {
        Serve(client);
        close(client);
      }
    }
  }
  close(*listener);
  unlink(DaemonSocketPath(options_.state_dir).c_str());
  log_ << "zsend daemon: stopped\n" << std::flush;
  return 0;
}

}  // namespace

double SystemClock::Now() const {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

int RunDaemon(const DaemonOptions& options, const Clock& clock, std::ostream& log) {
  DaemonOptions absolute = options;
  std::error_code error;
  auto path = std::filesystem::absolute(options.config_path, error);
  if (!error) absolute.config_path = path.string();
  return Daemon(absolute, clock, log).Run();
}

}  // namespace zsend::orchestrator
