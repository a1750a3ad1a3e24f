#include "orchestrator/zfs/zfs_types.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

namespace zsend::orchestrator {

std::optional<DatasetType> ParseDatasetType(const std::string& text) {
  if (text == "filesystem") return DatasetType::kFilesystem;
  if (text == "volume") return DatasetType::kVolume;
  if (text == "snapshot") return DatasetType::kSnapshot;
  if (text == "bookmark") return DatasetType::kBookmark;
  return std::nullopt;
}

const char* DatasetTypeName(DatasetType type) {
  switch (type) {
    case DatasetType::kFilesystem:
      return "filesystem";
    case DatasetType::kVolume:
      return "volume";
    case DatasetType::kSnapshot:
      return "snapshot";
    case DatasetType::kBookmark:
      return "bookmark";
  }
  return "?";
}

std::vector<std::vector<std::string>> ParseTabRows(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    start = end + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::vector<std::string> fields;
    size_t field_start = 0;
    for (;;) {
      size_t tab = line.find('\t', field_start);
      fields.push_back(line.substr(field_start, tab - field_start));
      if (tab == std::string::npos) break;
      field_start = tab + 1;
    }
    rows.push_back(std::move(fields));
  }
  return rows;
}

PropertySource ParsePropertySource(const std::string& text, std::string* inherited_from) {
  static const std::string kInheritedPrefix = "inherited from ";
  if (text.rfind(kInheritedPrefix, 0) == 0) {
    if (inherited_from) *inherited_from = text.substr(kInheritedPrefix.size());
    return PropertySource::kInherited;
  }
  if (text == "local") return PropertySource::kLocal;
  if (text == "default") return PropertySource::kDefault;
  if (text == "received") return PropertySource::kReceived;
  if (text == "temporary") return PropertySource::kTemporary;
  return PropertySource::kNone;
}

std::optional<uint64_t> ParseZfsNumber(const std::string& text) {
  if (text.empty()) return std::nullopt;
  size_t digits = 0;
  while (digits < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[digits])) || text[digits] == '.')) {
    ++digits;
  }
  if (digits == 0) return std::nullopt;
  std::string number = text.substr(0, digits);
  std::string suffix = text.substr(digits);
  if (suffix.empty() && number.find('.') == std::string::npos) {
    return std::strtoull(number.c_str(), nullptr, 10);
  }
  static const std::string kSuffixes = "BKMGTPE";
  if (suffix.size() > 1) return std::nullopt;
  size_t power = suffix.empty() ? 0 : kSuffixes.find(static_cast<char>(std::toupper(suffix[0])));
  if (power == std::string::npos) return std::nullopt;
  long double value = std::strtold(number.c_str(), nullptr);
  value *= std::pow(1024.0L, power == 0 ? 0 : static_cast<long double>(power));
  if (value >= 18446744073709551615.0L) return UINT64_MAX;
  return static_cast<uint64_t>(value);
}

std::string ParentDataset(const std::string& dataset) {
  size_t slash = dataset.rfind('/');
  return slash == std::string::npos ? std::string() : dataset.substr(0, slash);
}

bool IsDescendant(const std::string& descendant, const std::string& ancestor) {
  return descendant.size() > ancestor.size() + 1 && descendant.rfind(ancestor, 0) == 0 &&
         descendant[ancestor.size()] == '/';
}

Result<std::pair<std::string, std::string>> SplitSnapshotName(const std::string& full_name) {
  size_t at = full_name.find('@');
  if (at == std::string::npos || at == 0 || at + 1 == full_name.size()) {
    return InvalidArgument("'" + full_name + "' is not a snapshot name (dataset@snapshot)");
  }
  return std::make_pair(full_name.substr(0, at), full_name.substr(at + 1));
}

}  // namespace zsend::orchestrator
