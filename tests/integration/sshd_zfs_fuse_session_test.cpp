// One engine session per run (docs/orchestrator.md, "Transports"): `zsend backup` pushing 50
// datasets to a target reached through a real sshd on 127.0.0.1 (zfs-fuse pools), pulling them
// from a source reached so, or moving 10 from such a source to such a target, opens one ssh
// control connection per remote host and one engine session, whatever the number of datasets
// (counted, never timed); a dataset whose receive fails (out of space, or a diverged target)
// fails alone while the 49 others land over the same session; the serving engine killed mid-run
// fails only what was in flight and the run says which; and nothing of the session (process,
// key directory) stays behind.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/support/backup_fixture.h"

namespace zsend::test {
namespace {

constexpr int kDatasets = 50;

class SshdZfsFuseSession : public BackupFixture {
 protected:
  void SetUp() override {
    BackupFixture::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    ssh_ = StartSshd();
    ASSERT_FALSE(ssh_.empty());
  }
  // POOL/fleet selected for the job, with `count` children d1..dN.
  void MakeFleet(int count) {
    Sh("zfs create " + src_ + "/fleet && zfs set zsend:" + job_ + "=true " + src_ + "/fleet");
    Sh("for i in $(seq 1 " + std::to_string(count) + "); do zfs create " + src_ +
       "/fleet/d$i || exit 1; done");
  }
  // One run with --json; the document (empty when the output was not JSON). An expected exit
  // code below 0 is not checked here (last_exit_ has it).
  nlohmann::json Run(const std::string& snapshot, int expected_exit,
                     std::vector<std::string> extra = {}, const std::string& remote = "target") {
    std::vector<std::string> args = {job_,
                                     dst_,
                                     "--strip-path",
                                     "1",
                                     "--transport",
                                     "tcp",
                                     "--json",
                                     "--sessions",
                                     "--no-rotation",
                                     "--snapshot-name",
                                     snapshot,
                                     "--ssh-" + remote,
                                     sshd_->destination(),
                                     "--remote-engine",
                                     remote_engine_};
    args.insert(args.end(), ssh_.begin(), ssh_.end());
    args.insert(args.end(), extra.begin(), extra.end());
    RunResult r = Zsend(args);
    if (expected_exit >= 0) {
      EXPECT_EQ(r.exit_code, expected_exit) << r.out << r.err;
    }
    last_exit_ = r.exit_code;
    nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_TRUE(j.is_object()) << r.out << r.err;
    return j.is_object() ? j : nlohmann::json::object();
  }
  static std::vector<std::string> WithStatus(const nlohmann::json& run, const std::string& status) {
    std::vector<std::string> names;
    for (const nlohmann::json& d : run.value("datasets", nlohmann::json::array())) {
      if (d.value("status", "") == status) names.push_back(d.value("source", ""));
    }
    return names;
  }
  // No session process on either "host" (both are this machine) and no key directory more than
  // before the run.
  void ExpectNothingLeft() {
    EXPECT_EQ(Shell("pgrep -f 'zsend-engine (serve|session)'").exit_code, 1)
        << Shell("ps -ef | grep [z]send-engine").out;
    EXPECT_EQ(KeyDirs(), key_dirs_before_);
  }
  // The next run after dN changed: its incremental lands, again through one session.
  void SecondRunInOneSession(int n, const std::vector<std::string>& extra,
                             const std::string& remote) {
    const std::string d = "/fleet/d" + std::to_string(n);
    WriteData(src_ + d, "b", 60000, static_cast<unsigned>(n));
    nlohmann::json second = Run("2", 0, extra, remote);
    EXPECT_EQ(second["overhead"]["engine_sessions"], 1) << second["overhead"].dump();
    EXPECT_EQ(Compare(src_ + d, dst_ + d), "");
    EXPECT_EQ(Property(dst_ + d + "@" + job_ + "-2", "guid"),
              Property(src_ + d + "@" + job_ + "-2", "guid"));
    ExpectNothingLeft();
  }
  // A stand-in remote engine in the sshd's directory: `prelude` (shell lines), then this build's
  // engine with the same arguments. Its path.
  std::string EngineWrapper(const std::string& name, const std::string& prelude) {
    const std::string path = sshd_->dir() + "/" + name;
    std::ofstream(path) << "#!/bin/sh\n"
                        << prelude << "exec '" << BinPath("zsend-engine") << "' \"$@\"\n";
    chmod(path.c_str(), 0755);
    return path;
  }
  static std::string KeyDirs() {
    return Shell("ls -d ${TMPDIR:-/tmp}/zsend-key.* 2>/dev/null").out;
  }

  std::string key_dirs_before_ = KeyDirs();
  int last_exit_ = -1;
  std::string remote_engine_ = BinPath("zsend-engine");  // --remote-engine
  std::vector<std::string> ssh_;
};

TEST_F(SshdZfsFuseSession, FiftyDatasetsOneSessionAndAFailingReceiveFailsAlone) {
  MakeFleet(kDatasets);
  nlohmann::json first = Run("1", 0);
  EXPECT_EQ(WithStatus(first, "transferred").size(), kDatasets + 1u) << first.dump();
  EXPECT_EQ(first["overhead"]["engine_sessions"], 1) << first["overhead"].dump();
  EXPECT_EQ(first["overhead"]["ssh_connections"], 1) << first["overhead"].dump();
  // No copy carries the selection property, set or received: zfs-fuse has no `recv -x`, and the
  // one inherit after the parent's receive (the children's streams never carry it) is enough.
  EXPECT_EQ(Shell("zfs get -r -H -s local,received -o name,value zsend:" + job_ + " " + dst_).out,
            "");
  EXPECT_EQ(Property(dst_ + "/fleet/d9", "zsend:" + job_), "-");
  ExpectNothingLeft();

  // d7's copy gets a quota its next stream does not fit in: that receive fails mid-stream, on
  // the session's link, and the other datasets land over the same session.
  Sh("zfs set quota=1M " + dst_ + "/fleet/d7");
  WriteData(src_ + "/fleet/d7", "big", 3 << 20, 7);
  WriteData(src_ + "/fleet/d8", "new", 50000, 8);
  nlohmann::json second = Run("2", 1);
  EXPECT_EQ(WithStatus(second, "failed"), std::vector<std::string>{src_ + "/fleet/d7"})
      << second.dump();
  EXPECT_EQ(second["failed"], 1);
  EXPECT_EQ(second["overhead"]["engine_sessions"], 1) << second["overhead"].dump();
  for (const nlohmann::json& d : second["datasets"]) {
    if (d["source"] == src_ + "/fleet/d7") {
      EXPECT_NE(d.value("failed_command", "").find("zfs receive"), std::string::npos) << d.dump();
      EXPECT_NE(d.value("failed_stderr", "").find("out of space"), std::string::npos) << d.dump();
    } else {
      EXPECT_EQ(d.value("final_snapshot", ""), job_ + "-2") << d.dump();
    }
  }
  EXPECT_EQ(Compare(src_ + "/fleet/d8", dst_ + "/fleet/d8"), "");
  ExpectNothingLeft();

  // A diverged target: d12's copy is written to after its last receive, so its next receive
  // fails ("has been modified") and d12 fails alone; d7, its quota lifted, catches up.
  const std::string d12 = dst_ + "/fleet/d12";
  Sh("zfs set quota=none " + dst_ + "/fleet/d7 && zfs set readonly=off " + d12 +
     " && echo changed > \"$(zfs get -H -o value mountpoint " + d12 + ")/local-change\"");
  WriteData(src_ + "/fleet/d12", "new", 20000, 12);
  nlohmann::json third = Run("3", 1);
  EXPECT_EQ(WithStatus(third, "failed"), std::vector<std::string>{src_ + "/fleet/d12"})
      << third.dump();
  EXPECT_EQ(third["overhead"]["engine_sessions"], 1) << third["overhead"].dump();
  for (const nlohmann::json& d : third["datasets"]) {
    if (d["source"] == src_ + "/fleet/d12") {
      EXPECT_NE(d.value("failed_stderr", "").find("has been modified"), std::string::npos)
          << d.dump();
    } else {
      EXPECT_EQ(d.value("final_snapshot", ""), job_ + "-3") << d.dump();
    }
  }
  EXPECT_EQ(Compare(src_ + "/fleet/d7", dst_ + "/fleet/d7"), "");
  // The diverged copy keeps what it had: nothing was rolled back to make the stream fit.
  EXPECT_EQ(SnapshotNames(d12), (std::vector<std::string>{job_ + "-1", job_ + "-2"}));
  ExpectNothingLeft();
}

TEST_F(SshdZfsFuseSession, FiftyDatasetsPulledThroughOneSession) {
  MakeFleet(kDatasets);
  WriteData(src_ + "/fleet/d3", "a", 100000, 3);
  nlohmann::json first = Run("1", 0, {}, "source");
  EXPECT_EQ(WithStatus(first, "transferred").size(), kDatasets + 1u) << first.dump();
  // One session carried every stream: no per-stream engine pair was started beside it.
  EXPECT_EQ(first["overhead"]["engine_sessions"], 1) << first["overhead"].dump();
  EXPECT_EQ(first["overhead"]["ssh_connections"], 1) << first["overhead"].dump();
  EXPECT_EQ(Compare(src_ + "/fleet/d3", dst_ + "/fleet/d3"), "");
  ExpectNothingLeft();
  SecondRunInOneSession(9, {}, "source");
}

// Remote to remote: the near session runs on the source host through its ssh connection and
// connects to the serve on the target host; all streams, full then incremental, go through it.
TEST_F(SshdZfsFuseSession, RemoteToRemoteThroughOneSession) {
  constexpr int kSmallFleet = 10;
  MakeFleet(kSmallFleet);
  WriteData(src_ + "/fleet/d4", "a", 100000, 4);
  // The remote engine logs each command it runs: the near session must run through it (on the
  // source host, over ssh), not as this host's engine.
  const std::string log = sshd_->dir() + "/engine-commands";
  const std::string engine = EngineWrapper("logging-engine", "echo \"$1\" >> '" + log + "'\n");
  remote_engine_ = engine;
  const std::vector<std::string> source = {"--ssh-source", sshd_->destination()};
  nlohmann::json first = Run("1", 0, source);
  EXPECT_EQ(WithStatus(first, "transferred").size(), kSmallFleet + 1u) << first.dump();
  // One session and no per-stream engine pair beside it; one control connection per host.
  EXPECT_EQ(first["overhead"]["engine_sessions"], 1) << first["overhead"].dump();
  EXPECT_EQ(first["overhead"]["ssh_connections"], 2) << first["overhead"].dump();
  for (const nlohmann::json& d : first["datasets"]) {
    for (const nlohmann::json& step : d["steps"]) {
      EXPECT_EQ(step.value("transport", ""), "tcp") << d.dump();
      EXPECT_EQ(step.value("fallback", ""), "") << d.dump();
    }
  }
  EXPECT_EQ(Compare(src_ + "/fleet/d4", dst_ + "/fleet/d4"), "");
  std::string commands = Shell("sort -u '" + log + "'").out;
  EXPECT_NE(commands.find("session\n"), std::string::npos) << commands;
  EXPECT_NE(commands.find("serve\n"), std::string::npos) << commands;
  ExpectNothingLeft();
  SecondRunInOneSession(6, source, "target");
}

// A source host whose engine has no `session` (older than sessions): asked before any stream is
// handed to it, the run moves every stream per stream instead, and says why.
TEST_F(SshdZfsFuseSession, RemoteToRemoteWithoutASessionEngineGoesPerStream) {
  constexpr int kSmallFleet = 3;
  MakeFleet(kSmallFleet);
  WriteData(src_ + "/fleet/d2", "a", 50000, 2);
  const std::string engine = EngineWrapper(
      "engine-without-session", "if [ \"$1\" = version ]; then\n  '" + BinPath("zsend-engine") +
                                    "' \"$@\" | sed 's/,\"session\"//'\n  exit 0\nfi\n");
  remote_engine_ = engine;
  nlohmann::json run = Run("1", 0, {"--ssh-source", sshd_->destination()});
  EXPECT_EQ(WithStatus(run, "transferred").size(), kSmallFleet + 1u) << run.dump();
  // No session: one engine pair per stream.
  EXPECT_EQ(run["overhead"]["engine_sessions"], kSmallFleet + 1) << run["overhead"].dump();
  for (const nlohmann::json& d : run["datasets"]) {
    for (const nlohmann::json& step : d["steps"]) {
      EXPECT_EQ(step.value("transport", ""), "tcp") << d.dump();
      EXPECT_NE(step.value("fallback", "").find("no engine session (zsend-engine "),
                std::string::npos)
          << d.dump();
      EXPECT_NE(step.value("fallback", "").find("lacks command session"), std::string::npos)
          << d.dump();
    }
  }
  EXPECT_EQ(Compare(src_ + "/fleet/d2", dst_ + "/fleet/d2"), "");
  ExpectNothingLeft();
}

TEST_F(SshdZfsFuseSession, AServeKilledMidRunFailsOnlyWhatWasInFlight) {
  // Ten datasets; d5's stream takes seconds at the rate limit, and the serving engine is killed
  // while it moves.
  constexpr int kSmallFleet = 10;
  MakeFleet(kSmallFleet);
  WriteData(src_ + "/fleet/d5", "big", 6 << 20, 25);
  std::thread killer([this] {
    for (int i = 0; i < 600; ++i) {
      if (Shell("pgrep -f 'zfs [r]eceive.*" + dst_ + "/fleet/d5'").exit_code == 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        Shell("pkill -KILL -f 'zsend-engine [s]erve'");  // [s]: not this shell
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  nlohmann::json run = Run("1", -1, {"--rate-limit", "1M", "--jobs", "2"});
  killer.join();
  // Exactly the datasets whose streams were on the killed session's links fail (d5 and at most
  // the one beside it); everything else lands, over a fresh session for the rest.
  std::vector<std::string> failed = WithStatus(run, "failed");
  EXPECT_GE(failed.size(), 1u) << run.dump();
  EXPECT_LE(failed.size(), 2u) << run.dump();
  EXPECT_NE(std::find(failed.begin(), failed.end(), src_ + "/fleet/d5"), failed.end())
      << run.dump();
  EXPECT_EQ(run["failed"], failed.size());
  EXPECT_EQ(last_exit_, static_cast<int>(failed.size()));  // the exit code counts the failures
  EXPECT_EQ(WithStatus(run, "transferred").size(), kSmallFleet + 1 - failed.size()) << run.dump();
  EXPECT_EQ(run["overhead"]["engine_sessions"], 2) << run["overhead"].dump();
  ExpectNothingLeft();
}

}  // namespace
}  // namespace zsend::test
