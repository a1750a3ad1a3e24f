#include "orchestrator/verify/snapshot_walk.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <sstream>

namespace zsend::orchestrator {
namespace {

std::atomic<int> clone_counter{0};

// A verify walks both hosts at once, and a clone mounts when it is made and unmounts when it
// is destroyed. zfs-fuse's daemon can wedge every one of its filesystems when two mounts
// happen at the same moment (its mount path hands each new filesystem to its FUSE listener in
// two unlocked writes to one pipe), and on one machine both clones would mount together. So
// this process makes and removes its clones one at a time; the walks still overlap.
std::mutex mount_changes;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

Result<ParsedDigestTree> Walk(CommandRunner& host, const std::string& zsend, const std::string& dir,
                              const DigestOptions& options) {
  Command walk{DigestTreeArgv(zsend, dir, options), Effect::kReadOnly, ""};
  walk.timeout_seconds = kDigestWalkTimeoutSeconds;
  Result<CommandOutput> out = RunChecked(host, walk);
  if (!out.ok()) return out.status();
  return ParseDigestTree(out->out);
}

// The temporary clone of one walk; Remove() (or the destructor) takes it away again.
class TemporaryClone {
 public:
  explicit TemporaryClone(CommandRunner& host) : host_(host) {}
  ~TemporaryClone() { (void)Remove(); }

  // A volume's clone has no mountpoint: it is read through its device, Device().
  Status Create(const std::string& dataset, const std::string& snapshot, bool volume) {
    const std::string pool = dataset.substr(0, dataset.find('/'));
    if (volume) {
      volume_ = true;
      name_ = pool + "/zsend-verify-" + std::to_string(getpid()) + "-" +
              std::to_string(clone_counter.fetch_add(1));
      // volmode=dev: a device node whatever volmode the pool's root passes down.
      Result<CommandOutput> cloned =
          RunChecked(host_, {{"zfs", "clone", "-o", "readonly=on", "-o", "volmode=dev",
                              dataset + "@" + snapshot, name_},
                             Effect::kMutates,
                             ""});
      if (!cloned.ok()) name_.clear();
      return cloned.ok() ? Status::Ok() : cloned.status();
    }
    Result<CommandOutput> made =
        RunChecked(host_, {{"sh", "-c", "mktemp -d \"${TMPDIR:-/tmp}/zsend-verify.XXXXXXXXXX\""},
                           Effect::kReadOnly,
                           ""});
    if (!made.ok()) return made.status();
    std::vector<std::string> lines = Lines(made->out);
    if (lines.empty() || lines.back().empty() || lines.back()[0] != '/') {
      return Internal("mktemp -d on " + host_.HostLabel() + " printed no directory");
    }
    dir_ = lines.back();
    name_ = pool + "/zsend-verify-" + std::to_string(getpid()) + "-" +
            std::to_string(clone_counter.fetch_add(1));
    std::unique_lock<std::mutex> one_at_a_time(mount_changes);
    Result<CommandOutput> cloned =
        RunChecked(host_, {{"zfs", "clone", "-o", "readonly=on", "-o", "mountpoint=" + dir_,
                            dataset + "@" + snapshot, name_},
                           Effect::kMutates,
                           ""});
    one_at_a_time.unlock();
    if (!cloned.ok()) {
      name_.clear();  // nothing to destroy, and never someone else's dataset
      return cloned.status();
    }
    return Status::Ok();
  }

  const std::string& dir() const { return dir_; }
  std::string Device() const { return "/dev/zvol/" + name_; }

  Status Remove() {
    Status status;
    if (!name_.empty()) {
      std::unique_lock<std::mutex> one_at_a_time(mount_changes, std::defer_lock);
      if (!volume_) one_at_a_time.lock();  // a volume's clone never mounts
      Command unmount{{"zfs", "umount", name_}, Effect::kMutates, ""};
      unmount.cleanup = true;
      unmount.timeout_seconds = kCleanupTimeoutSeconds;
      if (!volume_) (void)host_.Run(unmount);  // destroy unmounts too; this makes "busy" rarer
      Command destroy{{"zfs", "destroy", name_}, Effect::kMutates, ""};
      destroy.cleanup = true;
      destroy.timeout_seconds = kCleanupTimeoutSeconds;
      Result<CommandOutput> out = RunChecked(host_, destroy);
      // A volume's device may still be open a moment after the read (udev, blkid): "busy".
      for (int retry = 0; !out.ok() && volume_ && retry < 10; ++retry) {
        usleep(500 * 1000);
        out = RunChecked(host_, destroy);
      }
      if (!out.ok()) {
        destroy.argv = {"zfs", "destroy", "-f", name_};
        out = RunChecked(host_, destroy);
      }
      if (!out.ok()) {
        status = out.status().WithContext("removing the temporary clone " + name_ +
                                          " (destroy it by hand)");
      }
      name_.clear();
    }
    if (!dir_.empty()) {
      Command rmdir{{"rmdir", "--", dir_}, Effect::kMutates, ""};
      rmdir.cleanup = true;
      rmdir.timeout_seconds = kCleanupTimeoutSeconds;
      (void)host_.Run(rmdir);
      dir_.clear();
    }
    return status;
  }

 private:
  CommandRunner& host_;
  std::string dir_;   // the mountpoint directory mktemp made, "" when none
  std::string name_;  // the clone, "" when none exists
  bool volume_ = false;
};

}  // namespace

std::vector<std::string> DigestTreeArgv(const std::string& zsend, const std::string& dir,
                                        const DigestOptions& options) {
  std::vector<std::string> argv{zsend, "digest-tree", dir};
  if (options.sample_percent < 100) {
    char percent[32];
    std::snprintf(percent, sizeof percent, "%g", options.sample_percent);
    argv.insert(argv.end(), {"--sample", percent, "--seed", std::to_string(options.seed)});
  }
  return argv;
}

Result<SnapshotWalk> WalkSnapshot(CommandRunner& host, const std::string& zsend,
                                  const std::string& dataset, const std::string& snapshot,
                                  const DigestOptions& options) {
  Result<CommandOutput> props =
      RunChecked(host, {{"zfs", "get", "-H", "-o", "value", "type,mountpoint,mounted", dataset},
                        Effect::kReadOnly,
                        ""});
  if (!props.ok()) return props.status();
  std::vector<std::string> values = Lines(props->out);
  if (values.size() < 3) {
    return Internal("zfs get type,mountpoint,mounted " + dataset + " on " + host.HostLabel() +
                    " printed " + std::to_string(values.size()) + " lines, not 3");
  }
  values.erase(values.begin(), values.end() - 3);  // a far startup file's lines come first
  // A volume is read by byte ranges of a read-only clone's device; a filesystem in its snapshot
  // directory when it is mounted, else in a read-only clone's mountpoint.
  const bool volume = values[0] == "volume";
  std::string snapshot_dir_error;
  if (!volume && values[2] == "yes" && !values[1].empty() && values[1][0] == '/') {
    const std::string dir =
        (values[1] == "/" ? std::string() : values[1]) + "/.zfs/snapshot/" + snapshot;
    Result<ParsedDigestTree> tree = Walk(host, zsend, dir, options);
    if (tree.ok()) return SnapshotWalk{std::move(*tree), "snapshot directory"};
    if (tree.status().code() == StatusCode::kCancelled) return tree.status();
    snapshot_dir_error = tree.status().message();
  }
  TemporaryClone clone(host);
  Status made = clone.Create(dataset, snapshot, volume);
  if (!made.ok()) {
    if (!snapshot_dir_error.empty()) made = made.WithContext(snapshot_dir_error + "; then");
    return made;
  }
  Result<ParsedDigestTree> tree = Walk(host, zsend, volume ? clone.Device() : clone.dir(), options);
  Status removed = clone.Remove();
  if (!tree.ok()) return tree.status();
  if (!removed.ok()) return removed;
  return SnapshotWalk{std::move(*tree), volume ? "temporary clone (volume)" : "temporary clone"};
}

}  // namespace zsend::orchestrator
