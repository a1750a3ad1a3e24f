// History (SQLite under --state-dir) and the per-job RunLock, including two processes writing
// at once and a second run of the same job refused.
#include "orchestrator/report/history.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "orchestrator/host/run_lock.h"

namespace zsend::orchestrator {
namespace {

class HistoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/zsend-history-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static TransferRecord Transfer(const std::string& dataset, double started,
                                 const std::string& result) {
    TransferRecord t;
    t.backup_name = "job";
    t.source_dataset = dataset;
    t.target_dataset = "backup/" + dataset;
    t.from_snapshot = "job-20240101000000";
    t.to_snapshot = "job-20240102000000";
    t.kind = "incremental";
    t.started = started;
    t.ended = started + 2;
    t.wire_bytes = 1000;
    t.stream_bytes = 4000;
    t.seconds = 2;
    t.transport = "tcp";
    t.result = result;
    return t;
  }

  std::string dir_;
};

TEST_F(HistoryTest, RecordsRunsAndTransfersAndReadsThemBack) {
  Result<std::unique_ptr<History>> h = History::Open(dir_ + "/state");
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ((*h)->schema_version(), kHistorySchemaVersion);
  RunRecord run;
  run.backup_name = "job";
  run.host = "backup1";
  run.source_host = "local";
  run.target_host = "root@nas";
  run.started = 1000;
  Result<int64_t> id = (*h)->BeginRun(run);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  TransferRecord t = Transfer("tank/fs", 1001, "failed");
  t.run_id = *id;
  t.error = "cannot receive: dataset is busy";
  t.source_snapshots = 7;
  t.target_snapshots = 5;
  t.oldest_snapshot = "job-20231201000000";
  ASSERT_TRUE((*h)->AddTransfer(t).ok());
  ASSERT_TRUE((*h)->EndRun(*id, 1010, "failed", 0, 1, "1 dataset failed").ok());

  Result<std::vector<RunRecord>> runs = (*h)->Runs("job", 0, 0);
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ((*runs)[0].target_host, "root@nas");
  EXPECT_EQ((*runs)[0].result, "failed");
  EXPECT_EQ((*runs)[0].datasets_failed, 1);
  EXPECT_DOUBLE_EQ((*runs)[0].ended, 1010);
  Result<std::vector<TransferRecord>> transfers = (*h)->Transfers("job", 0, *id);
  ASSERT_TRUE(transfers.ok());
  ASSERT_EQ(transfers->size(), 1u);
  const TransferRecord& back = (*transfers)[0];
  EXPECT_EQ(back.error, t.error);
  EXPECT_EQ(back.kind, "incremental");
  EXPECT_EQ(back.wire_bytes, 1000u);
  EXPECT_EQ(back.stream_bytes, 4000u);
  EXPECT_EQ(back.source_snapshots, 7);
  EXPECT_EQ(back.oldest_snapshot, t.oldest_snapshot);
  EXPECT_TRUE((*h)->Runs("other", 0, 0)->empty());
  EXPECT_TRUE((*h)->Runs("job", 2000, 0)->empty());
  EXPECT_EQ(*(*h)->BackupNames(), (std::vector<std::string>{"job"}));
}

TEST_F(HistoryTest, UsesWalAndRefusesANewerSchema) {
  {
    Result<std::unique_ptr<History>> h = History::Open(dir_);
    ASSERT_TRUE(h.ok());
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(History::DatabasePath(dir_).c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  Result<std::unique_ptr<History>> newer = History::Open(dir_);
  ASSERT_FALSE(newer.ok());
  EXPECT_NE(newer.status().message().find("upgrade zsend"), std::string::npos);
}

TEST_F(HistoryTest, TwoProcessesWritingAtOnceLoseNothing) {
  { ASSERT_TRUE(History::Open(dir_).ok()); }
  constexpr int kEach = 150;
  std::vector<pid_t> children;
  for (int child = 0; child < 2; ++child) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      Result<std::unique_ptr<History>> h = History::Open(dir_);
      if (!h.ok()) _exit(2);
      for (int i = 0; i < kEach; ++i) {
        if (!(*h)->AddTransfer(Transfer("tank/c" + std::to_string(child), i, "ok")).ok()) _exit(3);
      }
      _exit(0);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  }
  Result<std::unique_ptr<History>> h = History::Open(dir_);
  ASSERT_TRUE(h.ok());
  Result<std::vector<TransferRecord>> all = (*h)->Transfers("job", 0);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u * kEach);
  int c0 = 0;
  for (const TransferRecord& t : *all) c0 += t.source_dataset == "tank/c0";
  EXPECT_EQ(c0, kEach);
}

TEST_F(HistoryTest, RunLockRefusesASecondRunOfTheSameJobAndNamesTheOwner) {
  int ready[2], release[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(release), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(release[1]);  // else the child's own copy keeps the pipe open forever
    Result<RunLock> lock = RunLock::Acquire(dir_, "nightly/vm");
    char byte = lock.ok() ? 'y' : 'n';
    if (write(ready[1], &byte, 1) != 1) _exit(2);
    if (read(release[0], &byte, 1) < 0) _exit(3);  // holds the lock until the parent says
    _exit(lock.ok() ? 0 : 1);
  }
  char byte = 0;
  ASSERT_EQ(read(ready[0], &byte, 1), 1);
  ASSERT_EQ(byte, 'y');
  Result<RunLock> second = RunLock::Acquire(dir_, "nightly/vm");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(second.status().message().find("backup 'nightly/vm' is in progress"),
            std::string::npos);
  EXPECT_NE(second.status().message().find("pid " + std::to_string(pid)), std::string::npos)
      << second.status().message();
  // Another job is not blocked.
  EXPECT_TRUE(RunLock::Acquire(dir_, "weekly").ok());
  close(release[1]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  // The owner is gone: its lock went with it.
  EXPECT_TRUE(RunLock::Acquire(dir_, "nightly/vm").ok());
  for (int fd : {ready[0], ready[1], release[0]}) close(fd);
}

}  // namespace
}  // namespace zsend::orchestrator

namespace zsend::orchestrator {
namespace {

TEST(HistorySchema2, AVersionOneDatabaseGainsTheOverheadColumnsAndKeepsItsRuns) {
  char pattern[] = "/tmp/zsend-history-v1-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  std::string dir = pattern;
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(History::DatabasePath(dir).c_str(), &db), SQLITE_OK);
  // The version-1 runs table as an older zsend left it, with one run.
  ASSERT_EQ(
      sqlite3_exec(db,
                   "CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, backup_name TEXT "
                   "NOT NULL, command TEXT NOT NULL DEFAULT 'backup', host TEXT NOT NULL "
                   "DEFAULT '', source_host TEXT NOT NULL DEFAULT '', target_host TEXT NOT "
                   "NULL DEFAULT '', started REAL NOT NULL, ended REAL NOT NULL DEFAULT 0, "
                   "result TEXT NOT NULL DEFAULT 'running', datasets_ok INTEGER NOT NULL "
                   "DEFAULT 0, datasets_failed INTEGER NOT NULL DEFAULT 0, error TEXT NOT "
                   "NULL DEFAULT ''); INSERT INTO runs (backup_name, started, result) VALUES "
                   "('old', 1, 'ok'); PRAGMA user_version = 1;",
                   nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(db);
  Result<std::unique_ptr<History>> opened = History::Open(dir);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  History& history = **opened;
  EXPECT_EQ(history.schema_version(), kHistorySchemaVersion);
  Result<std::vector<RunRecord>> runs = history.Runs("old", 0, 0);
  ASSERT_TRUE(runs.ok()) << runs.status().ToString();
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ((*runs)[0].source_zfs_commands, -1);  // not recorded then
  RunRecord run;
  run.backup_name = "new";
  run.started = 2;
  Result<int64_t> id = history.BeginRun(run);
  ASSERT_TRUE(id.ok());
  run.source_zfs_commands = 7;
  run.target_zfs_commands = 4;
  run.ssh_connections = 1;
  run.engine_sessions = 3;
  run.planning_seconds = 0.5;
  ASSERT_TRUE(history.RecordOverhead(*id, run).ok());
  runs = history.Runs("new", 0, 0);
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ((*runs)[0].source_zfs_commands, 7);
  EXPECT_EQ((*runs)[0].target_zfs_commands, 4);
  EXPECT_EQ((*runs)[0].ssh_connections, 1);
  EXPECT_EQ((*runs)[0].engine_sessions, 3);
  EXPECT_DOUBLE_EQ((*runs)[0].planning_seconds, 0.5);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace zsend::orchestrator
