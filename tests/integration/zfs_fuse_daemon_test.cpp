// `zsend daemon` as a real process on zfs-fuse pools, with schedules in seconds (often: 2s,
// slower: 6s). The machine running the tests may be loaded, so every wait below has a generous
// bound (stated where it is) and no assertion depends on a run starting at an exact time:
// schedules, worker-limit 1, the table, run-now, SIGHUP with a broken config, hooks that fail
// or time out, snapshot-only jobs, catch-up after a kill, SIGTERM during a transfer.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "orchestrator/report/history.h"
#include "tests/support/backup_fixture.h"

namespace zsend::test {
namespace {

using nlohmann::json;

class ZfsFuseDaemon : public BackupFixture {
 protected:
  void TearDown() override {
    if (daemon_ > 0) {
      kill(daemon_, SIGKILL);
      Wait(daemon_);
    }
    BackupFixture::TearDown();
  }
  std::string ConfigPath() { return state_dir_ + "/zsend.json"; }
  std::string LogPath() { return state_dir_ + "/daemon.log"; }
  void WriteConfig(const json& config) { std::ofstream(ConfigPath()) << config.dump(2); }
  json Fast() {
    return {{"often", {{"interval", "2s"}, {"keep", 3}}},
            {"slower", {{"interval", "6s"}, {"keep", 2}}}};
  }
  json Job(const std::string& dataset, bool with_target = true) {
    json job = {{"dataset", {dataset}},
                {"schedule", "fast"},
                {"allow-empty", true},
                {"keep-source", "3"},
                {"keep-target", "3"}};
    if (with_target) {
      job["target"] = dst_;
      job["transport"] = "pipe";
    }
    return job;
  }
  void StartDaemon() {
    const int log = open(LogPath().c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    ASSERT_GE(log, 0);
    SpawnOptions options;
    options.stderr_fd = log;
    daemon_ = Spawn({BinPath("zsend"), "daemon", "--config", ConfigPath(), "--state-dir",
                     state_dir_, "--stop-grace", "30"},
                    options);
    close(log);
  }
  // Stops the daemon with `signo` and returns its exit code; fails past `seconds`.
  int StopDaemon(int signo, double seconds) {
    kill(daemon_, signo);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    int status = 0;
    while (waitpid(daemon_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << "the daemon did not exit within " << seconds << " s";
        kill(daemon_, SIGKILL);
        waitpid(daemon_, &status, 0);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    daemon_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  // Polls `done` every 200 ms for up to `seconds`.
  bool WaitUntil(double seconds, const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return done();
  }
  std::vector<orchestrator::RunRecord> Runs(const std::string& job) {
    auto history = orchestrator::History::Open(state_dir_);
    if (!history.ok()) return {};
    auto runs = (*history)->Runs(job, 0, 0);
    return runs.ok() ? *runs : std::vector<orchestrator::RunRecord>{};
  }
  int OkRuns(const std::string& job) {
    auto runs = Runs(job);
    return static_cast<int>(
        std::count_if(runs.begin(), runs.end(), [](const auto& r) { return r.result == "ok"; }));
  }
  json Table() {
    RunResult r = test::Run({BinPath("zsend"), "jobs", "--json", "--state-dir", state_dir_});
    json parsed = json::parse(r.out, nullptr, false);
    return parsed.is_discarded() ? json::object() : parsed;
  }
  json Row(const std::string& job) {
    json table = Table();
    for (const json& row : table.value("jobs", json::array())) {
      if (row.value("job", "") == job) return row;
    }
    return json::object();
  }
  std::string Log() {
    std::ifstream in(LogPath());
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  pid_t daemon_ = -1;
};

TEST_F(ZfsFuseDaemon, SchedulesWorkerLimitTableRunNowHooksAndSighup) {
  Sh("zfs create " + src_ + "/a && zfs create " + src_ + "/b && zfs create " + src_ + "/s");
  WriteData(src_ + "/a", "a.bin", 20000, 1);
  WriteData(src_ + "/b", "b.bin", 20000, 2);
  const std::string a = job_ + "a", b = job_ + "b", snaps = job_ + "s", bad = job_ + "x",
                    slow = job_ + "y";
  json failing = Job(src_ + "/s", false);
  failing["pre-snapshot"] = "echo frozen >&2; exit 3";
  json stuck = Job(src_ + "/s", false);
  stuck["pre-snapshot"] = "sleep 20";
  stuck["hook-timeout"] = 1;
  json config = {{"daemon", {{"worker-limit", 1}}},
                 {"schedules", {{"fast", Fast()}}},
                 {"jobs",
                  {{a, Job(src_ + "/a")},
                   {b, Job(src_ + "/b")},
                   {snaps, Job(src_ + "/s", false)},
                   {bad, failing},
                   {slow, stuck}}}};
  WriteConfig(config);
  StartDaemon();
  // a and b run twice, the snapshot-only job once (2s slots, in turn); generous bound.
  ASSERT_TRUE(WaitUntil(50, [&] { return OkRuns(a) >= 2 && OkRuns(b) >= 2 && OkRuns(snaps) >= 1; }))
      << Log();
  // Worker limit 1: no two runs overlap (history rows' start and end).
  std::vector<orchestrator::RunRecord> all = Runs(a), runs_b = Runs(b), runs_s = Runs(snaps);
  all.insert(all.end(), runs_b.begin(), runs_b.end());
  all.insert(all.end(), runs_s.begin(), runs_s.end());
  std::sort(all.begin(), all.end(), [](auto& x, auto& y) { return x.started < y.started; });
  for (size_t i = 1; i < all.size(); ++i) {
    if (all[i - 1].ended == 0) continue;  // still running: the last one
    EXPECT_GE(all[i].started, all[i - 1].ended)
        << all[i - 1].backup_name << " and " << all[i].backup_name << " overlap";
  }
  EXPECT_EQ(Compare(src_ + "/a", dst_ + "/" + src_ + "/a"), "");
  // The snapshot-only job snapshots its dataset and sends nothing.
  EXPECT_FALSE(SnapshotNames(src_ + "/s").empty());
  EXPECT_EQ(Out("zfs list -H -o name " + dst_ + "/" + src_ + "/s 2>/dev/null"), "");
  // The table: every job, tags of the last run, the hooks' reasons.
  json row_a = Row(a);
  // SLA: OK or TOO OLD (1.5x 2s is easily passed on a loaded machine with three jobs in turn).
  EXPECT_TRUE(row_a.value("sla", "") == "OK" || row_a.value("sla", "") == "TOO OLD")
      << row_a.dump();
  EXPECT_NE(row_a.value("last_tags", "").find("often"), std::string::npos) << row_a.dump();
  EXPECT_GT(row_a.value("next_backup", 0.0), 0.0);
  ASSERT_TRUE(WaitUntil(30, [&] {
    // "skipped: ..." or, waiting for the worker, "queued (last: skipped: ...)".
    return Row(bad).value("status", "").find("skipped: pre-snapshot hook failed (exit 3)") !=
               std::string::npos &&
           Row(slow).value("status", "").find("skipped: pre-snapshot hook timed out after 1s") !=
               std::string::npos;
  })) << Table().dump(2);
  {  // the reasons in the daemon's state in the history database too
    auto history = orchestrator::History::Open(state_dir_);
    ASSERT_TRUE(history.ok());
    auto rows = (*history)->DaemonJobs();
    ASSERT_TRUE(rows.ok());
    for (const auto& row : *rows) {
      if (row.job == bad || row.job == slow) {
        EXPECT_EQ(row.last_result, "skipped") << row.job;
        EXPECT_NE(row.last_error.find("pre-snapshot hook"), std::string::npos) << row.last_error;
      }
    }
  }
  EXPECT_EQ(OkRuns(bad) + OkRuns(slow), 0);  // never snapshotted, never a backup run
  RunResult table =
      test::Run({BinPath("zsend"), "jobs", job_ + "[ab]$", "--state-dir", state_dir_});
  EXPECT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("Last Tags"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find(a), std::string::npos) << table.out;
  EXPECT_EQ(table.out.find(snaps), std::string::npos) << table.out;
  // --run queues a job now; an unknown job is refused.
  RunResult now = test::Run({BinPath("zsend"), "jobs", "--run", a, "--state-dir", state_dir_});
  EXPECT_EQ(now.exit_code, 0) << now.err;
  RunResult unknown =
      test::Run({BinPath("zsend"), "jobs", "--run", "nope", "--state-dir", state_dir_});
  EXPECT_EQ(unknown.exit_code, 255);
  EXPECT_NE(unknown.err.find("no job 'nope'"), std::string::npos) << unknown.err;
  // SIGHUP with a broken file: logged, the old config stays in force (runs go on).
  std::ofstream(ConfigPath()) << "{\"jobs\": ";
  kill(daemon_, SIGHUP);
  ASSERT_TRUE(WaitUntil(10, [&] {
    return Log().find("keeping the config in force") != std::string::npos;
  })) << Log();
  EXPECT_NE(Log().find("not valid JSON"), std::string::npos) << Log();
  // Two more good runs: the second started after the broken edit (one run at a time).
  const int before = OkRuns(a);
  ASSERT_TRUE(WaitUntil(40, [&] { return OkRuns(a) >= before + 2; })) << Log();
  EXPECT_EQ(StopDaemon(SIGTERM, 40), 0) << Log();
}

TEST_F(ZfsFuseDaemon, CatchUpOnceAfterAKillAndSigtermDuringATransfer) {
  Sh("zfs create " + src_ + "/a");
  WriteData(src_ + "/a", "a.bin", 20000, 3);
  const std::string a = job_ + "a";
  WriteConfig({{"schedules", {{"fast", Fast()}}}, {"jobs", {{a, Job(src_ + "/a")}}}});
  StartDaemon();
  ASSERT_TRUE(WaitUntil(30, [&] { return OkRuns(a) >= 1; })) << Log();
  kill(daemon_, SIGKILL);
  Wait(daemon_);
  daemon_ = -1;
  // A backup child of the killed daemon finishes on its own (its own process group).
  ASSERT_TRUE(WaitUntil(30, [&] { return Runs(a).front().result != "running"; }));
  const size_t restart_at = Log().size();
  const size_t runs_before = Runs(a).size();
  std::this_thread::sleep_for(std::chrono::seconds(7));  // past a 6s slot and three 2s slots
  StartDaemon();
  const std::string started = a + ": started (tags ";
  ASSERT_TRUE(WaitUntil(30, [&] {
    return Runs(a).size() > runs_before &&
           Log().substr(restart_at).find(started) != std::string::npos;
  })) << Log();
  std::string after = Log().substr(restart_at);
  const size_t first = after.find(started);
  ASSERT_NE(first, std::string::npos) << after;
  // One catch-up run carrying both tags, not one run per missed slot.
  EXPECT_EQ(after.substr(first + started.size(), 13), "often,slower)") << after;
  // (That it is once, not once per missed slot, is Schedule.CatchUpRunsOnceWithEveryTagThatFellDue:
  // later runs here may carry both tags again when a run outlasts a 6s slot on a loaded host.)
  ASSERT_EQ(StopDaemon(SIGTERM, 40), 0) << Log();

  // SIGTERM during a slow transfer: the run is recorded interrupted, the daemon exits 0.
  WriteData(src_ + "/a", "big.bin", 3000000, 4);
  json slow = Job(src_ + "/a");
  slow["rate-limit"] = "200k";
  WriteConfig({{"schedules", {{"fast", Fast()}}}, {"jobs", {{a, slow}}}});
  const size_t runs_now = Runs(a).size();
  StartDaemon();
  ASSERT_TRUE(WaitUntil(30, [&] {
    auto runs = Runs(a);
    return runs.size() > runs_now && runs.front().result == "running";
  })) << Log();
  std::this_thread::sleep_for(std::chrono::seconds(2));  // into the transfer
  EXPECT_EQ(StopDaemon(SIGTERM, 40), 0) << Log();
  EXPECT_EQ(Runs(a).front().result, "interrupted") << Log();
  // The next start completes the backup.
  WriteConfig({{"schedules", {{"fast", Fast()}}}, {"jobs", {{a, Job(src_ + "/a")}}}});
  const int ok_before = OkRuns(a);
  StartDaemon();
  ASSERT_TRUE(WaitUntil(40, [&] { return OkRuns(a) > ok_before; })) << Log();
  EXPECT_EQ(StopDaemon(SIGTERM, 40), 0) << Log();
  EXPECT_EQ(Compare(src_ + "/a", dst_ + "/" + src_ + "/a"), "");
}

// The schedule's tags on the snapshots, rotation by tag after several runs (often keeps 3,
// slower keeps 2, on both sides), and the in-run hooks read from the same job.
TEST_F(ZfsFuseDaemon, RunsTagTheirSnapshotsAndRotationKeepsWhatTheTagsKeep) {
  Sh("zfs create " + src_ + "/a");
  WriteData(src_ + "/a", "a.bin", 20000, 5);
  const std::string a = job_ + "a", hooks = state_dir_ + "/hooks";
  json job = Job(src_ + "/a");
  job["post-snapshot"] = "echo \"$ZSEND_HOOK $ZSEND_TAGS\" >> " + hooks;
  job["pre-send"] = "echo \"$ZSEND_HOOK $ZSEND_SNAPSHOT\" >> " + hooks;
  WriteConfig({{"schedules", {{"fast", Fast()}}}, {"jobs", {{a, job}}}});
  StartDaemon();
  // Seven good runs span at least two 6s slots: some carry both tags. Generous bound.
  ASSERT_TRUE(WaitUntil(60, [&] { return OkRuns(a) >= 7; })) << Log();
  ASSERT_EQ(StopDaemon(SIGTERM, 40), 0) << Log();
  // On time, with the tolerance stated here. Never early: one run per 2s slot at most, so N
  // runs span at least N-1 slots, less one interval for a first run that started late. Never
  // lost: a job alone waits at most for the slot after its previous run ended, so no gap
  // between starts is over 12 s even on a loaded machine.
  std::vector<double> starts;
  for (const auto& run : Runs(a)) starts.push_back(run.started);
  std::sort(starts.begin(), starts.end());
  ASSERT_GE(starts.size(), 7u);
  EXPECT_GE(starts.back() - starts.front() + 2.0 + 0.2, 2.0 * (starts.size() - 1));
  for (size_t i = 1; i < starts.size(); ++i) {
    EXPECT_LE(starts[i] - starts[i - 1], 12.0) << "runs " << i - 1 << " and " << i;
  }
  for (const std::string& dataset : {src_ + "/a", dst_ + "/" + src_ + "/a"}) {
    // Newest first: short name and tags.
    std::vector<std::pair<std::string, std::string>> snapshots;
    for (const std::string& name : SnapshotNames(dataset)) {
      std::string tags = Out("zfs get -H -o value zsend:tags " + dataset + "@" + name);
      snapshots.insert(snapshots.begin(), {name, tags.substr(0, tags.find('\n'))});
    }
    ASSERT_FALSE(snapshots.empty()) << dataset;
    EXPECT_LT(snapshots.size(), 7u) << dataset << ": rotation destroyed nothing";
    int often = 0, slower = 0;
    for (size_t i = 0; i < snapshots.size(); ++i) {
      const std::string& tags = snapshots[i].second;
      const bool is_often = tags.find("often") != std::string::npos;
      const bool is_slower = tags.find("slower") != std::string::npos;
      EXPECT_TRUE(is_often || is_slower) << dataset << "@" << snapshots[i].first << ": " << tags;
      // Each snapshot left is among the newest 3 "often" or the newest 2 "slower" (the newest
      // of all may also stay as the common one).
      EXPECT_TRUE(i == 0 || (is_often && often < 3) || (is_slower && slower < 2))
          << dataset << "@" << snapshots[i].first << " (" << tags << ") should be gone";
      often += is_often;
      slower += is_slower;
    }
    EXPECT_GE(often, 3) << dataset;  // the newest three often-runs are all there
  }
  const std::string hook_lines = Out("cat " + hooks);
  EXPECT_NE(hook_lines.find("post-snapshot often"), std::string::npos) << hook_lines;
  EXPECT_NE(hook_lines.find("pre-send " + a + "-"), std::string::npos) << hook_lines;
}

}  // namespace
}  // namespace zsend::test
