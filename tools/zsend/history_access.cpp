#include "tools/zsend/history_access.h"

#include <filesystem>

namespace zsend::cli {

Result<std::unique_ptr<orchestrator::History>> OpenHistoryForReading(const std::string& state_dir) {
  const std::string path = orchestrator::History::DatabasePath(state_dir);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return Status(StatusCode::kNotFound, "no history at " + path +
                                             ": no run recorded yet, or pass the --state-dir "
                                             "the jobs use");
  }
  return orchestrator::History::Open(state_dir);
}

}  // namespace zsend::cli
