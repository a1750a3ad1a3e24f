// Retention: which snapshots of one dataset (on one side) to destroy, and why each one stays.
//
// The thinning follows zfs_autobackup's documented thinner exactly:
// - Only this group's snapshots (IsGroupSnapshot in snapshot_batch.h: "GROUP-" and a name
//   without '-', exactly what zsend makes) are considered; every other snapshot stays
//   ("another group or not made by zsend"), `db-hourly-...` for group `db` included.
// - When the group has no more snapshots than the spec's plain number, all stay. Otherwise the
//   newest `keep_newest` stay.
// - Each <period><ttl> rule walks the group's snapshots oldest first. A snapshot younger than
//   (or exactly) ttl falls in block floor(time / period) (blocks are aligned to the Unix epoch,
//   UTC); the first (oldest) snapshot in a block claims it and stays, later ones in the same
//   block are thinned. A snapshot any rule keeps stays.
// - The newest snapshot of the group always stays (zfs_autobackup keeps the last one too).
// Whatever the spec says, these are never destroyed (the protected kinds):
// - the newest snapshot source and target share (the next incremental's base),
// - a held snapshot (userrefs > 0),
// - on the source, a snapshot a pending or failed transfer still needs,
// - a snapshot of another group or not made by zsend.
// Protected snapshots still take part in the thinning (they may claim a block), exactly as
// zfs_autobackup's keep list does, so protection never causes an extra snapshot to be lost.
//
// Tags (zsend daemon's schedules, backy's model): when the spec has `keep_tags`, a group
// snapshot that carries one of the tags it names (the `zsend:tags` property) is kept exactly
// while one of those tags keeps it: among the newest `keep_tags[tag]` group snapshots carrying
// that tag. A snapshot none of whose tags the spec names (a retired interval, a one-off tag)
// counts as untagged. The untagged snapshots are thinned by the rest of the spec as above,
// among themselves; the newest snapshot of the group and the protected kinds stay whatever
// their tags say. A spec without `keep_tags` keeps every tagged snapshot (kKeepTagged): only
// tag counts may thin what a schedule's tags keep (a manual run, `zsend prune` without
// --keep-tags).
//
// A snapshot's time is read from its name when it ends in yyyymmddhhmmss (UTC, the form zsend
// and zfs_autobackup write), else from its `creation` property (the caller supplies it).
//
// Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "orchestrator/retention/retention_rules.h"
#include "orchestrator/zfs/snapshot_batch.h"
#include "orchestrator/zfs/zfs_dialect.h"

namespace zsend::orchestrator {

enum class RetentionReason {
  kKeepSpecNewest,     // one of the spec's newest N
  kKeepSpecRule,       // the oldest in its block of a rule
  kKeepNewest,         // the newest of the group
  kKeepCommon,         // the newest snapshot both sides share
  kKeepHeld,           // userrefs > 0
  kKeepNeeded,         // a pending or failed transfer needs it (source)
  kKeepOtherGroup,     // not "GROUP-..."
  kKeepUnknownBase,    // the other side is unreachable and the common snapshot is unknown
  kDestroyThinned,     // a rule's block is already kept by an older snapshot
  kDestroyExpired,     // older than every rule's ttl and not among the newest N
  kKeepTag,            // among the newest N of one of its tags
  kKeepTagged,         // carries tags, and the spec has no tag counts to judge them by
  kDestroyNoTagKeeps,  // none of its tags keeps it
};

struct RetentionSnapshot {
  std::string name;  // the part after '@'
  int64_t time = 0;  // seconds since the epoch (UTC)
  uint64_t userrefs = 0;
  std::vector<std::string> tags;  // its `zsend:tags`; empty: untagged
};

struct RetentionInput {
  std::string group;                         // IsGroupSnapshot(group, name): ours
  std::vector<RetentionSnapshot> snapshots;  // every snapshot of the dataset, oldest first
  std::set<std::string> common;              // newest shared snapshot (short names)
  std::set<std::string> needed;              // needed by a pending or failed transfer
  bool base_unknown = false;                 // the other side could not be read: keep all ours
  int64_t now = 0;
};

struct RetentionDecision {
  std::string name;
  bool destroy = false;
  RetentionReason reason = RetentionReason::kKeepOtherGroup;
  std::string detail;  // human text: "keep: one per 1 day for 1 week (1d1w)"...
};

// One decision per input snapshot, in input order.
std::vector<RetentionDecision> DecideRetention(const RetentionSpec& spec,
                                               const RetentionInput& input);

// True for a destroy reason, false for the protected and spec keep reasons.
bool IsProtectedReason(RetentionReason reason);

// The UTC time in a name ending in "yyyymmddhhmmss"; nullopt when it does not.
std::optional<int64_t> TimeFromSnapshotName(const std::string& name);

// The `zfs destroy` argv for `names` of `dataset`: batched `ds@a,b,c` (up to `batch` names
// per call) where the dialect supports it, else one call per snapshot.
std::vector<std::vector<std::string>> DestroyCommands(const ZfsDialect& dialect,
                                                      const std::string& dataset,
                                                      const std::vector<std::string>& names,
                                                      size_t batch = 100);

}  // namespace zsend::orchestrator
