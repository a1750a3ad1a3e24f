#include "orchestrator/zfs/holds.h"

#include <algorithm>
#include <map>
#include <set>

namespace zsend::orchestrator {
namespace {

bool Mentions(const Status& status, const char* text) {
  return status.message().find(text) != std::string::npos;
}

// Runs `call` over `names` in chunks of kHoldBatch; the first failure is returned.
template <typename Call>
Status Chunked(const std::vector<std::string>& names, Call call) {
  for (size_t start = 0; start < names.size(); start += kHoldBatch) {
    size_t end = std::min(names.size(), start + kHoldBatch);
    ZSEND_RETURN_IF_ERROR(
        call(std::vector<std::string>(names.begin() + start, names.begin() + end)));
  }
  return Status::Ok();
}

// What one move asks: the snapshot to hold, the candidates to release.
struct MoveWork {
  std::string kept;                  // dataset@keep
  bool keep_held_by_anyone = false;  // userrefs > 0 on the kept snapshot
  std::vector<std::string> held;     // the dataset's snapshots with any hold
};

}  // namespace

std::string HoldTag(const std::string& backup_name) {
  return "zsend:" + backup_name;
}

Status MoveHold(Zfs& zfs, const std::string& dataset, const std::string& tag,
                const std::string& keep) {
  Result<std::vector<SnapshotInfo>> snapshots = zfs.ListSnapshots(dataset);
  if (!snapshots.ok()) return snapshots.status();
  return MoveHolds(zfs, tag, {{dataset, keep, std::move(*snapshots)}})[0];
}

std::vector<Status> MoveHolds(Zfs& zfs, const std::string& tag,
                              const std::vector<HoldMove>& moves) {
  std::vector<Status> results(moves.size());
  std::vector<MoveWork> work(moves.size());
  std::vector<size_t> live;  // moves whose kept snapshot exists
  for (size_t i = 0; i < moves.size(); ++i) {
    const HoldMove& move = moves[i];
    work[i].kept = move.dataset + "@" + move.keep;
    bool keep_exists = false;
    for (const SnapshotInfo& s : move.snapshots) {
      if (s.userrefs > 0) work[i].held.push_back(s.full_name());
      if (s.name == move.keep) {
        keep_exists = true;
        work[i].keep_held_by_anyone = s.userrefs > 0;
      }
    }
    if (!keep_exists) {
      results[i] =
          Status(StatusCode::kNotFound, "cannot hold " + work[i].kept + ": no such snapshot");
    } else {
      live.push_back(i);
    }
  }
  // Holds the kept snapshots of `which` in batches; on a failed batch, one move at a time.
  // In the retry "tag already exists" means the failed batch had held it before failing.
  auto hold = [&](const std::vector<size_t>& which) {
    std::vector<std::string> names;
    for (size_t i : which) names.push_back(work[i].kept);
    if (names.empty()) return;
    Status batch =
        Chunked(names, [&](const std::vector<std::string>& chunk) { return zfs.Hold(tag, chunk); });
    if (batch.ok()) return;
    for (size_t i : which) {
      Status one = zfs.Hold(tag, {work[i].kept});
      if (!one.ok() && !Mentions(one, "tag already exists")) {
        results[i] = one;
      }
    }
  };

  if (zfs.dialect().holds_list) {
    std::vector<std::string> held;
    for (size_t i : live) held.insert(held.end(), work[i].held.begin(), work[i].held.end());
    std::set<std::pair<std::string, std::string>> tags;  // (snapshot, tag)
    Status listed = Chunked(held, [&](const std::vector<std::string>& chunk) -> Status {
      Result<std::vector<HoldInfo>> holds = zfs.Holds(chunk);
      if (!holds.ok()) return holds.status();
      for (const HoldInfo& h : *holds) tags.insert({h.snapshot, h.tag});
      return Status::Ok();
    });
    if (!listed.ok()) {
      for (size_t i : live) results[i] = listed;
      return results;
    }
    std::vector<size_t> to_hold;
    std::map<size_t, std::vector<std::string>> to_release;
    for (size_t i : live) {
      if (!tags.count({work[i].kept, tag})) to_hold.push_back(i);
      for (const std::string& snapshot : work[i].held) {
        if (snapshot != work[i].kept && tags.count({snapshot, tag}))
          to_release[i].push_back(snapshot);
      }
    }
    hold(to_hold);
    std::vector<std::string> release;
    for (auto& [i, names] : to_release) {
      if (results[i].ok()) release.insert(release.end(), names.begin(), names.end());
    }
    Status batch = Chunked(
        release, [&](const std::vector<std::string>& chunk) { return zfs.Release(tag, chunk); });
    if (!batch.ok()) {
      for (auto& [i, names] : to_release) {
        if (!results[i].ok()) continue;
        Status released = zfs.Release(tag, names);  // the batch may have released some
        if (!released.ok() && !Mentions(released, "no such tag")) results[i] = released;
      }
    }
    return results;
  }

  // The older zfs cannot list holds: a kept snapshot nobody holds gets the tag in the batch;
  // one held already (perhaps by this tag) alone, "tag already exists" being fine.
  std::vector<size_t> unheld, maybe_held;
  for (size_t i : live) {
    if (work[i].keep_held_by_anyone) {
      maybe_held.push_back(i);
    } else {
      unheld.push_back(i);
    }
  }
  hold(unheld);
  for (size_t i : maybe_held) {
    Status one = zfs.Hold(tag, {work[i].kept});
    if (!one.ok() && !Mentions(one, "tag already exists")) results[i] = one;
  }
  // Release candidates: every other held snapshot; a foreign hold answers "no such tag".
  std::vector<std::string> release;
  for (size_t i : live) {
    if (!results[i].ok()) continue;
    for (const std::string& snapshot : work[i].held) {
      if (snapshot != work[i].kept) release.push_back(snapshot);
    }
  }
  Status batch = Chunked(
      release, [&](const std::vector<std::string>& chunk) { return zfs.Release(tag, chunk); });
  if (batch.ok()) return results;
  for (size_t i : live) {
    if (!results[i].ok()) continue;
    for (const std::string& snapshot : work[i].held) {
      if (snapshot == work[i].kept) continue;
      Status released = zfs.Release(tag, {snapshot});
      if (!released.ok() && !Mentions(released, "no such tag")) {
        results[i] = released;
        break;
      }
    }
  }
  return results;
}

}  // namespace zsend::orchestrator
