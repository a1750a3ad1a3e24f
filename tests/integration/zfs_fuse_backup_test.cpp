// `zsend backup` end to end on zfs-fuse pools on this machine (local source and target): full
// then incremental runs with byte-identical files, property selection, --strip-path, --dry-run,
// clones, holds, a diverged target, a failing receive's stderr, --jobs.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/support/backup_fixture.h"

namespace zsend::test {
namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

using ZfsFuseBackup = BackupFixture;

TEST_F(ZfsFuseBackup, FullThenIncrementalWithIntermediateSnapshotsAndIdenticalFiles) {
  Sh("zfs create " + src_ + "/data && zfs create " + src_ + "/data/sub");
  Sh("zfs set zsend:" + job_ + "=true " + src_ + "/data");
  WriteData(src_ + "/data", "a.bin", 300000, 1);
  WriteData(src_ + "/data/sub", "b.bin", 200000, 2);
  RunResult first =
      Zsend({job_, dst_, "--snapshot-name", "one", "--transport", "pipe", "--readonly"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_TRUE(Contains(first.out, src_ + "/data -> " + dst_ + "/" + src_ + "/data: full"))
      << first.out;
  EXPECT_EQ(Compare(src_ + "/data", dst_ + "/" + src_ + "/data"), "");
  EXPECT_EQ(Compare(src_ + "/data/sub", dst_ + "/" + src_ + "/data/sub"), "");

  // Changes, an intermediate snapshot of the group, then the second run.
  WriteData(src_ + "/data", "a.bin", 100000, 3);
  WriteData(src_ + "/data", "c.bin", 50000, 4);
  Sh("zfs snapshot " + src_ + "/data@" + job_ + "-between");
  WriteData(src_ + "/data/sub", "d.bin", 70000, 5);
  RunResult second =
      Zsend({job_, dst_, "--snapshot-name", "two", "--transport", "pipe", "--readonly"});
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  EXPECT_TRUE(Contains(second.out, src_ + "/data -> " + dst_ + "/" + src_ + "/data: incremental"))
      << second.out;
  EXPECT_EQ(SnapshotNames(dst_ + "/" + src_ + "/data"),
            (std::vector<std::string>{job_ + "-one", job_ + "-between", job_ + "-two"}));
  EXPECT_EQ(Compare(src_ + "/data", dst_ + "/" + src_ + "/data"), "");
  EXPECT_EQ(Compare(src_ + "/data/sub", dst_ + "/" + src_ + "/data/sub"), "");

  // A third run with nothing new on the target's side is up to date after its snapshot.
  RunResult json = Zsend({job_, dst_, "--no-snapshot", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.out << json.err;
  EXPECT_TRUE(Contains(json.out, "\"status\": \"up to date\"")) << json.out;
}

// The new user's sequence with default options: back up, look at the backup (reading files
// updates atime; on zfs-fuse the receive also mounted the child inside its parent), change the
// source, back up again. The copies are received read-only, so looking changes nothing and the
// incremental lands; with --no-readonly the second run fails as before ("modified since most
// recent snapshot").
TEST_F(ZfsFuseBackup, ReadingTheBackupDoesNotBreakTheNextIncremental) {
  Sh("zfs create " + src_ + "/data && zfs create " + src_ + "/data/sub");
  Sh("zfs set zsend:" + job_ + "=true " + src_ + "/data");
  WriteData(src_ + "/data", "a.bin", 100000, 41);
  WriteData(src_ + "/data/sub", "b.bin", 50000, 42);
  RunResult first = Zsend({job_, dst_});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  const std::string copy = dst_ + "/" + src_ + "/data";
  const std::string mounted = target_->Mountpoint(copy);
  ASSERT_FALSE(mounted.empty());
  EXPECT_EQ(Shell("cat " + mounted + "/a.bin " + mounted + "/sub/b.bin > /dev/null").exit_code, 0);
  EXPECT_NE(Shell("touch " + mounted + "/new 2>/dev/null").exit_code, 0) << "not read-only";
  WriteData(src_ + "/data", "a.bin", 30000, 43);
  WriteData(src_ + "/data/sub", "c.bin", 20000, 44);
  RunResult second = Zsend({job_, dst_});
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  EXPECT_TRUE(Contains(second.out, src_ + "/data -> " + copy + ": incremental")) << second.out;
  EXPECT_EQ(Compare(src_ + "/data", copy), "");
  EXPECT_EQ(Compare(src_ + "/data/sub", copy + "/sub"), "");
}

TEST_F(ZfsFuseBackup, PropertySelectionTrueChildParentFalseWithInheritance) {
  for (const char* d : {"t", "t/in", "t/off", "t/off/deep", "c", "c/kid", "p", "p/kid", "none"}) {
    Sh("zfs create " + src_ + "/" + d);
  }
  Sh("zfs set zsend:" + job_ + "=true " + src_ + "/t");
  Sh("zfs set zsend:" + job_ + "=false " + src_ + "/t/off");
  Sh("zfs set zsend:" + job_ + "=child " + src_ + "/c");
  Sh("zfs set zsend:" + job_ + "=parent " + src_ + "/p");
  Sh("zfs create " + dst_ + "/b");
  RunResult r = Zsend({job_, dst_ + "/b", "--strip-path", "1", "--transport", "pipe", "-v"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  for (const char* yes : {"t", "t/in", "c/kid", "p"}) {
    EXPECT_EQ(Property(dst_ + "/b/" + yes, "type"), "filesystem") << yes << "\n" << r.out;
  }
  for (const char* no : {"t/off", "t/off/deep", "c", "p/kid", "none"}) {
    // c exists on the target only as the created parent of c/kid, without snapshots.
    if (std::string(no) == "c") {
      EXPECT_TRUE(SnapshotNames(dst_ + "/b/c").empty());
      continue;
    }
    EXPECT_EQ(Property(dst_ + "/b/" + no, "type"), "") << no;
  }
  EXPECT_TRUE(Contains(r.err, "ignored: " + src_ + "/t/off (disabled)")) << r.err;
}

TEST_F(ZfsFuseBackup, DryRunChangesNothingOnEitherSide) {
  Sh("zfs create " + src_ + "/fs && zfs set zsend:" + job_ + "=true " + src_ + "/fs");
  WriteData(src_ + "/fs", "x", 10000, 7);
  RunResult real = Zsend({job_, dst_, "--snapshot-name", "1", "--transport", "pipe"});
  ASSERT_EQ(real.exit_code, 0) << real.out << real.err;
  WriteData(src_ + "/fs", "y", 10000, 8);
  std::string source_before = ListAll(src_), target_before = ListAll(dst_);
  RunResult dry = Zsend({job_, dst_, "--snapshot-name", "2", "--dry-run", "--transport", "pipe"});
  ASSERT_EQ(dry.exit_code, 0) << dry.out << dry.err;
  EXPECT_EQ(ListAll(src_), source_before);
  EXPECT_EQ(ListAll(dst_), target_before);
  EXPECT_TRUE(Contains(dry.out, "dry-run [local]: zfs snapshot " + src_ + "/fs@" + job_ + "-2"))
      << dry.out;
  EXPECT_TRUE(Contains(
      dry.out, "zfs send -p -I " + src_ + "/fs@" + job_ + "-1 " + src_ + "/fs@" + job_ + "-2"))
      << dry.out;
  EXPECT_TRUE(Contains(dry.out, "zfs hold zsend:" + job_)) << dry.out;
}

TEST_F(ZfsFuseBackup, CloneTreeKeepsItsStructureOnTheTarget) {
  Sh("zfs create " + src_ + "/base");
  WriteData(src_ + "/base", "image", 400000, 9);
  Sh("zfs snapshot " + src_ + "/base@cl-gold");
  Sh("zfs clone " + src_ + "/base@cl-gold " + src_ + "/vm1");
  Sh("zfs clone " + src_ + "/base@cl-gold " + src_ + "/vm2");
  WriteData(src_ + "/vm1", "own", 5000, 10);
  RunResult r = Zsend({"cl", dst_, "--dataset", src_ + "/base", "--dataset", src_ + "/vm1",
                       "--dataset", src_ + "/vm2", "--strip-path", "1", "--transport", "pipe"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(Property(dst_ + "/vm1", "origin"), dst_ + "/base@cl-gold");
  EXPECT_EQ(Property(dst_ + "/vm2", "origin"), dst_ + "/base@cl-gold");
  EXPECT_TRUE(Contains(r.out, src_ + "/vm1 -> " + dst_ + "/vm1: clone")) << r.out;
  EXPECT_EQ(Compare(src_ + "/vm1", dst_ + "/vm1"), "");
  EXPECT_EQ(Compare(src_ + "/vm2", dst_ + "/vm2"), "");
  // A clone, not a copy: it uses no more space than the source clone (well under the image).
  for (const char* clone : {"vm1", "vm2"}) {
    uint64_t source_used = std::stoull(Out("zfs get -Hp -o value used " + src_ + "/" + clone));
    uint64_t target_used = std::stoull(Out("zfs get -Hp -o value used " + dst_ + "/" + clone));
    EXPECT_LE(target_used, source_used) << clone;
    EXPECT_LT(target_used, 400000u) << clone;  // the origin's image is not copied
  }
}

TEST_F(ZfsFuseBackup, CloneWhoseOriginIsNotSelectedPullsItsOriginFirst) {
  Sh("zfs create " + src_ + "/base");
  WriteData(src_ + "/base", "image", 100000, 11);
  Sh("zfs snapshot " + src_ + "/base@gold");
  Sh("zfs clone " + src_ + "/base@gold " + src_ + "/vm");
  RunResult r =
      Zsend({"o", dst_, "--dataset", src_ + "/vm", "--strip-path", "1", "--transport", "pipe"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(SnapshotNames(dst_ + "/base"), (std::vector<std::string>{"gold"}));
  EXPECT_EQ(Property(dst_ + "/vm", "origin"), dst_ + "/base@gold");
  EXPECT_LT(r.out.find(src_ + "/base ->"), r.out.find(src_ + "/vm ->")) << r.out;
  EXPECT_EQ(Compare(src_ + "/vm", dst_ + "/vm"), "");
}

TEST_F(ZfsFuseBackup, HoldsArePlacedOnTheCommonSnapshotAndReleasedFromTheOldOne) {
  Sh("zfs create " + src_ + "/fs");
  RunResult first = Zsend({"h", dst_, "--dataset", src_ + "/fs", "--snapshot-name", "1"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_EQ(Property(src_ + "/fs@h-1", "userrefs"), "1");
  RunResult second = Zsend({"h", dst_, "--dataset", src_ + "/fs", "--snapshot-name", "2"});
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  EXPECT_EQ(Property(src_ + "/fs@h-1", "userrefs"), "0");
  EXPECT_EQ(Property(src_ + "/fs@h-2", "userrefs"), "1");
  RunResult unheld =
      Zsend({"h", dst_, "--dataset", src_ + "/fs", "--snapshot-name", "3", "--no-holds"});
  ASSERT_EQ(unheld.exit_code, 0) << unheld.out << unheld.err;
  EXPECT_EQ(Property(src_ + "/fs@h-3", "userrefs"), "0");
}

TEST_F(ZfsFuseBackup, DivergedTargetFailsAloneAndTheExitCodeCountsIt) {
  Sh("zfs create " + src_ + "/top");
  for (const char* d : {"a", "b", "c"}) Sh("zfs create " + src_ + "/top/" + d);
  Sh("zfs set zsend:" + job_ + "=true " + src_ + "/top");
  RunResult first =
      Zsend({job_, dst_, "--snapshot-name", "1", "--jobs", "2", "--strip-path", "1", "--readonly"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  Sh("zfs snapshot " + dst_ + "/top/b@local-change");
  WriteData(src_ + "/top/a", "new", 1000, 12);
  RunResult second =
      Zsend({job_, dst_, "--snapshot-name", "2", "--jobs", "2", "--strip-path", "1", "--readonly"});
  EXPECT_EQ(second.exit_code, 1) << second.out << second.err;
  EXPECT_TRUE(Contains(second.out, src_ + "/top/b -> " + dst_ + "/top/b: FAILED")) << second.out;
  EXPECT_TRUE(Contains(second.out, "--rollback")) << second.out;
  EXPECT_EQ(SnapshotNames(dst_ + "/top/a").back(), job_ + "-2");
  EXPECT_EQ(SnapshotNames(dst_ + "/top/c").back(), job_ + "-2");
  EXPECT_EQ(Compare(src_ + "/top/a", dst_ + "/top/a"), "");
}

// The pipe transport and the engine's tcp pair (where zfs receive runs under zsend-engine recv
// and its stderr comes back through the engine's final status).
class ZfsFuseBackupTransport : public BackupFixture,
                               public ::testing::WithParamInterface<const char*> {};

TEST_P(ZfsFuseBackupTransport, FailingReceiveIsReportedWithItsStderr) {
  Sh("zfs create " + src_ + "/big && zfs create " + src_ + "/small");
  WriteData(src_ + "/big", "data", 3 << 20, 13);
  // The target's parent has a 1 MiB quota: the big stream does not fit, the small one does.
  // One at a time: received side by side, the big stream's partial blocks would use up the quota
  // the small one shares with it, and both would fail.
  Sh("zfs create " + dst_ + "/q && zfs set quota=1M " + dst_ + "/q");
  RunResult r = Zsend({"f", dst_ + "/q", "--dataset", src_ + "/big", "--dataset", src_ + "/small",
                       "--strip-path", "1", "--jobs", "1", "--transport", GetParam()});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(Contains(r.out, src_ + "/big -> " + dst_ + "/q/big: FAILED: ")) << r.out;
  EXPECT_TRUE(Contains(r.out, "command: zfs receive " + dst_ + "/q/big")) << r.out;
  // pipe: zfs receive's stderr as it is; tcp: as zsend-engine recv reports its consumer.
  size_t stderr_at = r.out.find("    stderr:  ");
  ASSERT_NE(stderr_at, std::string::npos) << r.out;
  EXPECT_TRUE(Contains(r.out.substr(stderr_at, r.out.find('\n', stderr_at) - stderr_at),
                       "cannot receive new filesystem stream: out of space"))
      << r.out;
  EXPECT_EQ(SnapshotNames(dst_ + "/q/small").size(), 1u);  // the other dataset went on
  EXPECT_TRUE(Contains(r.out, src_ + "/small -> " + dst_ + "/q/small: full, ")) << r.out;
}

INSTANTIATE_TEST_SUITE_P(ZfsFuse, ZfsFuseBackupTransport, ::testing::Values("pipe", "tcp"));

TEST_F(ZfsFuseBackup, BadArgumentsAndMissingDatasetsAreFatal) {
  EXPECT_EQ(Zsend({"x", dst_, "--transport", "carrier-pigeon"}).exit_code, 255);
  // Each --dataset takes one value: the positionals after it stay positionals.
  RunResult missing = Zsend({"--dataset", src_ + "/nope", "x", dst_});
  EXPECT_EQ(missing.exit_code, 255);
  EXPECT_TRUE(Contains(missing.err, "does not exist")) << missing.err;
  RunResult nothing = Zsend({"unused-name", dst_});
  EXPECT_EQ(nothing.exit_code, 255);
  EXPECT_TRUE(Contains(nothing.err, "zsend:unused-name=true")) << nothing.err;
}

}  // namespace
}  // namespace zsend::test

namespace zsend::test {
namespace {

TEST_F(ZfsFuseBackup, TcpTransportWithTheRealEngineMovesRealData) {
  Sh("zfs create " + src_ + "/fs");
  WriteData(src_ + "/fs", "a.bin", 400000, 31);
  RunResult r = Zsend({"t", dst_, "--dataset", src_ + "/fs", "--strip-path", "1", "--transport",
                       "tcp", "--readonly"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(Contains(r.out, src_ + "/fs -> " + dst_ + "/fs: full")) << r.out;
  EXPECT_TRUE(Contains(r.out, ", tcp")) << r.out;
  EXPECT_EQ(Compare(src_ + "/fs", dst_ + "/fs"), "");
}

}  // namespace
}  // namespace zsend::test
