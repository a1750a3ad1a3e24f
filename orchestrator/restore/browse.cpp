#include "orchestrator/restore/browse.h"

#include <algorithm>
#include <chrono>
#include <thread>

namespace zsend::orchestrator {
namespace {

constexpr int kDestroyAttempts = 5;

std::string PoolOf(const std::string& dataset) {
  return dataset.substr(0, dataset.find('/'));
}

Result<std::vector<DatasetInfo>> BrowseClones(Zfs& backup, const std::string& folder) {
  Result<bool> exists = backup.Exists(folder);
  if (!exists.ok()) return exists.status();
  if (!*exists) return std::vector<DatasetInfo>{};
  return backup.ListDatasets({folder}, true, {"mountpoint"});
}

}  // namespace

std::string BrowseFolder(const std::string& pool, const std::string& backup_name) {
  return pool + "/zsend-browse/" + backup_name;
}

Result<BrowseResult> BrowseRevision(Zfs& backup, const std::string& backup_name,
                                    const std::string& target_path, const std::string& snapshot) {
  Result<std::pair<std::string, std::string>> split = SplitSnapshotName(snapshot);
  if (!split.ok()) return split.status();
  std::string relative =
      split->first == target_path
          ? PoolOf(split->first)
          : split->first.substr(std::min(split->first.size(), target_path.size() + 1));
  std::replace(relative.begin(), relative.end(), '/', '_');
  BrowseResult result;
  result.clone =
      BrowseFolder(PoolOf(split->first), backup_name) + "/" + relative + "_" + split->second;
  Result<bool> exists = backup.Exists(result.clone);
  if (!exists.ok()) return exists.status();
  result.existed = *exists;
  if (!*exists) {
    Result<CommandOutput> cloned = RunChecked(
        backup.runner(), {{"zfs", "clone", "-p", "-o", "readonly=on", snapshot, result.clone},
                          Effect::kMutates,
                          ""});
    if (!cloned.ok()) return cloned.status();
  }
  Result<std::vector<DatasetInfo>> info =
      backup.ListDatasets({result.clone}, false, {"mountpoint"});
  if (!info.ok()) return info.status();
  if (!info->empty()) {
    std::string mountpoint = info->front().properties["mountpoint"];
    if (!mountpoint.empty() && mountpoint.front() == '/') result.mountpoint = mountpoint;
  }
  return result;
}

Result<std::vector<std::string>> CleanupBrowseClones(Zfs& backup, const std::string& backup_name,
                                                     const std::string& target_path) {
  const std::string folder = BrowseFolder(PoolOf(target_path), backup_name);
  Result<std::vector<DatasetInfo>> datasets = BrowseClones(backup, folder);
  if (!datasets.ok()) return datasets.status();
  std::vector<std::string> removed;
  for (const DatasetInfo& d : *datasets) {
    if (!d.is_clone() || ParentDataset(d.name) != folder) continue;
    // A clone just unmounted can be "busy" for a moment (zfs-fuse): a few tries, a second apart.
    Result<CommandOutput> destroyed = CommandOutput{};
    for (int attempt = 0; attempt < kDestroyAttempts; ++attempt) {
      if (attempt > 0) std::this_thread::sleep_for(std::chrono::seconds(1));
      destroyed = RunChecked(backup.runner(), {{"zfs", "destroy", d.name}, Effect::kMutates, ""});
      if (destroyed.ok() || destroyed.status().message().find("busy") == std::string::npos) break;
    }
    if (!destroyed.ok()) return destroyed.status();
    removed.push_back(d.name);
  }
  return removed;
}

}  // namespace zsend::orchestrator
