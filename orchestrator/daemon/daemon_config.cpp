#include "orchestrator/daemon/daemon_config.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "orchestrator/retention/retention_rules.h"

namespace zsend::orchestrator {
namespace {

using nlohmann::json;

struct Unit {
  const char* name;
  double seconds;
};
constexpr Unit kUnits[] = {{"s", 1},         {"min", 60},       {"h", 3600},          {"d", 86400},
                           {"w", 7 * 86400}, {"m", 30 * 86400}, {"y", 365.25 * 86400}};

Result<int> ParseKeep(const json& value, const std::string& what) {
  if (value.is_number_integer() && value.get<long long>() >= 0 &&
      value.get<long long>() < 1000000) {
    return static_cast<int>(value.get<long long>());
  }
  return InvalidArgument(what + ": keep must be a count of runs (0 or more), e.g. \"keep\": 7");
}

Result<Schedule> ParseSchedule(const json& value, const std::string& name,
                               const std::string& where) {
  if (!value.is_object() || value.empty()) {
    return InvalidArgument(where +
                           ": a schedule names its intervals, e.g. {\"daily\": "
                           "{\"interval\": \"1d\", \"keep\": 7}}");
  }
  Schedule schedule;
  schedule.name = name;
  for (const auto& [tag, item] : value.items()) {
    const std::string at = where + "." + tag;
    if (!IsValidTag(tag)) {
      return InvalidArgument(at + ": a tag name is 1 to 64 letters, digits, '_', '.', ':' or '-'");
    }
    if (!item.is_object() || !item.contains("interval")) {
      return InvalidArgument(at + ": needs {\"interval\": \"1d\", \"keep\": 7}");
    }
    for (const auto& [key, unused] : item.items()) {
      if (key != "interval" && key != "keep") {
        return InvalidArgument(at + "." + key +
                               ": unknown key; an interval has only "
                               "\"interval\" and \"keep\"");
      }
    }
    ScheduleInterval interval;
    interval.tag = tag;
    const json& every = item["interval"];
    std::string text = every.is_string()           ? every.get<std::string>()
                       : every.is_number_integer() ? std::to_string(every.get<long long>())
                                                   : "";
    Result<double> seconds = ParseInterval(text, at + ".interval");
    if (!seconds.ok()) return seconds.status();
    interval.seconds = *seconds;
    if (item.contains("keep")) {
      Result<int> keep = ParseKeep(item["keep"], at + ".keep");
      if (!keep.ok()) return keep.status();
      interval.keep = *keep;
    }
    schedule.intervals.push_back(interval);
  }
  return schedule;
}

Status ParseJob(const json& value, const std::string& name, const std::string& where,
                const json& defaults, DaemonJob* job) {
  if (!value.is_object()) return InvalidArgument(where + " must be a JSON object");
  job->name = name;
  job->schedule = "default";
  job->snapshot_only = !value.contains("target") && !defaults.contains("target");
  for (const json* object : {&defaults, &value}) {
    for (const auto& [key, item] : object->items()) {
      const std::string at = where + "." + key;
      if (key == "schedule") {
        if (!item.is_string()) return InvalidArgument(at + ": name a schedule, e.g. \"daily\"");
        job->schedule = item.get<std::string>();
      } else if (key == "dataset") {
        job->datasets.clear();
        for (const json& d : item.is_array() ? item : json::array({item})) {
          if (!d.is_string()) return InvalidArgument(at + ": a dataset name or a list of them");
          job->datasets.push_back(d.get<std::string>());
        }
      } else if (key == "hook-timeout") {
        if (!item.is_number() || item.get<double>() < 1) {
          return InvalidArgument(at + ": seconds, at least 1, e.g. \"hook-timeout\": 60");
        }
        job->hook_timeout = item.get<double>();
      } else if (key == "post-snapshot" || key == "pre-send" ||
                 std::find(std::begin(kHookNames), std::end(kHookNames), key) !=
                     std::end(kHookNames)) {
        if (!item.is_string() || item.get<std::string>().empty()) {
          return InvalidArgument(at + ": a shell command, e.g. \"/usr/local/bin/freeze-db\"");
        }
        // post-snapshot and pre-send run inside `zsend backup`, which reads them from the job.
        if (key != "post-snapshot" && key != "pre-send") job->hooks[key] = item.get<std::string>();
      }
    }
  }
  return Status::Ok();
}

}  // namespace

double Schedule::ShortestSeconds() const {
  double shortest = 0;
  for (const ScheduleInterval& interval : intervals) {
    if (shortest == 0 || interval.seconds < shortest) shortest = interval.seconds;
  }
  return shortest;
}

const DaemonJob* DaemonConfig::FindJob(const std::string& name) const {
  for (const DaemonJob& job : jobs) {
    if (job.name == name) return &job;
  }
  return nullptr;
}

Result<double> ParseInterval(const std::string& text, const std::string& what) {
  const std::string usage =
      what + ": bad interval '" + text + "'; write a count and a unit like 2s, 15min, 1h, 1d, 1w";
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0 || digits > 9) return InvalidArgument(usage);
  const double amount = std::stod(text.substr(0, digits));
  const std::string unit = digits == text.size() ? "s" : text.substr(digits);
  for (const Unit& u : kUnits) {
    if (unit == u.name) {
      if (amount < 1) return InvalidArgument(what + ": the interval must be at least 1s");
      return amount * u.seconds;
    }
  }
  return InvalidArgument(usage);
}

Result<DaemonConfig> ParseDaemonConfig(const std::string& json_text, const std::string& origin) {
  json root = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) {
    return InvalidArgument(origin + ": not valid JSON (check commas and quotes)");
  }
  if (!root.is_object() || !root.contains("jobs") || !root["jobs"].is_object()) {
    return InvalidArgument(origin + ": needs a \"jobs\" object naming each job");
  }
  DaemonConfig config;
  json defaults = root.contains("defaults") ? root["defaults"] : json::object();
  if (!defaults.is_object()) return InvalidArgument(origin + ": defaults must be a JSON object");
  if (defaults.contains("state-dir") && defaults["state-dir"].is_string()) {
    config.state_dir = defaults["state-dir"].get<std::string>();
  }
  if (root.contains("daemon")) {
    const json& daemon = root["daemon"];
    if (!daemon.is_object()) return InvalidArgument(origin + ": daemon must be a JSON object");
    for (const auto& [key, item] : daemon.items()) {
      if (key != "worker-limit") {
        return InvalidArgument(origin + ": daemon." + key +
                               ": unknown key; the daemon section has \"worker-limit\"");
      }
      if (!item.is_number_integer() || item.get<long long>() < 1 || item.get<long long>() > 1000) {
        return InvalidArgument(origin +
                               ": daemon.worker-limit: a count of jobs run at once, at least 1");
      }
      config.worker_limit = static_cast<int>(item.get<long long>());
    }
  }
  if (root.contains("schedules")) {
    if (!root["schedules"].is_object()) {
      return InvalidArgument(origin + ": schedules must be a JSON object of named schedules");
    }
    for (const auto& [name, item] : root["schedules"].items()) {
      Result<Schedule> schedule = ParseSchedule(item, name, origin + ": schedules." + name);
      if (!schedule.ok()) return schedule.status();
      config.schedules[name] = *schedule;
    }
  }
  for (const auto& [name, item] : root["jobs"].items()) {
    DaemonJob job;
    ZSEND_RETURN_IF_ERROR(ParseJob(item, name, origin + ": jobs." + name, defaults, &job));
    if (!config.schedules.count(job.schedule)) {
      return InvalidArgument(origin + ": jobs." + name + ".schedule: no schedule '" + job.schedule +
                             "'; define it under \"schedules\"");
    }
    config.jobs.push_back(job);
  }
  return config;
}

Result<DaemonConfig> LoadDaemonConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status(StatusCode::kNotFound, "--config " + path + ": cannot read the file");
  std::ostringstream text;
  text << in.rdbuf();
  return ParseDaemonConfig(text.str(), path);
}

Result<DaemonConfig> LoadAndKeepDaemonConfig(const std::string& path, const std::string& kept) {
  std::ifstream in(path);
  if (!in) return Status(StatusCode::kNotFound, "--config " + path + ": cannot read the file");
  std::ostringstream text;
  text << in.rdbuf();
  Result<DaemonConfig> config = ParseDaemonConfig(text.str(), path);
  if (!config.ok()) return config;
  const std::string temporary = kept + ".new";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << text.str();
    if (!out.flush()) return Unavailable("cannot write " + temporary);
  }
  chmod(temporary.c_str(), 0600);
  if (rename(temporary.c_str(), kept.c_str()) != 0) return Unavailable("cannot write " + kept);
  return config;
}

}  // namespace zsend::orchestrator
