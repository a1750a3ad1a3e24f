// The run policy of a backup job around RunBackup (backup_job.h), over fake zfs hosts: the
// printed lines, rotation after the run, the history rows, and the exit code.
#include "orchestrator/run/backup_job.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "orchestrator/run/exit_codes.h"
#include "orchestrator/zfs/snapshot_batch.h"
#include "tests/support/fake_zfs.h"

namespace zsend::orchestrator {
namespace {

using test::FakeZfsRunner;

class BackupJobOnFakeHosts : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/zsend-backup-job-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    state_dir_ = pattern;
    source_.AddDataset("tank");
    source_.AddDataset("tank/a");
    source_.SetLocalProperty("tank/a", "zsend:job", "true");
    for (const char* name : {"job-1", "job-2", "job-3"}) source_.AddSnapshot("tank/a", name);
    target_.AddDataset("backup");
    job_.options.backup_name = "job";
    job_.options.target_path = "backup";
    job_.options.snapshot_name = "4";
    job_.options.strip_path = 1;
    job_.options.transport.kind = TransportKind::kPipe;
    job_.options.transport.temp_dir = state_dir_;
    Result<std::unique_ptr<History>> opened = History::Open(state_dir_);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    history_ = std::move(*opened);
  }
  void TearDown() override { std::filesystem::remove_all(state_dir_); }

  int Run(RunBook& book) { return Run(book, source_); }
  int Run(RunBook& book, CommandRunner& source) {
    return RunBackupOnHosts(job_, book, source, target_, Status::Ok(), history_.get(), out_, err_);
  }
  RunRecord Record() const {
    RunRecord record;
    record.backup_name = "job";
    record.command = "backup";
    record.started = Now();
    return record;
  }
  std::vector<std::string> SourceSnapshots() const {
    std::vector<std::string> names;
    for (const SnapshotInfo& s : source_.Snapshots("tank/a")) names.push_back(s.name);
    return names;
  }

  FakeZfsRunner source_{FakeZfsRunner::Flavor::kOpenZfs, "src"};
  FakeZfsRunner target_{FakeZfsRunner::Flavor::kOpenZfs, "dst"};
  BackupJob job_;
  std::string state_dir_;
  std::unique_ptr<History> history_;
  std::ostringstream out_, err_;
};

TEST_F(BackupJobOnFakeHosts, ASnapshotOnlyRunIsRecordedAsOk) {
  job_.options.no_send = true;
  RunBook book(history_.get(), Record(), err_);
  EXPECT_EQ(Run(book), 0) << out_.str() << err_.str();
  EXPECT_EQ(SourceSnapshots(), (std::vector<std::string>{"job-1", "job-2", "job-3", "job-4"}));
  EXPECT_NE(out_.str().find("backup job: "), std::string::npos) << out_.str();
  EXPECT_EQ(out_.str().find("rotation"), std::string::npos) << out_.str();
  Result<std::vector<RunRecord>> runs = history_->Runs("job", 0, 10);
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ((*runs)[0].result, "ok");
  EXPECT_GT((*runs)[0].ended, 0);
}

// The source's zfs, except that reading snapshot creation times fails as on a suspended pool
// (alone, `get creation`, or in a property list, rotation's one read of each host).
class CreationUnreadable : public CommandRunner {
 public:
  explicit CreationUnreadable(FakeZfsRunner& zfs) : zfs_(zfs) {}
  Result<CommandOutput> Run(const Command& command) override {
    if (std::none_of(command.argv.begin(), command.argv.end(), [](const std::string& arg) {
          return arg.find("creation") != std::string::npos;
        })) {
      return zfs_.Run(command);
    }
    CommandOutput out;
    out.exit_code = 1;
    out.err = "cannot open 'tank/a': pool I/O is currently suspended\n";
    return out;
  }
  std::string HostLabel() const override { return zfs_.HostLabel(); }

 private:
  FakeZfsRunner& zfs_;
};

TEST_F(BackupJobOnFakeHosts, AClockNameTakenThisSecondWaitsForTheNextOne) {
  // Runs under a second apart: this second's and the next second's names are taken already,
  // so the run waits and takes a later second's name rather than failing.
  job_.options.no_send = true;
  job_.options.snapshot_name.clear();
  const std::time_t now = std::time(nullptr);
  const std::string taken_now = BackupSnapshotName("job", "", now);
  const std::string taken_next = BackupSnapshotName("job", "", now + 1);
  source_.AddSnapshot("tank/a", taken_now);
  source_.AddSnapshot("tank/a", taken_next);
  RunBook book(history_.get(), Record(), err_);
  EXPECT_EQ(Run(book), 0) << out_.str() << err_.str();
  std::vector<std::string> names = SourceSnapshots();
  ASSERT_EQ(names.size(), 6u);
  EXPECT_GT(names.back(), taken_next);
  EXPECT_TRUE(IsGroupSnapshot("job", names.back())) << names.back();
}

TEST_F(BackupJobOnFakeHosts, ANameGivenWithSnapshotNameThatExistsFailsAndSaysWhatToDo) {
  job_.options.no_send = true;
  job_.options.snapshot_name = "3";
  RunBook book(history_.get(), Record(), err_);
  EXPECT_EQ(Run(book), kExitFatal) << out_.str() << err_.str();
  EXPECT_NE(err_.str().find("dataset already exists"), std::string::npos) << err_.str();
  EXPECT_NE(err_.str().find("choose another --snapshot-name"), std::string::npos) << err_.str();
  EXPECT_EQ(SourceSnapshots(), (std::vector<std::string>{"job-1", "job-2", "job-3"}));
}

TEST_F(BackupJobOnFakeHosts, ARotationThatCannotDecideFailsTheRunAndDestroysNothing) {
  // The source's snapshot times cannot be read, so the rotation cannot decide: the source
  // keeps everything, and the run says so in its exit code and its row.
  job_.options.no_send = true;
  Result<RetentionSpec> keep = ParseRetentionSpec("2", "--keep-source");
  ASSERT_TRUE(keep.ok());
  job_.rotation.keep_source = *keep;
  RunBook book(history_.get(), Record(), err_);
  CreationUnreadable source(source_);
  EXPECT_EQ(Run(book, source), 1) << out_.str() << err_.str();
  EXPECT_EQ(SourceSnapshots(), (std::vector<std::string>{"job-1", "job-2", "job-3", "job-4"}));
  EXPECT_NE(out_.str().find("rotation job: destroyed 0 on the source and 0 on the target, 1 "
                            "failed"),
            std::string::npos)
      << out_.str();
  EXPECT_EQ(book.run().result, "failed");
  EXPECT_EQ(book.run().error.rfind("rotation error: ", 0), 0u) << book.run().error;
  Result<std::vector<RunRecord>> runs = history_->Runs("job", 0, 10);
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ((*runs)[0].result, "failed");
}

TEST_F(BackupJobOnFakeHosts, AFailedTransferIsCountedAndNothingIsRotatedAway) {
  // The fake hosts cannot stream: the transfer fails, the job goes on to its records.
  RunBook book(history_.get(), Record(), err_);
  EXPECT_EQ(Run(book), 1) << out_.str() << err_.str();
  EXPECT_NE(out_.str().find("tank/a -> backup/a: "), std::string::npos) << out_.str();
  EXPECT_EQ(book.run().result, "failed");
  EXPECT_EQ(book.run().datasets_failed, 1);
  EXPECT_NE(book.run().error.find("tank/a: "), std::string::npos) << book.run().error;
  EXPECT_EQ(SourceSnapshots(), (std::vector<std::string>{"job-1", "job-2", "job-3", "job-4"}));
  Result<std::vector<TransferRecord>> rows = history_->Transfers("job", 0, 0);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].source_dataset, "tank/a");
  EXPECT_EQ((*rows)[0].result, "failed");
  EXPECT_EQ((*rows)[0].source_snapshots, 4);
}

TEST_F(BackupJobOnFakeHosts, WithJsonTheDocumentIsAllThatGoesToOut) {
  job_.json = true;
  RunBook book(nullptr, Record(), err_);
  EXPECT_EQ(Run(book), 1) << err_.str();
  nlohmann::json doc = nlohmann::json::parse(out_.str(), nullptr, false);
  ASSERT_TRUE(doc.is_object()) << out_.str();
  EXPECT_EQ(doc["exit_code"], 1);
  ASSERT_EQ(doc["datasets"].size(), 1u);
  EXPECT_EQ(err_.str().find("tank/a -> backup/a: "), std::string::npos) << err_.str();
}

}  // namespace
}  // namespace zsend::orchestrator
