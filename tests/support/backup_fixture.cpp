#include "tests/support/backup_fixture.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/support/peers/net.h"

namespace zsend::test {

void BackupFixture::SetUp() {
  std::string problem = ZfsFuseProblem();
  ZSEND_REQUIRE(problem.empty(), problem);
  std::string error;
  source_ = ZfsPool::Create("wtbk_src", 96, &error);
  ASSERT_TRUE(source_) << error;
  target_ = ZfsPool::Create("wtbk_dst", 96, &error);
  ASSERT_TRUE(target_) << error;
  src_ = source_->name();
  dst_ = target_->name();
  job_ = "j" + src_;
  char pattern[] = "/tmp/zsend-state-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  state_dir_ = pattern;
}

void BackupFixture::TearDown() {
  sshd_.reset();
  target_.reset();
  source_.reset();
  if (!state_dir_.empty()) std::filesystem::remove_all(state_dir_);
}

RunResult BackupFixture::Zsend(const std::vector<std::string>& args, const SpawnOptions& options) {
  std::vector<std::string> argv = {BinPath("zsend"), "backup"};
  argv.insert(argv.end(), args.begin(), args.end());
  if (std::find(args.begin(), args.end(), "--state-dir") == args.end() &&
      std::find(args.begin(), args.end(), "--config") == args.end()) {
    argv.insert(argv.end(), {"--state-dir", state_dir_});
  }
  return test::Run(argv, "", options);
}

void BackupFixture::Sh(const std::string& command) {
  RunResult r = Shell(command + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << command << ": " << r.out << r.err;
}

std::string BackupFixture::Out(const std::string& command) {
  return Shell(command).out;
}

void BackupFixture::WriteData(const std::string& dataset, const std::string& file, size_t size,
                              unsigned seed) {
  std::string dir = source_->Mountpoint(dataset);
  ASSERT_FALSE(dir.empty()) << "no mountpoint for " << dataset;
  std::ofstream(dir + "/" + file, std::ios::binary) << PatternBytes(size, seed);
}

std::vector<std::string> BackupFixture::SnapshotNames(const std::string& dataset) {
  RunResult r = test::Run(
      {"zfs", "list", "-H", "-t", "snapshot", "-o", "name", "-s", "createtxg", "-r", dataset});
  std::vector<std::string> names;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(dataset + "@", 0) == 0) names.push_back(line.substr(dataset.size() + 1));
  }
  return names;
}

std::string BackupFixture::Property(const std::string& dataset, const std::string& property) {
  RunResult r = test::Run({"zfs", "get", "-H", "-o", "value", property, dataset});
  return r.out.substr(0, r.out.find('\n'));
}

std::string BackupFixture::ListAll(const std::string& pool) {
  return test::Run({"zfs", "list", "-H", "-t", "all", "-o", "name,userrefs", "-r", pool}).out;
}

std::string BackupFixture::Compare(const std::string& source, const std::string& target) {
  std::string left = source_->Mountpoint(source), right = target_->Mountpoint(target);
  if (left.empty() || right.empty()) return "no mountpoint for " + source + " or " + target;
  return CompareTrees(left, right);
}

std::vector<std::string> BackupFixture::StartSshd() {
  if (!std::filesystem::exists("/usr/sbin/sshd") || !HaveProgram("ssh")) {
    if (InCi()) ADD_FAILURE() << "missing prerequisite in CI: openssh-server";
    return {};
  }
  sshd_ = std::make_unique<SshdServer>();
  if (!sshd_->ok()) {
    ADD_FAILURE() << sshd_->error();
    return {};
  }
  std::vector<std::string> args = {"--ssh-port", std::to_string(sshd_->port()), "--ssh-identity",
                                   sshd_->identity_file()};
  for (const std::string& option : sshd_->SshOptionValues()) {
    args.insert(args.end(), {"--ssh-option", option});
  }
  return args;
}

}  // namespace zsend::test
