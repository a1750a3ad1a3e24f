#include "orchestrator/zfs/host_state.h"

#include <algorithm>
#include <set>

namespace zsend::orchestrator {
namespace {

// True when `name` is a root or (recursive) below one: a walk up its parents, not a scan.
bool Covered(const std::string& name, const std::set<std::string>& roots, bool recursive) {
  if (roots.count(name)) return true;
  if (!recursive) return false;
  for (std::string up = ParentDataset(name); !up.empty(); up = ParentDataset(up)) {
    if (roots.count(up)) return true;
  }
  return false;
}

// The record of `dataset` in `datasets`, made on first use.
DatasetRecord& RecordOf(std::map<std::string, DatasetRecord>& datasets,
                        const std::string& dataset) {
  DatasetRecord& record = datasets[dataset];
  record.name = dataset;
  return record;
}

// Snapshots and bookmarks per dataset, as read (sorted by createtxg afterwards).
struct PointLists {
  std::map<std::string, std::vector<SnapshotInfo>> snapshots;
  std::map<std::string, std::vector<SnapshotInfo>> bookmarks;
};

// OpenZFS: one row per dataset, snapshot or bookmark, exact numbers (-p).
Status ParseList(const std::string& text, const std::set<std::string>& roots, bool recursive,
                 std::map<std::string, DatasetRecord>& datasets, PointLists& points) {
  for (const std::vector<std::string>& row : ParseTabRows(text)) {
    if (row.size() != 8) return Internal("zfs list printed a row without 8 fields");
    const std::string& name = row[0];
    size_t at = name.find_first_of("@#");
    std::string dataset = name.substr(0, at);
    if (!Covered(dataset, roots, recursive)) continue;
    if (at != std::string::npos && name[at] == '#') {
      points.bookmarks[dataset].push_back({dataset, name.substr(at + 1),
                                           ParseZfsNumber(row[3]).value_or(0),
                                           ParseZfsNumber(row[4]).value_or(0), 0});
      continue;
    }
    if (at == std::string::npos) {
      DatasetRecord& record = RecordOf(datasets, dataset);
      record.type = ParseDatasetType(row[1]).value_or(DatasetType::kFilesystem);
      if (row[2] != "-" && !row[2].empty()) record.origin = row[2];
      if (row[6] != "-") record.resume_token = row[6];
      record.written = row[7];
      continue;
    }
    points.snapshots[dataset].push_back(
        {dataset, name.substr(at + 1), ParseZfsNumber(row[3]).value_or(0),
         ParseZfsNumber(row[4]).value_or(0), ParseZfsNumber(row[5]).value_or(0)});
  }
  return Status::Ok();
}

// The older zfs: one row per dataset or snapshot and property (name, property, value).
Status ParseGet(const std::string& text, const std::set<std::string>& roots, bool recursive,
                std::map<std::string, DatasetRecord>& datasets, PointLists& points) {
  std::map<std::string, SnapshotInfo> by_name;
  std::vector<std::string> order;
  for (const std::vector<std::string>& row : ParseTabRows(text)) {
    if (row.size() != 3) return Internal("zfs get printed a row without 3 fields");
    const std::string& name = row[0];
    size_t at = name.find('@');
    std::string dataset = name.substr(0, at);
    if (!Covered(dataset, roots, recursive)) continue;
    if (at == std::string::npos) {
      DatasetRecord& record = RecordOf(datasets, dataset);
      if (row[1] == "type") {
        record.type = ParseDatasetType(row[2]).value_or(DatasetType::kFilesystem);
      }
      if (row[1] == "origin" && row[2] != "-" && !row[2].empty()) record.origin = row[2];
      continue;
    }
    auto [it, added] = by_name.try_emplace(name, SnapshotInfo{dataset, name.substr(at + 1)});
    if (added) order.push_back(name);
    uint64_t number = ParseZfsNumber(row[2]).value_or(0);
    if (row[1] == "guid") it->second.guid = number;
    if (row[1] == "createtxg") it->second.createtxg = number;
    if (row[1] == "userrefs") it->second.userrefs = number;
  }
  for (const std::string& name : order) {
    points.snapshots[by_name[name].dataset].push_back(by_name[name]);
  }
  return Status::Ok();
}

}  // namespace

const DatasetRecord* HostState::Find(const std::string& dataset) const {
  auto it = datasets_.find(dataset);
  return it == datasets_.end() ? nullptr : &it->second;
}

DatasetRecord* HostState::Find(const std::string& dataset) {
  auto it = datasets_.find(dataset);
  return it == datasets_.end() ? nullptr : &it->second;
}

void HostState::Merge(HostState other) {
  for (auto& [name, record] : other.datasets_) datasets_[name] = std::move(record);
}

void HostState::AddSnapshot(const SnapshotInfo& snapshot) {
  DatasetRecord* record = Find(snapshot.dataset);
  if (record == nullptr) return;
  for (const SnapshotInfo& s : record->snapshots) {
    if (s.name == snapshot.name) return;
  }
  record->snapshots.push_back(snapshot);
}

std::vector<std::string> CoveringRoots(const std::vector<std::string>& roots) {
  std::set<std::string> all(roots.begin(), roots.end()), kept;
  std::vector<std::string> covering;
  for (const std::string& root : roots) {
    if (Covered(ParentDataset(root), all, true) || !kept.insert(root).second) continue;
    covering.push_back(root);
  }
  return covering;
}

Result<HostState> ReadHostState(Zfs& zfs, const std::vector<std::string>& roots, bool recursive) {
  HostState state;
  std::vector<std::string> covering = recursive ? CoveringRoots(roots) : roots;
  if (covering.empty()) return state;
  const bool modern = zfs.dialect().list_parsable;
  std::vector<std::string> argv;
  if (modern) {
    argv = {"zfs", "list", "-H", "-p", "-t", "all"};
  } else {
    argv = {"zfs", "get", "-H", "-p"};
  }
  if (recursive) {
    argv.push_back("-r");
  } else {
    argv.insert(argv.end(), {"-d", "1"});
  }
  if (modern) {
    // receive_resume_token and written exist wherever list -p does (OpenZFS).
    argv.insert(argv.end(),
                {"-o", "name,type,origin,guid,createtxg,userrefs,receive_resume_token,written"});
  } else {
    argv.insert(argv.end(), {"-o", "name,property,value", "type,origin,guid,createtxg,userrefs"});
  }
  argv.insert(argv.end(), covering.begin(), covering.end());
  Command command{argv, Effect::kReadOnly, ""};
  Result<CommandOutput> output = zfs.runner().Run(command);
  if (!output.ok()) return output.status();
  if (!output->ok()) {
    Status failed = CommandFailed(zfs.runner(), command, *output);
    if (output->err.find("does not exist") != std::string::npos) {
      return Status(StatusCode::kNotFound, failed.message());
    }
    return failed;
  }
  PointLists points;
  std::set<std::string> root_set(covering.begin(), covering.end());
  Status parsed = modern ? ParseList(output->out, root_set, recursive, state.datasets(), points)
                         : ParseGet(output->out, root_set, recursive, state.datasets(), points);
  if (!parsed.ok()) return parsed;
  auto by_txg = [](const SnapshotInfo& a, const SnapshotInfo& b) {
    return a.createtxg < b.createtxg;
  };
  for (auto& [dataset, list] : points.snapshots) {
    DatasetRecord* record = state.Find(dataset);
    if (record == nullptr) continue;
    std::stable_sort(list.begin(), list.end(), by_txg);
    record->snapshots = std::move(list);
  }
  for (auto& [dataset, list] : points.bookmarks) {
    DatasetRecord* record = state.Find(dataset);
    if (record == nullptr) continue;
    std::stable_sort(list.begin(), list.end(), by_txg);
    record->bookmarks = std::move(list);
  }
  return state;
}

}  // namespace zsend::orchestrator
