// Test support: a source and a target zfs-fuse pool and the `zsend` program, for the
// `zsend backup` integration tests (ZfsFuseBackup*, SshdZfsFuseBackup*).
//
// BackupFixture makes two pools per test (names carry the pid and a counter; destroyed in
// TearDown, pass or fail), runs `zsend backup` with the given arguments, and reads back what
// the tests check: snapshots, origins, userrefs, `zfs list -t all` listings and file trees.
// With an SshdServer (tests/support/peers/sshd.h) SshArgs() gives the --ssh-* options that reach
// it. Not thread-safe; one test thread.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/support/peers/sshd.h"
#include "tests/support/subprocess.h"
#include "tests/support/zfs_pool.h"

namespace zsend::test {

class BackupFixture : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Runs `zsend backup ARGS... --state-dir STATE` (the test's own history and locks, unless
  // ARGS name a --state-dir or a --config).
  RunResult Zsend(const std::vector<std::string>& args, const SpawnOptions& options = {});
  // Runs a shell command; the test fails when it does.
  void Sh(const std::string& command);
  std::string Out(const std::string& command);
  // Writes `size` pseudo-random bytes (seeded) into the dataset's mountpoint under `file`.
  void WriteData(const std::string& dataset, const std::string& file, size_t size, unsigned seed);
  // Short names of the snapshots of a dataset, oldest first.
  std::vector<std::string> SnapshotNames(const std::string& dataset);
  std::string Property(const std::string& dataset, const std::string& property);
  // `zfs list -t all -o name` of a pool (for dry-run checks).
  std::string ListAll(const std::string& pool);
  // CompareTrees of the two datasets' mountpoints ("" when identical).
  std::string Compare(const std::string& source, const std::string& target);
  // Starts sshd (skips/fails the test when it cannot) and returns the --ssh-* options.
  std::vector<std::string> StartSshd();

  std::unique_ptr<ZfsPool> source_, target_;
  std::string src_, dst_;  // pool names
  // A backup name of this test alone: selection by property reads every pool of the shared
  // zfs-fuse, so names must not collide with tests running at the same time.
  std::string job_;
  std::unique_ptr<SshdServer> sshd_;
  std::string state_dir_;  // a fresh mktemp directory, removed in TearDown
};

}  // namespace zsend::test
