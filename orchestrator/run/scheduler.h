// TransferScheduler: runs a SendPlan's transfers with up to --jobs at once, never starting a
// child before its parent or a clone before its origin.
//
// The plan's depends_on edges form a DAG. A dataset becomes ready when every dependency has
// finished well (transferred, up to date or not needed); ready datasets are handed out in plan
// order. When a transfer fails, every dataset that depends on it (directly or through others)
// is skipped with a reason naming the failed one, and the rest go on. Datasets the planner
// already failed or skipped never run, and their dependants are skipped likewise.
//
// Thread-safety: Next() and Finish() may be called from any number of worker threads; all
// state is guarded by one mutex, and Next() waits on a condition variable. RunScheduled() is
// the usual driver: it starts the workers and returns each dataset's outcome.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/plan/send_plan.h"

namespace zsend::orchestrator {

enum class Outcome { kPending, kRunning, kSucceeded, kFailed, kSkipped };
const char* OutcomeName(Outcome outcome);

struct DatasetOutcome {
  Outcome outcome = Outcome::kPending;
  Status error;        // kFailed
  std::string reason;  // kSkipped: which dependency failed
};

class TransferScheduler {
 public:
  // The plan must outlive the scheduler.
  explicit TransferScheduler(const SendPlan& plan);

  // The index of a dataset ready to transfer, marking it running; waits while others run and
  // nothing is ready; nullopt when every dataset has finished or been skipped.
  std::optional<size_t> Next();
  // Records a transfer's result and wakes waiting workers.
  void Finish(size_t index, Status result);

  std::vector<DatasetOutcome> Outcomes() const;

 private:
  void SkipDependants(size_t failed);  // requires mutex_
  bool Ready(size_t index) const;      // requires mutex_

  const SendPlan& plan_;
  std::vector<std::vector<size_t>> dependants_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<DatasetOutcome> outcomes_;  // guarded by mutex_
  size_t running_ = 0;                    // guarded by mutex_
};

// Runs `transfer` for each dataset of the plan that has steps (or a stale token to abort), on
// `jobs` threads, in an order the scheduler allows. Datasets without steps succeed (up to date, not
// needed) or keep the planner's failure. Returns one outcome per plan dataset.
std::vector<DatasetOutcome> RunScheduled(const SendPlan& plan, int jobs,
                                         const std::function<Status(const DatasetPlan&)>& transfer);

}  // namespace zsend::orchestrator
