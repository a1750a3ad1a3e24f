#include "orchestrator/plan/gather.h"

#include <cstdlib>
#include <set>

#include "orchestrator/plan/selection.h"

namespace zsend::orchestrator {
namespace {

// "\ttoguid = 0x9c1a0b2e4f5d6a7b" -> the value after "= ".
bool FieldValue(const std::string& line, const std::string& field, std::string* value) {
  size_t start = line.find_first_not_of(" \t");
  if (start == std::string::npos || line.compare(start, field.size(), field) != 0) return false;
  size_t equals = line.find('=', start + field.size());
  if (equals == std::string::npos) return false;
  if (line.find_first_not_of(" \t", start + field.size()) != equals) return false;
  size_t value_start = line.find_first_not_of(" \t", equals + 1);
  *value = value_start == std::string::npos ? "" : line.substr(value_start);
  return true;
}

uint64_t ParseGuid(const std::string& text) {
  return std::strtoull(text.c_str(), nullptr, text.rfind("0x", 0) == 0 ? 16 : 10);
}

}  // namespace

Result<ResumeTokenInfo> ParseResumeTokenContents(const std::string& text) {
  if (text.find("resume token contents") == std::string::npos) {
    return InvalidArgument("zfs send -nvt printed no resume token contents");
  }
  ResumeTokenInfo info;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    start = end + 1;
    std::string value;
    if (FieldValue(line, "fromguid", &value)) info.fromguid = ParseGuid(value);
    if (FieldValue(line, "toguid", &value)) info.toguid = ParseGuid(value);
    if (FieldValue(line, "toname", &value)) info.toname = value;
  }
  if (info.toguid == 0) return InvalidArgument("the resume token names no toguid");
  return info;
}

Result<ResumeTokenInfo> DecodeResumeToken(Zfs& source, const std::string& token) {
  Result<CommandOutput> output =
      source.runner().Run({{"zfs", "send", "-nvt", token}, Effect::kReadOnly, ""});
  if (!output.ok()) return output.status();
  return ParseResumeTokenContents(output->out + output->err);
}

Result<std::vector<DatasetState>> GatherStates(Zfs& source, Zfs& target,
                                               const std::vector<std::string>& selected,
                                               const GatherOptions& options) {
  Result<HostState> source_state = ReadHostState(source, selected, true);
  if (!source_state.ok()) return source_state.status();
  Result<HostState> target_state = ReadHostState(target, {options.target_path}, true);
  if (!target_state.ok() && target_state.status().code() != StatusCode::kNotFound) {
    return target_state.status();
  }
  return GatherFromStates(source, *source_state, target_state.ok() ? &*target_state : nullptr,
                          target.runner().HostLabel(), selected, options);
}

Result<std::vector<DatasetState>> GatherFromStates(Zfs& source, HostState& source_state,
                                                   const HostState* target_state,
                                                   const std::string& target_host,
                                                   const std::vector<std::string>& selected,
                                                   const GatherOptions& options) {
  std::vector<DatasetState> states;
  std::string target_error;
  if (target_state == nullptr) {
    target_error = "TARGET_PATH " + options.target_path + " does not exist on " + target_host +
                   " (pool not imported, or a wrong TARGET_PATH?); nothing is sent or destroyed "
                   "for it: create it first (zfs create -p " +
                   options.target_path + ")";
  }
  std::set<std::string> seen;
  std::vector<std::pair<std::string, bool>> todo;  // (dataset, selected)
  for (const std::string& name : selected) todo.push_back({name, true});
  std::set<std::string> selected_set(selected.begin(), selected.end());
  for (size_t i = 0; i < todo.size(); ++i) {
    auto [name, is_selected] = todo[i];
    if (!seen.insert(name).second) continue;
    DatasetState state;
    state.source = name;
    state.selected = is_selected;
    Result<std::string> target_name = TargetName(name, options.target_path, options.strip_path);
    if (!target_name.ok()) return target_name.status();
    state.target = *target_name;
    if (source_state.Find(name) == nullptr) {
      // A clone origin outside the selected subtrees: read it (and its snapshots) alone.
      Result<HostState> more = ReadHostState(source, {name}, false);
      if (!more.ok() && more.status().code() != StatusCode::kNotFound) return more.status();
      if (more.ok()) source_state.Merge(std::move(*more));
    }
    const DatasetRecord* record = source_state.Find(name);
    if (record == nullptr) return Status(StatusCode::kNotFound, "dataset " + name + " vanished");
    state.origin = record->origin;
    if (!state.origin.empty()) {
      Result<std::pair<std::string, std::string>> origin = SplitSnapshotName(state.origin);
      if (origin.ok() && !selected_set.count(origin->first)) todo.push_back({origin->first, false});
    }
    state.source_snapshots = record->snapshots;
    state.source_bookmarks = record->bookmarks;
    if (!target_error.empty()) {
      state.target_error = target_error;
      states.push_back(std::move(state));
      continue;
    }
    const DatasetRecord* copy = target_state->Find(state.target);
    state.target_exists = copy != nullptr;
    if (state.target_exists) {
      state.target_snapshots = copy->snapshots;
      state.resume_token = copy->resume_token;
      if (!state.resume_token.empty()) {
        Result<ResumeTokenInfo> decoded = DecodeResumeToken(source, state.resume_token);
        // An undecodable token is treated as stale by the planner only when its snapshot is
        // known to be gone; unknown (0) means "try to resume".
        if (decoded.ok()) state.resume_toguid = decoded->toguid;
      }
    }
    states.push_back(std::move(state));
  }
  return states;
}

}  // namespace zsend::orchestrator
