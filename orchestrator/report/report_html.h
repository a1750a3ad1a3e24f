// The HTML replication report (bzman's nightly report): a styled table of transfers with their
// result, kind, snapshots, size, time and rate, failures highlighted and their errors shown.
// Used as the HTML part of the run email and by `zsend report --since 7d --html FILE`.
// Pure functions, thread-safe.
#pragma once

#include <string>
#include <vector>

#include "orchestrator/report/history.h"

namespace zsend::orchestrator {

// Escapes &, <, >, " and ' for HTML text and attributes.
std::string HtmlEscape(const std::string& text);

// A whole HTML document: `title` as heading, a summary line, then one table row per transfer
// (oldest first) and the errors below it.
std::string RenderHtmlReport(const std::string& title, const std::string& summary,
                             const std::vector<TransferRecord>& transfers);

}  // namespace zsend::orchestrator
