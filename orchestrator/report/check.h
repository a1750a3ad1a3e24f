// Check: `zsend check` as a Nagios/Icinga plugin: one status line with performance data, then
// detail lines, and the plugin exit code.
//
//   OK        every dataset of the job succeeded last time, within --max-age
//   WARNING   a dataset's last success is older than --warn-age (when given), a pool is
//             DEGRADED or fuller than --pool-warn (75%), or `zpool status -x` reports trouble
//   CRITICAL  a dataset's last run failed, or its last success is older than --max-age (or it
//             never succeeded); a pool is FAULTED/UNAVAIL or fuller than --pool-critical (90%)
//   UNKNOWN   nothing recorded for the job, or the history/pools could not be read
//
// With --max-verify-age (AddVerifyCheck), the job's newest finished `zsend verify` run (result
// "ok" or "failed"; runs still running are not counted) also decides:
//   CRITICAL  it failed (a dataset differs or could not be verified)
//   WARNING   there is none, or it is older than --max-verify-age
//
// Performance data (Nagios format, 'label'=value[UOM];warn;crit): per dataset the age of the
// last success in seconds and the bytes of the last transfer; per pool the capacity in %.
// Pure functions, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "orchestrator/report/history.h"
#include "orchestrator/report/status_table.h"
#include "orchestrator/zfs/pool_health.h"

namespace zsend::orchestrator {

enum class NagiosCode { kOk = 0, kWarning = 1, kCritical = 2, kUnknown = 3 };
const char* NagiosCodeName(NagiosCode code);

struct CheckOptions {
  std::string backup_name;
  double max_age_seconds = 0;   // CRITICAL beyond this
  double warn_age_seconds = 0;  // WARNING beyond this (0: no warning level)
  double pool_warn_percent = 75;
  double pool_critical_percent = 90;
  double max_verify_age_seconds = 0;  // AddVerifyCheck's limit (0: verifies not checked)
};

struct CheckResult {
  NagiosCode code = NagiosCode::kUnknown;
  std::string summary;               // after "ZSEND <CODE> - "
  std::vector<std::string> details;  // one per problem or dataset
  std::vector<std::string> perfdata;

  // "ZSEND CRITICAL - summary | perf perf\ndetail\n..." (one trailing newline).
  std::string Format() const;
  int exit_code() const { return static_cast<int>(code); }
};

// `pools` is nullopt when --pools was not asked for.
CheckResult EvaluateCheck(const std::vector<DatasetStatus>& statuses,
                          const std::optional<PoolReport>& pools, const CheckOptions& options,
                          double now);

// An UNKNOWN result for an error that prevented the check.
CheckResult UnknownCheck(const std::string& why);

// Raises `result` by the verify rules above from the job's runs (any order; other commands
// are ignored); adds a detail line, a perfdata value ('verify age') and a summary part.
void AddVerifyCheck(const std::vector<RunRecord>& runs, const CheckOptions& options, double now,
                    CheckResult* result);

}  // namespace zsend::orchestrator
