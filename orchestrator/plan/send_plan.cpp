#include "orchestrator/plan/send_plan.h"

namespace zsend::orchestrator {

const char* TransferKindName(TransferKind kind) {
  switch (kind) {
    case TransferKind::kFull:
      return "full";
    case TransferKind::kIncremental:
      return "incremental";
    case TransferKind::kClone:
      return "clone";
    case TransferKind::kResume:
      return "resumed";
  }
  return "?";
}

const char* DatasetActionName(DatasetAction action) {
  switch (action) {
    case DatasetAction::kTransfer:
      return "transfer";
    case DatasetAction::kUpToDate:
      return "up to date";
    case DatasetAction::kNotNeeded:
      return "not needed";
    case DatasetAction::kFailed:
      return "failed";
    case DatasetAction::kSkipped:
      return "skipped";
  }
  return "?";
}

SendSpec TransferStep::ToSendSpec() const {
  SendSpec spec;
  spec.snapshot = to;
  if (kind == TransferKind::kResume) {
    spec.resume_token = resume_token;
    return spec;
  }
  spec.from = from;
  spec.intermediates = intermediates;
  return spec;
}

std::optional<size_t> SendPlan::Find(const std::string& source) const {
  for (size_t i = 0; i < datasets.size(); ++i) {
    if (datasets[i].source == source) return i;
  }
  return std::nullopt;
}

int SendPlan::FailedCount() const {
  int failed = 0;
  for (const DatasetPlan& dataset : datasets) {
    if (dataset.action == DatasetAction::kFailed) ++failed;
  }
  return failed;
}

}  // namespace zsend::orchestrator
