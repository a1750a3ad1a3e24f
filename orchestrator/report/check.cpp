#include "orchestrator/report/check.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace zsend::orchestrator {
namespace {

void Raise(NagiosCode* code, NagiosCode to) {
  if (static_cast<int>(to) > static_cast<int>(*code)) *code = to;
}

// Nagios labels: quoted, with single quotes doubled.
std::string Label(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

std::string Number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.0f", std::floor(value));
  return text;
}

std::string FirstLine(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

}  // namespace

const char* NagiosCodeName(NagiosCode code) {
  switch (code) {
    case NagiosCode::kOk:
      return "OK";
    case NagiosCode::kWarning:
      return "WARNING";
    case NagiosCode::kCritical:
      return "CRITICAL";
    case NagiosCode::kUnknown:
      return "UNKNOWN";
  }
  return "UNKNOWN";
}

std::string CheckResult::Format() const {
  std::string out = std::string("ZSEND ") + NagiosCodeName(code) + " - " + summary;
  if (!perfdata.empty()) {
    out += " |";
    for (const std::string& p : perfdata) out += " " + p;
  }
  out += "\n";
  for (const std::string& d : details) out += d + "\n";
  return out;
}

CheckResult UnknownCheck(const std::string& why) {
  CheckResult result;
  result.code = NagiosCode::kUnknown;
  result.summary = why;
  return result;
}

CheckResult EvaluateCheck(const std::vector<DatasetStatus>& statuses,
                          const std::optional<PoolReport>& pools, const CheckOptions& options,
                          double now) {
  CheckResult result;
  int failed = 0, too_old = 0, aging = 0, ok = 0;
  for (const DatasetStatus& s : statuses) {
    if (s.backup_name != options.backup_name) continue;
    const double age = s.last_success > 0 ? now - s.last_success : -1;
    const std::string name = s.source_dataset;
    if (s.last_result == "failed" || s.last_result == "interrupted") {
      ++failed;
      result.details.push_back("CRITICAL " + name + ": last run " + s.last_result + ": " +
                               FirstLine(s.last_error));
    } else if (age < 0) {
      ++too_old;
      result.details.push_back("CRITICAL " + name + ": never succeeded (last result " +
                               s.last_result + ")");
    } else if (age > options.max_age_seconds) {
      ++too_old;
      result.details.push_back("CRITICAL " + name + ": last success " + FormatAge(age) +
                               " ago, more than " + FormatAge(options.max_age_seconds));
    } else if (options.warn_age_seconds > 0 && age > options.warn_age_seconds) {
      ++aging;
      result.details.push_back("WARNING " + name + ": last success " + FormatAge(age) +
                               " ago, more than " + FormatAge(options.warn_age_seconds));
    } else {
      ++ok;
      result.details.push_back("OK " + name + ": last success " + FormatAge(age) + " ago (" +
                               s.last_success_snapshot + ")");
    }
    result.perfdata.push_back(
        Label(name + " age") + "=" + (age >= 0 ? Number(age) : std::string("U")) + "s;" +
        (options.warn_age_seconds > 0 ? Number(options.warn_age_seconds) : std::string()) + ";" +
        Number(options.max_age_seconds) + ";0;");
    result.perfdata.push_back(Label(name + " bytes") + "=" + Number(s.last_stream_bytes) +
                              "B;;;0;");
  }
  const int total = failed + too_old + aging + ok;
  if (total == 0) {
    return UnknownCheck("no transfers recorded for backup '" + options.backup_name +
                        "'; is the name right and does the job run with this --state-dir?");
  }
  result.code = NagiosCode::kOk;
  if (aging > 0) Raise(&result.code, NagiosCode::kWarning);
  if (failed + too_old > 0) Raise(&result.code, NagiosCode::kCritical);
  result.summary =
      options.backup_name + ": " + std::to_string(total) + " dataset" + (total == 1 ? "" : "s");
  if (failed > 0) result.summary += ", " + std::to_string(failed) + " failed";
  if (too_old > 0) result.summary += ", " + std::to_string(too_old) + " too old";
  if (aging > 0) result.summary += ", " + std::to_string(aging) + " aging";
  if (failed + too_old + aging == 0) {
    result.summary += " backed up within " + FormatAge(options.max_age_seconds);
  }

  if (pools) {
    int pool_problems = 0;
    for (const PoolHealth& pool : pools->pools) {
      NagiosCode level = NagiosCode::kOk;
      std::string why;
      if (pool.health == "DEGRADED") {
        level = NagiosCode::kWarning;
        why = "DEGRADED";
      } else if (pool.health != "ONLINE") {
        level = NagiosCode::kCritical;
        why = pool.health;
      }
      if (pool.capacity_percent >= options.pool_critical_percent) {
        level = NagiosCode::kCritical;
        why += (why.empty() ? "" : ", ") + Number(pool.capacity_percent) + "% full";
      } else if (pool.capacity_percent >= options.pool_warn_percent) {
        Raise(&level, NagiosCode::kWarning);
        why += (why.empty() ? "" : ", ") + Number(pool.capacity_percent) + "% full";
      }
      if (level != NagiosCode::kOk) {
        ++pool_problems;
        Raise(&result.code, level);
        result.details.push_back(std::string(NagiosCodeName(level)) + " pool " + pool.name + ": " +
                                 why);
      }
      result.perfdata.push_back(Label("pool " + pool.name + " capacity") + "=" +
                                Number(pool.capacity_percent) + "%;" +
                                Number(options.pool_warn_percent) + ";" +
                                Number(options.pool_critical_percent) + ";0;100");
    }
    if (!pools->all_healthy) {
      ++pool_problems;
      Raise(&result.code, NagiosCode::kWarning);
      result.details.push_back("WARNING zpool status -x: " + FirstLine(pools->status_text));
    }
    result.summary += pool_problems == 0
                          ? "; " + std::to_string(pools->pools.size()) + " pools healthy"
                          : "; " + std::to_string(pool_problems) + " pool problem" +
                                (pool_problems == 1 ? "" : "s");
  }
  return result;
}

void AddVerifyCheck(const std::vector<RunRecord>& runs, const CheckOptions& options, double now,
                    CheckResult* result) {
  const RunRecord* newest = nullptr;
  for (const RunRecord& run : runs) {
    if (run.backup_name != options.backup_name || run.command != "verify") continue;
    if (run.result != "ok" && run.result != "failed") continue;
    if (newest == nullptr || run.started > newest->started) newest = &run;
  }
  const std::string limit = FormatAge(options.max_verify_age_seconds);
  if (newest == nullptr) {
    Raise(&result->code, NagiosCode::kWarning);
    result->summary += "; never verified";
    result->details.push_back("WARNING verify: no zsend verify of '" + options.backup_name +
                              "' recorded; run zsend verify at least every " + limit);
    result->perfdata.push_back("'verify age'=Us;" + Number(options.max_verify_age_seconds) +
                               ";;0;");
    return;
  }
  const double age = now - (newest->ended > 0 ? newest->ended : newest->started);
  if (newest->result == "failed") {
    Raise(&result->code, NagiosCode::kCritical);
    result->summary += "; last verify failed";
    result->details.push_back("CRITICAL verify " + FormatAge(age) + " ago failed (" +
                              std::to_string(newest->datasets_failed) +
                              " dataset(s)): " + FirstLine(newest->error));
  } else if (age > options.max_verify_age_seconds) {
    Raise(&result->code, NagiosCode::kWarning);
    result->summary += "; last verify " + FormatAge(age) + " ago";
    result->details.push_back("WARNING verify: last success " + FormatAge(age) +
                              " ago, more than " + limit);
  } else {
    result->summary += "; verified " + FormatAge(age) + " ago";
    result->details.push_back("OK verify: " + std::to_string(newest->datasets_ok) +
                              " dataset(s) equal " + FormatAge(age) + " ago");
  }
  result->perfdata.push_back("'verify age'=" + Number(std::max(age, 0.0)) + "s;" +
                             Number(options.max_verify_age_seconds) + ";;0;");
}

}  // namespace zsend::orchestrator
