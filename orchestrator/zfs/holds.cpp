#include "orchestrator/zfs/holds.h"

#include <set>

namespace zsend::orchestrator {
namespace {

bool Mentions(const Status& status, const char* text) {
  return status.message().find(text) != std::string::npos;
}

}  // namespace

std::string HoldTag(const std::string& backup_name) {
  return "zsend:" + backup_name;
}

Status MoveHold(Zfs& zfs, const std::string& dataset, const std::string& tag,
                const std::string& keep) {
  Result<std::vector<SnapshotInfo>> snapshots = zfs.ListSnapshots(dataset);
  if (!snapshots.ok()) return snapshots.status();
  const std::string kept = dataset + "@" + keep;
  std::vector<std::string> held;  // snapshots with any hold
  bool keep_exists = false;
  for (const SnapshotInfo& s : *snapshots) {
    if (s.userrefs > 0) held.push_back(s.full_name());
    keep_exists = keep_exists || s.name == keep;
  }
  if (!keep_exists) {
    return Status(StatusCode::kNotFound, "cannot hold " + kept + ": no such snapshot");
  }

  if (zfs.dialect().holds_list) {
    Result<std::vector<HoldInfo>> holds = zfs.Holds(held);
    if (!holds.ok()) return holds.status();
    std::vector<std::string> release;
    bool already = false;
    for (const HoldInfo& hold : *holds) {
      if (hold.tag != tag) continue;
      if (hold.snapshot == kept) {
        already = true;
      } else {
        release.push_back(hold.snapshot);
      }
    }
    if (!already) ZSEND_RETURN_IF_ERROR(zfs.Hold(tag, {kept}));
    return zfs.Release(tag, release);
  }

  Status hold = zfs.Hold(tag, {kept});
  if (!hold.ok() && !Mentions(hold, "tag already exists")) return hold;
  for (const std::string& snapshot : held) {
    if (snapshot == kept) continue;
    Status released = zfs.Release(tag, {snapshot});
    if (!released.ok() && !Mentions(released, "no such tag")) return released;
  }
  return Status::Ok();
}

}  // namespace zsend::orchestrator
