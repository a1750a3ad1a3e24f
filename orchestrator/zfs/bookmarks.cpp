#include "orchestrator/zfs/bookmarks.h"

#include "orchestrator/zfs/snapshot_batch.h"

namespace zsend::orchestrator {

std::string BookmarkName(const std::string& backup_name, const std::string& snapshot) {
  return "zsend" + std::to_string(backup_name.size()) + "_" + backup_name + "_" + snapshot;
}

bool IsJobBookmark(const std::string& backup_name, const std::string& group,
                   const std::string& bookmark) {
  const std::string prefix = BookmarkName(backup_name, "");
  return bookmark.rfind(prefix, 0) == 0 && IsGroupSnapshot(group, bookmark.substr(prefix.size()));
}

Status MoveBookmark(Zfs& zfs, const std::string& backup_name, const std::string& group,
                    const BookmarkMove& move, bool* made) {
  *made = false;
  const std::string name = BookmarkName(backup_name, move.keep.name);
  SnapshotInfo keep = move.keep;
  if (keep.createtxg == 0) {  // not read: the bookmark of its name says, or nothing is destroyed
    for (const SnapshotInfo& mark : move.bookmarks) {
      if (mark.name == name) keep = mark;
    }
  }
  bool have = false;
  std::vector<std::string> older, stale;
  for (const SnapshotInfo& mark : move.bookmarks) {
    if (mark.name == name) {
      bool same = keep.guid == 0 || mark.guid == keep.guid;
      have = have || same;
      if (!same) stale.push_back(mark.name);
    } else if (IsJobBookmark(backup_name, group, mark.name) && mark.createtxg < keep.createtxg) {
      older.push_back(mark.name);
    }
  }
  if (!have) {
    ZSEND_RETURN_IF_ERROR(zfs.DestroyBookmarks(move.dataset, stale));
    ZSEND_RETURN_IF_ERROR(zfs.Bookmark(move.dataset, move.keep.name, name));
    *made = true;
  }
  return zfs.DestroyBookmarks(move.dataset, older);
}

}  // namespace zsend::orchestrator
