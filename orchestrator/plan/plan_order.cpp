// Dependency order of a SendPlan: parents before children, origins before clones.
//
// Each dataset depends on its nearest ancestor in the plan (by source name) and on the dataset
// of its clone origin when that is in the plan. Kahn's algorithm puts them in order, taking
// ready datasets by name so the order is stable; a cycle (possible only after odd `zfs
// promote` histories) fails the datasets on it. Then, in that order, a dataset whose
// dependency failed or was skipped is skipped, naming the dependency.
#include <map>
#include <set>

#include "orchestrator/plan/planner.h"

namespace zsend::orchestrator {
namespace {

std::optional<size_t> NearestAncestor(const std::map<std::string, size_t>& by_source,
                                      const std::string& source) {
  for (std::string parent = ParentDataset(source); !parent.empty();
       parent = ParentDataset(parent)) {
    auto it = by_source.find(parent);
    if (it != by_source.end()) return it->second;
  }
  return std::nullopt;
}

}  // namespace

void OrderAndPropagate(SendPlan& plan) {
  std::vector<DatasetPlan>& datasets = plan.datasets;
  std::map<std::string, size_t> by_source;
  for (size_t i = 0; i < datasets.size(); ++i) by_source[datasets[i].source] = i;

  std::vector<std::vector<size_t>> deps(datasets.size());
  std::vector<std::vector<size_t>> dependants(datasets.size());
  for (size_t i = 0; i < datasets.size(); ++i) {
    std::set<size_t> mine;
    if (auto parent = NearestAncestor(by_source, datasets[i].source)) mine.insert(*parent);
    if (!datasets[i].origin.empty()) {
      Result<std::pair<std::string, std::string>> origin = SplitSnapshotName(datasets[i].origin);
      if (origin.ok()) {
        auto it = by_source.find(origin->first);
        if (it != by_source.end() && it->second != i) mine.insert(it->second);
      }
    }
    deps[i].assign(mine.begin(), mine.end());
    for (size_t d : mine) dependants[d].push_back(i);
  }

  // Kahn's algorithm; ready datasets are taken by source name.
  std::vector<size_t> waiting(datasets.size());
  std::set<std::pair<std::string, size_t>> ready;
  for (size_t i = 0; i < datasets.size(); ++i) {
    waiting[i] = deps[i].size();
    if (waiting[i] == 0) ready.insert({datasets[i].source, i});
  }
  std::vector<size_t> order;
  while (!ready.empty()) {
    size_t next = ready.begin()->second;
    ready.erase(ready.begin());
    order.push_back(next);
    for (size_t d : dependants[next]) {
      if (--waiting[d] == 0) ready.insert({datasets[d].source, d});
    }
  }
  std::vector<bool> placed(datasets.size(), false);
  for (size_t i : order) placed[i] = true;
  for (size_t i = 0; i < datasets.size(); ++i) {
    if (placed[i]) continue;
    datasets[i].action = DatasetAction::kFailed;
    datasets[i].steps.clear();
    datasets[i].error =
        FailedPrecondition(datasets[i].source + ": its parents and clone origins form a cycle");
    order.push_back(i);
  }

  std::vector<size_t> new_index(datasets.size());
  for (size_t position = 0; position < order.size(); ++position) {
    new_index[order[position]] = position;
  }
  std::vector<DatasetPlan> ordered;
  for (size_t old : order) {
    DatasetPlan dataset = std::move(datasets[old]);
    dataset.depends_on.clear();
    for (size_t d : deps[old]) dataset.depends_on.push_back(new_index[d]);
    ordered.push_back(std::move(dataset));
  }
  datasets = std::move(ordered);

  for (DatasetPlan& dataset : datasets) {
    if (dataset.action == DatasetAction::kFailed) continue;
    for (size_t d : dataset.depends_on) {
      const DatasetPlan& dependency = datasets[d];
      if (dependency.action != DatasetAction::kFailed &&
          dependency.action != DatasetAction::kSkipped) {
        continue;
      }
      bool is_origin =
          !dataset.origin.empty() && dataset.origin.rfind(dependency.source + "@", 0) == 0;
      dataset.action = DatasetAction::kSkipped;
      dataset.steps.clear();
      dataset.reason = std::string(is_origin ? "its clone origin " : "its parent ") +
                       dependency.source + " " + DatasetActionName(dependency.action);
      break;
    }
  }
}

}  // namespace zsend::orchestrator
