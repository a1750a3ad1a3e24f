// Gathering the planner's inputs from two in-memory OpenZFS hosts: clone origins pulled in,
// resume tokens decoded with `zfs send -nvt`, and the resume / stale-token plans that follow.
#include "orchestrator/gather.h"

#include <gtest/gtest.h>

#include "orchestrator/planner.h"
#include "tests/support/fake_zfs.h"

namespace zsend::orchestrator {
namespace {

using test::FakeZfsRunner;

class Gathering : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"zones", "zones/image", "zones/fs"}) source_.AddDataset(name);
    source_.AddDataset("zones/vm", DatasetType::kFilesystem, "zones/image@final");
    source_.AddSnapshot("zones/image", "final");
    source_.AddSnapshot("zones/vm", "g-1");
    g1_ = source_.AddSnapshot("zones/fs", "g-1");
    g2_ = source_.AddSnapshot("zones/fs", "g-2");
    source_.AddSnapshot("zones/fs", "g-3");
    target_.AddDataset("backup");
    target_.AddDataset("backup/fs");
    target_.AddSnapshot("backup/fs", "g-1", g1_.guid);
    // An interrupted receive of g-2 left a token on the target.
    target_.SetResumeToken("backup/fs", "1-c7c4a1b6f-f0-789c636064000310a500c4ec50360710e72765a5");
    source_.RegisterResumeToken("1-c7c4a1b6f-f0-789c636064000310a500c4ec50360710e72765a5", g1_.guid,
                                g2_.guid, "zones/fs@g-2");
    ASSERT_TRUE(source_zfs_.Probe().ok());
    ASSERT_TRUE(target_zfs_.Probe().ok());
  }
  Result<std::vector<DatasetState>> Gather() {
    return GatherStates(source_zfs_, target_zfs_, {"zones/vm", "zones/fs"}, {"backup", 1});
  }
  FakeZfsRunner source_{FakeZfsRunner::Flavor::kOpenZfs, "src"};
  FakeZfsRunner target_{FakeZfsRunner::Flavor::kOpenZfs, "dst"};
  Zfs source_zfs_{source_};
  Zfs target_zfs_{target_};
  SnapshotInfo g1_, g2_;
};

TEST_F(Gathering, ClonesPullInTheirOriginAndTokensAreDecoded) {
  Result<std::vector<DatasetState>> states = Gather();
  ASSERT_TRUE(states.ok()) << states.status().ToString();
  ASSERT_EQ(states->size(), 3u);
  const DatasetState& vm = (*states)[0];
  EXPECT_EQ(vm.source, "zones/vm");
  EXPECT_EQ(vm.target, "backup/vm");
  EXPECT_EQ(vm.origin, "zones/image@final");
  EXPECT_FALSE(vm.target_exists);
  const DatasetState& fs = (*states)[1];
  EXPECT_TRUE(fs.target_exists);
  ASSERT_EQ(fs.target_snapshots.size(), 1u);
  EXPECT_EQ(fs.target_snapshots[0].guid, g1_.guid);
  EXPECT_EQ(fs.resume_toguid, g2_.guid);
  const DatasetState& image = (*states)[2];
  EXPECT_EQ(image.source, "zones/image");
  EXPECT_FALSE(image.selected);
}

TEST_F(Gathering, PlanResumesThenSendsTheRestAndPullsTheOriginFirst) {
  Result<std::vector<DatasetState>> states = Gather();
  ASSERT_TRUE(states.ok());
  SendPlan plan = PlanTransfers(*states, PlanOptions{"g", {}, false, false});
  ASSERT_EQ(plan.datasets.size(), 3u);
  EXPECT_EQ(plan.datasets[0].source, "zones/fs");
  EXPECT_EQ(plan.datasets[1].source, "zones/image");
  EXPECT_EQ(plan.datasets[2].source, "zones/vm");  // after its origin
  const DatasetPlan& fs = plan.datasets[0];
  ASSERT_EQ(fs.steps.size(), 2u);
  EXPECT_EQ(fs.steps[0].kind, TransferKind::kResume);
  EXPECT_EQ(fs.steps[0].to, "zones/fs@g-2");
  Result<std::vector<std::string>> resume =
      BuildSendArgv(source_zfs_.dialect(), fs.steps[0].ToSendSpec());
  EXPECT_EQ(*resume,
            (std::vector<std::string>{"zfs", "send", "-t", target_.ResumeToken("backup/fs")}));
  EXPECT_EQ(fs.steps[1].from, "zones/fs@g-2");
  EXPECT_EQ(fs.steps[1].to, "zones/fs@g-3");
  EXPECT_EQ(plan.datasets[1].steps[0].to, "zones/image@final");
  EXPECT_EQ(plan.datasets[2].steps[0].kind, TransferKind::kClone);
}

TEST_F(Gathering, StaleTokenIsAbortedAndTheTransferRestarted) {
  ASSERT_TRUE(source_zfs_.DestroySnapshots("zones/fs", {"g-2"}).ok());
  Result<std::vector<DatasetState>> states = Gather();
  ASSERT_TRUE(states.ok()) << states.status().ToString();
  EXPECT_EQ((*states)[1].resume_toguid, g2_.guid);  // decoded although zfs send failed
  SendPlan plan = PlanTransfers(*states, PlanOptions{"g", {}, false, false});
  const DatasetPlan& fs = plan.datasets[*plan.Find("zones/fs")];
  EXPECT_TRUE(fs.abort_resume_first);
  ASSERT_EQ(fs.steps.size(), 1u);
  EXPECT_EQ(fs.steps[0].kind, TransferKind::kIncremental);
  EXPECT_EQ(fs.steps[0].from, "zones/fs@g-1");
  EXPECT_EQ(fs.steps[0].to, "zones/fs@g-3");
  // What the executor does for it: drop the partial receive on the target.
  ASSERT_TRUE(target_zfs_.AbortResume(fs.target).ok());
  EXPECT_EQ(target_.ResumeToken("backup/fs"), "");
}

TEST_F(Gathering, MissingTargetPathFailsEveryDatasetInsteadOfPlanningAFullSend) {
  // A typo in TARGET_PATH (or its pool not imported): nothing there is "a target sharing
  // nothing"; each dataset fails, naming the path and the fix.
  Result<std::vector<DatasetState>> states =
      GatherStates(source_zfs_, target_zfs_, {"zones/fs"}, {"bakcup", 1});
  ASSERT_TRUE(states.ok()) << states.status().ToString();
  ASSERT_EQ(states->size(), 1u);
  EXPECT_NE((*states)[0].target_error.find("TARGET_PATH bakcup does not exist"), std::string::npos)
      << (*states)[0].target_error;
  PlanOptions options;
  options.group = "g";
  SendPlan plan = PlanTransfers(*states, options);
  EXPECT_EQ(plan.datasets[0].action, DatasetAction::kFailed);
  EXPECT_TRUE(plan.datasets[0].steps.empty());
  EXPECT_NE(plan.datasets[0].error.message().find("zfs create -p bakcup"), std::string::npos);
}

TEST(ResumeToken, ParsesOpenZfsContents) {
  Result<ResumeTokenInfo> info = ParseResumeTokenContents(
      "resume token contents:\nnvlist version: 0\n\tfromguid = 0x6d1d4b5e2e3a2f4c\n"
      "\tobject = 0x3\n\toffset = 0x0\n\tbytes = 0x0\n\ttoguid = 0x9c1a0b2e4f5d6a7b\n"
      "\ttoname = pool/fs@snap\n");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->fromguid, 0x6d1d4b5e2e3a2f4cULL);
  EXPECT_EQ(info->toguid, 0x9c1a0b2e4f5d6a7bULL);
  EXPECT_EQ(info->toname, "pool/fs@snap");
  EXPECT_FALSE(ParseResumeTokenContents("cannot resume send: malformed token\n").ok());
}

}  // namespace
}  // namespace zsend::orchestrator
