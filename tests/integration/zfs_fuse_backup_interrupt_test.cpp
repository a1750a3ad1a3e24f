// `zsend backup` on real zfs-fuse pools when it is stopped or its parts hang (issue 11, findings
// 4, 5 and 7): SIGTERM and SIGKILL of zsend mid-transfer, a stalled receiving engine beyond
// --timeout, and a receiver wrapper that fails after the stream arrived complete (through the
// private sshd). Each case checks what the fault matrix checks: the exit code and the history
// say what happened (never ok, never running), no process of the run is left (every process of
// a run names the test's pools, which are unique), no temporary file or key remains (zsend runs
// with a private TMPDIR), the lock is free, and the next plain run completes a correct backup.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "base/unique_fd.h"
#include "orchestrator/report/history.h"
#include "tests/support/backup_fixture.h"

namespace zsend::test {
namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class ZfsFuseBackupInterrupt : public BackupFixture {
 public:
  void SetUp() override {
    BackupFixture::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    tmp_ = Out("mktemp -d");
    tmp_ = tmp_.substr(0, tmp_.find('\n'));
    Sh("zfs create " + src_ + "/data");
    // 2 MB at --rate-limit 256k: about 8 s, long enough to be cut mid-stream.
    WriteData(src_ + "/data", "a.bin", 2000000, 41);
  }
  void TearDown() override {
    if (!src_.empty()) {
      test::Run({"pkill", "-CONT", "-f", src_ + "|" + dst_});
      test::Run({"pkill", "-KILL", "-f", src_ + "|" + dst_});
    }
    if (!tmp_.empty()) std::filesystem::remove_all(tmp_);
    BackupFixture::TearDown();
  }
  std::string Target() { return dst_ + "/" + src_ + "/data"; }
  // These faults aim at the processes of one stream's engine pair (`--no-sessions`); the run's
  // engine session has its own fault tests (sshd_zfs_fuse_session_test.cpp).
  std::vector<std::string> Args(const std::string& transport) {
    return {BinPath("zsend"), "backup",       job_,      dst_,          "--dataset",
            src_ + "/data",   "--transport",  transport, "--state-dir", state_dir_,
            "--no-rotation",  "--no-sessions"};
  }
  // Starts zsend with the private TMPDIR; its stdout and stderr go to files that Finish reads.
  pid_t Start(std::vector<std::string> argv, const std::string& path = "") {
    SpawnOptions options;
    options.env["TMPDIR"] = tmp_;
    if (!path.empty()) options.env["PATH"] = path;
    UniqueFd out(open((state_dir_ + "/out.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600));
    UniqueFd err(open((state_dir_ + "/err.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600));
    options.stdout_fd = out.get();
    options.stderr_fd = err.get();
    return Spawn(argv, options);
  }
  RunResult Finish(pid_t pid) {
    RunResult r = test::Wait(pid);
    r.out = Out("cat " + state_dir_ + "/out.txt");
    r.err = Out("cat " + state_dir_ + "/err.txt");
    return r;
  }
  // Pids of processes whose command line matches `pattern` (pgrep -f), "" when none.
  std::string Pids(const std::string& pattern) { return test::Run({"pgrep", "-f", pattern}).out; }
  // Waits up to `seconds` for a process matching `pattern`; true when one appeared.
  bool WaitFor(const std::string& pattern, double seconds) {
    auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < end) {
      if (!Pids(pattern).empty()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }
  // No process of the run left: zfs send/receive and the engines all name a test pool.
  // (Parent-death signals act at once; a few hundred ms are given for the kernel to reap.)
  void ExpectNoProcessLeft(bool control_master_too = true) {
    std::string left;
    for (int i = 0; i < 50; ++i) {
      // (and no ssh control master of the run: its socket is under the run's TMPDIR)
      left = Pids("(send|receive|recv).*(" + src_ + "|" + dst_ + ")" +
                  (control_master_too ? "|^ssh .*" + tmp_ : ""));
      if (left.empty()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_EQ(left, "") << Out("ps -ef | grep -E '" + src_ + "|" + dst_ + "' | grep -v grep");
  }
  void ExpectNoTempFiles() {
    std::string left = Out("ls -A " + tmp_);
    EXPECT_EQ(left, "") << "left in TMPDIR: " << left;
  }
  std::vector<orchestrator::RunRecord> Runs() {
    auto history = orchestrator::History::Open(state_dir_);
    if (!history.ok()) return {};
    auto runs = (*history)->Runs(job_, 0, 0);
    return runs.ok() ? *runs : std::vector<orchestrator::RunRecord>{};
  }
  std::vector<orchestrator::TransferRecord> Transfers() {
    auto history = orchestrator::History::Open(state_dir_);
    if (!history.ok()) return {};
    auto transfers = (*history)->Transfers(job_, 0);
    return transfers.ok() ? *transfers : std::vector<orchestrator::TransferRecord>{};
  }
  // Runs a shell command until it succeeds (up to 60 s); false when it never did.
  bool Retry(const std::string& command) {
    for (int i = 0; i < 120; ++i) {
      if (Shell(command + " 2>&1").exit_code == 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    ADD_FAILURE() << command << ": " << Shell(command + " 2>&1").out;
    return false;
  }
  // What every fault matrix row checks of the faulted run: exit 1 (one dataset failed) and
  // FAILED, run and transfer rows "failed" (never ok, never running), no process of the run
  // left, no temporary file or key left, nothing on the target that looks complete.
  void ExpectFailedAndNothingLeft(const RunResult& r) {
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_TRUE(Contains(r.out, "FAILED")) << r.out << r.err;
    ExpectNoProcessLeft();
    ExpectNoTempFiles();
    std::vector<orchestrator::RunRecord> runs = Runs();
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(runs[0].result, "failed");
    std::vector<orchestrator::TransferRecord> transfers = Transfers();
    ASSERT_EQ(transfers.size(), 1u);
    EXPECT_EQ(transfers[0].result, "failed");
    EXPECT_TRUE(SnapshotNames(Target()).empty());
  }
  // The next plain run takes the lock and completes a correct backup.
  void ExpectNextRunCompletes(const std::string& transport) {
    std::vector<std::string> argv = Args(transport);
    argv.erase(argv.begin(), argv.begin() + 2);
    RunResult next = Zsend(argv);
    ASSERT_EQ(next.exit_code, 0) << next.out << next.err;
    EXPECT_EQ(Compare(src_ + "/data", Target()), "");
    std::vector<orchestrator::RunRecord> runs = Runs();
    ASSERT_FALSE(runs.empty());
    EXPECT_EQ(runs.front().result, "ok");  // newest first
  }
  // Sends `signal` to zsend once the receive is running; returns zsend's result.
  RunResult SignalMidTransfer(const std::string& transport, int signal) {
    std::vector<std::string> argv = Args(transport);
    argv.insert(argv.end(), {"--rate-limit", "256k"});
    pid_t pid = Start(argv);
    EXPECT_TRUE(WaitFor("receive.*" + dst_, 30)) << "the receive never started";
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    kill(pid, signal);
    return Finish(pid);
  }

  std::string tmp_;
};

class ZfsFuseBackupSigterm : public ZfsFuseBackupInterrupt,
                             public ::testing::WithParamInterface<const char*> {};

TEST_P(ZfsFuseBackupSigterm, StopsTheChainRecordsInterruptedAndFreesTheLockLast) {
  const std::string transport = GetParam();
  RunResult stopped = SignalMidTransfer(transport, SIGTERM);
  EXPECT_EQ(stopped.exit_code, 128 + SIGTERM) << stopped.err;
  ExpectNoProcessLeft();
  ExpectNoTempFiles();  // the run's directory and, with tcp, the sender's key directory
  std::vector<orchestrator::RunRecord> runs = Runs();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].result, "interrupted");
  EXPECT_GT(runs[0].ended, 0);
  EXPECT_TRUE(Contains(runs[0].error, "SIGTERM")) << runs[0].error;
  std::vector<orchestrator::TransferRecord> transfers = Transfers();
  ASSERT_EQ(transfers.size(), 1u);
  EXPECT_EQ(transfers[0].result, "interrupted");
  EXPECT_TRUE(SnapshotNames(Target()).empty());
  ExpectNextRunCompletes(transport);
}

INSTANTIATE_TEST_SUITE_P(Transports, ZfsFuseBackupSigterm, ::testing::Values("pipe", "tcp"));

TEST_F(ZfsFuseBackupInterrupt, SigkillLeavesNoChildAndTheNextRunEndsTheStaleRow) {
  RunResult killed = SignalMidTransfer("tcp", SIGKILL);
  EXPECT_EQ(killed.exit_code, 128 + SIGKILL);
  // Every child had a parent-death signal: the engines, zfs send, the receiver and its zfs
  // receive all end with zsend.
  ExpectNoProcessLeft();
  std::vector<orchestrator::RunRecord> runs = Runs();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].result, "running");  // nobody could end it
  // Its private directory (the sender's key among it) outlived it; the next run, with the same
  // TMPDIR, removes it (its owner's lock is gone) and leaves nothing of its own.
  EXPECT_NE(Out("ls -A " + tmp_), "");
  std::vector<std::string> next = Args("tcp");
  RunResult again = Finish(Start(next));
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_EQ(Compare(src_ + "/data", Target()), "");
  ExpectNoTempFiles();
  runs = Runs();
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[1].result, "interrupted");  // ended by the next run, under the lock
  EXPECT_TRUE(Contains(runs[1].error, "without recording a result")) << runs[1].error;
}

// SIGKILL of zsend pulling from a remote source (through the private sshd) over tcp: the
// sender's key directory on the source host (mktemp there, outside zsend's TMPDIR, so no sweep
// of ours reaches it) is removed by the far side when the sender ends.
TEST_F(ZfsFuseBackupInterrupt, SigkillOfAPullLeavesNoKeyDirectoryOnTheSource) {
  std::vector<std::string> ssh = StartSshd();
  ASSERT_FALSE(ssh.empty());
  std::vector<std::string> argv = Args("tcp");
  argv.insert(argv.end(), {"--rate-limit", "256k", "--ssh-source", sshd_->destination(),
                           "--remote-engine", BinPath("zsend-engine")});
  argv.insert(argv.end(), ssh.begin(), ssh.end());
  pid_t pid = Start(argv);
  const std::string sender = "^" + BinPath("zsend-engine") + " send .*" + src_;
  ASSERT_TRUE(WaitFor(sender, 120));  // after the gather and keygen through ssh (slow when loaded)
  // The sender's --key DIR/key names its key directory.
  std::string line = Out("pgrep -a -f '" + sender + "'");
  size_t key = line.find("--key ");
  ASSERT_NE(key, std::string::npos) << line;
  std::string dir = line.substr(key + 6, line.find(' ', key + 6) - key - 6);
  dir = dir.substr(0, dir.rfind('/'));
  ASSERT_NE(dir.find("/zsend-key."), std::string::npos) << dir;
  ASSERT_TRUE(std::filesystem::exists(dir));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  kill(pid, SIGKILL);
  EXPECT_EQ(Finish(pid).exit_code, 128 + SIGKILL);
  // The run's ssh control master outlives it, and the next run sweeps it (checked below).
  ExpectNoProcessLeft(/*control_master_too=*/false);
  for (int i = 0; i < 300 && std::filesystem::exists(dir); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_FALSE(std::filesystem::exists(dir)) << dir << ": " << Out("ls -A " + dir);
  argv = Args("tcp");
  argv.insert(argv.end(),
              {"--ssh-source", sshd_->destination(), "--remote-engine", BinPath("zsend-engine")});
  argv.insert(argv.end(), ssh.begin(), ssh.end());
  RunResult again = Finish(Start(argv));
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  // The sender's stats (stream bytes) came back through its wrapper's stdout.
  EXPECT_TRUE(Contains(again.out, ", 2.0")) << again.out;  // "full..., 2.02 MiB in"
  EXPECT_EQ(Compare(src_ + "/data", Target()), "");
  ExpectNoTempFiles();
  ExpectNoProcessLeft();
}

// Runs `transport` with --timeout 2, SIGSTOPs the process matching `pattern` mid-transfer, and
// checks that the dataset fails within the timeout, saying one of `why`, with nothing left.
void ExpectStallFailsTheDataset(ZfsFuseBackupInterrupt& t, const std::string& transport,
                                const std::string& pattern, const std::vector<std::string>& why) {
  std::vector<std::string> argv = t.Args(transport);
  argv.insert(argv.end(), {"--rate-limit", "256k", "--timeout", "2"});
  pid_t pid = t.Start(argv);
  ASSERT_TRUE(t.WaitFor(pattern, 30));
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  test::Run({"pkill", "-STOP", "-f", pattern});
  RunResult r = t.Finish(pid);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(Contains(r.out, "FAILED")) << r.out << r.err;
  bool said = false;
  for (const std::string& words : why) said = said || Contains(r.out, words);
  EXPECT_TRUE(said) << r.out << r.err;
  t.ExpectNoProcessLeft();
  t.ExpectNoTempFiles();
  std::vector<orchestrator::RunRecord> runs = t.Runs();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].result, "failed");
  t.ExpectNextRunCompletes(transport);
}

TEST_F(ZfsFuseBackupInterrupt, StalledReceivingEngineFailsWithinTheTimeout) {
  // The receiving engine itself (not its sh wrapper, whose command line starts with sh).
  ExpectStallFailsTheDataset(*this, "tcp", "^" + BinPath("zsend-engine") + " recv .*" + dst_,
                             {"--timeout", "in time"});
}

TEST_F(ZfsFuseBackupInterrupt, StoppedZfsReceiveOfThePipeTransportFailsWithinTheTimeout) {
  ExpectStallFailsTheDataset(*this, "pipe", "^zfs receive .*" + dst_,
                             {"watchdog", "did not end within"});
}

// Finding 5: the receiver's wrapper dies after the stream arrived complete (the sender exits
// 0). The run re-reads the target, finds the snapshot, and neither falls back nor sends again.
TEST_F(ZfsFuseBackupInterrupt, FinishedTransferWhoseReceiverWrapperFailsIsNotSentAgain) {
  std::vector<std::string> ssh = StartSshd();
  ASSERT_FALSE(ssh.empty());
  std::string engine = sshd_->dir() + "/engine-dies-after-recv";
  std::ofstream(engine) << "#!/bin/sh\n'" << BinPath("zsend-engine")
                        << "' \"$@\"; s=$?\n"
                           "[ \"$1\" = recv ] && [ $s = 0 ] && exit 9\n"
                           "exit $s\n";
  chmod(engine.c_str(), 0755);
  std::vector<std::string> argv = {"--ssh-target", sshd_->destination(), "--remote-engine", engine};
  argv.insert(argv.end(), ssh.begin(), ssh.end());
  std::vector<std::string> run = Args("auto");
  run.erase(run.begin(), run.begin() + 2);
  run.insert(run.end(), argv.begin(), argv.end());
  RunResult r = Zsend(run);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_FALSE(Contains(r.err + r.out, "fallback")) << r.out << r.err;
  EXPECT_TRUE(Contains(r.out, "transferred")) << r.out;
  EXPECT_EQ(Compare(src_ + "/data", Target()), "");
  std::vector<orchestrator::TransferRecord> transfers = Transfers();
  ASSERT_EQ(transfers.size(), 1u);
  EXPECT_EQ(transfers[0].result, "ok");
  EXPECT_EQ(transfers[0].transport, "tcp");
  ExpectNoProcessLeft();
}

// The fault matrix (issue 11): one part of a running tcp backup is killed or terminated
// mid-stream. Every case: zsend exits 1 (one dataset failed) and
// says FAILED, the history's run row is "failed" (never ok, never running), no process of the run
// is left, no temporary file or key remains, the lock is free, and the next plain run completes a
// correct backup. (SIGTERM/SIGKILL of zsend itself and the receiver's stalls are the tests above;
// the sshd cases are SshdZfsFuseBackup*.)
struct Fault {
  const char* name;
  const char* transport;
  const char* part;  // "send-engine", "recv-engine", "zfs-send", "zfs-receive"
  int signal;
};

class ZfsFuseFaultMatrix : public ZfsFuseBackupInterrupt,
                           public ::testing::WithParamInterface<Fault> {
 public:
  // Cuts the TCP connection between the two engines with `ss -K` (the kernel destroys both
  // ends, as a reset would): every established socket of the sending engine, both ends.
  void CutTheEnginesLink() {
    std::string engine = Pids(Pattern("send-engine"));
    engine = engine.substr(0, engine.find('\n'));
    ASSERT_FALSE(engine.empty());
    std::string ports = Out("ss -tnpH state established | grep 'pid=" + engine +
                            ",' | awk '{split($3, a, \":\"); print a[2]}'");
    ASSERT_FALSE(ports.empty()) << Out("ss -tnp");
    std::istringstream lines(ports);
    for (std::string port; std::getline(lines, port);) {
      RunResult cut = test::Run({"ss", "-K", "( sport = :" + port + " or dport = :" + port + " )"});
      ASSERT_EQ(cut.exit_code, 0) << cut.err;
      ASSERT_NE(cut.out.find(":" + port), std::string::npos) << "nothing cut: " << cut.out;
    }
  }
  std::string Pattern(const std::string& part) {
    // The ssh session running the far receiving engine (the ssh transport's stdio link, or
    // the one that started the far engine of the tcp transport).
    if (part == "ssh") return "^ssh .*recv.*" + dst_;
    // The sshd and tcp-link faults are aimed once the receive runs.
    if (part == "sshd-session" || part == "tcp-link") return "^zfs receive .*" + dst_;
    if (part == "send-engine") return "^" + BinPath("zsend-engine") + " send .*" + src_;
    if (part == "recv-engine") return "^" + BinPath("zsend-engine") + " recv .*" + dst_;
    if (part == "zfs-send") return "^zfs send .*" + src_;
    return "^zfs receive .*" + dst_;
  }
};

TEST_P(ZfsFuseFaultMatrix, TheDatasetFailsNothingStaysAndTheNextRunCompletes) {
  const Fault fault = GetParam();
  const std::string transport = fault.transport;
  const bool over_ssh = transport == "ssh" || transport == "tcp-ssh";
  std::vector<std::string> argv = Args(transport == "tcp-ssh" ? "tcp" : transport);
  argv.insert(argv.end(), {"--rate-limit", "256k", "--timeout", "3"});
  if (over_ssh) {  // a push through the private sshd: the receiver runs under sshd
    std::vector<std::string> ssh = StartSshd();
    ASSERT_FALSE(ssh.empty());
    argv.insert(argv.end(),
                {"--ssh-target", sshd_->destination(), "--remote-engine", BinPath("zsend-engine")});
    argv.insert(argv.end(), ssh.begin(), ssh.end());
  }
  pid_t pid = Start(argv);
  const std::string part = fault.part;
  const std::string pattern = Pattern(part);
  if (!WaitFor(pattern, 120)) {  // (through ssh: slow on a loaded machine)
    kill(pid, SIGKILL);
    RunResult r = Finish(pid);
    FAIL() << pattern << " never ran; zsend said: " << r.out << r.err;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  if (part == "sshd-session") {
    // Every sshd serving a connection of this run is a child of the test's private listener.
    ASSERT_EQ(test::Run({"pkill", "-KILL", "-P", std::to_string(sshd_->pid())}).exit_code, 0);
  } else if (part == "tcp-link") {
    CutTheEnginesLink();
  } else {
    test::Run({"pkill", "-" + std::to_string(fault.signal), "-f", pattern});
  }
  RunResult r = Finish(pid);
  test::Run({"pkill", "-CONT", "-f", src_ + "|" + dst_});  // a stopped part must be gone anyway
  ExpectFailedAndNothingLeft(r);
  ExpectNextRunCompletes(over_ssh ? "pipe" : transport);
}

INSTANTIATE_TEST_SUITE_P(
    Faults, ZfsFuseFaultMatrix,
    ::testing::Values(Fault{"TcpSendEngineKilled", "tcp", "send-engine", SIGKILL},
                      Fault{"TcpSendEngineTerminated", "tcp", "send-engine", SIGTERM},
                      Fault{"TcpRecvEngineKilled", "tcp", "recv-engine", SIGKILL},
                      Fault{"TcpRecvEngineTerminated", "tcp", "recv-engine", SIGTERM},
                      Fault{"TcpZfsSendKilled", "tcp", "zfs-send", SIGKILL},
                      Fault{"TcpZfsSendTerminated", "tcp", "zfs-send", SIGTERM},
                      Fault{"TcpZfsReceiveKilled", "tcp", "zfs-receive", SIGKILL},
                      Fault{"TcpZfsReceiveTerminated", "tcp", "zfs-receive", SIGTERM},
                      Fault{"TcpSendEngineStopped", "tcp", "send-engine", SIGSTOP},
                      Fault{"TcpZfsSendStopped", "tcp", "zfs-send", SIGSTOP},
                      Fault{"TcpZfsReceiveStopped", "tcp", "zfs-receive", SIGSTOP},
                      // pipe: zfs send has written the whole (small) stream into the buffer
                      // long before the rate-limited receive ends, so only the receive is cut.
                      Fault{"PipeZfsReceiveKilled", "pipe", "zfs-receive", SIGKILL},
                      Fault{"PipeZfsReceiveTerminated", "pipe", "zfs-receive", SIGTERM},
                      // ssh stdio through the real sshd: the ssh client, and the far engine.
                      Fault{"SshClientKilled", "ssh", "ssh", SIGKILL},
                      Fault{"SshClientTerminated", "ssh", "ssh", SIGTERM},
                      Fault{"SshFarEngineKilled", "ssh", "recv-engine", SIGKILL},
                      Fault{"SshFarEngineStopped", "ssh", "recv-engine", SIGSTOP},
                      Fault{"SshFarZfsReceiveKilled", "ssh", "zfs-receive", SIGKILL},
                      Fault{"SshdSessionKilled", "ssh", "sshd-session", SIGKILL},
                      // tcp with the far engine started through the real sshd.
                      Fault{"TcpSshSessionKilled", "tcp-ssh", "ssh", SIGKILL},
                      Fault{"TcpSshdSessionKilled", "tcp-ssh", "sshd-session", SIGKILL},
                      Fault{"TcpSshFarZfsReceiveKilled", "tcp-ssh", "zfs-receive", SIGKILL},
                      // the TCP connection between the engines destroyed by the kernel (ss -K)
                      Fault{"TcpLinkCut", "tcp", "tcp-link", SIGKILL}),
    [](const ::testing::TestParamInfo<Fault>& param) { return std::string(param.param.name); });

// The target pool fills up mid-stream: a real full pool, not a quota. A file in a dataset of its
// own takes all but about 1 MB of the target pool's free space, so the 2 MB stream runs the
// pool out of space half-way; the next run, after that dataset is destroyed, completes.
TEST_F(ZfsFuseBackupInterrupt, TargetPoolFullMidStreamFailsTheDataset) {
  // What zfs says is available in the pool (zfs-fuse has no `zfs list -p`: "56.2M").
  auto available = [&] {
    std::string value = Out("zfs list -H -o avail " + dst_);
    double number = std::atof(value.c_str());
    const std::string units = "KMGT";
    size_t unit = units.find(value.empty() ? ' ' : value[value.find_first_not_of("0123456789.")]);
    for (size_t i = 0; unit != std::string::npos && i <= unit; ++i) number *= 1024;
    return static_cast<uint64_t>(number);
  };
  Sh("zfs create " + dst_ + "/filler");
  const uint64_t free_bytes = available();
  ASSERT_GT(free_bytes, 8u << 20);
  Sh("head -c " + std::to_string(free_bytes - (1u << 20)) + " /dev/zero > " +
     target_->Mountpoint(dst_ + "/filler") + "/filler && sync");
  // Unmounted (zfs-fuse may call a just written dataset busy for a while) so that the destroy
  // below needs no unmount.
  ASSERT_TRUE(Retry("zfs unmount -f " + dst_ + "/filler"));
  ASSERT_LT(available(), 2u << 20);  // less room than the stream needs
  std::vector<std::string> argv = Args("tcp");
  argv.insert(argv.end(), {"--rate-limit", "256k", "--timeout", "3"});
  RunResult r = Finish(Start(argv));
  EXPECT_TRUE(Contains(r.out + r.err, "space")) << r.out << r.err;
  ExpectFailedAndNothingLeft(r);
  ASSERT_TRUE(Retry("zfs destroy -f " + dst_ + "/filler"));
  for (int i = 0; i < 600 && available() < (8u << 20); ++i) {  // should zfs free it later
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ExpectNextRunCompletes("tcp");
}

// The target pool is exported during the run. zfs-fuse refuses `zpool export -f` ("pool is
// busy") for as long as a `zfs receive` writes into the pool, so a `zfs` first on zsend's PATH
// exports the pool at the moment the receive is started: after the plan, with `zfs send`
// already streaming. The next run, after `zpool import`, completes.
TEST_F(ZfsFuseBackupInterrupt, TargetPoolExportedDuringTheRunFailsTheDataset) {
  const std::string bin = state_dir_ + "/bin", exported = state_dir_ + "/exported";
  std::filesystem::create_directory(bin);
  const std::string real_zfs = Out("command -v zfs");
  ASSERT_FALSE(real_zfs.empty());
  std::ofstream(bin + "/zfs") << "#!/bin/sh\n"
                                 "[ \"$1\" = receive ] && zpool export -f "
                              << dst_ << " && touch " << exported << "\nexec "
                              << real_zfs.substr(0, real_zfs.find('\n')) << " \"$@\"\n";
  chmod((bin + "/zfs").c_str(), 0755);
  std::vector<std::string> argv = Args("tcp");
  argv.insert(argv.end(), {"--rate-limit", "256k", "--timeout", "3"});
  const char* path = std::getenv("PATH");
  RunResult r = Finish(Start(argv, bin + ":" + (path ? path : "/usr/sbin:/usr/bin:/sbin:/bin")));
  ASSERT_TRUE(std::filesystem::exists(exported)) << r.out << r.err;
  ExpectFailedAndNothingLeft(r);
  Sh("zpool import -d " + target_->dir() + " " + dst_);
  ExpectNextRunCompletes("tcp");
}

}  // namespace
}  // namespace zsend::test
