// Files zsend creates beside a user's path never follow a symlink planted there and are
// created 0600 (base/private_file.h); the metrics/report writer on top of it.
#include "base/private_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "orchestrator/report/metrics.h"

namespace zsend {
namespace {

class PrivateFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/zsend-private-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    victim_ = dir_ + "/victim";
    std::ofstream(victim_) << "precious";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  static std::string Read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  static mode_t Mode(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
  }
  std::string dir_, victim_;
};

TEST_F(PrivateFile, APlantedSymlinkIsReplacedNotFollowed) {
  const std::string path = dir_ + "/out.partial";
  std::filesystem::create_symlink(victim_, path);
  Result<UniqueFd> fd = CreatePrivateFile(path);
  ASSERT_TRUE(fd.ok()) << fd.status().ToString();
  ASSERT_EQ(::write(fd->get(), "new", 3), 3);
  EXPECT_EQ(Read(victim_), "precious");
  EXPECT_FALSE(std::filesystem::is_symlink(path));
  EXPECT_EQ(Read(path), "new");
  EXPECT_EQ(Mode(path), 0600u);
}

TEST_F(PrivateFile, MetricsTemporaryNeverFollowsASymlink) {
  const std::string path = dir_ + "/zsend.prom";
  std::filesystem::create_symlink(victim_, path + ".tmp." + std::to_string(::getpid()));
  const mode_t old_umask = ::umask(0);
  Status written = orchestrator::WriteFileAtomically(path, "zsend_up 1\n");
  ::umask(old_umask);
  ASSERT_TRUE(written.ok()) << written.ToString();
  EXPECT_EQ(Read(victim_), "precious");
  EXPECT_EQ(Read(path), "zsend_up 1\n");
  EXPECT_EQ(Mode(path), 0644u);  // for the exporter; never world-writable whatever the umask
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp." + std::to_string(::getpid())));
}

TEST_F(PrivateFile, AtomicWriteIsPrivateByDefault) {
  const std::string path = dir_ + "/stats.json";
  const mode_t old_umask = ::umask(0);
  Status written = WriteFileAtomically(path, "{}\n");
  ::umask(old_umask);
  ASSERT_TRUE(written.ok()) << written.ToString();
  EXPECT_EQ(Read(path), "{}\n");
  EXPECT_EQ(Mode(path), 0600u);
}

}  // namespace
}  // namespace zsend
