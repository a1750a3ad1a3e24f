// zsend check BACKUP_NAME --max-age DURATION [--max-verify-age DURATION] [--pools] [--metrics-file
// FILE]: a Nagios/Icinga plugin (exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN) reading the history
// and, with --pools, the local pools' health and capacity.
#include <CLI/CLI.hpp>
#include <iostream>

#include "orchestrator/report/check.h"
#include "orchestrator/report/metrics.h"
#include "tools/zsend/commands.h"
#include "tools/zsend/common_options.h"
#include "tools/zsend/history_access.h"

namespace zsend::cli {
namespace {

using namespace orchestrator;

struct CheckArgs {
  std::string backup_name;
  std::string state_dir;
  std::string max_age;
  std::string warn_age;
  std::string max_verify_age;
  bool pools = false;
  std::vector<std::string> pool_names;
  double pool_warn = 75;
  double pool_critical = 90;
  std::string metrics_file;
};

int Emit(const CheckResult& result) {
  std::cout << result.Format();
  return result.exit_code();
}

int RunCheck(const CheckArgs& args) {
  CheckOptions options;
  options.backup_name = args.backup_name;
  options.pool_warn_percent = args.pool_warn;
  options.pool_critical_percent = args.pool_critical;
  Result<double> max_age = ParseDuration(args.max_age, "--max-age");
  if (!max_age.ok()) return Emit(UnknownCheck(max_age.status().message()));
  options.max_age_seconds = *max_age;
  if (!args.warn_age.empty()) {
    Result<double> warn = ParseDuration(args.warn_age, "--warn-age");
    if (!warn.ok()) return Emit(UnknownCheck(warn.status().message()));
    options.warn_age_seconds = *warn;
  }
  if (!args.max_verify_age.empty()) {
    Result<double> verify_age = ParseDuration(args.max_verify_age, "--max-verify-age");
    if (!verify_age.ok()) return Emit(UnknownCheck(verify_age.status().message()));
    options.max_verify_age_seconds = *verify_age;
  }
  if (args.pool_warn > args.pool_critical) {
    return Emit(UnknownCheck("--pool-warn must not be above --pool-critical"));
  }
  auto history = OpenHistoryForReading(args.state_dir);
  if (!history.ok()) return Emit(UnknownCheck(history.status().message()));
  auto transfers = (*history)->Transfers("", 0);
  if (!transfers.ok()) return Emit(UnknownCheck(transfers.status().message()));
  std::vector<DatasetStatus> statuses = SummarizeStatus(*transfers);
  const double now = Now();

  std::optional<PoolReport> pools;
  if (args.pools || !args.pool_names.empty()) {
    LocalRunner local;
    Result<PoolReport> report = ReadPoolReport(local, args.pool_names);
    if (!report.ok()) return Emit(UnknownCheck("reading pools: " + report.status().message()));
    pools = std::move(*report);
  }
  CheckResult result = EvaluateCheck(statuses, pools, options, now);
  if (!args.max_verify_age.empty()) {
    auto runs = (*history)->Runs(args.backup_name, 0, 0);
    if (!runs.ok()) return Emit(UnknownCheck(runs.status().message()));
    AddVerifyCheck(*runs, options, now, &result);
  }
  if (!args.metrics_file.empty()) {
    Status written = WriteFileAtomically(args.metrics_file, FormatMetrics(statuses, now));
    if (!written.ok()) {
      result.details.push_back("UNKNOWN metrics file: " + written.message());
      if (result.code == NagiosCode::kOk) result.code = NagiosCode::kUnknown;
    }
  }
  return Emit(result);
}

}  // namespace

void RegisterCheckCommand(CLI::App& app, CommandRun* run) {
  auto args = std::make_shared<CheckArgs>();
  CLI::App* sub = app.add_subcommand(
      "check", "Nagios/Icinga check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN, with perfdata");
  sub->add_option("BACKUP_NAME", args->backup_name, "the backup to check")->required();
  sub->add_option("--max-age", args->max_age,
                  "CRITICAL when a dataset's last success is older (26h, 2d, 90min, seconds)")
      ->required();
  sub->add_option("--warn-age", args->warn_age, "WARNING when older than this");
  sub->add_option("--max-verify-age", args->max_verify_age,
                  "WARNING when the last zsend verify is older or missing; CRITICAL when it "
                  "failed");
  sub->add_flag("--pools", args->pools, "also check every local pool (zpool status -x, capacity)");
  sub->add_option("--pool", args->pool_names, "check only this pool (repeatable; implies --pools)");
  sub->add_option("--pool-warn", args->pool_warn, "WARNING at this pool capacity % (default 75)");
  sub->add_option("--pool-critical", args->pool_critical,
                  "CRITICAL at this pool capacity % (default 90)");
  sub->add_option("--metrics-file", args->metrics_file,
                  "also write Prometheus metrics here (atomically), for node_exporter");
  AddStateDirOption(*sub, &args->state_dir);
  sub->callback([args, run] { *run = [args] { return RunCheck(*args); }; });
}

}  // namespace zsend::cli
