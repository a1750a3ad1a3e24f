// --syslog: SyslogTee (orchestrator/report/syslog_tee.h) with an injected sink, and the real thing:
// `zsend backup` and `zsend prune --syslog` on zfs-fuse pools, run in a private mount
// namespace where /dev/log is this test's own unix datagram socket, so syslog(3) itself is
// exercised and every line it sent is read back.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <sstream>
#include <thread>

#include "orchestrator/report/syslog_tee.h"
#include "tests/support/backup_fixture.h"

namespace zsend::test {
namespace {

using orchestrator::SyslogTee;

struct Logged {
  int priority;
  std::string line;
};

TEST(SyslogTee, EveryLineOfBothStreamsReachesTheSinkAndTheStreams) {
  std::ostringstream out, err;
  std::vector<Logged> logged;
  {
    SyslogTee tee(out, err, [&](int priority, const std::string& line) {
      logged.push_back({priority, line});
    });
    out << "pool/a -> backup/a: full, 1 MiB in 0.1 s" << '\n';
    out << "pool/b -> backup/b: FAILED: zfs receive failed\n    command: zfs receive backup/b\n";
    err << "zsend backup: another zsend run of backup 'x' is in progress\n";
    err << "fallback: tcp to pipe\n";
    out << "backup x: 2 datasets\r\n"
        << "no newline at the end";
  }
  EXPECT_EQ(out.str(),
            "pool/a -> backup/a: full, 1 MiB in 0.1 s\npool/b -> backup/b: FAILED: zfs receive "
            "failed\n    command: zfs receive backup/b\nbackup x: 2 datasets\r\nno newline at "
            "the end");
  ASSERT_EQ(logged.size(), 7u);
  EXPECT_EQ(logged[0].line, "pool/a -> backup/a: full, 1 MiB in 0.1 s");
  EXPECT_EQ(logged[0].priority, LOG_INFO);
  EXPECT_EQ(logged[1].priority, LOG_ERR);  // a FAILED dataset
  EXPECT_EQ(logged[2].line, "    command: zfs receive backup/b");
  EXPECT_EQ(logged[3].priority, LOG_ERR);  // zsend's one-line error
  EXPECT_EQ(logged[4].line, "fallback: tcp to pipe");
  EXPECT_EQ(logged[4].priority, LOG_NOTICE);
  EXPECT_EQ(logged[5].line, "backup x: 2 datasets");   // no carriage return
  EXPECT_EQ(logged[6].line, "no newline at the end");  // flushed when the tee ends
  // The streams have their own buffers back.
  out << "after\n";
  EXPECT_EQ(logged.size(), 7u);
}

// A unix datagram socket standing in for /dev/log, read on a thread.
class LogSocket {
 public:
  explicit LogSocket(const std::string& path) : path_(path) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    path.copy(address.sun_path, sizeof address.sun_path - 1);
    bound_ = fd_ >= 0 && bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    timeval timeout{0, 100 * 1000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    reader_ = std::thread([this] {
      char buffer[8192];
      while (!stop_) {
        ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
        if (n <= 0) continue;
        std::lock_guard<std::mutex> lock(mutex_);
        messages_.emplace_back(buffer, static_cast<size_t>(n));
      }
    });
  }
  ~LogSocket() {
    stop_ = true;
    reader_.join();
    if (fd_ >= 0) close(fd_);
    unlink(path_.c_str());
  }
  bool bound() const { return bound_; }
  std::vector<std::string> Messages() {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the reader drains the queue
    std::lock_guard<std::mutex> lock(mutex_);
    return messages_;
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool bound_ = false;
  std::atomic<bool> stop_{false};
  std::thread reader_;
  std::mutex mutex_;
  std::vector<std::string> messages_;
};

using ZfsFuseSyslog = BackupFixture;

TEST_F(ZfsFuseSyslog, BackupAndPruneLinesGoToSyslogThroughDevLog) {
  ZSEND_REQUIRE(HaveProgram("unshare") && HaveProgram("mount"), "util-linux unshare and mount");
  LogSocket log(state_dir_ + "/log.sock");
  ASSERT_TRUE(log.bound());
  Sh("zfs create " + src_ + "/data && zfs set zsend:" + job_ + "=true " + src_ + "/data");
  // zfs-fuse cannot mount from inside the namespace: the copy (received with the source's
  // properties) stays unmounted.
  Sh("zfs set mountpoint=none " + src_ + "/data");
  // In a private mount namespace: a tmpfs /dev with the usual nodes, and /dev/log = our socket.
  const std::string saved = state_dir_ + "/dev";
  std::filesystem::create_directories(saved);
  auto in_namespace = [&](const std::vector<std::string>& args) {
    std::string command = "mount --bind /dev " + saved + " && mount -t tmpfs tmpfs /dev && " +
                          "for n in null zero full random urandom tty fuse; do touch /dev/$n; " +
                          "mount --bind " + saved + "/$n /dev/$n; done; " +
                          "ln -s /proc/self/fd /dev/fd && touch /dev/log && " + "mount --bind " +
                          state_dir_ + "/log.sock /dev/log && exec";
    for (const std::string& arg : args) command += " '" + arg + "'";
    return test::Run({"unshare", "-m", "--propagation", "private", "sh", "-c", command});
  };
  RunResult backup =
      in_namespace({BinPath("zsend"), "backup", job_, dst_, "--snapshot-name", "1", "--transport",
                    "pipe", "--readonly", "--state-dir", state_dir_, "--syslog"});
  ASSERT_EQ(backup.exit_code, 0) << backup.out << backup.err;
  RunResult prune = in_namespace({BinPath("zsend"), "prune", job_, dst_, "--keep-source", "1",
                                  "--keep-target", "1", "--state-dir", state_dir_, "--syslog"});
  ASSERT_EQ(prune.exit_code, 0) << prune.out << prune.err;
  RunResult refused = in_namespace({BinPath("zsend"), "prune", job_, dst_, "--keep-source", "x",
                                    "--state-dir", state_dir_, "--syslog"});
  EXPECT_EQ(refused.exit_code, 255);

  std::vector<std::string> messages = log.Messages();
  // Each stdout line of both runs, in order, as user.info (<14>) from "zsend[PID]: ".
  std::vector<std::string> expected;
  for (const std::string* out : {&backup.out, &prune.out}) {
    std::istringstream lines(*out);
    for (std::string line; std::getline(lines, line);) expected.push_back(line);
  }
  ASSERT_GE(expected.size(), 4u) << backup.out << prune.out;
  size_t next = 0;
  for (const std::string& message : messages) {
    if (next < expected.size() && message.rfind("<14>", 0) == 0 &&
        message.find(" zsend[") != std::string::npos && message.size() >= expected[next].size() &&
        message.compare(message.size() - expected[next].size(), std::string::npos,
                        expected[next]) == 0) {
      ++next;
    }
  }
  std::string all;
  for (const std::string& message : messages) all += message + "\n";
  EXPECT_EQ(next, expected.size())
      << "missing from syslog: " << expected[std::min(next, expected.size() - 1)]
      << "\nsyslog got:\n"
      << all;
  // The refused run's error went out as user.err (<11>).
  EXPECT_NE(all.find("<11>"), std::string::npos) << all;
  EXPECT_NE(all.find("zsend prune: --keep-source"), std::string::npos) << all;
}

}  // namespace
}  // namespace zsend::test
