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

INSTANTIATE_TEST_SUITE_P(Dialects, MovingHolds,
                         ::testing::Values(FakeZfsRunner::Flavor::kOpenZfs,
                                           FakeZfsRunner::Flavor::kLegacy),
                         [](const auto& param_info) {
                           return param_info.param == FakeZfsRunner::Flavor::kOpenZfs ? "OpenZfs"
                                                                                      : "Legacy";
                         });

}  // namespace
}  // namespace zsend::orchestrator
