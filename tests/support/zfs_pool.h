// Test support: throw-away zfs-fuse pools on files, and byte-for-byte tree comparison.
//
// A ZfsPool owns one pool backed by a sparse file in its own mktemp directory; its name is
// prefix + pid + a counter, so tests and helpers sharing the zfs-fuse daemon never collide.
// The destructor destroys the pool and removes the directory, also when the test failed
// half-way. zfs-fuse's CLI is old: no `list -p`, `get -t` or `recv -u/-s`, so helpers stick to
// the plain forms. Not thread-safe; one test thread uses a pool.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/subprocess.h"

namespace zsend::test {

// Makes sure zfs-fuse answers (runs scripts/zfs-fuse-up.sh, which starts it when needed).
// Returns "" when it does, else why not (for ZSEND_REQUIRE).
std::string ZfsFuseProblem();

// Runs argv (zfs, zpool, cp...), capturing output; `error` gets a one-line description
// (command, exit code, stderr) when it fails.
bool RunChecked(const std::vector<std::string>& argv, std::string* error);

class ZfsPool {
 public:
  // Where the pool's root dataset mounts: under dir() (the default), or nowhere (`-m none`,
  // for tests that only look at metadata and want no mounts).
  enum class Mount { kUnderDir, kNone };

  // Creates pool "<prefix><pid>_<n>" on a sparse file of `size_mib` MiB (zfs-fuse needs >= 64).
  // Returns null and sets `error` on failure.
  static std::unique_ptr<ZfsPool> Create(const std::string& prefix, uint64_t size_mib,
                                         std::string* error, Mount mount = Mount::kUnderDir);
  // The same with an exact name, for tests whose subject is a fixed pool name. The caller makes
  // sure no such pool exists (the shared daemon would refuse it).
  static std::unique_ptr<ZfsPool> CreateNamed(const std::string& name, uint64_t size_mib,
                                              std::string* error, Mount mount = Mount::kUnderDir);
  ~ZfsPool();
  ZfsPool(const ZfsPool&) = delete;
  ZfsPool& operator=(const ZfsPool&) = delete;

  const std::string& name() const { return name_; }
  // The temporary directory holding the backing file (and the mountpoints).
  const std::string& dir() const { return dir_; }

  // Creates pool/relative (e.g. "ds"); returns its full name, "" on error.
  std::string CreateDataset(const std::string& relative, std::string* error);
  // The mountpoint of a dataset of this pool ("" when unknown).
  std::string Mountpoint(const std::string& dataset) const;
  // Takes dataset@snapshot.
  bool Snapshot(const std::string& dataset, const std::string& snapshot, std::string* error);
  // Names of the snapshots of `dataset` (full names "ds@snap").
  std::vector<std::string> Snapshots(const std::string& dataset) const;

 private:
  ZfsPool(std::string name, std::string dir) : name_(std::move(name)), dir_(std::move(dir)) {}
  std::string name_;
  std::string dir_;
};

// Copies the contents of `source_dir` into `dest_dir` keeping modes, owners, times and
// symlinks (cp -a). Returns false and sets `error` on failure.
bool CopyTree(const std::string& source_dir, const std::string& dest_dir, std::string* error);

// Compares two directory trees without following symlinks: same names, types, modes, owners,
// sizes, file contents and symlink targets. Returns "" when identical, else the first
// difference found.
std::string CompareTrees(const std::string& left, const std::string& right);

// Number of regular files and their total bytes under `dir` (not following symlinks).
struct TreeStats {
  uint64_t files = 0;
  uint64_t bytes = 0;
};
TreeStats StatTree(const std::string& dir);

}  // namespace zsend::test
