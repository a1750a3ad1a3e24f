// RetentionSpec: how many snapshots of a group to keep, as users write it on --keep-source and
// --keep-target.
//
// Two forms, both zfs_autobackup's (v3 "thinner") grammar:
//   "5"                  a plain count: keep the newest five (smartcopy's localSnapLimit).
//   "10,1d1w,1w1m,1m1y"  comma-separated rules: a plain number keeps that many newest
//                        snapshots whatever their age; each <period><ttl> rule keeps one
//                        snapshot per period for snapshots younger than ttl. "1d1w": one per day
//                        for a week; "1w1m": one per week for a month; "1m1y": one per month for
//                        a year.
// A third form, zback's retention string, is accepted wherever a spec is:
//   "24h30d0w3m"         three or more <count><unit> parts (units h, d, w, m, y): 24 hourly, 30
//                        daily, 0 weekly, 3 monthly; read as the rules 1h24h,1d30d,1m3m.
// Units (zfs_autobackup's): s, min, h, d, w, m (month = 30 days), y (year = 365.25 days). A
// period longer than its ttl is an error, as in zfs_autobackup. When several plain numbers
// appear the last one wins (zfs_autobackup does the same).
//
// Values, thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"

namespace zsend::orchestrator {

struct RetentionRule {
  double period_seconds = 0;  // one snapshot kept per block of this length (epoch aligned)
  double ttl_seconds = 0;     // snapshots older than this are not kept by this rule
  std::string text;           // "1d1w" as written (lower case)

  // "one per 1 day for 1 week" style description.
  std::string Describe() const;
};

struct RetentionSpec {
  int keep_newest = 0;               // the plain number ("5" -> 5); 0 when absent
  std::vector<RetentionRule> rules;  // the <period><ttl> rules in the order written
  std::string text;                  // the spec as given
  // Tag -> how many of the newest snapshots carrying it stay (--keep-tags "daily=7,weekly=4";
  // retention_decision.h). Empty: tags play no part.
  std::map<std::string, int> keep_tags;

  // One line per part: "keep the newest 10", "keep one per 1 day for 1 week"...
  std::vector<std::string> Describe() const;
};

// Parses a spec; `what` names the option in errors ("--keep-source").
Result<RetentionSpec> ParseRetentionSpec(const std::string& text, const std::string& what);

// Parses --keep-tags: "daily=7,weekly=4" (tag=count: IsValidTag tags, each once, counts from 1
// to 999999); `what` names the option in errors.
Result<std::map<std::string, int>> ParseTagKeeps(const std::string& text, const std::string& what);

// Whether `tag` may name a tag: 1 to 64 of letters, digits, '_', '.', ':', '-'.
bool IsValidTag(const std::string& tag);

// "daily,weekly" <-> {"daily", "weekly"}: the form of the `zsend:tags` property ("-" and "" are
// no tags).
std::vector<std::string> SplitTags(const std::string& text);
std::string JoinTags(const std::vector<std::string>& tags);

// Parses one zfs_autobackup duration ("1d", "30min", "2y") into seconds.
Result<double> ParseThinningDuration(const std::string& text);

}  // namespace zsend::orchestrator
