// Bookmarks: whose they are (the job's name and group), and MoveBookmark on the fake OpenZFS.
#include "orchestrator/zfs/bookmarks.h"

#include <gtest/gtest.h>

#include "orchestrator/zfs/host_state.h"
#include "tests/support/fake_zfs.h"

namespace zsend::orchestrator {
namespace {

using test::FakeZfsRunner;

TEST(JobBookmarks, OnlyTheJobsOwnNamesAreItsBookmarks) {
  EXPECT_EQ(BookmarkName("a", "a-20260101000000"), "zsend1_a_a-20260101000000");
  EXPECT_TRUE(IsJobBookmark("a", "a", "zsend1_a_a-20260101000000"));
  EXPECT_TRUE(IsJobBookmark("a", "a", "zsend1_a_a-one"));
  // Job a_b (group a_b), another group of the same prefix, a bare snapshot name, another job.
  EXPECT_FALSE(IsJobBookmark("a", "a", BookmarkName("a_b", "a_b-20260101000000")));
  EXPECT_FALSE(IsJobBookmark("a", "a", "zsend1_a_a-hourly-20260101000000"));
  EXPECT_FALSE(IsJobBookmark("a", "a", "a-20260101000000"));
  EXPECT_FALSE(IsJobBookmark("a", "a", "zsend1_b_a-20260101000000"));
  // Two jobs sharing the group: each has its own.
  EXPECT_TRUE(IsJobBookmark("b", "a", "zsend1_b_a-20260101000000"));
  EXPECT_FALSE(IsJobBookmark("a", "a", "zsend1_b_a-20260101000000"));
  // Names and groups with '_' cannot be read two ways: job a with group b_x against job a_b
  // with group x, whose names would both be zsend_a_b_x-... without the length.
  std::string theirs = BookmarkName("a_b", "x-20260101000000");
  EXPECT_TRUE(IsJobBookmark("a_b", "x", theirs));
  EXPECT_FALSE(IsJobBookmark("a", "b_x", theirs));
  EXPECT_NE(BookmarkName("a", "b_x-20260101000000"), theirs);
}

class MovingBookmarks : public ::testing::Test {
 protected:
  void SetUp() override {
    fake_.AddDataset("tank");
    fake_.AddDataset("tank/a");
    ASSERT_TRUE(zfs_.Probe().ok());
  }
  std::vector<SnapshotInfo> Bookmarks() {
    Result<HostState> state = ReadHostState(zfs_, {"tank/a"}, false);
    EXPECT_TRUE(state.ok()) << state.status().ToString();
    return state.ok() ? state->Find("tank/a")->bookmarks : std::vector<SnapshotInfo>{};
  }
  Status Move(const SnapshotInfo& keep, bool* made) {
    return MoveBookmark(zfs_, "j", "j", BookmarkMove{"tank/a", keep, Bookmarks()}, made);
  }
  FakeZfsRunner fake_{FakeZfsRunner::Flavor::kOpenZfs};
  Zfs zfs_{fake_};
};

TEST_F(MovingBookmarks, TheNewOneIsMadeThenOnlyTheJobsOlderOnesGo) {
  SnapshotInfo one = fake_.AddSnapshot("tank/a", "j-one");
  bool made = false;
  ASSERT_TRUE(Move(one, &made).ok());
  EXPECT_TRUE(made);
  ASSERT_TRUE(zfs_.Bookmark("tank/a", "j-one", "zsend1_k_j-one").ok());  // job k, same group
  SnapshotInfo two = fake_.AddSnapshot("tank/a", "j-two");
  ASSERT_TRUE(Move(two, &made).ok());
  std::vector<std::string> names = fake_.BookmarkNames("tank/a");
  EXPECT_EQ(names, (std::vector<std::string>{"zsend1_k_j-one", "zsend1_j_j-two"}));
  ASSERT_TRUE(Move(two, &made).ok());  // again: nothing to do
  EXPECT_FALSE(made);
  EXPECT_EQ(fake_.BookmarkNames("tank/a"), names);
}

TEST_F(MovingBookmarks, ASameNamedBookmarkOfAnotherSnapshotIsReplaced) {
  SnapshotInfo first = fake_.AddSnapshot("tank/a", "j-one");
  bool made = false;
  ASSERT_TRUE(Move(first, &made).ok());
  // j-one destroyed and taken again (--snapshot-name one, twice): same name, another guid.
  ASSERT_TRUE(zfs_.DestroySnapshots("tank/a", {"j-one"}).ok());
  SnapshotInfo again = fake_.AddSnapshot("tank/a", "j-one");
  ASSERT_NE(again.guid, first.guid);
  ASSERT_TRUE(Move(again, &made).ok());
  EXPECT_TRUE(made);
  std::vector<SnapshotInfo> marks = Bookmarks();
  ASSERT_EQ(marks.size(), 1u);
  EXPECT_EQ(marks[0].guid, again.guid);
}

TEST_F(MovingBookmarks, AKeepOfUnknownAgeDestroysNothing) {
  SnapshotInfo one = fake_.AddSnapshot("tank/a", "j-one");
  SnapshotInfo two = fake_.AddSnapshot("tank/a", "j-two");
  bool made = false;
  ASSERT_TRUE(Move(two, &made).ok());
  // keep j-one with neither guid nor createtxg known (not read): j-two's bookmark is newer and
  // must stay.
  ASSERT_TRUE(Move(SnapshotInfo{"tank/a", "j-one", 0, 0, 0}, &made).ok());
  EXPECT_EQ(fake_.BookmarkNames("tank/a"),
            (std::vector<std::string>{"zsend1_j_j-two", "zsend1_j_j-one"}));
  (void)one;
}

TEST_F(MovingBookmarks, AFailedBookmarkDestroysNoOlderOne) {
  SnapshotInfo one = fake_.AddSnapshot("tank/a", "j-one");
  bool made = false;
  ASSERT_TRUE(Move(one, &made).ok());
  // A keep zfs cannot bookmark (gone from the source): the error names it, the old one stays.
  SnapshotInfo gone{"tank/a", "j-two", 77, one.createtxg + 5, 0};
  Status failed = Move(gone, &made);
  EXPECT_FALSE(failed.ok());
  EXPECT_FALSE(made);
  EXPECT_NE(failed.message().find("tank/a@j-two"), std::string::npos) << failed.message();
  EXPECT_EQ(fake_.BookmarkNames("tank/a"), std::vector<std::string>{"zsend1_j_j-one"});
}

TEST_F(MovingBookmarks, TheOlderZfsIsRefusedWithoutACommand) {
  FakeZfsRunner legacy(FakeZfsRunner::Flavor::kLegacy);
  legacy.AddDataset("tank");
  SnapshotInfo s = legacy.AddSnapshot("tank", "j-one");
  Zfs zfs(legacy);
  ASSERT_TRUE(zfs.Probe().ok());
  size_t before = legacy.Commands().size();
  bool made = false;
  EXPECT_EQ(MoveBookmark(zfs, "j", "j", BookmarkMove{"tank", s, {}}, &made).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(legacy.Commands().size(), before);
}

}  // namespace
}  // namespace zsend::orchestrator
