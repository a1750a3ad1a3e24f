#include "orchestrator/host/run_dir.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "base/subprocess.h"

namespace zsend::orchestrator {
namespace {

namespace fs = std::filesystem;

constexpr char kPrefix[] = "zsend-run.";
constexpr char kLockName[] = "owner.lock";
constexpr int kSshExitMs = 5000;  // for `ssh -O exit` to end

bool IsRunDirName(const std::string& name) {
  return name.size() == sizeof kPrefix - 1 + 6 && name.rfind(kPrefix, 0) == 0;
}

// Every ssh control socket (a socket file) anywhere inside `dir`.
std::vector<std::string> ControlSockets(const fs::path& dir) {
  std::vector<std::string> sockets;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec), end;
       !ec && it != end; it.increment(ec)) {
    if (it->is_socket(ec)) sockets.push_back(it->path().string());
  }
  return sockets;
}

// Waits up to kSshExitMs for `pid` (a group leader), then stops it.
void WaitOrStop(pid_t pid) {
  int status = 0;
  for (int waited = 0; waited < kSshExitMs; waited += 20) {
    if (waitpid(pid, &status, WNOHANG) == pid) return;
    usleep(20000);
  }
  (void)base::StopAndReap(pid, pid, 1000);
}

}  // namespace

Result<RunDir> RunDir::Create(const std::string& parent) {
  std::string pattern = parent + "/" + kPrefix + "XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    return ErrnoStatus("cannot create a temporary directory in " + parent +
                           " (set TMPDIR to a writable directory)",
                       errno);
  }
  // The lock file appears under its name already locked (made under another name, then
  // renamed), so a sweep never finds it unlocked while this process lives.
  const std::string lock_path = pattern + "/" + kLockName;
  const std::string fresh = lock_path + ".new";
  UniqueFd lock(open(fresh.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!lock.valid() || flock(lock.get(), LOCK_EX | LOCK_NB) != 0 ||
      rename(fresh.c_str(), lock_path.c_str()) != 0) {
    const int err = errno;
    std::error_code ignored;
    fs::remove_all(pattern, ignored);
    return ErrnoStatus("cannot lock " + lock_path, err);
  }
  return RunDir(pattern, std::move(lock));
}

RunDir::~RunDir() {
  if (path_.empty()) return;
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

std::vector<std::string> SweepRunDirs(const std::string& parent, const std::string& ssh_program) {
  std::vector<std::string> swept;
  std::error_code ec;
  for (fs::directory_iterator it(parent, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::error_code type_ec;
    if (!IsRunDirName(name) || !it->is_directory(type_ec) || it->is_symlink(type_ec)) continue;
    struct stat st {};
    if (lstat(it->path().c_str(), &st) != 0 || st.st_uid != geteuid()) continue;
    const std::string lock_path = (it->path() / kLockName).string();
    UniqueFd lock(open(lock_path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW));
    // No lock file yet: its owner is between mkdtemp and open; leave it.
    if (!lock.valid() || flock(lock.get(), LOCK_EX | LOCK_NB) != 0) continue;
    for (const std::string& socket : ControlSockets(it->path())) {
      UniqueFd null(open("/dev/null", O_RDWR | O_CLOEXEC));
      base::SpawnOptions quiet;
      quiet.stdin_fd = quiet.stdout_fd = quiet.stderr_fd = null.get();
      base::SpawnResult ssh =
          base::Spawn({ssh_program, "-o", "ControlPath=" + socket, "-O", "exit", "x"}, quiet);
      if (ssh.ok()) WaitOrStop(ssh.pid);
    }
    std::error_code ignored;
    fs::remove_all(it->path(), ignored);
    swept.push_back(it->path().string());
  }
  return swept;
}

}  // namespace zsend::orchestrator
