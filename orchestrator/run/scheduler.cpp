#include "orchestrator/run/scheduler.h"

#include <algorithm>
#include <thread>

namespace zsend::orchestrator {

const char* OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kPending:
      return "pending";
    case Outcome::kRunning:
      return "running";
    case Outcome::kSucceeded:
      return "succeeded";
    case Outcome::kFailed:
      return "failed";
    case Outcome::kSkipped:
      return "skipped";
  }
  return "?";
}

TransferScheduler::TransferScheduler(const SendPlan& plan)
    : plan_(plan), dependants_(plan.datasets.size()), outcomes_(plan.datasets.size()) {
  for (size_t i = 0; i < plan.datasets.size(); ++i) {
    for (size_t d : plan.datasets[i].depends_on) dependants_[d].push_back(i);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  for (size_t i = 0; i < plan.datasets.size(); ++i) {
    const DatasetPlan& dataset = plan.datasets[i];
    if (dataset.action == DatasetAction::kFailed) {
      outcomes_[i] = {Outcome::kFailed, dataset.error, ""};
    } else if (dataset.action == DatasetAction::kSkipped) {
      outcomes_[i] = {Outcome::kSkipped, Status::Ok(), dataset.reason};
    }
  }
  for (size_t i = 0; i < plan.datasets.size(); ++i) {
    if (outcomes_[i].outcome == Outcome::kFailed || outcomes_[i].outcome == Outcome::kSkipped) {
      SkipDependants(i);
    }
  }
}

bool TransferScheduler::Ready(size_t index) const {
  if (outcomes_[index].outcome != Outcome::kPending) return false;
  return std::all_of(plan_.datasets[index].depends_on.begin(),
                     plan_.datasets[index].depends_on.end(),
                     [&](size_t d) { return outcomes_[d].outcome == Outcome::kSucceeded; });
}

void TransferScheduler::SkipDependants(size_t failed) {
  std::vector<size_t> stack = dependants_[failed];
  while (!stack.empty()) {
    size_t i = stack.back();
    stack.pop_back();
    if (outcomes_[i].outcome != Outcome::kPending) continue;
    const char* relation =
        plan_.datasets[i].origin.rfind(plan_.datasets[failed].source + "@", 0) == 0
            ? "its clone origin "
            : "a dataset it depends on, ";
    outcomes_[i] = {
        Outcome::kSkipped, Status::Ok(),
        relation + plan_.datasets[failed].source + ", " + OutcomeName(outcomes_[failed].outcome)};
    for (size_t d : dependants_[i]) stack.push_back(d);
  }
}

std::optional<size_t> TransferScheduler::Next() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    bool pending = false;
    for (size_t i = 0; i < outcomes_.size(); ++i) {
      if (Ready(i)) {
        outcomes_[i].outcome = Outcome::kRunning;
        ++running_;
        return i;
      }
      pending = pending || outcomes_[i].outcome == Outcome::kPending;
    }
    // Nothing ready: done when nothing runs either (a pending dataset can then never start).
    if (running_ == 0) {
      if (pending) {
        for (DatasetOutcome& outcome : outcomes_) {
          if (outcome.outcome == Outcome::kPending) {
            outcome = {Outcome::kSkipped, Status::Ok(), "its dependencies never finished"};
          }
        }
      }
      return std::nullopt;
    }
    changed_.wait(lock);
  }
}

void TransferScheduler::Finish(size_t index, Status result) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    --running_;
    if (result.ok()) {
      outcomes_[index] = {Outcome::kSucceeded, Status::Ok(), ""};
    } else {
      outcomes_[index] = {Outcome::kFailed, std::move(result), ""};
      SkipDependants(index);
    }
  }
  changed_.notify_all();
}

std::vector<DatasetOutcome> TransferScheduler::Outcomes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return outcomes_;
}

std::vector<DatasetOutcome> RunScheduled(
    const SendPlan& plan, int jobs, const std::function<Status(const DatasetPlan&)>& transfer) {
  TransferScheduler scheduler(plan);
  auto worker = [&] {
    while (std::optional<size_t> index = scheduler.Next()) {
      const DatasetPlan& dataset = plan.datasets[*index];
      bool work = !dataset.steps.empty() || dataset.abort_resume_first;
      Status result = work ? transfer(dataset) : Status::Ok();
      scheduler.Finish(*index, std::move(result));
    }
  };
  std::vector<std::thread> workers;
  for (int i = 0; i < std::max(1, jobs); ++i) workers.emplace_back(worker);
  for (std::thread& thread : workers) thread.join();
  return scheduler.Outcomes();
}

}  // namespace zsend::orchestrator
