#include "orchestrator/restore/revision_spec.h"

#include <algorithm>
#include <cctype>

#include "orchestrator/zfs/snapshot_batch.h"

namespace zsend::orchestrator {
namespace {

constexpr size_t kMaxCountDigits = 6;

bool AllDigits(const std::string& text) {
  return !text.empty() && std::all_of(text.begin(), text.end(),
                                      [](unsigned char c) { return std::isdigit(c) != 0; });
}

}  // namespace

Result<size_t> ResolveRevision(const std::string& spec, const std::vector<SnapshotInfo>& snapshots,
                               const std::string& dataset,
                               const std::map<std::string, std::vector<std::string>>& tags) {
  if (spec.empty()) {
    return InvalidArgument(
        "-r: empty revision; give a snapshot name, a prefix, a count (0 is "
        "the newest), 'latest', a group or a tag");
  }
  if (snapshots.empty()) {
    return Status(StatusCode::kNotFound, dataset + " has no snapshot to restore from");
  }
  std::string name = spec;
  if (size_t at = spec.find('@'); at != std::string::npos) {
    if (at != 0 && spec.substr(0, at) != dataset) {
      return InvalidArgument("-r " + spec + ": that snapshot is not of " + dataset +
                             "; give the part after '@'");
    }
    name = spec.substr(at + 1);
  }
  for (size_t i = 0; i < snapshots.size(); ++i) {
    if (snapshots[i].name == name) return i;
  }
  if (name == "latest") return snapshots.size() - 1;
  if (AllDigits(name) && name.size() <= kMaxCountDigits) {
    size_t back = std::stoul(name);
    if (back >= snapshots.size()) {
      return Status(StatusCode::kInvalidArgument,
                    "-r " + spec + ": " + dataset + " has only " +
                        std::to_string(snapshots.size()) + " snapshot(s); counts go from 0 (the " +
                        "newest) to " + std::to_string(snapshots.size() - 1));
    }
    return snapshots.size() - 1 - back;
  }
  for (size_t i = snapshots.size(); i-- > 0;) {
    if (IsGroupSnapshot(name, snapshots[i].name)) return i;
  }
  for (size_t i = snapshots.size(); i-- > 0;) {
    auto it = tags.find(snapshots[i].name);
    if (it != tags.end() &&
        std::find(it->second.begin(), it->second.end(), name) != it->second.end())
      return i;
  }
  std::vector<size_t> matches;
  for (size_t i = 0; i < snapshots.size(); ++i) {
    if (snapshots[i].name.compare(0, name.size(), name) == 0) matches.push_back(i);
  }
  if (matches.size() == 1) return matches.front();
  if (matches.size() > 1) {
    std::string list;
    for (size_t i : matches) list += (list.empty() ? "" : ", ") + snapshots[i].name;
    return InvalidArgument("-r " + spec + " is ambiguous on " + dataset + " (" + list +
                           "); give more of the name");
  }
  return Status(StatusCode::kNotFound, "-r " + spec + ": no such snapshot on " + dataset +
                                           "; see 'zsend list' for its revisions");
}

}  // namespace zsend::orchestrator
