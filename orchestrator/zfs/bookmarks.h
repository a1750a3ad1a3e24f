// Bookmarks: an incremental base that survives its snapshot and costs no space (OpenZFS).
//
// After a good transfer the orchestrator bookmarks each dataset's new common snapshot under the
// same name (`zfs bookmark ds@NAME ds#NAME`) and destroys the group's older bookmarks of that
// dataset, so one bookmark per dataset and group stays (zrepl's replication cursor). When that
// snapshot is later destroyed on the source (by hand, another tool, or --no-holds with a short
// --keep-source), the next run still sends incrementally from the bookmark (planner.h, 5b)
// instead of failing with "shares no snapshot".
//
// Only the group's bookmarks (IsGroupSnapshot) are ever destroyed; a bookmark another job or
// the admin made stays. A zfs without bookmarks (zfs-fuse) is never asked.
// Thread-safety: as Zfs.
#pragma once

#include <string>
#include <vector>

#include "orchestrator/zfs/zfs.h"

namespace zsend::orchestrator {

// Bookmarks dataset@keep as dataset#keep unless `known` (the dataset's bookmarks, as read for
// planning) has it already, then destroys the group's other bookmarks in `known`. Nothing is
// destroyed when the new bookmark could not be made.
Status MoveBookmark(Zfs& zfs, const std::string& dataset, const std::string& group,
                    const std::string& keep, const std::vector<SnapshotInfo>& known);

}  // namespace zsend::orchestrator
