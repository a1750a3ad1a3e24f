#include "orchestrator/report/report_html.h"

#include "base/units.h"
#include "orchestrator/report/status_table.h"

namespace zsend::orchestrator {
namespace {

constexpr const char* kStyle =
    "body{font-family:sans-serif;font-size:13px;color:#222}"
    "table{border-collapse:collapse}"
    "th{background:#34495e;color:#fff;text-align:left;padding:4px 8px}"
    "td{border-bottom:1px solid #ddd;padding:4px 8px}"
    "tr.failed td{background:#fdecea}tr.ok td.result{color:#1e7e34}"
    "tr.failed td.result{color:#c0392b;font-weight:bold}"
    "pre{background:#f6f6f6;padding:6px;white-space:pre-wrap}";

std::string Cell(const std::string& text, const char* cls = nullptr) {
  std::string open = cls != nullptr ? std::string("<td class=\"") + cls + "\">" : "<td>";
  return open + HtmlEscape(text.empty() ? "-" : text) + "</td>";
}

}  // namespace

std::string HtmlEscape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string RenderHtmlReport(const std::string& title, const std::string& summary,
                             const std::vector<TransferRecord>& transfers) {
  std::string html = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" +
                     HtmlEscape(title) + "</title><style>" + kStyle + "</style></head><body>\n";
  html += "<h2>" + HtmlEscape(title) + "</h2>\n<p>" + HtmlEscape(summary) + "</p>\n";
  html +=
      "<table>\n<tr><th>Started (UTC)</th><th>Backup</th><th>Dataset</th><th>Target</th>"
      "<th>Result</th><th>Kind</th><th>From</th><th>To</th><th>Size</th><th>Wire</th>"
      "<th>Time</th><th>Rate</th><th>Transport</th></tr>\n";
  for (const TransferRecord& t : transfers) {
    const bool failed = t.result == "failed";
    const double rate = t.seconds > 0 ? static_cast<double>(t.stream_bytes) / t.seconds : 0;
    html += std::string("<tr class=\"") + (failed ? "failed" : "ok") + "\">";
    html +=
        Cell(FormatUtc(t.started)) + Cell(t.backup_name) + Cell(t.source_dataset) +
        Cell(t.target_host.empty() ? t.target_dataset : t.target_host + ":" + t.target_dataset) +
        Cell(t.result, "result") + Cell(t.kind) + Cell(t.from_snapshot) + Cell(t.to_snapshot) +
        Cell(t.stream_bytes > 0 ? FormatBytes(static_cast<double>(t.stream_bytes)) : "") +
        Cell(t.wire_bytes > 0 ? FormatBytes(static_cast<double>(t.wire_bytes)) : "") +
        Cell(t.seconds > 0 ? FormatDuration(t.seconds) : "") +
        Cell(rate > 0 ? FormatRate(rate) : "") + Cell(t.transport);
    html += "</tr>\n";
  }
  html += "</table>\n";
  bool any_error = false;
  for (const TransferRecord& t : transfers) {
    if (t.error.empty() || t.result == "ok") continue;
    if (!any_error) html += "<h3>Errors</h3>\n";
    any_error = true;
    html += "<p><b>" + HtmlEscape(t.source_dataset) + "</b> (" + HtmlEscape(t.result) + ", " +
            HtmlEscape(FormatUtc(t.started)) + ")</p>\n<pre>" + HtmlEscape(t.error) + "</pre>\n";
  }
  html += "</body></html>\n";
  return html;
}

}  // namespace zsend::orchestrator
