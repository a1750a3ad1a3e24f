// Data-safety regressions of `zsend backup` on zfs-fuse (issue 11): another group whose name
// starts with the job's is never rotated; a target that cannot be seen (pool exported, a
// TARGET_PATH that does not exist) fails the dataset and keeps the source's snapshots even
// with --no-holds; --rollback names what it would destroy and refuses snapshots zsend did
// not make unless --force.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/support/backup_fixture.h"

namespace zsend::test {
namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

bool Has(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

using ZfsFuseSafety = BackupFixture;

// The case from the review: job `db` with --keep-source 1 destroyed `db-hourly-*`.
TEST_F(ZfsFuseSafety, AnotherGroupStartingWithTheJobNameIsNeverRotated) {
  Sh("zfs create " + src_ + "/a");
  WriteData(src_ + "/a", "f.bin", 20000, 1);
  for (int day = 1; day <= 3; ++day) {
    Sh("zfs snapshot " + src_ + "/a@" + job_ + "-hourly-2026010" + std::to_string(day) + "000000");
  }
  RunResult r =
      Zsend({job_, dst_, "--dataset", src_ + "/a", "--keep-source", "1", "--transport", "pipe"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  std::vector<std::string> left = SnapshotNames(src_ + "/a");
  for (int day = 1; day <= 3; ++day) {
    EXPECT_TRUE(Has(left, job_ + "-hourly-2026010" + std::to_string(day) + "000000"))
        << r.out << r.err;
  }
  EXPECT_TRUE(
      Contains(r.out, "warning: group " + job_ + " is a prefix of group " + job_ + "-hourly"))
      << r.out;
  // Only the job's own snapshot reached the target.
  std::vector<std::string> copied = SnapshotNames(dst_ + "/" + src_ + "/a");
  ASSERT_EQ(copied.size(), 1u) << r.out;
  EXPECT_EQ(copied[0].rfind(job_ + "-2", 0), 0u) << copied[0];
}

// The target pool exported after a good run: "does not exist" from it is not an empty target.
// Rotation with --no-holds (no hold protects anything) keeps the snapshot the history says
// both sides share.
TEST_F(ZfsFuseSafety, ExportedTargetPoolFailsTheDatasetAndKeepsTheSourceSnapshots) {
  Sh("zfs create " + src_ + "/a");
  WriteData(src_ + "/a", "f.bin", 20000, 2);
  RunResult first = Zsend({job_, dst_, "--dataset", src_ + "/a", "--snapshot-name", "1",
                           "--transport", "pipe", "--no-holds", "--readonly"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  Sh("zpool export -f " + dst_);
  RunResult second = Zsend({job_, dst_, "--dataset", src_ + "/a", "--snapshot-name", "2",
                            "--transport", "pipe", "--no-holds", "--keep-source", "1"});
  // A snapshot-only run: no transfer, so no failed transfer's needs protect anything; only
  // the target's visibility does.
  RunResult third = Zsend({job_, dst_, "--dataset", src_ + "/a", "--snapshot-name", "3",
                           "--no-send", "--no-holds", "--keep-source", "1"});
  Shell("zpool import -d " + target_->dir() + " " + dst_ + " 2>&1");
  EXPECT_EQ(second.exit_code, 1) << second.out << second.err;
  EXPECT_TRUE(Contains(second.out + second.err, "TARGET_PATH " + dst_ + " does not exist"))
      << second.out << second.err;
  EXPECT_TRUE(Contains(third.out, "pool not imported")) << third.out << third.err;
  // -1, the snapshot the history says both sides share, stays; -2 (never sent) is rotated.
  EXPECT_EQ(SnapshotNames(src_ + "/a"), (std::vector<std::string>{job_ + "-1", job_ + "-3"}))
      << second.out << second.err << third.out << third.err;
  EXPECT_EQ(SnapshotNames(dst_ + "/" + src_ + "/a"), (std::vector<std::string>{job_ + "-1"}));
}

// A TARGET_PATH whose parent does not exist (a typo): nothing is created there, nothing sent,
// and the source keeps the snapshot the real backup shares.
TEST_F(ZfsFuseSafety, WrongTargetPathParentSendsNothingAndKeepsTheSourceSnapshots) {
  Sh("zfs create " + src_ + "/a && zfs create " + dst_ + "/bk");
  WriteData(src_ + "/a", "f.bin", 20000, 3);
  RunResult first = Zsend({job_, dst_ + "/bk", "--dataset", src_ + "/a", "--snapshot-name", "1",
                           "--transport", "pipe", "--no-holds", "--readonly"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  RunResult typo = Zsend({job_, dst_ + "/nothere/bk", "--dataset", src_ + "/a", "--snapshot-name",
                          "2", "--transport", "pipe", "--no-holds", "--keep-source", "1"});
  EXPECT_EQ(typo.exit_code, 1) << typo.out << typo.err;
  EXPECT_TRUE(Contains(typo.out + typo.err, "zfs create -p " + dst_ + "/nothere/bk"))
      << typo.out << typo.err;
  EXPECT_FALSE(Contains(ListAll(dst_), "nothere")) << ListAll(dst_);
  EXPECT_EQ(SnapshotNames(src_ + "/a"), (std::vector<std::string>{job_ + "-1", job_ + "-2"}))
      << typo.out << typo.err;
}

// --rollback over a snapshot another tool made on the target: refused (named, with --force),
// listed by --dry-run, destroyed only with --force.
TEST_F(ZfsFuseSafety, RollbackKeepsAForeignTargetSnapshotUnlessForced) {
  Sh("zfs create " + src_ + "/a");
  WriteData(src_ + "/a", "f.bin", 20000, 4);
  RunResult first = Zsend({job_, dst_, "--dataset", src_ + "/a", "--snapshot-name", "1",
                           "--transport", "pipe", "--readonly"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  const std::string copy = dst_ + "/" + src_ + "/a";
  Sh("zfs snapshot " + copy + "@other-tool");
  WriteData(src_ + "/a", "g.bin", 10000, 5);

  RunResult refused = Zsend({job_, dst_, "--dataset", src_ + "/a", "--snapshot-name", "2",
                             "--transport", "pipe", "--readonly", "--rollback"});
  EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
  EXPECT_TRUE(Contains(refused.out + refused.err, "other-tool")) << refused.out << refused.err;
  EXPECT_TRUE(Contains(refused.out + refused.err, "--force")) << refused.out << refused.err;
  EXPECT_EQ(SnapshotNames(copy), (std::vector<std::string>{job_ + "-1", "other-tool"}));

  RunResult dry = Zsend({job_, dst_, "--dataset", src_ + "/a", "--no-snapshot", "--transport",
                         "pipe", "--readonly", "--rollback", "--force", "--dry-run"});
  EXPECT_EQ(dry.exit_code, 0) << dry.out << dry.err;
  EXPECT_TRUE(Contains(dry.out + dry.err,
                       copy + ": --rollback would destroy on the target: " + copy + "@other-tool"))
      << dry.out << dry.err;
  EXPECT_EQ(SnapshotNames(copy), (std::vector<std::string>{job_ + "-1", "other-tool"}));

  RunResult forced = Zsend({job_, dst_, "--dataset", src_ + "/a", "--no-snapshot", "--transport",
                            "pipe", "--readonly", "--rollback", "--force"});
  EXPECT_EQ(forced.exit_code, 0) << forced.out << forced.err;
  EXPECT_TRUE(Contains(forced.out + forced.err,
                       "--rollback destroys on the target: " + copy + "@other-tool"))
      << forced.out << forced.err;
  EXPECT_EQ(SnapshotNames(copy), (std::vector<std::string>{job_ + "-1", job_ + "-2"}));
  EXPECT_EQ(Compare(src_ + "/a", copy), "");
}

}  // namespace
}  // namespace zsend::test
