// Rotation: retention applied to a job's datasets on both hosts, the shared step of
// `zsend prune` and of `zsend backup --keep-source/--keep-target` (after its transfers).
//
// For each (source, target) dataset pair, Rotate() plans (PlanPrune), prints every decision
// (PrintPruneDecisions), and destroys what was decided (ApplyPrune, batched), through the
// hosts' Zfs layers (a DryRunRunner under them prints the destroys instead). The target may be
// unreachable (null): then only the source is rotated, with the common snapshot taken from
// the history (KnownCommonSnapshots) or, without a record, nothing destroyed there.
//
// Per-dataset settings, as zback and znapzend keep them: the source datasets' user properties
// `zsend:NAME:keep-source` and `zsend:NAME:keep-target` (NAME: options.backup_name; inherited by
// children like any user property) replace the job's spec of that side for that dataset, read
// in one `zfs get` over the pairs. They apply only to a side the job rotates, keep the job's
// tag counts, and are announced in a line of their own ("settings HOST DATASET: keep-target 5
// (zsend:NAME:keep-target)"); a NAME a zfs property name cannot hold (upper case...) has none; a bad value fails that dataset's
// rotation (nothing destroyed there) with the property, the dataset and the grammar named.
//
// Thread-safety: call from one thread; the Zfs layers are not owned.
#pragma once

#include <map>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "orchestrator/report/history.h"
#include "orchestrator/retention/prune_datasets.h"

namespace zsend::orchestrator {

struct RotationPair {
  std::string source;  // source dataset
  std::string target;  // its copy on the target
};

struct RotationResult {
  int datasets = 0;
  int destroyed_source = 0;
  int destroyed_target = 0;
  std::set<std::string> failed;  // source datasets whose rotation had an error
  std::string first_error;
};

// Source dataset -> short name of the snapshot the newest good transfer (ok or up-to-date)
// left on the target (restores left out). `transfers` oldest first (History::Transfers).
std::map<std::string, std::string> KnownCommonSnapshots(
    const std::vector<TransferRecord>& transfers);

// The user property of a per-dataset setting: "zsend:NAME:keep-source".
std::string DatasetSettingProperty(const std::string& backup_name, const std::string& setting);

// Rotates each pair; decisions and errors go to `out`, one line each.
RotationResult Rotate(Zfs& source, Zfs* target, const Status& target_error,
                      const std::vector<RotationPair>& pairs, const PruneOptions& options,
                      std::ostream& out);

// "destroyed 4 on the source and 2 on the target, 0 failed" ("would destroy" in a dry run).
std::string RotationSummary(const RotationResult& result, bool dry_run);

}  // namespace zsend::orchestrator
