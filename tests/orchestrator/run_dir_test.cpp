// RunDir and SweepRunDirs: a live run's directory is never swept; one whose owner is gone is,
// after its ssh control master was asked to exit; nothing else in the temporary directory is.
#include "orchestrator/host/run_dir.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace zsend::orchestrator {
namespace {

namespace fs = std::filesystem;

class RunDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "zsend-rundir-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    parent_ = pattern;
  }
  void TearDown() override { fs::remove_all(parent_); }
  std::string parent_;
};

TEST_F(RunDirTest, LiveRunIsKeptAndRemovedAtItsEnd) {
  std::string path;
  {
    Result<RunDir> dir = RunDir::Create(parent_);
    ASSERT_TRUE(dir.ok()) << dir.status().message();
    path = dir->path();
    EXPECT_EQ(fs::status(path).permissions() & fs::perms::all, fs::perms::owner_all);
    EXPECT_TRUE(SweepRunDirs(parent_).empty());  // its owner (we) holds the lock
    EXPECT_TRUE(fs::exists(path));
  }
  EXPECT_FALSE(fs::exists(path));
}

TEST_F(RunDirTest, DirectoryOfAKilledRunIsSweptAfterItsControlMasterWasAskedToExit) {
  // A child makes a run directory with a control socket inside and dies by SIGKILL.
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t child = fork();
  if (child == 0) {
    Result<RunDir> dir = RunDir::Create(parent_);
    if (!dir.ok()) _exit(1);
    fs::create_directory(dir->path() + "/zsend-ssh-abcdef");
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::string socket_path = dir->path() + "/zsend-ssh-abcdef/master";
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", socket_path.c_str());
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    if (bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) _exit(2);
    if (write(ready[1], "x", 1) != 1) _exit(3);
    pause();
    _exit(0);
  }
  close(ready[1]);
  char c;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  close(ready[0]);
  // Not swept while the owner lives.
  EXPECT_TRUE(SweepRunDirs(parent_).empty());
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  // Neither are a look-alike without a lock file, nor other names.
  fs::create_directory(parent_ + "/zsend-run.nolock");
  fs::create_directory(parent_ + "/zsend-run-other");
  std::ofstream(parent_ + "/zsend-run-other/owner.lock");
  // A fake ssh records how it was asked.
  const std::string ssh = parent_ + "/fake-ssh";
  std::ofstream(ssh) << "#!/bin/sh\necho \"$@\" >> " << parent_ << "/ssh-args\n";
  chmod(ssh.c_str(), 0755);
  std::vector<std::string> swept = SweepRunDirs(parent_, ssh);
  ASSERT_EQ(swept.size(), 1u);
  EXPECT_FALSE(fs::exists(swept[0]));
  std::ifstream args(parent_ + "/ssh-args");
  std::string line;
  std::getline(args, line);
  EXPECT_EQ(line, "-o ControlPath=" + swept[0] + "/zsend-ssh-abcdef/master -O exit x");
  EXPECT_TRUE(fs::exists(parent_ + "/zsend-run.nolock"));
  EXPECT_TRUE(fs::exists(parent_ + "/zsend-run-other"));
}

}  // namespace
}  // namespace zsend::orchestrator
