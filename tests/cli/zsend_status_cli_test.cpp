// `zsend status`, `history`, `check` and the metrics file, run as the real program over a
// history written by the test: golden files (times normalised), every exit code of check, and
// the metrics parsed by prometheus_client's own text-format parser.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "orchestrator/report/history.h"
#include "tests/support/subprocess.h"
#include "tests/support/zsend_cli.h"

namespace zsend::test {
namespace {

using orchestrator::History;
using orchestrator::RunRecord;
using orchestrator::TransferRecord;

// Check output with the perfdata ages (which move by the second) replaced by <N>.
std::string NormaliseCheck(const std::string& text) {
  std::string out;
  const std::string key = "age'=";
  for (size_t i = 0; i < text.size();) {
    if (text.compare(i, key.size(), key) == 0) {
      out += key + "<N>";
      i += key.size();
      while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
      continue;
    }
    out += text[i++];
  }
  return out;
}

double NowSeconds() {
  return static_cast<double>(time(nullptr));
}

class ZsendStatusCli : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/zsend-status-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A run of `backup` ending `ago` seconds before now with one transfer per dataset.
  void Record(const std::string& backup, double ago,
              const std::vector<std::pair<std::string, std::string>>& dataset_results) {
    Result<std::unique_ptr<History>> h = History::Open(dir_);
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    const double end = NowSeconds() - ago;
    RunRecord run;
    run.backup_name = backup;
    run.host = "backup1";
    run.source_host = "local";
    run.target_host = "root@nas";
    run.started = end - 60;
    Result<int64_t> id = (*h)->BeginRun(run);
    ASSERT_TRUE(id.ok());
    int failed = 0;
    for (const auto& [dataset, result] : dataset_results) {
      TransferRecord t;
      t.run_id = *id;
      t.backup_name = backup;
      t.source_host = "local";
      t.target_host = "root@nas";
      t.source_dataset = dataset;
      t.target_dataset = "backup/" + dataset;
      t.from_snapshot = dataset + "@" + backup + "-20240101000000";
      t.to_snapshot = dataset + "@" + backup + "-20240102000000";
      t.kind = "incremental";
      t.started = end - 50;
      t.ended = end;
      t.wire_bytes = 3 * 1024 * 1024;
      t.stream_bytes = 8 * 1024 * 1024;
      t.seconds = 4;
      t.transport = "tcp";
      t.result = result;
      t.source_snapshots = 12;
      t.target_snapshots = 30;
      t.oldest_snapshot = backup + "-20231201000000";
      t.newest_snapshot = backup + "-20240102000000";
      if (result == "failed") {
        t.error = "cannot receive incremental stream: destination has been modified\nsecond line";
        ++failed;
      }
      ASSERT_TRUE((*h)->AddTransfer(t).ok());
    }
    ASSERT_TRUE((*h)->EndRun(*id, end, failed ? "failed" : "ok",
                             static_cast<int>(dataset_results.size()) - failed, failed, "")
                    .ok());
  }

  RunResult Zsend(std::vector<std::string> args) {
    args.insert(args.begin(), BinPath("zsend"));
    args.push_back("--state-dir");
    args.push_back(dir_);
    return test::Run(args);
  }

  std::string dir_;
};

TEST_F(ZsendStatusCli, StatusTableAndJsonMatchTheGoldenFiles) {
  // Ages well inside a minute's display step, so a slow machine prints the same.
  Record("nightly", 3 * 3600 + 30, {{"tank/a", "ok"}, {"tank/b", "ok"}});
  Record("nightly", 2 * 3600 + 30, {{"tank/a", "ok"}, {"tank/b", "failed"}});
  Record("weekly", 2 * 86400 + 20, {{"tank/c", "ok"}});
  RunResult table = Zsend({"status"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  std::string diff = CompareGolden("status_table.txt", NormaliseTimes(table.out));
  EXPECT_EQ(diff, "");
  RunResult json = Zsend({"status", "nightly", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_EQ(CompareGolden("status_nightly.json", NormaliseTimes(json.out)), "");
  RunResult runs = Zsend({"history", "nightly"});
  ASSERT_EQ(runs.exit_code, 0) << runs.err;
  EXPECT_EQ(CompareGolden("history_nightly.txt", NormaliseTimes(runs.out)), "");
}

TEST_F(ZsendStatusCli, StatusWithoutHistorySaysWhereItLooked) {
  RunResult r = Zsend({"status"});
  EXPECT_EQ(r.exit_code, 255);
  EXPECT_NE(r.err.find("no history at " + dir_ + "/history.sqlite"), std::string::npos) << r.err;
}

TEST_F(ZsendStatusCli, CheckOkWhenEveryDatasetIsRecentAndGood) {
  Record("nightly", 3600, {{"tank/a", "ok"}, {"tank/b", "ok"}});
  RunResult r = Zsend({"check", "nightly", "--max-age", "26h"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(CompareGolden("check_ok.txt", NormaliseCheck(r.out)), "");
}

TEST_F(ZsendStatusCli, CheckWarningPastTheWarnAge) {
  Record("nightly", 3 * 3600 + 30, {{"tank/a", "ok"}});
  RunResult r = Zsend({"check", "nightly", "--max-age", "1d", "--warn-age", "2h"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_EQ(CompareGolden("check_warning.txt", NormaliseCheck(r.out)), "");
}

TEST_F(ZsendStatusCli, CheckCriticalWhenTheLastRunFailedOrIsTooOld) {
  Record("nightly", 2 * 86400 + 30, {{"tank/a", "ok"}, {"tank/b", "ok"}});
  Record("nightly", 60, {{"tank/b", "failed"}});
  RunResult r = Zsend({"check", "nightly", "--max-age", "26h"});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_EQ(CompareGolden("check_critical.txt", NormaliseCheck(r.out)), "");
}

TEST_F(ZsendStatusCli, CheckUnknownForAnUnknownJobMissingHistoryAndBadArguments) {
  RunResult missing = Zsend({"check", "nightly", "--max-age", "26h"});
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_EQ(missing.out.rfind("ZSEND UNKNOWN - no history at", 0), 0u) << missing.out;
  Record("nightly", 60, {{"tank/a", "ok"}});
  RunResult unknown = Zsend({"check", "monthly", "--max-age", "26h"});
  EXPECT_EQ(unknown.exit_code, 3);
  EXPECT_EQ(unknown.out.rfind("ZSEND UNKNOWN - no transfers recorded for backup 'monthly'", 0), 0u)
      << unknown.out;
  RunResult bad_age = Zsend({"check", "nightly", "--max-age", "soon"});
  EXPECT_EQ(bad_age.exit_code, 3);
  EXPECT_NE(bad_age.out.find("--max-age"), std::string::npos);
  RunResult no_age = Zsend({"check", "nightly"});
  EXPECT_EQ(no_age.exit_code, 3) << no_age.out << no_age.err;
  EXPECT_EQ(no_age.out.rfind("ZSEND UNKNOWN - ", 0), 0u) << no_age.out;
}

TEST_F(ZsendStatusCli, MetricsFileParsesWithPrometheusClientAndCarriesTheFailures) {
  ZSEND_REQUIRE(PythonHas("prometheus_client"), "python3-prometheus-client");
  Record("nightly", 600, {{"tank/a", "ok"}, {"tank/b", "ok"}});
  Record("nightly", 60, {{"tank/b", "failed"}});
  const std::string file = dir_ + "/zsend.prom";
  RunResult r = Zsend({"check", "nightly", "--max-age", "1h", "--metrics-file", file});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  ASSERT_TRUE(std::filesystem::exists(file));
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    EXPECT_EQ(entry.path().string().find(".tmp."), std::string::npos) << entry.path();
  }
  RunResult parsed = test::Run({SystemPython(), SupportPath("metrics_dump.py"), file});
  ASSERT_EQ(parsed.exit_code, 0) << parsed.err;
  const std::string a = "backup=nightly,dataset=tank/a,target=backup/tank/a";
  const std::string b = "backup=nightly,dataset=tank/b,target=backup/tank/b";
  EXPECT_NE(parsed.out.find("zsend_last_result_ok{" + a + "} 1.0 gauge"), std::string::npos)
      << parsed.out;
  EXPECT_NE(parsed.out.find("zsend_last_result_ok{" + b + "} 0.0 gauge"), std::string::npos);
  EXPECT_NE(parsed.out.find("zsend_transfer_failures_total{" + b + "} 1.0 counter"),
            std::string::npos);
  EXPECT_NE(parsed.out.find("zsend_last_transfer_stream_bytes{" + a + "} 8388608.0 gauge"),
            std::string::npos);
  // The last success of tank/b is the first run's end, about ten minutes ago.
  std::istringstream lines(parsed.out);
  bool found = false;
  for (std::string line; std::getline(lines, line);) {
    const std::string prefix = "zsend_last_success_timestamp_seconds{" + b + "} ";
    if (line.rfind(prefix, 0) != 0) continue;
    double value = std::stod(line.substr(prefix.size()));
    EXPECT_NEAR(value, NowSeconds() - 600, 120);
    found = true;
  }
  EXPECT_TRUE(found) << parsed.out;
}

}  // namespace
}  // namespace zsend::test
