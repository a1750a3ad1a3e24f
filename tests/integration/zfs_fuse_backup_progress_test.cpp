// `zsend backup` progress on a terminal (issue 16, finding 6), on real zfs-fuse pools: two
// datasets with --jobs 2 and --rate-limit, run under a real pseudo-terminal (`script`), over tcp
// and over ssh through the private sshd. The captured terminal output is checked like a
// screenshot: a frame (the text between two redraws) with a line per running dataset (its name,
// a byte count and a rate) and the total line "N of 2 datasets done", and the in-place redraw
// sequences (cursor up, clear line). With stderr not a terminal nothing of it appears.
#include <gtest/gtest.h>

#include <regex>

#include "base/shell_words.h"
#include "tests/support/backup_fixture.h"

namespace zsend::test {
namespace {

constexpr char kRedraw[] = "\x1b[1A\x1b[2K";

struct Case {
  const char* name;
  const char* transport;
  const char* ssh;  // "", "--ssh-target" (push) or "--ssh-source" (pull)
};

class ZfsFuseBackupProgress : public BackupFixture {
 public:
  void SetUp() override {
    BackupFixture::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    ZSEND_REQUIRE(HaveProgram("script"), "script (util-linux) for a pseudo-terminal");
    for (const char* name : {"a", "b"}) {
      Sh("zfs create " + src_ + "/" + name);
      // 1.5 MB at --rate-limit 1M: a little over a second each, the two at once.
      WriteData(src_ + "/" + name, "f.bin", 1500000, name[0]);
    }
  }
  std::vector<std::string> Args(const Case& c) {
    std::vector<std::string> argv = {
        BinPath("zsend"), "backup", job_, dst_, "--dataset", src_ + "/a", "--dataset", src_ + "/b",
        "--jobs", "2", "--rate-limit", "1M", "--transport", c.transport, "--state-dir", state_dir_,
        "--no-rotation",
        // dst/a and dst/b: their parent exists (two jobs would both create dst/src)
        "--strip-path", "1"};
    if (std::string(c.ssh).empty()) return argv;
    std::vector<std::string> ssh = StartSshd();
    if (ssh.empty()) return {};
    argv.insert(argv.end(),
                {c.ssh, sshd_->destination(), "--remote-engine", BinPath("zsend-engine")});
    argv.insert(argv.end(), ssh.begin(), ssh.end());
    return argv;
  }
};

// The frames of a terminal capture: the text drawn after each clear of the block.
std::vector<std::string> Frames(const std::string& screen) {
  std::vector<std::string> frames;
  size_t at = 0;
  while ((at = screen.find(kRedraw, at)) != std::string::npos) {
    at += sizeof kRedraw - 1;
    size_t next = screen.find(kRedraw, at);
    std::string frame = screen.substr(at, next == std::string::npos ? next : next - at);
    if (frame.find_first_not_of("\x1b[2K\r\n") != std::string::npos) frames.push_back(frame);
  }
  return frames;
}

class ZfsFuseBackupProgressPty : public ZfsFuseBackupProgress,
                                 public ::testing::WithParamInterface<Case> {};

TEST_P(ZfsFuseBackupProgressPty, RedrawsALinePerRunningDatasetAndATotal) {
  std::vector<std::string> argv = Args(GetParam());
  ASSERT_FALSE(argv.empty());
  // script runs the command on a new pseudo-terminal and copies what it shows to stdout.
  RunResult r = test::Run({"script", "-q", "-e", "-c", ShellJoin(argv), "/dev/null"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string& screen = r.out;
  EXPECT_NE(screen.find(kRedraw), std::string::npos) << "no in-place redraw:\n" << screen;
  const std::regex running(src_ + "/[ab] +[0-9.]+ [KMG]?i?B +[0-9.]+ [KMG]?i?B/s");
  const std::regex total("total +[0-2] of 2 datasets done +[0-9.]+ [KMG]?i?B");
  // Bytes that moved: the local engine's --progress-fd reached the display.
  const std::regex moving(src_ + "/[ab] +[1-9][0-9.]* [KMG]iB +[1-9][0-9.]* [KMG]iB/s");
  bool both = false, any_total = false, any_bytes = false;
  for (const std::string& frame : Frames(screen)) {
    any_total = any_total || std::regex_search(frame, total);
    any_bytes = any_bytes || std::regex_search(frame, moving);
    both = both || (frame.find(src_ + "/a ") != std::string::npos &&
                    frame.find(src_ + "/b ") != std::string::npos &&
                    std::regex_search(frame, running) && std::regex_search(frame, total));
  }
  EXPECT_TRUE(any_total) << screen;
  EXPECT_TRUE(any_bytes) << "no running line shows bytes moving:\n" << screen;
  EXPECT_TRUE(both) << "no frame shows both running datasets and the total:\n" << screen;
  EXPECT_EQ(Compare(src_ + "/a", dst_ + "/a"), "");
  EXPECT_EQ(Compare(src_ + "/b", dst_ + "/b"), "");
}

// The terminal check is the CLI's, the same for every transport: tcp only (lean).
TEST_F(ZfsFuseBackupProgress, NothingOfItWhenStderrIsNotATerminal) {
  std::vector<std::string> argv = Args({"Tcp", "tcp", ""});
  ASSERT_FALSE(argv.empty());
  RunResult r = test::Run(argv);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.err.find('\x1b'), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("datasets done"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("datasets done"), std::string::npos) << r.out;
}

INSTANTIATE_TEST_SUITE_P(Transports, ZfsFuseBackupProgressPty,
                         ::testing::Values(Case{"Tcp", "tcp", ""},
                                           Case{"SshPush", "ssh", "--ssh-target"},
                                           Case{"TcpPull", "tcp", "--ssh-source"}),
                         [](const auto& param) { return std::string(param.param.name); });

}  // namespace
}  // namespace zsend::test
