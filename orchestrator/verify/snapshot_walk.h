// SnapshotWalk: the digest tree of one snapshot, computed on the host that has it.
//
// The host's zsend walks the snapshot (`ZSEND digest-tree DIR`, run through the host's
// CommandRunner: locally or over ssh, so only digests cross the network) where it can be read:
//
//   1. the snapshot directory MOUNTPOINT/.zfs/snapshot/NAME, when the dataset is mounted and
//      the walk there succeeds (OpenZFS; zfs-fuse has no .zfs directory);
//   2. else a temporary clone: `zfs clone -o readonly=on -o mountpoint=DIR SNAPSHOT
//      POOL/zsend-verify-PID-N` mounted on a fresh `mktemp -d` directory, walked, then unmounted
//      and destroyed and the directory removed, on every path (also after a failed walk or a
//      signal: the cleanup commands are marked Command::cleanup). A dataset that is not mounted
//      (received with -u, canmount=off, mountpoint=none/legacy) is walked this way and stays as
//      it was.
//   3. a volume: always a temporary clone (`zfs clone -o readonly=on`), read through its device
//      /dev/zvol/POOL/zsend-verify-PID-N by byte ranges (digest_tree.h), then destroyed.
//
// Thread-safety: WalkSnapshot may run for several hosts at once (the runners are thread-safe).
#pragma once

#include <string>

#include "orchestrator/host/command_runner.h"
#include "orchestrator/verify/digest_tree.h"

namespace zsend::orchestrator {

// A digest walk may read a whole dataset: its command deadline (24 h) replaces the runner's.
inline constexpr double kDigestWalkTimeoutSeconds = 24 * 3600;

struct SnapshotWalk {
  ParsedDigestTree tree;
  std::string method;  // "snapshot directory" or "temporary clone"
};

// Walks DATASET@SNAPSHOT on `host` with the program `zsend` there.
Result<SnapshotWalk> WalkSnapshot(CommandRunner& host, const std::string& zsend,
                                  const std::string& dataset, const std::string& snapshot,
                                  const DigestOptions& options);

// The argv of one walk: ZSEND digest-tree DIR [--sample P --seed S].
std::vector<std::string> DigestTreeArgv(const std::string& zsend, const std::string& dir,
                                        const DigestOptions& options);

}  // namespace zsend::orchestrator
