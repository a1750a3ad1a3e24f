// MoveHold: one snapshot per dataset and backup pinned, other tags untouched, in both dialects.
#include "orchestrator/zfs/holds.h"

#include <gtest/gtest.h>

#include "tests/support/fake_zfs.h"

namespace zsend::orchestrator {
namespace {

using test::FakeZfsRunner;

class MovingHolds : public ::testing::TestWithParam<FakeZfsRunner::Flavor> {
 protected:
  void SetUp() override {
    fake_.AddDataset("tank");
    fake_.AddDataset("tank/fs");
    for (const char* name : {"g-1", "g-2", "g-3"}) fake_.AddSnapshot("tank/fs", name);
    ASSERT_TRUE(zfs_.Probe().ok());
  }
  FakeZfsRunner fake_{GetParam()};
  Zfs zfs_{fake_};
};

TEST_P(MovingHolds, HoldsTheNewAndReleasesTheOldButNotOtherTags) {
  ASSERT_TRUE(zfs_.Hold("admin", {"tank/fs@g-1"}).ok());
  ASSERT_TRUE(MoveHold(zfs_, "tank/fs", HoldTag("job"), "g-2").ok());
  EXPECT_EQ(fake_.HoldTags("tank/fs@g-2"), (std::set<std::string>{"zsend:job"}));
  ASSERT_TRUE(MoveHold(zfs_, "tank/fs", HoldTag("job"), "g-3").ok());
  EXPECT_EQ(fake_.HoldTags("tank/fs@g-1"), (std::set<std::string>{"admin"}));
  EXPECT_TRUE(fake_.HoldTags("tank/fs@g-2").empty());
  EXPECT_EQ(fake_.HoldTags("tank/fs@g-3"), (std::set<std::string>{"zsend:job"}));
  // Again with the same snapshot: nothing changes, no error.
  ASSERT_TRUE(MoveHold(zfs_, "tank/fs", HoldTag("job"), "g-3").ok());
  EXPECT_EQ(fake_.HoldTags("tank/fs@g-3"), (std::set<std::string>{"zsend:job"}));
  EXPECT_EQ(MoveHold(zfs_, "tank/fs", HoldTag("job"), "gone").code(), StatusCode::kNotFound);
}

TEST_P(MovingHolds, ManyDatasetsTakeAFewCommandsAndEndAsOneByOne) {
  // 40 datasets, each with its previous hold on g-1 and a new g-2; one with an admin hold too.
  std::vector<HoldMove> moves;
  for (int i = 0; i < 40; ++i) {
    std::string dataset = "tank/d" + std::to_string(i);
    fake_.AddDataset(dataset);
    fake_.AddSnapshot(dataset, "g-1");
    fake_.AddSnapshot(dataset, "g-2");
    ASSERT_TRUE(zfs_.Hold(HoldTag("job"), {dataset + "@g-1"}).ok());
  }
  ASSERT_TRUE(zfs_.Hold("admin", {"tank/d7@g-1"}).ok());
  for (int i = 0; i < 40; ++i) {
    std::string dataset = "tank/d" + std::to_string(i);
    moves.push_back({dataset, "g-2", fake_.Snapshots(dataset)});
  }
  moves.push_back({"tank/fs", "gone", fake_.Snapshots("tank/fs")});
  size_t before = fake_.Commands().size();
  std::vector<Status> results = MoveHolds(zfs_, HoldTag("job"), moves);
  // OpenZFS: holds -H, hold, release. zfs-fuse: hold, release (d7's admin hold makes the
  // batched release fail nowhere: it releases only this tag).
  EXPECT_LE(fake_.Commands().size() - before, 3u);
  ASSERT_EQ(results.size(), 41u);
  for (int i = 0; i < 40; ++i) {
    std::string dataset = "tank/d" + std::to_string(i);
    EXPECT_TRUE(results[i].ok()) << results[i].ToString();
    EXPECT_EQ(fake_.HoldTags(dataset + "@g-2"), (std::set<std::string>{"zsend:job"}));
    EXPECT_EQ(fake_.HoldTags(dataset + "@g-1"),
              i == 7 ? std::set<std::string>{"admin"} : std::set<std::string>{});
  }
  EXPECT_EQ(results[40].code(), StatusCode::kNotFound);
}

TEST_P(MovingHolds, AForeignHoldOnlyMakesTheReleaseGoOneByOne) {
  // zfs-fuse cannot list holds: g-1 held by "admin" alone is a candidate, and the batched
  // release fails on it ("no such tag"); retried one by one, it is left alone.
  ASSERT_TRUE(zfs_.Hold("admin", {"tank/fs@g-1"}).ok());
  ASSERT_TRUE(zfs_.Hold(HoldTag("job"), {"tank/fs@g-2"}).ok());
  std::vector<Status> results =
      MoveHolds(zfs_, HoldTag("job"), {{"tank/fs", "g-3", fake_.Snapshots("tank/fs")}});
  ASSERT_TRUE(results[0].ok()) << results[0].ToString();
  EXPECT_EQ(fake_.HoldTags("tank/fs@g-1"), (std::set<std::string>{"admin"}));
  EXPECT_TRUE(fake_.HoldTags("tank/fs@g-2").empty());
  EXPECT_EQ(fake_.HoldTags("tank/fs@g-3"), (std::set<std::string>{"zsend:job"}));
}

INSTANTIATE_TEST_SUITE_P(Dialects, MovingHolds,
                         ::testing::Values(FakeZfsRunner::Flavor::kOpenZfs,
                                           FakeZfsRunner::Flavor::kLegacy),
                         [](const auto& param_info) {
                           return param_info.param == FakeZfsRunner::Flavor::kOpenZfs ? "OpenZfs"
                                                                                      : "Legacy";
                         });

}  // namespace
}  // namespace zsend::orchestrator
