#include "orchestrator/report/backup_report.h"

#include <nlohmann/json.hpp>

#include "base/units.h"

namespace zsend::orchestrator {
namespace {

uint64_t Bytes(const DatasetReport& report) {
  uint64_t bytes = 0;
  for (const StepReport& step : report.steps) bytes += step.stream.bytes;
  return bytes;
}

double Seconds(const DatasetReport& report) {
  double seconds = 0;
  for (const StepReport& step : report.steps) seconds += step.stream.seconds;
  return seconds;
}

std::string Kinds(const DatasetReport& report) {
  std::string kinds;
  for (const StepReport& step : report.steps) {
    std::string kind = TransferKindName(step.kind);
    if (kinds.find(kind) == std::string::npos) kinds += (kinds.empty() ? "" : "+") + kind;
  }
  return kinds;
}

std::string Status(const DatasetReport& report) {
  switch (report.outcome) {
    case Outcome::kFailed:
      // Stopped by SIGINT/SIGTERM (run_interrupt.h), before or during its transfer.
      if (report.error.code() == StatusCode::kCancelled) return "interrupted";
      return "failed";
    case Outcome::kSkipped:
      return "skipped";
    case Outcome::kSucceeded:
      if (report.action == DatasetAction::kUpToDate) return "up to date";
      if (report.action == DatasetAction::kNotNeeded) return "not needed";
      return "transferred";
    default:
      return OutcomeName(report.outcome);
  }
}

std::string Indent(const std::string& text) {
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out += (out.empty() ? "" : "\n             ") + text.substr(start, end - start);
    start = end + 1;
  }
  return out;
}

}  // namespace

std::string FormatDatasetLine(const DatasetReport& report) {
  std::string line = report.source + " -> " + report.target + ": ";
  const std::string status = Status(report);
  if (status == "failed" || status == "interrupted") {
    line += (status == "failed" ? "FAILED: " : "INTERRUPTED: ") + report.error.message();
    if (!report.failed_command.empty()) line += "\n    command: " + report.failed_command;
    if (!report.failed_stderr.empty()) line += "\n    stderr:  " + Indent(report.failed_stderr);
    return line;
  }
  if (status == "skipped") return line + "skipped: " + report.reason;
  if (report.steps.empty()) {
    return line + status + (report.reason.empty() ? "" : " (" + report.reason + ")");
  }
  uint64_t bytes = Bytes(report);
  double seconds = Seconds(report);
  line += Kinds(report) + ", " + FormatBytes(static_cast<double>(bytes)) + " in " +
          FormatDuration(seconds) + " (" +
          FormatRate(static_cast<double>(bytes) / (seconds > 0 ? seconds : 1e-9)) + "), " +
          report.steps.back().stream.transport;
  for (const StepReport& step : report.steps) {
    if (!step.stream.fallback.empty()) {
      line += " (fallback: " + step.stream.fallback + ")";
      break;
    }
  }
  if (!report.selected) line += " [clone origin, not selected]";
  return line;
}

std::string FormatSummary(const std::string& backup_name, const BackupResult& result) {
  if (!result.fatal.ok()) return "backup " + backup_name + ": " + result.fatal.message();
  int transferred = 0, up_to_date = 0, failed = 0, skipped = 0;
  uint64_t bytes = 0;
  for (const DatasetReport& report : result.datasets) {
    std::string status = Status(report);
    transferred += status == "transferred";
    up_to_date += status == "up to date";
    failed += status == "failed" || status == "interrupted";
    skipped += status == "skipped";
    bytes += Bytes(report);
  }
  return "backup " + backup_name + ": " + std::to_string(result.datasets.size()) + " datasets, " +
         std::to_string(transferred) + " transferred, " + std::to_string(up_to_date) +
         " up to date, " + std::to_string(failed) + " failed, " + std::to_string(skipped) +
         " skipped; " + FormatBytes(static_cast<double>(bytes)) + " in " +
         FormatDuration(result.seconds);
}

namespace {

nlohmann::json CountsJson(const ZfsCommandCounts& counts) {
  return {{"planning", counts.planning},
          {"snapshot", counts.snapshot},
          {"transfer", counts.transfer},
          {"rotation", counts.rotation},
          {"total", counts.total()}};
}

nlohmann::json OverheadJson(const RunOverhead& o) {
  return {{"zfs_commands", {{"source", CountsJson(o.source)}, {"target", CountsJson(o.target)}}},
          {"ssh_connections", o.ssh_connections},
          {"engine_sessions", o.engine_sessions},
          {"seconds",
           {{"planning", o.planning_seconds},
            {"transferring", o.transfer_seconds},
            {"rotating", o.rotation_seconds}}}};
}

}  // namespace

std::string BackupJson(const std::string& backup_name, const BackupResult& result) {
  nlohmann::json datasets = nlohmann::json::array();
  for (const DatasetReport& report : result.datasets) {
    nlohmann::json steps = nlohmann::json::array();
    for (const StepReport& step : report.steps) {
      steps.push_back({{"kind", TransferKindName(step.kind)},
                       {"from", step.from},
                       {"to", step.to},
                       {"bytes", step.stream.bytes},
                       {"seconds", step.stream.seconds},
                       {"transport", step.stream.transport},
                       {"fallback", step.stream.fallback}});
    }
    datasets.push_back({{"source", report.source},
                        {"target", report.target},
                        {"selected", report.selected},
                        {"status", Status(report)},
                        {"kind", Kinds(report)},
                        {"bytes", Bytes(report)},
                        {"seconds", Seconds(report)},
                        {"steps", steps},
                        {"final_snapshot", report.final_snapshot},
                        {"error", report.error.ok() ? "" : report.error.message()},
                        {"failed_command", report.failed_command},
                        {"failed_stderr", report.failed_stderr},
                        {"reason", report.reason},
                        {"notes", report.notes}});
  }
  nlohmann::json j = {{"backup", backup_name},
                      {"snapshot", result.snapshot_name},
                      {"snapshot_atomic", result.snapshot_atomic},
                      {"exit_code", result.ExitCode()},
                      {"fatal", result.fatal.ok() ? "" : result.fatal.message()},
                      {"failed", result.failed},
                      {"seconds", result.seconds},
                      {"datasets", datasets},
                      {"overhead", OverheadJson(result.overhead)},
                      {"summary", FormatSummary(backup_name, result)}};
  return j.dump(2);
}

std::vector<TransferRecord> TransferRecordsOf(const BackupResult& result, const RunRecord& run) {
  std::vector<TransferRecord> records;
  for (const DatasetReport& report : result.datasets) {
    TransferRecord t;
    t.run_id = run.id;
    t.backup_name = run.backup_name;
    t.source_host = run.source_host;
    t.target_host = run.target_host;
    t.source_dataset = report.source;
    t.target_dataset = report.target;
    if (!report.steps.empty()) {
      t.from_snapshot = report.steps.front().from;
      t.to_snapshot = report.steps.back().to;
      t.transport = report.steps.back().stream.transport;
    }
    if (!report.final_snapshot.empty() && report.outcome == Outcome::kSucceeded) {
      t.to_snapshot = report.source + "@" + report.final_snapshot;
    }
    t.kind = Kinds(report);
    for (const StepReport& step : report.steps) t.wire_bytes += step.stream.wire_bytes;
    t.stream_bytes = Bytes(report);
    t.seconds = Seconds(report);
    t.started = report.started > 0 ? report.started : run.started;
    t.ended = report.ended > 0 ? report.ended : t.started;
    const std::string status = Status(report);
    if (status == "failed" || status == "interrupted") {
      t.result = status;
      t.error = report.error.message();
      if (!report.failed_command.empty()) t.error += "\ncommand: " + report.failed_command;
      if (!report.failed_stderr.empty()) t.error += "\n" + report.failed_stderr;
    } else if (status == "skipped") {
      t.result = "skipped";
      t.error = report.reason;
    } else if (status == "transferred") {
      t.result = "ok";
    } else if (status == "up to date" || status == "not needed") {
      t.result = "up-to-date";
    } else {
      t.result = status;  // pending: the run stopped before it
    }
    records.push_back(std::move(t));
  }
  return records;
}

}  // namespace zsend::orchestrator
