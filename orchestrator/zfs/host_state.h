// HostState: one host's datasets and snapshots, read in one `zfs` command per call.
//
// Planning reads each host once per run instead of asking zfs about every dataset (issue 13):
//   OpenZFS  zfs list -H -p -t all -r -o name,type,origin,guid,createtxg,userrefs,
//                                         receive_resume_token,written ROOTS...
//   legacy   zfs get -H -p -r -o name,property,value type,origin,guid,createtxg,userrefs ROOTS...
// zfs-fuse's `zfs list` prints guids the human way ("15.6E") and has no -p, while its
// `zfs get -p` is exact (and, without `get -t`, lists snapshots too): one call either way.
// The roots are reduced to the smallest set covering them (a root below another is dropped),
// so the command stays one whatever the number of datasets.
//
// `-t all` lists bookmarks too (`pool/fs#name`); they are kept per dataset beside the snapshots.
//
// A non-recursive read keeps the roots alone (their snapshots included): `-d 1` also lists
// their children, whose snapshots it does not, so those rows are dropped.
//
// Values, thread-compatible: build once, then read from any thread.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "orchestrator/zfs/zfs.h"

namespace zsend::orchestrator {

struct DatasetRecord {
  std::string name;
  DatasetType type = DatasetType::kFilesystem;
  std::string origin;                   // clone origin "pool/fs@snap", "" when none
  std::vector<SnapshotInfo> snapshots;  // oldest first (createtxg)
  // Bookmarks (OpenZFS), oldest first; `name` is the part after '#', userrefs is 0. A bookmark
  // keeps its snapshot's guid and createtxg, so it can be the base of an incremental send
  // after the snapshot is gone.
  std::vector<SnapshotInfo> bookmarks;
  std::string resume_token;  // "" for none (and always on the older zfs)
  std::string written;       // `written` as printed ("" where zfs has none)
};

class HostState {
 public:
  // Null when the dataset was not read (absent, or outside the roots).
  const DatasetRecord* Find(const std::string& dataset) const;
  DatasetRecord* Find(const std::string& dataset);
  // Adds the datasets of `other`, replacing records of the same name.
  void Merge(HostState other);
  // Records a snapshot a transfer or a batch made (the model follows the host without asking
  // zfs again); nothing when the dataset is unknown.
  void AddSnapshot(const SnapshotInfo& snapshot);
  const std::map<std::string, DatasetRecord>& datasets() const { return datasets_; }
  std::map<std::string, DatasetRecord>& datasets() { return datasets_; }

 private:
  std::map<std::string, DatasetRecord> datasets_;
};

// The smallest subset of `roots` that covers them all (drops duplicates and descendants).
std::vector<std::string> CoveringRoots(const std::vector<std::string>& roots);

// Reads the datasets at `roots` (and below when `recursive`) in one zfs command. kNotFound when
// a root does not exist (zfs says so); an empty `roots` reads nothing.
Result<HostState> ReadHostState(Zfs& zfs, const std::vector<std::string>& roots, bool recursive);

}  // namespace zsend::orchestrator
