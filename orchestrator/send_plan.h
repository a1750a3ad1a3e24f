// SendPlan: what a backup run will transfer, dataset by dataset, in dependency order.
//
// The planner (planner.h) fills it; the executor (the data-mover wave) runs its TransferSteps;
// retention (issue 6) reads `needed_source_snapshots` and `final_snapshot` to know what it
// must never destroy; the scheduler (scheduler.h) reads `depends_on`. Values, no locking.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "engine/status.h"
#include "orchestrator/zfs_dialect.h"
#include "orchestrator/zfs_types.h"

namespace zsend::orchestrator {

enum class TransferKind {
  kFull,         // zfs send SNAP (no base): the target does not exist yet
  kIncremental,  // zfs send -I COMMON SNAP (or -i)
  kClone,        // zfs send -i ORIGIN@SNAP CLONE@FIRST: creates the target as a clone
  kResume,       // zfs send -t TOKEN: finishes an interrupted receive
};
const char* TransferKindName(TransferKind kind);

// One `zfs send | zfs recv` pair.
struct TransferStep {
  TransferKind kind = TransferKind::kFull;
  std::string source_dataset;
  std::string target_dataset;
  std::string from;  // full source name of the base snapshot (-i/-I), "" for full and resume
  std::string to;    // full source name of the newest snapshot in the stream ("" for resume
                     // when the token's snapshot is not known)
  bool intermediates = false;  // -I: every snapshot between `from` and `to` travels too
  bool force = false;          // zfs recv -F (only on --rollback or a forced dataset)
  std::string resume_token;    // kResume only

  // The send side of this step (flags the dialect lacks are left out by BuildSendArgv).
  SendSpec ToSendSpec() const;
};

enum class DatasetAction {
  kTransfer,   // steps to run
  kUpToDate,   // the target already has the newest snapshot
  kNotNeeded,  // an unselected clone origin whose snapshot the target already has
  kFailed,     // planning found an error (diverged target, no snapshots...): `error`
  kSkipped,    // a dependency failed or was skipped: `reason`
};
const char* DatasetActionName(DatasetAction action);

struct DatasetPlan {
  std::string source;    // source dataset name
  std::string target;    // target dataset name
  std::string origin;    // source clone origin ("pool/base@snap"), "" when not a clone
  bool selected = true;  // false: pulled in only because a selected clone needs its origin

  DatasetAction action = DatasetAction::kTransfer;
  std::vector<TransferStep> steps;    // run in order; each needs the previous one's result
  bool abort_resume_first = false;    // a stale receive_resume_token: `zfs recv -A` first
  bool create_target_parent = false;  // `zfs create -p` the target's parent before receiving

  // --rollback: the target snapshots newer than the common one that `zfs receive -F` destroys
  // (short names, oldest first); printed before the run, in --dry-run too.
  std::vector<std::string> rollback_destroys;

  std::optional<SnapshotInfo> common;  // newest snapshot both sides shared before the run
  std::string final_snapshot;          // short name both sides share after a good run
  // Source snapshots (short names) the run needs: the incremental base, the origin snapshot
  // a clone is sent from, and the newest one sent. Retention must keep them on the source.
  std::vector<std::string> needed_source_snapshots;

  std::vector<size_t> depends_on;  // indices in SendPlan::datasets: parent, origin
  Status error;                    // kFailed: why
  std::string reason;              // kSkipped / kUpToDate / kNotNeeded: why, for the log
};

struct SendPlan {
  std::vector<DatasetPlan> datasets;  // parents before children, origins before clones

  // Index of the dataset with this source name, or nullopt.
  std::optional<size_t> Find(const std::string& source) const;
  // Number of datasets that failed at planning time.
  int FailedCount() const;
};

}  // namespace zsend::orchestrator
