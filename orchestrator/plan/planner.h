// The planner: from what each side has, what each target lacks and how to send it.
//
// Inputs are plain values (DatasetState: both snapshot lists, the clone origin, a resume
// token) gathered by the caller from the two hosts' Zfs layers, so the rules below are tested
// without any zfs at all.
//
// For each dataset:
// 1. The snapshots that matter are this group's (IsGroupSnapshot: "GROUP-" and a name without
//    '-', never another group's `GROUP-hourly-...`), plus any snapshot a clone of
//    this dataset is based on (its origin snapshot must reach the target first).
// 2. The newest snapshot both sides share is found by GUID, never by name.
// 3. No target: a full send of the oldest wanted snapshot, then one -I stream up to the newest
//    (every intermediate snapshot travels). A clone is created as a clone instead:
//    `send -i ORIGIN@SNAP CLONE@FIRST`, then -I to the newest.
// 4. A target sharing a snapshot: one -I stream from the common snapshot to the newest, or
//    nothing when the target is up to date. Target snapshots newer than the common one (the
//    target diverged) fail the dataset, naming them. With --rollback the incremental is
//    received with -F, which destroys them: the plan names them (rollback_destroys), and when
//    one of them is not this group's (IsGroupSnapshot: not made by zsend for this job) the
//    dataset fails instead, unless PlanOptions::rollback_foreign (--force).
// 5. A target sharing nothing is an error for that dataset; it is never destroyed to make
//    room, unless the user named the dataset in PlanOptions::force (full send with recv -F).
// 5b. A source bookmark whose guid is on the target is a base too (`send -i ds#mark`), used
//    when it is newer than every shared snapshot (the snapshot it marks was destroyed on the
//    source): one -i stream from the bookmark to the first wanted snapshot after it, then -I
//    to the newest (a bookmark cannot start an -I stream). The bookmark is not a snapshot the
//    run needs on the source; the target's copy of its snapshot is the common one.
// 6. A resume token on the target resumes first (`send -t`) when its snapshot still exists on
//    the source; a stale token is marked for `zfs recv -A` and the dataset planned afresh.
//
// Clones whose origin dataset is not selected: the caller adds the origin's state with
// selected = false. When the target already has the origin snapshot, it is kNotNeeded;
// otherwise it is transferred first (smartcopy's rule), with just the snapshots clones need.
//
// Order: parents before children, origins before clones (a topological order, ties by name).
// A dataset whose parent or origin failed or was skipped is skipped with a reason.
// Pure function, thread-safe.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "orchestrator/plan/send_plan.h"

namespace zsend::orchestrator {

struct DatasetState {
  std::string source;  // source dataset
  std::string target;  // target dataset (TargetName of source)
  std::string origin;  // source clone origin "pool/base@snap", "" when not a clone
  bool selected = true;
  std::vector<SnapshotInfo> source_snapshots;  // any order
  // The source's bookmarks (OpenZFS; `name` after '#'), any order: an incremental base when
  // the snapshot they mark is gone from the source but still on the target.
  std::vector<SnapshotInfo> source_bookmarks;
  bool target_exists = false;
  // Why the target could not be seen ("" when it could): the dataset fails with it, rather
  // than being planned as a target that shares nothing (gather.h: TARGET_PATH must exist).
  std::string target_error;
  std::vector<SnapshotInfo> target_snapshots;  // any order
  std::string resume_token;                    // the target's receive_resume_token, "" for none
  uint64_t resume_toguid = 0;                  // the snapshot the token is for (0: not known)
};

struct PlanOptions {
  std::string group;              // IsGroupSnapshot(group, name): this backup's snapshots
  std::set<std::string> force;    // source datasets whose unrelated target may be replaced
  bool rollback = false;          // recv -F on incrementals (target changes are discarded)
  bool rollback_foreign = false;  // --force: --rollback may destroy snapshots zsend did not make
};

SendPlan PlanTransfers(const std::vector<DatasetState>& states, const PlanOptions& options);

// Orders the plan's datasets (parents before children, origins before clones), fills
// depends_on and skips the dependants of failed or skipped datasets. Used by PlanTransfers;
// public for tests.
void OrderAndPropagate(SendPlan& plan);

}  // namespace zsend::orchestrator
