#include "orchestrator/report/status_table.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>

#include "base/units.h"

namespace zsend::orchestrator {
namespace {

bool IsSuccess(const std::string& result) {
  return result == "ok" || result == "up-to-date";
}

double EndOf(const TransferRecord& t) {
  return t.ended > 0 ? t.ended : t.started;
}

}  // namespace

std::string AlignColumns(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

namespace {

std::string Count(int64_t n) {
  return n < 0 ? "-" : std::to_string(n);
}

std::string OrDash(const std::string& text) {
  return text.empty() ? "-" : text;
}

}  // namespace

double DatasetStatus::last_rate() const {
  return last_seconds > 0 ? static_cast<double>(last_stream_bytes) / last_seconds : 0;
}

std::string FormatUtc(double epoch_seconds) {
  if (epoch_seconds <= 0) return "-";
  std::time_t t = static_cast<std::time_t>(epoch_seconds);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%SZ", &utc);
  return text;
}

std::string FormatAge(double seconds) {
  if (seconds < 0) return "-";
  long s = static_cast<long>(seconds);
  char text[32];
  if (s < 60) {
    std::snprintf(text, sizeof text, "%lds", s);
  } else if (s < 3600) {
    std::snprintf(text, sizeof text, "%ldm%02lds", s / 60, s % 60);
  } else if (s < 86400) {
    std::snprintf(text, sizeof text, "%ldh%02ldm", s / 3600, s % 3600 / 60);
  } else {
    std::snprintf(text, sizeof text, "%ldd%02ldh", s / 86400, s % 86400 / 3600);
  }
  return text;
}

std::vector<DatasetStatus> SummarizeStatus(const std::vector<TransferRecord>& transfers) {
  std::vector<const TransferRecord*> ordered;
  for (const TransferRecord& t : transfers) ordered.push_back(&t);
  std::stable_sort(ordered.begin(), ordered.end(), [](const auto* a, const auto* b) {
    return a->started != b->started ? a->started < b->started : a->id < b->id;
  });
  std::map<std::pair<std::string, std::string>, DatasetStatus> by_key;
  for (const TransferRecord* t : ordered) {
    if (t->kind == "restore") continue;  // zsend restore's rows are not backups
    DatasetStatus& s = by_key[{t->backup_name, t->source_dataset}];
    s.backup_name = t->backup_name;
    s.source_dataset = t->source_dataset;
    if (!t->target_dataset.empty()) s.target_dataset = t->target_dataset;
    s.source_host = t->source_host;
    s.target_host = t->target_host;
    s.last_attempt = EndOf(*t);
    s.last_result = t->result;
    s.last_error = t->error;
    if (IsSuccess(t->result)) {
      s.last_success = EndOf(*t);
      s.last_success_snapshot = t->to_snapshot;
      s.consecutive_failures = 0;
      if (t->result == "ok") {
        s.last_kind = t->kind;
        s.last_wire_bytes = t->wire_bytes;
        s.last_stream_bytes = t->stream_bytes;
        s.last_seconds = t->seconds;
      }
    } else if (t->result == "failed") {
      ++s.failures_total;
      ++s.consecutive_failures;
    }
    if (t->source_snapshots >= 0) s.source_snapshots = t->source_snapshots;
    if (t->target_snapshots >= 0) s.target_snapshots = t->target_snapshots;
    if (!t->oldest_snapshot.empty()) s.oldest_snapshot = t->oldest_snapshot;
    if (!t->newest_snapshot.empty()) s.newest_snapshot = t->newest_snapshot;
  }
  std::vector<DatasetStatus> out;
  for (auto& [key, status] : by_key) out.push_back(std::move(status));
  return out;
}

std::string FormatStatusTable(const std::vector<DatasetStatus>& statuses, double now) {
  std::vector<std::vector<std::string>> rows = {{"BACKUP", "DATASET", "TARGET", "LAST SUCCESS",
                                                 "AGE", "RESULT", "SIZE", "RATE", "SNAPS SRC/TGT",
                                                 "OLDEST", "NEWEST"}};
  for (const DatasetStatus& s : statuses) {
    rows.push_back(
        {s.backup_name, s.source_dataset, OrDash(s.target_dataset), FormatUtc(s.last_success),
         s.last_success > 0 ? FormatAge(now - s.last_success) : "never", OrDash(s.last_result),
         s.last_seconds > 0 || s.last_stream_bytes > 0
             ? FormatBytes(static_cast<double>(s.last_stream_bytes))
             : "-",
         s.last_rate() > 0 ? FormatRate(s.last_rate()) : "-",
         Count(s.source_snapshots) + "/" + Count(s.target_snapshots), OrDash(s.oldest_snapshot),
         OrDash(s.newest_snapshot)});
  }
  std::string out = AlignColumns(rows);
  for (const DatasetStatus& s : statuses) {
    if (!s.succeeded_last() && !s.last_error.empty()) {
      out += s.backup_name + " " + s.source_dataset + ": " + s.last_result + ": " +
             s.last_error.substr(0, s.last_error.find('\n')) + "\n";
    }
  }
  return out;
}

std::string FormatStatusJson(const std::vector<DatasetStatus>& statuses, double now) {
  nlohmann::json datasets = nlohmann::json::array();
  for (const DatasetStatus& s : statuses) {
    nlohmann::json d = {
        {"backup", s.backup_name},
        {"dataset", s.source_dataset},
        {"target", s.target_dataset},
        {"source_host", s.source_host},
        {"target_host", s.target_host},
        {"last_success", s.last_success > 0 ? nlohmann::json(s.last_success) : nlohmann::json()},
        {"last_success_utc",
         s.last_success > 0 ? nlohmann::json(FormatUtc(s.last_success)) : nlohmann::json()},
        {"age_seconds",
         s.last_success > 0 ? nlohmann::json(std::floor(now - s.last_success)) : nlohmann::json()},
        {"last_snapshot", s.last_success_snapshot},
        {"last_result", s.last_result},
        {"last_error", s.last_error},
        {"last_kind", s.last_kind},
        {"last_wire_bytes", s.last_wire_bytes},
        {"last_stream_bytes", s.last_stream_bytes},
        {"last_seconds", s.last_seconds},
        {"last_rate_bytes_per_second", std::floor(s.last_rate())},
        {"source_snapshots",
         s.source_snapshots >= 0 ? nlohmann::json(s.source_snapshots) : nlohmann::json()},
        {"target_snapshots",
         s.target_snapshots >= 0 ? nlohmann::json(s.target_snapshots) : nlohmann::json()},
        {"oldest_snapshot", s.oldest_snapshot},
        {"newest_snapshot", s.newest_snapshot},
        {"failures_total", s.failures_total},
        {"consecutive_failures", s.consecutive_failures},
    };
    datasets.push_back(std::move(d));
  }
  nlohmann::json root = {{"generated", FormatUtc(now)}, {"datasets", std::move(datasets)}};
  return root.dump(2) + "\n";
}

std::string FormatRunsTable(const std::vector<RunRecord>& runs) {
  std::vector<std::vector<std::string>> rows = {{"ID", "BACKUP", "COMMAND", "STARTED", "DURATION",
                                                 "HOSTS", "RESULT", "OK", "FAILED", "ERROR"}};
  for (const RunRecord& r : runs) {
    rows.push_back({std::to_string(r.id), r.backup_name, r.command, FormatUtc(r.started),
                    r.ended > 0 ? FormatAge(r.ended - r.started) : "-",
                    OrDash(r.source_host) + " -> " + OrDash(r.target_host), r.result,
                    std::to_string(r.datasets_ok), std::to_string(r.datasets_failed),
                    OrDash(r.error.substr(0, r.error.find('\n')))});
  }
  return AlignColumns(rows);
}

}  // namespace zsend::orchestrator
