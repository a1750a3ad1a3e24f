#include "orchestrator/report/metrics.h"

#include <cerrno>
#include <cstdio>

#include "base/private_file.h"

namespace zsend::orchestrator {
namespace {

std::string Escape(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Value(double value) {
  char text[40];
  std::snprintf(text, sizeof text, "%.17g", value);
  return text;
}

struct Family {
  const char* name;
  const char* type;
  const char* help;
  double (*value)(const DatasetStatus&);
};

const Family kFamilies[] = {
    {"zsend_last_success_timestamp_seconds", "gauge",
     "End of the last successful transfer (0: never).",
     [](const DatasetStatus& s) { return s.last_success; }},
    {"zsend_last_transfer_seconds", "gauge", "Duration of the last successful transfer.",
     [](const DatasetStatus& s) { return s.last_seconds; }},
    {"zsend_last_transfer_wire_bytes", "gauge",
     "Bytes on the wire of the last successful transfer.",
     [](const DatasetStatus& s) { return static_cast<double>(s.last_wire_bytes); }},
    {"zsend_last_transfer_stream_bytes", "gauge",
     "Bytes of zfs send stream in the last successful transfer.",
     [](const DatasetStatus& s) { return static_cast<double>(s.last_stream_bytes); }},
    {"zsend_last_result_ok", "gauge", "1 when the dataset's last transfer succeeded, else 0.",
     [](const DatasetStatus& s) { return s.succeeded_last() ? 1.0 : 0.0; }},
    {"zsend_transfer_failures_total", "counter", "Failed transfers recorded in the history.",
     [](const DatasetStatus& s) { return static_cast<double>(s.failures_total); }},
    {"zsend_consecutive_failures", "gauge", "Failed transfers since the last success.",
     [](const DatasetStatus& s) { return static_cast<double>(s.consecutive_failures); }},
};

}  // namespace

std::string FormatMetrics(const std::vector<DatasetStatus>& statuses, double now) {
  std::string out;
  for (const Family& family : kFamilies) {
    out += std::string("# HELP ") + family.name + " " + family.help + "\n";
    out += std::string("# TYPE ") + family.name + " " + family.type + "\n";
    for (const DatasetStatus& s : statuses) {
      out += std::string(family.name) + "{backup=\"" + Escape(s.backup_name) + "\",dataset=\"" +
             Escape(s.source_dataset) + "\",target=\"" + Escape(s.target_dataset) + "\"} " +
             Value(family.value(s)) + "\n";
    }
  }
  out += "# HELP zsend_metrics_generated_timestamp_seconds When this file was written.\n";
  out += "# TYPE zsend_metrics_generated_timestamp_seconds gauge\n";
  out += "zsend_metrics_generated_timestamp_seconds " + Value(now) + "\n";
  return out;
}

Status WriteFileAtomically(const std::string& path, const std::string& content) {
  // Read by an exporter or a web server running as another user, so 0644 once complete.
  return zsend::WriteFileAtomically(path, content, 0644);
}

}  // namespace zsend::orchestrator
