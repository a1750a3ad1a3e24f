// base/subprocess.h: the one spawn routine of zsend and zsend-engine.
#include "base/subprocess.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>

namespace zsend::base {
namespace {

// True when `pid` (a process, or -pgid: a process group) is gone within `seconds`.
bool GoneWithin(pid_t pid, double seconds) {
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (kill(pid, 0) != 0 && errno == ESRCH) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

TEST(Spawn, ChildDiesWithItsParentEvenOnSigkill) {
  int report[2];
  ASSERT_EQ(pipe(report), 0);
  pid_t parent = fork();
  ASSERT_GE(parent, 0);
  if (parent == 0) {
    SpawnResult child = Spawn({"sleep", "30"}, {});
    (void)!write(report[1], &child.pid, sizeof child.pid);
    pause();  // killed below
    _exit(0);
  }
  close(report[1]);
  pid_t child = -1;
  ASSERT_EQ(read(report[0], &child, sizeof child), static_cast<ssize_t>(sizeof child));
  close(report[0]);
  ASSERT_GT(child, 0);
  kill(parent, SIGKILL);
  waitpid(parent, nullptr, 0);
  EXPECT_TRUE(GoneWithin(child, 10)) << "sleep " << child << " outlived its parent";
  kill(child, SIGKILL);
}

TEST(Spawn, OwnProcessGroupStoppedAsAWholeEvenWhenStopped) {
  SpawnResult leader = Spawn({"sh", "-c", "sleep 30 & wait"}, {});
  ASSERT_TRUE(leader.ok());
  EXPECT_EQ(getpgid(leader.pid), leader.pid);
  kill(-leader.pid, SIGSTOP);
  int status = StopAndReap(leader.pid, leader.pid, 2000);
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_TRUE(GoneWithin(-leader.pid, 10));  // the group's sleep is gone too
}

TEST(Spawn, ExecFailureIsReportedNotAnExit127) {
  SpawnResult missing = Spawn({"/nonexistent/zsend-program"}, {});
  EXPECT_FALSE(missing.ok());
  EXPECT_EQ(missing.exec_errno, ENOENT);
}

TEST(Spawn, SignalDispositionsAndMaskAreReset) {
  signal(SIGTERM, SIG_IGN);
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  pthread_sigmask(SIG_BLOCK, &block, &old);
  SpawnResult child = Spawn({"sleep", "30"}, {});
  signal(SIGTERM, SIG_DFL);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ASSERT_TRUE(child.ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let it exec
  kill(child.pid, SIGTERM);
  int status = 0;
  waitpid(child.pid, &status, 0);
  EXPECT_EQ(ExitCodeOf(status), 128 + SIGTERM);
}

}  // namespace
}  // namespace zsend::base
