#include "orchestrator/daemon/job_table.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

namespace zsend::orchestrator {
namespace {

std::string Time(double seconds) {
  if (seconds <= 0) return "-";
  const time_t t = static_cast<time_t>(seconds);
  tm utc{};
  gmtime_r(&t, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%SZ", &utc);
  return text;
}

std::string Duration(double seconds, bool ran) {
  if (!ran) return "-";
  const long total = static_cast<long>(seconds + 0.5);
  char text[32];
  if (total < 60) {
    std::snprintf(text, sizeof text, "%lds", total);
  } else if (total < 3600) {
    std::snprintf(text, sizeof text, "%ldm%02lds", total / 60, total % 60);
  } else {
    std::snprintf(text, sizeof text, "%ldh%02ldm", total / 3600, total / 60 % 60);
  }
  return text;
}

std::string Dash(const std::string& text) {
  return text.empty() ? "-" : text;
}

}  // namespace

std::string JobSla(double last_success, double since, double shortest_interval, double now) {
  const double reference = last_success > 0 ? last_success : since;
  return now - reference <= 1.5 * shortest_interval ? "OK" : "TOO OLD";
}

std::string FormatJobTable(const std::vector<JobRow>& rows) {
  std::vector<std::vector<std::string>> cells = {
      {"Job", "SLA", "Status", "Last Backup", "Last Tags", "Last Dur", "Next Backup", "Next Tags"}};
  for (const JobRow& row : rows) {
    cells.push_back({row.job, row.sla, row.status, Time(row.last_start), Dash(row.last_tags),
                     Duration(row.last_duration, row.last_start > 0), Time(row.next_due),
                     Dash(row.next_tags)});
  }
  std::vector<size_t> widths(cells[0].size(), 0);
  for (const auto& line : cells) {
    for (size_t i = 0; i < line.size(); ++i) widths[i] = std::max(widths[i], line[i].size());
  }
  std::string text;
  for (const auto& line : cells) {
    std::string out;
    for (size_t i = 0; i < line.size(); ++i) {
      out += line[i];
      if (i + 1 < line.size()) out += std::string(widths[i] - line[i].size() + 2, ' ');
    }
    text += out + "\n";
  }
  return text;
}

std::string JobRowsToJson(const std::vector<JobRow>& rows) {
  nlohmann::json jobs = nlohmann::json::array();
  for (const JobRow& row : rows) {
    jobs.push_back({{"job", row.job},
                    {"sla", row.sla},
                    {"status", row.status},
                    {"last_backup", row.last_start},
                    {"last_tags", row.last_tags},
                    {"last_duration", row.last_duration},
                    {"next_backup", row.next_due},
                    {"next_tags", row.next_tags}});
  }
  return nlohmann::json{{"jobs", jobs}}.dump(2);
}

Result<std::vector<JobRow>> JobRowsFromJson(const std::string& text) {
  nlohmann::json root = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object()) {
    return InvalidArgument("the daemon's answer is not JSON");
  }
  if (root.contains("error")) return InvalidArgument(root.value("error", std::string()));
  if (!root.contains("jobs") || !root["jobs"].is_array()) {
    return InvalidArgument("the daemon's answer has no job list");
  }
  std::vector<JobRow> rows;
  for (const auto& item : root["jobs"]) {
    JobRow row;
    row.job = item.value("job", "");
    row.sla = item.value("sla", "");
    row.status = item.value("status", "");
    row.last_start = item.value("last_backup", 0.0);
    row.last_tags = item.value("last_tags", "");
    row.last_duration = item.value("last_duration", 0.0);
    row.next_due = item.value("next_backup", 0.0);
    row.next_tags = item.value("next_tags", "");
    rows.push_back(row);
  }
  return rows;
}

}  // namespace zsend::orchestrator
