// Zfs: a typed layer over one host's `zfs` command.
//
// Every call builds an argv, runs it through the host's CommandRunner (local, ssh, dry-run or
// a test fake) and parses the -H output into the types of zfs_types.h. Probe() reads the
// host's dialect once (zfs_dialect.h); every later call picks the modern or the older form.
// Mutating calls are marked Effect::kMutates, so a DryRunRunner prints them instead.
//
// Errors: a command that fails becomes a one-line Status naming the command, the host and
// zfs's first stderr line; "dataset does not exist" maps to kNotFound.
//
// Thread-safety: after Probe() returns, every method may be called from several threads (the
// dialect is then read-only). Probe() itself is serialised by a mutex. The runner is not owned.
#pragma once

#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "orchestrator/host/command_runner.h"
#include "orchestrator/zfs/zfs_dialect.h"
#include "orchestrator/zfs/zfs_types.h"

namespace zsend::orchestrator {

class Zfs {
 public:
  explicit Zfs(CommandRunner& runner) : runner_(runner) {}

  // Reads the dialect from `zfs -?` the first time; later calls return at once.
  Status Probe();
  // For tests and for hosts whose dialect is known: skip the probe.
  void SetDialect(const ZfsDialect& dialect);
  const ZfsDialect& dialect() const { return dialect_; }
  CommandRunner& runner() { return runner_; }

  // Filesystems and volumes at `roots` (and below when recursive), each with its origin and
  // the extra `properties` (values as zfs prints them; sizes are exact only with list -p).
  Result<std::vector<DatasetInfo>> ListDatasets(const std::vector<std::string>& roots,
                                                bool recursive,
                                                const std::vector<std::string>& properties = {});
  // Whether a filesystem or volume exists.
  Result<bool> Exists(const std::string& dataset);

  // One property of filesystems and volumes at `roots` (recursive: and below), with its source.
  Result<std::vector<PropertyValue>> GetProperty(const std::string& property,
                                                 const std::vector<std::string>& roots,
                                                 bool recursive);

  // Snapshots of `dataset` (not of its children), oldest first (by createtxg), with exact
  // guid, createtxg and userrefs. kNotFound when the dataset does not exist.
  Result<std::vector<SnapshotInfo>> ListSnapshots(const std::string& dataset);

  // Runs the commands of a snapshot batch (see PlanSnapshots in snapshot_batch.h).
  Status RunSnapshotCommands(const std::vector<std::vector<std::string>>& commands);

  // zfs hold/release TAG SNAP...: one call for all the snapshots.
  Status Hold(const std::string& tag, const std::vector<std::string>& snapshots);
  Status Release(const std::string& tag, const std::vector<std::string>& snapshots);
  // Holds on the snapshots (zfs holds -H); kFailedPrecondition when the dialect cannot list
  // them (use SnapshotInfo::userrefs and try Release instead).
  Result<std::vector<HoldInfo>> Holds(const std::vector<std::string>& snapshots);

  // Destroys snapshots of one dataset: one `zfs destroy ds@a,b,c` where the dialect batches,
  // else one call per snapshot. An empty list does nothing.
  Status DestroySnapshots(const std::string& dataset, const std::vector<std::string>& names);

  // zfs bookmark DS@SNAPSHOT DS#BOOKMARK. kFailedPrecondition where the dialect has none.
  Status Bookmark(const std::string& dataset, const std::string& snapshot,
                  const std::string& bookmark);
  // zfs destroy DS#NAME for each name, one call each (zfs takes one bookmark per destroy).
  Status DestroyBookmarks(const std::string& dataset, const std::vector<std::string>& names);

  // zfs create -p DATASET: the dataset and any missing parents.
  Status CreateWithParents(const std::string& dataset);
  // zfs set P=V DATASET, one call per property (the older zfs takes one per call).
  Status SetProperties(const std::string& dataset,
                       const std::vector<std::pair<std::string, std::string>>& properties);
  // `recursive`: `zfs inherit -r`, for the dataset and its descendants.
  Status InheritProperty(const std::string& dataset, const std::string& property,
                         bool recursive = false);

  // The target's receive_resume_token; "" when there is none or the dialect cannot resume.
  Result<std::string> ResumeToken(const std::string& dataset);
  // zfs receive -A DATASET: drops a partial receive.
  Status AbortResume(const std::string& dataset);
  // The size of the stream `send` would make, from `zfs send -nP` (OpenZFS: no data is read);
  // 0 when this zfs cannot tell (zfs-fuse has no -n/-P) or the dry run fails.
  uint64_t EstimateSendSize(SendSpec send);

 private:
  Result<CommandOutput> Query(std::vector<std::string> argv);
  Status Change(std::vector<std::string> argv);

  CommandRunner& runner_;
  std::mutex probe_mutex_;
  bool probed_ = false;  // guarded by probe_mutex_; set once, before concurrent use
  ZfsDialect dialect_ = ZfsDialect::Legacy();
};

}  // namespace zsend::orchestrator
