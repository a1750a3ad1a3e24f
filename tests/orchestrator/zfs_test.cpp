// The Zfs layer against the in-memory zfs, in both dialects: the probe, the command lines
// each dialect gets, and the parsing of what comes back.
#include "orchestrator/zfs/zfs.h"

#include <gtest/gtest.h>

#include "orchestrator/zfs/snapshot_batch.h"
#include "tests/support/fake_zfs.h"

namespace zsend::orchestrator {
namespace {

using test::FakeZfsRunner;
using Argv = std::vector<std::string>;

class ZfsLayer : public ::testing::TestWithParam<FakeZfsRunner::Flavor> {
 protected:
  void SetUp() override {
    fake_.AddDataset("tank");
    fake_.AddDataset("tank/fs");
    fake_.AddDataset("tank/fs/child");
    fake_.AddDataset("tank/vol", DatasetType::kVolume);
    ASSERT_TRUE(zfs_.Probe().ok());
  }
  bool modern() const { return GetParam() == FakeZfsRunner::Flavor::kOpenZfs; }
  FakeZfsRunner fake_{GetParam(), "src"};
  Zfs zfs_{fake_};
};

TEST_P(ZfsLayer, ProbeDetectsTheDialectOnce) {
  EXPECT_EQ(zfs_.dialect().family, modern() ? "openzfs" : "legacy");
  ASSERT_TRUE(zfs_.Probe().ok());
  EXPECT_EQ(fake_.Commands().size(), 1u);
  EXPECT_EQ(fake_.Commands()[0], (Argv{"zfs", "-?"}));
}

TEST_P(ZfsLayer, ListsFilesystemsAndVolumesWithOrigin) {
  fake_.AddSnapshot("tank/fs", "base");
  fake_.AddDataset("tank/clone", DatasetType::kFilesystem, "tank/fs@base");
  Result<std::vector<DatasetInfo>> list = zfs_.ListDatasets({"tank"}, true, {"used"});
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 5u);
  EXPECT_EQ((*list)[1].name, "tank/clone");
  EXPECT_EQ((*list)[1].origin, "tank/fs@base");
  EXPECT_EQ((*list)[2].name, "tank/fs");
  EXPECT_FALSE((*list)[2].is_clone());
  EXPECT_EQ((*list)[4].type, DatasetType::kVolume);
  // Exact with -p; the older zfs prints sizes the human way, read approximately.
  EXPECT_EQ((*list)[2].properties["used"], modern() ? "1258291" : "1.20M");
  EXPECT_NEAR(static_cast<double>(*ParseZfsNumber((*list)[2].properties["used"])), 1258291.0,
              1258291.0 * 0.01);
  Argv argv = fake_.Commands().back();
  EXPECT_EQ(std::find(argv.begin(), argv.end(), "-p") != argv.end(), modern());
}

TEST_P(ZfsLayer, ListsSnapshotsWithExactGuidsOldestFirst) {
  SnapshotInfo a = fake_.AddSnapshot("tank/fs", "a", 18000000000000000001ULL);
  SnapshotInfo b = fake_.AddSnapshot("tank/fs", "b");
  fake_.AddSnapshot("tank/fs/child", "a");
  ASSERT_TRUE(zfs_.Hold("keep", {"tank/fs@b"}).ok());
  Result<std::vector<SnapshotInfo>> snapshots = zfs_.ListSnapshots("tank/fs");
  ASSERT_TRUE(snapshots.ok()) << snapshots.status().ToString();
  ASSERT_EQ(snapshots->size(), 2u);
  EXPECT_EQ((*snapshots)[0].full_name(), "tank/fs@a");
  EXPECT_EQ((*snapshots)[0].guid, 18000000000000000001ULL);  // beyond double precision
  EXPECT_EQ((*snapshots)[0].createtxg, a.createtxg);
  EXPECT_EQ((*snapshots)[1].guid, b.guid);
  EXPECT_EQ((*snapshots)[1].userrefs, 1u);
  EXPECT_EQ((*snapshots)[0].userrefs, 0u);
  EXPECT_EQ(zfs_.ListSnapshots("tank/nope").status().code(), StatusCode::kNotFound);
}

TEST_P(ZfsLayer, GetPropertyWithSourcesSkipsSnapshots) {
  fake_.SetLocalProperty("tank", "zsend:job", "true");
  fake_.SetLocalProperty("tank/fs/child", "zsend:job", "false");
  fake_.AddSnapshot("tank/fs", "s");
  Result<std::vector<PropertyValue>> values = zfs_.GetProperty("zsend:job", {"tank"}, true);
  ASSERT_TRUE(values.ok()) << values.status().ToString();
  ASSERT_EQ(values->size(), 4u);
  EXPECT_EQ((*values)[0].source, PropertySource::kLocal);
  EXPECT_EQ((*values)[1].dataset, "tank/fs");
  EXPECT_EQ((*values)[1].source, PropertySource::kInherited);
  EXPECT_EQ((*values)[1].inherited_from, "tank");
  EXPECT_EQ((*values)[2].value, "false");
  Argv argv = fake_.Commands().back();
  EXPECT_EQ(std::find(argv.begin(), argv.end(), "-t") != argv.end(), modern());
}

TEST_P(ZfsLayer, HoldsAreListedOnlyWhereTheDialectCan) {
  fake_.AddSnapshot("tank/fs", "s");
  ASSERT_TRUE(zfs_.Hold("zsend:job", {"tank/fs@s"}).ok());
  Result<std::vector<HoldInfo>> holds = zfs_.Holds({"tank/fs@s"});
  if (modern()) {
    ASSERT_TRUE(holds.ok());
    ASSERT_EQ(holds->size(), 1u);
    EXPECT_EQ((*holds)[0].tag, "zsend:job");
  } else {
    EXPECT_EQ(holds.status().code(), StatusCode::kFailedPrecondition);
  }
  ASSERT_TRUE(zfs_.Release("zsend:job", {"tank/fs@s"}).ok());
  EXPECT_TRUE(fake_.HoldTags("tank/fs@s").empty());
  EXPECT_FALSE(zfs_.Release("zsend:job", {"tank/fs@s"}).ok());  // no such tag
}

TEST_P(ZfsLayer, DestroyIsBatchedWhereSupported) {
  for (const char* name : {"a", "b", "c", "d"}) fake_.AddSnapshot("tank/fs", name);
  size_t before = fake_.Commands().size();
  ASSERT_TRUE(zfs_.DestroySnapshots("tank/fs", {"a", "b", "c"}).ok());
  auto commands = fake_.Commands();
  if (modern()) {
    ASSERT_EQ(commands.size(), before + 1);
    EXPECT_EQ(commands.back(), (Argv{"zfs", "destroy", "tank/fs@a,b,c"}));
  } else {
    ASSERT_EQ(commands.size(), before + 3);
    EXPECT_EQ(commands.back(), (Argv{"zfs", "destroy", "tank/fs@c"}));
  }
  ASSERT_EQ(fake_.Snapshots("tank/fs").size(), 1u);
  EXPECT_EQ(fake_.Snapshots("tank/fs")[0].name, "d");
}

TEST_P(ZfsLayer, ResumeTokenAndAbort) {
  if (!modern()) {
    Result<std::string> token = zfs_.ResumeToken("tank/fs");
    ASSERT_TRUE(token.ok());
    EXPECT_EQ(*token, "");
    return;
  }
  EXPECT_EQ(*zfs_.ResumeToken("tank/fs"), "");
  fake_.SetResumeToken("tank/fs", "1-e604ea4bf-e0-789c63a2");
  EXPECT_EQ(*zfs_.ResumeToken("tank/fs"), "1-e604ea4bf-e0-789c63a2");
  ASSERT_TRUE(zfs_.AbortResume("tank/fs").ok());
  EXPECT_EQ(fake_.ResumeToken("tank/fs"), "");
  EXPECT_EQ(fake_.Commands().back(), (Argv{"zfs", "receive", "-A", "tank/fs"}));
}

TEST_P(ZfsLayer, CreateParentsAndSetProperties) {
  ASSERT_TRUE(zfs_.CreateWithParents("tank/backup/a/b").ok());
  EXPECT_TRUE(fake_.HasDataset("tank/backup/a"));
  ASSERT_TRUE(zfs_.CreateWithParents("tank/backup/a/b").ok());  // exists: fine
  ASSERT_TRUE(zfs_.SetProperties("tank/backup", {{"readonly", "on"}, {"canmount", "noauto"}}).ok());
  EXPECT_EQ(*zfs_.Exists("tank/backup/a/b"), true);
  EXPECT_EQ(*zfs_.Exists("tank/none"), false);
}

// Two transfers of one run (--jobs) creating the same new parent at once: zfs tells the one
// that comes second "dataset already exists" although it ran `create -p`. That is no failure.
TEST_P(ZfsLayer, CreateParentsLosingARaceToASiblingIsNoFailure) {
  class RacingCreate : public CommandRunner {
   public:
    explicit RacingCreate(FakeZfsRunner& fake) : fake_(fake) {}
    Result<CommandOutput> Run(const Command& command) override {
      Result<CommandOutput> out = fake_.Run(command);  // the sibling's create wins
      if (command.argv.size() == 4 && command.argv[1] == "create") {
        return CommandOutput{1, "",
                             "cannot create '" + command.argv[3] + "': dataset already exists\n"};
      }
      return out;
    }
    std::string HostLabel() const override { return fake_.HostLabel(); }

   private:
    FakeZfsRunner& fake_;
  } racing(fake_);
  Zfs zfs(racing);
  zfs.SetDialect(zfs_.dialect());
  EXPECT_TRUE(zfs.CreateWithParents("tank/backup/new").ok());
  EXPECT_TRUE(fake_.HasDataset("tank/backup/new"));
  // A create that failed for another reason still fails.
  EXPECT_FALSE(zfs.CreateWithParents("nopool/backup").ok());
}

// The race one level up: the sibling's `create -p` has made the new intermediate dataset but
// not yet its own child, so zfs names the intermediate and ours is not there yet. Once more.
TEST_P(ZfsLayer, CreateParentsLosingARaceOnAnIntermediateDatasetTriesAgain) {
  class RacingIntermediate : public CommandRunner {
   public:
    explicit RacingIntermediate(FakeZfsRunner& fake) : fake_(fake) {}
    Result<CommandOutput> Run(const Command& command) override {
      if (command.argv.size() == 4 && command.argv[1] == "create" && ++creates_ == 1) {
        (void)fake_.Run({{"zfs", "create", "-p", "tank/backup/new"}, Effect::kMutates, ""});
        return CommandOutput{1, "", "cannot create 'tank/backup/new': dataset already exists\n"};
      }
      return fake_.Run(command);
    }
    std::string HostLabel() const override { return fake_.HostLabel(); }

   private:
    FakeZfsRunner& fake_;
    int creates_ = 0;
  } racing(fake_);
  Zfs zfs(racing);
  zfs.SetDialect(zfs_.dialect());
  EXPECT_TRUE(zfs.CreateWithParents("tank/backup/new/p").ok());
  EXPECT_TRUE(fake_.HasDataset("tank/backup/new/p"));
}

TEST_P(ZfsLayer, SnapshotBatchIsAtomicInEitherDialect) {
  SnapshotBatch batch = PlanSnapshots(zfs_.dialect(), {"tank/fs", "tank/fs/child"},
                                      {"tank", "tank/fs", "tank/fs/child", "tank/vol"}, "g-1");
  EXPECT_TRUE(batch.atomic);
  ASSERT_EQ(batch.commands.size(), 1u);
  Argv expected = modern() ? Argv{"zfs", "snapshot", "tank/fs@g-1", "tank/fs/child@g-1"}
                           : Argv{"zfs", "snapshot", "-r", "tank/fs@g-1"};
  EXPECT_EQ(batch.commands[0], expected);
  ASSERT_TRUE(zfs_.RunSnapshotCommands(batch.commands).ok());
  auto fs = fake_.Snapshots("tank/fs");
  auto child = fake_.Snapshots("tank/fs/child");
  ASSERT_EQ(fs.size(), 1u);
  ASSERT_EQ(child.size(), 1u);
  EXPECT_EQ(fs[0].createtxg, child[0].createtxg);  // one transaction group
  EXPECT_TRUE(fake_.Snapshots("tank/vol").empty());
}

INSTANTIATE_TEST_SUITE_P(Dialects, ZfsLayer,
                         ::testing::Values(FakeZfsRunner::Flavor::kOpenZfs,
                                           FakeZfsRunner::Flavor::kLegacy),
                         [](const auto& param_info) {
                           return param_info.param == FakeZfsRunner::Flavor::kOpenZfs ? "OpenZfs"
                                                                                      : "Legacy";
                         });

TEST(SnapshotBatch, NamesAreGroupDashUtcTimestampOrTheGivenName) {
  EXPECT_EQ(BackupSnapshotName("daily", "", 1763758923), "daily-20251121210203");
  EXPECT_EQ(BackupSnapshotName("daily", "snap22", 1763758923), "daily-snap22");
}

TEST(SnapshotBatch, LegacyFallbackUsesSubtreesAndSaysWhenNotAtomic) {
  ZfsDialect legacy = ZfsDialect::Legacy();
  std::vector<std::string> all = {"p", "p/a", "p/a/x", "p/a/y", "p/b", "p/b/z", "p/ab"};
  // p/b is selected but its child p/b/z is not: p/b gets a snapshot of its own, no -r.
  SnapshotBatch batch = PlanSnapshots(legacy, {"p/a", "p/a/x", "p/a/y", "p/b"}, all, "g-1");
  EXPECT_FALSE(batch.atomic);
  EXPECT_EQ(batch.commands, (std::vector<Argv>{{"zfs", "snapshot", "-r", "p/a@g-1"},
                                               {"zfs", "snapshot", "p/b@g-1"}}));
  // Everything selected: one -r on the pool.
  SnapshotBatch whole = PlanSnapshots(legacy, all, all, "g-1");
  EXPECT_TRUE(whole.atomic);
  EXPECT_EQ(whole.commands, (std::vector<Argv>{{"zfs", "snapshot", "-r", "p@g-1"}}));
  // "p/ab" is not below "p/a".
  SnapshotBatch sibling = PlanSnapshots(legacy, {"p/a", "p/a/x", "p/a/y"}, all, "g-1");
  EXPECT_EQ(sibling.commands, (std::vector<Argv>{{"zfs", "snapshot", "-r", "p/a@g-1"}}));
}

}  // namespace
}  // namespace zsend::orchestrator
