// One job's run in the daemon: the pre-snapshot hook, the `zsend backup` child, the post-run
// hook, each a child process watched by the loop (daemon_state.h).
#include <signal.h>
#include <sys/wait.h>

#include "orchestrator/daemon/child_process.h"
#include "orchestrator/daemon/daemon_state.h"
#include "orchestrator/run/exit_codes.h"

namespace zsend::orchestrator::daemon_detail {
namespace {

std::string Describe(int wait_status) {
  if (WIFEXITED(wait_status)) return "exit " + std::to_string(WEXITSTATUS(wait_status));
  return "killed by signal " + std::to_string(WTERMSIG(wait_status));
}

}  // namespace

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

}  // namespace zsend::orchestrator::daemon_detail
