// The run's counted overhead (issue 13): planning reads each host in a number of zfs commands
// that does not grow with the datasets, in both dialects, and --json and the history show the
// counts. Counting only, never timing.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "orchestrator/run/backup_job.h"
#include "tests/support/fake_zfs.h"

namespace zsend::orchestrator {
namespace {

using test::FakeZfsRunner;

struct Hosts {
  explicit Hosts(FakeZfsRunner::Flavor flavor, int datasets)
      : source(flavor, "src"), target(flavor, "dst") {
    source.AddDataset("tank");
    source.AddDataset("tank/vm");
    source.SetLocalProperty("tank/vm", "zsend:job", "true");
    target.AddDataset("backup");
    target.AddDataset("backup/vm");
    for (int i = 0; i < datasets; ++i) {
      std::string name = "vm/disk" + std::to_string(i);
      source.AddDataset("tank/" + name);
      target.AddDataset("backup/" + name);
      for (const char* snapshot : {"job-1", "job-2"}) {
        SnapshotInfo made = source.AddSnapshot("tank/" + name, snapshot);
        target.AddSnapshot("backup/" + name, snapshot, made.guid);
      }
    }
    for (const char* snapshot : {"job-1", "job-2"}) {
      SnapshotInfo made = source.AddSnapshot("tank/vm", snapshot);
      target.AddSnapshot("backup/vm", snapshot, made.guid);
    }
  }
  FakeZfsRunner source, target;
};

BackupOptions NothingToSend() {
  BackupOptions options;
  options.backup_name = "job";
  options.target_path = "backup";
  options.strip_path = 1;
  options.no_snapshot = true;
  options.transport.kind = TransportKind::kPipe;
  return options;
}

class RunOverheadCount : public ::testing::TestWithParam<FakeZfsRunner::Flavor> {};

TEST_P(RunOverheadCount, PlanningCommandsDoNotGrowWithTheDatasets) {
  RunOverhead counted[2];
  int n[2] = {10, 50};
  for (int k = 0; k < 2; ++k) {
    Hosts hosts(GetParam(), n[k]);
    std::ostringstream log, dry;
    BackupResult result = RunBackup(NothingToSend(), hosts.source, hosts.target, log, dry);
    ASSERT_TRUE(result.fatal.ok()) << result.fatal.ToString();
    ASSERT_EQ(result.datasets.size(), static_cast<size_t>(n[k] + 1));
    EXPECT_EQ(result.failed, 0) << log.str();
    counted[k] = result.overhead;
  }
  EXPECT_EQ(counted[0].source.planning, counted[1].source.planning);
  EXPECT_EQ(counted[0].target.planning, counted[1].target.planning);
  // Probe, selection, one read of the selected subtrees; probe, one read of TARGET_PATH.
  EXPECT_LE(counted[1].source.planning, 3);
  EXPECT_LE(counted[1].target.planning, 2);
  EXPECT_EQ(counted[1].engine_sessions, 0);  // nothing was sent
}

INSTANTIATE_TEST_SUITE_P(Dialects, RunOverheadCount,
                         ::testing::Values(FakeZfsRunner::Flavor::kOpenZfs,
                                           FakeZfsRunner::Flavor::kLegacy),
                         [](const auto& param_info) {
                           return param_info.param == FakeZfsRunner::Flavor::kOpenZfs ? "OpenZfs"
                                                                                      : "Legacy";
                         });

TEST(RunOverheadReport, JsonAndHistoryCarryTheCounts) {
  char pattern[] = "/tmp/zsend-overhead-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  std::string state_dir = pattern;
  Hosts hosts(FakeZfsRunner::Flavor::kOpenZfs, 3);
  BackupJob job;
  job.options = NothingToSend();
  job.options.transport.temp_dir = state_dir;
  job.json = true;
  Result<std::unique_ptr<History>> history = History::Open(state_dir);
  ASSERT_TRUE(history.ok()) << history.status().ToString();
  std::ostringstream out, err;
  RunRecord record;
  record.backup_name = "job";
  record.started = Now();
  RunBook book(history->get(), record, err);
  EXPECT_EQ(RunBackupOnHosts(job, book, hosts.source, hosts.target, Status::Ok(), history->get(),
                             out, err),
            0)
      << err.str();
  nlohmann::json j = nlohmann::json::parse(out.str());
  const nlohmann::json& source = j["overhead"]["zfs_commands"]["source"];
  EXPECT_GE(source["planning"].get<int>(), 2);
  EXPECT_GE(source["rotation"].get<int>(), 1);  // the history's snapshot counts
  EXPECT_EQ(j["overhead"]["ssh_connections"].get<int>(), 0);
  Result<std::vector<RunRecord>> runs = (*history)->Runs("job", 0, 1);
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ((*runs)[0].source_zfs_commands, source["total"].get<int>());
  EXPECT_EQ((*runs)[0].target_zfs_commands,
            j["overhead"]["zfs_commands"]["target"]["total"].get<int>());
  EXPECT_EQ((*runs)[0].engine_sessions, 0);
  std::filesystem::remove_all(state_dir);
}

}  // namespace
}  // namespace zsend::orchestrator
