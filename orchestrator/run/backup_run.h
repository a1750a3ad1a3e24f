// RunBackup: one `zsend backup` run from start to end, over the libraries of this directory.
//
//   1. probe both hosts' zfs (a failure here is fatal: exit 255); with --no-send only the
//      source (the target is not needed to snapshot)
//   2. select: --dataset, --vm (vmadm get on the source), or the zsend:NAME property
//   3. snapshot the selection as one batch (unless --no-snapshot); without --allow-empty or
//      --tags, datasets whose `written` is 0 since their last snapshot of the group are left
//      out where the zfs has `written` (zfs-fuse has not: every selected dataset is snapshotted)
//   4. the --post-snapshot hook (when a snapshot was taken); with --no-send the run ends here
//   5. the --pre-send hook, then gather both sides, plan (planner.h), and execute (executor.h)
// Hooks get ZSEND_JOB, ZSEND_HOOK, ZSEND_DATASETS (post-snapshot: the datasets snapshotted;
// pre-send: the selection; space-separated),
// ZSEND_SNAPSHOT (the run's snapshot name, "" with --no-snapshot) and ZSEND_TAGS.
// In --dry-run the runners print mutating commands, the planner sees the snapshot that would
// have been taken, and the transports print their pipelines: nothing changes on either host.
//
// The runners are not owned (the CLI makes local / ssh / dry-run ones). Call from one thread.
#pragma once

#include <map>
#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "orchestrator/run/executor.h"
#include "orchestrator/transport/transport.h"

namespace zsend::orchestrator {

// `zsend backup`'s --jobs default: the machine's cores, at least 2 (a transfer mostly waits on
// zfs and the link, so two overlap even on one core) and at most 4 (more concurrent receives
// mostly contend for the target pool). The scheduler keeps parents before children and
// origins before clones whatever the number (scheduler.h). The library's own default stays 1.
int DefaultJobs();

struct BackupOptions {
  std::string backup_name;
  std::string target_path;
  std::vector<std::string> datasets;  // --dataset
  std::vector<std::string> vms;       // --vm
  bool include_received = false;      // --include-received (plan/selection.h)
  std::string group;                  // default: backup_name
  std::string snapshot_name;          // --snapshot-name
  bool no_snapshot = false, no_send = false, allow_empty = false;
  TransportOptions transport;
  int jobs = 1;
  int strip_path = 0;
  bool clear_refreservation = false, clear_mountpoint = false;
  // A backup stays receivable when people look at it: readonly=on on every dataset received
  // (--no-readonly turns it off), and received unmounted where the zfs can (recv -u; --mount).
  bool readonly = true, mount = false;
  std::vector<std::string> filter_properties;
  std::vector<std::pair<std::string, std::string>> set_properties;
  bool rollback = false, no_holds = false, no_resume = false;
  bool no_bookmarks = false;  // --no-bookmarks: no bookmark of the common snapshot (OpenZFS)
  // Pushes and pulls over tcp (auto or tcp) use one engine session for the run instead of an
  // engine pair per stream (docs/orchestrator.md, "Transports"); --no-sessions turns it off.
  bool sessions = true;
  bool raw = false;  // --raw: zfs send -w (encrypted datasets arrive encrypted, keys stay home)
  bool force_rollback = false;  // --force: --rollback may destroy snapshots zsend did not make
  bool ignore_transfer_errors = false;
  bool dry_run = false;
  bool verbose = false;
  std::set<std::string> force;  // source datasets whose unrelated target may be replaced
  // --tags: the new snapshots carry them in their zsend:tags property (zsend daemon passes the
  // intervals that fell due; rotation by tag: retention_decision.h).
  std::vector<std::string> tags;
  // --post-snapshot and --pre-send: `/bin/sh -c` commands on this host, stopped after
  // hook_timeout seconds. A failing post-snapshot hook is reported and the run goes on; a
  // failing pre-send hook ends the run before anything is sent (fatal).
  std::string post_snapshot_hook, pre_send_hook;
  double hook_timeout = 60;
};

// What a run cost besides zfs's own work (issue 13; --json "overhead", the history's run row).
// zfs commands are counted by CountingRunner around each host's runner, by phase: planning
// (probe, selection, the change check, the reads of both hosts), snapshot (the batch), transfer
// (parents, receive fixes, holds; the streams' own zfs send/receive are not commands of the
// runner and are not counted) and rotation (rotation and the history's snapshot counts).
struct ZfsCommandCounts {
  int planning = 0, snapshot = 0, transfer = 0, rotation = 0;
  int total() const { return planning + snapshot + transfer + rotation; }
};

struct RunOverhead {
  ZfsCommandCounts source, target;
  // ssh connections opened: one control connection per remote host, plus one per transfer
  // that ran the engine through ssh stdio (its own ssh process).
  int ssh_connections = 0;
  // Engine sessions started: the run's session (one far process, --jobs connections) counts
  // once, and each transfer outside it (ssh stdio, a per-stream tcp pair) once.
  int engine_sessions = 0;
  double planning_seconds = 0, transfer_seconds = 0, rotation_seconds = 0;
};

struct BackupResult {
  Status fatal;               // not OK: nothing was transferred (exit 255)
  std::string snapshot_name;  // "" with --no-snapshot
  bool snapshot_atomic = true;
  std::vector<std::string> selected;    // the job's source datasets (also with --no-send)
  std::vector<DatasetReport> datasets;  // plan order
  int failed = 0;                       // failed + skipped datasets
  double seconds = 0;
  // Source dataset -> snapshots (short names) a transfer that did not succeed still needs:
  // the rotation step must keep them (NeededByUnfinishedTransfers).
  std::map<std::string, std::set<std::string>> needed_source_snapshots;
  RunOverhead overhead;
  int ExitCode() const;  // 255 fatal, else min(failed, 254)
};

// `log` gets progress lines (always the important ones: fallbacks, stale tokens, a snapshot
// batch that is not atomic; everything with options.verbose); dry-run lines go to `dry_run_out`.
// With options.transport.progress set (and not in dry-run) the transfers report to it and the
// executor's lines are printed through it (TransferProgress::Print).
BackupResult RunBackup(const BackupOptions& options, CommandRunner& source, CommandRunner& target,
                       std::ostream& log, std::ostream& dry_run_out);

}  // namespace zsend::orchestrator
