// --jobs scheduling: a child never starts before its parent finished, a clone never before its
// origin; independent datasets do run at once; a failure skips only its dependants.
#include "orchestrator/run/scheduler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <thread>

#include "orchestrator/plan/planner.h"

namespace zsend::orchestrator {
namespace {

DatasetState Fresh(const std::string& source, const std::string& origin = "") {
  static uint64_t txg = 1;
  DatasetState state;
  state.source = source;
  state.target = "backup/" + source;
  state.origin = origin;
  state.source_snapshots = {{source, "g-1", std::hash<std::string>{}(source), ++txg, 0}};
  return state;
}

SendPlan TreePlan() {
  std::vector<DatasetState> states = {
      Fresh("p/a"), Fresh("p/a/b"), Fresh("p/a/b/c"),           Fresh("p/a/d"),
      Fresh("p/x"), Fresh("p/x/y"), Fresh("p/k1", "p/a/b@g-1"), Fresh("p/k2", "p/k1@g-1"),
      Fresh("p/m"), Fresh("p/n")};
  PlanOptions options;
  options.group = "g";
  return PlanTransfers(states, options);
}

struct Record {
  std::mutex mutex;
  std::map<std::string, int> start, finish;
  int clock = 0;
};

TEST(Scheduler, NoChildBeforeParentNoCloneBeforeOriginWithManyJobs) {
  SendPlan plan = TreePlan();
  ASSERT_EQ(plan.FailedCount(), 0);
  for (int round = 0; round < 20; ++round) {
    Record record;
    std::vector<DatasetOutcome> outcomes = RunScheduled(plan, 4, [&](const DatasetPlan& d) {
      {
        std::lock_guard<std::mutex> lock(record.mutex);
        record.start[d.source] = ++record.clock;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200 * (d.source.size() % 5)));
      std::lock_guard<std::mutex> lock(record.mutex);
      record.finish[d.source] = ++record.clock;
      return Status::Ok();
    });
    ASSERT_EQ(record.start.size(), plan.datasets.size());
    for (size_t i = 0; i < plan.datasets.size(); ++i) {
      EXPECT_EQ(outcomes[i].outcome, Outcome::kSucceeded);
      for (size_t dep : plan.datasets[i].depends_on) {
        EXPECT_GT(record.start[plan.datasets[i].source], record.finish[plan.datasets[dep].source])
            << plan.datasets[i].source << " started before " << plan.datasets[dep].source
            << " finished";
      }
    }
  }
  // The edges the test relies on are really there.
  const DatasetPlan& k2 = plan.datasets[*plan.Find("p/k2")];
  EXPECT_EQ(k2.depends_on, (std::vector<size_t>{*plan.Find("p/k1")}));
  EXPECT_EQ(plan.datasets[*plan.Find("p/a/b/c")].depends_on,
            (std::vector<size_t>{*plan.Find("p/a/b")}));
}

TEST(Scheduler, IndependentDatasetsRunAtTheSameTime) {
  SendPlan plan = PlanTransfers({Fresh("q/one"), Fresh("r/two")}, PlanOptions{"g", {}, false});
  std::atomic<int> started{0};
  std::atomic<bool> saw_other{true};
  RunScheduled(plan, 2, [&](const DatasetPlan&) {
    ++started;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (started.load() < 2 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (started.load() < 2) saw_other = false;
    return Status::Ok();
  });
  EXPECT_TRUE(saw_other.load()) << "with --jobs 2 the second transfer never started";
}

TEST(Scheduler, OneJobRunsInPlanOrder) {
  SendPlan plan = TreePlan();
  std::vector<std::string> order;
  RunScheduled(plan, 1, [&](const DatasetPlan& d) {
    order.push_back(d.source);
    return Status::Ok();
  });
  std::vector<std::string> expected;
  for (const DatasetPlan& d : plan.datasets) expected.push_back(d.source);
  EXPECT_EQ(order, expected);
}

TEST(Scheduler, FailureSkipsOnlyItsDependants) {
  SendPlan plan = TreePlan();
  std::mutex mutex;
  std::vector<std::string> ran;
  std::vector<DatasetOutcome> outcomes = RunScheduled(plan, 3, [&](const DatasetPlan& d) {
    std::lock_guard<std::mutex> lock(mutex);
    ran.push_back(d.source);
    if (d.source == "p/a/b") return Aborted("zfs receive failed: out of space");
    return Status::Ok();
  });
  auto outcome = [&](const std::string& source) { return outcomes[*plan.Find(source)]; };
  EXPECT_EQ(outcome("p/a/b").outcome, Outcome::kFailed);
  EXPECT_EQ(outcome("p/a/b").error.message(), "zfs receive failed: out of space");
  EXPECT_EQ(outcome("p/a/b/c").outcome, Outcome::kSkipped);
  EXPECT_EQ(outcome("p/k1").outcome, Outcome::kSkipped);
  EXPECT_EQ(outcome("p/k1").reason, "its clone origin p/a/b, failed");
  EXPECT_EQ(outcome("p/k2").outcome, Outcome::kSkipped);  // through p/k1
  for (const char* fine : {"p/a", "p/a/d", "p/x", "p/x/y", "p/m", "p/n"}) {
    EXPECT_EQ(outcome(fine).outcome, Outcome::kSucceeded) << fine;
  }
  for (const std::string& source : ran) {
    EXPECT_TRUE(source != "p/a/b/c" && source != "p/k1" && source != "p/k2") << source;
  }
}

TEST(Scheduler, PlanningFailuresNeverRunAndSkipDependants) {
  DatasetState parent = Fresh("t/a");
  parent.source_snapshots.clear();  // no snapshot of the group: fails at planning
  SendPlan plan =
      PlanTransfers({parent, Fresh("t/a/b"), Fresh("t/c")}, PlanOptions{"g", {}, false});
  std::vector<std::string> ran;
  std::vector<DatasetOutcome> outcomes = RunScheduled(plan, 2, [&](const DatasetPlan& d) {
    ran.push_back(d.source);
    return Status::Ok();
  });
  EXPECT_EQ(ran, (std::vector<std::string>{"t/c"}));
  EXPECT_EQ(outcomes[0].outcome, Outcome::kFailed);
  EXPECT_EQ(outcomes[1].outcome, Outcome::kSkipped);
  EXPECT_EQ(outcomes[2].outcome, Outcome::kSucceeded);
}

}  // namespace
}  // namespace zsend::orchestrator
