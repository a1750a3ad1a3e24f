#include "orchestrator/retention/job_rotation.h"

#include <algorithm>

namespace zsend::orchestrator {

std::map<std::string, std::string> KnownCommonSnapshots(
    const std::vector<TransferRecord>& transfers) {
  std::map<std::string, std::string> known;
  for (const TransferRecord& t : transfers) {
    if (t.kind == "restore") continue;  // zsend restore's rows are not backups
    if ((t.result == "ok" || t.result == "up-to-date") && !t.to_snapshot.empty()) {
      known[t.source_dataset] = t.to_snapshot.substr(t.to_snapshot.find('@') + 1);
    }
  }
  return known;
}

std::string DatasetSettingProperty(const std::string& backup_name, const std::string& setting) {
  return "zsend:" + backup_name + ":" + setting;
}

namespace {

constexpr const char* kSettings[] = {"keep-source", "keep-target"};

// zfs takes user property names of lower-case letters, digits and ":-._" only: a backup named
// otherwise (selected by --dataset) has no per-dataset settings, and asking for them would fail.
bool IsUserPropertyName(const std::string& backup_name) {
  return std::all_of(backup_name.begin(), backup_name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == ':' || c == '-' || c == '.' ||
           c == '_';
  });
}

// Source dataset -> setting ("keep-source") -> value, for the settings that are set.
Result<std::map<std::string, std::map<std::string, std::string>>> ReadDatasetSettings(
    Zfs& source, const std::string& backup_name, const std::vector<RotationPair>& pairs) {
  std::map<std::string, std::map<std::string, std::string>> settings;
  if (backup_name.empty() || pairs.empty() || !IsUserPropertyName(backup_name)) return settings;
  std::vector<std::string> argv = {"zfs",
                                   "get",
                                   "-H",
                                   "-o",
                                   "name,property,value",
                                   DatasetSettingProperty(backup_name, kSettings[0]) + "," +
                                       DatasetSettingProperty(backup_name, kSettings[1])};
  for (const RotationPair& pair : pairs) argv.push_back(pair.source);
  Result<CommandOutput> output = RunChecked(source.runner(), {argv, Effect::kReadOnly, ""});
  if (!output.ok()) return output.status();
  for (const std::vector<std::string>& row : ParseTabRows(output->out)) {
    if (row.size() != 3 || row[2] == "-" || row[2].empty()) continue;
    for (const char* setting : kSettings) {
      if (row[1] == DatasetSettingProperty(backup_name, setting))
        settings[row[0]][setting] = row[2];
    }
  }
  return settings;
}

// The options for one dataset: the job's, with its per-dataset settings applied.
Result<PruneOptions> OptionsFor(const PruneOptions& job, const std::string& dataset,
                                const std::map<std::string, std::string>& settings,
                                const std::string& host, std::ostream& out) {
  PruneOptions each = job;
  for (const auto& [setting, value] : settings) {
    std::optional<RetentionSpec>& side =
        setting == "keep-source" ? each.keep_source : each.keep_target;
    if (!side) continue;  // the job leaves that side alone
    const std::string property = DatasetSettingProperty(job.backup_name, setting);
    Result<RetentionSpec> spec = ParseRetentionSpec(value, property + " on " + dataset);
    if (!spec.ok()) return spec.status();
    spec->keep_tags = side->keep_tags;
    side = *spec;
    out << "settings " << host << " " << dataset << ": " << setting << " " << value << " ("
        << property << ")\n";
  }
  return each;
}

}  // namespace

RotationResult Rotate(Zfs& source, Zfs* target, const Status& target_error,
                      const std::vector<RotationPair>& pairs, const PruneOptions& options,
                      std::ostream& out) {
  RotationResult result;
  std::set<std::string> warned;  // other groups already warned about
  Result<std::map<std::string, std::map<std::string, std::string>>> settings =
      ReadDatasetSettings(source, options.backup_name, pairs);
  if (!settings.ok()) {  // the per-dataset settings are unknown: destroy nothing anywhere
    out << "error: reading the per-dataset settings: " << settings.status().message() << "\n";
    result.first_error = settings.status().message();
    for (const RotationPair& pair : pairs) result.failed.insert(pair.source);
    result.datasets = static_cast<int>(pairs.size());
    return result;
  }
  // Each host's snapshots of every pair in one command (prune_datasets.h); a failed read leaves
  // the datasets to their own reads.
  std::vector<std::string> sources, targets;
  for (const RotationPair& pair : pairs) {
    sources.push_back(pair.source);
    targets.push_back(pair.target);
  }
  Result<RotationReads> source_reads = RotationReads::Read(source, sources);
  Result<RotationReads> target_reads = target != nullptr
                                           ? RotationReads::Read(*target, targets)
                                           : Result<RotationReads>(Unavailable("no target"));
  for (const RotationPair& pair : pairs) {
    ++result.datasets;
    auto set = settings->find(pair.source);
    Result<PruneOptions> each =
        set == settings->end()
            ? Result<PruneOptions>(options)
            : OptionsFor(options, pair.source, set->second, source.runner().HostLabel(), out);
    if (!each.ok()) {
      out << "error: " << each.status().message() << "\n";
      if (result.first_error.empty()) result.first_error = each.status().message();
      result.failed.insert(pair.source);
      continue;
    }
    DatasetPrune prune = PlanPrune(source, target, pair.source, pair.target, *each, target_error,
                                   source_reads.ok() ? &*source_reads : nullptr,
                                   target_reads.ok() ? &*target_reads : nullptr);
    std::vector<std::string> names;
    for (const SidePrune* side : {&prune.source, &prune.target}) {
      for (const RetentionDecision& d : side->decisions) names.push_back(d.name);
    }
    for (const std::string& other : GroupsExtendingPrefix(options.group, names)) {
      if (!warned.insert(other).second) continue;
      out << "warning: group " << options.group << " is a prefix of group " << other << " (on "
          << pair.source << "); " << other << "-... snapshots are not " << options.group
          << "'s and are never rotated by it; prefer group names that are not prefixes of "
             "each other\n";
    }
    PrintPruneDecisions(prune, out);
    Status source_done = ApplyPrune(source, prune.source);
    Status target_done = target != nullptr ? ApplyPrune(*target, prune.target) : prune.target.error;
    if (source_done.ok()) result.destroyed_source += static_cast<int>(prune.source.destroy.size());
    if (target_done.ok()) result.destroyed_target += static_cast<int>(prune.target.destroy.size());
    for (const Status* s : {&source_done, &target_done}) {
      if (s->ok()) continue;
      out << "error: " << s->message() << "\n";
      if (result.first_error.empty()) result.first_error = s->message();
      result.failed.insert(pair.source);
    }
  }
  return result;
}

std::string RotationSummary(const RotationResult& result, bool dry_run) {
  return std::string(dry_run ? "would destroy " : "destroyed ") +
         std::to_string(result.destroyed_source) + " on the source and " +
         std::to_string(result.destroyed_target) + " on the target, " +
         std::to_string(result.failed.size()) + " failed";
}

}  // namespace zsend::orchestrator
