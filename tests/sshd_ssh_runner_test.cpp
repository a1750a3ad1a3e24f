// SshRunner against a real sshd on 127.0.0.1 with keys made by the test: one authentication
// per run (the control master), remote quoting, and the one-line host-key and
// authentication errors.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "orchestrator/ssh_runner.h"
#include "tests/support/subprocess.h"

namespace zsend::orchestrator {
namespace {

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

bool Accepts(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  close(fd);
  return ok;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class SshdSshRunner : public ::testing::Test {
 protected:
  void SetUp() override {
    ZSEND_REQUIRE(std::filesystem::exists("/usr/sbin/sshd") && test::HaveProgram("ssh"),
                  "openssh-server and openssh-client");
    ZSEND_REQUIRE(geteuid() == 0 || std::filesystem::exists("/run/sshd"),
                  "root, or /run/sshd for sshd's privilege separation");
    if (!std::filesystem::exists("/run/sshd")) std::filesystem::create_directories("/run/sshd");
    char pattern[] = "/tmp/zsend-sshd-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    for (const char* key : {"host_key", "client_key", "stranger_key"}) {
      ASSERT_EQ(test::Run({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", dir_ + "/" + key})
                    .exit_code,
                0);
    }
    std::filesystem::copy_file(dir_ + "/client_key.pub", dir_ + "/authorized_keys");
    port_ = FreePort();
    std::ofstream(dir_ + "/sshd_config")
        << "Port " << port_ << "\nListenAddress 127.0.0.1\nHostKey " << dir_
        << "/host_key\nAuthorizedKeysFile " << dir_
        << "/authorized_keys\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
           "PubkeyAuthentication yes\nStrictModes no\nUsePAM no\nPermitRootLogin yes\nPidFile "
        << dir_ << "/sshd.pid\n";
    std::ofstream(dir_ + "/known_hosts")
        << "[127.0.0.1]:" << port_ << " " << ReadFile(dir_ + "/host_key.pub");
    log_fd_ = open((dir_ + "/sshd.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    test::SpawnOptions options;
    options.stderr_fd = log_fd_;
    sshd_ = test::Spawn({"/usr/sbin/sshd", "-D", "-e", "-f", dir_ + "/sshd_config"}, options);
    for (int i = 0; i < 100 && !Accepts(port_); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_TRUE(Accepts(port_)) << ReadFile(dir_ + "/sshd.log");
  }
  void TearDown() override {
    if (sshd_ > 0) {
      kill(sshd_, SIGTERM);
      test::Wait(sshd_);
    }
    if (log_fd_ >= 0) close(log_fd_);
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  SshOptions Options(const std::string& key, const std::string& known_hosts) {
    SshOptions options;
    options.destination = "root@127.0.0.1";
    options.port = port_;
    options.identity_file = dir_ + "/" + key;
    options.ssh_options = {"UserKnownHostsFile=" + dir_ + "/" + known_hosts,
                           "StrictHostKeyChecking=yes", "IdentitiesOnly=yes"};
    return options;
  }
  int Logins() {
    std::string log = ReadFile(dir_ + "/sshd.log");
    int count = 0;
    for (size_t at = log.find("Accepted publickey"); at != std::string::npos;
         at = log.find("Accepted publickey", at + 1)) {
      ++count;
    }
    return count;
  }

  std::string dir_;
  int port_ = 0;
  int log_fd_ = -1;
  pid_t sshd_ = -1;
  LocalRunner local_;
};

TEST_F(SshdSshRunner, CommandsShareOneAuthenticatedConnectionAndKeepTheirWords) {
  SshRunner ssh(Options("client_key", "known_hosts"), local_);
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
  std::ofstream(dir_ + "/empty_known_hosts");
  SshRunner ssh(Options("client_key", "empty_known_hosts"), local_);
  Status status = ssh.Connect();
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition) << status.ToString();
  EXPECT_NE(status.message().find("host key verification failed"), std::string::npos);
  EXPECT_EQ(Logins(), 0);
}

TEST_F(SshdSshRunner, UnauthorizedKeyIsAClearError) {
  SshRunner ssh(Options("stranger_key", "known_hosts"), local_);
  Result<CommandOutput> output = ssh.Run({{"true"}, Effect::kReadOnly, ""});
  ASSERT_FALSE(output.ok());
  EXPECT_EQ(output.status().code(), StatusCode::kPermissionDenied) << output.status().ToString();
  EXPECT_NE(output.status().message().find("authentication failed"), std::string::npos);
  EXPECT_EQ(output.status().message().find('\n'), std::string::npos);
}

}  // namespace
}  // namespace zsend::orchestrator
