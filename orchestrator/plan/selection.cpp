#include "orchestrator/plan/selection.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

namespace zsend::orchestrator {
namespace {

std::string Trim(const std::string& text) {
  size_t start = text.find_first_not_of(" \t\r\n");
  if (start == std::string::npos) return "";
  size_t end = text.find_last_not_of(" \t\r\n");
  return text.substr(start, end - start + 1);
}

void AddCommaSeparated(const std::string& list, std::set<std::string>& into) {
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    std::string item = Trim(list.substr(start, comma - start));
    if (!item.empty()) into.insert(item);
    start = comma + 1;
  }
}

}  // namespace

std::string SelectionProperty(const std::string& backup_name) {
  return "zsend:" + backup_name;
}

Result<std::vector<SelectionDecision>> DecideSelection(const std::string& property,
                                                       const std::vector<PropertyValue>& values,
                                                       bool include_received) {
  std::vector<SelectionDecision> decisions;
  std::map<std::string, PropertySource> set_by;  // dataset -> the source of the value it has
  for (const PropertyValue& value : values) {
    bool inherited = value.source == PropertySource::kInherited;
    SelectionDecision decision{value.dataset, false, inherited, ""};
    PropertySource source = value.source;
    if (auto from = set_by.find(value.inherited_from); inherited && from != set_by.end()) {
      source = from->second;
    }
    set_by[value.dataset] = source;
    const std::string& v = value.value;
    if (v == "-" || v.empty()) {
      decision.reason = "not set";
    } else if (v == "false") {
      decision.reason = "disabled";
    } else if (v == "true") {
      decision.selected = true;
      decision.reason = inherited ? "inherited selection" : "direct selection";
    } else if (v == "child") {
      decision.selected = inherited;
      decision.reason = inherited ? "inherited selection" : "only children";
    } else if (v == "parent") {
      decision.selected = !inherited;
      decision.reason = inherited ? "only the parent" : "direct selection";
    } else {
      return InvalidArgument(value.dataset + ": " + property + " has the value '" + v +
                             "'; use true, child, parent or false");
    }
    if (decision.selected && source == PropertySource::kReceived && !include_received) {
      decision.selected = false;
      decision.reason = "received copy: its " + property +
                        " arrived by zfs receive; --include-received selects it";
    }
    decisions.push_back(std::move(decision));
  }
  return decisions;
}

Result<std::vector<SelectionDecision>> SelectByProperty(Zfs& zfs, const std::string& backup_name,
                                                        const std::vector<std::string>& roots,
                                                        bool include_received) {
  std::string property = SelectionProperty(backup_name);
  Result<std::vector<PropertyValue>> values = zfs.GetProperty(property, roots, true);
  if (!values.ok()) return values.status();
  return DecideSelection(property, *values, include_received);
}

std::vector<std::string> SelectedNames(const std::vector<SelectionDecision>& decisions) {
  std::vector<std::string> names;
  for (const SelectionDecision& decision : decisions) {
    if (decision.selected) names.push_back(decision.dataset);
  }
  return names;
}

Result<std::vector<std::string>> VmDatasetsFromJson(const std::string& json,
                                                    const std::string& uuid) {
  nlohmann::json vm = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (vm.is_discarded() || !vm.is_object()) {
    return InvalidArgument("vmadm get " + uuid + " did not print a JSON object");
  }
  std::set<std::string> excluded;
  if (auto metadata = vm.find("internal_metadata"); metadata != vm.end() && metadata->is_object()) {
    for (const char* key : {"smartcopy_exclude", "zsend_exclude"}) {
      auto list = metadata->find(key);
      if (list != metadata->end() && list->is_string()) {
        AddCommaSeparated(list->get<std::string>(), excluded);
      }
    }
  }
  std::vector<std::string> datasets;
  auto add = [&](const nlohmann::json& object) {
    auto fs = object.find("zfs_filesystem");
    if (fs == object.end() || !fs->is_string()) return;
    std::string name = fs->get<std::string>();
    if (name.empty() || excluded.count(name)) return;
    if (std::find(datasets.begin(), datasets.end(), name) == datasets.end()) {
      datasets.push_back(name);
    }
  };
  add(vm);
  if (auto disks = vm.find("disks"); disks != vm.end() && disks->is_array()) {
    for (const nlohmann::json& disk : *disks) {
      if (disk.is_object()) add(disk);
    }
  }
  if (datasets.empty()) {
    return Status(
        StatusCode::kNotFound,
        "VM " + uuid + " has no datasets to back up (no zfs_filesystem, or all excluded)");
  }
  return datasets;
}

Result<std::vector<std::string>> VmDatasets(CommandRunner& runner, const std::string& uuid) {
  Result<CommandOutput> output =
      RunChecked(runner, {{"vmadm", "get", uuid}, Effect::kReadOnly, ""});
  if (!output.ok()) return output.status();
  return VmDatasetsFromJson(output->out, uuid);
}

Result<std::vector<std::string>> CheckNamedDatasets(Zfs& zfs,
                                                    const std::vector<std::string>& datasets) {
  std::vector<std::string> unique;
  for (const std::string& dataset : datasets) {
    if (std::find(unique.begin(), unique.end(), dataset) != unique.end()) continue;
    Result<bool> exists = zfs.Exists(dataset);
    if (!exists.ok()) return exists.status();
    if (!*exists) {
      return Status(StatusCode::kNotFound, "dataset " + dataset + " does not exist on " +
                                               zfs.runner().HostLabel() + "; check --dataset");
    }
    unique.push_back(dataset);
  }
  return unique;
}

Result<std::string> TargetName(const std::string& source, const std::string& target_path,
                               int strip_path) {
  if (strip_path < 0) return InvalidArgument("--strip-path must not be negative");
  std::string rest = source;
  for (int i = 0; i < strip_path; ++i) {
    size_t slash = rest.find('/');
    if (slash == std::string::npos) {
      return InvalidArgument("--strip-path " + std::to_string(strip_path) + " removes all of " +
                             source + "; use a smaller number");
    }
    rest = rest.substr(slash + 1);
  }
  std::string base = target_path;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base.empty() ? rest : base + "/" + rest;
}

}  // namespace zsend::orchestrator
