#include "orchestrator/run/job_config.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace zsend::orchestrator {
namespace {

using nlohmann::json;

Status AddOptions(const json& object, const std::string& where, JobConfig* config) {
  if (!object.is_object()) return InvalidArgument(where + " must be a JSON object");
  for (const auto& item_pair : object.items()) {
    const std::string& key = item_pair.key();
    const json& value = item_pair.value();
    std::vector<std::string> values;
    auto scalar = [&](const json& v, std::string* out) -> Status {
      if (v.is_string()) {
        *out = v.get<std::string>();
      } else if (v.is_number_integer()) {
        *out = std::to_string(v.get<long long>());
      } else if (v.is_number()) {
        std::ostringstream text;
        text << v.get<double>();
        *out = text.str();
      } else if (v.is_boolean()) {
        *out = v.get<bool>() ? "true" : "false";
      } else {
        return InvalidArgument(where + "." + key + ": expected a string, number, boolean or array");
      }
      return Status::Ok();
    };
    if (value.is_array()) {
      for (const json& item : value) {
        std::string text;
        ZSEND_RETURN_IF_ERROR(scalar(item, &text));
        values.push_back(text);
      }
    } else {
      std::string text;
      ZSEND_RETURN_IF_ERROR(scalar(value, &text));
      if (value.is_boolean() && text == "false") {
        config->options.erase(key);
        continue;
      }
      values.push_back(text);
    }
    if (key == "backup-name") {
      config->backup_name = values.empty() ? "" : values.back();
    } else if (key == "target") {
      config->target_path = values.empty() ? "" : values.back();
    } else {
      config->options[key] = values;
    }
  }
  return Status::Ok();
}

}  // namespace

Result<JobConfig> ParseJobConfig(const std::string& json_text, const std::string& job,
                                 const std::string& origin) {
  json root = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) {
    return InvalidArgument(origin + ": not valid JSON (check commas and quotes)");
  }
  if (!root.is_object() || !root.contains("jobs") || !root["jobs"].is_object()) {
    return InvalidArgument(origin + ": needs a \"jobs\" object naming each job");
  }
  if (!root["jobs"].contains(job)) {
    std::string known;
    for (const auto& [name, unused] : root["jobs"].items())
      known += (known.empty() ? "" : ", ") + name;
    return Status(StatusCode::kNotFound, origin + ": no job '" + job +
                                             "' (jobs: " + (known.empty() ? "none" : known) + ")");
  }
  JobConfig config;
  config.job = job;
  config.backup_name = job;
  if (root.contains("defaults")) {
    ZSEND_RETURN_IF_ERROR(AddOptions(root["defaults"], origin + ": defaults", &config));
  }
  ZSEND_RETURN_IF_ERROR(AddOptions(root["jobs"][job], origin + ": jobs." + job, &config));
  return config;
}

Result<JobConfig> LoadJobConfig(const std::string& path, const std::string& job) {
  std::ifstream in(path);
  if (!in) return Status(StatusCode::kNotFound, "--config " + path + ": cannot read the file");
  std::ostringstream text;
  text << in.rdbuf();
  return ParseJobConfig(text.str(), job, path);
}

}  // namespace zsend::orchestrator
