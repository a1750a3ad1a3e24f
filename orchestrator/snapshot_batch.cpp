#include "orchestrator/snapshot_batch.h"

#include <set>

#include "orchestrator/zfs_types.h"

namespace zsend::orchestrator {

std::string BackupSnapshotName(const std::string& group, const std::string& name, std::time_t now) {
  if (!name.empty()) return group + "-" + name;
  std::tm utc{};
  gmtime_r(&now, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d%H%M%S", &utc);
  return group + "-" + stamp;
}

bool IsValidSnapshotNamePart(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == ':';
    if (!ok) return false;
  }
  return true;
}

bool IsGroupSnapshot(const std::string& group, const std::string& name) {
  if (name.size() <= group.size() + 1 || name.compare(0, group.size(), group) != 0 ||
      name[group.size()] != '-') {
    return false;
  }
  return IsValidSnapshotNamePart(name.substr(group.size() + 1));
}

std::set<std::string> GroupsExtendingPrefix(const std::string& group,
                                            const std::vector<std::string>& names) {
  std::set<std::string> groups;
  const std::string prefix = group + "-";
  for (const std::string& name : names) {
    if (name.rfind(prefix, 0) != 0 || IsGroupSnapshot(group, name)) continue;
    size_t dash = name.rfind('-');
    if (dash == std::string::npos || dash <= prefix.size()) continue;
    std::string stamp = name.substr(dash + 1);
    bool digits = stamp.size() == 14 && stamp.find_first_not_of("0123456789") == std::string::npos;
    if (digits) groups.insert(name.substr(0, dash));
  }
  return groups;
}

SnapshotBatch PlanSnapshots(const ZfsDialect& dialect, const std::vector<std::string>& selected,
                            const std::vector<std::string>& all_datasets,
                            const std::string& snapshot_name) {
  SnapshotBatch batch;
  if (selected.empty()) return batch;
  if (dialect.snapshot_multiple) {
    std::vector<std::string> argv = {"zfs", "snapshot"};
    for (const std::string& dataset : selected) argv.push_back(dataset + "@" + snapshot_name);
    batch.commands.push_back(std::move(argv));
    return batch;
  }
  std::set<std::string> chosen(selected.begin(), selected.end());
  std::set<std::string> everything(all_datasets.begin(), all_datasets.end());
  everything.insert(chosen.begin(), chosen.end());
  // A dataset is covered when it and every dataset below it are selected.
  std::set<std::string> covered;
  for (const std::string& dataset : chosen) {
    bool all_below_selected = true;
    for (auto it = everything.upper_bound(dataset); it != everything.end(); ++it) {
      if (!IsDescendant(*it, dataset)) {
        if (it->rfind(dataset, 0) != 0) break;  // past the names that start with `dataset`
        continue;                               // "pool/ab" after "pool/a": not below it
      }
      if (!chosen.count(*it)) {
        all_below_selected = false;
        break;
      }
    }
    if (all_below_selected) covered.insert(dataset);
  }
  for (const std::string& dataset : chosen) {
    // Subtree roots: covered datasets whose parent is not covered, and selected datasets that
    // cannot be covered (they get a snapshot of their own).
    std::string parent = ParentDataset(dataset);
    bool parent_covered = !parent.empty() && covered.count(parent);
    if (parent_covered) continue;
    bool has_children = false;
    for (auto it = everything.upper_bound(dataset); it != everything.end(); ++it) {
      if (IsDescendant(*it, dataset)) {
        has_children = true;
        break;
      }
      if (it->rfind(dataset, 0) != 0) break;
    }
    std::vector<std::string> argv = {"zfs", "snapshot"};
    if (covered.count(dataset) && has_children) argv.push_back("-r");
    argv.push_back(dataset + "@" + snapshot_name);
    batch.commands.push_back(std::move(argv));
  }
  batch.atomic = batch.commands.size() == 1;
  return batch;
}

}  // namespace zsend::orchestrator
