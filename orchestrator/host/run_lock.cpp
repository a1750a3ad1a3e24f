#include "orchestrator/host/run_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <filesystem>

namespace zsend::orchestrator {

std::string RunLock::LockPath(const std::string& state_dir, const std::string& backup_name) {
  std::string file;
  for (unsigned char c : backup_name) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.') {
      file += static_cast<char>(c);
    } else {
      char escaped[4];
      std::snprintf(escaped, sizeof escaped, "%%%02X", c);
      file += escaped;
    }
  }
  return state_dir + "/locks/" + file + ".lock";
}

Result<RunLock> RunLock::Acquire(const std::string& state_dir, const std::string& backup_name) {
  const std::string path = LockPath(state_dir, backup_name);
  std::error_code ec;
  std::filesystem::create_directories(state_dir + "/locks", ec);
  if (ec) {
    return FailedPrecondition("cannot create " + state_dir + "/locks: " + ec.message() +
                              "; pass --state-dir DIR to use another");
  }
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("cannot open the run lock " + path, errno);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    char owner[32] = {0};
    ssize_t n = ::pread(fd, owner, sizeof owner - 1, 0);
    ::close(fd);
    if (err != EWOULDBLOCK) return ErrnoStatus("cannot lock " + path, err);
    std::string pid = n > 0 ? std::string(owner, static_cast<size_t>(n)) : "unknown";
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    return FailedPrecondition("another zsend run of backup '" + backup_name +
                              "' is in progress (pid " + pid + ", lock " + path +
                              "); this run does nothing and exits");
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // The pid is only for messages; the lock itself is held.
  }
  return RunLock(fd, path);
}

RunLock::RunLock(RunLock&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) {
  other.fd_ = -1;
}

RunLock& RunLock::operator=(RunLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    other.fd_ = -1;
  }
  return *this;
}

RunLock::~RunLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace zsend::orchestrator
