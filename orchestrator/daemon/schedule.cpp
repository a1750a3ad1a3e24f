#include "orchestrator/daemon/schedule.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace zsend::orchestrator {
namespace {

constexpr double kSlack = 1e-6;  // slots compared as equal within this

const ScheduleInterval* FindTag(const Schedule& schedule, const std::string& tag) {
  for (const ScheduleInterval& interval : schedule.intervals) {
    if (interval.tag == tag) return &interval;
  }
  return nullptr;
}

}  // namespace

double SpreadOffset(const std::string& job, double interval_seconds) {
  uint64_t hash = 1469598103934665603ull;  // FNV-1a: the same on every host and every run
  for (unsigned char c : job) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  // Whole seconds below ~31 years: one number for every interval of the job, so that slots of
  // intervals that divide each other coincide.
  const double spread = static_cast<double>(hash % 1000000007ull);
  return std::fmod(spread, interval_seconds);
}

double SlotAtOrBefore(const std::string& job, double interval_seconds, double t) {
  const double offset = SpreadOffset(job, interval_seconds);
  return offset + std::floor((t - offset + kSlack) / interval_seconds) * interval_seconds;
}

void InitCoverage(const Schedule& schedule, const std::string& job, double now,
                  TagCoverage* coverage) {
  for (auto it = coverage->begin(); it != coverage->end();) {
    it = FindTag(schedule, it->first) == nullptr ? coverage->erase(it) : std::next(it);
  }
  for (const ScheduleInterval& interval : schedule.intervals) {
    if (!coverage->count(interval.tag)) {
      (*coverage)[interval.tag] = SlotAtOrBefore(job, interval.seconds, now);
    }
  }
}

NextRun NextRunOf(const Schedule& schedule, const std::string& job, const TagCoverage& coverage) {
  NextRun next;
  bool first = true;
  for (const ScheduleInterval& interval : schedule.intervals) {
    auto found = coverage.find(interval.tag);
    const double covered = found == coverage.end() ? 0 : found->second;
    // The slot after the covered one (on the job's current offset, should the interval change).
    const double due = SlotAtOrBefore(job, interval.seconds, covered) + interval.seconds;
    if (first || due < next.due - kSlack) {
      next.due = due;
      next.tags = {interval.tag};
      first = false;
    } else if (std::fabs(due - next.due) <= kSlack) {
      next.tags.push_back(interval.tag);
    }
  }
  return next;  // intervals are sorted by tag, so the tags are too
}

std::vector<std::string> DueTags(const Schedule& schedule, const std::string& job,
                                 const TagCoverage& coverage, double now) {
  std::vector<std::string> due;
  for (const ScheduleInterval& interval : schedule.intervals) {
    auto found = coverage.find(interval.tag);
    const double covered = found == coverage.end() ? 0 : found->second;
    if (SlotAtOrBefore(job, interval.seconds, covered) + interval.seconds <= now + kSlack) {
      due.push_back(interval.tag);
    }
  }
  return due;
}

void MarkRun(const Schedule& schedule, const std::string& job, const std::vector<std::string>& tags,
             double now, TagCoverage* coverage) {
  for (const std::string& tag : tags) {
    if (const ScheduleInterval* interval = FindTag(schedule, tag)) {
      (*coverage)[tag] = SlotAtOrBefore(job, interval->seconds, now);
    }
  }
}

std::string EncodeCoverage(const TagCoverage& coverage) {
  std::string text;
  for (const auto& [tag, slot] : coverage) {
    char number[64];
    std::snprintf(number, sizeof number, "%.3f", slot);
    text += tag + "=" + number + ";";
  }
  return text;
}

TagCoverage DecodeCoverage(const std::string& text) {
  TagCoverage coverage;
  std::stringstream stream(text);
  std::string part;
  while (std::getline(stream, part, ';')) {
    const size_t equals = part.find('=');
    if (equals == std::string::npos || equals == 0) continue;
    char* end = nullptr;
    const std::string number = part.substr(equals + 1);
    const double slot = std::strtod(number.c_str(), &end);
    if (end != number.c_str() && *end == '\0') coverage[part.substr(0, equals)] = slot;
  }
  return coverage;
}

std::vector<std::string> TagOptions(const Schedule& schedule,
                                    const std::vector<std::string>& tags) {
  std::string keeps, kept_tags;
  for (const ScheduleInterval& interval : schedule.intervals) {
    if (interval.keep <= 0) continue;
    keeps += (keeps.empty() ? "" : ",") + interval.tag + "=" + std::to_string(interval.keep);
    if (std::find(tags.begin(), tags.end(), interval.tag) != tags.end()) {
      kept_tags += (kept_tags.empty() ? "" : ",") + interval.tag;
    }
  }
  if (keeps.empty()) return {};
  // --keep-tags always (a run without such tags must not thin the tagged ones by count), --tags
  // only with the run's tags that have a keep.
  if (kept_tags.empty()) return {"--keep-tags", keeps};
  return {"--tags", kept_tags, "--keep-tags", keeps};
}

}  // namespace zsend::orchestrator
