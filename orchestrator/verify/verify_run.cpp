#include "orchestrator/verify/verify_run.h"

#include <future>
#include <set>

#include "base/units.h"
#include "orchestrator/report/mail_send.h"
#include "orchestrator/run/backup_steps.h"  // Now()
#include "orchestrator/run/exit_codes.h"
#include "orchestrator/run/run_interrupt.h"
#include "orchestrator/verify/snapshot_walk.h"

namespace zsend::orchestrator {
namespace {

std::string Plural(uint64_t n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

}  // namespace

std::optional<CommonSnapshot> NewestCommonSnapshot(const std::vector<SnapshotInfo>& source,
                                                   const std::vector<SnapshotInfo>& target) {
  std::set<uint64_t> guids;
  std::set<std::string> names;
  for (const SnapshotInfo& s : source) {
    guids.insert(s.guid);
    names.insert(s.name);
  }
  for (auto it = target.rbegin(); it != target.rend(); ++it) {
    if (guids.count(it->guid)) return CommonSnapshot{it->name, true};
    if (names.count(it->name)) return CommonSnapshot{it->name, false};
  }
  return std::nullopt;
}

DatasetVerify VerifyDataset(Zfs& source, Zfs& target, const VerifyPair& pair,
                            const VerifyRunOptions& options) {
  DatasetVerify v;
  v.pair = pair;
  v.result = "failed";
  Result<std::vector<SnapshotInfo>> source_snapshots = source.ListSnapshots(pair.source);
  if (!source_snapshots.ok()) {
    v.error = "source: " + source_snapshots.status().message();
    return v;
  }
  Result<std::vector<SnapshotInfo>> target_snapshots = target.ListSnapshots(pair.target);
  if (!target_snapshots.ok()) {
    v.error = "target: " + target_snapshots.status().message();
    return v;
  }
  std::optional<CommonSnapshot> common = NewestCommonSnapshot(*source_snapshots, *target_snapshots);
  if (!common) {
    v.error = "no common snapshot: the target has none of the source's snapshots (run a backup)";
    return v;
  }
  v.snapshot = common->name;
  v.same_guid = common->same_guid;
  // Each host walks its own copy; both at once.
  auto walk_target = std::async(std::launch::async, [&] {
    return WalkSnapshot(target.runner(), options.target_zsend, pair.target, common->name,
                        options.digest);
  });
  Result<SnapshotWalk> on_source = WalkSnapshot(source.runner(), options.source_zsend, pair.source,
                                                common->name, options.digest);
  Result<SnapshotWalk> on_target = walk_target.get();
  for (const auto& [walk, side] :
       {std::pair{&on_source, "source"}, std::pair{&on_target, "target"}}) {
    if (walk->ok()) continue;
    v.error = std::string(side) + ": " + walk->status().message();
    return v;
  }
  v.source_method = on_source->method;
  v.target_method = on_target->method;
  v.source_summary = on_source->tree.summary;
  v.target_summary = on_target->tree.summary;
  v.comparison = CompareDigestTrees(on_source->tree, on_target->tree, options.max_differences);
  v.result = v.comparison.equal() ? "ok" : "differs";
  return v;
}

std::string FirstProblem(const DatasetVerify& v) {
  if (v.result == "differs" && !v.comparison.differences.empty()) {
    const TreeDifference& d = v.comparison.differences.front();
    return d.path + ": " + d.what;
  }
  return v.error;
}

int RunVerify(Zfs& source, Zfs& target, const std::vector<VerifyPair>& pairs,
              const VerifyRunOptions& options, History* history, std::ostream& out) {
  RunRecord run;
  run.backup_name = options.backup_name;
  run.command = "verify";
  run.host = HostName();
  run.source_host = source.runner().HostLabel();
  run.target_host = target.runner().HostLabel();
  run.started = Now();
  int64_t run_id = 0;
  if (history != nullptr) {
    Result<int64_t> id = history->BeginRun(run);
    if (id.ok()) run_id = *id;
  }
  int ok = 0, differs = 0, failed = 0, skipped = 0;
  std::string first_problem;
  for (const VerifyPair& pair : pairs) {
    if (Interrupted()) break;  // the walk under way was stopped and its clone removed
    const double started = Now();
    DatasetVerify v = VerifyDataset(source, target, pair, options);
    out << "verify " << pair.source << " -> " << pair.target;
    if (!v.snapshot.empty()) out << " @" << v.snapshot;
    if (!v.snapshot.empty() && !v.same_guid) out << " (same name, other guid)";
    out << ": ";
    if (v.result == "ok") {
      ++ok;
      out << "ok (" << std::to_string(v.source_summary.entries)
          << (v.source_summary.entries == 1 ? " entry" : " entries") << ", "
          << Plural(v.source_summary.files_read, "file") << " read, "
          << FormatBytes(static_cast<double>(v.source_summary.bytes_read)) << " on each side; "
          << "root digest " << v.source_summary.root_digest << ")\n";
    } else if (v.result == "differs") {
      ++differs;
      out << "DIFFERS: " << Plural(v.comparison.total, "difference") << " between source ("
          << v.source_method << ") and target (" << v.target_method << ")\n";
      for (const TreeDifference& d : v.comparison.differences) {
        out << "  " << d.path << ": " << d.what << "\n";
      }
      if (v.comparison.total > v.comparison.differences.size()) {
        out << "  ... and " << v.comparison.total - v.comparison.differences.size() << " more\n";
      }
    } else if (v.result == "skipped") {
      ++skipped;
      out << "skipped: " << v.error << "\n";
    } else {
      ++failed;
      out << "error: " << v.error << "\n";
    }
    if (v.result != "ok" && v.result != "skipped" && first_problem.empty()) {
      first_problem = pair.source + ": " + FirstProblem(v);
    }
    if (history != nullptr && run_id != 0) {
      VerifyRecord record;
      record.run_id = run_id;
      record.backup_name = options.backup_name;
      record.source_host = run.source_host;
      record.target_host = run.target_host;
      record.source_dataset = pair.source;
      record.target_dataset = pair.target;
      record.snapshot = v.snapshot;
      record.started = started;
      record.ended = Now();
      record.result = v.result;
      record.entries = v.source_summary.entries;
      record.bytes_read = v.source_summary.bytes_read;
      record.differences = v.comparison.total;
      record.first_difference = FirstProblem(v);
      Result<int64_t> added = history->AddVerify(record);
      if (!added.ok()) out << "history: " << added.status().message() << "\n";
    }
  }
  const int bad = differs + failed;
  out << "verify " << options.backup_name << ": " << Plural(pairs.size(), "dataset") << ", " << ok
      << " ok, " << differs << " differ, " << failed << " failed";
  if (skipped > 0) out << ", " << skipped << " skipped";
  if (options.digest.sample_percent < 100) {
    out << " (contents of " << options.digest.sample_percent << "% of the files, seed "
        << options.digest.seed << ")";
  }
  out << "\n";
  if (history != nullptr && run_id != 0) {
    const std::string result = Interrupted() ? "interrupted" : bad > 0 ? "failed" : "ok";
    Status ended = history->EndRun(run_id, Now(), result, ok + skipped, bad, first_problem);
    if (!ended.ok()) out << "history: " << ended.message() << "\n";
  }
  return std::min(bad, kMaxFailureCount);
}

}  // namespace zsend::orchestrator
