// Interop with the real tools on a real `zfs send` stream made with zfs-fuse: our
// --compress output decoded by zstd/gunzip/lz4, their output decoded by our --decompress,
// byte-exact. Also the CLI's errors and exit codes for codec options (CodecCli).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "tests/support/subprocess.h"
#include "tests/support/zfs_pool.h"

namespace zsend {
namespace {

using test::BinPath;
using test::HaveProgram;
using test::Shell;

std::string Quote(const std::string& s) {
  return "'" + s + "'";
}

// One zfs send stream of real files, made once per build tree: every test runs in its own
// process under ctest, and filling a zfs-fuse pool with 1500 files takes seconds. The stream is
// kept as bin/../test-cache/codec-interop.zstream (renamed into place when complete, so a
// cut-off run leaves no half stream behind); the pool is destroyed right after sending.
class CodecInterop : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string cache_dir =
        std::filesystem::path(BinPath("zsend-engine")).parent_path().parent_path() / "test-cache";
    std::error_code ec;
    std::filesystem::create_directories(cache_dir, ec);
    const std::string cached = cache_dir + "/codec-interop.zstream";
    if (access(cached.c_str(), R_OK) != 0) setup_error_ = MakeStream(cached);
    if (setup_error_.empty()) stream_ = cached;
    char dir_template[] = "/tmp/zsend-codecs-XXXXXX";
    if (mkdtemp(dir_template) != nullptr) dir_ = dir_template;
  }
  // Makes a zfs send stream of a slice of /usr/share/doc (text, gzip'd changelogs, html) on a
  // throw-away pool and renames it to `path`. Returns "" or why not.
  static std::string MakeStream(const std::string& path) {
    std::string problem = test::ZfsFuseProblem();
    if (!problem.empty()) return problem;
    std::string error;
    std::unique_ptr<test::ZfsPool> pool = test::ZfsPool::Create("zsend_codecs_", 256, &error);
    if (pool == nullptr) return error;
    const std::string data = pool->CreateDataset("data", &error);
    if (data.empty()) return error;
    const std::string partial = path + ".partial." + std::to_string(getpid());
    test::RunResult r = Shell(
        "set -e; find /usr/share/doc -type f -size -1024k | sort | "
        "head -n 1500 | while read -r f; do cp --parents \"$f\" " +
        Quote(pool->Mountpoint(data)) + "/; done; zfs snapshot " + data + "@s; zfs send " + data +
        "@s > " + Quote(partial) + " && mv " + Quote(partial) + " " + Quote(path) + " 2>&1");
    if (r.exit_code != 0) {
      unlink(partial.c_str());
      return "could not make a zfs send stream: " + r.out + r.err;
    }
    return "";
  }
  static void TearDownTestSuite() {
    if (!dir_.empty()) (void)Shell("rm -rf " + Quote(dir_));
  }
  void SetUp() override {
    std::string problem = test::ZfsFuseProblem();
    ZSEND_REQUIRE(problem.empty(), problem);
    ASSERT_FALSE(stream_.empty()) << setup_error_;
    ASSERT_FALSE(dir_.empty()) << "mkdtemp failed";
    ZSEND_REQUIRE(HaveProgram("zstd") && HaveProgram("gunzip") && HaveProgram("lz4"),
                  "zstd, gzip and lz4 tools");
  }
  // Exit code of `command` run by bash.
  static int Bash(const std::string& command) {
    std::ofstream(dir_ + "/command.sh") << "set -o pipefail\n" << command << "\n";
    test::RunResult r = Shell("bash " + dir_ + "/command.sh 2>&1");
    if (r.exit_code != 0) ADD_FAILURE() << command << "\n" << r.out << r.err;
    return r.exit_code;
  }
  static std::string Engine() { return BinPath("zsend-engine") + " buffer -q -m 64M"; }

  static std::string dir_, stream_, setup_error_;
};
std::string CodecInterop::dir_, CodecInterop::stream_, CodecInterop::setup_error_;

TEST_F(CodecInterop, TheStreamIsLargeEnoughToSpanManyBlocks) {
  std::ifstream f(stream_, std::ios::binary | std::ios::ate);
  EXPECT_GT(static_cast<long>(f.tellg()), 8l << 20);
}

TEST_F(CodecInterop, OurOutputDecodesWithTheStandardTools) {
  const std::pair<const char*, const char*> cases[] = {
      {"zstd", "zstd -dc"},   {"zstd:-3", "zstd -dc"}, {"zstd:9", "zstd -dc"},
      {"auto", "zstd -dc"},   {"gzip:1", "gunzip -c"}, {"gzip:6", "gunzip -c"},
      {"zlib:1", "gzip -dc"}, {"lz4", "lz4 -dc"},
  };
  for (const auto& [spec, tool] : cases) {
    SCOPED_TRACE(spec);
    const std::string packed = dir_ + "/ours";
    EXPECT_EQ(Bash(Engine() + " --compress " + spec + " -i " + stream_ + " -o " + packed), 0);
    EXPECT_EQ(Bash(std::string(tool) + " < " + packed + " | cmp - " + stream_), 0);
    // And back through our own decoder, in parallel.
    EXPECT_EQ(Bash(Engine() + " --decompress -i " + packed + " --json-stats " + dir_ +
                   "/stats.json | cmp - " + stream_),
              0);
    std::ifstream stats(dir_ + "/stats.json");
    const std::string json((std::istreambuf_iterator<char>(stats)),
                           std::istreambuf_iterator<char>());
    EXPECT_NE(json.find("\"parallel\": true"), std::string::npos) << json;
  }
}

TEST_F(CodecInterop, TheirOutputDecodesWithOurs) {
  std::vector<std::string> tools = {"zstd -1 -c", "zstd -T0 -3 -c", "gzip -1 -c",
                                    "gzip -9 -c", "lz4 -c",         "lz4 -B4 -BD -c"};
  if (HaveProgram("pigz")) tools.push_back("pigz -1 -c");
  for (const std::string& tool : tools) {
    SCOPED_TRACE(tool);
    const std::string packed = dir_ + "/theirs";
    EXPECT_EQ(Bash(tool + " < " + stream_ + " > " + packed), 0);
    EXPECT_EQ(Bash(Engine() + " --decompress -i " + packed + " | cmp - " + stream_), 0);
  }
}

TEST_F(CodecInterop, EmptyStreamsAreValidForTheTools) {
  const std::pair<const char*, const char*> cases[] = {
      {"zstd", "zstd -dc"}, {"gzip", "gunzip -c"}, {"lz4", "lz4 -dc"}};
  for (const auto& [spec, tool] : cases) {
    SCOPED_TRACE(spec);
    EXPECT_EQ(Bash(Engine() + " --compress " + spec + " < /dev/null > " + dir_ + "/empty"), 0);
    EXPECT_EQ(Bash(std::string(tool) + " < " + dir_ + "/empty | cmp - /dev/null"), 0);
  }
}

TEST(CodecCli, BadSpecIsAUsageErrorListingTheValidSpecs) {
  test::RunResult r = test::Run({BinPath("zsend-engine"), "buffer", "--compress", "zstd:42"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("valid: none, auto, zstd"), std::string::npos) << r.err;
  r = test::Run({BinPath("zsend-engine"), "buffer", "--compress", "zstd", "--decompress"});
  EXPECT_EQ(r.exit_code, 2);
}

TEST(CodecCli, CorruptInputExitsSevenWithAClearMessage) {
  test::RunResult r =
      test::Run({BinPath("zsend-engine"), "buffer", "-q", "--decompress"}, "not compressed data");
  EXPECT_EQ(r.exit_code, 7);
  EXPECT_NE(r.err.find("is not zstd, gzip or lz4 data"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
  // A truncated zstd stream: our own output, cut.
  test::RunResult packed =
      test::Run({BinPath("zsend-engine"), "buffer", "-q", "--compress", "zstd"},
                std::string(100000, 'a') + std::string(100000, 'b'));
  ASSERT_EQ(packed.exit_code, 0);
  r = test::Run({BinPath("zsend-engine"), "buffer", "-q", "--decompress"},
                packed.out.substr(0, packed.out.size() - 5));
  EXPECT_EQ(r.exit_code, 7);
  EXPECT_NE(r.err.find("truncated"), std::string::npos) << r.err;
  // A damaged frame in the middle: the message names the frame's input offset.
  std::string bad = packed.out;
  bad[bad.size() - 10] = static_cast<char>(bad[bad.size() - 10] ^ 0x55);
  r = test::Run({BinPath("zsend-engine"), "buffer", "-q", "--decompress"}, bad);
  EXPECT_EQ(r.exit_code, 7);
  EXPECT_NE(r.err.find("at input byte"), std::string::npos) << r.err;
}

TEST(CodecCli, JsonStatsRecordTheCodec) {
  char path[] = "/tmp/zsend-codec-stats-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  test::RunResult r = test::Run(
      {BinPath("zsend-engine"), "buffer", "-q", "--compress", "gzip:1", "--json-stats", path},
      std::string(1 << 20, 'x'));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream f(path);
  std::string json((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  unlink(path);
  EXPECT_NE(json.find("\"codec\": \"gzip:1\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"raw_bytes\": 1048576"), std::string::npos) << json;
  EXPECT_NE(json.find("\"ratio\""), std::string::npos) << json;
}

}  // namespace
}  // namespace zsend
