// zfs send | zsend-engine buffer | zfs recv on real zfs-fuse pools, with the received files
// compared to the originals byte for byte (full and incremental streams, and through the
// mbuffer link with the command line syncoid uses).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/subprocess.h"
#include "tests/support/zfs_pool.h"

namespace zsend::test {
namespace {

struct StageResult {
  int exit_code = -1;
  std::string err;
};

std::string ReadAll(std::FILE* f) {
  std::string text;
  std::rewind(f);
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) text.append(buf, n);
  return text;
}

// Runs stages[0] | stages[1] | ... like a shell pipeline; returns each stage's exit code and
// stderr. stdin of the first and stdout of the last are /dev/null.
std::vector<StageResult> RunPipeline(const std::vector<std::vector<std::string>>& stages) {
  std::vector<pid_t> pids;
  std::vector<std::FILE*> errs;
  int previous_read = -1;
  for (size_t i = 0; i < stages.size(); ++i) {
    int next[2] = {-1, -1};
    if (i + 1 < stages.size() && pipe2(next, O_CLOEXEC) != 0) std::abort();
    std::FILE* err = std::tmpfile();
    SpawnOptions options;
    options.stdin_fd = previous_read;
    options.stdout_fd = next[1];
    options.stderr_fd = fileno(err);
    pids.push_back(Spawn(stages[i], options));
    errs.push_back(err);
    if (previous_read >= 0) close(previous_read);
    if (next[1] >= 0) close(next[1]);
    previous_read = next[0];
  }
  std::vector<StageResult> results;
  for (size_t i = 0; i < pids.size(); ++i) {
    StageResult r;
    r.exit_code = Wait(pids[i]).exit_code;
    r.err = ReadAll(errs[i]);
    std::fclose(errs[i]);
    results.push_back(r);
  }
  return results;
}

// Two pools, a source dataset filled with /etc and snapshotted as @one.
class ZfsFuseBufferTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string problem = ZfsFuseProblem();
    ZSEND_REQUIRE(problem.empty(), problem);
    std::string error;
    source_pool_ = ZfsPool::Create("zsend_wtzfs_src", 128, &error);
    ASSERT_NE(source_pool_, nullptr) << error;
    target_pool_ = ZfsPool::Create("zsend_wtzfs_dst", 128, &error);
    ASSERT_NE(target_pool_, nullptr) << error;
    source_ = source_pool_->CreateDataset("data", &error);
    ASSERT_FALSE(source_.empty()) << error;
    target_ = target_pool_->name() + "/data";
    source_dir_ = source_pool_->Mountpoint(source_);
    ASSERT_FALSE(source_dir_.empty());
    ASSERT_TRUE(CopyTree("/etc", source_dir_, &error)) << error;
    ASSERT_TRUE(source_pool_->Snapshot(source_, "one", &error)) << error;
    TreeStats stats = StatTree(source_dir_);
    ASSERT_GT(stats.files, 50u) << "/etc is too small to be a meaningful test";
  }

  // zfs send SEND_ARGS | BUFFER... | zfs recv RECV_ARGS target; every stage must exit 0.
  void Replicate(const std::vector<std::string>& send_args, const std::vector<std::string>& buffer,
                 const std::vector<std::string>& recv_args) {
    std::vector<std::string> send = {"zfs", "send"};
    send.insert(send.end(), send_args.begin(), send_args.end());
    std::vector<std::string> recv = {"zfs", "recv"};
    recv.insert(recv.end(), recv_args.begin(), recv_args.end());
    recv.push_back(target_);
    std::vector<StageResult> r = RunPipeline({send, buffer, recv});
    ASSERT_EQ(r.size(), 3u);
    EXPECT_EQ(r[0].exit_code, 0) << "zfs send: " << r[0].err;
    EXPECT_EQ(r[1].exit_code, 0) << "buffer: " << r[1].err;
    EXPECT_EQ(r[2].exit_code, 0) << "zfs recv: " << r[2].err;
    buffer_err_ = r[1].err;
  }

  void ExpectTargetMatchesSource() {
    std::string target_dir = target_pool_->Mountpoint(target_);
    ASSERT_FALSE(target_dir.empty()) << target_ << " was not received";
    EXPECT_EQ(CompareTrees(source_dir_, target_dir), "");
    TreeStats a = StatTree(source_dir_), b = StatTree(target_dir);
    EXPECT_EQ(a.files, b.files);
    EXPECT_EQ(a.bytes, b.bytes);
  }

  std::unique_ptr<ZfsPool> source_pool_, target_pool_;
  std::string source_, target_, source_dir_, buffer_err_;
};

TEST_F(ZfsFuseBufferTest, FullStreamThroughBufferReceivesIdenticalFiles) {
  ASSERT_NO_FATAL_FAILURE(
      Replicate({source_ + "@one"},
                {BinPath("zsend-engine"), "buffer", "-m", "32M", "--hash", "sha256"}, {}));
  EXPECT_NE(buffer_err_.find("sha256 hash: "), std::string::npos) << buffer_err_;
  EXPECT_NE(buffer_err_.find("summary: "), std::string::npos) << buffer_err_;
  ExpectTargetMatchesSource();
  EXPECT_EQ(target_pool_->Snapshots(target_), std::vector<std::string>{target_ + "@one"});
}

TEST_F(ZfsFuseBufferTest, IncrementalStreamThroughBufferReceivesTheChanges) {
  const std::vector<std::string> buffer = {
      BinPath("zsend-engine"), "buffer", "-q", "-m", "16M", "-s", "256k"};
  ASSERT_NO_FATAL_FAILURE(Replicate({source_ + "@one"}, buffer, {}));

  // Change the source: new files, a removed file, a changed mode, a new symlink.
  std::string error;
  ASSERT_EQ(system(("mkdir -p '" + source_dir_ + "/again' && cp -a /etc/. '" + source_dir_ +
                    "/again/' && rm -f '" + source_dir_ + "/passwd' && chmod 0600 '" + source_dir_ +
                    "/group' && ln -s /nowhere '" + source_dir_ + "/dangling'")
                       .c_str()),
            0);
  ASSERT_TRUE(source_pool_->Snapshot(source_, "two", &error)) << error;
  // -F: reading the received files for the comparison may have touched atimes.
  ASSERT_NO_FATAL_FAILURE(Replicate({"-i", source_ + "@one", source_ + "@two"}, buffer, {"-F"}));
  ExpectTargetMatchesSource();
  EXPECT_EQ(target_pool_->Snapshots(target_),
            (std::vector<std::string>{target_ + "@one", target_ + "@two"}));
}

TEST_F(ZfsFuseBufferTest, FullStreamThroughMbufferLinkWithSyncoidOptions) {
  ASSERT_NO_FATAL_FAILURE(
      Replicate({source_ + "@one"}, {MbufferLinkPath(), "-q", "-m", "128M", "-s", "128k"}, {}));
  ExpectTargetMatchesSource();
  EXPECT_EQ(target_pool_->Snapshots(target_), std::vector<std::string>{target_ + "@one"});
}

}  // namespace
}  // namespace zsend::test
