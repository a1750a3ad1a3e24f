// Pruning: retention applied to real datasets on both hosts (`zsend prune`, and the rotation
// step of `zsend backup`).
//
// For each source dataset and its target, PlanPrune() reads both snapshot lists, finds the
// newest snapshot they share (by guid), and asks DecideRetention() (retention.h) for each side.
// When the target cannot be read (host unreachable, an error other than "does not exist", or
// "does not exist" while the target's parent is not there either: pool not imported, a wrong
// TARGET_PATH), the common snapshot is taken from `known_common` (the history's last good
// transfer); without one nothing is destroyed on the source, because the snapshot the next
// incremental needs is unknown. Even when the target can be read, the history's common
// snapshot stays unless the target shows a common snapshot at least as new (a target that was
// emptied or replaced does not cost the source its last known base). ApplyPrune() then destroys
// what was decided, batched as the host's zfs allows, through the host's runner (a DryRunRunner
// prints the commands instead).
//
// Thread-safety: as Zfs; call from one thread per dataset.
#pragma once

#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "orchestrator/plan/send_plan.h"
#include "orchestrator/retention/retention_decision.h"
#include "orchestrator/run/scheduler.h"
#include "orchestrator/zfs/zfs.h"

namespace zsend::orchestrator {

struct PruneOptions {
  std::string group;
  // The job's name for its per-dataset settings (job_rotation.h: zsend:NAME:keep-source and
  // zsend:NAME:keep-target on source datasets); "" reads none.
  std::string backup_name;
  std::optional<RetentionSpec> keep_source;  // nullopt: leave the source alone
  std::optional<RetentionSpec> keep_target;  // nullopt: leave the target alone
  int64_t now = 0;
  // Source dataset -> short name of the last snapshot known to be on the target (history).
  std::map<std::string, std::string> known_common;
  // Source dataset -> source snapshots a pending or failed transfer needs.
  std::map<std::string, std::set<std::string>> needed;
};

struct SidePrune {
  std::string host;     // runner label
  std::string dataset;  // "" when this side is not pruned
  std::vector<RetentionDecision> decisions;
  std::vector<std::string> destroy;  // short names, oldest first
  std::string note;                  // why the side was left alone, if it was
  Status error;                      // reading or destroying failed
  // Target snapshots that arrived without their tags: short name -> the source snapshot's
  // `zsend:tags` (same guid), set by ApplyPrune before it destroys.
  std::map<std::string, std::string> set_tags;
};

struct DatasetPrune {
  std::string source_dataset;
  std::string target_dataset;
  std::string common;  // newest shared snapshot (short name), "" when none or unknown
  SidePrune source;
  SidePrune target;
};

// One host's snapshots as rotation needs them, read for many datasets in one zfs command
// (issue 13) instead of three or four per dataset:
//   OpenZFS  zfs list -H -p -t filesystem,volume,snapshot -r
//                     -o name,guid,createtxg,userrefs,creation,zsend:tags ROOTS...
//   legacy   zfs get -H -p -r -o name,property,value guid,createtxg,userrefs,creation,zsend:tags
//                     ROOTS...
// ROOTS cover the datasets asked for (CoveringRoots; when one of them does not exist, their
// parents). Read when rotation starts, after the transfers, and before any dataset's destroys
// (which touch only that dataset's snapshots; a snapshot made later is never destroyed, a hold
// placed later makes its destroy fail). A dataset it did not list is read the per-dataset way,
// so "does not exist" and errors keep their meaning.
struct RotationFacts {
  std::vector<SnapshotInfo> snapshots;                   // oldest first (createtxg)
  std::map<std::string, int64_t> creation;               // short name -> epoch seconds
  std::map<std::string, std::vector<std::string>> tags;  // tagged snapshots only
};
class RotationReads {
 public:
  // An error when the command failed (a root absent, the host gone): the caller then reads
  // per dataset.
  static Result<RotationReads> Read(Zfs& zfs, const std::vector<std::string>& datasets);
  // Null when the dataset was not listed.
  const RotationFacts* Find(const std::string& dataset) const;

 private:
  static Result<RotationReads> ReadRoots(Zfs& zfs, const std::vector<std::string>& roots);

  std::map<std::string, RotationFacts> datasets_;
};

// Reads both sides of one dataset and decides. `target` may be null (unreachable: the caller
// could not connect); `target_error` then says why, for the note. `source_reads` and
// `target_reads`, when given, answer for the datasets they listed (RotationReads).
DatasetPrune PlanPrune(Zfs& source, Zfs* target, const std::string& source_dataset,
                       const std::string& target_dataset, const PruneOptions& options,
                       const Status& target_error = Status::Ok(),
                       const RotationReads* source_reads = nullptr,
                       const RotationReads* target_reads = nullptr);

// Sets the side's `set_tags`, then destroys its `destroy` list; records and returns the first
// error.
Status ApplyPrune(Zfs& zfs, SidePrune& side);

// One line per decision: "source local pool/fs@g-1: destroy: thinned by rule 1d1w (...)".
void PrintPruneDecisions(const DatasetPrune& prune, std::ostream& out);

// For the rotation step of a backup run: the source snapshots each dataset whose transfer did
// not succeed (failed, skipped, or never run) still needs (the plan's
// needed_source_snapshots), keyed by source dataset, for PruneOptions::needed.
std::map<std::string, std::set<std::string>> NeededByUnfinishedTransfers(
    const SendPlan& plan, const std::vector<DatasetOutcome>& outcomes);

// The `zsend:tags` property of a dataset's snapshots (`zfs get -H -d 1 zsend:tags DATASET`),
// short name -> tags; untagged snapshots are left out.
Result<std::map<std::string, std::vector<std::string>>> SnapshotTags(Zfs& zfs,
                                                                     const std::string& dataset);

// Snapshot creation times (`zfs get -H -p -d 1 creation DATASET`), short name -> epoch seconds.
Result<std::map<std::string, int64_t>> SnapshotCreationTimes(Zfs& zfs, const std::string& dataset);

}  // namespace zsend::orchestrator
