#include "orchestrator/run/executor.h"

#include <algorithm>
#include <chrono>

#include "orchestrator/run/run_interrupt.h"
#include "orchestrator/zfs/bookmarks.h"
#include "orchestrator/zfs/holds.h"
#include "orchestrator/zfs/snapshot_batch.h"

namespace zsend::orchestrator {
namespace {

bool HasSnapshot(Zfs& zfs, const std::string& dataset, const std::string& name) {
  Result<std::vector<SnapshotInfo>> snapshots = zfs.ListSnapshots(dataset);
  if (!snapshots.ok()) return false;
  for (const SnapshotInfo& s : *snapshots) {
    if (s.name == name) return true;
  }
  return false;
}

}  // namespace

bool ResumeTokenIsStale(const std::string& text) {
  auto has = [&text](const char* part) { return text.find(part) != std::string::npos; };
  if (has("resume token is corrupt") || has("used in the initial send no longer exists") ||
      has("is no longer the same snapshot used in the initial send") ||
      has("incompatible embedded data stream feature with encrypted receive")) {
    return true;
  }
  if (has("incremental source ") && has(" no longer exists") && has("cannot resume send")) {
    return true;
  }
  // libzfs's EINVAL on a resumable receive; also what a stream cut by a failing sender
  // ("warning: cannot send '...': Input/output error") can produce, which is not stale.
  return has("kernel modules must be upgraded to receive this stream") &&
         !has("warning: cannot send");
}

bool Executor::WantsBookmark(bool selected, const std::string& final_snapshot) {
  return options_.bookmarks && !options_.backup_name.empty() && source_.dialect().bookmarks &&
         selected && IsGroupSnapshot(options_.plan.group, final_snapshot);
}

void Executor::Log(const std::string& line) {
  if (!options_.log) return;
  std::lock_guard<std::mutex> lock(log_mutex_);
  options_.log(line);
}

std::vector<DatasetReport> Executor::Run(const SendPlan& plan) {
  std::vector<DatasetReport> reports(plan.datasets.size());
  for (size_t i = 0; i < plan.datasets.size(); ++i) {
    const DatasetPlan& d = plan.datasets[i];
    reports[i].source = d.source;
    reports[i].target = d.target;
    reports[i].selected = d.selected;
    reports[i].action = d.action;
    reports[i].final_snapshot = d.final_snapshot;
    if (d.action == DatasetAction::kFailed) reports[i].error = d.error;
    if (!d.reason.empty()) reports[i].reason = d.reason;
  }
  std::vector<DatasetOutcome> outcomes =
      RunScheduled(plan, options_.jobs, [&](const DatasetPlan& dataset) {
        size_t index = static_cast<size_t>(&dataset - plan.datasets.data());
        auto wall = [] {
          return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
              .count();
        };
        reports[index].started = wall();
        Status done = TransferDataset(dataset, reports[index]);
        reports[index].ended = wall();
        if (done.ok() && options_.holds && !options_.dry_run && dataset.selected &&
            !reports[index].final_snapshot.empty()) {
          std::lock_guard<std::mutex> lock(log_mutex_);
          pending_holds_.push_back(index);
        }
        if (done.ok() && !options_.dry_run &&
            WantsBookmark(dataset.selected, reports[index].final_snapshot)) {
          std::lock_guard<std::mutex> lock(log_mutex_);
          pending_marks_.push_back(index);
        }
        return done;
      });
  MoveHoldsAfter(plan, reports, outcomes);
  MoveBookmarksAfter(plan, reports);
  for (size_t i = 0; i < outcomes.size(); ++i) {
    reports[i].outcome = outcomes[i].outcome;
    if (outcomes[i].outcome == Outcome::kFailed) reports[i].error = outcomes[i].error;
    if (outcomes[i].outcome == Outcome::kSkipped) reports[i].reason = outcomes[i].reason;
  }
  return reports;
}

Status Executor::TransferDataset(const DatasetPlan& dataset, DatasetReport& report) {
  if (Interrupted()) return InterruptedStatus("not started");
  if (dataset.abort_resume_first) {
    ZSEND_RETURN_IF_ERROR(target_.AbortResume(dataset.target));
    std::string line = dataset.target +
                       ": stale resume token aborted (zfs receive -A), its snapshot is gone "
                       "from the source; restarting the transfer";
    report.notes.push_back(line);
    Log(line);
  }
  if (dataset.create_target_parent) {
    std::string parent = ParentDataset(dataset.target);
    if (!parent.empty()) {
      Result<bool> exists = target_.Exists(parent);
      if (!exists.ok()) return exists.status();
      if (!*exists) ZSEND_RETURN_IF_ERROR(target_.CreateWithParents(parent));
    }
  }
  ZSEND_RETURN_IF_ERROR(RunSteps(dataset, report, true));
  if (options_.holds && dataset.selected && !dataset.final_snapshot.empty()) {
    if (options_.dry_run) {
      *options_.dry_run_out << "dry-run [" << source_.runner().HostLabel() << "]: zfs hold "
                            << options_.hold_tag << " " << dataset.source << "@"
                            << dataset.final_snapshot << " (and release the previous hold)\n";
    }
  }
  if (options_.dry_run && WantsBookmark(dataset.selected, dataset.final_snapshot)) {
    *options_.dry_run_out << "dry-run [" << source_.runner().HostLabel() << "]: zfs bookmark "
                          << dataset.source << "@" << dataset.final_snapshot << " "
                          << dataset.source << "#"
                          << BookmarkName(options_.backup_name, dataset.final_snapshot)
                          << " (and destroy the job's older bookmark)\n";
  }
  return Status::Ok();
}

void Executor::MoveHoldsAfter(const SendPlan& plan, std::vector<DatasetReport>& reports,
                              std::vector<DatasetOutcome>& outcomes) {
  std::sort(pending_holds_.begin(), pending_holds_.end());
  std::vector<HoldMove> moves;
  for (size_t index : pending_holds_) {
    const std::string& dataset = plan.datasets[index].source;
    HoldMove move{dataset, reports[index].final_snapshot, {}};
    const DatasetRecord* known =
        options_.source_state ? options_.source_state->Find(dataset) : nullptr;
    bool listed = known != nullptr;
    if (known != nullptr) {
      move.snapshots = known->snapshots;
      listed = std::any_of(move.snapshots.begin(), move.snapshots.end(),
                           [&](const SnapshotInfo& s) { return s.name == move.keep; });
    }
    if (!listed) {  // not in the planning read (a re-plan's snapshot): ask zfs
      Result<std::vector<SnapshotInfo>> snapshots = source_.ListSnapshots(dataset);
      if (snapshots.ok()) move.snapshots = std::move(*snapshots);
    }
    moves.push_back(std::move(move));
  }
  std::vector<Status> held = MoveHolds(source_, options_.hold_tag, moves);
  for (size_t k = 0; k < pending_holds_.size(); ++k) {
    size_t index = pending_holds_[k];
    if (held[k].ok()) {
      reports[index].notes.push_back("held " + moves[k].dataset + "@" + moves[k].keep);
    } else if (held[k].code() == StatusCode::kCancelled) {
      // SIGINT/SIGTERM after the transfer: it arrived; the next run moves the hold.
      reports[index].notes.push_back("hold not moved: " + held[k].message());
    } else {
      outcomes[index].outcome = Outcome::kFailed;
      outcomes[index].error = held[k];
    }
  }
}

void Executor::MoveBookmarksAfter(const SendPlan& plan, std::vector<DatasetReport>& reports) {
  std::sort(pending_marks_.begin(), pending_marks_.end());
  for (size_t index : pending_marks_) {
    if (Interrupted()) break;  // the next run bookmarks it
    BookmarkMove move{plan.datasets[index].source, {}, {}};
    move.keep.dataset = move.dataset;
    move.keep.name = reports[index].final_snapshot;
    const DatasetRecord* known =
        options_.source_state ? options_.source_state->Find(move.dataset) : nullptr;
    auto find_keep = [&](const DatasetRecord* record) -> const SnapshotInfo* {
      if (record == nullptr) return nullptr;
      for (const SnapshotInfo& s : record->snapshots) {
        if (s.name == move.keep.name) return &s;
      }
      return nullptr;
    };
    Result<HostState> read = HostState{};
    if (find_keep(known) == nullptr) {  // not in the planning read: ask zfs
      read = ReadHostState(source_, {move.dataset}, false);
      known = read.ok() ? read->Find(move.dataset) : nullptr;
    }
    if (const SnapshotInfo* keep = find_keep(known)) move.keep = *keep;
    if (known != nullptr) move.bookmarks = known->bookmarks;
    bool made = false;
    Status marked = MoveBookmark(source_, options_.backup_name, options_.plan.group, move, &made);
    const std::string name =
        move.dataset + "#" + BookmarkName(options_.backup_name, move.keep.name);
    if (marked.ok() && made) reports[index].notes.push_back("bookmarked " + name);
    if (!marked.ok()) {
      std::string line = name + " not made or the older one not destroyed: " + marked.message();
      reports[index].notes.push_back(line);
      Log(line);
    }
  }
}

Status Executor::RunSteps(const DatasetPlan& dataset, DatasetReport& report, bool may_replan) {
  for (const TransferStep& step : dataset.steps) {
    Status status = RunStep(step, report);
    if (status.ok()) continue;
    if (status.code() == StatusCode::kCancelled || report.steps.empty()) return status;
    const StreamResult& stream = report.steps.back().stream;
    // Bytes moved and the stream failed outside zfs (an engine, a wrapper, the link): the
    // target's real state decides, never a second full send into it.
    if (stream.data_moved && stream.failed_command.empty() && !options_.dry_run) {
      Result<bool> landed = Landed(step);
      if (landed.ok() && *landed) {
        std::string line = step.target_dataset + ": the transfer reported a failure (" +
                           status.message() + ") but " + step.to.substr(step.to.find('@')) +
                           " arrived complete; not sent again";
        report.notes.push_back(line);
        Log(line);
        continue;
      }
      if (may_replan) return ResumeAfterCut(dataset, report, status);
    }
    if (step.kind == TransferKind::kResume && may_replan &&
        ResumeTokenIsStale(stream.failed_stderr + "\n" + status.message())) {
      ZSEND_RETURN_IF_ERROR(target_.AbortResume(dataset.target));
      std::string line = dataset.target + ": the resume token no longer applies (" +
                         status.message() +
                         "); aborted it (zfs receive -A) and restarting the transfer";
      report.notes.push_back(line);
      Log(line);
      return Replan(dataset, report);
    }
    report.failed_command = stream.failed_command;
    report.failed_stderr = stream.failed_stderr;
    if (step.kind == TransferKind::kResume) {
      std::string line = dataset.target +
                         ": resume failed; the resume token and the partial receive are kept "
                         "for the next run";
      report.notes.push_back(line);
      Log(line);
    }
    if (stream.failed_stderr.find("has been modified") != std::string::npos) {
      return Status(status.code(),
                    status.message() +
                        " (the target changed after its newest snapshot: reading it with atime on, "
                        "or on zfs-fuse mounting a received child, is enough: zsend receives "
                        "read-only unless --no-readonly is given; discard such changes with "
                        "--rollback)");
    }
    return status;
  }
  return Status::Ok();
}

Result<bool> Executor::Landed(const TransferStep& step) {
  if (step.to.empty()) return false;
  Result<std::pair<std::string, std::string>> to = SplitSnapshotName(step.to);
  if (!to.ok()) return to.status();
  uint64_t guid = 0;
  Result<std::vector<SnapshotInfo>> sent = source_.ListSnapshots(step.source_dataset);
  if (!sent.ok()) return sent.status();
  for (const SnapshotInfo& s : *sent) {
    if (s.name == to->second) guid = s.guid;
  }
  Result<std::vector<SnapshotInfo>> there = target_.ListSnapshots(step.target_dataset);
  if (!there.ok()) return there.status();
  for (const SnapshotInfo& s : *there) {
    if (s.name == to->second && (guid == 0 || s.guid == guid)) return true;
  }
  return false;
}

Status Executor::ResumeAfterCut(const DatasetPlan& dataset, DatasetReport& report,
                                const Status& failure) {
  Result<std::vector<DatasetState>> states =
      GatherStates(source_, target_, {dataset.source}, options_.gather);
  if (!states.ok()) return failure;
  SendPlan plan = PlanTransfers(*states, options_.plan);
  std::optional<size_t> index = plan.Find(dataset.source);
  if (index && plan.datasets[*index].action == DatasetAction::kTransfer &&
      !plan.datasets[*index].steps.empty() &&
      plan.datasets[*index].steps.front().kind == TransferKind::kResume) {
    const DatasetPlan& fresh = plan.datasets[*index];
    std::string line = dataset.target + ": the transfer was cut (" + failure.message() +
                       "); resuming from the target's resume token";
    report.notes.push_back(line);
    Log(line);
    report.final_snapshot = fresh.final_snapshot;
    return RunSteps(fresh, report, false);
  }
  return Status(failure.code(), failure.message() +
                                    " (data had reached the target, which has neither the "
                                    "snapshot nor a resume token: not sent again; the next run "
                                    "plans from the target's state)");
}

Status Executor::Replan(const DatasetPlan& dataset, DatasetReport& report) {
  Result<std::vector<DatasetState>> states =
      GatherStates(source_, target_, {dataset.source}, options_.gather);
  if (!states.ok()) return states.status();
  SendPlan plan = PlanTransfers(*states, options_.plan);
  std::optional<size_t> index = plan.Find(dataset.source);
  if (!index) return Internal("re-planning lost " + dataset.source);
  const DatasetPlan& fresh = plan.datasets[*index];
  if (fresh.action == DatasetAction::kFailed) return fresh.error;
  report.final_snapshot = fresh.final_snapshot;
  return RunSteps(fresh, report, false);
}

bool Executor::StreamCarries(const SendSpec& send, const std::string& dataset,
                             const std::string& property) const {
  if (!send.resume_token.empty() || send.replicate || send.raw) return true;
  if (!send.properties) return false;
  return property != options_.selection_property || !options_.selection_inherited.count(dataset);
}

Status Executor::RunStep(const TransferStep& step, DatasetReport& report) {
  StepReport step_report;
  step_report.kind = step.kind;
  step_report.from = step.from;
  step_report.to = step.to;
  SendSpec send = step.ToSendSpec();
  send.properties = options_.properties;
  send.raw = options_.raw && send.resume_token.empty();
  Result<std::vector<std::string>> send_argv = BuildSendArgv(source_.dialect(), send);
  if (!send_argv.ok()) return send_argv.status();
  RecvSpec recv = options_.recv;
  recv.target = step.target_dataset;
  recv.force = step.force;
  RecvCommand recv_command = BuildRecvCommand(target_.dialect(), recv);

  std::string verb = TransferKindName(step.kind);
  Log(step.source_dataset + ": " + verb + " " + (step.from.empty() ? "" : step.from + " -> ") +
      (step.to.empty() ? "(resume token)" : step.to) + " into " + step.target_dataset);
  const uint64_t estimate =
      options_.estimate_sizes && !options_.dry_run ? source_.EstimateSendSize(send) : 0;
  step_report.stream = mover_.Move({*send_argv, recv_command.argv, step.source_dataset, estimate});
  Status status = step_report.stream.status;
  if (!step_report.stream.fallback.empty()) {
    bool first;
    {
      std::lock_guard<std::mutex> lock(log_mutex_);
      first = logged_fallbacks_.insert(step_report.stream.fallback).second;
    }
    if (first) Log("fallback: " + step_report.stream.fallback);
  }
  report.steps.push_back(step_report);
  if (!status.ok() && options_.ignore_transfer_errors && !step.to.empty()) {
    Result<std::pair<std::string, std::string>> to = SplitSnapshotName(step.to);
    if (to.ok() && HasSnapshot(target_, step.target_dataset, to->second)) {
      report.notes.push_back("ignored a transfer error (" + status.message() +
                             "): " + step.target_dataset + "@" + to->second + " arrived");
      status = Status::Ok();
    }
  }
  if (!status.ok()) return status;
  // What the target's zfs could not take on the receive command line.
  if (!recv_command.set_after.empty()) {
    ZSEND_RETURN_IF_ERROR(target_.SetProperties(step.target_dataset, recv_command.set_after));
  }
  for (const std::string& property : recv_command.inherit_after) {
    if (!StreamCarries(send, step.source_dataset, property)) continue;
    ZSEND_RETURN_IF_ERROR(target_.InheritProperty(step.target_dataset, property));
  }
  return Status::Ok();
}

}  // namespace zsend::orchestrator
