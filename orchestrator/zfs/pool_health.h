// Pool health and capacity, as `zsend check --pools` reads them (bzman's -m and -c).
//
// `zpool status -x` says "all pools are healthy" (or "pool 'x' is healthy") when nothing is
// wrong and describes the problem otherwise; `zpool list -H -o name,size,allocated,free,
// capacity,health` gives each pool's fill level ("42%") and state (ONLINE, DEGRADED, FAULTED,
// ...). Both forms work on OpenZFS and on zfs-fuse.
//
// Thread-safety: as the CommandRunner; parsing functions are pure.
#pragma once

#include <string>
#include <vector>

#include "orchestrator/host/command_runner.h"

namespace zsend::orchestrator {

struct PoolHealth {
  std::string name;
  std::string health;  // "ONLINE", "DEGRADED", ...
  double capacity_percent = 0;
  std::string size;  // as zpool prints it, for messages
};

struct PoolReport {
  std::vector<PoolHealth> pools;
  bool all_healthy = true;  // `zpool status -x` found nothing wrong
  std::string status_text;  // its output when something is wrong
};

// Parses `zpool list -H -o name,size,allocated,free,capacity,health`.
Result<std::vector<PoolHealth>> ParseZpoolList(const std::string& text);
// True when `zpool status -x` output says every pool is healthy.
bool ZpoolStatusHealthy(const std::string& text);

// Runs both commands (read-only) on the host; `pools` empty: every pool.
Result<PoolReport> ReadPoolReport(CommandRunner& runner, const std::vector<std::string>& pools);

}  // namespace zsend::orchestrator
