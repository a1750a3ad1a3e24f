// Value types the zfs command layer returns: datasets, snapshots, property values, holds, and
// the parsers for `zfs ... -H` output they are read from.
//
// -H output is one line per row, fields separated by a single tab. With -p (OpenZFS, and
// zfs-fuse's `get -p`) numbers are exact; the older `zfs list` prints sizes the human way
// ("676K", "3.07E"), which ParseZfsNumber reads approximately. Exact identities (guid,
// createtxg, userrefs) are therefore always read with `zfs get -p` or `zfs list -p`.
// Pure values and functions: thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace zsend::orchestrator {

enum class DatasetType { kFilesystem, kVolume, kSnapshot, kBookmark };

// "filesystem" -> kFilesystem...; nullopt for anything else.
std::optional<DatasetType> ParseDatasetType(const std::string& text);
const char* DatasetTypeName(DatasetType type);

struct DatasetInfo {
  std::string name;
  DatasetType type = DatasetType::kFilesystem;
  std::string origin;                             // "pool/fs@snap" for a clone, else empty
  std::map<std::string, std::string> properties;  // the extra properties asked for

  bool is_clone() const { return !origin.empty(); }
};

struct SnapshotInfo {
  std::string dataset;  // "pool/fs"
  std::string name;     // the part after '@'
  uint64_t guid = 0;
  uint64_t createtxg = 0;
  uint64_t userrefs = 0;  // number of holds

  std::string full_name() const { return dataset + "@" + name; }
};

enum class PropertySource { kNone, kDefault, kLocal, kInherited, kReceived, kTemporary };

struct PropertyValue {
  std::string dataset;
  std::string value;  // "-" when unset
  PropertySource source = PropertySource::kNone;
  std::string inherited_from;  // for kInherited: the dataset it comes from
};

struct HoldInfo {
  std::string snapshot;  // full name
  std::string tag;
};

// Splits -H output into rows of tab-separated fields; empty lines are skipped.
std::vector<std::vector<std::string>> ParseTabRows(const std::string& text);

// zfs get's SOURCE column: "local", "default", "-", "received", "temporary",
// "inherited from pool/fs".
PropertySource ParsePropertySource(const std::string& text, std::string* inherited_from);

// A number as zfs prints it: "12345" exactly, or "676K", "1.5M", "3.07E" (powers of 1024,
// approximate); nullopt for "-", "none" and anything else.
std::optional<uint64_t> ParseZfsNumber(const std::string& text);

// "pool/a/b" -> "pool/a"; "pool" -> "".
std::string ParentDataset(const std::string& dataset);
// True when `descendant` is strictly below `ancestor` ("pool/a/b" under "pool/a").
bool IsDescendant(const std::string& descendant, const std::string& ancestor);
// "pool/fs@snap" -> {"pool/fs", "snap"}; an error when there is no '@'.
Result<std::pair<std::string, std::string>> SplitSnapshotName(const std::string& full_name);

}  // namespace zsend::orchestrator
