// Gathering: the planner's inputs (DatasetState) read from the source and target hosts.
//
// TARGET_PATH must exist on the target (zfs_autobackup's rule): a target dataset is taken as
// absent (a first, full send) only below a TARGET_PATH the target lists. When TARGET_PATH is
// not there (pool not imported, a typo), every dataset gets DatasetState::target_error and
// fails, instead of being planned against an "empty" target; when the target cannot be asked
// at all (ssh, zfs failing), GatherStates fails.
//
// Each host is read once (host_state.h: one zfs command for the selected subtrees on the
// source, one for TARGET_PATH's subtree on the target), never per dataset; a clone origin
// outside the selected subtrees costs one more read. For each selected dataset: its clone origin,
// its snapshots on the source, whether its target exists and the target's snapshots, and the
// target's receive_resume_token decoded on the source (`zfs send -nvt TOKEN`: which snapshot it was
// receiving). Clone origins outside the selection are added (selected = false), transitively, so
// the planner can send them first.
//
// Thread-safety: runs commands through both Zfs layers; call from one thread per run (the
// Zfs layers themselves are thread-safe once probed).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "orchestrator/plan/planner.h"
#include "orchestrator/zfs/host_state.h"
#include "orchestrator/zfs/zfs.h"

namespace zsend::orchestrator {

struct ResumeTokenInfo {
  uint64_t fromguid = 0;  // 0 for a full stream
  uint64_t toguid = 0;
  std::string toname;  // "pool/fs@snap" as it was on the sending side
};

// Parses OpenZFS's `zfs send -nvt TOKEN` output ("resume token contents: ... toguid = 0x..").
Result<ResumeTokenInfo> ParseResumeTokenContents(const std::string& text);

// Runs `zfs send -nvt TOKEN` on the source. The contents are printed even when the token's
// snapshot no longer exists (zfs then also fails), so a stale token still decodes.
Result<ResumeTokenInfo> DecodeResumeToken(Zfs& source, const std::string& token);

struct GatherOptions {
  std::string target_path;
  int strip_path = 0;
};

// The states of `selected` (source names, in any order) plus unselected clone origins.
Result<std::vector<DatasetState>> GatherStates(Zfs& source, Zfs& target,
                                               const std::vector<std::string>& selected,
                                               const GatherOptions& options);

// The same from host states already read: `target_state` null means TARGET_PATH is missing.
// `source_state` gains the unselected clone origins it lacked (read from `source`).
Result<std::vector<DatasetState>> GatherFromStates(Zfs& source, HostState& source_state,
                                                   const HostState* target_state,
                                                   const std::string& target_host,
                                                   const std::vector<std::string>& selected,
                                                   const GatherOptions& options);

}  // namespace zsend::orchestrator
