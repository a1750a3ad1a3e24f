// Metrics: the Prometheus text-format file `zsend check --metrics-file FILE` (and a backup run)
// writes for node_exporter's textfile collector.
//
// Per (backup, dataset): zsend_last_success_timestamp_seconds, zsend_last_transfer_seconds,
// zsend_last_transfer_wire_bytes, zsend_last_transfer_stream_bytes, zsend_last_result_ok (1/0,
// so a failing job is never reported as fine), zsend_transfer_failures_total and
// zsend_consecutive_failures; plus zsend_metrics_generated_timestamp_seconds. The file is
// written atomically (a temporary file in the same directory, fsync, rename), so the collector
// never reads half a file.
//
// Pure formatting, thread-safe; the writer touches only its own temporary file.
#pragma once

#include <string>
#include <vector>

#include "orchestrator/report/status_table.h"

namespace zsend::orchestrator {

std::string FormatMetrics(const std::vector<DatasetStatus>& statuses, double now);

// Writes `content` to `path` through PATH.tmp.PID (created O_EXCL|O_NOFOLLOW, so never through
// a planted symlink; base/private_file.h) + fsync + rename; the result is 0644.
Status WriteFileAtomically(const std::string& path, const std::string& content);

}  // namespace zsend::orchestrator
