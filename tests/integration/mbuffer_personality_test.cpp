// The mbuffer personality's command line: zsend-engine run through the link named "mbuffer"
// must take mbuffer's options with mbuffer's meanings and refuse, with exit 2 and one line
// naming the option, everything it does not support.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/support/peers/net.h"
#include "tests/support/subprocess.h"

namespace zsend::test {
namespace {

RunResult Mbuffer(const std::vector<std::string>& args, const std::string& input = "") {
  std::vector<std::string> argv = {MbufferLinkPath()};
  argv.insert(argv.end(), args.begin(), args.end());
  return test::Run(argv, input);
}

size_t LineCount(const std::string& text) {
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

// The first run of exactly `length` lower-case hex digits in `text` ("" when none).
std::string FirstHexDigest(const std::string& text, size_t length) {
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    const bool hex = i < text.size() && std::isxdigit(static_cast<unsigned char>(text[i])) &&
                     !std::isupper(static_cast<unsigned char>(text[i]));
    if (hex) continue;
    if (i - start == length) return text.substr(start, length);
    start = i + 1;
  }
  return "";
}

class MbufferPersonalityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(MbufferLinkPath())) << MbufferLinkPath();
    std::string templ = (std::filesystem::temp_directory_path() / "zsend-mbuf.XXXXXX").string();
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    dir_ = templ;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  void WriteFile(const std::string& name, const std::string& data) const {
    std::ofstream(Path(name), std::ios::binary) << data;
  }
  std::string dir_;
};

TEST_F(MbufferPersonalityTest, EveryUnsupportedOptionExitsTwoNamingIt) {
  const std::vector<std::vector<std::string>> cases = {
      {"-t"},         {"-T", "/tmp/x"}, {"-n", "2"},         {"-a", "5"},
      {"-A", "echo"}, {"-d"},           {"-D", "1G"},        {"-u", "10"},
      {"-c"},         {"--append"},     {"--truncate"},      {"--tapeaware"},
      {"--direct"},   {"--no-direct"},  {"--tcptimeo", "5"}, {"--pid"},
  };
  for (const std::vector<std::string>& args : cases) {
    SCOPED_TRACE(args[0]);
    RunResult r = Mbuffer(args, "some data");
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(LineCount(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find(args[0]), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "") << "nothing may be copied when an option is refused";
  }
}

TEST_F(MbufferPersonalityTest, TwoOutputsExitTwo) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"-o", Path("a"), "-o", Path("b")}, {"-o", Path("a"), "-O", "127.0.0.1:9"}}) {
    RunResult r = Mbuffer(args, "data");
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(LineCount(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find("output"), std::string::npos) << r.err;
  }
}

TEST_F(MbufferPersonalityTest, ExistingOutputNeedsDashF) {
  WriteFile("out", "precious");
  RunResult refused = Mbuffer({"-q", "-o", Path("out")}, "new data");
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_EQ(LineCount(refused.err), 1u) << refused.err;
  EXPECT_NE(refused.err.find("-f"), std::string::npos) << refused.err;
  EXPECT_EQ(ReadFile(Path("out")), "precious");

  RunResult forced = Mbuffer({"-q", "-f", "-o", Path("out")}, "new data");
  EXPECT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_EQ(ReadFile(Path("out")), "new data");
}

TEST_F(MbufferPersonalityTest, Md5EqualsMd5sum) {
  ASSERT_TRUE(HaveProgram("md5sum"));
  const std::string data = PatternBytes(3 * 1024 * 1024 + 17, 5);
  RunResult expected = test::Run({"md5sum"}, data);
  ASSERT_EQ(expected.exit_code, 0);
  const std::string want = expected.out.substr(0, 32);
  for (const char* option : {"-H", "--md5"}) {
    SCOPED_TRACE(option);
    RunResult r = Mbuffer({"-q", option}, data);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(r.out == data);
    EXPECT_EQ(FirstHexDigest(r.err, 32), want) << r.err;
  }
}

TEST_F(MbufferPersonalityTest, SizingOptionsCopyByteExact) {
  const std::string data = PatternBytes(3 * 1024 * 1024 + 4097, 6);
  const std::vector<std::vector<std::string>> cases = {
      {"-m", "16M", "-s", "128k"},
      {"-s", "64k", "-b", "64"},
      {"-m", "4M", "-b", "32"},
      {"-m1%", "-s128k"},
      {"-m", "512k", "-s", "4k"},
      {"-s", "1M"},
      // mbuffer picks smaller blocks by itself when only a small -m is given.
      {"-m", "1M"},
      {"-m", "512k"},
      {"-m", "16k"},
      // Fill thresholds and rate limits (high enough not to slow the test).
      {"-m", "2M", "-s", "64k", "-P", "90", "-p", "10"},
      {"-r", "500M", "-R", "500M"},
  };
  for (const auto& args : cases) {
    SCOPED_TRACE(args[0] + " " + (args.size() > 1 ? args[1] : ""));
    std::vector<std::string> all = {"-q"};
    all.insert(all.end(), args.begin(), args.end());
    RunResult r = Mbuffer(all, data);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.size(), data.size());
    EXPECT_TRUE(r.out == data);
  }
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"-m", "lots"}, {"-s", "2G"}, {"-b", "1"}, {"-b", "3x"}, {"-P", "150"}}) {
    SCOPED_TRACE(args[0] + " " + args[1]);
    RunResult bad = Mbuffer(args, data);
    EXPECT_EQ(bad.exit_code, 2) << bad.err;
    EXPECT_EQ(LineCount(bad.err), 1u) << bad.err;
    EXPECT_NE(bad.err.find(args[0]), std::string::npos) << bad.err;
    EXPECT_EQ(bad.out, "");
  }
}

TEST_F(MbufferPersonalityTest, InputAndOutputFiles) {
  const std::string data = PatternBytes(1024 * 1024 + 3, 7);
  WriteFile("in", data);
  RunResult r = Mbuffer({"-q", "-i", Path("in"), "-o", Path("out")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(ReadFile(Path("out")) == data);
  RunResult dashes = Mbuffer({"-q", "-i", "-", "-o", "-"}, data);
  EXPECT_EQ(dashes.exit_code, 0) << dashes.err;
  EXPECT_TRUE(dashes.out == data);
  RunResult missing = Mbuffer({"-q", "-e", "-i", Path("missing")});
  EXPECT_EQ(missing.exit_code, 3) << missing.err;
  EXPECT_EQ(LineCount(missing.err), 1u) << missing.err;
  EXPECT_NE(missing.err.find(Path("missing")), std::string::npos) << missing.err;
}

// As in mbuffer: -q silences stderr (status and summary), -Q keeps the summary out of the log
// file, -l FILE logs there, -v 0 says nothing; errors are always shown.
TEST_F(MbufferPersonalityTest, QuietVerbosityAndLogFile) {
  const std::string data = PatternBytes(100000, 8);
  RunResult plain = Mbuffer({}, data);
  EXPECT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_NE(plain.err.find("summary"), std::string::npos) << plain.err;

  RunResult quiet = Mbuffer({"-q"}, data);
  EXPECT_EQ(quiet.exit_code, 0) << quiet.err;
  EXPECT_EQ(quiet.err, "");
  EXPECT_TRUE(quiet.out == data);

  RunResult quiet_md5 = Mbuffer({"-q", "-H"}, data);
  EXPECT_EQ(quiet_md5.exit_code, 0) << quiet_md5.err;
  EXPECT_EQ(LineCount(quiet_md5.err), 1u) << quiet_md5.err;
  EXPECT_NE(quiet_md5.err.find("md5"), std::string::npos) << quiet_md5.err;

  RunResult logged = Mbuffer({"-q", "-H", "-l", Path("log")}, data);
  EXPECT_EQ(logged.exit_code, 0) << logged.err;
  EXPECT_EQ(logged.err.find("summary"), std::string::npos) << logged.err;
  const std::string log = ReadFile(Path("log"));
  EXPECT_NE(log.find("summary"), std::string::npos) << log;
  EXPECT_NE(log.find("md5"), std::string::npos) << log;

  RunResult no_log_summary = Mbuffer({"-Q", "-l", Path("log_q")}, data);
  EXPECT_EQ(no_log_summary.exit_code, 0) << no_log_summary.err;
  EXPECT_NE(no_log_summary.err.find("summary"), std::string::npos) << no_log_summary.err;
  EXPECT_EQ(ReadFile(Path("log_q")).find("summary"), std::string::npos);

  RunResult silent = Mbuffer({"-v", "0", "-l", Path("log_v0")}, data);
  EXPECT_EQ(silent.exit_code, 0) << silent.err;
  EXPECT_EQ(silent.err, "");
  EXPECT_EQ(ReadFile(Path("log_v0")).find("summary"), std::string::npos);
  EXPECT_TRUE(silent.out == data);
  EXPECT_EQ(Mbuffer({"-v", "9"}, data).exit_code, 2);

  RunResult failed = Mbuffer({"-q", "-v", "0", "-l", Path("log2"), "-i", Path("missing")});
  EXPECT_EQ(failed.exit_code, 3);
  EXPECT_NE(failed.err.find(Path("missing")), std::string::npos) << "errors are never silenced";
  EXPECT_NE(ReadFile(Path("log2")).find(Path("missing")), std::string::npos);
}

TEST_F(MbufferPersonalityTest, WatchdogExpiresOnStalledInput) {
  int stalled[2];
  ASSERT_EQ(pipe(stalled), 0);
  std::FILE* err = std::tmpfile();
  SpawnOptions options;
  options.stdin_fd = stalled[0];
  options.stderr_fd = fileno(err);
  pid_t pid = Spawn({MbufferLinkPath(), "-q", "-W", "1"}, options);
  close(stalled[0]);
  ASSERT_EQ(write(stalled[1], "x", 1), 1);  // one byte, then silence with the pipe open
  RunResult r = Wait(pid);
  close(stalled[1]);
  std::rewind(err);
  char text[512] = {};
  const size_t n = std::fread(text, 1, sizeof text - 1, err);
  std::fclose(err);
  EXPECT_EQ(r.exit_code, 6) << text;
  EXPECT_EQ(LineCount(std::string(text, n)), 1u) << text;

  RunResult healthy = Mbuffer({"-q", "-W", "5"}, "quick data");
  EXPECT_EQ(healthy.exit_code, 0) << healthy.err;
  EXPECT_EQ(healthy.out, "quick data");
}

TEST_F(MbufferPersonalityTest, SyncoidCommandLineInAPipe) {
  const std::string data = PatternBytes(8 * 1024 * 1024 + 11, 9);
  WriteFile("in", data);
  RunResult r = test::Run({"bash", "-c",
                           "set -o pipefail; cat '" + Path("in") + "' | '" + MbufferLinkPath() +
                               "' -q -s 128k -m 16M | cat > '" + Path("out") + "'"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(ReadFile(Path("out")) == data);
}

}  // namespace
}  // namespace zsend::test
