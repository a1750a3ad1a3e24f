#include "orchestrator/zfs/pool_health.h"

#include <cstdlib>

#include "orchestrator/zfs/zfs_types.h"

namespace zsend::orchestrator {

Result<std::vector<PoolHealth>> ParseZpoolList(const std::string& text) {
  std::vector<PoolHealth> pools;
  for (const std::vector<std::string>& row : ParseTabRows(text)) {
    if (row.size() != 6) {
      return Internal("zpool list printed a row with " + std::to_string(row.size()) +
                      " fields, expected 6");
    }
    PoolHealth pool;
    pool.name = row[0];
    pool.size = row[1];
    std::string capacity = row[4];
    if (!capacity.empty() && capacity.back() == '%') capacity.pop_back();
    char* end = nullptr;
    pool.capacity_percent = std::strtod(capacity.c_str(), &end);
    if (capacity.empty() || end == capacity.c_str()) {
      return Internal("zpool list printed capacity '" + row[4] + "' for " + row[0]);
    }
    pool.health = row[5];
    pools.push_back(std::move(pool));
  }
  return pools;
}

bool ZpoolStatusHealthy(const std::string& text) {
  return text.find("all pools are healthy") != std::string::npos ||
         (text.find("is healthy") != std::string::npos &&
          text.find("state:") == std::string::npos) ||
         text.find("no pools available") != std::string::npos;
}

Result<PoolReport> ReadPoolReport(CommandRunner& runner, const std::vector<std::string>& pools) {
  std::vector<std::string> list = {"zpool", "list", "-H", "-o",
                                   "name,size,allocated,free,capacity,health"};
  list.insert(list.end(), pools.begin(), pools.end());
  Result<CommandOutput> listed = RunChecked(runner, {list, Effect::kReadOnly, ""});
  if (!listed.ok()) return listed.status();
  PoolReport report;
  Result<std::vector<PoolHealth>> parsed = ParseZpoolList(listed->out);
  if (!parsed.ok()) return parsed.status();
  report.pools = std::move(*parsed);
  std::vector<std::string> status = {"zpool", "status", "-x"};
  status.insert(status.end(), pools.begin(), pools.end());
  Result<CommandOutput> checked = RunChecked(runner, {status, Effect::kReadOnly, ""});
  if (!checked.ok()) return checked.status();
  report.all_healthy = ZpoolStatusHealthy(checked->out + checked->err);
  if (!report.all_healthy) report.status_text = checked->out;
  return report;
}

}  // namespace zsend::orchestrator
