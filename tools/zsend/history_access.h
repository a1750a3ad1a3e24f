// Opening the history for the reading subcommands (status, history, check, report): a
// missing database is reported plainly instead of being created by a read.
#pragma once

#include <memory>
#include <string>

#include "orchestrator/report/history.h"

namespace zsend::cli {

// The history under `state_dir`; kNotFound with the path when nothing was ever recorded.
Result<std::unique_ptr<orchestrator::History>> OpenHistoryForReading(const std::string& state_dir);

}  // namespace zsend::cli
