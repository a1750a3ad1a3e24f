#include "orchestrator/restore/revision_list.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "base/units.h"
#include "orchestrator/plan/selection.h"
#include "orchestrator/report/status_table.h"
#include "orchestrator/zfs/snapshot_batch.h"

namespace zsend::orchestrator {
namespace {

std::string SideMark(const RevisionSide& side, const std::string& error) {
  if (!error.empty()) return "?";
  return side.present ? "yes" : "-";
}

nlohmann::json SideJson(const RevisionSide& side) {
  if (!side.present) return nullptr;
  return {{"guid", std::to_string(side.guid)},
          {"created", side.created},
          {"used", side.used},
          {"referenced", side.referenced},
          {"held", side.held}};
}

}  // namespace

Result<std::vector<std::pair<SnapshotInfo, RevisionSide>>> ReadRevisionSides(
    Zfs& zfs, const std::string& dataset) {
  Result<std::vector<SnapshotInfo>> snapshots = zfs.ListSnapshots(dataset);
  if (!snapshots.ok()) return snapshots.status();
  std::vector<std::pair<SnapshotInfo, RevisionSide>> out;
  if (snapshots->empty()) return out;
  Result<CommandOutput> sizes =
      RunChecked(zfs.runner(), {{"zfs", "get", "-H", "-p", "-d", "1", "-o", "name,property,value",
                                 std::string("creation,used,referenced,") + kTagsProperty, dataset},
                                Effect::kReadOnly,
                                ""});
  if (!sizes.ok()) return sizes.status();
  std::map<std::string, RevisionSide> by_name;
  for (const std::vector<std::string>& row : ParseTabRows(sizes->out)) {
    if (row.size() != 3) continue;
    Result<std::pair<std::string, std::string>> name = SplitSnapshotName(row[0]);
    if (!name.ok() || name->first != dataset) continue;
    RevisionSide& side = by_name[name->second];
    uint64_t number = ParseZfsNumber(row[2]).value_or(0);
    if (row[1] == "creation") side.created = static_cast<int64_t>(number);
    if (row[1] == "used") side.used = number;
    if (row[1] == "referenced") side.referenced = number;
    if (row[1] == kTagsProperty && row[2] != "-") side.tags = row[2];
  }
  for (const SnapshotInfo& s : *snapshots) {
    RevisionSide side = by_name[s.name];
    side.present = true;
    side.guid = s.guid;
    side.held = s.userrefs > 0;
    out.emplace_back(s, side);
  }
  return out;
}

DatasetRevisions ListRevisions(Zfs& source, Zfs* target, const std::string& target_unreachable,
                               const std::string& source_dataset, const std::string& target_dataset,
                               const std::string& group,
                               const std::vector<TransferRecord>& transfers) {
  DatasetRevisions result;
  result.source = source_dataset;
  result.target = target_dataset;
  std::vector<Revision> rows;
  auto row_for = [&rows](const std::string& name) -> Revision& {
    for (Revision& r : rows) {
      if (r.name == name) return r;
    }
    rows.push_back({});
    rows.back().name = name;
    return rows.back();
  };
  auto read = [&](Zfs& zfs, const std::string& dataset, bool is_source, std::string* error) {
    auto sides = ReadRevisionSides(zfs, dataset);
    if (!sides.ok()) {
      // A dataset not (yet) on the target is an empty side, not an error.
      if (sides.status().code() != StatusCode::kNotFound || is_source) {
        *error = sides.status().message();
      }
      return;
    }
    for (const auto& [info, side] : *sides) {
      if (!IsGroupSnapshot(group, info.name)) continue;
      Revision& r = row_for(info.name);
      (is_source ? r.source : r.target) = side;
    }
  };
  read(source, source_dataset, true, &result.source_error);
  if (target) {
    read(*target, target_dataset, false, &result.target_error);
  } else {
    result.target_error = target_unreachable.empty() ? "not reachable" : target_unreachable;
  }
  for (Revision& r : rows) {
    r.mismatch = r.source.present && r.target.present && r.source.guid != r.target.guid;
    for (const TransferRecord& t : transfers) {
      if (t.source_dataset != source_dataset || t.result != "ok" || t.kind == "restore") continue;
      if (t.to_snapshot != r.name && t.to_snapshot != source_dataset + "@" + r.name) continue;
      r.transferred = true;
      r.transfer_bytes = t.stream_bytes;
      r.transfer_seconds = t.seconds;
    }
  }
  // Group names sort by time (GROUP-yyyymmddhhmmss); creation breaks no ties of its own.
  std::stable_sort(rows.begin(), rows.end(), [](const Revision& a, const Revision& b) {
    int64_t ta = a.source.present ? a.source.created : a.target.created;
    int64_t tb = b.source.present ? b.source.created : b.target.created;
    return ta != tb ? ta < tb : a.name < b.name;
  });
  result.revisions = std::move(rows);
  return result;
}

Result<std::vector<DatasetRevisions>> ListBackupRevisions(
    Zfs& source, Zfs* target, const std::string& target_unreachable,
    const std::vector<std::string>& selected, const ListRequest& request,
    const std::vector<TransferRecord>& transfers) {
  std::vector<DatasetRevisions> out;
  std::string names;
  for (const std::string& dataset : selected) {
    Result<std::string> target_name = TargetName(dataset, request.target_path, request.strip_path);
    if (!target_name.ok()) return target_name.status();
    names += (names.empty() ? "" : ", ") + dataset;
    if (!request.dataset.empty() && request.dataset != dataset && request.dataset != *target_name) {
      continue;
    }
    out.push_back(ListRevisions(source, target, target_unreachable, dataset, *target_name,
                                request.group, transfers));
  }
  if (!request.dataset.empty() && out.empty()) {
    return Status(StatusCode::kNotFound,
                  request.dataset + " is not a dataset of this backup (" +
                      (names.empty() ? std::string("none selected") : names) +
                      "); name one of them, by its source or target name");
  }
  return out;
}

std::string FormatRevisionTable(const std::vector<DatasetRevisions>& datasets) {
  std::string out;
  for (const DatasetRevisions& d : datasets) {
    out += d.source + " -> " + d.target + "\n";
    if (!d.source_error.empty()) out += "  source: " + d.source_error + "\n";
    if (!d.target_error.empty()) out += "  target: " + d.target_error + "\n";
    if (d.revisions.empty()) {
      out += "  no revisions\n";
      continue;
    }
    std::vector<std::vector<std::string>> rows = {
        {"  REVISION", "CREATED", "TAGS", "USED", "REFER", "SOURCE", "TARGET", "HELD", "TRANSFER"}};
    for (const Revision& r : d.revisions) {
      const RevisionSide& side = r.source.present ? r.source : r.target;
      std::string held = r.source.held && r.target.held ? "both"
                         : r.source.held                ? "source"
                         : r.target.held                ? "target"
                                                        : "-";
      std::string target = SideMark(r.target, d.target_error);
      if (r.mismatch) target = "DIFFERENT";
      rows.push_back({"  " + r.name, FormatUtc(static_cast<double>(side.created)), r.Tags(),
                      FormatBytes(static_cast<double>(side.used)),
                      FormatBytes(static_cast<double>(side.referenced)),
                      SideMark(r.source, d.source_error), target, held,
                      r.transferred ? FormatBytes(static_cast<double>(r.transfer_bytes)) + " in " +
                                          FormatDuration(r.transfer_seconds)
                                    : "-"});
    }
    out += AlignColumns(rows);
  }
  return out;
}

std::string FormatRevisionJson(const std::vector<DatasetRevisions>& datasets) {
  nlohmann::json list = nlohmann::json::array();
  for (const DatasetRevisions& d : datasets) {
    nlohmann::json revisions = nlohmann::json::array();
    for (const Revision& r : d.revisions) {
      nlohmann::json transfer = nullptr;
      if (r.transferred) {
        transfer = {{"stream_bytes", r.transfer_bytes}, {"seconds", r.transfer_seconds}};
      }
      revisions.push_back({{"name", r.name},
                           {"tags", r.Tags() == "-" ? "" : r.Tags()},
                           {"source", SideJson(r.source)},
                           {"target", SideJson(r.target)},
                           {"on_both", r.source.present && r.target.present && !r.mismatch},
                           {"mismatch", r.mismatch},
                           {"transfer", transfer}});
    }
    list.push_back({{"source", d.source},
                    {"target", d.target},
                    {"source_error", d.source_error},
                    {"target_error", d.target_error},
                    {"revisions", revisions}});
  }
  return nlohmann::json{{"datasets", list}}.dump(2) + "\n";
}

}  // namespace zsend::orchestrator
