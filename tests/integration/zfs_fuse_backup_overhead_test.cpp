// `zsend backup` over many datasets on zfs-fuse (issue 13): planning and rotation read each host
// in a fixed number of zfs commands, the holds move in one batch, and --json reports the counts.
// Counting only, never timing.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/backup_fixture.h"

namespace zsend::test {
namespace {

using ZfsFuseBackupOverhead = BackupFixture;

TEST_F(ZfsFuseBackupOverhead, PlanningAndHoldsCostAFewCommandsForTwentyDatasets) {
  constexpr int kDatasets = 20;
  Sh("zfs create " + src_ + "/vm");
  Sh("zfs set zsend:" + job_ + "=child " + src_ + "/vm");
  for (int i = 0; i < kDatasets; ++i) Sh("zfs create " + src_ + "/vm/d" + std::to_string(i));
  std::vector<std::string> args = {job_,          dst_,   "--strip-path", "1",
                                   "--transport", "pipe", "--json",       "--no-rotation"};
  auto run = [&](const std::string& name) {
    std::vector<std::string> with_name = args;
    with_name.insert(with_name.end(), {"--snapshot-name", name});
    RunResult result = Zsend(with_name);
    EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
    return nlohmann::json::parse(result.out);
  };
  run("1");
  nlohmann::json second = run("2");
  ASSERT_EQ(second["datasets"].size(), static_cast<size_t>(kDatasets));
  const nlohmann::json& zfs = second["overhead"]["zfs_commands"];
  // Source: probe, selection, one read; target: probe, one read (before: about 5 per dataset).
  EXPECT_LE(zfs["source"]["planning"].get<int>(), 3) << second["overhead"].dump();
  EXPECT_LE(zfs["target"]["planning"].get<int>(), 2) << second["overhead"].dump();
  // The source's transfer phase is the holds alone: one hold and one release for all.
  EXPECT_LE(zfs["source"]["transfer"].get<int>(), 2) << second["overhead"].dump();
  for (int i = 0; i < kDatasets; ++i) {
    std::string dataset = src_ + "/vm/d" + std::to_string(i);
    EXPECT_EQ(Property(dataset + "@" + job_ + "-1", "userrefs"), "0") << dataset;
    EXPECT_EQ(Property(dataset + "@" + job_ + "-2", "userrefs"), "1") << dataset;
  }
}

TEST_F(ZfsFuseBackupOverhead, RotationReadsEachHostOnceForTwentyDatasets) {
  constexpr int kDatasets = 20;
  Sh("zfs create " + src_ + "/vm");
  Sh("zfs set zsend:" + job_ + "=child " + src_ + "/vm");
  for (int i = 0; i < kDatasets; ++i) Sh("zfs create " + src_ + "/vm/d" + std::to_string(i));
  nlohmann::json third;
  for (const char* name : {"1", "2", "3"}) {
    RunResult result = Zsend({job_, dst_, "--strip-path", "1", "--transport", "pipe", "--json",
                              "--keep-source", "2", "--keep-target", "2", "--snapshot-name", name});
    ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
    third = nlohmann::json::parse(result.out);
  }
  const nlohmann::json& zfs = third["overhead"]["zfs_commands"];
  // The third run destroys @1 on both sides of every dataset (one destroy each on zfs-fuse).
  // Besides: the probe and the history's snapshot counts on each host, the settings on the
  // source, and one snapshot read of each host (before: a list, a tags read and a creation read
  // per dataset and side, 3 * 20 more).
  EXPECT_LE(zfs["source"]["rotation"].get<int>(), kDatasets + 4) << third["overhead"].dump();
  EXPECT_LE(zfs["target"]["rotation"].get<int>(), kDatasets + 3) << third["overhead"].dump();
  for (int i = 0; i < kDatasets; ++i) {
    const std::string d = "/vm/d" + std::to_string(i);
    EXPECT_EQ(SnapshotNames(src_ + d), (std::vector<std::string>{job_ + "-2", job_ + "-3"})) << d;
    EXPECT_EQ(SnapshotNames(dst_ + d), (std::vector<std::string>{job_ + "-2", job_ + "-3"})) << d;
  }
}

}  // namespace
}  // namespace zsend::test
