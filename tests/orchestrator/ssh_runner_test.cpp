// SshRunner: the ssh argv, remote quoting, the control master's lifecycle (through a
// recording runner standing in for the local machine) and ssh failure messages.
#include "orchestrator/host/ssh_runner.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace zsend::orchestrator {
namespace {

SshOptions Options() {
  SshOptions options;
  options.destination = "backup@host.example";
  options.port = 2222;
  options.identity_file = "/keys/id_ed25519";
  options.ssh_options = {"Compression=no", "StrictHostKeyChecking=accept-new"};
  return options;
}

std::string ControlPathOption(const std::vector<std::string>& argv) {
  for (const std::string& word : argv) {
    if (word.rfind("ControlPath=", 0) == 0) return word;
  }
  return "";
}

// Records the argv it is given and answers with a preset output; a successful master start
// creates the control socket's path as ssh would.
class RecordingRunner : public CommandRunner {
 public:
  Result<CommandOutput> Run(const Command& command) override {
    commands.push_back(command.argv);
    if (reply.ok() && command.argv.size() > 1 && command.argv[1] == "-M") {
      std::ofstream(ControlPathOption(command.argv).substr(strlen("ControlPath=")));
    }
    return reply;
  }
  std::string HostLabel() const override { return "local"; }
  std::vector<std::vector<std::string>> commands;
  CommandOutput reply{0, "", ""};
};

TEST(SshRunner, BuildsArgvWithControlPathBatchModeAndQuotedRemoteCommand) {
  std::vector<std::string> argv = SshRunner::BuildArgv(
      Options(), "/tmp/zsend-ssh-X/master", {"zfs", "get", "-H", "zsend:it's", "pool/a b"});
  std::vector<std::string> expected = {"ssh",
                                       "-o",
                                       "ControlMaster=no",
                                       "-o",
                                       "ControlPath=/tmp/zsend-ssh-X/master",
                                       "-o",
                                       "BatchMode=yes",
                                       "-p",
                                       "2222",
                                       "-i",
                                       "/keys/id_ed25519",
                                       "-o",
                                       "Compression=no",
                                       "-o",
                                       "StrictHostKeyChecking=accept-new",
                                       "-o",
                                       "ServerAliveInterval=15",
                                       "-o",
                                       "ServerAliveCountMax=4",
                                       "-o",
                                       "ConnectTimeout=30",
                                       "--",
                                       "backup@host.example",
                                       "zfs get -H 'zsend:it'\\''s' 'pool/a b'"};
  EXPECT_EQ(argv, expected);
}

TEST(SshRunner, MasterAndExitArgv) {
  std::vector<std::string> master = SshRunner::BuildMasterArgv(Options(), "/c/m");
  ASSERT_GE(master.size(), 6u);
  EXPECT_EQ(std::vector<std::string>(master.begin(), master.begin() + 4),
            (std::vector<std::string>{"ssh", "-M", "-N", "-f"}));
  EXPECT_EQ(master.back(), "backup@host.example");
  EXPECT_NE(std::find(master.begin(), master.end(), "BatchMode=yes"), master.end());
  EXPECT_EQ(SshRunner::BuildExitArgv(Options(), "/c/m"),
            (std::vector<std::string>{"ssh", "-o", "ControlPath=/c/m", "-O", "exit", "-p", "2222",
                                      "--", "backup@host.example"}));
}

TEST(SshRunner, OneMasterPerHostReusedAndClosedWithPrivateDirectoryRemoved) {
  RecordingRunner local;
  std::string control_dir;
  {
    SshRunner ssh(Options(), local);
    ASSERT_TRUE(ssh.Run({{"zfs", "list"}, Effect::kReadOnly, ""}).ok());
    ASSERT_TRUE(ssh.Run({{"zfs", "get", "all"}, Effect::kReadOnly, ""}).ok());
    ASSERT_EQ(local.commands.size(), 3u);  // one master, two commands
    EXPECT_EQ(local.commands[0][1], "-M");
    std::string path_option = ControlPathOption(local.commands[0]);
    ASSERT_FALSE(path_option.empty());
    std::filesystem::path control(path_option.substr(strlen("ControlPath=")));
    control_dir = control.parent_path();
    EXPECT_TRUE(std::filesystem::is_directory(control_dir));
    auto perms = std::filesystem::status(control_dir).permissions();
    EXPECT_EQ(perms & std::filesystem::perms::all, std::filesystem::perms::owner_all);
    EXPECT_EQ(ControlPathOption(local.commands[1]), path_option);
    EXPECT_EQ(ControlPathOption(local.commands[2]), path_option);
  }
  ASSERT_EQ(local.commands.size(), 4u);
  EXPECT_EQ(local.commands[3][3], "-O");
  EXPECT_EQ(local.commands[3][4], "exit");
  EXPECT_FALSE(std::filesystem::exists(control_dir));
}

TEST(SshRunner, StartsANewMasterWhenTheOldOneTimedOut) {
  RecordingRunner local;
  SshRunner ssh(Options(), local);
  ASSERT_TRUE(ssh.Run({{"true"}, Effect::kReadOnly, ""}).ok());
  std::string path = ControlPathOption(local.commands[0]).substr(strlen("ControlPath="));
  std::filesystem::remove(path);  // ControlPersist expired
  ASSERT_TRUE(ssh.Run({{"true"}, Effect::kReadOnly, ""}).ok());
  ASSERT_EQ(local.commands.size(), 4u);
  EXPECT_EQ(local.commands[2][1], "-M");
}

TEST(SshRunner, HostKeyFailureIsOneClearLine) {
  RecordingRunner local;
  local.reply = {255, "",
                 "No ED25519 host key is known for host.example and you have requested strict "
                 "checking.\r\nHost key verification failed.\r\n"};
  SshRunner ssh(Options(), local);
  Status status = ssh.Connect();
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("host key verification failed"), std::string::npos);
  EXPECT_NE(status.message().find("backup@host.example"), std::string::npos);
  EXPECT_EQ(status.message().find('\n'), std::string::npos);
}

TEST(SshRunner, AuthenticationFailureIsPermissionDenied) {
  RecordingRunner local;
  local.reply = {255, "", "backup@host.example: Permission denied (publickey,password).\r\n"};
  SshRunner ssh(Options(), local);
  Result<CommandOutput> output = ssh.Run({{"zfs", "list"}, Effect::kReadOnly, ""});
  ASSERT_FALSE(output.ok());
  EXPECT_EQ(output.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(output.status().message().find("authentication failed"), std::string::npos);
}

TEST(SshRunner, RemoteCommandFailureIsReturnedAsOutput) {
  CommandOutput failed{1, "", "cannot open 'x': dataset does not exist\n"};
  EXPECT_TRUE(SshRunner::ClassifySshFailure("h", failed).ok());
  CommandOutput refused{255, "", "ssh: connect to host h port 22: Connection refused\n"};
  EXPECT_EQ(SshRunner::ClassifySshFailure("h", refused).code(), StatusCode::kUnavailable);
  CommandOutput unknown{255, "", "ssh: Could not resolve hostname nosuch: Name or service\n"};
  EXPECT_EQ(SshRunner::ClassifySshFailure("nosuch", unknown).code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace zsend::orchestrator
