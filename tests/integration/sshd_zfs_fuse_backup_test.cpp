// `zsend backup` with the source and/or target reached as remote hosts through a real sshd on
// 127.0.0.1 (both pools live on this machine's zfs-fuse): push, pull and remote to remote with
// each transport that has its own code path there (the real zsend-engine of this build on the
// far side via --remote-engine; the ssh session's PATH has none), the fallback from a refused
// direct connection to ssh stdio, the fallback to pipe when the far host has no zsend-engine,
// and --dry-run.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "tests/support/backup_fixture.h"

namespace zsend::test {
namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The line of `output` that starts with `prefix` ("" when none does).
std::string LineStartingWith(const std::string& output, const std::string& prefix) {
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(prefix, 0) == 0) return line;
  }
  return "";
}

enum class Hosts { kPush, kPull, kRemoteToRemote };

// One combination of remote hosts and --transport, and what the dataset lines must then say.
struct TransportCase {
  const char* name;
  Hosts hosts;
  const char* transport;  // --transport
  const char* used;       // the transport named on the dataset lines
  const char* fallback;   // part of the logged fallback, "" when there must be none
  bool debug = false;     // run with --debug (every command printed; runners wrapped)
};

class SshdZfsFuseBackup : public BackupFixture {
 protected:
  void SetUp() override {
    BackupFixture::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    ssh_ = StartSshd();
    ASSERT_FALSE(ssh_.empty());
    Sh("zfs create " + src_ + "/data && zfs create " + src_ + "/data/sub");
    Sh("zfs set zsend:" + job_ + "=true " + src_ + "/data");
    WriteData(src_ + "/data", "a.bin", 200000, 21);
    WriteData(src_ + "/data/sub", "b.bin", 100000, 22);
  }
  std::vector<std::string> HostOptions(Hosts hosts) {
    switch (hosts) {
      case Hosts::kPush:
        return {"--ssh-target", Destination()};
      case Hosts::kPull:
        return {"--ssh-source", Destination()};
      case Hosts::kRemoteToRemote:
        return {"--ssh-source", Destination(), "--ssh-target", Destination()};
    }
    return {};
  }
  // Checks the dataset line of `output`: the kind, bytes moved, the transport and fallback.
  void ExpectLine(const std::string& output, const std::string& kind, const std::string& used,
                  const std::string& fallback) {
    std::string line = LineStartingWith(output, src_ + "/data -> " + dst_ + "/data: ");
    EXPECT_TRUE(Contains(line, ": " + kind + ", ")) << output;
    EXPECT_FALSE(Contains(line, ", 0 B in ")) << output;
    if (fallback.empty()) {
      EXPECT_EQ(line.substr(line.rfind(", ") + 2), used) << output;
    } else {
      EXPECT_TRUE(Contains(line, ", " + used + " (fallback: ")) << output;
      EXPECT_TRUE(Contains(line, fallback)) << output;
    }
  }
  // Two runs (full; then incremental after changes and an intermediate snapshot of the group,
  // which must arrive too) with `where` options; checks the data and the dataset lines.
  void TwoRuns(const std::vector<std::string>& where, const std::string& transport,
               const std::string& used, const std::string& fallback = "") {
    std::vector<std::string> args = {job_,          dst_,      "--strip-path", "1",
                                     "--transport", transport, "--readonly"};
    args.insert(args.end(), where.begin(), where.end());
    args.insert(args.end(), ssh_.begin(), ssh_.end());
    std::vector<std::string> first = args;
    first.insert(first.end(), {"--snapshot-name", "1"});
    RunResult one = Zsend(first);
    ASSERT_EQ(one.exit_code, 0) << one.out << one.err;
    ExpectLine(one.out, "full", used, fallback);
    EXPECT_EQ(Compare(src_ + "/data", dst_ + "/data"), "");
    WriteData(src_ + "/data", "c.bin", 50000, 23);
    Sh("zfs snapshot -r " + src_ + "/data@" + job_ + "-between");
    WriteData(src_ + "/data/sub", "b.bin", 60000, 24);
    std::vector<std::string> second = args;
    second.insert(second.end(), {"--snapshot-name", "2"});
    RunResult two = Zsend(second);
    ASSERT_EQ(two.exit_code, 0) << two.out << two.err;
    ExpectLine(two.out, "incremental", used, fallback);
    EXPECT_EQ(SnapshotNames(dst_ + "/data/sub"),
              (std::vector<std::string>{job_ + "-1", job_ + "-between", job_ + "-2"}));
    EXPECT_EQ(Compare(src_ + "/data", dst_ + "/data"), "");
    EXPECT_EQ(Compare(src_ + "/data/sub", dst_ + "/data/sub"), "");
    last_output_ = one.out + one.err + two.out + two.err;
  }
  std::string Destination() { return sshd_->destination(); }
  // A stand-in far-side engine: this build's zsend-engine, except that a receiver listens on
  // 127.0.0.2 where the sender (told to connect to the ssh host, 127.0.0.1) finds nobody.
  std::string UnreachableListenerEngine() {
    std::string path = sshd_->dir() + "/engine-listening-elsewhere";
    std::ofstream(path) << "#!/bin/sh\n"
                           "for a do\n"
                           "  shift\n"
                           "  [ \"$prev\" = --listen ] && a=127.0.0.2:0\n"
                           "  set -- \"$@\" \"$a\"; prev=$a\n"
                           "done\n"
                           "exec '"
                        << BinPath("zsend-engine") << "' \"$@\"\n";
    chmod(path.c_str(), 0755);
    return path;
  }

  std::vector<std::string> ssh_;
  std::string last_output_;
};

class SshdZfsFuseBackupTransport : public SshdZfsFuseBackup,
                                   public ::testing::WithParamInterface<TransportCase> {};

// Each case is a code path of its own, not the whole cross product (each case takes ~10 s):
// pipe with a remote receiver (push); tcp with the receiver remote (push), local (pull: the
// source connects back to the address its ssh session came from) and both ends remote (auto,
// which also shows that auto uses tcp when it works); ssh stdio (push); ssh asked for with a
// remote source, which falls back to pipe with a remote sender (so it also covers pull over
// pipe; remote to remote over pipe runs the same two remote stages).
TEST_P(SshdZfsFuseBackupTransport, FullThenIncrementalArriveByteIdentical) {
  const TransportCase& c = GetParam();
  std::vector<std::string> where = HostOptions(c.hosts);
  where.insert(where.end(), {"--remote-engine", BinPath("zsend-engine")});
  if (c.debug) where.push_back("--debug");
  TwoRuns(where, c.transport, c.used, c.fallback);
}

INSTANTIATE_TEST_SUITE_P(
    Sshd, SshdZfsFuseBackupTransport,
    ::testing::Values(TransportCase{"PushPipe", Hosts::kPush, "pipe", "pipe", ""},
                      TransportCase{"PushTcp", Hosts::kPush, "tcp", "tcp", ""},
                      TransportCase{"PullTcp", Hosts::kPull, "tcp", "tcp", ""},
                      TransportCase{"RemoteToRemoteAuto", Hosts::kRemoteToRemote, "auto", "tcp",
                                    ""},
                      TransportCase{"PushSsh", Hosts::kPush, "ssh", "ssh", "", /*debug=*/true},
                      TransportCase{"PullSsh", Hosts::kPull, "ssh", "ssh", "", /*debug=*/true},
                      TransportCase{"RemoteToRemoteSsh", Hosts::kRemoteToRemote, "ssh", "pipe",
                                    "the ssh transport needs exactly one remote end"}),
    [](const ::testing::TestParamInfo<TransportCase>& each) { return each.param.name; });

class SshdZfsFuseBackupFailingReceive : public SshdZfsFuseBackup,
                                        public ::testing::WithParamInterface<const char*> {};

// zfs receive fails on the far host (quota): its stderr comes back through the engine (tcp:
// the receiver's stderr over ssh; ssh: the sender's report of the far consumer).
TEST_P(SshdZfsFuseBackupFailingReceive, ReportsTheFarZfsReceiveStderr) {
  Sh("zfs create " + dst_ + "/q && zfs set quota=1M " + dst_ + "/q");
  WriteData(src_ + "/data", "big.bin", 3 << 20, 25);
  std::vector<std::string> args = {"f",
                                   dst_ + "/q",
                                   "--dataset",
                                   src_ + "/data",
                                   "--transport",
                                   GetParam(),
                                   "--strip-path",
                                   "1",
                                   "--ssh-target",
                                   Destination(),
                                   "--remote-engine",
                                   BinPath("zsend-engine")};
  args.insert(args.end(), ssh_.begin(), ssh_.end());
  RunResult r = Zsend(args);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(Contains(r.out, src_ + "/data -> " + dst_ + "/q/data: FAILED: ")) << r.out;
  EXPECT_TRUE(Contains(r.out, "command: zfs receive " + dst_ + "/q/data")) << r.out;
  size_t stderr_at = r.out.find("    stderr:  ");
  ASSERT_NE(stderr_at, std::string::npos) << r.out;
  EXPECT_TRUE(
      Contains(r.out.substr(stderr_at), "cannot receive new filesystem stream: out of space"))
      << r.out;
  EXPECT_FALSE(Contains(r.out, "fallback")) << r.out;  // a zfs failure is not a transport's
}

INSTANTIATE_TEST_SUITE_P(Sshd, SshdZfsFuseBackupFailingReceive, ::testing::Values("tcp", "ssh"));

TEST_F(SshdZfsFuseBackup, AutoFallsBackToSshWhenTheDirectConnectionIsRefused) {
  TwoRuns({"--ssh-target", Destination(), "--remote-engine", UnreachableListenerEngine()}, "auto",
          "ssh", "tcp failed (");
  EXPECT_TRUE(Contains(last_output_, "fallback: tcp failed (")) << last_output_;
  EXPECT_TRUE(Contains(last_output_, "Connection refused")) << last_output_;
  EXPECT_TRUE(Contains(last_output_, "; used ssh")) << last_output_;
  // The receivers that waited for the refused connections are gone on the far host too.
  EXPECT_EQ(Shell("pgrep -f 'recv --listen 127[.]0[.]0[.]2:0'").exit_code, 1);
}

TEST_F(SshdZfsFuseBackup, TcpPushToAnSshHostAliasConnectsWhereSshArrived) {
  // The destination's host is a name only ssh knows (HostName, as a ~/.ssh/config Host entry
  // would give; .invalid never resolves): the engine must connect to the address ssh reached.
  std::vector<std::string> args = {job_,
                                   dst_,
                                   "--strip-path",
                                   "1",
                                   "--transport",
                                   "tcp",
                                   "--snapshot-name",
                                   "1",
                                   "--ssh-target",
                                   sshd_->user() + "@backup-host.invalid",
                                   "--ssh-option",
                                   "HostName=127.0.0.1",
                                   "--remote-engine",
                                   BinPath("zsend-engine")};
  args.insert(args.end(), ssh_.begin(), ssh_.end());
  RunResult r = Zsend(args);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  ExpectLine(r.out, "full", "tcp", "");
  EXPECT_EQ(Compare(src_ + "/data/sub", dst_ + "/data/sub"), "");
}

TEST_F(SshdZfsFuseBackup, AutoFallsBackToPipeWhenTheFarHostHasNoEngine) {
  TwoRuns({"--ssh-target", Destination(), "--remote-engine", "/nonexistent/zsend-engine"}, "auto",
          "pipe", "no zsend-engine with send/recv on " + Destination());
}

TEST_F(SshdZfsFuseBackup, DryRunWithBothHostsRemoteChangesNothing) {
  std::string source_before = ListAll(src_), target_before = ListAll(dst_);
  std::vector<std::string> args = {job_,
                                   dst_,
                                   "--strip-path",
                                   "1",
                                   "--dry-run",
                                   "--ssh-source",
                                   Destination(),
                                   "--ssh-target",
                                   Destination(),
                                   "--remote-engine",
                                   BinPath("zsend-engine")};
  args.insert(args.end(), ssh_.begin(), ssh_.end());
  RunResult r = Zsend(args);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ListAll(src_), source_before);
  EXPECT_EQ(ListAll(dst_), target_before);
  EXPECT_TRUE(Contains(r.out, "dry-run [" + Destination() + "]: zfs snapshot")) << r.out;
  EXPECT_TRUE(Contains(r.out, "dry-run [tcp]: ")) << r.out;
}

TEST_F(SshdZfsFuseBackup, UnreachableHostIsFatal) {
  std::vector<std::string> args = {"r",          dst_, "--ssh-target", "root@127.0.0.1",
                                   "--ssh-port", "1",  "--ssh-option", "ConnectTimeout=5"};
  RunResult r = Zsend(args);
  EXPECT_EQ(r.exit_code, 255) << r.out << r.err;
  EXPECT_TRUE(Contains(r.err, "127.0.0.1")) << r.err;
  EXPECT_EQ(SnapshotNames(src_ + "/data").size(), 0u);  // nothing happened
}

}  // namespace
}  // namespace zsend::test
