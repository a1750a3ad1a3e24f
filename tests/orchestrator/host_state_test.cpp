// HostState: one zfs command reads a host's datasets and snapshots, in both dialects.
#include "orchestrator/zfs/host_state.h"

#include <gtest/gtest.h>

#include "tests/support/fake_zfs.h"

namespace zsend::orchestrator {
namespace {

using test::FakeZfsRunner;

class ReadingHostState : public ::testing::TestWithParam<FakeZfsRunner::Flavor> {
 protected:
  void SetUp() override {
    fake_.AddDataset("tank");
    fake_.AddDataset("tank/a");
    fake_.AddDataset("tank/a/b");
    fake_.AddDataset("other");
    base_ = fake_.AddSnapshot("tank/a", "s1");
    fake_.AddSnapshot("tank/a", "s2");
    fake_.AddSnapshot("tank/a/b", "s1");
    fake_.AddDataset("tank/clone", DatasetType::kFilesystem, "tank/a@s1");
    ASSERT_TRUE(zfs_.Probe().ok());
  }
  size_t Commands() const { return fake_.Commands().size(); }
  FakeZfsRunner fake_{GetParam()};
  Zfs zfs_{fake_};
  SnapshotInfo base_;
};

TEST_P(ReadingHostState, OneCommandReadsTheSubtreesWithExactSnapshots) {
  size_t before = Commands();
  Result<HostState> state = ReadHostState(zfs_, {"tank/a", "tank/a/b", "tank/clone"}, true);
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  EXPECT_EQ(Commands() - before, 1u);
  EXPECT_EQ(state->datasets().size(), 3u);  // tank/a, tank/a/b, tank/clone; not tank, other
  const DatasetRecord* a = state->Find("tank/a");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->snapshots.size(), 2u);
  EXPECT_EQ(a->snapshots[0].name, "s1");
  EXPECT_EQ(a->snapshots[0].guid, base_.guid);  // exact, also where zfs list prints "15.6E"
  EXPECT_EQ(a->snapshots[0].createtxg, base_.createtxg);
  EXPECT_EQ(a->snapshots[1].name, "s2");
  ASSERT_NE(state->Find("tank/a/b"), nullptr);
  EXPECT_EQ(state->Find("tank/a/b")->snapshots.size(), 1u);
  ASSERT_NE(state->Find("tank/clone"), nullptr);
  EXPECT_EQ(state->Find("tank/clone")->origin, "tank/a@s1");
  EXPECT_EQ(state->Find("tank"), nullptr);
}

TEST_P(ReadingHostState, ANonRecursiveReadKeepsTheRootsAlone) {
  Result<HostState> state = ReadHostState(zfs_, {"tank/a"}, false);
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  EXPECT_EQ(state->datasets().size(), 1u);
  ASSERT_NE(state->Find("tank/a"), nullptr);
  EXPECT_EQ(state->Find("tank/a")->snapshots.size(), 2u);
}

TEST_P(ReadingHostState, AMissingRootIsNotFound) {
  Result<HostState> state = ReadHostState(zfs_, {"tank/none"}, true);
  EXPECT_EQ(state.status().code(), StatusCode::kNotFound);
}

TEST_P(ReadingHostState, HoldsCountAsUserrefs) {
  ASSERT_TRUE(zfs_.Hold("t", {"tank/a@s2"}).ok());
  Result<HostState> state = ReadHostState(zfs_, {"tank/a"}, false);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->Find("tank/a")->snapshots[0].userrefs, 0u);
  EXPECT_EQ(state->Find("tank/a")->snapshots[1].userrefs, 1u);
}

TEST(HostStateRoots, CoveringRootsDropsDescendantsAndDuplicates) {
  EXPECT_EQ(CoveringRoots({"tank/a/b", "tank/a", "tank/a", "tank/ab", "other"}),
            (std::vector<std::string>{"tank/a", "tank/ab", "other"}));
}

TEST(HostStateResume, OpenZfsReadsTheResumeToken) {
  FakeZfsRunner fake(FakeZfsRunner::Flavor::kOpenZfs);
  fake.AddDataset("backup");
  fake.AddDataset("backup/a");
  fake.SetResumeToken("backup/a", "1-abc-def");
  Zfs zfs(fake);
  ASSERT_TRUE(zfs.Probe().ok());
  Result<HostState> state = ReadHostState(zfs, {"backup"}, true);
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  EXPECT_EQ(state->Find("backup/a")->resume_token, "1-abc-def");
  EXPECT_EQ(state->Find("backup")->resume_token, "");
}

TEST(HostStateBookmarks, OpenZfsListsBookmarksBesideTheSnapshotsWithTheirGuids) {
  FakeZfsRunner fake(FakeZfsRunner::Flavor::kOpenZfs);
  fake.AddDataset("tank");
  fake.AddDataset("tank/a");
  SnapshotInfo s1 = fake.AddSnapshot("tank/a", "s1");
  fake.AddSnapshot("tank/a", "s2");
  Zfs zfs(fake);
  ASSERT_TRUE(zfs.Probe().ok());
  ASSERT_TRUE(
      fake.Run({{"zfs", "bookmark", "tank/a@s1", "tank/a#s1"}, Effect::kMutates, ""}).value().ok());
  ASSERT_TRUE(zfs.DestroySnapshots("tank/a", {"s1"}).ok());
  Result<HostState> state = ReadHostState(zfs, {"tank"}, true);
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  const DatasetRecord* a = state->Find("tank/a");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->snapshots.size(), 1u);
  EXPECT_EQ(a->snapshots[0].name, "s2");
  ASSERT_EQ(a->bookmarks.size(), 1u);
  EXPECT_EQ(a->bookmarks[0].name, "s1");
  EXPECT_EQ(a->bookmarks[0].guid, s1.guid);
  EXPECT_EQ(a->bookmarks[0].createtxg, s1.createtxg);
  EXPECT_TRUE(state->Find("tank")->bookmarks.empty());
}

INSTANTIATE_TEST_SUITE_P(Dialects, ReadingHostState,
                         ::testing::Values(FakeZfsRunner::Flavor::kOpenZfs,
                                           FakeZfsRunner::Flavor::kLegacy),
                         [](const auto& param_info) {
                           return param_info.param == FakeZfsRunner::Flavor::kOpenZfs ? "OpenZfs"
                                                                                      : "Legacy";
                         });

}  // namespace
}  // namespace zsend::orchestrator
