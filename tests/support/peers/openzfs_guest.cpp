#include "tests/support/peers/openzfs_guest.h"

#include <unistd.h>

#include <sstream>

namespace zsend::test {
namespace {

std::string Script() {
  return std::string(ZSEND_SOURCE_DIR) + "/scripts/openzfs-vm.sh";
}

std::string StripNewline(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

}  // namespace

std::string Quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string EnsureOpenZfsGuest() {
  static const std::string error = [] {
    if (geteuid() != 0) return std::string("the OpenZFS guest needs root");
    SpawnOptions options;
    options.env["ZSEND_VM_BIN"] = ZSEND_BIN_DIR;
    RunResult up = Run({Script(), "up"}, "", options);
    if (up.exit_code != 0) {
      return "scripts/openzfs-vm.sh up exited " + std::to_string(up.exit_code) + ": " + up.err;
    }
    return std::string();
  }();
  return error;
}

RunResult GuestShell(const std::string& command, const std::string& input) {
  return Run({Script(), "ssh", command}, input);
}

void OpenZfsFixture::SetUp() {
  std::string error = EnsureOpenZfsGuest();
  ZSEND_REQUIRE(error.empty(), "the OpenZFS guest: " + error);
  static int counter = 0;
  std::string base = "oz" + std::to_string(getpid()) + "x" + std::to_string(++counter);
  src_ = base + "s";
  dst_ = base + "t";
  job_ = "j" + base;
  state_ = "/var/tmp/zsend-state-" + base;
  // Sparse 512 MiB files: room for the tests' data, nothing allocated up front.
  Sh("mkdir -p /var/tmp/zsend-pools && for p in " + src_ + " " + dst_ +
     "; do truncate -s 512M /var/tmp/zsend-pools/$p.img && "
     "zpool create -f -O mountpoint=/$p $p /var/tmp/zsend-pools/$p.img; done");
}

void OpenZfsFixture::TearDown() {
  if (src_.empty()) return;
  GuestShell("for p in " + src_ + " " + dst_ +
             "; do zpool destroy -f $p 2>/dev/null; rm -f /var/tmp/zsend-pools/$p.img; done; "
             "rm -rf " +
             state_);
}

void OpenZfsFixture::Sh(const std::string& command) {
  RunResult r = GuestShell(command);
  if (r.exit_code != 0) {
    ADD_FAILURE() << "guest command failed (exit " << r.exit_code << "): " << command << "\n"
                  << r.out << r.err;
  }
}

std::string OpenZfsFixture::Out(const std::string& command) {
  RunResult r = GuestShell(command);
  if (r.exit_code != 0) {
    ADD_FAILURE() << "guest command failed (exit " << r.exit_code << "): " << command << "\n"
                  << r.out << r.err;
  }
  return StripNewline(r.out);
}

RunResult OpenZfsFixture::Zsend(const std::string& subcommand,
                                const std::vector<std::string>& args) {
  std::string command = "zsend " + subcommand;
  bool has_state = false;
  for (const std::string& arg : args) {
    command += " " + Quote(arg);
    has_state = has_state || arg == "--state-dir";
  }
  if (!has_state && (subcommand == "backup" || subcommand == "prune")) {
    command += " --state-dir " + state_;
  }
  return GuestShell(command);
}

RunResult OpenZfsFixture::Backup(const std::vector<std::string>& args) {
  std::vector<std::string> all = {job_};
  all.insert(all.end(), args.begin(), args.end());
  return Zsend("backup", all);
}

std::string OpenZfsFixture::Property(const std::string& dataset, const std::string& property) {
  RunResult r = GuestShell("zfs get -H -o value " + property + " " + Quote(dataset));
  return r.exit_code == 0 ? StripNewline(r.out) : "";
}

std::vector<std::string> OpenZfsFixture::SnapshotNames(const std::string& dataset) {
  RunResult r = GuestShell("zfs list -H -p -o name -s createtxg -t snapshot -d 1 " +
                           Quote(dataset) + " 2>/dev/null");
  std::vector<std::string> names;
  std::istringstream lines(r.out);
  std::string line;
  while (std::getline(lines, line)) {
    size_t at = line.find('@');
    if (at != std::string::npos) names.push_back(line.substr(at + 1));
  }
  return names;
}

void OpenZfsFixture::WriteData(const std::string& dataset, const std::string& file, int mib) {
  Sh("head -c " + std::to_string(mib) + "M /dev/urandom > \"$(zfs get -H -o value mountpoint " +
     Quote(dataset) + ")\"/" + Quote(file) + " && zpool sync " +
     Quote(dataset.substr(0, dataset.find('/'))));
}

}  // namespace zsend::test
