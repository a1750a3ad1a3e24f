// Snapshot batches: the `zfs snapshot` commands that snapshot every selected dataset of one
// host as atomically as its zfs allows.
//
// - OpenZFS takes several names in one call and makes them in one transaction group:
//   `zfs snapshot a@G-1 b/c@G-1 ...` (one command, atomic).
// - The older zfs takes one name per call, but `-r` is atomic over a subtree. So the selected
//   datasets are covered by the fewest subtrees whose every member is selected: each such
//   subtree root gets `zfs snapshot -r root@G-1` (or no -r when it has no children). When one
//   subtree covers the selection the batch is atomic; otherwise the calls run one after the
//   other, each atomic for its subtree, and `atomic` is false so the caller can say so.
//   Unselected datasets are never snapshotted to make a batch atomic.
//
// Pure functions, thread-safe.
#pragma once

#include <ctime>
#include <set>
#include <string>
#include <vector>

#include "orchestrator/zfs/zfs_dialect.h"

namespace zsend::orchestrator {

// The user property that carries a snapshot's tags ("daily,weekly"; zsend daemon's schedules).
inline constexpr const char* kTagsProperty = "zsend:tags";

struct SnapshotBatch {
  std::vector<std::vector<std::string>> commands;  // argv of each `zfs snapshot` call
  bool atomic = true;                              // every snapshot made in one transaction group
};

// The snapshot name of one run: GROUP-NAME with --snapshot-name, else GROUP-yyyymmddhhmmss in
// UTC (smartcopy's and zfs_autobackup's form). Names sort by time within a group.
std::string BackupSnapshotName(const std::string& group, const std::string& name, std::time_t now);

// Whether NAME may follow "GROUP-" as a --snapshot-name: letters, digits, '_', '.' and ':',
// never '-'. Without '-', GROUP-NAME cannot be read as another group's snapshot (`db-hourly`'s
// `db-hourly-20260101000000` is not job `db`'s).
bool IsValidSnapshotNamePart(const std::string& name);

// Group membership: true exactly for the names BackupSnapshotName makes for `group`:
// "GROUP-" followed by a name without '-' (a yyyymmddhhmmss stamp or a --snapshot-name).
// A plain prefix test would take `db-hourly-...` for job `db`'s and rotate it away.
bool IsGroupSnapshot(const std::string& group, const std::string& name);

// The other groups whose snapshots (OTHER-yyyymmddhhmmss, OTHER starting with "GROUP-") are
// among `names`: the groups `group` is a prefix of, which its rotation must leave alone.
std::set<std::string> GroupsExtendingPrefix(const std::string& group,
                                            const std::vector<std::string>& names);

// `selected`: the datasets to snapshot. `all_datasets`: every filesystem and volume of the
// pools involved (selected or not), so that `-r` is used only where it reaches no other.
SnapshotBatch PlanSnapshots(const ZfsDialect& dialect, const std::vector<std::string>& selected,
                            const std::vector<std::string>& all_datasets,
                            const std::string& snapshot_name);

}  // namespace zsend::orchestrator
