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
// MoveHolds does the same for many datasets in a few commands (issue 13): one `zfs holds -H`,
// one `zfs hold TAG a@s b@s ...` and one `zfs release TAG ...` for all of them (in chunks of
// kHoldBatch names), from the snapshots the caller already knows (the run's host state), so no
// dataset is listed again. OpenZFS and zfs-fuse both take several snapshots, of different
// datasets, in one hold or release. A batch that fails is retried one dataset (or, releasing
// on zfs-fuse, one snapshot) at a time, so each dataset gets its own result and a foreign
// hold's "no such tag" stays harmless. What is held and released is exactly MoveHold's.
//
// Thread-safety: as Zfs; different datasets may be handled from different threads.
#pragma once

#include <string>
#include <vector>

#include "orchestrator/zfs/zfs.h"

namespace zsend::orchestrator {

// "zsend:" + backup name.
std::string HoldTag(const std::string& backup_name);

// Holds dataset@keep with `tag` (if not held with it already) and releases `tag` from every
// other snapshot of the dataset.
Status MoveHold(Zfs& zfs, const std::string& dataset, const std::string& tag,
                const std::string& keep);

// Names per hold/release command: a long command line stays well below ARG_MAX (also through
// ssh and the far shell).
inline constexpr size_t kHoldBatch = 200;

struct HoldMove {
  std::string dataset;
  std::string keep;                     // the snapshot (short name) to hold
  std::vector<SnapshotInfo> snapshots;  // the dataset's snapshots, with userrefs
};

// MoveHold for each move; one status per move, in order.
std::vector<Status> MoveHolds(Zfs& zfs, const std::string& tag, const std::vector<HoldMove>& moves);

}  // namespace zsend::orchestrator
