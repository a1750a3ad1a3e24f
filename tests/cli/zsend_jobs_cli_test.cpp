// `zsend jobs` against a real `zsend daemon` process (schedules of a day, so no job runs during
// the test): the table checked against a golden file (times normalised), --json, REGEX, --run of
// an unknown job; and `zsend check --max-age auto` made to return 0, 1, 2 and 3 from the
// schedule the daemon recorded.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "orchestrator/report/history.h"
#include "tests/support/subprocess.h"
#include "tests/support/zsend_cli.h"

namespace zsend::test {
namespace {

using orchestrator::History;

class ZsendJobsCli : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/zsend-jobs-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    std::ofstream(dir_ + "/zsend.json") << R"({
      "schedules": {"default": {"daily": {"interval": "1d", "keep": 7},
                                "weekly": {"interval": "1w", "keep": 4}}},
      "jobs": {"nightly": {"target": "backup/host1", "ssh-target": "root@nas"},
               "snaps": {"dataset": ["tank/db"]}}
    })";
  }
  void TearDown() override {
    if (daemon_ > 0) {
      kill(daemon_, SIGKILL);
      Wait(daemon_);
    }
    std::filesystem::remove_all(dir_);
  }
  RunResult Zsend(std::vector<std::string> args) {
    args.insert(args.begin(), BinPath("zsend"));
    args.insert(args.end(), {"--state-dir", dir_});
    return test::Run(args);
  }
  // Starts the daemon and waits (up to 20 s) until its socket answers.
  void StartDaemon() {
    daemon_ =
        Spawn({BinPath("zsend"), "daemon", "--config", dir_ + "/zsend.json", "--state-dir", dir_});
    for (int i = 0; i < 100 && Zsend({"jobs"}).exit_code != 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  int StopDaemon() {
    kill(daemon_, SIGTERM);
    RunResult r = Wait(daemon_);
    daemon_ = -1;
    return r.exit_code;
  }
  // A good transfer of `backup` that ended `ago` seconds ago.
  void RecordSuccess(const std::string& backup, double ago) {
    auto h = History::Open(dir_);
    ASSERT_TRUE(h.ok());
    orchestrator::TransferRecord t;
    t.backup_name = backup;
    t.source_dataset = "tank/a";
    t.target_dataset = "backup/host1/tank/a";
    t.to_snapshot = "tank/a@" + backup + "-1";
    t.kind = "full";
    t.ended =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count() -
        ago;
    t.started = t.ended - 5;
    t.result = "ok";
    ASSERT_TRUE((*h)->AddTransfer(t).ok());
  }

  std::string dir_;
  pid_t daemon_ = -1;
};

TEST_F(ZsendJobsCli, TableJsonRegexAndRunMatchTheGoldenFile) {
  RunResult none = Zsend({"jobs"});
  EXPECT_EQ(none.exit_code, 255);
  EXPECT_NE(none.err.find("no zsend daemon answers"), std::string::npos) << none.err;
  StartDaemon();
  RunResult table = Zsend({"jobs"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_EQ(CompareGolden("jobs_table.txt", NormaliseTimes(table.out)), "");
  RunResult only = Zsend({"jobs", "^sn"});
  EXPECT_EQ(only.out.find("nightly"), std::string::npos) << only.out;
  EXPECT_NE(only.out.find("snaps"), std::string::npos) << only.out;
  RunResult json = Zsend({"jobs", "--json"});
  nlohmann::json parsed = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_FALSE(parsed.is_discarded()) << json.out;
  ASSERT_EQ(parsed["jobs"].size(), 2u);
  EXPECT_EQ(parsed["jobs"][0]["job"], "nightly");
  EXPECT_EQ(parsed["jobs"][0]["status"], "waiting");
  RunResult unknown = Zsend({"jobs", "--run", "monthly"});
  EXPECT_EQ(unknown.exit_code, 255);
  EXPECT_NE(unknown.err.find("no job 'monthly'"), std::string::npos) << unknown.err;
  RunResult bad = Zsend({"jobs", "("});
  EXPECT_EQ(bad.exit_code, 255);
  EXPECT_EQ(StopDaemon(), 0);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/daemon.sock"));
}

TEST_F(ZsendJobsCli, CheckMaxAgeAutoUsesTheShortestInterval) {
  // The daemon's state as it records it (here the "daily" job of the config, 1d): the check
  // reads the shortest interval from there.
  StartDaemon();
  ASSERT_EQ(StopDaemon(), 0);
  RecordSuccess("nightly", 3600);
  RunResult ok = Zsend({"check", "nightly", "--max-age", "auto"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  // Other jobs with a 100 s shortest interval: WARNING past 150 s, CRITICAL past 300 s.
  auto h = History::Open(dir_);
  ASSERT_TRUE(h.ok());
  for (const char* job : {"warn", "crit"}) {
    orchestrator::DaemonJobRecord record;
    record.job = job;
    record.shortest_interval = 100;
    ASSERT_TRUE((*h)->SaveDaemonJob(record).ok());
  }
  RecordSuccess("warn", 200);
  RecordSuccess("crit", 400);
  RunResult warning = Zsend({"check", "warn", "--max-age", "auto"});
  EXPECT_EQ(warning.exit_code, 1) << warning.out;
  RunResult critical = Zsend({"check", "crit", "--max-age", "auto"});
  EXPECT_EQ(critical.exit_code, 2) << critical.out;
  RecordSuccess("other", 10);
  RunResult unknown = Zsend({"check", "other", "--max-age", "auto"});
  EXPECT_EQ(unknown.exit_code, 3) << unknown.out;
  EXPECT_NE(unknown.out.find("no schedule for 'other'"), std::string::npos) << unknown.out;
}

}  // namespace
}  // namespace zsend::test
