// Test support: the OpenZFS guest (scripts/openzfs-vm.sh) for the `openzfs` suite (OpenZfs*).
//
// EnsureOpenZfsGuest() makes sure the guest runs and has this tree's zsend and zsend-engine in
// /usr/local/bin (`scripts/openzfs-vm.sh up`: boots it when ctest's OpenZfsVm.Up or
// scripts/test.sh has not, copies the binaries only when they changed); it is called once per
// test process. GuestShell() runs a shell command in the guest as root.
//
// OpenZfsFixture makes two pools per test on sparse files in the guest (names carry the host
// pid and a counter; destroyed in TearDown, pass or fail), a backup name of the test's own and a
// state directory, and reads back what the tests check. Not thread-safe; one test thread.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/support/subprocess.h"

namespace zsend::test {

// "" when the guest runs with this tree's binaries, else why it does not.
std::string EnsureOpenZfsGuest();

// Runs `command` with the guest's root shell (through the script's ssh control connection).
RunResult GuestShell(const std::string& command, const std::string& input = "");

// 'text' quoted for a POSIX shell.
std::string Quote(const std::string& text);

bool Contains(const std::string& text, const std::string& part);

class OpenZfsFixture : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Runs a shell command in the guest; the test fails (with its output) when it does.
  void Sh(const std::string& command);
  // The command's stdout without the trailing newline; the test fails when the command does.
  std::string Out(const std::string& command);
  // Runs `zsend SUBCOMMAND ARGS...` in the guest (backup and prune get --state-dir STATE
  // unless ARGS name one).
  RunResult Zsend(const std::string& subcommand, const std::vector<std::string>& args);
  // Runs `zsend backup JOB ARGS...`.
  RunResult Backup(const std::vector<std::string>& args);
  // `zfs get -H -o value PROPERTY DATASET` ("" when it fails: no such dataset).
  std::string Property(const std::string& dataset, const std::string& property);
  // Short names of the snapshots of a dataset, oldest first.
  std::vector<std::string> SnapshotNames(const std::string& dataset);
  // Writes `mib` MiB of pseudo-random data to a file in the dataset's mountpoint, then syncs
  // the pool (`written` counts only what a transaction group committed).
  void WriteData(const std::string& dataset, const std::string& file, int mib);

  std::string src_, dst_;  // pool names
  std::string job_;        // this test's backup name
  std::string state_;      // its --state-dir in the guest
};

}  // namespace zsend::test
