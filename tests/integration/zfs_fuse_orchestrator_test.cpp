// The orchestrator's zfs layer, selection and planner against real zfs-fuse pools.
//
// Each test makes its own unmounted pools with tests/support/zfs_pool.h (names carry the pid and
// a counter, so parallel helpers and runs never collide), destroyed with the fixture, pass or
// fail.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>

#include "orchestrator/host/command_runner.h"
#include "orchestrator/plan/planner.h"
#include "orchestrator/plan/selection.h"
#include "orchestrator/zfs/holds.h"
#include "orchestrator/zfs/snapshot_batch.h"
#include "orchestrator/zfs/zfs.h"
#include "tests/support/subprocess.h"
#include "tests/support/zfs_pool.h"

namespace zsend::orchestrator {
namespace {

using test::Shell;

class ZfsFuseOrchestrator : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string problem = test::ZfsFuseProblem();
    ZSEND_REQUIRE(problem.empty(), problem);
  }
  // Creates an unmounted pool on a 64 MiB file; returns its name. Destroyed with the fixture.
  std::string Pool(const std::string& role) {
    std::string error;
    pools_.push_back(
        test::ZfsPool::Create("wtorch_" + role + "_", 64, &error, test::ZfsPool::Mount::kNone));
    EXPECT_NE(pools_.back(), nullptr) << error;
    return pools_.back() == nullptr ? "" : pools_.back()->name();
  }
  void Sh(const std::string& command) {
    test::RunResult r = Shell(command + " 2>&1");
    ASSERT_EQ(r.exit_code, 0) << command << ": " << r.out << r.err;
  }
  std::string Out(const std::string& command) { return Shell(command).out; }

  LocalRunner local_;
  Zfs zfs_{local_};
  std::vector<std::unique_ptr<test::ZfsPool>> pools_;
};

TEST_F(ZfsFuseOrchestrator, ProbeDetectsTheOlderDialect) {
  ASSERT_TRUE(zfs_.Probe().ok());
  const ZfsDialect& d = zfs_.dialect();
  EXPECT_EQ(d.family, "legacy");
  EXPECT_FALSE(d.list_parsable);
  EXPECT_FALSE(d.get_types);
  EXPECT_FALSE(d.snapshot_multiple);
  EXPECT_FALSE(d.destroy_batched);
  EXPECT_FALSE(d.recv_resumable);
  EXPECT_FALSE(d.recv_set_properties);
  EXPECT_FALSE(d.send_compressed);
}

TEST_F(ZfsFuseOrchestrator, ListsDatasetsAndSnapshotsWithExactGuids) {
  std::string p = Pool("list");
  Sh("zfs create " + p + "/a && zfs create " + p + "/a/b && zfs create " + p + "/c");
  ASSERT_TRUE(zfs_.Probe().ok());
  Result<std::vector<DatasetInfo>> list = zfs_.ListDatasets({p}, true, {"used"});
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  std::vector<std::string> names;
  for (const DatasetInfo& d : *list) names.push_back(d.name);
  EXPECT_EQ(names, (std::vector<std::string>{p, p + "/a", p + "/a/b", p + "/c"}));
  EXPECT_TRUE(ParseZfsNumber((*list)[1].properties["used"]).has_value());

  // Atomic: the whole subtree p/a is selected, so one `snapshot -r`.
  SnapshotBatch batch = PlanSnapshots(zfs_.dialect(), {p + "/a", p + "/a/b"}, names, "g-1");
  EXPECT_TRUE(batch.atomic);
  ASSERT_TRUE(zfs_.RunSnapshotCommands(batch.commands).ok());
  Result<std::vector<SnapshotInfo>> a = zfs_.ListSnapshots(p + "/a");
  Result<std::vector<SnapshotInfo>> b = zfs_.ListSnapshots(p + "/a/b");
  ASSERT_TRUE(a.ok() && b.ok()) << a.status().ToString();
  ASSERT_EQ(a->size(), 1u);
  ASSERT_EQ(b->size(), 1u);
  EXPECT_EQ((*a)[0].createtxg, (*b)[0].createtxg);  // one transaction group
  std::string guid = Out("zfs get -H -p -o value guid " + p + "/a@g-1");
  EXPECT_EQ(std::to_string((*a)[0].guid) + "\n", guid);
  EXPECT_TRUE(zfs_.ListSnapshots(p + "/c")->empty());
  EXPECT_EQ(zfs_.ListSnapshots(p + "/none").status().code(), StatusCode::kNotFound);
}

TEST_F(ZfsFuseOrchestrator, HoldsChangeUserrefsAndBlockDestroy) {
  std::string p = Pool("hold");
  Sh("zfs create " + p + "/fs && zfs snapshot " + p + "/fs@s1 && zfs snapshot " + p + "/fs@s2");
  ASSERT_TRUE(zfs_.Probe().ok());
  ASSERT_TRUE(zfs_.Hold("zsend:job", {p + "/fs@s1", p + "/fs@s2"}).ok());
  EXPECT_EQ((*zfs_.ListSnapshots(p + "/fs"))[0].userrefs, 1u);
  EXPECT_EQ(Out("zfs get -H -o value userrefs " + p + "/fs@s2"), "1\n");
  EXPECT_EQ(zfs_.Holds({p + "/fs@s1"}).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_FALSE(zfs_.DestroySnapshots(p + "/fs", {"s1"}).ok());  // held
  ASSERT_TRUE(zfs_.Release("zsend:job", {p + "/fs@s1"}).ok());
  EXPECT_EQ((*zfs_.ListSnapshots(p + "/fs"))[0].userrefs, 0u);
  ASSERT_TRUE(zfs_.DestroySnapshots(p + "/fs", {"s1"}).ok());
  Result<std::vector<SnapshotInfo>> left = zfs_.ListSnapshots(p + "/fs");
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ((*left)[0].name, "s2");
}

TEST_F(ZfsFuseOrchestrator, MoveHoldKeepsOneSnapshotPinnedWithoutListingHolds) {
  std::string p = Pool("move");
  Sh("zfs create " + p + "/fs && zfs snapshot " + p + "/fs@g-1 && zfs snapshot " + p + "/fs@g-2");
  Sh("zfs hold admin " + p + "/fs@g-1");
  ASSERT_TRUE(zfs_.Probe().ok());
  ASSERT_TRUE(MoveHold(zfs_, p + "/fs", HoldTag("job"), "g-1").ok());
  EXPECT_EQ(Out("zfs get -H -o value userrefs " + p + "/fs@g-1"), "2\n");
  ASSERT_TRUE(MoveHold(zfs_, p + "/fs", HoldTag("job"), "g-2").ok());
  EXPECT_EQ(Out("zfs get -H -o value userrefs " + p + "/fs@g-1"), "1\n");  // admin's stays
  EXPECT_EQ(Out("zfs get -H -o value userrefs " + p + "/fs@g-2"), "1\n");
  ASSERT_TRUE(MoveHold(zfs_, p + "/fs", HoldTag("job"), "g-2").ok());  // idempotent
  EXPECT_EQ(Out("zfs get -H -o value userrefs " + p + "/fs@g-2"), "1\n");
  Sh("zfs release admin " + p + "/fs@g-1 && zfs release zsend:job " + p + "/fs@g-2");
}

TEST_F(ZfsFuseOrchestrator, SelectionByRealPropertiesWithInheritance) {
  std::string p = Pool("sel");
  for (const char* d : {"/a", "/a/x", "/a/y", "/c", "/c/k", "/c/k/deep", "/d", "/d/kid", "/e"}) {
    Sh("zfs create " + p + d);
  }
  Sh("zfs set zsend:job=true " + p + "/a && zfs set zsend:job=false " + p + "/a/x");
  Sh("zfs set zsend:job=child " + p + "/c && zfs set zsend:job=parent " + p + "/d");
  Sh("zfs snapshot " + p + "/a@snap");  // snapshots inherit the property but are not datasets
  ASSERT_TRUE(zfs_.Probe().ok());
  Result<std::vector<SelectionDecision>> decisions = SelectByProperty(zfs_, "job", {p});
  ASSERT_TRUE(decisions.ok()) << decisions.status().ToString();
  EXPECT_EQ(SelectedNames(*decisions), (std::vector<std::string>{p + "/a", p + "/a/y", p + "/c/k",
                                                                 p + "/c/k/deep", p + "/d"}));
}

TEST_F(ZfsFuseOrchestrator, DryRunChangesNothing) {
  std::string p = Pool("dry");
  Sh("zfs create " + p + "/fs && zfs snapshot " + p + "/fs@s1");
  std::string before = Out("zfs list -t all -H -o name,userrefs -r " + p);
  std::ostringstream printed;
  DryRunRunner dry(local_, printed);
  Zfs zfs(dry);
  ASSERT_TRUE(zfs.Probe().ok());
  ASSERT_TRUE(zfs.RunSnapshotCommands(
                     PlanSnapshots(zfs.dialect(), {p + "/fs"}, {p, p + "/fs"}, "g-1").commands)
                  .ok());
  ASSERT_TRUE(zfs.Hold("zsend:job", {p + "/fs@s1"}).ok());
  ASSERT_TRUE(zfs.DestroySnapshots(p + "/fs", {"s1"}).ok());
  ASSERT_TRUE(zfs.CreateWithParents(p + "/new/child").ok());
  EXPECT_EQ(Out("zfs list -t all -H -o name,userrefs -r " + p), before);
  EXPECT_EQ(printed.str(), "dry-run [local]: zfs snapshot " + p + "/fs@g-1\n" +
                               "dry-run [local]: zfs hold zsend:job " + p + "/fs@s1\n" +
                               "dry-run [local]: zfs destroy " + p + "/fs@s1\n" +
                               "dry-run [local]: zfs create -p " + p + "/new/child\n");
  EXPECT_EQ(zfs.ListSnapshots(p + "/fs")->size(), 1u);  // read-only commands still ran
}

// What each host has, gathered the way the orchestrator will: origin, both snapshot lists.
DatasetState Gather(Zfs& source, Zfs& target, const std::string& dataset,
                    const std::string& target_path, bool selected = true) {
  DatasetState state;
  state.source = dataset;
  state.target = *TargetName(dataset, target_path, 1);
  state.selected = selected;
  state.origin = (*source.ListDatasets({dataset}, false))[0].origin;
  state.source_snapshots = *source.ListSnapshots(dataset);
  state.target_exists = *target.Exists(state.target);
  if (state.target_exists) state.target_snapshots = *target.ListSnapshots(state.target);
  return state;
}

TEST_F(ZfsFuseOrchestrator, PlanFromRealPoolsAndRunItThroughPipes) {
  std::string src = Pool("src");
  std::string dst = Pool("dst");
  Sh("zfs create " + src + "/fs && dd if=/dev/urandom of=/" + src +
     "/fs/data bs=64k count=4 2>/dev/null || true");
  Sh("zfs snapshot " + src + "/fs@g-1");
  Sh("zfs send " + src + "/fs@g-1 | zfs recv " + dst + "/fs");  // an earlier run
  Sh("zfs snapshot " + src + "/fs@manual && zfs snapshot " + src + "/fs@g-2");
  Sh("zfs clone " + src + "/fs@g-1 " + src + "/clone && zfs snapshot " + src + "/clone@g-2");
  Sh("zfs create " + src + "/other && zfs snapshot " + src + "/other@g-1");
  Sh("zfs create " + dst + "/other && zfs snapshot " + dst + "/other@g-1");  // unrelated
  Sh("zfs create " + src + "/new && zfs snapshot " + src + "/new@g-1 && zfs snapshot " + src +
     "/new@g-2");
  ASSERT_TRUE(zfs_.Probe().ok());

  std::vector<DatasetState> states;
  for (const char* d : {"/clone", "/new", "/other", "/fs"}) {
    states.push_back(Gather(zfs_, zfs_, src + d, dst));
  }
  PlanOptions options;
  options.group = "g";
  SendPlan plan = PlanTransfers(states, options);
  ASSERT_EQ(plan.datasets.size(), 4u);
  const DatasetPlan& fs = plan.datasets[*plan.Find(src + "/fs")];
  const DatasetPlan& clone = plan.datasets[*plan.Find(src + "/clone")];
  const DatasetPlan& fresh = plan.datasets[*plan.Find(src + "/new")];
  const DatasetPlan& other = plan.datasets[*plan.Find(src + "/other")];
  EXPECT_LT(*plan.Find(src + "/fs"), *plan.Find(src + "/clone"));  // origin first
  ASSERT_EQ(fs.steps.size(), 1u);
  EXPECT_EQ(fs.steps[0].kind, TransferKind::kIncremental);
  EXPECT_EQ(fs.steps[0].from, src + "/fs@g-1");  // common, found by guid on the real target
  EXPECT_EQ(fs.steps[0].to, src + "/fs@g-2");
  ASSERT_EQ(clone.steps.size(), 1u);
  EXPECT_EQ(clone.steps[0].kind, TransferKind::kClone);
  EXPECT_EQ(clone.steps[0].from, src + "/fs@g-1");
  ASSERT_EQ(fresh.steps.size(), 2u);
  EXPECT_EQ(fresh.steps[0].kind, TransferKind::kFull);
  EXPECT_EQ(other.action, DatasetAction::kFailed);

  // Run the plan with plain pipes: the argv the dialect produced must work on zfs-fuse.
  for (const DatasetPlan& d : plan.datasets) {
    for (const TransferStep& step : d.steps) {
      Result<std::vector<std::string>> send = BuildSendArgv(zfs_.dialect(), step.ToSendSpec());
      ASSERT_TRUE(send.ok()) << send.status().ToString();
      RecvSpec recv;
      recv.target = step.target_dataset;
      Sh(ShellJoin(*send) + " | " + ShellJoin(BuildRecvCommand(zfs_.dialect(), recv).argv));
    }
  }
  EXPECT_EQ(Out("zfs get -H -o value origin " + dst + "/clone"), dst + "/fs@g-1\n");
  EXPECT_EQ(Out("zfs list -H -o name -t snapshot -r " + dst + "/fs"),
            dst + "/fs@g-1\n" + dst + "/fs@manual\n" + dst + "/fs@g-2\n");  // -I intermediates
  EXPECT_EQ(Out("zfs list -H -o name -t snapshot -r " + dst + "/new"),
            dst + "/new@g-1\n" + dst + "/new@g-2\n");
  // Planned again, everything that was sent is up to date.
  std::vector<DatasetState> again;
  for (const char* d : {"/clone", "/new", "/fs"}) again.push_back(Gather(zfs_, zfs_, src + d, dst));
  for (const DatasetPlan& d : PlanTransfers(again, options).datasets) {
    EXPECT_EQ(d.action, DatasetAction::kUpToDate) << d.source << ": " << d.error.message();
  }
}

}  // namespace
}  // namespace zsend::orchestrator
