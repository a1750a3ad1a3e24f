// The planner: full + -I on the first run, incrementals by GUID, diverged targets, clones from
// their origin, unselected origins pulled in first, resume tokens, dependency order.
#include "orchestrator/plan/planner.h"

#include <gtest/gtest.h>

namespace zsend::orchestrator {
namespace {

uint64_t next_txg = 100;

// Snapshots of `dataset` named `names`, with guids from `guids` (0: derived from the name).
std::vector<SnapshotInfo> Snaps(const std::string& dataset, const std::vector<std::string>& names,
                                const std::vector<uint64_t>& guids = {}) {
  std::vector<SnapshotInfo> result;
  for (size_t i = 0; i < names.size(); ++i) {
    uint64_t guid = i < guids.size() && guids[i] ? guids[i] : std::hash<std::string>{}(names[i]);
    result.push_back({dataset, names[i], guid, ++next_txg, 0});
  }
  return result;
}

DatasetState State(const std::string& source, const std::vector<std::string>& names) {
  DatasetState state;
  state.source = source;
  state.target = "backup/" + source;
  state.source_snapshots = Snaps(source, names);
  return state;
}

// The target copy of source snapshots (same names and guids, the target's own txgs).
void Replicate(DatasetState& state, const std::vector<std::string>& names) {
  state.target_exists = true;
  for (const SnapshotInfo& s : state.source_snapshots) {
    if (std::find(names.begin(), names.end(), s.name) == names.end()) continue;
    state.target_snapshots.push_back({state.target, s.name, s.guid, ++next_txg, 0});
  }
}

PlanOptions Group(const std::string& group) {
  PlanOptions options;
  options.group = group;
  return options;
}

TEST(Planner, FirstRunIsFullOfOldestThenOneIncrementalToNewest) {
  DatasetState state = State("tank/fs", {"manual", "g-1", "other-1", "g-2", "g-3"});
  SendPlan plan = PlanTransfers({state}, Group("g"));
  ASSERT_EQ(plan.datasets.size(), 1u);
  const DatasetPlan& d = plan.datasets[0];
  EXPECT_EQ(d.action, DatasetAction::kTransfer);
  ASSERT_EQ(d.steps.size(), 2u);
  EXPECT_EQ(d.steps[0].kind, TransferKind::kFull);
  EXPECT_EQ(d.steps[0].to, "tank/fs@g-1");
  EXPECT_EQ(d.steps[0].from, "");
  EXPECT_FALSE(d.steps[0].force);
  EXPECT_EQ(d.steps[1].kind, TransferKind::kIncremental);
  EXPECT_EQ(d.steps[1].from, "tank/fs@g-1");
  EXPECT_EQ(d.steps[1].to, "tank/fs@g-3");
  EXPECT_TRUE(d.steps[1].intermediates);
  EXPECT_TRUE(d.create_target_parent);
  EXPECT_EQ(d.final_snapshot, "g-3");
  EXPECT_EQ(d.needed_source_snapshots, (std::vector<std::string>{"g-1", "g-3"}));
}

TEST(Planner, AnotherGroupWhoseNameStartsWithOursIsNotSent) {
  DatasetState state = State(
      "tank/fs", {"db-hourly-20260101000000", "db-20260101000500", "db-hourly-20260102000000"});
  SendPlan plan = PlanTransfers({state}, Group("db"));
  ASSERT_EQ(plan.datasets[0].steps.size(), 1u);
  EXPECT_EQ(plan.datasets[0].steps[0].to, "tank/fs@db-20260101000500");
  plan = PlanTransfers({State("tank/fs", {"db-hourly-20260101000000"})}, Group("db"));
  EXPECT_EQ(plan.datasets[0].action, DatasetAction::kFailed);
}

TEST(Planner, SingleSnapshotIsOneFullSend) {
  SendPlan plan = PlanTransfers({State("tank/fs", {"g-1"})}, Group("g"));
  ASSERT_EQ(plan.datasets[0].steps.size(), 1u);
  EXPECT_EQ(plan.datasets[0].steps[0].kind, TransferKind::kFull);
}

TEST(Planner, IncrementalFromNewestCommonFoundByGuidNotName) {
  DatasetState state = State("tank/fs", {"g-1", "g-2", "g-3", "g-4"});
  Replicate(state, {"g-1", "g-2"});
  state.target_snapshots[1].name = "renamed-on-target";  // same guid as g-2
  SendPlan plan = PlanTransfers({state}, Group("g"));
  const DatasetPlan& d = plan.datasets[0];
  ASSERT_EQ(d.steps.size(), 1u);
  EXPECT_EQ(d.steps[0].kind, TransferKind::kIncremental);
  EXPECT_EQ(d.steps[0].from, "tank/fs@g-2");
  EXPECT_EQ(d.steps[0].to, "tank/fs@g-4");
  ASSERT_TRUE(d.common.has_value());
  EXPECT_EQ(d.common->name, "g-2");
  EXPECT_EQ(d.needed_source_snapshots, (std::vector<std::string>{"g-2", "g-4"}));
}

// Destroys source snapshot `name`, keeping a bookmark of it (same guid and createtxg).
void BookmarkAndDestroy(DatasetState& state, const std::string& name) {
  auto it = std::find_if(state.source_snapshots.begin(), state.source_snapshots.end(),
                         [&](const SnapshotInfo& s) { return s.name == name; });
  ASSERT_NE(it, state.source_snapshots.end());
  state.source_bookmarks.push_back(*it);
  state.source_snapshots.erase(it);
}

TEST(Planner, BookmarkIsTheBaseWhenItsSnapshotIsGoneFromTheSource) {
  DatasetState state = State("tank/fs", {"g-1", "g-2", "g-3", "g-4"});
  Replicate(state, {"g-1", "g-2"});
  BookmarkAndDestroy(state, "g-1");
  BookmarkAndDestroy(state, "g-2");
  SendPlan plan = PlanTransfers({state}, Group("g"));
  const DatasetPlan& d = plan.datasets[0];
  ASSERT_EQ(d.action, DatasetAction::kTransfer) << d.error.message();
  ASSERT_EQ(d.steps.size(), 2u);
  // -i from the newest shared bookmark to the next snapshot, then -I to the newest.
  EXPECT_EQ(d.steps[0].kind, TransferKind::kIncremental);
  EXPECT_EQ(d.steps[0].from, "tank/fs#g-2");
  EXPECT_EQ(d.steps[0].to, "tank/fs@g-3");
  EXPECT_FALSE(d.steps[0].intermediates);
  EXPECT_EQ(d.steps[1].from, "tank/fs@g-3");
  EXPECT_EQ(d.steps[1].to, "tank/fs@g-4");
  EXPECT_TRUE(d.steps[1].intermediates);
  EXPECT_EQ(d.final_snapshot, "g-4");
  // The bookmark is not a snapshot retention could keep; the two sent ones are.
  EXPECT_EQ(d.needed_source_snapshots, (std::vector<std::string>{"g-3", "g-4"}));
  EXPECT_NE(d.reason.find("#g-2"), std::string::npos) << d.reason;

  BookmarkAndDestroy(state, "g-3");  // one snapshot after the bookmark: one -i step
  plan = PlanTransfers({state}, Group("g"));
  ASSERT_EQ(plan.datasets[0].steps.size(), 1u);
  EXPECT_EQ(plan.datasets[0].steps[0].from, "tank/fs#g-2");
  EXPECT_EQ(plan.datasets[0].steps[0].to, "tank/fs@g-4");
}

TEST(Planner, ASharedSnapshotIsPreferredToAnOlderOrEqualBookmark) {
  DatasetState state = State("tank/fs", {"g-1", "g-2", "g-3"});
  Replicate(state, {"g-1", "g-2"});
  state.source_bookmarks.push_back(state.source_snapshots[0]);  // #g-1, older
  state.source_bookmarks.push_back(state.source_snapshots[1]);  // #g-2 beside @g-2
  SendPlan plan = PlanTransfers({state}, Group("g"));
  ASSERT_EQ(plan.datasets[0].steps.size(), 1u);
  EXPECT_EQ(plan.datasets[0].steps[0].from, "tank/fs@g-2");
  EXPECT_TRUE(plan.datasets[0].steps[0].intermediates);
}

TEST(Planner, ABookmarkTheTargetDoesNotHaveIsNoBaseAndDivergenceStillFails) {
  DatasetState state = State("tank/fs", {"g-1", "g-2", "g-3"});
  Replicate(state, {"g-1"});
  BookmarkAndDestroy(state, "g-1");
  state.source_bookmarks.back().guid ^= 1;  // not the target's snapshot
  EXPECT_EQ(PlanTransfers({state}, Group("g")).datasets[0].action, DatasetAction::kFailed);

  state.source_bookmarks.back().guid ^= 1;
  state.target_snapshots.push_back({state.target, "local", 7, ++next_txg, 0});
  SendPlan plan = PlanTransfers({state}, Group("g"));
  ASSERT_EQ(plan.datasets[0].action, DatasetAction::kFailed);
  EXPECT_NE(plan.datasets[0].error.message().find("newer than the common one #g-1"),
            std::string::npos)
      << plan.datasets[0].error.message();
}

TEST(Planner, SameNameDifferentGuidIsNotCommon) {
  DatasetState state = State("tank/fs", {"g-1", "g-2"});
  Replicate(state, {"g-1"});
  state.target_snapshots[0].guid ^= 1;  // a different snapshot that happens to share the name
  SendPlan plan = PlanTransfers({state}, Group("g"));
  EXPECT_EQ(plan.datasets[0].action, DatasetAction::kFailed);
  EXPECT_EQ(plan.FailedCount(), 1);
}

TEST(Planner, UpToDateTargetSendsNothing) {
  DatasetState state = State("tank/fs", {"g-1", "g-2", "manual"});
  Replicate(state, {"g-1", "g-2"});
  SendPlan plan = PlanTransfers({state}, Group("g"));
  EXPECT_EQ(plan.datasets[0].action, DatasetAction::kUpToDate);
  EXPECT_TRUE(plan.datasets[0].steps.empty());
  EXPECT_EQ(plan.datasets[0].final_snapshot, "g-2");
}

TEST(Planner, DivergedTargetFailsAloneUnlessForcedByName) {
  DatasetState diverged = State("tank/a", {"g-1", "g-2"});
  diverged.target_exists = true;
  diverged.target_snapshots = Snaps(diverged.target, {"g-1"}, {4242});
  DatasetState fine = State("tank/b", {"g-1"});
  SendPlan plan = PlanTransfers({diverged, fine}, Group("g"));
  ASSERT_EQ(plan.datasets.size(), 2u);
  EXPECT_EQ(plan.datasets[0].action, DatasetAction::kFailed);
  EXPECT_NE(plan.datasets[0].error.message().find("shares no snapshot"), std::string::npos);
  EXPECT_NE(plan.datasets[0].error.message().find("backup/tank/a"), std::string::npos);
  EXPECT_EQ(plan.datasets[1].action, DatasetAction::kTransfer);

  PlanOptions forced = Group("g");
  forced.force = {"tank/a"};
  SendPlan replaced = PlanTransfers({diverged}, forced);
  ASSERT_EQ(replaced.datasets[0].steps.size(), 2u);
  EXPECT_EQ(replaced.datasets[0].steps[0].kind, TransferKind::kFull);
  EXPECT_TRUE(replaced.datasets[0].steps[0].force);
}

TEST(Planner, TargetSnapshotsAfterCommonNeedRollback) {
  DatasetState state = State("tank/fs", {"g-1", "g-2"});
  Replicate(state, {"g-1"});
  state.target_snapshots.push_back({state.target, "made-on-target", 999, ++next_txg, 0});
  SendPlan plan = PlanTransfers({state}, Group("g"));
  EXPECT_EQ(plan.datasets[0].action, DatasetAction::kFailed);
  EXPECT_NE(plan.datasets[0].error.message().find("--rollback would destroy them"),
            std::string::npos)
      << plan.datasets[0].error.message();
  EXPECT_NE(plan.datasets[0].error.message().find("made-on-target"), std::string::npos);
  // --rollback alone refuses to destroy a snapshot zsend did not make, naming it and --force.
  PlanOptions rollback = Group("g");
  rollback.rollback = true;
  SendPlan refused = PlanTransfers({state}, rollback);
  EXPECT_EQ(refused.datasets[0].action, DatasetAction::kFailed);
  EXPECT_TRUE(refused.datasets[0].steps.empty());
  EXPECT_NE(refused.datasets[0].error.message().find("made-on-target"), std::string::npos);
  EXPECT_NE(refused.datasets[0].error.message().find("--force"), std::string::npos);
  // With --force it goes on, and the plan names what -F destroys.
  rollback.rollback_foreign = true;
  SendPlan rolled = PlanTransfers({state}, rollback);
  ASSERT_EQ(rolled.datasets[0].steps.size(), 1u);
  EXPECT_TRUE(rolled.datasets[0].steps[0].force);
  EXPECT_EQ(rolled.datasets[0].rollback_destroys, (std::vector<std::string>{"made-on-target"}));
}

TEST(Planner, RollbackOverTheGroupsOwnSnapshotsNamesThemWithoutForce) {
  DatasetState state = State("tank/fs", {"g-1", "g-2"});
  Replicate(state, {"g-1"});
  state.target_snapshots.push_back({state.target, "g-20260101000000", 998, ++next_txg, 0});
  PlanOptions rollback = Group("g");
  rollback.rollback = true;
  SendPlan rolled = PlanTransfers({state}, rollback);
  ASSERT_EQ(rolled.datasets[0].action, DatasetAction::kTransfer)
      << rolled.datasets[0].error.message();
  EXPECT_EQ(rolled.datasets[0].rollback_destroys, (std::vector<std::string>{"g-20260101000000"}));
  // Without anything newer on the target, --rollback destroys no snapshot.
  DatasetState clean = State("tank/fs", {"g-1", "g-2"});
  Replicate(clean, {"g-1"});
  EXPECT_TRUE(PlanTransfers({clean}, rollback).datasets[0].rollback_destroys.empty());
}

TEST(Planner, NoGroupSnapshotIsAnError) {
  SendPlan plan = PlanTransfers({State("tank/fs", {"manual"})}, Group("g"));
  EXPECT_EQ(plan.datasets[0].action, DatasetAction::kFailed);
  EXPECT_NE(plan.datasets[0].error.message().find("no snapshot of group g"), std::string::npos);
}

TEST(Planner, CloneIsSentFromItsOriginWhenTheOriginIsOnTheTarget) {
  DatasetState base = State("tank/base", {"img", "g-1", "g-2"});
  Replicate(base, {"img", "g-1"});
  DatasetState clone = State("tank/clone", {"g-1", "g-2"});
  clone.origin = "tank/base@img";
  SendPlan plan = PlanTransfers({clone, base}, Group("g"));
  ASSERT_EQ(plan.datasets.size(), 2u);
  EXPECT_EQ(plan.datasets[0].source, "tank/base");  // origin before clone
  const DatasetPlan& c = plan.datasets[1];
  EXPECT_EQ(c.depends_on, (std::vector<size_t>{0}));
  ASSERT_EQ(c.steps.size(), 2u);
  EXPECT_EQ(c.steps[0].kind, TransferKind::kClone);
  EXPECT_EQ(c.steps[0].from, "tank/base@img");
  EXPECT_EQ(c.steps[0].to, "tank/clone@g-1");
  EXPECT_EQ(c.steps[0].ToSendSpec().from, "tank/base@img");
  EXPECT_FALSE(c.steps[0].ToSendSpec().intermediates);  // -i, not -I
  EXPECT_EQ(c.steps[1].kind, TransferKind::kIncremental);
  EXPECT_EQ(c.steps[1].to, "tank/clone@g-2");
  // The origin snapshot is needed on the base's source.
  const std::vector<std::string>& needed = plan.datasets[0].needed_source_snapshots;
  EXPECT_NE(std::find(needed.begin(), needed.end(), "img"), needed.end());
}

TEST(Planner, UnselectedOriginMissingOnTargetIsSentFirst) {
  DatasetState base = State("zones/image", {"final"});
  base.selected = false;
  DatasetState clone = State("zones/vm", {"g-1"});
  clone.origin = "zones/image@final";
  SendPlan plan = PlanTransfers({clone, base}, Group("g"));
  ASSERT_EQ(plan.datasets.size(), 2u);
  const DatasetPlan& b = plan.datasets[0];
  EXPECT_EQ(b.source, "zones/image");
  EXPECT_FALSE(b.selected);
  ASSERT_EQ(b.steps.size(), 1u);
  EXPECT_EQ(b.steps[0].kind, TransferKind::kFull);
  EXPECT_EQ(b.steps[0].to, "zones/image@final");
  EXPECT_EQ(plan.datasets[1].steps[0].kind, TransferKind::kClone);
}

TEST(Planner, UnselectedOriginAlreadyOnTargetIsNotSent) {
  DatasetState base = State("zones/image", {"final", "later"});
  base.selected = false;
  Replicate(base, {"final"});
  DatasetState clone = State("zones/vm", {"g-1"});
  clone.origin = "zones/image@final";
  SendPlan plan = PlanTransfers({clone, base}, Group("g"));
  EXPECT_EQ(plan.datasets[0].action, DatasetAction::kNotNeeded);
  EXPECT_EQ(plan.datasets[1].action, DatasetAction::kTransfer);
  EXPECT_EQ(plan.datasets[1].steps[0].kind, TransferKind::kClone);
}

TEST(Planner, CloneWithoutItsOriginStateFails) {
  DatasetState clone = State("zones/vm", {"g-1"});
  clone.origin = "zones/image@final";
  SendPlan plan = PlanTransfers({clone}, Group("g"));
  EXPECT_EQ(plan.datasets[0].action, DatasetAction::kFailed);
}

TEST(Planner, ParentsFirstAndDependantsOfFailuresSkipped) {
  DatasetState child = State("tank/a/b", {"g-1"});
  DatasetState grandchild = State("tank/a/b/c", {"g-1"});
  DatasetState parent = State("tank/a", {"g-1"});
  parent.target_exists = true;  // diverged: fails
  parent.target_snapshots = Snaps(parent.target, {"x"}, {77});
  DatasetState clone = State("tank/z", {"g-1"});
  clone.origin = "tank/a@g-1";
  DatasetState other = State("tank/other", {"g-1"});
  SendPlan plan = PlanTransfers({grandchild, clone, child, other, parent}, Group("g"));
  std::vector<std::string> order;
  for (const DatasetPlan& d : plan.datasets) order.push_back(d.source);
  EXPECT_EQ(order,
            (std::vector<std::string>{"tank/a", "tank/a/b", "tank/a/b/c", "tank/other", "tank/z"}));
  EXPECT_EQ(plan.datasets[0].action, DatasetAction::kFailed);
  EXPECT_EQ(plan.datasets[1].action, DatasetAction::kSkipped);
  EXPECT_EQ(plan.datasets[1].reason, "its parent tank/a failed");
  EXPECT_EQ(plan.datasets[2].action, DatasetAction::kSkipped);
  EXPECT_EQ(plan.datasets[2].reason, "its parent tank/a/b skipped");
  EXPECT_EQ(plan.datasets[3].action, DatasetAction::kTransfer);
  EXPECT_EQ(plan.datasets[4].action, DatasetAction::kSkipped);
  EXPECT_EQ(plan.datasets[4].reason, "its clone origin tank/a failed");
  EXPECT_EQ(plan.FailedCount(), 1);
}

TEST(Planner, ResumeTokenResumesThenContinues) {
  DatasetState state = State("tank/fs", {"g-1", "g-2", "g-3"});
  Replicate(state, {"g-1"});
  state.resume_token = "1-10a3c5-d8-789c636064";
  state.resume_toguid = state.source_snapshots[1].guid;  // interrupted while receiving g-2
  SendPlan plan = PlanTransfers({state}, Group("g"));
  const DatasetPlan& d = plan.datasets[0];
  ASSERT_EQ(d.steps.size(), 2u);
  EXPECT_EQ(d.steps[0].kind, TransferKind::kResume);
  EXPECT_EQ(d.steps[0].ToSendSpec().resume_token, "1-10a3c5-d8-789c636064");
  EXPECT_EQ(d.steps[1].kind, TransferKind::kIncremental);
  EXPECT_EQ(d.steps[1].from, "tank/fs@g-2");
  EXPECT_EQ(d.steps[1].to, "tank/fs@g-3");
  EXPECT_FALSE(d.abort_resume_first);
}

TEST(Planner, StaleResumeTokenIsAbortedAndTheDatasetReplanned) {
  DatasetState state = State("tank/fs", {"g-1", "g-3"});
  Replicate(state, {"g-1"});
  state.resume_token = "1-stale";
  state.resume_toguid = 123456789;  // its snapshot was destroyed on the source
  SendPlan plan = PlanTransfers({state}, Group("g"));
  const DatasetPlan& d = plan.datasets[0];
  EXPECT_TRUE(d.abort_resume_first);
  ASSERT_EQ(d.steps.size(), 1u);
  EXPECT_EQ(d.steps[0].kind, TransferKind::kIncremental);
  EXPECT_EQ(d.steps[0].from, "tank/fs@g-1");
}

// A cut first (full) receive: the target exists only as the partial receive, without snapshots.
// `zfs receive -A` destroys it, so the plan is a full send into a new target, not a failure for
// "a target sharing no snapshot" (found on OpenZFS: OpenZfsBackup.StaleTokenIsAborted...).
TEST(Planner, StaleTokenOfACutFullReceiveIsAbortedAndSentFullAgain) {
  DatasetState state = State("tank/fs", {"g-2"});
  state.target_exists = true;
  state.resume_token = "1-stale";
  state.resume_toguid = 123456789;  // g-1, destroyed on the source
  SendPlan plan = PlanTransfers({state}, Group("g"));
  const DatasetPlan& d = plan.datasets[0];
  EXPECT_EQ(d.action, DatasetAction::kTransfer) << (d.error.ok() ? "" : d.error.message());
  EXPECT_TRUE(d.abort_resume_first);
  EXPECT_TRUE(d.create_target_parent);
  ASSERT_EQ(d.steps.size(), 1u);
  EXPECT_EQ(d.steps[0].kind, TransferKind::kFull);
  EXPECT_FALSE(d.steps[0].force);
  EXPECT_EQ(d.steps[0].to, "tank/fs@g-2");
}

}  // namespace
}  // namespace zsend::orchestrator
