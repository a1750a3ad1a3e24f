#include "orchestrator/plan/planner.h"

#include <algorithm>
#include <map>

#include "orchestrator/zfs/snapshot_batch.h"

namespace zsend::orchestrator {
namespace {

bool ByTxg(const SnapshotInfo& a, const SnapshotInfo& b) {
  return a.createtxg < b.createtxg;
}

const SnapshotInfo* FindGuid(const std::vector<SnapshotInfo>& snapshots, uint64_t guid) {
  for (const SnapshotInfo& s : snapshots) {
    if (s.guid == guid) return &s;
  }
  return nullptr;
}

void Need(DatasetPlan& plan, const std::string& name) {
  if (name.empty()) return;
  if (std::find(plan.needed_source_snapshots.begin(), plan.needed_source_snapshots.end(), name) ==
      plan.needed_source_snapshots.end()) {
    plan.needed_source_snapshots.push_back(name);
  }
}

std::string Joined(const std::vector<std::string>& names) {
  std::string joined;
  for (const std::string& name : names) joined += (joined.empty() ? "" : ", ") + name;
  return joined;
}

void Fail(DatasetPlan& plan, const std::string& message) {
  plan.action = DatasetAction::kFailed;
  plan.steps.clear();
  plan.error = FailedPrecondition(plan.source + ": " + message);
}

TransferStep Step(const DatasetState& state, TransferKind kind, const std::string& from,
                  const SnapshotInfo& to, bool force) {
  TransferStep step;
  step.kind = kind;
  step.source_dataset = state.source;
  step.target_dataset = state.target;
  step.from = from;
  step.to = to.full_name();
  step.intermediates = kind == TransferKind::kIncremental;
  step.force = force;
  return step;
}

// Plans one dataset. `required`: short names of source snapshots clones of it are based on.
DatasetPlan PlanDataset(const DatasetState& state, const std::set<std::string>& required,
                        const PlanOptions& options) {
  DatasetPlan plan;
  plan.source = state.source;
  plan.target = state.target;
  plan.origin = state.origin;
  plan.selected = state.selected;
  bool forced = options.force.count(state.source) > 0;
  if (!state.selected && required.empty()) {
    plan.action = DatasetAction::kNotNeeded;
    plan.reason = "not selected, and no clone needs it sent";
    return plan;
  }

  if (!state.target_error.empty()) {
    Fail(plan, state.target_error);
    return plan;
  }

  std::vector<SnapshotInfo> source = state.source_snapshots;
  std::sort(source.begin(), source.end(), ByTxg);
  std::vector<SnapshotInfo> target = state.target_snapshots;
  std::sort(target.begin(), target.end(), ByTxg);

  // What should reach the target: this group's snapshots (selected datasets only) and the
  // snapshots clones are based on.
  std::vector<SnapshotInfo> wanted;
  for (const SnapshotInfo& s : source) {
    bool in_group = state.selected && IsGroupSnapshot(options.group, s.name);
    if (in_group || required.count(s.name)) wanted.push_back(s);
  }
  for (const std::string& name : required) Need(plan, name);
  if (wanted.empty()) {
    Fail(plan, "no snapshot of group " + options.group +
                   " on the source; take one (run without --no-snapshot)");
    return plan;
  }
  const SnapshotInfo& oldest = wanted.front();
  const SnapshotInfo& newest = wanted.back();

  // An interrupted receive: resume it when its snapshot still exists on the source.
  if (!state.resume_token.empty()) {
    const SnapshotInfo* resumed =
        state.resume_toguid ? FindGuid(source, state.resume_toguid) : nullptr;
    if (state.resume_toguid != 0 && resumed == nullptr) {
      plan.abort_resume_first = true;
      plan.reason = "stale resume token aborted (its snapshot is gone from the source)";
    } else {
      TransferStep step;
      step.kind = TransferKind::kResume;
      step.source_dataset = state.source;
      step.target_dataset = state.target;
      step.resume_token = state.resume_token;
      if (resumed) step.to = resumed->full_name();
      plan.steps.push_back(step);
      if (resumed == nullptr) {
        plan.reason = "resuming; the rest follows in the next run";
        return plan;
      }
      Need(plan, resumed->name);
      // Once the resume succeeds the target has it, as its newest snapshot.
      SnapshotInfo received = *resumed;
      received.createtxg = target.empty() ? 1 : target.back().createtxg + 1;
      target.push_back(received);
    }
  }

  const SnapshotInfo* common = nullptr;
  for (auto it = source.rbegin(); it != source.rend() && !common; ++it) {
    if (FindGuid(target, it->guid)) common = &*it;
  }
  // A bookmark newer than every shared snapshot: its snapshot is gone from the source.
  std::vector<SnapshotInfo> bookmarks = state.source_bookmarks;
  std::sort(bookmarks.begin(), bookmarks.end(), ByTxg);
  const SnapshotInfo* mark = nullptr;
  for (auto it = bookmarks.rbegin(); it != bookmarks.rend() && !mark; ++it) {
    if (FindGuid(target, it->guid)) mark = &*it;
  }
  if (mark != nullptr && common != nullptr && mark->createtxg <= common->createtxg) {
    mark = nullptr;
  }
  if (mark != nullptr && !plan.steps.empty()) mark = nullptr;  // a resume goes first
  // A stale token of a cut first receive: the target is only that partial receive (no
  // snapshots), and `zfs receive -A` destroys it; the transfer starts over with a full send.
  bool target_gone = plan.abort_resume_first && target.empty();
  bool target_present = (state.target_exists && !target_gone) || !plan.steps.empty();

  if (!target_present || (common == nullptr && mark == nullptr && forced)) {
    bool force = target_present;  // a forced replacement of an unrelated target
    plan.create_target_parent = !target_present;
    if (!state.origin.empty() && !force) {
      plan.steps.push_back(Step(state, TransferKind::kClone, state.origin, oldest, false));
      Need(plan, oldest.name);
    } else {
      plan.steps.push_back(Step(state, TransferKind::kFull, "", oldest, force));
      Need(plan, oldest.name);
    }
    if (newest.createtxg > oldest.createtxg) {
      plan.steps.push_back(
          Step(state, TransferKind::kIncremental, oldest.full_name(), newest, false));
    }
    Need(plan, newest.name);
    plan.final_snapshot = newest.name;
    return plan;
  }
  if (common == nullptr && mark == nullptr) {
    Fail(plan, "the target " + state.target +
                   " exists but shares no snapshot with the source (compared by guid); it is "
                   "never overwritten: rename or destroy it, or force this dataset by name");
    return plan;
  }
  // The base of the incremental: the newest shared snapshot, or a newer bookmark of one.
  const SnapshotInfo& base = mark ? *mark : *common;
  const std::string base_name = mark ? "#" + mark->name : base.name;
  plan.common = base;
  if (!mark) Need(plan, base.name);

  // Target snapshots after the common one are not on the source: the target diverged.
  const SnapshotInfo* common_on_target = FindGuid(target, base.guid);
  std::vector<std::string> newer_on_target;
  for (const SnapshotInfo& t : target) {
    if (t.createtxg > common_on_target->createtxg) newer_on_target.push_back(t.name);
  }
  bool force = options.rollback || forced;
  if (!newer_on_target.empty() && !force) {
    Fail(plan, "the target " + state.target + " has " + std::to_string(newer_on_target.size()) +
                   " snapshot(s) newer than the common one " + base_name + " (" +
                   Joined(newer_on_target) +
                   "); they are kept and nothing is sent. --rollback would destroy them (zfs "
                   "receive -F); keep them by moving the copy aside instead");
    return plan;
  }
  if (!newer_on_target.empty() && !forced) {
    std::vector<std::string> foreign;
    for (const std::string& name : newer_on_target) {
      if (!IsGroupSnapshot(options.group, name)) foreign.push_back(name);
    }
    if (!foreign.empty() && !options.rollback_foreign) {
      Fail(plan, "--rollback would destroy " + std::to_string(foreign.size()) +
                     " snapshot(s) on the target " + state.target +
                     " that zsend did not make for group " + options.group + " (" +
                     Joined(foreign) +
                     "); they are kept and nothing is sent. Add --force to "
                     "destroy them too");
      return plan;
    }
  }
  for (const SnapshotInfo& s : wanted) {
    if (s.createtxg < base.createtxg && required.count(s.name) && !FindGuid(target, s.guid)) {
      Fail(plan, "snapshot " + s.name +
                     " that a clone is based on is older than the common "
                     "snapshot " +
                     base_name + " and missing on the target; it cannot be sent");
      return plan;
    }
  }
  if (newest.createtxg <= base.createtxg) {
    // A bookmark names no snapshot the source still has: nothing to hold there.
    plan.final_snapshot = mark ? "" : base.name;
    if (plan.steps.empty()) {
      plan.action = state.selected ? DatasetAction::kUpToDate : DatasetAction::kNotNeeded;
      plan.reason = state.selected ? "the target has " + base_name
                                   : "the target already has the origin snapshot";
    }
    return plan;
  }
  if (mark) {
    // `send -i ds#mark ds@first`, then -I to the newest: -I cannot start at a bookmark.
    const SnapshotInfo* first = &newest;
    for (const SnapshotInfo& s : wanted) {
      if (s.createtxg > base.createtxg) {
        first = &s;
        break;
      }
    }
    TransferStep step =
        Step(state, TransferKind::kIncremental, state.source + "#" + mark->name, *first, force);
    step.intermediates = false;
    plan.steps.push_back(step);
    if (first != &newest) {
      plan.steps.push_back(
          Step(state, TransferKind::kIncremental, first->full_name(), newest, false));
    }
    Need(plan, first->name);
    plan.reason =
        "incremental from the bookmark #" + mark->name + " (its snapshot is gone from the source)";
  } else {
    plan.steps.push_back(Step(state, TransferKind::kIncremental, base.full_name(), newest, force));
  }
  plan.rollback_destroys = newer_on_target;  // what this receive -F destroys
  Need(plan, newest.name);
  plan.final_snapshot = newest.name;
  return plan;
}

}  // namespace

SendPlan PlanTransfers(const std::vector<DatasetState>& states, const PlanOptions& options) {
  // Origin snapshots each dataset must bring to the target for clones created there.
  std::map<std::string, std::set<std::string>> required;
  std::set<std::string> known;
  for (const DatasetState& state : states) known.insert(state.source);
  SendPlan plan;
  std::vector<bool> origin_missing(states.size(), false);
  for (size_t i = 0; i < states.size(); ++i) {
    const DatasetState& state = states[i];
    if (state.origin.empty() || state.target_exists) continue;
    Result<std::pair<std::string, std::string>> origin = SplitSnapshotName(state.origin);
    if (!origin.ok() || !known.count(origin->first)) {
      origin_missing[i] = true;
      continue;
    }
    required[origin->first].insert(origin->second);
  }
  for (size_t i = 0; i < states.size(); ++i) {
    const DatasetState& state = states[i];
    auto it = required.find(state.source);
    DatasetPlan dataset =
        PlanDataset(state, it == required.end() ? std::set<std::string>{} : it->second, options);
    if (origin_missing[i]) {
      Fail(dataset, "the clone origin " + state.origin +
                        " was not looked up on the source; it must be planned with the clone");
    }
    plan.datasets.push_back(std::move(dataset));
  }
  OrderAndPropagate(plan);
  return plan;
}

}  // namespace zsend::orchestrator
