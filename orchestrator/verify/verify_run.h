// VerifyRun: `zsend verify`: compares each dataset's newest common snapshot on the source and
// the target by content, each host walking its own copy (snapshot_walk.h), and records the
// result in the history.
//
// Per dataset: the newest snapshot both sides have (same guid or same name; the target's newest
// first, NewestCommonSnapshot) is
// walked on both hosts at once, the two digest trees compared (digest_tree.h) and the result
// printed: "ok", "differs" with the first differing paths or "failed" (no common snapshot, a
// walk that could not run). One dataset's failure does not stop the others.
//
// History: one `runs` row with command "verify" (result "ok" when every dataset was ok or
// skipped, "interrupted" after SIGINT/SIGTERM/SIGHUP (run_interrupt.h: the datasets after the
// one under way are left out), else "failed"; error: the first problem) and one `verifies` row
// per dataset
// (history.h). Exit code: the number of datasets that differ or failed (at most 254).
//
// Thread-safety: one run at a time per object; the two walks of a dataset run on two threads.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "orchestrator/report/history.h"
#include "orchestrator/verify/digest_tree.h"
#include "orchestrator/zfs/zfs.h"

namespace zsend::orchestrator {

struct VerifyPair {
  std::string source;  // dataset on the source host
  std::string target;  // its copy on the target host
};

struct VerifyRunOptions {
  std::string backup_name;
  DigestOptions digest;
  std::string source_zsend = "zsend";  // the zsend program on each host
  std::string target_zsend = "zsend";
  size_t max_differences = 10;  // paths printed (and counted beyond) per dataset
};

struct DatasetVerify {
  VerifyPair pair;
  std::string snapshot;   // the common snapshot walked, "" when none
  bool same_guid = true;  // false: matched by name only
  std::string result;     // "ok", "differs", "failed", "skipped"
  std::string error;      // why it failed or was skipped
  TreeComparison comparison;
  DigestSummary source_summary, target_summary;
  std::string source_method, target_method;
};

struct CommonSnapshot {
  std::string name;
  bool same_guid = true;  // false: only the names match (the target was replaced)
};

// The newest snapshot of `target` that `source` also has: the same guid, or else the same name
// (a target dataset replaced by one received from elsewhere under the same snapshot names, which
// the content comparison then judges).
std::optional<CommonSnapshot> NewestCommonSnapshot(const std::vector<SnapshotInfo>& source,
                                                   const std::vector<SnapshotInfo>& target);

// One dataset, both walks at once.
DatasetVerify VerifyDataset(Zfs& source, Zfs& target, const VerifyPair& pair,
                            const VerifyRunOptions& options);

// Every pair in order: prints one result line per dataset (and its differences) and a summary
// line on `out`, records the run when `history` is set, returns the exit code.
int RunVerify(Zfs& source, Zfs& target, const std::vector<VerifyPair>& pairs,
              const VerifyRunOptions& options, History* history, std::ostream& out);

// The history's rule for a verify result: the text stored in `verifies.first_difference`.
std::string FirstProblem(const DatasetVerify& verify);

}  // namespace zsend::orchestrator
