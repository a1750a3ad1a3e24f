// `zsend backup` progress on a terminal (issue 16, finding 6), on real zfs-fuse pools: two
// datasets with --jobs 2 and --rate-limit, run under a real pseudo-terminal (`script`), over tcp
// and over ssh through the private sshd. The captured terminal output is checked like a
// screenshot: a frame (the text between two redraws) with a line per running dataset (its name,
// a byte count and a rate) and the total line "N of 2 datasets done", and the in-place redraw
// sequences (cursor up, clear line). With stderr not a terminal nothing of it appears.
#include <gtest/gtest.h>

#include <cctype>
#include <iterator>
#include <sstream>

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

// The words of each line of a frame, with the terminal's escape sequences and carriage
// returns taken out.
std::vector<std::vector<std::string>> Words(const std::string& frame) {
  std::string text;
  for (size_t i = 0; i < frame.size(); ++i) {
    if (frame[i] == '\x1b' && i + 1 < frame.size() && frame[i + 1] == '[') {
      i += 2;
      while (i < frame.size() && !std::isalpha(static_cast<unsigned char>(frame[i]))) ++i;
    } else if (frame[i] != '\r') {
      text += frame[i];
    }
  }
  std::vector<std::vector<std::string>> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    lines.emplace_back(std::istream_iterator<std::string>(words),
                       std::istream_iterator<std::string>());
  }
  return lines;
}

// "12.5" (nonzero: not "0" or "0.0").
bool IsNumber(const std::string& word, bool nonzero) {
  if (word.empty() || word.find_first_not_of("0123456789.") != std::string::npos) return false;
  return !nonzero || word.find_first_of("123456789") != std::string::npos;
}

// "B", "KiB", "MiB", "GiB" (binary units only when `binary`).
bool IsSizeUnit(const std::string& word, bool binary) {
  if (word == "B") return !binary;
  return word.size() == 3 && std::string("KMG").find(word[0]) != std::string::npos &&
         word.substr(1) == "iB";
}

// "POOL/a  1.2 MiB  800 KiB/s ...": a running transfer's line, with bytes moving if asked.
bool IsRunningLine(const std::vector<std::string>& w, const std::string& pool, bool moving) {
  return w.size() >= 5 && (w[0] == pool + "/a" || w[0] == pool + "/b") && IsNumber(w[1], moving) &&
         IsSizeUnit(w[2], moving) && IsNumber(w[3], moving) && w[4].size() > 2 &&
         w[4].substr(w[4].size() - 2) == "/s" &&
         IsSizeUnit(w[4].substr(0, w[4].size() - 2), moving);
}

// "total  1 of 2 datasets done  1.5 MiB ...".
bool IsTotalLine(const std::vector<std::string>& w) {
  return w.size() >= 8 && w[0] == "total" && (w[1] == "0" || w[1] == "1" || w[1] == "2") &&
         w[2] == "of" && w[3] == "2" && w[4] == "datasets" && w[5] == "done" &&
         IsNumber(w[6], false) && IsSizeUnit(w[7], false);
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
  bool both = false, any_total = false, any_bytes = false;
  for (const std::string& frame : Frames(screen)) {
    bool a = false, b = false, total = false;
    for (const std::vector<std::string>& words : Words(frame)) {
      const bool running = IsRunningLine(words, src_, /*moving=*/false);
      a = a || (running && words[0] == src_ + "/a");
      b = b || (running && words[0] == src_ + "/b");
      total = total || IsTotalLine(words);
      // Bytes that moved: the local engine's --progress-fd reached the display.
      any_bytes = any_bytes || IsRunningLine(words, src_, /*moving=*/true);
    }
    any_total = any_total || total;
    both = both || (a && b && total);
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
