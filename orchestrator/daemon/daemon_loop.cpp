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
#include "orchestrator/daemon/daemon_state.h"
#include "orchestrator/daemon/job_table.h"
#include "orchestrator/daemon/schedule.h"
#include "orchestrator/report/history.h"
#include "orchestrator/run/exit_codes.h"

namespace zsend::orchestrator {
namespace daemon_detail {

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
  while (!queue_.empty() && RunningCount(jobs_) < config_.worker_limit) {
    const std::string name = queue_.front();
    queue_.pop_front();
    auto it = jobs_.find(name);
    if (it == jobs_.end()) continue;
    it->second.queued = false;
    Start(it->second, now);
  }
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
    log_ << "zsend daemon: stopping: no new runs; " << RunningCount(jobs_) << " running\n"
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
  while (!stopping_ || RunningCount(jobs_) > 0) {
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

}  // namespace daemon_detail

double SystemClock::Now() const {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

int RunDaemon(const DaemonOptions& options, const Clock& clock, std::ostream& log) {
  DaemonOptions absolute = options;
  std::error_code error;
  auto path = std::filesystem::absolute(options.config_path, error);
  if (!error) absolute.config_path = path.string();
  return daemon_detail::Daemon(absolute, clock, log).Run();
}

}  // namespace zsend::orchestrator
