// The digest-tree walker of zsend verify: every entry type, metadata and content changes change
// the digest, hardlinks and empty files, sampling, the line format, parsing and comparison.
#include "orchestrator/verify/digest_tree.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "tests/support/files.h"
#include "tests/support/subprocess.h"

namespace zsend::orchestrator {
namespace {

using test::WriteFile;

class DigestTreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/zsend-digest-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    ASSERT_EQ(chmod(dir_.c_str(), 0755), 0);
    WriteFile(dir_ + "/a.txt", "hello\n");
    WriteFile(dir_ + "/empty", "");
    ASSERT_EQ(mkdir((dir_ + "/sub").c_str(), 0750), 0);
    WriteFile(dir_ + "/sub/b with space", "world");
    ASSERT_EQ(symlink("../a.txt", (dir_ + "/sub/link").c_str()), 0);
    ASSERT_EQ(chmod((dir_ + "/a.txt").c_str(), 0644), 0);
    ASSERT_EQ(chmod((dir_ + "/empty").c_str(), 0600), 0);
    ASSERT_EQ(chmod((dir_ + "/sub/b with space").c_str(), 0640), 0);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Walk(const DigestOptions& options = {}) {
    std::string out;
    Result<DigestSummary> walked = WalkDigestTree(dir_, options, [&out](std::string_view line) {
      out.append(line);
      out += '\n';
    });
    EXPECT_TRUE(walked.ok()) << walked.status().message();
    return out;
  }

  std::string Root(const DigestOptions& options = {}) {
    Result<ParsedDigestTree> tree = ParseDigestTree(Walk(options));
    EXPECT_TRUE(tree.ok()) << tree.status().message();
    return tree.ok() ? tree->summary.root_digest : "";
  }

  std::string dir_;
};

std::string LineOf(const std::string& out, const std::string& path) {
  size_t start = 0;
  while (start < out.size()) {
    size_t end = out.find('\n', start);
    std::string line = out.substr(start, end - start);
    std::vector<std::string> fields;
    size_t pos = 0;
    for (int i = 0; i < 6; ++i) pos = line.find(' ', pos) + 1;
    if (pos != 0 && line.compare(pos, path.size() + 1, path + " ") == 0) return line;
    if (pos != 0 && line.substr(pos) == path) return line;
    start = end + 1;
  }
  return "";
}

TEST_F(DigestTreeTest, OneLinePerEntryInWalkOrder) {
  const std::string out = Walk();
  const uid_t uid = getuid();
  const gid_t gid = getgid();
  const std::string owner = std::to_string(uid) + " " + std::to_string(gid);
  EXPECT_EQ(out.rfind("zsend-digest-tree 1 100 0\n", 0), 0u) << out;
  EXPECT_EQ(LineOf(out, "."), "d 0755 " + owner + " - - .");
  // XXH3-128 as xxhsum -H2 prints it.
  EXPECT_EQ(LineOf(out, "a.txt"), "f 0644 " + owner + " 6 6bba86c7e069f56d5a10b435f1c8e49c a.txt");
  // Empty file: its digest is XXH3-128 of nothing, not "-".
  EXPECT_EQ(LineOf(out, "empty"), "f 0600 " + owner + " 0 99aa06d3014798d86001c324468d497f empty");
  EXPECT_EQ(LineOf(out, "sub").substr(0, 7), "d 0750 ");
  EXPECT_NE(LineOf(out, "sub/b%20with%20space"), "") << out;
  EXPECT_NE(LineOf(out, "sub/link").find(" sub/link ../a.txt"), std::string::npos) << out;
  EXPECT_EQ(LineOf(out, "sub/link").substr(0, 2), "l ");
  // Depth first, children by name: ".", a.txt, empty, sub, sub/b..., sub/link, then the end.
  EXPECT_LT(out.find(" a.txt\n"), out.find(" empty\n"));
  EXPECT_LT(out.find(" empty\n"), out.find(" sub\n"));
  EXPECT_LT(out.find(" sub\n"), out.find(" sub/link "));
  EXPECT_EQ(out.substr(out.rfind("end ")).substr(0, 4), "end ");
  Result<ParsedDigestTree> tree = ParseDigestTree(out);
  ASSERT_TRUE(tree.ok()) << tree.status().message();
  EXPECT_EQ(tree->entries.size(), 6u);
  EXPECT_EQ(tree->summary.files_read, 3u);
  EXPECT_EQ(tree->summary.bytes_read, 11u);
}

TEST_F(DigestTreeTest, SameTreeSameDigestAndEveryChangeChangesIt) {
  const std::string before = Root();
  EXPECT_EQ(Root(), before);
  // One byte of one file.
  WriteFile(dir_ + "/sub/b with space", "wurld");
  const std::string byte = Root();
  EXPECT_NE(byte, before);
  // A mode.
  ASSERT_EQ(chmod((dir_ + "/a.txt").c_str(), 0600), 0);
  const std::string mode = Root();
  EXPECT_NE(mode, byte);
  // A link's target.
  ASSERT_EQ(unlink((dir_ + "/sub/link").c_str()), 0);
  ASSERT_EQ(symlink("../empty", (dir_ + "/sub/link").c_str()), 0);
  const std::string link = Root();
  EXPECT_NE(link, mode);
  // A new empty file.
  WriteFile(dir_ + "/sub/new", "");
  EXPECT_NE(Root(), link);
}

TEST_F(DigestTreeTest, HardlinksAreListedUnderEachNameWithTheSameDigest) {
  ASSERT_EQ(link((dir_ + "/a.txt").c_str(), (dir_ + "/hard").c_str()), 0);
  const std::string out = Walk();
  const std::string a = LineOf(out, "a.txt"), hard = LineOf(out, "hard");
  ASSERT_FALSE(hard.empty()) << out;
  EXPECT_EQ(a.substr(0, a.size() - 5), hard.substr(0, hard.size() - 4));
}

TEST_F(DigestTreeTest, FifoAndSymlinkedDirectoryAreNotFollowed) {
  ASSERT_EQ(mkfifo((dir_ + "/pipe").c_str(), 0644), 0);
  ASSERT_EQ(symlink("/etc", (dir_ + "/etc-link").c_str()), 0);
  const std::string out = Walk();  // a fifo read would block; a followed link would list /etc
  EXPECT_EQ(LineOf(out, "pipe").substr(0, 7), "p 0644 ");
  EXPECT_EQ(LineOf(out, "etc-link").substr(0, 2), "l ");
  EXPECT_EQ(out.find("etc-link/"), std::string::npos);
}

TEST_F(DigestTreeTest, SamplingIsDeterministicPerSeedAndKeepsMetadata) {
  for (int i = 0; i < 200; ++i) WriteFile(dir_ + "/f" + std::to_string(i), std::to_string(i));
  DigestOptions half;
  half.sample_percent = 50;
  half.seed = 7;
  Result<ParsedDigestTree> a = ParseDigestTree(Walk(half));
  Result<ParsedDigestTree> b = ParseDigestTree(Walk(half));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->summary.root_digest, b->summary.root_digest);
  EXPECT_EQ(a->entries.size(), 206u);  // every entry listed
  EXPECT_GT(a->summary.files_read, 60u);
  EXPECT_LT(a->summary.files_read, 140u);
  half.seed = 8;
  Result<ParsedDigestTree> c = ParseDigestTree(Walk(half));
  ASSERT_TRUE(c.ok());
  EXPECT_NE(c->summary.root_digest, a->summary.root_digest);  // other files chosen
  // Exactly the files SampledForContents picks by their (escaped) path were read.
  int sampled = 0;
  for (int i = 0; i < 200; ++i) sampled += SampledForContents("f" + std::to_string(i), half);
  for (const char* path : {"a.txt", "empty", "sub/b%20with%20space"}) {
    sampled += SampledForContents(path, half);
  }
  EXPECT_EQ(static_cast<uint64_t>(sampled), c->summary.files_read);
}

TEST_F(DigestTreeTest, ComparisonNamesTheDifferingPaths) {
  Result<ParsedDigestTree> source = ParseDigestTree(Walk());
  WriteFile(dir_ + "/sub/b with space", "wurld");
  ASSERT_EQ(chmod((dir_ + "/a.txt").c_str(), 0600), 0);
  ASSERT_EQ(unlink((dir_ + "/empty").c_str()), 0);
  WriteFile(dir_ + "/extra", "x");
  Result<ParsedDigestTree> target = ParseDigestTree(Walk());
  ASSERT_TRUE(source.ok() && target.ok());
  TreeComparison same = CompareDigestTrees(*source, *source, 10);
  EXPECT_TRUE(same.equal());
  TreeComparison diff = CompareDigestTrees(*source, *target, 10);
  ASSERT_EQ(diff.total, 4u);
  ASSERT_EQ(diff.differences.size(), 4u);
  EXPECT_EQ(diff.differences[0].path, "a.txt");
  EXPECT_EQ(diff.differences[0].what, "mode 0644 on the source, 0600 on the target");
  EXPECT_EQ(diff.differences[1].path, "empty");
  EXPECT_EQ(diff.differences[1].what, "only on the source");
  EXPECT_EQ(diff.differences[2].path, "sub/b%20with%20space");
  EXPECT_EQ(diff.differences[2].what, "contents differ");
  EXPECT_EQ(diff.differences[3].path, "extra");
  EXPECT_EQ(diff.differences[3].what, "only on the target");
  TreeComparison limited = CompareDigestTrees(*source, *target, 1);
  EXPECT_EQ(limited.total, 4u);
  EXPECT_EQ(limited.differences.size(), 1u);
}

TEST_F(DigestTreeTest, ParsingSkipsStartupNoiseAndRejectsACutOutput) {
  const std::string out = Walk();
  Result<ParsedDigestTree> noisy = ParseDigestTree("Welcome to host\n" + out);
  ASSERT_TRUE(noisy.ok()) << noisy.status().message();
  EXPECT_EQ(noisy->entries.size(), 6u);
  Result<ParsedDigestTree> cut = ParseDigestTree(out.substr(0, out.rfind("end ")));
  EXPECT_FALSE(cut.ok());
  EXPECT_NE(cut.status().message().find("cut short"), std::string::npos);
  EXPECT_FALSE(ParseDigestTree("").ok());
}

TEST_F(DigestTreeTest, EscapesSpacesPercentAndControlBytes) {
  EXPECT_EQ(EscapeDigestPath("a b%c\nd\x7f"
                             "e\xc3\xa9"),
            "a%20b%25c%0Ad%7Fe\xc3\xa9");
}

TEST_F(DigestTreeTest, AMissingRootIsAnErrorNamingIt) {
  Result<DigestSummary> walked = WalkDigestTree(dir_ + "/nope", {}, [](std::string_view) {});
  ASSERT_FALSE(walked.ok());
  EXPECT_NE(walked.status().message().find(dir_ + "/nope"), std::string::npos);
}

// A volume is walked by byte ranges of its block device: a loop device over a sparse file
// stands in for a zvol here (the OpenZFS suite verifies a real one).
TEST(DigestTreeVolume, ABlockDeviceIsListedByRangesAndAChangeNamesItsRange) {
  char pattern[] = "/tmp/zsend-volume-XXXXXX";
  const int fd = mkstemp(pattern);
  ASSERT_GE(fd, 0);
  const std::string file = pattern;
  const uint64_t size = 2 * kVolumeRangeBytes + (1 << 20);  // two full ranges and a short one
  ASSERT_EQ(ftruncate(fd, static_cast<off_t>(size)), 0);
  ASSERT_EQ(pwrite(fd, "data", 4, 1000), 4);
  close(fd);
  test::RunResult attached = test::Shell("losetup -f --show " + file);
  if (attached.exit_code != 0) std::filesystem::remove(file);
  ZSEND_REQUIRE(attached.exit_code == 0, "a loop device (losetup): " + attached.err);
  const std::string device = attached.out.substr(0, attached.out.find('\n'));
  struct Detach {  // also when an assertion below returns early
    std::string device, file;
    ~Detach() {
      test::Shell("losetup -d " + device);
      std::filesystem::remove(file);
    }
  } detach{device, file};
  auto walk = [&] {
    std::string out;
    Result<DigestSummary> walked = WalkDigestTree(device, {}, [&out](std::string_view line) {
      out.append(line);
      out += '\n';
    });
    EXPECT_TRUE(walked.ok()) << walked.status().message();
    Result<ParsedDigestTree> tree = ParseDigestTree(out);
    EXPECT_TRUE(tree.ok()) << out;
    return tree.ok() ? *tree : ParsedDigestTree{};
  };
  ParsedDigestTree before = walk();
  ASSERT_EQ(before.entries.size(), 3u);
  EXPECT_EQ(before.entries[0].path, "bytes:0-67108863");
  EXPECT_EQ(before.entries[2].path, "bytes:134217728-135266303");
  EXPECT_EQ(before.entries[2].fields.substr(0, 19), "r 0000 0 0 1048576 ");
  EXPECT_EQ(before.summary.bytes_read, size);
  // One byte changed in the second range: only that range differs.
  int writable = open(file.c_str(), O_WRONLY);
  ASSERT_GE(writable, 0);
  ASSERT_EQ(pwrite(writable, "x", 1, static_cast<off_t>(kVolumeRangeBytes + 5)), 1);
  close(writable);
  test::Shell("blockdev --flushbufs " + device);
  TreeComparison compared = CompareDigestTrees(before, walk(), 10);
  ASSERT_EQ(compared.total, 1u);
  EXPECT_EQ(compared.differences[0].path, "bytes:67108864-134217727");
}

}  // namespace
}  // namespace zsend::orchestrator
