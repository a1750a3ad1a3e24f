// RunDir: the private temporary directory of one zsend process, and the sweep that removes what
// a zsend killed with SIGKILL left behind.
//
// zsend creates `${TMPDIR:-/tmp}/zsend-run.XXXXXX` (0700) at start and points TMPDIR at it, so
// everything the run puts in a temporary place on this host lands inside: stats files, the tcp
// sender's key directory (mktemp in kKeygenScript), the ssh control socket directory. The
// directory holds `owner.lock`, flocked for the process's lifetime; the kernel drops that lock
// however the process ends. A normal end (also after SIGINT/SIGTERM) removes the directory; a
// later zsend's Sweep() removes the directories whose lock nobody holds, after asking any ssh
// control master found inside to exit. Directories on a far host (its key directory) are not
// swept: they live in the far host's temporary directory until its own cleanup.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "base/unique_fd.h"

namespace zsend::orchestrator {

class RunDir {
 public:
  // Creates the directory under `parent` and takes its lock.
  static Result<RunDir> Create(const std::string& parent);
  RunDir(RunDir&& other) noexcept
      : path_(std::exchange(other.path_, {})), lock_(std::move(other.lock_)) {}
  RunDir& operator=(RunDir&&) = delete;
  ~RunDir();
  const std::string& path() const { return path_; }

 private:
  RunDir(std::string path, UniqueFd lock) : path_(std::move(path)), lock_(std::move(lock)) {}
  std::string path_;
  UniqueFd lock_;
};

// Removes the run directories under `parent` whose owner is gone (see above); returns their
// paths. `ssh_program` is asked (`-O exit`) to stop a control master left in one.
std::vector<std::string> SweepRunDirs(const std::string& parent,
                                      const std::string& ssh_program = "ssh");

}  // namespace zsend::orchestrator
