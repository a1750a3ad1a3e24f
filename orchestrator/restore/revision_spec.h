// Revision specs: which snapshot of a dataset `-r REV` means (zsend restore, zsend list).
//
// A spec is resolved against one dataset's snapshots, oldest first (Zfs::ListSnapshots order),
// trying these forms in order; the first that applies decides:
//   1. a snapshot name present in the list (the part after '@'; "pool/fs@name" also works)
//   2. `latest`: the newest snapshot
//   3. a relative count of at most 6 digits: `0` the newest, `1` the one before, ...
//   4. a group name: the newest snapshot that group made (IsGroupSnapshot in snapshot_batch.h:
//      "GROUP-" and a name without '-'; --group, default the backup name)
//   5. a tag: the newest snapshot whose zsend:tags carries it (zsend daemon's schedules,
//      `zsend backup --tags`; `tags` maps short names to their tags)
//   6. a unique prefix of a snapshot name; a prefix matching several is an error listing them
// Anything else is kNotFound naming the spec and the dataset; a count past the oldest, an ambiguous
// prefix or an empty spec are kInvalidArgument. Pure functions: thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "orchestrator/zfs/zfs_types.h"

namespace zsend::orchestrator {

// The index in `snapshots` (oldest first) that `spec` names.
Result<size_t> ResolveRevision(const std::string& spec, const std::vector<SnapshotInfo>& snapshots,
                               const std::string& dataset,
                               const std::map<std::string, std::vector<std::string>>& tags = {});

}  // namespace zsend::orchestrator
