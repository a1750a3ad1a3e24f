// `zsend backup` on real OpenZFS 2.1 (the qemu guest of scripts/openzfs-vm.sh): the paths the
// modern dialect takes and zfs-fuse cannot test. Each test asserts on what only the OpenZFS path
// produces (a resume token consumed, one transaction group for a multi-name snapshot, `zfs holds`
// output, `written` skipping, received values left out by `recv -x`, a bookmark as the base...),
// so a run that took the zfs-fuse path by mistake fails. Local, and over ssh from the guest to
// itself.
#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/peers/openzfs_guest.h"

namespace zsend::test {
namespace {

using OpenZfsBackup = OpenZfsFixture;

// A stream of SNAP cut after `bytes`, received resumably into TARGET: a real receive_resume_token.
std::string CutReceive(const std::string& snapshot, const std::string& target, int kib) {
  return "zfs send " + snapshot + " | head -c " + std::to_string(kib) + "K | zfs receive -s " +
         target + "; zfs get -H -o value receive_resume_token " + target;
}

TEST_F(OpenZfsBackup, ResumesACutTransferFromTheRealToken) {
  const std::string fs = src_ + "/fs", target = dst_ + "/b/" + src_ + "/fs";
  Sh("zfs create " + fs + " && zfs set zsend:" + job_ + "=true " + fs);
  WriteData(fs, "a.bin", 6);
  Sh("zfs snapshot " + fs + "@" + job_ + "-one && zfs create -p " + dst_ + "/b/" + src_);
  std::string token = Out(CutReceive(fs + "@" + job_ + "-one", target, 2048));
  ASSERT_GT(token.size(), 20u) << "no resume token after a cut receive: " << token;

  RunResult r = Backup({dst_ + "/b", "--no-snapshot", "--transport", "pipe", "-v"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  // The resume step (zfs send -t TOKEN), not a full send: zfs-fuse has no token to resume from.
  EXPECT_TRUE(Contains(r.out + r.err, fs + ": resumed " + fs + "@" + job_ + "-one into " + target))
      << r.out << r.err;
  EXPECT_EQ(Property(target, "receive_resume_token"), "-");
  EXPECT_EQ(Property(target + "@" + job_ + "-one", "guid"),
            Property(fs + "@" + job_ + "-one", "guid"));
  EXPECT_EQ(
      Out("zsend history " + job_ + " --transfers --state-dir " + state_ + " | grep -c resumed"),
      "1");
}

TEST_F(OpenZfsBackup, StaleTokenIsAbortedAndTheTransferRestartsOverSsh) {
  const std::string fs = src_ + "/fs", target = dst_ + "/b/" + src_ + "/fs";
  Sh("zfs create " + fs + " && zfs set zsend:" + job_ + "=true " + fs);
  WriteData(fs, "a.bin", 4);
  Sh("zfs snapshot " + fs + "@" + job_ + "-one && zfs create -p " + dst_ + "/b/" + src_);
  ASSERT_GT(Out(CutReceive(fs + "@" + job_ + "-one", target, 1024)).size(), 20u);
  // The token's snapshot goes away on the source: the token can never be used.
  Sh("zfs destroy " + fs + "@" + job_ + "-one");

  RunResult r = Backup(
      {dst_ + "/b", "--snapshot-name", "two", "--ssh-target", "localhost", "--transport", "tcp"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(Contains(r.err, target + ": stale resume token aborted (zfs receive -A)") ||
              Contains(r.err, target + ": the resume token no longer applies"))
      << r.err;
  EXPECT_EQ(Property(target, "receive_resume_token"), "-");
  EXPECT_EQ(SnapshotNames(target), std::vector<std::string>{job_ + "-two"});
}

TEST_F(OpenZfsBackup, UnchangedDatasetsAreSkippedByWritten) {
  Sh("zfs create " + src_ + "/a && zfs create " + src_ + "/b && zfs set zsend:" + job_ + "=true " +
     src_ + "/a " + src_ + "/b");
  WriteData(src_ + "/a", "x", 1);
  WriteData(src_ + "/b", "y", 1);
  RunResult first = Backup({dst_, "--snapshot-name", "one", "--transport", "pipe"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  WriteData(src_ + "/a", "z", 1);
  RunResult second = Backup({dst_, "--snapshot-name", "two", "--transport", "pipe"});
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  EXPECT_EQ(SnapshotNames(src_ + "/a"), (std::vector<std::string>{job_ + "-one", job_ + "-two"}));
  // zfs-fuse has no `written`: there b would get @two as well.
  EXPECT_EQ(SnapshotNames(src_ + "/b"), std::vector<std::string>{job_ + "-one"});
  EXPECT_EQ(SnapshotNames(dst_ + "/" + src_ + "/a"),
            (std::vector<std::string>{job_ + "-one", job_ + "-two"}));
}

TEST_F(OpenZfsBackup, BookmarkIsTheIncrementalBaseAfterTheSnapshotIsGone) {
  const std::string fs = src_ + "/fs", target = dst_ + "/" + src_ + "/fs";
  const std::string one = job_ + "-one", two = job_ + "-two";
  // The job's bookmarks: mark + snapshot (zsend, the length of the job's name, _NAME_).
  const std::string mark = "zsend" + std::to_string(job_.size()) + "_" + job_ + "_";
  Sh("zfs create " + fs + " && zfs set zsend:" + job_ + "=true " + fs);
  WriteData(fs, "a.bin", 1);
  RunResult first = Backup({dst_, "--snapshot-name", "one", "--transport", "pipe"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  // The common snapshot is bookmarked under the job's name, with its guid (zfs-fuse has no
  // bookmarks: there the list would fail). Another job's bookmark of it stays throughout.
  EXPECT_EQ(Out("zfs list -H -t bookmark -o name,guid -r " + fs),
            fs + "#" + mark + one + "\t" + Property(fs + "@" + one, "guid"));
  Sh("zfs bookmark " + fs + "@" + one + " " + fs + "#zsend5_other_" + one);
  // The snapshot goes away on the source (its hold released first, as an admin would).
  Sh("zfs release zsend:" + job_ + " " + fs + "@" + one + " && zfs destroy " + fs + "@" + one);
  WriteData(fs, "b.bin", 1);
  RunResult second = Backup({dst_, "--snapshot-name", "two", "--transport", "pipe", "-v"});
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  // An incremental from the bookmark, not "shares no snapshot" and not a full send.
  // (From either bookmark of @one, the job's or the other's: the same stream.)
  const std::string log = second.out + second.err;
  EXPECT_TRUE(Contains(log, "incremental " + fs + "#zsend") &&
              Contains(log, "_" + one + " -> " + fs + "@" + two))
      << log;
  EXPECT_EQ(SnapshotNames(target), (std::vector<std::string>{one, two}));
  EXPECT_EQ(Property(target + "@" + two, "guid"), Property(fs + "@" + two, "guid"));
  // The job's bookmark moved with the common snapshot; the other job's stayed.
  // (Sorted on both sides: the job's name, and so where its mark sorts, varies per run.)
  std::vector<std::string> marks{fs + "#" + mark + two, fs + "#zsend5_other_" + one};
  std::sort(marks.begin(), marks.end());
  EXPECT_EQ(Out("zfs list -H -t bookmark -o name -r " + fs + " | LC_ALL=C sort"),
            marks[0] + "\n" + marks[1]);
}

TEST_F(OpenZfsBackup, MultiNameSnapshotHoldsReleaseAndDestroy) {
  // a and b selected, their parent's other child n not: no `snapshot -r` covers them, so only
  // the multi-name `zfs snapshot a@x b@x` puts both in one transaction group.
  Sh("zfs create " + src_ + "/p && zfs create " + src_ + "/p/a && zfs create " + src_ +
     "/p/b && zfs create " + src_ + "/p/n && zfs set zsend:" + job_ + "=true " + src_ + "/p/a " +
     src_ + "/p/b");
  const std::string a = src_ + "/p/a", b = src_ + "/p/b", tag = "zsend:" + job_;
  for (const char* name : {"one", "two", "three"}) {
    RunResult r = Backup(
        {dst_, "--snapshot-name", name, "--allow-empty", "--no-rotation", "--transport", "pipe"});
    ASSERT_EQ(r.exit_code, 0) << name << "\n" << r.out << r.err;
    EXPECT_EQ(Property(a + "@" + job_ + "-" + name, "createtxg"),
              Property(b + "@" + job_ + "-" + name, "createtxg"))
        << name;
  }
  // The hold moved to the newest snapshot: `zfs holds` (which zfs-fuse cannot run) shows it.
  EXPECT_EQ(Out("zfs holds -H " + a + "@" + job_ + "-one | wc -l"), "0");
  EXPECT_TRUE(Contains(Out("zfs holds -H " + a + "@" + job_ + "-three"), tag));
  EXPECT_TRUE(Contains(Out("zfs holds -H " + b + "@" + job_ + "-three"), tag));

  // Prune destroys both old snapshots of a dataset in one `zfs destroy ds@x,y`.
  RunResult dry = Zsend("prune", {job_, dst_, "--keep-source", "1", "--source-only", "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.out << dry.err;
  EXPECT_TRUE(
      Contains(dry.out + dry.err, "zfs destroy " + a + "@" + job_ + "-one," + job_ + "-two"))
      << dry.out << dry.err;
  RunResult prune = Zsend("prune", {job_, dst_, "--keep-source", "1", "--source-only"});
  ASSERT_EQ(prune.exit_code, 0) << prune.out << prune.err;
  EXPECT_EQ(SnapshotNames(a), std::vector<std::string>{job_ + "-three"});
  EXPECT_EQ(SnapshotNames(b), std::vector<std::string>{job_ + "-three"});
}

TEST_F(OpenZfsBackup, ReceiveUnmountedWithSetAndFilteredProperties) {
  const std::string fs = src_ + "/fs", target = dst_ + "/" + src_ + "/fs";
  Sh("zfs create -o atime=off -o compression=lz4 " + fs + " && zfs set zsend:" + job_ + "=true " +
     fs);
  WriteData(fs, "a", 1);
  const std::vector<std::string> args = {
      dst_,  "--set-properties", "compression=zstd", "--filter-properties", "atime", "--transport",
      "pipe"};
  std::vector<std::string> dry_args = args;
  dry_args.push_back("--dry-run");
  RunResult dry = Backup(dry_args);
  ASSERT_EQ(dry.exit_code, 0) << dry.out << dry.err;
  // The modern receive: -u, -o and -x on the command line (zfs-fuse gets none of them).
  for (const char* part : {" -u", "-o compression=zstd", "-x atime"}) {
    EXPECT_TRUE(Contains(dry.out + dry.err, part)) << part << "\n" << dry.out << dry.err;
  }
  RunResult r = Backup(args);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(Property(target, "mounted"), "no");  // recv -u
  // recv -o: set at receive time, while the received value is kept beside it.
  EXPECT_EQ(Out("zfs get -H -o value,source,received compression " + target), "zstd\tlocal\tlz4");
  // recv -x: the received value is recorded but never takes effect.
  EXPECT_EQ(Out("zfs get -H -o value,source,received atime " + target), "on\tdefault\toff");
  EXPECT_EQ(Property(target, "zsend:" + job_), "-");
}

TEST_F(OpenZfsBackup, LargeCompressedAndEmbeddedSendFlags) {
  const std::string fs = src_ + "/fs", target = dst_ + "/" + src_ + "/fs";
  Sh("zfs create -o recordsize=1M -o compression=lz4 " + fs + " && zfs set zsend:" + job_ +
     "=true " + fs);
  // 24 MiB of text that lz4 shrinks to a small fraction; `send -c` moves it compressed.
  Sh("yes 'zsend on OpenZFS' | head -c 24M > /" + fs + "/text && zpool sync " + src_);
  RunResult dry = Backup({dst_, "--dry-run", "--transport", "pipe"});
  ASSERT_EQ(dry.exit_code, 0) << dry.out << dry.err;
  EXPECT_TRUE(Contains(dry.out + dry.err, "zfs send -p -L -e -c " + fs + "@"))
      << dry.out << dry.err;
  RunResult r = Backup({dst_, "--transport", "pipe", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  nlohmann::json report = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << r.out;
  ASSERT_EQ(report["datasets"].size(), 1u) << r.out;
  // Compressed on the wire: the stream is far below the 24 MiB the file holds (4 MiB without
  // -c would need lz4 to have done nothing).
  uint64_t bytes = report["datasets"][0]["bytes"].get<uint64_t>();
  EXPECT_GT(bytes, 0u) << r.out;
  EXPECT_LT(bytes, 4u << 20) << r.out;
  EXPECT_EQ(Property(target, "recordsize"), "1M");
  EXPECT_EQ(Out("md5sum < /" + fs + "/text"),
            Out("zfs mount " + target + " && md5sum < /" + target + "/text"));
}

}  // namespace
}  // namespace zsend::test
