// `zsend backup`, `prune` and `check` on real OpenZFS 2.1 (the qemu guest of
// scripts/openzfs-vm.sh) with what zfs-fuse does not have: natively encrypted datasets sent raw,
// zvols and a clone of one (verified by byte ranges), copies another tool received with their
// properties; and rotation, prune and check end to end on the modern dialect.
#include <gtest/gtest.h>

#include "tests/support/peers/openzfs_guest.h"

namespace zsend::test {
namespace {

using OpenZfsDatasets = OpenZfsFixture;

TEST_F(OpenZfsDatasets, RawSendOfAnEncryptedDatasetNeverNeedsTheKeyOverSsh) {
  const std::string fs = src_ + "/enc", target = dst_ + "/" + src_ + "/enc";
  const std::string key = "/var/tmp/" + src_ + ".key";
  Sh("printf 'correct horse battery staple' > " + key + " && zfs create -o encryption=on " +
     "-o keyformat=passphrase -o keylocation=file://" + key + " " + fs +
     " && zfs set zsend:" + job_ + "=true " + fs);
  WriteData(fs, "a", 2);
  RunResult first = Backup(
      {dst_, "--raw", "--snapshot-name", "one", "--ssh-target", "localhost", "--transport", "ssh"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  // Encrypted on the target, and its key was never there.
  EXPECT_EQ(Property(target, "encryption"), "aes-256-gcm");
  EXPECT_EQ(Property(target, "keystatus"), "unavailable");
  WriteData(fs, "b", 1);
  RunResult second = Backup(
      {dst_, "--raw", "--snapshot-name", "two", "--ssh-target", "localhost", "--transport", "ssh"});
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  EXPECT_TRUE(Contains(second.out, "incremental")) << second.out;
  EXPECT_EQ(Property(target, "keystatus"), "unavailable");
  EXPECT_EQ(Property(target + "@" + job_ + "-two", "guid"),
            Property(fs + "@" + job_ + "-two", "guid"));
  // With the key the copy opens and holds the same bytes.
  Sh("zfs load-key -L file://" + key + " " + target + " && zfs mount " + target);
  EXPECT_EQ(Out("cd /" + target + " && md5sum a b"), Out("cd /" + fs + " && md5sum a b"));
  Sh("rm -f " + key);
}

TEST_F(OpenZfsDatasets, ZvolFullIncrementalAndACloneOfIt) {
  const std::string vol = src_ + "/vol", clone = src_ + "/volclone";
  const std::string tvol = dst_ + "/" + src_ + "/vol", tclone = dst_ + "/" + src_ + "/volclone";
  Sh("zfs create -V 16M " + vol + " && zfs set zsend:" + job_ + "=true " + vol +
     " && udevadm settle && dd if=/dev/urandom of=/dev/zvol/" + vol +
     " bs=1M count=4 conv=fsync status=none");
  RunResult first = Backup({dst_, "--snapshot-name", "one", "--transport", "pipe"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_EQ(Property(tvol, "type"), "volume");
  Sh("dd if=/dev/urandom of=/dev/zvol/" + vol + " bs=1M count=2 seek=8 conv=fsync status=none");
  Sh("zfs clone " + vol + "@" + job_ + "-one " + clone + " && zfs set zsend:" + job_ + "=true " +
     clone);
  // The modern dialect's commands for the zvol and its clone (zfs-fuse's would lack -L -e -c -u).
  RunResult dry = Backup({dst_, "--snapshot-name", "two", "--transport", "pipe", "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.out << dry.err;
  EXPECT_TRUE(Contains(dry.out + dry.err, "zfs send -p -L -e -c -I " + vol + "@" + job_ + "-one " +
                                              vol + "@" + job_ + "-two"))
      << dry.out << dry.err;
  EXPECT_TRUE(Contains(dry.out + dry.err, "zfs send -p -L -e -c -i " + vol + "@" + job_ + "-one " +
                                              clone + "@" + job_ + "-two"))
      << dry.out << dry.err;
  EXPECT_TRUE(Contains(dry.out + dry.err, "zfs receive -u -s")) << dry.out << dry.err;
  RunResult second = Backup({dst_, "--snapshot-name", "two", "--transport", "pipe"});
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  EXPECT_TRUE(Contains(second.out, vol + " -> " + tvol + ": incremental")) << second.out;
  // The clone arrives as a clone of the target's copy of its origin.
  EXPECT_EQ(Property(tclone, "origin"), tvol + "@" + job_ + "-one");
  for (const std::string& snap : {job_ + "-one", job_ + "-two"}) {
    EXPECT_EQ(Property(tvol + "@" + snap, "guid"), Property(vol + "@" + snap, "guid")) << snap;
  }
  EXPECT_EQ(Out("udevadm settle; md5sum < /dev/zvol/" + tvol + "@" + job_ +
                "-two 2>/dev/null || "
                "(zfs set snapdev=visible " +
                tvol + " && udevadm settle && md5sum < /dev/zvol/" + tvol + "@" + job_ + "-two)"),
            Out("zfs set snapdev=visible " + vol + " && udevadm settle && md5sum < /dev/zvol/" +
                vol + "@" + job_ + "-two"));
  // zsend verify reads both volumes by byte ranges through read-only clones, removed after.
  RunResult verify = Zsend("verify", {job_, dst_, "--dataset", vol, "--state-dir", state_});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  // One 16 MiB range (ranges are 64 MiB), read on each side.
  EXPECT_TRUE(Contains(verify.out, "verify " + vol + " -> " + tvol + " @" + job_ +
                                       "-two: ok (1 entry, 1 file read, 16.0 MiB"))
      << verify.out << verify.err;
  EXPECT_EQ(Out("zfs list -H -o name -r " + src_ + " " + dst_ + " | grep zsend-verify || true"),
            "");
}

TEST_F(OpenZfsDatasets, CopiesReceivedWithTheirPropertiesAreNotSelected) {
  // The selected tree, replicated by another tool (`zfs send -R`, properties included) into a
  // second place: the copies' zsend:NAME arrived by receive.
  Sh("zfs create " + src_ + "/tree && zfs create " + src_ + "/tree/a && zfs set zsend:" + job_ +
     "=true " + src_ + "/tree && zfs snapshot -r " + src_ + "/tree@other && zfs create " + dst_ +
     "/copy && zfs send -R " + src_ + "/tree@other | zfs receive -u " + dst_ +
     "/copy/tree && zfs create " + dst_ + "/b");
  ASSERT_EQ(Out("zfs get -H -o source zsend:" + job_ + " " + dst_ + "/copy/tree"), "received");
  RunResult r = Backup({dst_ + "/b", "--transport", "pipe", "-v"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(Contains(r.err, "ignored: " + dst_ + "/copy/tree/a (received copy")) << r.err;
  EXPECT_EQ(Property(dst_ + "/b/" + src_ + "/tree/a", "type"), "filesystem");
  EXPECT_EQ(Property(dst_ + "/b/" + dst_, "type"), "") << r.out;
  EXPECT_EQ(SnapshotNames(dst_ + "/copy/tree"), std::vector<std::string>{"other"});

  // --include-received takes them as sources after all.
  RunResult included = Backup({dst_ + "/b", "--transport", "pipe", "--include-received"});
  ASSERT_EQ(included.exit_code, 0) << included.out << included.err;
  EXPECT_EQ(Property(dst_ + "/b/" + dst_ + "/copy/tree/a", "type"), "filesystem");
}

TEST_F(OpenZfsDatasets, RotationPruneAndCheck) {
  const std::string fs = src_ + "/fs", target = dst_ + "/" + src_ + "/fs";
  Sh("zfs create " + fs + " && zfs set zsend:" + job_ + "=true " + fs);
  WriteData(fs, "a", 1);
  for (const char* name : {"one", "two", "three"}) {
    RunResult r = Backup({dst_, "--snapshot-name", name, "--allow-empty", "--keep-source", "2",
                          "--keep-target", "3", "--transport", "tcp"});
    ASSERT_EQ(r.exit_code, 0) << name << "\n" << r.out << r.err;
  }
  EXPECT_EQ(SnapshotNames(fs), (std::vector<std::string>{job_ + "-two", job_ + "-three"}));
  EXPECT_EQ(SnapshotNames(target),
            (std::vector<std::string>{job_ + "-one", job_ + "-two", job_ + "-three"}));
  RunResult prune = Zsend("prune", {job_, dst_, "--keep-target", "1", "--target-only"});
  ASSERT_EQ(prune.exit_code, 0) << prune.out << prune.err;
  EXPECT_EQ(SnapshotNames(target), std::vector<std::string>{job_ + "-three"});
  RunResult check = Zsend("check", {job_, "--max-age", "1h", "--pools", "--state-dir", state_});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_TRUE(Contains(check.out, "ZSEND OK")) << check.out;
}

}  // namespace
}  // namespace zsend::test
