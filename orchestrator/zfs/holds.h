// Holds: keeping the snapshot the next incremental needs from being destroyed.
//
// After a good transfer the orchestrator holds the new common snapshot on the source with the
// tag `zsend:BACKUP_NAME` (zfs_autobackup's habit) and releases that tag from the dataset's
// other snapshots, so exactly one snapshot per dataset and backup is pinned. Other tags
// (other jobs, the admin) are never touched.
//
// Where `zfs holds -H` works (OpenZFS) the tags are read exactly. Where it does not (zfs-fuse),
// snapshots with userrefs > 0 are candidates: the release is tried on each and "no such tag"
// means the hold belongs to someone else.
//
// Thread-safety: as Zfs; different datasets may be handled from different threads.
#pragma once

#include <string>

#include "orchestrator/zfs/zfs.h"

namespace zsend::orchestrator {

// "zsend:" + backup name.
std::string HoldTag(const std::string& backup_name);

// Holds dataset@keep with `tag` (if not held with it already) and releases `tag` from every
// other snapshot of the dataset.
Status MoveHold(Zfs& zfs, const std::string& dataset, const std::string& tag,
                const std::string& keep);

}  // namespace zsend::orchestrator
