// Executor: carries out a SendPlan. For each dataset (on --jobs worker threads, in the order
// the scheduler allows) it aborts a stale resume token, creates the target's missing parents,
// moves each TransferStep's stream with the StreamMover and applies what the target's zfs could
// not set on the receive command line. When every dataset is done, the backup's holds move to
// the new common snapshots in one batch (holds.h MoveHolds: a few commands for the whole run,
// from the snapshots in `source_state`); a dataset whose hold fails is then reported failed
// (after SIGINT/SIGTERM the hold is left for the next run and the transfer stands, noted).
// On a zfs with bookmarks the new common snapshot is then bookmarked (bookmarks.h); a bookmark
// that cannot be made is a note and a log line, not a failure (the transfer stands).
//
// A stream that failed after bytes moved and not in zfs itself (an engine, a wrapper or the link
// failed: StreamResult::data_moved, no failed_command) is checked against the target: when its
// snapshot landed (same guid) the step succeeded; when the target kept a resume token the
// dataset resumes once; else it fails saying so. Nothing is sent twice into the same target.
// After SIGINT/SIGTERM (run_interrupt.h) datasets not started yet fail with kCancelled.
//
// A failed dataset is reported with the failing command, its stderr and the reason; datasets
// that depend on it are skipped with a reason; the others go on. A resume step that fails
// because its token no longer applies (ResumeTokenIsStale: only zfs's own messages saying so)
// is aborted (`zfs recv -A`), logged, and the dataset is gathered and planned again from
// scratch, once. Any other resume failure (out of space, I/O error, a lost connection) keeps
// the partial receive and fails the dataset, so the next run resumes where this one stopped.
//
// Ownership: the Zfs layers, the mover and the log callback are not owned. Thread-safety: Run()
// is called once; it runs workers internally (the Zfs layers and the mover are thread-safe, the
// log callback is serialised by the executor).
#pragma once

#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "orchestrator/plan/gather.h"
#include "orchestrator/plan/planner.h"
#include "orchestrator/run/scheduler.h"
#include "orchestrator/transport/transport.h"
#include "orchestrator/zfs/zfs.h"

namespace zsend::orchestrator {

// True when a failed resume's stderr says the token can never be used again (OpenZFS's
// libzfs_sendrecv.c): "resume token is corrupt", "'SNAP' used in the initial send no longer
// exists", "'SNAP' is no longer the same snapshot used in the initial send", "incremental
// source 0x... no longer exists", "cannot receive resume stream: kernel modules must be
// upgraded to receive this stream" (unless the sender failed too: then the stream was cut),
// "cannot receive resume stream: incompatible embedded data stream feature with encrypted
// receive". False for everything else, "cannot receive resume stream: out of space" included.
bool ResumeTokenIsStale(const std::string& stderr_text);

struct ExecutorOptions {
  std::string backup_name;  // names the job's bookmarks (bookmarks.h); none when empty
  std::string hold_tag;     // zsend:BACKUP_NAME
  bool holds = true;        // --no-holds turns this off
  // Bookmark each dataset's new common snapshot where the zfs has bookmarks (bookmarks.h);
  // --no-bookmarks turns this off.
  bool bookmarks = true;
  RecvSpec recv;           // receive settings; target and force are set per step
  bool properties = true;  // zfs send -p
  bool raw = false;        // zfs send -w (a resume token carries its own flags)
  PlanOptions plan;        // for re-planning after an aborted resume
  GatherOptions gather;    // likewise
  int jobs = 1;
  bool ignore_transfer_errors = false;  // a failed stream is fine when the snapshot arrived
  bool dry_run = false;
  std::ostream* dry_run_out = nullptr;
  std::function<void(const std::string&)> log;  // one line, no newline; may be empty
  // Ask the source for each stream's size first (`zfs send -nP` where the zfs has it), for the
  // progress display's percent and ETA.
  bool estimate_sizes = false;
  // The source datasets whose selection property is inherited, not set on them
  // (SelectionDecision::inherited): their `send -p` streams do not carry it, so the inherit that
  // stands in for `recv -x` on a zfs without it (zfs-fuse) is skipped for them.
  std::string selection_property;
  std::set<std::string> selection_inherited;
  // The source as read for planning (host_state.h): the holds are moved from its snapshot
  // lists; a dataset it lacks is listed. Not owned; may be null.
  const HostState* source_state = nullptr;
};

struct StepReport {
  TransferKind kind = TransferKind::kFull;
  std::string from, to;
  StreamResult stream;
};

struct DatasetReport {
  std::string source, target;
  bool selected = true;
  DatasetAction action = DatasetAction::kTransfer;  // what the planner decided
  Outcome outcome = Outcome::kPending;
  std::vector<StepReport> steps;   // the streams moved (or tried), in order
  Status error;                    // kFailed: the reason
  std::string failed_command;      // kFailed: the command that failed, when one did
  std::string failed_stderr;       // and its stderr
  std::string reason;              // kSkipped / up to date / not needed
  std::vector<std::string> notes;  // resume aborted, hold moved, settings applied...
  std::string final_snapshot;
  double started = 0, ended = 0;  // wall clock (epoch seconds) of the transfer; 0: not run
};

class Executor {
 public:
  Executor(Zfs& source, Zfs& target, StreamMover& mover, ExecutorOptions options)
      : source_(source), target_(target), mover_(mover), options_(std::move(options)) {}

  // One report per plan dataset, in plan order.
  std::vector<DatasetReport> Run(const SendPlan& plan);

 private:
  Status TransferDataset(const DatasetPlan& dataset, DatasetReport& report);
  Status RunSteps(const DatasetPlan& dataset, DatasetReport& report, bool may_replan);
  Status RunStep(const TransferStep& step, DatasetReport& report);
  // Whether the stream `send` moves for `dataset` may carry `property` (so receiving it may set
  // it on the target): no when it sends no properties, or the property is the selection
  // property and the dataset only inherits it; yes when unsure (a resume token keeps the first
  // send's flags).
  bool StreamCarries(const SendSpec& send, const std::string& dataset,
                     const std::string& property) const;
  Status Replan(const DatasetPlan& dataset, DatasetReport& report);
  // True when the step's `to` snapshot (same guid) is on the target.
  Result<bool> Landed(const TransferStep& step);
  // After a cut stream whose bytes reached the target: resume when the target kept a token,
  // else `failure`, explained (never a fresh full send into a half-written target).
  Status ResumeAfterCut(const DatasetPlan& dataset, DatasetReport& report, const Status& failure);
  void Log(const std::string& line);
  // Moves the holds of the datasets that finished (pending_holds_) in one batch.
  void MoveHoldsAfter(const SendPlan& plan, std::vector<DatasetReport>& reports,
                      std::vector<DatasetOutcome>& outcomes);

  Zfs& source_;
  Zfs& target_;
  StreamMover& mover_;
  ExecutorOptions options_;
  std::mutex log_mutex_;
  std::set<std::string> logged_fallbacks_;  // guarded by log_mutex_: each is logged once
  // Bookmarks the new common snapshots of the datasets that finished (pending_marks_).
  void MoveBookmarksAfter(const SendPlan& plan, std::vector<DatasetReport>& reports);
  // Whether a good run bookmarks this final snapshot: the zfs has bookmarks, the job did not
  // say --no-bookmarks, the dataset is selected and the snapshot is one of the group's.
  bool WantsBookmark(bool selected, const std::string& final_snapshot);
  std::vector<size_t> pending_holds_;  // guarded by log_mutex_: plan indexes to hold
  std::vector<size_t> pending_marks_;  // guarded by log_mutex_: plan indexes to bookmark
};

}  // namespace zsend::orchestrator
