#include "orchestrator/zfs/zfs.h"

#include <algorithm>

namespace zsend::orchestrator {
namespace {

constexpr size_t kDestroyBatch = 100;  // snapshots per `zfs destroy ds@a,b,...` call

std::string Join(const std::vector<std::string>& words, const char* separator) {
  std::string joined;
  for (const std::string& word : words) {
    if (!joined.empty()) joined += separator;
    joined += word;
  }
  return joined;
}

bool IsSnapshotOrBookmark(const std::string& name) {
  return name.find('@') != std::string::npos || name.find('#') != std::string::npos;
}

}  // namespace

Status Zfs::Probe() {
  std::lock_guard<std::mutex> lock(probe_mutex_);
  if (probed_) return Status::Ok();
  // `zfs -?` prints the usage on stdout and exits 0 (OpenZFS and zfs-fuse); some versions
  // print it on stderr with exit 2, so both streams are read and the exit code is ignored.
  Result<CommandOutput> output = runner_.Run({{"zfs", "-?"}, Effect::kReadOnly, ""});
  if (!output.ok()) return output.status().WithContext("probing zfs on " + runner_.HostLabel());
  Result<ZfsDialect> dialect = DialectFromUsage(output->out + output->err);
  if (!dialect.ok()) return dialect.status().WithContext(runner_.HostLabel());
  dialect_ = *dialect;
  probed_ = true;
  return Status::Ok();
}

void Zfs::SetDialect(const ZfsDialect& dialect) {
  std::lock_guard<std::mutex> lock(probe_mutex_);
  dialect_ = dialect;
  probed_ = true;
}

uint64_t Zfs::EstimateSendSize(SendSpec send) {
  if (!dialect().send_parsable) return 0;
  send.parsable_progress = true;
  Result<std::vector<std::string>> argv = BuildSendArgv(dialect(), send);
  if (!argv.ok()) return 0;
  argv->insert(argv->begin() + 2, "-n");  // zfs send -n ...
  Result<CommandOutput> out = Query(*argv);
  return out.ok() ? ParseSendEstimate(out->out) : 0;
}

Result<CommandOutput> Zfs::Query(std::vector<std::string> argv) {
  Command command{std::move(argv), Effect::kReadOnly, ""};
  Result<CommandOutput> output = runner_.Run(command);
  if (!output.ok()) return output.status();
  if (!output->ok()) {
    Status failed = CommandFailed(runner_, command, *output);
    if (output->err.find("does not exist") != std::string::npos) {
      return Status(StatusCode::kNotFound, failed.message());
    }
    return failed;
  }
  return output;
}

Status Zfs::Change(std::vector<std::string> argv) {
  Result<CommandOutput> output = RunChecked(runner_, {std::move(argv), Effect::kMutates, ""});
  return output.status();
}

Result<std::vector<DatasetInfo>> Zfs::ListDatasets(const std::vector<std::string>& roots,
                                                   bool recursive,
                                                   const std::vector<std::string>& properties) {
  std::vector<std::string> argv = {"zfs", "list", "-H"};
  if (dialect_.list_parsable) argv.push_back("-p");
  std::vector<std::string> columns = {"name", "type", "origin"};
  columns.insert(columns.end(), properties.begin(), properties.end());
  argv.insert(argv.end(), {"-t", "filesystem,volume", "-o", Join(columns, ",")});
  if (recursive) argv.push_back("-r");
  argv.insert(argv.end(), roots.begin(), roots.end());
  Result<CommandOutput> output = Query(std::move(argv));
  if (!output.ok()) return output.status();
  std::vector<DatasetInfo> datasets;
  for (const std::vector<std::string>& row : ParseTabRows(output->out)) {
    if (row.size() != columns.size()) {
      return Internal("zfs list printed a row with " + std::to_string(row.size()) +
                      " fields, expected " + std::to_string(columns.size()));
    }
    DatasetInfo info;
    info.name = row[0];
    info.type = ParseDatasetType(row[1]).value_or(DatasetType::kFilesystem);
    if (row[2] != "-" && !row[2].empty()) info.origin = row[2];
    for (size_t i = 0; i < properties.size(); ++i) info.properties[properties[i]] = row[3 + i];
    datasets.push_back(std::move(info));
  }
  return datasets;
}

Result<bool> Zfs::Exists(const std::string& dataset) {
  Result<CommandOutput> output = Query({"zfs", "list", "-H", "-o", "name", dataset});
  if (output.ok()) return true;
  if (output.status().code() == StatusCode::kNotFound) return false;
  return output.status();
}

Result<std::vector<PropertyValue>> Zfs::GetProperty(const std::string& property,
                                                    const std::vector<std::string>& roots,
                                                    bool recursive) {
  std::vector<std::string> argv = {"zfs", "get", "-H", "-p", "-o", "name,value,source"};
  if (recursive) argv.push_back("-r");
  if (dialect_.get_types) argv.insert(argv.end(), {"-t", "filesystem,volume"});
  argv.push_back(property);
  argv.insert(argv.end(), roots.begin(), roots.end());
  Result<CommandOutput> output = Query(std::move(argv));
  if (!output.ok()) return output.status();
  std::vector<PropertyValue> values;
  for (const std::vector<std::string>& row : ParseTabRows(output->out)) {
    if (row.size() != 3) return Internal("zfs get printed a row without 3 fields");
    if (IsSnapshotOrBookmark(row[0])) continue;  // the older zfs get has no -t
    PropertyValue value;
    value.dataset = row[0];
    value.value = row[1];
    value.source = ParsePropertySource(row[2], &value.inherited_from);
    values.push_back(std::move(value));
  }
  return values;
}

Result<std::vector<SnapshotInfo>> Zfs::ListSnapshots(const std::string& dataset) {
  std::vector<SnapshotInfo> snapshots;
  if (dialect_.list_parsable) {
    Result<CommandOutput> output =
        Query({"zfs", "list", "-H", "-p", "-t", "snapshot", "-d", "1", "-o",
               "name,guid,createtxg,userrefs", "-s", "createtxg", dataset});
    if (!output.ok()) return output.status();
    for (const std::vector<std::string>& row : ParseTabRows(output->out)) {
      if (row.size() != 4) return Internal("zfs list printed a snapshot row without 4 fields");
      Result<std::pair<std::string, std::string>> name = SplitSnapshotName(row[0]);
      if (!name.ok() || name->first != dataset) continue;
      snapshots.push_back({name->first, name->second, ParseZfsNumber(row[1]).value_or(0),
                           ParseZfsNumber(row[2]).value_or(0), ParseZfsNumber(row[3]).value_or(0)});
    }
  } else {
    // The older `zfs list` prints guids the human way ("3.07E"); `zfs get -p` is exact.
    Result<CommandOutput> output =
        Query({"zfs", "get", "-H", "-p", "-d", "1", "-o", "name,property,value",
               "guid,createtxg,userrefs", dataset});
    if (!output.ok()) return output.status();
    for (const std::vector<std::string>& row : ParseTabRows(output->out)) {
      if (row.size() != 3) return Internal("zfs get printed a row without 3 fields");
      Result<std::pair<std::string, std::string>> name = SplitSnapshotName(row[0]);
      if (!name.ok() || name->first != dataset) continue;
      auto it = std::find_if(snapshots.begin(), snapshots.end(),
                             [&](const SnapshotInfo& s) { return s.name == name->second; });
      if (it == snapshots.end()) {
        snapshots.push_back({name->first, name->second, 0, 0, 0});
        it = snapshots.end() - 1;
      }
      uint64_t number = ParseZfsNumber(row[2]).value_or(0);
      if (row[1] == "guid") it->guid = number;
      if (row[1] == "createtxg") it->createtxg = number;
      if (row[1] == "userrefs") it->userrefs = number;
    }
  }
  std::stable_sort(
      snapshots.begin(), snapshots.end(),
      [](const SnapshotInfo& a, const SnapshotInfo& b) { return a.createtxg < b.createtxg; });
  return snapshots;
}

Status Zfs::RunSnapshotCommands(const std::vector<std::vector<std::string>>& commands) {
  for (const std::vector<std::string>& argv : commands) ZSEND_RETURN_IF_ERROR(Change(argv));
  return Status::Ok();
}

Status Zfs::Hold(const std::string& tag, const std::vector<std::string>& snapshots) {
  if (snapshots.empty()) return Status::Ok();
  std::vector<std::string> argv = {"zfs", "hold", tag};
  argv.insert(argv.end(), snapshots.begin(), snapshots.end());
  return Change(std::move(argv));
}

Status Zfs::Release(const std::string& tag, const std::vector<std::string>& snapshots) {
  if (snapshots.empty()) return Status::Ok();
  std::vector<std::string> argv = {"zfs", "release", tag};
  argv.insert(argv.end(), snapshots.begin(), snapshots.end());
  return Change(std::move(argv));
}

Result<std::vector<HoldInfo>> Zfs::Holds(const std::vector<std::string>& snapshots) {
  if (!dialect_.holds_list) {
    return FailedPrecondition("this zfs (" + dialect_.family + ") on " + runner_.HostLabel() +
                              " cannot list holds (zfs holds -H); use userrefs");
  }
  std::vector<HoldInfo> holds;
  if (snapshots.empty()) return holds;
  std::vector<std::string> argv = {"zfs", "holds", "-H"};
  argv.insert(argv.end(), snapshots.begin(), snapshots.end());
  Result<CommandOutput> output = Query(std::move(argv));
  if (!output.ok()) return output.status();
  for (const std::vector<std::string>& row : ParseTabRows(output->out)) {
    if (row.size() >= 2) holds.push_back({row[0], row[1]});
  }
  return holds;
}

Status Zfs::DestroySnapshots(const std::string& dataset, const std::vector<std::string>& names) {
  if (!dialect_.destroy_batched) {
    for (const std::string& name : names) {
      ZSEND_RETURN_IF_ERROR(Change({"zfs", "destroy", dataset + "@" + name}));
    }
    return Status::Ok();
  }
  for (size_t start = 0; start < names.size(); start += kDestroyBatch) {
    size_t end = std::min(names.size(), start + kDestroyBatch);
    std::vector<std::string> batch(names.begin() + start, names.begin() + end);
    ZSEND_RETURN_IF_ERROR(Change({"zfs", "destroy", dataset + "@" + Join(batch, ",")}));
  }
  return Status::Ok();
}

Status Zfs::Bookmark(const std::string& dataset, const std::string& snapshot,
                     const std::string& bookmark) {
  if (!dialect_.bookmarks) {
    return FailedPrecondition("this zfs (" + dialect_.family + ") has no bookmarks");
  }
  return Change({"zfs", "bookmark", dataset + "@" + snapshot, dataset + "#" + bookmark});
}

Status Zfs::DestroyBookmarks(const std::string& dataset, const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    ZSEND_RETURN_IF_ERROR(Change({"zfs", "destroy", dataset + "#" + name}));
  }
  return Status::Ok();
}

Status Zfs::CreateWithParents(const std::string& dataset) {
  // Another transfer of this run (--jobs: siblings under a new parent) may be creating the
  // same path at the same moment, and zfs tells the loser "dataset already exists", also for
  // an intermediate dataset while the one asked for is not there yet: then once more.
  Status created;
  for (int attempt = 0; attempt < 3; ++attempt) {
    created = Change({"zfs", "create", "-p", dataset});
    if (created.ok()) return created;
    Result<bool> exists = Exists(dataset);
    if (exists.ok() && *exists) return Status::Ok();
    if (created.message().find("already exists") == std::string::npos) return created;
  }
  return created;
}

Status Zfs::SetProperties(const std::string& dataset,
                          const std::vector<std::pair<std::string, std::string>>& properties) {
  for (const auto& [property, value] : properties) {
    ZSEND_RETURN_IF_ERROR(Change({"zfs", "set", property + "=" + value, dataset}));
  }
  return Status::Ok();
}

Status Zfs::InheritProperty(const std::string& dataset, const std::string& property,
                            bool recursive) {
  if (recursive) return Change({"zfs", "inherit", "-r", property, dataset});
  return Change({"zfs", "inherit", property, dataset});
}

Result<std::string> Zfs::ResumeToken(const std::string& dataset) {
  if (!dialect_.recv_resumable) return std::string();
  Result<CommandOutput> output =
      Query({"zfs", "get", "-H", "-o", "value", "receive_resume_token", dataset});
  if (!output.ok()) return output.status();
  std::vector<std::vector<std::string>> rows = ParseTabRows(output->out);
  if (rows.empty() || rows[0].empty() || rows[0][0] == "-") return std::string();
  return rows[0][0];
}

Status Zfs::AbortResume(const std::string& dataset) {
  return Change({"zfs", "receive", "-A", dataset});
}

}  // namespace zsend::orchestrator
