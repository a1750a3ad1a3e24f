// The revisions of a backup (`zsend list`): for each dataset, the snapshots this backup's group
// made (IsGroupSnapshot in snapshot_batch.h), on the source and on the target, side by side.
//
// A revision row carries its creation time, its tags (zsend:tags), used and referenced size (from
// the source when it is there, else from the target), which sides have it (matched by name and
// guid: a snapshot of the same name with another guid on the target is shown as two rows' worth of
// trouble: `mismatch`), whether it is held on either side, and, when a transfer row of the history
// named it (result ok), that transfer's stream bytes and seconds.
//
// Errors reading one side are kept per dataset (a dataset missing on the target is simply
// "not there"), so one unreachable side never hides the other. Pure formatting functions are
// thread-safe; ListRevisions runs commands through the Zfs layers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "orchestrator/report/history.h"
#include "orchestrator/zfs/zfs.h"

namespace zsend::orchestrator {

struct RevisionSide {
  bool present = false;
  uint64_t guid = 0;
  int64_t created = 0;  // seconds since the epoch
  uint64_t used = 0, referenced = 0;
  bool held = false;  // userrefs > 0
  std::string tags;   // zsend:tags ("daily,weekly"), "" when untagged
};

struct Revision {
  std::string name;  // the part after '@'
  RevisionSide source, target;
  bool mismatch = false;     // both sides have the name, with different guids
  bool transferred = false;  // a history row moved it
  uint64_t transfer_bytes = 0;
  double transfer_seconds = 0;
  // The tags (the source's, else the target's), "-" when none.
  std::string Tags() const {
    const std::string& tags = source.tags.empty() ? target.tags : source.tags;
    return tags.empty() ? "-" : tags;
  }
};

struct DatasetRevisions {
  std::string source, target;
  std::string source_error, target_error;  // "" when the side was read
  std::vector<Revision> revisions;         // oldest first
};

// `target` null: the target was not reachable (`target_unreachable` says why).
DatasetRevisions ListRevisions(Zfs& source, Zfs* target, const std::string& target_unreachable,
                               const std::string& source_dataset, const std::string& target_dataset,
                               const std::string& group,
                               const std::vector<TransferRecord>& transfers);

struct ListRequest {
  std::string target_path;
  std::string group;  // the backup's group (snapshot prefix)
  int strip_path = 0;
  std::string dataset;  // "" every selected dataset; else one, by source or target name
};

// The revisions of each selected source dataset (`selected`, in order) and its target copy;
// an error when `request.dataset` is none of them (the message lists them).
Result<std::vector<DatasetRevisions>> ListBackupRevisions(
    Zfs& source, Zfs* target, const std::string& target_unreachable,
    const std::vector<std::string>& selected, const ListRequest& request,
    const std::vector<TransferRecord>& transfers);

// Snapshots of `dataset` (children not included) with their creation, used and referenced
// (zfs get -p, exact in both dialects), in ListSnapshots order; kNotFound when it is missing.
Result<std::vector<std::pair<SnapshotInfo, RevisionSide>>> ReadRevisionSides(
    Zfs& zfs, const std::string& dataset);

// A table per dataset: REVISION CREATED USED REFER SOURCE TARGET HELD TRANSFER.
std::string FormatRevisionTable(const std::vector<DatasetRevisions>& datasets);
// {"datasets": [{"source", "target", "source_error", "target_error", "revisions": [...]}]}.
std::string FormatRevisionJson(const std::vector<DatasetRevisions>& datasets);

}  // namespace zsend::orchestrator
