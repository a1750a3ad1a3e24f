// The zfs subcommands FakeZfsRunner interprets (see fake_zfs.h). Output formats follow
// OpenZFS's documentation (-H: tab-separated, no header; -p: exact numbers) and, for the
// legacy flavour, what zfs-fuse prints (human-readable numbers in `list`, errors for options
// it lacks).
#include <algorithm>
#include <sstream>

#include "tests/support/fake_zfs.h"

namespace zsend::test {
namespace orch = zsend::orchestrator;
namespace {

std::string TreeKey(const std::string& name) {
  std::string key = name;
  std::replace(key.begin(), key.end(), '/', '\x01');
  return key;
}

std::vector<std::string> Split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  std::string part;
  while (std::getline(stream, part, separator)) parts.push_back(part);
  return parts;
}

struct Parsed {
  std::set<char> flags;
  std::map<char, std::string> values;
  std::vector<std::string> operands;
  char bad = 0;
};

// getopt-like: `allowed` letters, of which `with_value` take an argument.
Parsed ParseArgs(const std::vector<std::string>& args, const std::string& allowed,
                 const std::string& with_value) {
  Parsed parsed;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.size() < 2 || a[0] != '-' || !parsed.operands.empty()) {
      parsed.operands.push_back(a);
      continue;
    }
    for (size_t j = 1; j < a.size(); ++j) {
      char c = a[j];
      if (allowed.find(c) == std::string::npos) {
        if (!parsed.bad) parsed.bad = c;
        continue;
      }
      if (with_value.find(c) != std::string::npos) {
        parsed.values[c] =
            j + 1 < a.size() ? a.substr(j + 1) : (i + 1 < args.size() ? args[++i] : "");
        break;
      }
      parsed.flags.insert(c);
    }
  }
  return parsed;
}

// zfs's human numbers: "676K", "3.07E".
std::string Human(uint64_t value) {
  const char* units = "BKMGTPE";
  long double v = static_cast<long double>(value);
  int unit = 0;
  while (v >= 1024 && unit < 6) {
    v /= 1024;
    ++unit;
  }
  if (unit == 0) return std::to_string(value);
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, v < 10 ? "%.2Lf%c" : (v < 100 ? "%.1Lf%c" : "%.0Lf%c"), v,
                units[unit]);
  return buffer;
}

// `creation` in seconds: a fixed epoch plus the creating transaction group.
constexpr uint64_t kEpoch = 1796000000;

std::string NotFound(const std::string& name) {
  return "cannot open '" + name + "': dataset does not exist\n";
}

}  // namespace

FakeZfsRunner::Snapshot* FakeZfsRunner::FindSnapshot(const std::string& full_name) {
  size_t at = full_name.find('@');
  if (at == std::string::npos) return nullptr;
  auto it = datasets_.find(full_name.substr(0, at));
  if (it == datasets_.end()) return nullptr;
  for (Snapshot& s : it->second.snapshots) {
    if (s.name == full_name.substr(at + 1)) return &s;
  }
  return nullptr;
}

const FakeZfsRunner::Snapshot* FakeZfsRunner::FindBookmark(const std::string& full_name) const {
  size_t hash = full_name.find('#');
  auto it = datasets_.find(full_name.substr(0, hash));
  if (hash == std::string::npos || it == datasets_.end()) return nullptr;
  for (const Snapshot& b : it->second.bookmarks) {
    if (b.name == full_name.substr(hash + 1)) return &b;
  }
  return nullptr;
}

FakeZfsRunner::Reply FakeZfsRunner::BookmarkCommand(const Args& args) {
  Parsed p = ParseArgs(args, "", "");
  if (p.bad) return Usage(std::string(1, p.bad));
  if (p.operands.size() != 2) return {2, "", "wrong number of arguments\n"};
  const std::string& from = p.operands[0];
  const std::string& mark = p.operands[1];
  size_t hash = mark.find('#');
  if (hash == std::string::npos || mark.substr(0, hash) != from.substr(0, from.find('@'))) {
    return {1, "", "cannot create bookmark '" + mark + "': invalid bookmark name\n"};
  }
  const Snapshot* snapshot = FindSnapshot(from);
  if (!snapshot) return {1, "", "cannot create bookmark '" + mark + "': " + NotFound(from)};
  if (FindBookmark(mark)) {
    return {1, "", "cannot create bookmark '" + mark + "': bookmark exists\n"};
  }
  Snapshot copy = *snapshot;
  copy.name = mark.substr(hash + 1);
  copy.holds.clear();
  datasets_[mark.substr(0, hash)].bookmarks.push_back(copy);
  return {};
}

std::pair<std::string, std::string> FakeZfsRunner::Property(const std::string& name,
                                                            const std::string& property) const {
  if (const Snapshot* mark = FindBookmark(name)) {
    if (property == "type") return {"bookmark", "-"};
    if (property == "name") return {name, "-"};
    if (property == "guid") return {std::to_string(mark->guid), "-"};
    if (property == "createtxg") return {std::to_string(mark->createtxg), "-"};
    return {"-", "-"};
  }
  size_t at = name.find('@');
  std::string dataset_name = name.substr(0, at);
  const Dataset& d = datasets_.at(dataset_name);
  const Snapshot* snapshot = nullptr;
  if (at != std::string::npos) {
    for (const Snapshot& s : d.snapshots) {
      if (s.name == name.substr(at + 1)) snapshot = &s;
    }
  }
  if (property.find(':') != std::string::npos) {
    for (std::string a = dataset_name; !a.empty(); a = orch::ParentDataset(a)) {
      const Dataset& at_a = datasets_.at(a);
      std::string source = "local";
      auto it = at_a.local.find(property);
      if (it == at_a.local.end()) {
        source = "received";
        it = at_a.received.find(property);
        if (it == at_a.received.end()) continue;
      }
      if (a == dataset_name && !snapshot) return {it->second, source};
      return {it->second, "inherited from " + a};
    }
    return {"-", "-"};
  }
  if (property == "type") return {snapshot ? "snapshot" : orch::DatasetTypeName(d.type), "-"};
  if (property == "name") return {name, "-"};
  if (snapshot) {
    if (property == "guid") return {std::to_string(snapshot->guid), "-"};
    if (property == "createtxg") return {std::to_string(snapshot->createtxg), "-"};
    if (property == "creation") return {std::to_string(kEpoch + snapshot->createtxg), "-"};
    if (property == "userrefs") return {std::to_string(snapshot->holds.size()), "-"};
    if (property == "used" || property == "referenced") return {"8192", "-"};
    if (property == "written" && flavor_ == Flavor::kOpenZfs) return {"8192", "-"};
    return {"-", "-"};
  }
  if (property == "origin") return {d.origin.empty() ? "-" : d.origin, "-"};
  if (property == "guid") return {std::to_string(d.createtxg * 1000003 + 17), "-"};
  if (property == "createtxg") return {std::to_string(d.createtxg), "-"};
  if (property == "creation") return {std::to_string(kEpoch + d.createtxg), "-"};
  if (property == "used" || property == "referenced") return {"1258291", "-"};
  // `written` is not modelled: every dataset has changed since its last snapshot.
  if (property == "written" && flavor_ == Flavor::kOpenZfs) return {"8192", "-"};
  if (property == "receive_resume_token") {
    return {d.resume_token.empty() ? "-" : d.resume_token, "-"};
  }
  auto local = d.local.find(property);
  if (local != d.local.end()) return {local->second, "local"};
  return {"-", "default"};
}

std::vector<std::string> FakeZfsRunner::Names(const std::vector<std::string>& roots, bool recursive,
                                              int depth, const std::set<std::string>& types) const {
  std::vector<std::pair<std::string, std::string>> keyed;  // (tree key, name)
  // A dataset's snapshots come right after it, before its children (as zfs prints them).
  auto add_dataset = [&](const std::string& name, int level) {
    const Dataset& d = datasets_.at(name);
    if (types.count(orch::DatasetTypeName(d.type))) keyed.push_back({TreeKey(name), name});
    const bool below = recursive || depth >= 0 || types == std::set<std::string>{"snapshot"};
    if (types.count("snapshot") && below && (level < depth || depth < 0)) {
      for (const Snapshot& s : d.snapshots) {
        keyed.push_back(
            {TreeKey(name) + std::string(1, '\0') + std::to_string(s.createtxg + 1000000000),
             name + "@" + s.name});
      }
    }
    if (types.count("bookmark") && below && (level < depth || depth < 0)) {
      for (const Snapshot& b : d.bookmarks) {
        keyed.push_back(
            {TreeKey(name) + std::string(2, '\0') + std::to_string(b.createtxg + 1000000000),
             name + "#" + b.name});
      }
    }
  };
  for (const std::string& root : roots) {
    if (root.find('@') != std::string::npos) {
      keyed.push_back({TreeKey(root), root});
      continue;
    }
    add_dataset(root, 0);
    if (!recursive) continue;
    for (const auto& [name, d] : datasets_) {
      if (!orch::IsDescendant(name, root)) continue;
      int level = static_cast<int>(std::count(name.begin(), name.end(), '/') -
                                   std::count(root.begin(), root.end(), '/'));
      if (depth >= 0 && level > depth) continue;
      add_dataset(name, level);
    }
  }
  std::sort(keyed.begin(), keyed.end());
  std::vector<std::string> names;
  for (auto& [key, name] : keyed) names.push_back(name);
  return names;
}

FakeZfsRunner::Reply FakeZfsRunner::List(const Args& args) {
  bool modern = flavor_ == Flavor::kOpenZfs;
  Parsed p = ParseArgs(args, modern ? "HprdotsS" : "HrdotsS", "dotsS");
  if (p.bad) return Usage(std::string(1, p.bad));
  std::vector<std::string> roots = p.operands;
  if (roots.empty()) {
    for (const auto& [name, d] : datasets_) {
      if (name.find('/') == std::string::npos) roots.push_back(name);
    }
    p.flags.insert('r');
  }
  for (const std::string& root : roots) {
    if (root.find('@') != std::string::npos ? !FindSnapshot(root) : !datasets_.count(root)) {
      return {1, "", NotFound(root)};
    }
  }
  std::set<std::string> types = {"filesystem", "volume"};
  if (p.values.count('t')) {
    auto list = Split(p.values['t'], ',');
    types = std::set<std::string>(list.begin(), list.end());
    if (types.count("all")) types = {"filesystem", "volume", "snapshot", "bookmark"};
  }
  int depth = p.values.count('d') ? std::stoi(p.values['d']) : -1;
  bool recursive = p.flags.count('r') || depth >= 0;
  std::vector<std::string> columns = Split(p.values.count('o') ? p.values['o'] : "name,used", ',');
  std::vector<std::string> names = Names(roots, recursive, depth, types);
  if (p.values.count('s')) {
    std::string key = p.values['s'];
    std::stable_sort(names.begin(), names.end(), [&](const std::string& a, const std::string& b) {
      return std::stoull(Property(a, key).first) < std::stoull(Property(b, key).first);
    });
  }
  Reply reply;
  for (const std::string& name : names) {
    std::string line;
    for (const std::string& column : columns) {
      if (column == "receive_resume_token" && !modern) {
        return {2, "", "bad property list: invalid property 'receive_resume_token'\n"};
      }
      std::string value = Property(name, column).first;
      bool numeric = column == "guid" || column == "used" || column == "referenced";
      if (numeric && !p.flags.count('p') && value != "-") value = Human(std::stoull(value));
      line += (line.empty() ? "" : "\t") + value;
    }
    reply.out += line + "\n";
  }
  return reply;
}

FakeZfsRunner::Reply FakeZfsRunner::Get(const Args& args) {
  bool modern = flavor_ == Flavor::kOpenZfs;
  Parsed p = ParseArgs(args, modern ? "rHpdost" : "rHpdos", "dost");
  if (p.bad) return Usage(std::string(1, p.bad));
  if (p.operands.empty()) return {2, "", "missing property argument\n"};
  std::vector<std::string> properties = Split(p.operands[0], ',');
  std::vector<std::string> roots(p.operands.begin() + 1, p.operands.end());
  if (roots.empty()) {
    for (const auto& [name, d] : datasets_) {
      if (name.find('/') == std::string::npos) roots.push_back(name);
    }
    p.flags.insert('r');
  }
  for (const std::string& root : roots) {
    if (root.find('@') != std::string::npos ? !FindSnapshot(root) : !datasets_.count(root)) {
      return {1, "", NotFound(root)};
    }
  }
  for (const std::string& property : properties) {
    bool known = property.find(':') != std::string::npos || property == "type" ||
                 property == "guid" || property == "createtxg" || property == "userrefs" ||
                 property == "origin" || property == "used" || property == "referenced" ||
                 property == "canmount" || property == "readonly" || property == "name" ||
                 property == "creation" ||
                 ((property == "receive_resume_token" || property == "written") && modern);
    if (!known) return {2, "", "bad property list: invalid property '" + property + "'\n"};
  }
  std::set<std::string> types = {"filesystem", "volume", "snapshot"};
  if (p.values.count('t')) {
    auto list = Split(p.values['t'], ',');
    types = std::set<std::string>(list.begin(), list.end());
  }
  int depth = p.values.count('d') ? std::stoi(p.values['d']) : -1;
  bool recursive = p.flags.count('r') || depth >= 0;
  std::vector<std::string> fields =
      Split(p.values.count('o') ? p.values['o'] : "name,property,value,source", ',');
  Reply reply;
  for (const std::string& name : Names(roots, recursive, depth, types)) {
    for (const std::string& property : properties) {
      auto [value, source] = Property(name, property);
      std::string line;
      for (const std::string& field : fields) {
        std::string text = field == "name"       ? name
                           : field == "property" ? property
                           : field == "value"    ? value
                                                 : source;
        line += (line.empty() ? "" : "\t") + text;
      }
      reply.out += line + "\n";
    }
  }
  return reply;
}

FakeZfsRunner::Reply FakeZfsRunner::SnapshotCommand(const Args& args) {
  Parsed p = ParseArgs(args, "ro", "o");
  if (p.bad) return Usage(std::string(1, p.bad));
  if (p.operands.empty()) return {2, "", "missing snapshot argument\n"};
  if (flavor_ == Flavor::kLegacy && p.operands.size() > 1) {
    return {2, "", "too many arguments\nusage:\n\tsnapshot [-r] ...\n"};
  }
  // Check everything first: OpenZFS makes all the snapshots in one transaction or none.
  std::vector<std::pair<std::string, std::string>> todo;
  for (const std::string& operand : p.operands) {
    size_t at = operand.find('@');
    if (at == std::string::npos) return {1, "", "cannot create snapshot '" + operand + "'\n"};
    std::string dataset = operand.substr(0, at), name = operand.substr(at + 1);
    if (!datasets_.count(dataset)) return {1, "", NotFound(dataset)};
    std::vector<std::string> targets = {dataset};
    if (p.flags.count('r')) {
      for (const auto& [other, d] : datasets_) {
        if (orch::IsDescendant(other, dataset)) targets.push_back(other);
      }
    }
    for (const std::string& target : targets) {
      if (FindSnapshot(target + "@" + name)) {
        return {1, "",
                "cannot create snapshot '" + target + "@" + name + "': dataset already exists\n"};
      }
      todo.push_back({target, name});
    }
  }
  uint64_t txg = ++txg_;
  for (const auto& [dataset, name] : todo) {
    datasets_[dataset].snapshots.push_back({name, next_guid_ += 7919, txg, {}});
  }
  return {};
}

FakeZfsRunner::Reply FakeZfsRunner::HoldCommand(const std::string& verb, const Args& args) {
  bool modern = flavor_ == Flavor::kOpenZfs;
  if (verb == "holds") {
    if (!modern) return {255, "", "internal error: /usr/lib/zfs/pyzfs.py not found\n"};
    Parsed p = ParseArgs(args, "rHp", "");
    if (p.bad) return Usage(std::string(1, p.bad));
    Reply reply;
    if (!p.flags.count('H')) reply.out = "NAME  TAG  TIMESTAMP\n";
    for (const std::string& name : p.operands) {
      Snapshot* s = FindSnapshot(name);
      if (!s) return {1, "", NotFound(name)};
      for (const std::string& tag : s->holds) {
        reply.out += name + "\t" + tag + "\tSat Nov 21 20:00 2026\n";
      }
    }
    return reply;
  }
  Parsed p = ParseArgs(args, "r", "");
  if (p.bad) return Usage(std::string(1, p.bad));
  if (p.operands.size() < 2) return {2, "", "missing tag or snapshot argument\n"};
  const std::string& tag = p.operands[0];
  Reply reply;
  for (size_t i = 1; i < p.operands.size(); ++i) {
    const std::string& name = p.operands[i];
    Snapshot* s = FindSnapshot(name);
    if (!s) {
      reply = {1, "", reply.err + NotFound(name)};
    } else if (verb == "hold" && !s->holds.insert(tag).second) {
      reply = {
          1, "",
          reply.err + "cannot hold snapshot '" + name + "': tag already exists on this dataset\n"};
    } else if (verb == "release" && s->holds.erase(tag) == 0) {
      reply = {1, "",
               reply.err + "cannot release hold from snapshot '" + name +
                   "': no such tag on this dataset\n"};
    }
  }
  return reply;
}

FakeZfsRunner::Reply FakeZfsRunner::Destroy(const Args& args) {
  bool modern = flavor_ == Flavor::kOpenZfs;
  Parsed p = ParseArgs(args, modern ? "dnpRrvf" : "rRdf", "");
  if (p.bad) return Usage(std::string(1, p.bad));
  if (p.operands.size() != 1) return {2, "", "wrong number of arguments\n"};
  const std::string& operand = p.operands[0];
  if (modern && operand.find('#') != std::string::npos) {
    if (!FindBookmark(operand)) return {1, "", NotFound(operand)};
    auto& marks = datasets_[operand.substr(0, operand.find('#'))].bookmarks;
    marks.erase(std::remove_if(marks.begin(), marks.end(),
                               [&](const Snapshot& b) {
                                 return b.name == operand.substr(operand.find('#') + 1);
                               }),
                marks.end());
    return {};
  }
  size_t at = operand.find('@');
  if (at == std::string::npos) {
    auto it = datasets_.find(operand);
    if (it == datasets_.end()) return {1, "", NotFound(operand)};
    if (!it->second.snapshots.empty()) {
      return {1, "", "cannot destroy '" + operand + "': filesystem has children\n"};
    }
    datasets_.erase(it);
    return {};
  }
  std::string dataset = operand.substr(0, at);
  std::vector<std::string> names = Split(operand.substr(at + 1), ',');
  if (names.size() > 1 && !modern) {
    return {1, "", "cannot open '" + operand + "': invalid dataset name\n"};
  }
  if (!datasets_.count(dataset)) return {1, "", NotFound(dataset)};
  for (const std::string& name : names) {
    Snapshot* s = FindSnapshot(dataset + "@" + name);
    if (!s && !modern) return {1, "", NotFound(dataset + "@" + name)};
    std::vector<std::string> clones;
    for (const auto& [clone, d] : datasets_) {
      if (d.origin == dataset + "@" + name) clones.push_back(clone);
    }
    if (s && !clones.empty()) {
      std::string err = "cannot destroy '" + dataset + "@" + name +
                        "': snapshot has dependent clones\nuse '-R' to destroy the following "
                        "datasets:\n";
      for (const std::string& clone : clones) err += clone + "\n";
      return {1, "", err};
    }
    if (s && !s->holds.empty()) {
      return {1, "", "cannot destroy snapshot " + dataset + "@" + name + ": dataset is busy\n"};
    }
  }
  auto& snapshots = datasets_[dataset].snapshots;
  snapshots.erase(std::remove_if(snapshots.begin(), snapshots.end(),
                                 [&](const Snapshot& s) {
                                   return std::find(names.begin(), names.end(), s.name) !=
                                          names.end();
                                 }),
                  snapshots.end());
  return {};
}

FakeZfsRunner::Reply FakeZfsRunner::Create(const Args& args) {
  Parsed p = ParseArgs(args, "pPnuvsoVb", "oVb");
  if (p.bad) return Usage(std::string(1, p.bad));
  if (p.operands.size() != 1) return {2, "", "wrong number of arguments\n"};
  const std::string& name = p.operands[0];
  std::string pool = name.substr(0, name.find('/'));
  if (!datasets_.count(pool)) {
    return {1, "", "cannot create '" + name + "': no such pool '" + pool + "'\n"};
  }
  if (datasets_.count(name)) {
    if (p.flags.count('p')) return {};
    return {1, "", "cannot create '" + name + "': dataset already exists\n"};
  }
  std::vector<std::string> missing;
  for (std::string a = name; !a.empty() && !datasets_.count(a); a = orch::ParentDataset(a)) {
    missing.push_back(a);
  }
  if (missing.size() > 1 && !p.flags.count('p')) {
    return {1, "", "cannot create '" + name + "': parent does not exist\n"};
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    datasets_[*it].createtxg = ++txg_;
  }
  return {};
}

FakeZfsRunner::Reply FakeZfsRunner::Receive(const Args& args) {
  bool modern = flavor_ == Flavor::kOpenZfs;
  Parsed p = ParseArgs(args, modern ? "FhMnsuvdeAox" : "vnFd", "ox");
  if (p.bad) return Usage(std::string(1, p.bad));
  if (!p.flags.count('A')) return {1, "", "fake zfs: receiving a stream is not modelled\n"};
  if (p.operands.size() != 1) return {2, "", "wrong number of arguments\n"};
  auto it = datasets_.find(p.operands[0]);
  if (it == datasets_.end()) return {1, "", NotFound(p.operands[0])};
  if (it->second.resume_token.empty()) {
    return {1, "",
            "cannot resume receive: '" + p.operands[0] +
                "' does not have any resumable receive state to abort\n"};
  }
  it->second.resume_token.clear();
  return {};
}

// Only `zfs send -nvt TOKEN` (decoding a resume token) is modelled; streams are not.
FakeZfsRunner::Reply FakeZfsRunner::Send(const Args& args) {
  bool modern = flavor_ == Flavor::kOpenZfs;
  Parsed p = ParseArgs(args, modern ? "DLPbcehnpsvwiIRt" : "RDpiI", modern ? "iIt" : "iI");
  if (p.bad) return Usage(std::string(1, p.bad));
  if (!p.values.count('t') || !p.flags.count('n')) {
    return {1, "", "fake zfs: sending a stream is not modelled\n"};
  }
  auto it = tokens_.find(p.values['t']);
  if (it == tokens_.end()) return {255, "", "cannot resume send: malformed resume token\n"};
  const TokenContents& t = it->second;
  char buffer[512];
  std::snprintf(buffer, sizeof buffer,
                "resume token contents:\nnvlist version: 0\n\tfromguid = 0x%llx\n\tobject = 0x3\n"
                "\toffset = 0x20000\n\tbytes = 0x21c00\n\ttoguid = 0x%llx\n\ttoname = %s\n",
                static_cast<unsigned long long>(t.fromguid),
                static_cast<unsigned long long>(t.toguid), t.toname.c_str());
  Reply reply{0, buffer, ""};
  bool found = false;
  for (const auto& [name, d] : datasets_) {
    for (const Snapshot& s : d.snapshots) found = found || s.guid == t.toguid;
  }
  if (!found) {
    reply.code = 255;
    reply.err =
        "cannot resume send: '" + t.toname + "' used in the initial send no longer exists\n";
  }
  return reply;
}

}  // namespace zsend::test
