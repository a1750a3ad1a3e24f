// The schedule model of `zsend daemon` (backy's): pure functions of the time, no clock, no I/O.
//
// Each interval of a job's schedule has slots: the times offset + k * interval, where the offset
// is a stable hash of the job name taken modulo the interval (SpreadOffset), so many jobs on the
// same schedule start spread over the interval rather than together, and a job starts at the
// same point of its interval after every restart. The offsets of one job come from one hash, so
// when an interval is a multiple of another (1h, 1d, 1w) their slots coincide and one run
// carries both tags.
//
// Coverage: for each tag, the last slot a run was tagged for. A tag is due once its next slot
// (covered + interval) has come; a job runs at the earliest next slot of its tags, tagged with
// every tag that is due then. After the run starts every due tag's coverage moves to its latest
// slot at or before that time, so a job missed for many intervals (the daemon was down) runs ONCE
// with all the tags that fell due, not once per missed slot (catch-up). A tag never seen starts
// covered at its latest slot, so a new job first runs at its next slot.
//
// Values, thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "orchestrator/daemon/daemon_config.h"
#include "orchestrator/retention/retention_rules.h"

namespace zsend::orchestrator {

// tag -> the last slot (seconds since the epoch) a run was tagged for.
using TagCoverage = std::map<std::string, double>;

// Offset of the job's slots in an interval, in [0, interval).
double SpreadOffset(const std::string& job, double interval_seconds);
// The latest slot of the interval at or before `t`.
double SlotAtOrBefore(const std::string& job, double interval_seconds, double t);

// Adds the schedule's tags missing from *coverage (covered at their latest slot at `now`) and
// drops tags the schedule no longer has.
void InitCoverage(const Schedule& schedule, const std::string& job, double now,
                  TagCoverage* coverage);

struct NextRun {
  double due = 0;                 // the earliest next slot of the job's tags
  std::vector<std::string> tags;  // the tags due then, sorted
};
NextRun NextRunOf(const Schedule& schedule, const std::string& job, const TagCoverage& coverage);

// The tags due at `now` (sorted; empty: nothing due).
std::vector<std::string> DueTags(const Schedule& schedule, const std::string& job,
                                 const TagCoverage& coverage, double now);
// Marks a run started at `now` with `tags`: each moves to its latest slot at or before now.
void MarkRun(const Schedule& schedule, const std::string& job, const std::vector<std::string>& tags,
             double now, TagCoverage* coverage);

// The `zsend backup` options that carry a run's tags to its snapshots and rotate by them:
// `--keep-tags TAG=KEEP,...` (every interval of the schedule with a keep) on every run, and
// `--tags` with the run's tags whose interval has a keep (none for a `manual` run: its snapshot
// is untagged and rotated by keep-source/keep-target among the untagged). No options when no
// interval has a keep.
std::vector<std::string> TagOptions(const Schedule& schedule, const std::vector<std::string>& tags);
// TagCoverage as "tag=seconds;..." for the state table, and back (bad parts are dropped).
std::string EncodeCoverage(const TagCoverage& coverage);
TagCoverage DecodeCoverage(const std::string& text);

}  // namespace zsend::orchestrator
