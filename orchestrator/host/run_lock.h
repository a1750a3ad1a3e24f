// RunLock: at most one run per backup name at a time (two cron runs of the same job must not
// overlap).
//
// The lock is flock(LOCK_EX | LOCK_NB) on STATE_DIR/locks/NAME.lock, held for the life of the
// RunLock. The file holds the owner's pid for the message the refused run prints. flock locks
// belong to the open file: they vanish when the process dies, so a crashed run never leaves
// a stale lock behind.
//
// Thread-safety: a RunLock is owned by one thread; different names may be locked at once.
#pragma once

#include <string>

#include "base/status.h"

namespace zsend::orchestrator {

class RunLock {
 public:
  RunLock(RunLock&& other) noexcept;
  RunLock& operator=(RunLock&& other) noexcept;
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

  // Takes the lock, or kFailedPrecondition naming the backup, the owner's pid and the file
  // when another run holds it.
  static Result<RunLock> Acquire(const std::string& state_dir, const std::string& backup_name);
  // The file Acquire() locks (the name with '/' and other odd characters escaped).
  static std::string LockPath(const std::string& state_dir, const std::string& backup_name);

  const std::string& path() const { return path_; }

 private:
  RunLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

}  // namespace zsend::orchestrator
