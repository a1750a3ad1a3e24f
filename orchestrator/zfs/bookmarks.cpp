#include "orchestrator/zfs/bookmarks.h"

#include "orchestrator/zfs/snapshot_batch.h"

namespace zsend::orchestrator {

Status MoveBookmark(Zfs& zfs, const std::string& dataset, const std::string& group,
                    const std::string& keep, const std::vector<SnapshotInfo>& known) {
  bool have = false;
  std::vector<std::string> older;
  for (const SnapshotInfo& mark : known) {
    if (mark.name == keep) {
      have = true;
    } else if (IsGroupSnapshot(group, mark.name)) {
      older.push_back(mark.name);
    }
  }
  if (!have) ZSEND_RETURN_IF_ERROR(zfs.Bookmark(dataset, keep));
  return zfs.DestroyBookmarks(dataset, older);
}

}  // namespace zsend::orchestrator
