// SshRunner against a real sshd on 127.0.0.1 with keys made by the test: one authentication
// per run (the control master), remote quoting, and the one-line host-key and
// authentication errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>

#include "orchestrator/host/ssh_runner.h"
#include "tests/support/files.h"
#include "tests/support/peers/sshd.h"
#include "tests/support/subprocess.h"

namespace zsend::orchestrator {
namespace {

class SshdSshRunner : public ::testing::Test {
 protected:
  void SetUp() override {
    ZSEND_REQUIRE(std::filesystem::exists("/usr/sbin/sshd") && test::HaveProgram("ssh"),
                  "openssh-server and openssh-client");
    sshd_ = std::make_unique<test::SshdServer>();
    ASSERT_TRUE(sshd_->ok()) << sshd_->error();
    stranger_key_ = sshd_->MakeUnauthorizedKey("stranger_key");
    ASSERT_FALSE(stranger_key_.empty());
  }
  SshOptions Options(const std::string& identity, const std::string& known_hosts) {
    SshOptions options;
    options.destination = sshd_->destination();
    options.port = sshd_->port();
    options.identity_file = identity;
    options.ssh_options = {"UserKnownHostsFile=" + known_hosts, "StrictHostKeyChecking=yes",
                           "IdentitiesOnly=yes"};
    return options;
  }
  int Logins() {
    std::string log = test::ReadFile(sshd_->log_file());
    int count = 0;
    for (size_t at = log.find("Accepted publickey"); at != std::string::npos;
         at = log.find("Accepted publickey", at + 1)) {
      ++count;
    }
    return count;
  }

  std::unique_ptr<test::SshdServer> sshd_;
  std::string stranger_key_;
  LocalRunner local_;
};

TEST_F(SshdSshRunner, CommandsShareOneAuthenticatedConnectionAndKeepTheirWords) {
  SshRunner ssh(Options(sshd_->identity_file(), sshd_->known_hosts_file()), local_);
  std::vector<std::string> words = {"two words", "it's", "$HOME", "a;b", "*"};
  for (int i = 0; i < 3; ++i) {
    std::vector<std::string> argv = {"printf", "%s|"};
    argv.insert(argv.end(), words.begin(), words.end());
    Result<CommandOutput> output = ssh.Run({argv, Effect::kReadOnly, ""});
    ASSERT_TRUE(output.ok()) << output.status().ToString();
    EXPECT_EQ(output->out, "two words|it's|$HOME|a;b|*|");
  }
  Result<CommandOutput> failing =
      ssh.Run({{"sh", "-c", "echo nope >&2; exit 7"}, Effect::kReadOnly, ""});
  ASSERT_TRUE(failing.ok());
  EXPECT_EQ(failing->exit_code, 7);
  EXPECT_EQ(failing->err, "nope\n");
  Result<CommandOutput> input = ssh.Run({{"cat"}, Effect::kReadOnly, "through stdin\n"});
  ASSERT_TRUE(input.ok());
  EXPECT_EQ(input->out, "through stdin\n");
  EXPECT_EQ(Logins(), 1);
  ssh.Close();
  ASSERT_TRUE(ssh.Run({{"true"}, Effect::kReadOnly, ""}).ok());  // reconnects after Close
  EXPECT_EQ(Logins(), 2);
}

TEST_F(SshdSshRunner, UnknownHostKeyIsAClearError) {
  const std::string empty = sshd_->dir() + "/empty_known_hosts";
  std::ofstream{empty};
  SshRunner ssh(Options(sshd_->identity_file(), empty), local_);
  Status status = ssh.Connect();
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition) << status.ToString();
  EXPECT_NE(status.message().find("host key verification failed"), std::string::npos);
  EXPECT_EQ(Logins(), 0);
}

TEST_F(SshdSshRunner, UnauthorizedKeyIsAClearError) {
  SshRunner ssh(Options(stranger_key_, sshd_->known_hosts_file()), local_);
  Result<CommandOutput> output = ssh.Run({{"true"}, Effect::kReadOnly, ""});
  ASSERT_FALSE(output.ok());
  EXPECT_EQ(output.status().code(), StatusCode::kPermissionDenied) << output.status().ToString();
  EXPECT_NE(output.status().message().find("authentication failed"), std::string::npos);
  EXPECT_EQ(output.status().message().find('\n'), std::string::npos);
}

}  // namespace
}  // namespace zsend::orchestrator
