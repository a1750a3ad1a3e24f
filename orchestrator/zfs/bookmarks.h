// Bookmarks: an incremental base that survives its snapshot and costs no space (OpenZFS).
//
// After a good transfer the orchestrator bookmarks each dataset's new common snapshot (when it
// is one of the job's group snapshots) as `ds#zsendLEN_NAME_SNAPSHOT` (BookmarkName: the
// length of the job's backup name, the name, then the snapshot's short name; the length makes
// the name unambiguous, as backup names and groups may hold '_'), and destroys the job's older
// bookmarks of that dataset, so one bookmark per dataset and job stays (zrepl's replication
// cursor). The job is in the name because two jobs may share a group (--group) and send it to
// different targets: each keeps its own base. When the snapshot is later destroyed on the source
// (by hand, another tool, or --no-holds with a short --keep-source), the next run still sends
// incrementally from the bookmark (planner.h, 5b) instead of failing with "shares no snapshot".
//
// Only the job's own bookmarks older than the new one are destroyed (IsJobBookmark); a bookmark
// another job or the admin made stays. A zfs without bookmarks (zfs-fuse) is never asked.
// Thread-safety: as Zfs.
#pragma once

#include <string>
#include <vector>

#include "orchestrator/zfs/zfs.h"

namespace zsend::orchestrator {

// "zsend" + the length of backup_name + "_" + backup_name + "_" + snapshot (its short name):
// BookmarkName("db", "db-20260101000000") is "zsend2_db_db-20260101000000".
std::string BookmarkName(const std::string& backup_name, const std::string& snapshot);

// True for the names BookmarkName makes for this job: its prefix, then one of `group`'s
// snapshot names (IsGroupSnapshot), so job `a` never takes job `a_b`'s bookmarks for its own.
bool IsJobBookmark(const std::string& backup_name, const std::string& group,
                   const std::string& bookmark);

struct BookmarkMove {
  std::string dataset;
  SnapshotInfo keep;                    // the new common snapshot (short name, guid, createtxg)
  std::vector<SnapshotInfo> bookmarks;  // the dataset's bookmarks as read for planning
};

// Bookmarks move.keep as BookmarkName(backup_name, keep) unless a bookmark of that name and
// guid exists (one of the name with another guid, from a snapshot destroyed and made again
// under the same name, is destroyed first and replaced), then destroys the job's bookmarks
// older than keep (none when keep's createtxg is not known, from the read or the bookmark of
// its name). No older one is destroyed when the new bookmark could not be made. `*made`:
// whether a bookmark was made.
Status MoveBookmark(Zfs& zfs, const std::string& backup_name, const std::string& group,
                    const BookmarkMove& move, bool* made);

}  // namespace zsend::orchestrator
