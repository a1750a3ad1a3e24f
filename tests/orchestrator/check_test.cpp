// check: Nagios levels from dataset states and pool reports; zpool output parsing; metrics.
#include "orchestrator/report/check.h"

#include <gtest/gtest.h>

#include "orchestrator/report/metrics.h"

namespace zsend::orchestrator {
namespace {

constexpr double kNow = 1704369600;

DatasetStatus Ok(const std::string& dataset, double age) {
  DatasetStatus s;
  s.backup_name = "job";
  s.source_dataset = dataset;
  s.last_success = kNow - age;
  s.last_attempt = kNow - age;
  s.last_result = "ok";
  s.last_success_snapshot = "job-1";
  s.last_stream_bytes = 100;
  return s;
}

CheckOptions Options() {
  CheckOptions o;
  o.backup_name = "job";
  o.max_age_seconds = 86400;
  return o;
}

TEST(CheckLevels, OkWarningCriticalUnknownFromAges) {
  EXPECT_EQ(EvaluateCheck({Ok("a", 60)}, std::nullopt, Options(), kNow).code, NagiosCode::kOk);
  CheckOptions warn = Options();
  warn.warn_age_seconds = 3600;
  EXPECT_EQ(EvaluateCheck({Ok("a", 7200)}, std::nullopt, warn, kNow).code, NagiosCode::kWarning);
  EXPECT_EQ(EvaluateCheck({Ok("a", 90000)}, std::nullopt, warn, kNow).code, NagiosCode::kCritical);
  EXPECT_EQ(EvaluateCheck(
                {Ok("a", 60)}, std::nullopt,
                [] {
                  CheckOptions o = Options();
                  o.backup_name = "other";
                  return o;
                }(),
                kNow)
                .code,
            NagiosCode::kUnknown);
}

TEST(CheckLevels, FailedLastRunIsCriticalEvenWhenTheLastSuccessIsRecent) {
  DatasetStatus failed = Ok("b", 60);
  failed.last_result = "failed";
  failed.last_error = "cannot receive\nmore";
  CheckResult r = EvaluateCheck({Ok("a", 60), failed}, std::nullopt, Options(), kNow);
  EXPECT_EQ(r.code, NagiosCode::kCritical);
  EXPECT_EQ(r.exit_code(), 2);
  EXPECT_EQ(r.summary, "job: 2 datasets, 1 failed");
  EXPECT_NE(r.Format().find("CRITICAL b: last run failed: cannot receive\n"), std::string::npos);
  EXPECT_NE(r.Format().find("| 'a age'=60s;;86400;0; 'a bytes'=100B;;;0;"), std::string::npos)
      << r.Format();
}

TEST(CheckLevels, PoolsWarnAt75AndAreCriticalAt90OrWhenFaulted) {
  PoolReport pools;
  pools.pools = {{"tank", "ONLINE", 50, "1T"}};
  EXPECT_EQ(EvaluateCheck({Ok("a", 60)}, pools, Options(), kNow).code, NagiosCode::kOk);
  pools.pools[0].capacity_percent = 80;
  EXPECT_EQ(EvaluateCheck({Ok("a", 60)}, pools, Options(), kNow).code, NagiosCode::kWarning);
  pools.pools[0].capacity_percent = 91;
  CheckResult full = EvaluateCheck({Ok("a", 60)}, pools, Options(), kNow);
  EXPECT_EQ(full.code, NagiosCode::kCritical);
  EXPECT_NE(full.Format().find("CRITICAL pool tank: 91% full"), std::string::npos);
  EXPECT_NE(full.Format().find("'pool tank capacity'=91%;75;90;0;100"), std::string::npos);
  pools.pools[0] = {"tank", "DEGRADED", 10, "1T"};
  EXPECT_EQ(EvaluateCheck({Ok("a", 60)}, pools, Options(), kNow).code, NagiosCode::kWarning);
  pools.pools[0] = {"tank", "FAULTED", 10, "1T"};
  EXPECT_EQ(EvaluateCheck({Ok("a", 60)}, pools, Options(), kNow).code, NagiosCode::kCritical);
  pools.pools[0] = {"tank", "ONLINE", 10, "1T"};
  pools.all_healthy = false;
  pools.status_text = "pool: tank\n state: ONLINE\nstatus: One or more devices has experienced";
  EXPECT_EQ(EvaluateCheck({Ok("a", 60)}, pools, Options(), kNow).code, NagiosCode::kWarning);
}

TEST(ZpoolParsing, ListRowsAndStatusText) {
  Result<std::vector<PoolHealth>> pools =
      ParseZpoolList("tank\t59.5M\t189K\t59.3M\t0%\tONLINE\nbig\t10T\t9T\t1T\t90%\tDEGRADED\n");
  ASSERT_TRUE(pools.ok());
  ASSERT_EQ(pools->size(), 2u);
  EXPECT_EQ((*pools)[1].name, "big");
  EXPECT_DOUBLE_EQ((*pools)[1].capacity_percent, 90);
  EXPECT_EQ((*pools)[1].health, "DEGRADED");
  EXPECT_FALSE(ParseZpoolList("tank\t1\t2\n").ok());
  EXPECT_TRUE(ZpoolStatusHealthy("all pools are healthy\n"));
  EXPECT_TRUE(ZpoolStatusHealthy("pool 'tank' is healthy\n"));
  EXPECT_FALSE(ZpoolStatusHealthy("  pool: tank\n state: DEGRADED\n"));
}

TEST(MetricsText, EscapesLabelsAndNeverReportsAFailureAsFine) {
  DatasetStatus s = Ok("tank/\"odd\"\\name", 60);
  s.last_result = "failed";
  s.failures_total = 2;
  std::string text = FormatMetrics({s}, kNow);
  EXPECT_NE(text.find("zsend_last_result_ok{backup=\"job\",dataset=\"tank/\\\"odd\\\"\\\\name\","
                      "target=\"\"} 0\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE zsend_transfer_failures_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("zsend_metrics_generated_timestamp_seconds 1704369600\n"), std::string::npos);
}

RunRecord VerifyRun(const std::string& result, double age, const std::string& command = "verify") {
  RunRecord r;
  r.backup_name = "job";
  r.command = command;
  r.started = kNow - age - 10;
  r.ended = kNow - age;
  r.result = result;
  r.datasets_ok = result == "ok" ? 2 : 1;
  r.datasets_failed = result == "ok" ? 0 : 1;
  r.error = result == "ok" ? "" : "pool/a: x.bin: contents differ";
  return r;
}

TEST(CheckVerify, MissingOldAndFailedVerifiesRaiseTheLevel) {
  CheckOptions options = Options();
  options.max_verify_age_seconds = 7 * 86400;
  auto level = [&](const std::vector<RunRecord>& runs) {
    CheckResult r = EvaluateCheck({Ok("a", 60)}, std::nullopt, options, kNow);
    AddVerifyCheck(runs, options, kNow, &r);
    return r;
  };
  // Never verified (a backup run does not count): WARNING.
  CheckResult never = level({VerifyRun("ok", 60, "backup")});
  EXPECT_EQ(never.code, NagiosCode::kWarning);
  EXPECT_NE(never.Format().find("never verified"), std::string::npos) << never.Format();
  // Verified an hour ago: OK, with its age as perfdata.
  CheckResult recent = level({VerifyRun("ok", 3600)});
  EXPECT_EQ(recent.code, NagiosCode::kOk) << recent.Format();
  EXPECT_NE(recent.Format().find("'verify age'=3600s;604800;;0;"), std::string::npos)
      << recent.Format();
  // Older than --max-verify-age: WARNING.
  EXPECT_EQ(level({VerifyRun("ok", 8 * 86400)}).code, NagiosCode::kWarning);
  // The newest verify failed: CRITICAL, naming the first difference, even with an older success.
  CheckResult failed = level({VerifyRun("ok", 7200), VerifyRun("failed", 3600)});
  EXPECT_EQ(failed.code, NagiosCode::kCritical);
  EXPECT_NE(failed.Format().find("x.bin: contents differ"), std::string::npos) << failed.Format();
  // A newer success after the failure: OK again; a verify still running is not counted.
  EXPECT_EQ(
      level({VerifyRun("failed", 7200), VerifyRun("ok", 3600), VerifyRun("running", 60)}).code,
      NagiosCode::kOk);
}

}  // namespace
}  // namespace zsend::orchestrator
