// Interop with the real tools on a real `zfs send` stream made with zfs-fuse: our
// --compress output decoded by zstd/gunzip/lz4, their output decoded by our --decompress,
// byte-exact. Also the CLI's errors and exit codes for codec options (CodecCli).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "tests/support/subprocess.h"

namespace zsend {
namespace {

using test::BinPath;
using test::HaveProgram;
using test::Shell;

std::string Quote(const std::string& s) {
  return "'" + s + "'";
}

// One zfs send stream for the whole suite; the pool is destroyed right after sending.
class CodecInterop : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!HaveProgram("zpool") || Shell("zpool list >/dev/null 2>&1").exit_code != 0) return;
    char dir_template[] = "/tmp/zsend-codecs-XXXXXX";
    if (mkdtemp(dir_template) == nullptr) return;
    dir_ = dir_template;
    pool_ = "zsend_codecs_" + std::to_string(getpid());
    // Real files: a slice of /usr/share/doc (text, gzip'd changelogs, html).
    std::string script = R"(set -e
truncate -s 256M DIR/vdev
zpool create -m DIR/mnt POOL DIR/vdev
# zfs-fuse may call the pool busy for a moment after a send: retry the destroy.
trap "for i in 1 2 3 4 5 6 7 8 9 10; do zpool destroy -f POOL && break; sleep 1; done" EXIT
zfs create POOL/data
find /usr/share/doc -type f -size -1024k | sort | head -n 1500 | while read -r f; do
  cp --parents "$f" DIR/mnt/data/
done
zfs snapshot POOL/data@s
zfs send POOL/data@s > DIR/stream
touch DIR/stream-done
)";
    for (const auto& [key, value] : {std::pair{"DIR", dir_}, std::pair{"POOL", pool_}}) {
      for (size_t at; (at = script.find(key)) != std::string::npos;) {
        script.replace(at, std::string(key).size(), value);
      }
    }
    std::ofstream(dir_ + "/make-stream.sh") << script << "\n";
    test::RunResult r = Shell("bash " + dir_ + "/make-stream.sh 2>&1");
    if (access((dir_ + "/stream-done").c_str(), F_OK) == 0) {
      stream_ = dir_ + "/stream";
    } else {
      setup_error_ = r.out + r.err;
    }
  }
  static void TearDownTestSuite() {
    // The script destroys the pool itself; this covers a test binary killed half way.
    if (!pool_.empty()) {
      (void)Shell("zpool list " + pool_ + " >/dev/null 2>&1 && zpool destroy -f " + pool_ +
                  " >/dev/null 2>&1");
    }
    if (!dir_.empty()) (void)Shell("rm -rf " + Quote(dir_));
  }
  void SetUp() override {
    ZSEND_REQUIRE(HaveProgram("zpool"), "zfs-fuse (zpool)");
    ASSERT_FALSE(stream_.empty()) << "could not make a zfs send stream: " << setup_error_;
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

  static std::string dir_, pool_, stream_, setup_error_;
};
std::string CodecInterop::dir_, CodecInterop::pool_, CodecInterop::stream_,
    CodecInterop::setup_error_;

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
