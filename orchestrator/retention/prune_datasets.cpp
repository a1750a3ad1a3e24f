#include "orchestrator/retention/prune_datasets.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "orchestrator/zfs/host_state.h"
#include "orchestrator/zfs/snapshot_batch.h"

namespace zsend::orchestrator {
namespace {

// RetentionSnapshots with times: from the name where it carries one, else `creation`.
// Only the group's snapshots need a time; the others are kept whatever their age.
Result<std::vector<RetentionSnapshot>> WithTimes(Zfs& zfs, const std::string& dataset,
                                                 const std::string& group,
                                                 const std::vector<SnapshotInfo>& snapshots,
                                                 const RotationFacts* facts) {
  std::vector<RetentionSnapshot> out;
  std::optional<std::map<std::string, int64_t>> creation;
  if (facts != nullptr) creation = facts->creation;
  for (const SnapshotInfo& s : snapshots) {
    RetentionSnapshot r{s.name, 0, s.userrefs, {}};
    if (!IsGroupSnapshot(group, s.name)) {
      r.time = 0;
    } else if (std::optional<int64_t> t = TimeFromSnapshotName(s.name)) {
      r.time = *t;
    } else {
      if (!creation) {
        Result<std::map<std::string, int64_t>> times = SnapshotCreationTimes(zfs, dataset);
        if (!times.ok()) return times.status();
        creation = std::move(*times);
      }
      auto it = creation->find(s.name);
      r.time = it == creation->end() ? 0 : it->second;
    }
    out.push_back(std::move(r));
  }
  return out;
}

// `tags`: the side's tagged snapshots (read only when the spec counts tags).
void Decide(Zfs& zfs, SidePrune& side, const RetentionSpec& spec, RetentionInput input,
            const std::vector<SnapshotInfo>& snapshots,
            const std::map<std::string, std::vector<std::string>>& tags,
            const RotationFacts* facts) {
  Result<std::vector<RetentionSnapshot>> timed =
      WithTimes(zfs, side.dataset, input.group, snapshots, facts);
  if (!timed.ok()) {
    side.error = timed.status();
    return;
  }
  for (RetentionSnapshot& s : *timed) {
    if (auto it = tags.find(s.name); it != tags.end()) s.tags = it->second;
  }
  input.snapshots = std::move(*timed);
  side.decisions = DecideRetention(spec, input);
  for (const RetentionDecision& d : side.decisions) {
    if (d.destroy) side.destroy.push_back(d.name);
  }
}

// Target snapshots without tags whose source snapshot (same guid) has some: they arrived by
// zfs receive, which does not bring user properties along.
void CopyMissingTags(const std::vector<SnapshotInfo>& source,
                     const std::map<std::string, std::vector<std::string>>& source_tags,
                     const std::vector<SnapshotInfo>& target,
                     std::map<std::string, std::vector<std::string>>* target_tags,
                     std::map<std::string, std::string>* to_set) {
  std::unordered_map<uint64_t, const std::vector<std::string>*> by_guid;
  for (const SnapshotInfo& s : source) {
    if (auto it = source_tags.find(s.name); it != source_tags.end()) by_guid[s.guid] = &it->second;
  }
  for (const SnapshotInfo& s : target) {
    auto it = by_guid.find(s.guid);
    if (it == by_guid.end() || target_tags->count(s.name) != 0) continue;
    (*target_tags)[s.name] = *it->second;
    (*to_set)[s.name] = JoinTags(*it->second);
  }
}

}  // namespace

Result<std::map<std::string, std::vector<std::string>>> SnapshotTags(Zfs& zfs,
                                                                     const std::string& dataset) {
  Result<CommandOutput> output = RunChecked(
      zfs.runner(), {{"zfs", "get", "-H", "-d", "1", "-o", "name,value", kTagsProperty, dataset},
                     Effect::kReadOnly,
                     ""});
  if (!output.ok()) return output.status();
  std::map<std::string, std::vector<std::string>> tags;
  for (const std::vector<std::string>& row : ParseTabRows(output->out)) {
    if (row.size() != 2) continue;
    Result<std::pair<std::string, std::string>> name = SplitSnapshotName(row[0]);
    if (!name.ok() || name->first != dataset) continue;
    std::vector<std::string> list = SplitTags(row[1]);
    if (!list.empty()) tags[name->second] = std::move(list);
  }
  return tags;
}

Result<std::map<std::string, int64_t>> SnapshotCreationTimes(Zfs& zfs, const std::string& dataset) {
  Result<CommandOutput> output = RunChecked(
      zfs.runner(), {{"zfs", "get", "-H", "-p", "-d", "1", "-o", "name,value", "creation", dataset},
                     Effect::kReadOnly,
                     ""});
  if (!output.ok()) return output.status();
  std::map<std::string, int64_t> times;
  for (const std::vector<std::string>& row : ParseTabRows(output->out)) {
    if (row.size() != 2) continue;
    Result<std::pair<std::string, std::string>> name = SplitSnapshotName(row[0]);
    if (!name.ok() || name->first != dataset) continue;
    times[name->second] = static_cast<int64_t>(ParseZfsNumber(row[1]).value_or(0));
  }
  return times;
}

namespace {

// A dataset's snapshots: from `facts` when the bulk read listed the dataset, else from zfs.
Result<std::vector<SnapshotInfo>> ListSnapshots(Zfs& zfs, const RotationFacts* facts,
                                                const std::string& dataset) {
  if (facts != nullptr) return facts->snapshots;
  return zfs.ListSnapshots(dataset);
}

Result<std::map<std::string, std::vector<std::string>>> Tags(Zfs& zfs, const RotationFacts* facts,
                                                             const std::string& dataset) {
  if (facts != nullptr) return facts->tags;
  return SnapshotTags(zfs, dataset);
}

const RotationFacts* FactsOf(const RotationReads* reads, const std::string& dataset) {
  return reads != nullptr ? reads->Find(dataset) : nullptr;
}

}  // namespace

Result<RotationReads> RotationReads::Read(Zfs& zfs, const std::vector<std::string>& datasets) {
  Result<RotationReads> reads = ReadRoots(zfs, CoveringRoots(datasets));
  if (reads.ok() || reads.status().code() != StatusCode::kNotFound) return reads;
  // A dataset not there (a target that never received) fails the whole command: once more from
  // one level up, where the others' parent usually is (TARGET_PATH).
  std::vector<std::string> parents;
  for (const std::string& dataset : datasets) {
    const std::string parent = ParentDataset(dataset);
    parents.push_back(parent.empty() ? dataset : parent);
  }
  return ReadRoots(zfs, CoveringRoots(parents));
}

Result<RotationReads> RotationReads::ReadRoots(Zfs& zfs, const std::vector<std::string>& roots) {
  RotationReads reads;
  if (roots.empty()) return reads;
  const std::string props = std::string("guid,createtxg,userrefs,creation,") + kTagsProperty;
  const bool modern = zfs.dialect().list_parsable;
  std::vector<std::string> argv =
      modern ? std::vector<std::string>{"zfs", "list", "-H",
                                        "-p",  "-t",   "filesystem,volume,snapshot",
                                        "-r",  "-o",   "name," + props}
             : std::vector<std::string>{"zfs", "get", "-H", "-p", "-r", "-o", "name,property,value",
                                        props};
  argv.insert(argv.end(), roots.begin(), roots.end());
  const Command command{argv, Effect::kReadOnly, ""};
  Result<CommandOutput> output = zfs.runner().Run(command);
  if (!output.ok()) return output.status();
  if (!output->ok()) {
    Status failed = CommandFailed(zfs.runner(), command, *output);
    const bool absent = output->err.find("does not exist") != std::string::npos;
    return absent ? Status(StatusCode::kNotFound, failed.message()) : failed;
  }
  // One snapshot's values, by property name, in the order zfs printed the snapshots.
  std::map<std::string, std::map<std::string, std::string>> values;
  std::vector<std::pair<std::string, std::string>> order;  // (dataset, short name)
  for (const std::vector<std::string>& row : ParseTabRows(output->out)) {
    if (row.empty() || row[0].find('#') != std::string::npos) continue;  // a bookmark
    if (row[0].find('@') == std::string::npos) {
      reads.datasets_[row[0]];  // listed: the dataset exists
      continue;
    }
    Result<std::pair<std::string, std::string>> name = SplitSnapshotName(row[0]);
    if (!name.ok()) continue;
    std::map<std::string, std::string>& v = values[row[0]];
    if (v.empty()) order.push_back(*name);
    if (modern && row.size() == 6) {
      v = {{"guid", row[1]},
           {"createtxg", row[2]},
           {"userrefs", row[3]},
           {"creation", row[4]},
           {kTagsProperty, row[5]}};
    } else if (!modern && row.size() == 3) {
      v[row[1]] = row[2];
    } else {
      return Internal("zfs printed a snapshot row with " + std::to_string(row.size()) +
                      " fields: " + row[0]);
    }
  }
  auto number = [](const std::map<std::string, std::string>& v, const char* key) {
    auto it = v.find(key);
    return it == v.end() ? uint64_t{0} : ParseZfsNumber(it->second).value_or(0);
  };
  for (const auto& [dataset, snapshot] : order) {
    const std::map<std::string, std::string>& v = values[dataset + "@" + snapshot];
    RotationFacts& facts = reads.datasets_[dataset];
    facts.snapshots.push_back(
        {dataset, snapshot, number(v, "guid"), number(v, "createtxg"), number(v, "userrefs")});
    facts.creation[snapshot] = static_cast<int64_t>(number(v, "creation"));
    if (auto it = v.find(kTagsProperty); it != v.end()) {
      std::vector<std::string> list = SplitTags(it->second);
      if (!list.empty()) facts.tags[snapshot] = std::move(list);
    }
  }
  for (auto& [dataset, facts] : reads.datasets_) {
    std::stable_sort(
        facts.snapshots.begin(), facts.snapshots.end(),
        [](const SnapshotInfo& a, const SnapshotInfo& b) { return a.createtxg < b.createtxg; });
  }
  return reads;
}

const RotationFacts* RotationReads::Find(const std::string& dataset) const {
  auto it = datasets_.find(dataset);
  return it == datasets_.end() ? nullptr : &it->second;
}

DatasetPrune PlanPrune(Zfs& source, Zfs* target, const std::string& source_dataset,
                       const std::string& target_dataset, const PruneOptions& options,
                       const Status& target_error, const RotationReads* source_reads,
                       const RotationReads* target_reads) {
  const RotationFacts* source_facts = FactsOf(source_reads, source_dataset);
  const RotationFacts* target_facts = FactsOf(target_reads, target_dataset);
  DatasetPrune prune;
  prune.source_dataset = source_dataset;
  prune.target_dataset = target_dataset;
  prune.source.host = source.runner().HostLabel();
  prune.target.host = target != nullptr ? target->runner().HostLabel() : "unreachable";

  Result<std::vector<SnapshotInfo>> src = ListSnapshots(source, source_facts, source_dataset);
  if (!src.ok()) {
    prune.source.error = src.status();
    prune.target.note = "not pruned: the source could not be read";
    return prune;
  }
  // The target's snapshots; `target_known` false when the target could not be read.
  std::vector<SnapshotInfo> tgt;
  bool target_known = target != nullptr;
  bool target_exists = false;
  std::string why_unknown = target_error.ok() ? "" : target_error.message();
  if (target != nullptr) {
    Result<std::vector<SnapshotInfo>> listed = ListSnapshots(*target, target_facts, target_dataset);
    if (listed.ok()) {
      tgt = std::move(*listed);
      target_exists = true;
    } else if (listed.status().code() != StatusCode::kNotFound) {
      target_known = false;
      why_unknown = listed.status().message();
    } else {
      // "does not exist" means absent only when the parent is listed; otherwise the pool is
      // not imported or TARGET_PATH is wrong, and the target's state is unknown.
      std::string parent = ParentDataset(target_dataset);
      Result<bool> parent_exists = parent.empty() ? Result<bool>(false) : target->Exists(parent);
      if (!parent_exists.ok() || !*parent_exists) {
        target_known = false;
        why_unknown = !parent_exists.ok() ? parent_exists.status().message()
                                          : "neither " + target_dataset +
                                                " nor its parent exists "
                                                "on the target (pool not imported, or a wrong "
                                                "TARGET_PATH?)";
      }
    }
  }

  std::string target_common;
  if (target_known) {
    std::unordered_set<uint64_t> target_guids;
    for (const SnapshotInfo& s : tgt) target_guids.insert(s.guid);
    for (const SnapshotInfo& s : *src) {
      if (target_guids.count(s.guid) != 0) prune.common = s.name;
    }
    for (const SnapshotInfo& s : tgt) {
      for (const SnapshotInfo& own : *src) {
        if (own.name == prune.common && own.guid == s.guid) target_common = s.name;
      }
    }
  }
  // The history's newest common snapshot stays unless the target positively shows a common
  // snapshot at least as new (an absent or unreadable target shows none).
  std::string history_common;
  if (auto it = options.known_common.find(source_dataset); it != options.known_common.end()) {
    const SnapshotInfo* known = nullptr;
    const SnapshotInfo* seen = nullptr;
    for (const SnapshotInfo& s : *src) {
      if (s.name == it->second) known = &s;
      if (s.name == prune.common) seen = &s;
    }
    if (!target_known && prune.common.empty()) {
      prune.common = it->second;
    } else if (known != nullptr && (seen == nullptr || seen->createtxg < known->createtxg)) {
      history_common = it->second;
    }
  }

  // The tags of both sides, read on every rotation, with tag counts or without: without them a
  // tagged snapshot stays (retention_decision.h), and only its tags say it is one. A target
  // snapshot without tags takes the source snapshot's (same guid), and keeps them.
  Result<std::map<std::string, std::vector<std::string>>> source_tags =
      Tags(source, source_facts, source_dataset);
  if (!source_tags.ok()) {
    prune.source.error = source_tags.status();
    prune.target.note = "not pruned: the source could not be read";
    return prune;
  }

  if (options.keep_source) {
    prune.source.dataset = source_dataset;
    RetentionInput input;
    input.group = options.group;
    input.now = options.now;
    if (!prune.common.empty()) input.common.insert(prune.common);
    if (!history_common.empty()) input.common.insert(history_common);
    if (auto it = options.needed.find(source_dataset); it != options.needed.end()) {
      input.needed = it->second;
    }
    input.base_unknown = !target_known && prune.common.empty();
    if (input.base_unknown) {
      prune.source.note = "the target could not be read (" + why_unknown +
                          ") and no earlier transfer is recorded: nothing destroyed on the source";
    }
    Decide(source, prune.source, *options.keep_source, std::move(input), *src, *source_tags,
           source_facts);
  }

  if (options.keep_target) {
    if (!target_known) {
      prune.target.note = "not pruned: the target could not be read (" + why_unknown + ")";
    } else if (!target_exists) {
      prune.target.note = "not pruned: " + target_dataset + " does not exist on the target";
    } else {
      prune.target.dataset = target_dataset;
      RetentionInput input;
      input.group = options.group;
      input.now = options.now;
      if (!target_common.empty()) input.common.insert(target_common);
      Result<std::map<std::string, std::vector<std::string>>> target_tags =
          Tags(*target, target_facts, target_dataset);
      if (!target_tags.ok()) {
        prune.target.error = target_tags.status();
        return prune;
      }
      CopyMissingTags(*src, *source_tags, tgt, &*target_tags, &prune.target.set_tags);
      Decide(*target, prune.target, *options.keep_target, std::move(input), tgt, *target_tags,
             target_facts);
    }
  }
  return prune;
}

std::map<std::string, std::set<std::string>> NeededByUnfinishedTransfers(
    const SendPlan& plan, const std::vector<DatasetOutcome>& outcomes) {
  std::map<std::string, std::set<std::string>> needed;
  for (size_t i = 0; i < plan.datasets.size(); ++i) {
    const DatasetPlan& dataset = plan.datasets[i];
    const bool succeeded = i < outcomes.size() && outcomes[i].outcome == Outcome::kSucceeded;
    if (succeeded || dataset.needed_source_snapshots.empty()) continue;
    needed[dataset.source].insert(dataset.needed_source_snapshots.begin(),
                                  dataset.needed_source_snapshots.end());
  }
  return needed;
}

Status ApplyPrune(Zfs& zfs, SidePrune& side) {
  if (side.dataset.empty() || !side.error.ok()) return side.error;
  for (const auto& [name, tags] : side.set_tags) {
    Result<CommandOutput> output = RunChecked(
        zfs.runner(),
        {{"zfs", "set", std::string(kTagsProperty) + "=" + tags, side.dataset + "@" + name},
         Effect::kMutates,
         ""});
    if (!output.ok()) {
      side.error = output.status();
      return side.error;
    }
  }
  for (const std::vector<std::string>& argv :
       DestroyCommands(zfs.dialect(), side.dataset, side.destroy)) {
    Result<CommandOutput> output = RunChecked(zfs.runner(), {argv, Effect::kMutates, ""});
    if (!output.ok()) {
      side.error = output.status();
      return side.error;
    }
  }
  return Status::Ok();
}

void PrintPruneDecisions(const DatasetPrune& prune, std::ostream& out) {
  for (const SidePrune* side : {&prune.source, &prune.target}) {
    const char* role = side == &prune.source ? "source" : "target";
    const std::string& dataset =
        side == &prune.source ? prune.source_dataset : prune.target_dataset;
    if (!side->error.ok())
      out << role << " " << side->host << " " << dataset << ": error: " << side->error.message()
          << "\n";
    if (!side->note.empty())
      out << role << " " << side->host << " " << dataset << ": " << side->note << "\n";
    for (const RetentionDecision& d : side->decisions) {
      out << role << " " << side->host << " " << dataset << "@" << d.name << ": " << d.detail
          << "\n";
    }
  }
}

}  // namespace zsend::orchestrator
