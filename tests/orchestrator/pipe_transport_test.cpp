// The pipe transport with stand-in commands for zfs send and zfs receive (sh scripts) and the
// real zsend-engine buffer in the middle: bytes counted, the failing stage found at its source,
// its stderr kept; and RunProcessChain on its own.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <sstream>

#include "orchestrator/host/process_chain.h"
#include "orchestrator/transport/transport.h"
#include "tests/support/subprocess.h"

namespace zsend::orchestrator {
namespace {

class PipeTransport : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/zsend-pipe-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    options_.kind = TransportKind::kPipe;
    options_.local_engine = test::BinPath("zsend-engine");
    options_.memory = "4M";
    options_.temp_dir = dir_;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  StreamResult Move(const std::string& send, const std::string& recv) {
    std::unique_ptr<StreamMover> mover = MakeStreamMover(local_, local_, options_);
    return mover->Move({{"sh", "-c", send}, {"sh", "-c", recv}, "pool/fs"});
  }
  LocalRunner local_;
  TransportOptions options_;
  std::string dir_;
};

TEST_F(PipeTransport, MovesTheStreamAndCountsItsBytes) {
  std::string out = dir_ + "/received";
  StreamResult r = Move("head -c 1234567 /dev/urandom", "cat > " + out);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.transport, "pipe");
  EXPECT_EQ(r.bytes, 1234567u);
  EXPECT_EQ(std::filesystem::file_size(out), 1234567u);
}

// A TransferProgress that keeps what it was told.
class RecordedProgress : public TransferProgress {
 public:
  void Expect(int) override {}
  int Begin(const std::string& label, uint64_t expected_bytes) override {
    std::lock_guard<std::mutex> lock(mutex_);
    labels.push_back(label);
    expected.push_back(expected_bytes);
    return 7;
  }
  void Update(int id, uint64_t bytes, double) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (id == 7) updates.push_back(bytes);
  }
  void End(int id) override { ended += id == 7 ? 1 : 100; }
  void Print(const std::string&) override {}
  std::mutex mutex_;
  std::vector<std::string> labels;
  std::vector<uint64_t> expected;
  std::vector<uint64_t> updates;
  int ended = 0;
};

// The buffer reports the stream's bytes on descriptor 3 (--progress-fd 3), a few times a
// second and at the end: the last update is the whole stream.
TEST_F(PipeTransport, ReportsProgressFromTheBuffersProgressFd) {
  RecordedProgress progress;
  options_.progress = &progress;
  options_.rate_limit = "2M";
  std::unique_ptr<StreamMover> mover = MakeStreamMover(local_, local_, options_);
  StreamResult r = mover->Move({{"sh", "-c", "head -c 1500000 /dev/urandom"},
                                {"sh", "-c", "cat >/dev/null"},
                                "pool/fs",
                                1500000});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(progress.labels, std::vector<std::string>{"pool/fs"});
  EXPECT_EQ(progress.expected, std::vector<uint64_t>{1500000});  // the size estimate
  ASSERT_GE(progress.updates.size(), 2u);
  EXPECT_TRUE(std::is_sorted(progress.updates.begin(), progress.updates.end()));
  EXPECT_EQ(progress.updates.back(), 1500000u);
  EXPECT_EQ(progress.ended, 1);
}

TEST_F(PipeTransport, AFailingReceiveIsReportedWithItsStderr) {
  StreamResult r = Move("head -c 5000000 /dev/zero",
                        "head -c 10 >/dev/null; echo 'cannot receive: out of space' >&2; exit 1");
  ASSERT_FALSE(r.status.ok());
  EXPECT_NE(r.status.message().find("zfs receive failed (exit 1) on local"), std::string::npos)
      << r.status.message();
  EXPECT_EQ(r.failed_stderr, "cannot receive: out of space");
  EXPECT_NE(r.failed_command.find("cannot receive"), std::string::npos);
}

TEST_F(PipeTransport, AFailingSendIsBlamedNotTheStarvedReceive) {
  StreamResult r = Move("echo 'cannot open snapshot' >&2; exit 2",
                        "cat >/dev/null; echo 'cannot receive: failed to read stream' >&2; exit 1");
  ASSERT_FALSE(r.status.ok());
  EXPECT_NE(r.status.message().find("zfs send failed (exit 2)"), std::string::npos)
      << r.status.message();
  EXPECT_EQ(r.failed_stderr, "cannot open snapshot");
}

TEST_F(PipeTransport, DryRunPrintsThePipelineAndRunsNothing) {
  std::ostringstream printed;
  options_.dry_run = true;
  options_.dry_run_out = &printed;
  std::string marker = dir_ + "/ran";
  StreamResult r = Move("touch " + marker, "touch " + marker);
  EXPECT_TRUE(r.status.ok());
  EXPECT_FALSE(std::filesystem::exists(marker));
  EXPECT_NE(printed.str().find("dry-run [pipe]: sh -c 'touch "), std::string::npos)
      << printed.str();
  EXPECT_NE(printed.str().find(" buffer -m 4M -W 300 -q"), std::string::npos) << printed.str();
}

TEST(ProcessChain, ALastStageThatHangsAfterItsInputEndedIsStopped) {
  // The last stage reads its whole input, then stops itself (a SIGSTOPped zfs receive).
  Result<ChainResult> r = RunProcessChain(
      {{{"echo", "stream"}, false}, {{"sh", "-c", "cat >/dev/null; kill -STOP $$"}, false}}, 1);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stages[0].exit_code, 0);
  EXPECT_NE(r->stages[1].exit_code, 0);
  EXPECT_NE(r->stalled.find("did not end within 1 s"), std::string::npos) << r->stalled;
}

TEST(ProcessChain, ConnectsStagesAndKeepsEachStderr) {
  Result<ChainResult> r = RunProcessChain({{{"sh", "-c", "echo one; echo e0 >&2"}, false},
                                           {{"sh", "-c", "tr a-z A-Z; echo e1 >&2; exit 3"}, false},
                                           {{"cat"}, false}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->out, "ONE\n");
  EXPECT_EQ(r->stages[0].err, "e0\n");
  EXPECT_EQ(r->stages[1].err, "e1\n");
  EXPECT_EQ(r->stages[1].exit_code, 3);
  EXPECT_EQ(r->FirstFailed(), 1);
  Result<ChainResult> missing = RunProcessChain({{{"/nonexistent/program"}, false}});
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->stages[0].exit_code, 127);
  EXPECT_NE(missing->stages[0].err.find("cannot run /nonexistent/program"), std::string::npos);
}

TEST(ProcessChain, GivesAStagesDescriptor3LineByLine) {
  std::vector<std::string> lines;
  ChainStage stage{{"sh", "-c", "printf 'one\\ntw' >&3; printf 'o\\n' >&3; echo out"}};
  stage.on_fd3_line = [&lines](const std::string& line) { lines.push_back(line); };
  Result<ChainResult> r = RunProcessChain({stage});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stages[0].exit_code, 0) << r->stages[0].err;
  EXPECT_EQ(lines, (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(r->out, "out\n");
}

}  // namespace
}  // namespace zsend::orchestrator
