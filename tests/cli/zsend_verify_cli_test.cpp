// `zsend verify` and `zsend digest-tree` as programs: bad input is one line naming the problem
// with exit 255, and the hidden digest-tree prints a tree the orchestrator's parser reads.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "orchestrator/verify/digest_tree.h"
#include "tests/support/files.h"
#include "tests/support/subprocess.h"

namespace zsend::test {
namespace {

TEST(ZsendVerifyCli, ABadSampleIsOneLineAndExit255) {
  RunResult r = test::Run({BinPath("zsend"), "verify", "job", "backup", "--sample", "0",
                           "--state-dir", "/nonexistent-zsend-state"});
  EXPECT_EQ(r.exit_code, 255);
  EXPECT_EQ(r.err, "zsend verify: --sample takes a percentage above 0 and at most 100\n");
  EXPECT_FALSE(std::filesystem::exists("/nonexistent-zsend-state"));
}

TEST(ZsendVerifyCli, DigestTreePrintsAParsableTreeAndNamesAMissingPath) {
  char pattern[] = "/tmp/zsend-digest-cli-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  const std::string dir = pattern;
  WriteFile(dir + "/a", "abc");
  RunResult r = test::Run({BinPath("zsend"), "digest-tree", dir, "--sample", "50", "--seed", "9"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  Result<orchestrator::ParsedDigestTree> tree = orchestrator::ParseDigestTree(r.out);
  ASSERT_TRUE(tree.ok()) << tree.status().message() << r.out;
  EXPECT_EQ(tree->entries.size(), 2u);
  EXPECT_EQ(tree->sample_percent, 50);
  EXPECT_EQ(tree->seed, 9u);
  RunResult missing = test::Run({BinPath("zsend"), "digest-tree", dir + "/gone"});
  EXPECT_EQ(missing.exit_code, 255);
  EXPECT_EQ(missing.err,
            "zsend digest-tree: opening the tree " + dir + "/gone: No such file or directory\n");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace zsend::test
