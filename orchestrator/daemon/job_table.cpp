#include "orchestrator/daemon/job_table.h"

#include <nlohmann/json.hpp>

#include "orchestrator/report/status_table.h"

namespace zsend::orchestrator {
namespace {

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
    cells.push_back({row.job, row.sla, row.status, FormatUtc(row.last_start), Dash(row.last_tags),
                     row.last_start > 0 ? FormatAge(row.last_duration) : "-",
                     FormatUtc(row.next_due), Dash(row.next_tags)});
  }
  return AlignColumns(cells);
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
