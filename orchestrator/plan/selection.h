// Selection: which datasets a backup covers, and what they are called on the target.
//
// By property (the default), exactly as zfs_autobackup's `autobackup:NAME`: the user property
// `zsend:BACKUP_NAME` on filesystems and volumes says
//   true    select this dataset and every descendant that inherits the value,
//   child   select only the descendants that inherit it (not the dataset where it is set),
//   parent  select only the dataset where it is set (not the descendants inheriting it),
//   false   exclude this dataset and the descendants inheriting it.
// "Set here" means the property's source is local (or received); "inherited" means the source
// is "inherited from ...". A descendant may set its own value, which then rules its subtree.
// Unset ("-") selects nothing; any other value is an error naming the dataset.
// A value that arrived by `zfs receive` (source "received", or inherited from a dataset where it
// did) selects nothing unless `include_received`: that dataset is a copy another tool (or `zfs
// send -p`) replicated here, not a source (zfs_autobackup's --exclude-received, made the default).
//
// `--dataset` lists and `--vm UUID` (SmartOS: the VM's zfs_filesystem and its disks'
// zfs_filesystem from `vmadm get UUID`, minus the comma-separated lists in
// internal_metadata.smartcopy_exclude and internal_metadata.zsend_exclude) replace it.
//
// Target names: TARGET_PATH + "/" + the source name without its first --strip-path
// components. Pure functions are thread-safe; the ones taking a Zfs or runner run commands.
#pragma once

#include <string>
#include <vector>

#include "orchestrator/host/command_runner.h"
#include "orchestrator/zfs/zfs.h"

namespace zsend::orchestrator {

struct SelectionDecision {
  std::string dataset;
  bool selected = false;
  // The value is inherited from an ancestor, not set on this dataset: `zfs send -p` leaves it
  // out of this dataset's stream.
  bool inherited = false;
  std::string reason;  // "direct selection", "inherited selection", "disabled",
                       // "only children", "only the parent", "not set", "received copy ..."
};

// "zsend:" + backup name.
std::string SelectionProperty(const std::string& backup_name);

// The decision for each dataset from its property value and source (zfs get output order:
// parents before their children).
Result<std::vector<SelectionDecision>> DecideSelection(const std::string& property,
                                                       const std::vector<PropertyValue>& values,
                                                       bool include_received = false);

// Reads the property on the host (every pool when `roots` is empty) and decides.
Result<std::vector<SelectionDecision>> SelectByProperty(Zfs& zfs, const std::string& backup_name,
                                                        const std::vector<std::string>& roots = {},
                                                        bool include_received = false);

// The names of the selected decisions, in order.
std::vector<std::string> SelectedNames(const std::vector<SelectionDecision>& decisions);

// The datasets of one VM from `vmadm get` JSON (SmartOS format), exclusions removed.
Result<std::vector<std::string>> VmDatasetsFromJson(const std::string& json,
                                                    const std::string& uuid);
// Runs `vmadm get UUID` on the host and reads its datasets.
Result<std::vector<std::string>> VmDatasets(CommandRunner& runner, const std::string& uuid);

// Checks that every named dataset exists on the host (--dataset); returns them in order,
// without duplicates.
Result<std::vector<std::string>> CheckNamedDatasets(Zfs& zfs,
                                                    const std::vector<std::string>& datasets);

// TARGET_PATH/source-without-its-first-strip-components; an error when stripping would leave
// nothing.
Result<std::string> TargetName(const std::string& source, const std::string& target_path,
                               int strip_path);

}  // namespace zsend::orchestrator
