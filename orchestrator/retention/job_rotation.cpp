#include "orchestrator/retention/job_rotation.h"

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

RotationResult Rotate(Zfs& source, Zfs* target, const Status& target_error,
                      const std::vector<RotationPair>& pairs, const PruneOptions& options,
                      std::ostream& out) {
  RotationResult result;
  std::set<std::string> warned;  // other groups already warned about
  for (const RotationPair& pair : pairs) {
    ++result.datasets;
    DatasetPrune prune = PlanPrune(source, target, pair.source, pair.target, options, target_error);
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
