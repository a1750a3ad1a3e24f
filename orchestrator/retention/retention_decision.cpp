#include "orchestrator/retention/retention_decision.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <map>

namespace zsend::orchestrator {
namespace {

bool Has(const std::set<std::string>& set, const std::string& name) {
  return set.count(name) != 0;
}

// The reason a protected snapshot stays, or nullopt when it is not protected.
std::optional<RetentionDecision> Protection(const RetentionInput& input,
                                            const RetentionSnapshot& snapshot) {
  RetentionDecision decision{snapshot.name, false, RetentionReason::kKeepOtherGroup, ""};
  if (!IsGroupSnapshot(input.group, snapshot.name)) {
    decision.detail = "keep: another group or not made by zsend";
  } else if (snapshot.userrefs > 0) {
    decision.reason = RetentionReason::kKeepHeld;
    decision.detail = "keep: held (" + std::to_string(snapshot.userrefs) + " hold" +
                      (snapshot.userrefs == 1 ? ")" : "s)");
  } else if (Has(input.common, snapshot.name)) {
    decision.reason = RetentionReason::kKeepCommon;
    decision.detail = "keep: newest snapshot both sides share";
  } else if (Has(input.needed, snapshot.name)) {
    decision.reason = RetentionReason::kKeepNeeded;
    decision.detail = "keep: needed by a pending or failed transfer";
  } else if (input.base_unknown) {
    decision.reason = RetentionReason::kKeepUnknownBase;
    decision.detail = "keep: the other side could not be read, so the common snapshot is unknown";
  } else {
    return std::nullopt;
  }
  return decision;
}

}  // namespace

std::optional<int64_t> TimeFromSnapshotName(const std::string& name) {
  if (name.size() < 14) return std::nullopt;
  const std::string stamp = name.substr(name.size() - 14);
  for (char c : stamp) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  if (name.size() > 14) {
    char before = name[name.size() - 15];
    if (before >= '0' && before <= '9') return std::nullopt;  // a longer number, not a stamp
  }
  std::tm tm{};
  tm.tm_year = std::stoi(stamp.substr(0, 4)) - 1900;
  tm.tm_mon = std::stoi(stamp.substr(4, 2)) - 1;
  tm.tm_mday = std::stoi(stamp.substr(6, 2));
  tm.tm_hour = std::stoi(stamp.substr(8, 2));
  tm.tm_min = std::stoi(stamp.substr(10, 2));
  tm.tm_sec = std::stoi(stamp.substr(12, 2));
  if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60) {
    return std::nullopt;
  }
  return static_cast<int64_t>(timegm(&tm));
}

bool IsProtectedReason(RetentionReason reason) {
  switch (reason) {
    case RetentionReason::kKeepCommon:
    case RetentionReason::kKeepHeld:
    case RetentionReason::kKeepNeeded:
    case RetentionReason::kKeepOtherGroup:
    case RetentionReason::kKeepUnknownBase:
      return true;
    default:
      return false;
  }
}

namespace {

// zfs_autobackup's thinning over `ours` (indices into input.snapshots, oldest first): one
// decision per index.
void Thin(const RetentionSpec& spec, const RetentionInput& input, const std::vector<size_t>& ours,
          std::map<size_t, RetentionDecision>* by_index) {
  const bool keep_all = ours.size() <= static_cast<size_t>(spec.keep_newest);
  const size_t newest_from = keep_all ? 0 : ours.size() - static_cast<size_t>(spec.keep_newest);

  // Rule blocks: which snapshot claimed each block of each rule (zfs_autobackup's walk).
  std::vector<std::map<int64_t, std::string>> claimed(spec.rules.size());
  for (size_t rank = 0; rank < ours.size(); ++rank) {
    const RetentionSnapshot& snapshot = input.snapshots[ours[rank]];
    const double age = static_cast<double>(input.now - snapshot.time);
    std::string kept_by;     // the first rule that keeps it
    std::string thinned_by;  // a rule whose block an older snapshot already holds
    for (size_t r = 0; r < spec.rules.size(); ++r) {
      const RetentionRule& rule = spec.rules[r];
      if (age > rule.ttl_seconds) continue;
      int64_t block = static_cast<int64_t>(
          std::floor(static_cast<double>(snapshot.time) / rule.period_seconds));
      auto [it, inserted] = claimed[r].emplace(block, snapshot.name);
      if (inserted) {
        if (kept_by.empty()) kept_by = rule.text;
      } else if (thinned_by.empty()) {
        thinned_by = rule.text + " (" + it->second + " is kept for that period)";
      }
    }
    RetentionDecision decision{snapshot.name, false, RetentionReason::kKeepSpecRule, ""};
    if (keep_all || rank >= newest_from) {
      decision.reason = RetentionReason::kKeepSpecNewest;
      decision.detail = "keep: one of the newest " + std::to_string(spec.keep_newest);
    } else if (!kept_by.empty()) {
      decision.detail = "keep: oldest in its period of rule " + kept_by;
    } else if (!thinned_by.empty()) {
      decision.destroy = true;
      decision.reason = RetentionReason::kDestroyThinned;
      decision.detail = "destroy: thinned by rule " + thinned_by;
    } else {
      decision.destroy = true;
      decision.reason = RetentionReason::kDestroyExpired;
      decision.detail = spec.rules.empty()
                            ? "destroy: beyond the newest " + std::to_string(spec.keep_newest)
                            : "destroy: older than every rule's ttl and not among the newest " +
                                  std::to_string(spec.keep_newest);
    }
    (*by_index)[ours[rank]] = decision;
  }
}

// backy's tags over `tagged` (indices, oldest first): a snapshot stays while it is among the
// newest keep_tags[tag] snapshots carrying one of its tags.
void KeepByTags(const RetentionSpec& spec, const RetentionInput& input,
                const std::vector<size_t>& tagged, std::map<size_t, RetentionDecision>* by_index) {
  std::map<std::string, int> seen;  // tag -> newer snapshots carrying it
  for (auto it = tagged.rbegin(); it != tagged.rend(); ++it) {
    const RetentionSnapshot& snapshot = input.snapshots[*it];
    std::string kept_by;
    std::string tags;
    for (const std::string& tag : snapshot.tags) {
      auto keep = spec.keep_tags.find(tag);
      if (keep == spec.keep_tags.end()) continue;  // a tag no count names plays no part
      tags += (tags.empty() ? "" : ",") + tag;
      const int newer = seen[tag]++;
      if (kept_by.empty() && newer < keep->second) {
        kept_by = "keep: one of the newest " + std::to_string(keep->second) + " tagged " + tag;
      }
    }
    RetentionDecision decision{snapshot.name, false, RetentionReason::kKeepTag, kept_by};
    if (kept_by.empty()) {
      decision.destroy = true;
      decision.reason = RetentionReason::kDestroyNoTagKeeps;
      decision.detail = "destroy: none of its tags (" + tags + ") keeps it";
    }
    (*by_index)[*it] = decision;
  }
}

}  // namespace

std::vector<RetentionDecision> DecideRetention(const RetentionSpec& spec,
                                               const RetentionInput& input) {
  // The group's snapshots, oldest first, as indices into input.snapshots: those the tags decide
  // (when the spec has tag counts) and those the thinning does.
  std::vector<size_t> tagged, thinned;
  std::map<size_t, RetentionDecision> by_index;
  for (size_t i = 0; i < input.snapshots.size(); ++i) {
    const RetentionSnapshot& snapshot = input.snapshots[i];
    if (!IsGroupSnapshot(input.group, snapshot.name)) continue;
    const bool named = std::any_of(snapshot.tags.begin(), snapshot.tags.end(),
                                   [&](const std::string& t) { return spec.keep_tags.count(t); });
    if (!snapshot.tags.empty() && spec.keep_tags.empty()) {
      // Without tag counts nothing may judge a tagged snapshot: a manual run, `zsend prune` or
      // a job without a schedule never thins what a schedule's tags keep.
      by_index[i] = {snapshot.name, false, RetentionReason::kKeepTagged,
                     "keep: tagged " + JoinTags(snapshot.tags) + " (only --keep-tags rotates it)"};
    } else {
      (named ? tagged : thinned).push_back(i);  // a tag no count names: as if untagged
    }
  }
  Thin(spec, input, thinned, &by_index);
  KeepByTags(spec, input, tagged, &by_index);
  // The newest snapshot of the group always stays.
  const size_t newest = by_index.empty() ? 0 : by_index.rbegin()->first + 1;
  if (newest > 0 && by_index[newest - 1].destroy) {
    by_index[newest - 1] = {input.snapshots[newest - 1].name, false, RetentionReason::kKeepNewest,
                            "keep: newest snapshot of the group"};
  }

  std::vector<RetentionDecision> decisions;
  decisions.reserve(input.snapshots.size());
  for (size_t i = 0; i < input.snapshots.size(); ++i) {
    std::optional<RetentionDecision> protection = Protection(input, input.snapshots[i]);
    if (protection) {
      decisions.push_back(*protection);
    } else {
      decisions.push_back(by_index.at(i));
    }
  }
  return decisions;
}

std::vector<std::vector<std::string>> DestroyCommands(const ZfsDialect& dialect,
                                                      const std::string& dataset,
                                                      const std::vector<std::string>& names,
                                                      size_t batch) {
  std::vector<std::vector<std::string>> commands;
  if (!dialect.destroy_batched || batch < 2) {
    for (const std::string& name : names)
      commands.push_back({"zfs", "destroy", dataset + "@" + name});
    return commands;
  }
  for (size_t start = 0; start < names.size(); start += batch) {
    std::string joined = dataset + "@";
    for (size_t i = start; i < names.size() && i < start + batch; ++i) {
      if (i > start) joined += ",";
      joined += names[i];
    }
    commands.push_back({"zfs", "destroy", joined});
  }
  return commands;
}

}  // namespace zsend::orchestrator
