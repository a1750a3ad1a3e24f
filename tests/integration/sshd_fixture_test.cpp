// Tests for tests/support/peers/sshd.h: a real sshd per test, reachable only with its own keys.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include "tests/support/peers/sshd.h"
#include "tests/support/subprocess.h"

namespace zsend::test {
namespace {

#define REQUIRE_OPENSSH()                                                          \
  ZSEND_REQUIRE(std::filesystem::exists("/usr/sbin/sshd") && HaveProgram("ssh") && \
                    HaveProgram("ssh-keygen"),                                     \
                "openssh-server and openssh-client (scripts/install-deps.sh)")

TEST(SshdFixture, RunsACommandThroughTheServer) {
  REQUIRE_OPENSSH();
  SshdServer sshd;
  ASSERT_TRUE(sshd.ok()) << sshd.error();
  EXPECT_GT(sshd.port(), 0);
  RunResult r = test::Run(sshd.SshCommand("echo hello"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "hello\n");
}

// Sessions run with a private, empty HOME (the machine user's shell startup files stay out),
// and a caller's SetEnv joins it rather than being dropped by sshd's first-line-wins rule.
TEST(SshdFixture, SessionsHaveAPrivateHomeAndTheCallersEnvironment) {
  REQUIRE_OPENSSH();
  SshdOptions options;
  options.extra_config = {"SetEnv ZSEND_FIXTURE_MARK=present"};
  SshdServer sshd(options);
  ASSERT_TRUE(sshd.ok()) << sshd.error();
  RunResult r = test::Run(sshd.SshCommand("echo \"$HOME $ZSEND_FIXTURE_MARK\""));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, sshd.dir() + "/home present\n");
}

TEST(SshdFixture, PassesStdinAndExitCodeThrough) {
  REQUIRE_OPENSSH();
  SshdServer sshd;
  ASSERT_TRUE(sshd.ok()) << sshd.error();
  RunResult r = test::Run(sshd.SshCommand("cat; exit 7"), "payload through ssh");
  EXPECT_EQ(r.exit_code, 7) << r.err;
  EXPECT_EQ(r.out, "payload through ssh");
}

TEST(SshdFixture, TwoServersAtOnceUseDifferentPorts) {
  REQUIRE_OPENSSH();
  // Started at the same time from two threads, as parallel tests would.
  std::optional<SshdServer> first_slot, second_slot;
  std::thread starter([&] { first_slot.emplace(); });
  second_slot.emplace();
  starter.join();
  SshdServer& first = *first_slot;
  SshdServer& second = *second_slot;
  ASSERT_TRUE(first.ok()) << first.error();
  ASSERT_TRUE(second.ok()) << second.error();
  EXPECT_NE(first.port(), second.port());
  EXPECT_NE(first.dir(), second.dir());
  EXPECT_EQ(test::Run(first.SshCommand("echo one")).out, "one\n");
  EXPECT_EQ(test::Run(second.SshCommand("echo two")).out, "two\n");
  // Each server trusts only its own client key.
  std::vector<std::string> cross = second.SshCommand("echo crossed");
  cross[4] = first.identity_file();  // "-i" KEY
  ASSERT_EQ(cross[3], "-i");
  EXPECT_EQ(test::Run(cross).exit_code, 255);
}

TEST(SshdFixture, RefusesAnUnauthorizedKey) {
  REQUIRE_OPENSSH();
  SshdServer sshd;
  ASSERT_TRUE(sshd.ok()) << sshd.error();
  std::string wrong = sshd.MakeUnauthorizedKey("intruder_ed25519");
  ASSERT_FALSE(wrong.empty());
  std::vector<std::string> argv = sshd.SshCommand("echo should-not-run");
  ASSERT_EQ(argv[3], "-i");
  argv[4] = wrong;
  RunResult r = test::Run(argv);
  EXPECT_EQ(r.exit_code, 255);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("Permission denied"), std::string::npos) << r.err;
}

TEST(SshdFixture, RejectsAChangedHostKey) {
  REQUIRE_OPENSSH();
  SshdServer sshd;
  SshdServer other;
  ASSERT_TRUE(sshd.ok()) << sshd.error();
  ASSERT_TRUE(other.ok()) << other.error();
  // A known_hosts entry for sshd's address and port, but with the other server's host key.
  std::string other_entry = Shell("head -n1 " + other.known_hosts_file()).out;
  std::string key = other_entry.substr(other_entry.find(' '));
  std::string forged = sshd.dir() + "/forged_known_hosts";
  std::ofstream(forged) << "[127.0.0.1]:" << sshd.port() << key;
  std::vector<std::string> argv = sshd.SshCommand("echo should-not-run");
  for (std::string& a : argv) {
    if (a == "UserKnownHostsFile=" + sshd.known_hosts_file()) a = "UserKnownHostsFile=" + forged;
  }
  RunResult r = test::Run(argv);
  EXPECT_EQ(r.exit_code, 255);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("HOST IDENTIFICATION HAS CHANGED"), std::string::npos) << r.err;
}

TEST(SshdFixture, ProcessAndDirectoryAreGoneAfterDestruction) {
  REQUIRE_OPENSSH();
  pid_t pid = -1;
  std::string dir;
  {
    SshdServer sshd;
    ASSERT_TRUE(sshd.ok()) << sshd.error();
    pid = sshd.pid();
    dir = sshd.dir();
    ASSERT_GT(pid, 0);
    EXPECT_EQ(kill(pid, 0), 0);
    EXPECT_TRUE(std::filesystem::exists(dir));
  }
  errno = 0;
  EXPECT_EQ(kill(pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
  EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST(SshdFixture, DestructionEndsOpenSessions) {
  REQUIRE_OPENSSH();
  pid_t client = -1;
  {
    SshdServer sshd;
    ASSERT_TRUE(sshd.ok()) << sshd.error();
    client = Spawn(sshd.SshCommand("echo started >&2; sleep 600"));
    // Wait until the session runs (the server logs the accepted key), then tear down.
    for (int i = 0; i < 1000; ++i) {
      if (Shell("grep -q 'Accepted publickey' " + sshd.log_file()).exit_code == 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  // The per-connection sshd was killed, so the client's session ends long before 600 s.
  int status = 0;
  pid_t done = 0;
  for (int i = 0; i < 1000 && done == 0; ++i) {
    done = waitpid(client, &status, WNOHANG);
    if (done == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (done == 0) {
    kill(client, SIGKILL);
    waitpid(client, &status, 0);
  }
  EXPECT_EQ(done, client) << "ssh session outlived the fixture";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 255) << status;
}

TEST(SshdFixture, OptionValuesWorkAsDashOOptions) {
  REQUIRE_OPENSSH();
  SshdServer sshd;
  ASSERT_TRUE(sshd.ok()) << sshd.error();
  // The form a program taking --ssh-port/--ssh-option/--ssh-identity would build.
  std::vector<std::string> argv{"ssh", "-p", std::to_string(sshd.port())};
  for (const std::string& v : sshd.SshOptionValues()) argv.insert(argv.end(), {"-o", v});
  argv.insert(argv.end(), {"-o", "IdentityFile=" + sshd.identity_file(), sshd.destination(),
                           "echo via-options"});
  RunResult r = test::Run(argv);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "via-options\n");
}

}  // namespace
}  // namespace zsend::test
