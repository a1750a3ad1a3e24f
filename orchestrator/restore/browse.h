// Browsing a backup without touching it: `zsend restore ... --browse` clones one revision
// read-only on the backup host and says where it is mounted; `zsend restore --cleanup` removes
// such clones again.
//
// The clones live in POOL/zsend-browse/BACKUP_NAME/ (POOL: the copy's pool), named after the
// copy below TARGET_PATH ('/' as '_') and the snapshot: a revision browsed twice is found, not
// cloned again. They are made with `zfs clone -p -o readonly=on`, so reading them cannot change
// the backup, and an incremental into the copy still lands (a clone depends on its snapshot
// only: that snapshot cannot be destroyed by rotation until the clone is cleaned up).
// Cleanup destroys only datasets in that folder that are clones (never anything else, never
// recursively; a clone still "busy" after a few tries fails the cleanup, it is never forced);
// the empty folder datasets stay.
//
// Thread-safety: call from one thread; the runner is not owned.
#pragma once

#include <string>
#include <vector>

#include "orchestrator/zfs/zfs.h"

namespace zsend::orchestrator {

// "POOL/zsend-browse/BACKUP_NAME".
std::string BrowseFolder(const std::string& pool, const std::string& backup_name);

struct BrowseResult {
  std::string clone;       // the clone's name
  std::string mountpoint;  // "" when not mounted
  bool existed = false;    // found from an earlier --browse
};

// Clones `snapshot` (a copy's "ds@name" below `target_path`) read-only into the browse folder.
Result<BrowseResult> BrowseRevision(Zfs& backup, const std::string& backup_name,
                                    const std::string& target_path, const std::string& snapshot);

// Destroys the browse clones of `backup_name` in the pool of `target_path`; returns their names.
Result<std::vector<std::string>> CleanupBrowseClones(Zfs& backup, const std::string& backup_name,
                                                     const std::string& target_path);

}  // namespace zsend::orchestrator
