#include "tests/support/fake_zfs.h"

#include <algorithm>
#include <sstream>

#include "tests/support/fake_zfs_usage.h"
#include "tests/support/zfs_golden.h"

namespace zsend::test {
namespace orch = zsend::orchestrator;

FakeZfsRunner::FakeZfsRunner(Flavor flavor, std::string host)
    : flavor_(flavor), host_(std::move(host)) {}

void FakeZfsRunner::AddDataset(const std::string& name, orch::DatasetType type,
                               const std::string& origin) {
  std::lock_guard<std::mutex> lock(mutex_);
  Dataset& dataset = datasets_[name];
  dataset.type = type;
  dataset.origin = origin;
  dataset.createtxg = ++txg_;
}

void FakeZfsRunner::SetLocalProperty(const std::string& dataset, const std::string& property,
                                     const std::string& value) {
  std::lock_guard<std::mutex> lock(mutex_);
  datasets_.at(dataset).local[property] = value;
}

void FakeZfsRunner::SetReceivedProperty(const std::string& dataset, const std::string& property,
                                        const std::string& value) {
  std::lock_guard<std::mutex> lock(mutex_);
  datasets_.at(dataset).received[property] = value;
}

orch::SnapshotInfo FakeZfsRunner::AddSnapshot(const std::string& dataset, const std::string& name,
                                              uint64_t guid) {
  std::lock_guard<std::mutex> lock(mutex_);
  Snapshot snapshot{name, guid ? guid : next_guid_ += 7919, ++txg_, {}};
  datasets_.at(dataset).snapshots.push_back(snapshot);
  return {dataset, name, snapshot.guid, snapshot.createtxg, 0};
}

void FakeZfsRunner::SetResumeToken(const std::string& dataset, const std::string& token) {
  std::lock_guard<std::mutex> lock(mutex_);
  datasets_.at(dataset).resume_token = token;
}

void FakeZfsRunner::RegisterResumeToken(const std::string& token, uint64_t fromguid,
                                        uint64_t toguid, const std::string& toname) {
  std::lock_guard<std::mutex> lock(mutex_);
  tokens_[token] = {fromguid, toguid, toname};
}

void FakeZfsRunner::SetVmJson(const std::string& uuid, const std::string& json) {
  std::lock_guard<std::mutex> lock(mutex_);
  vm_json_[uuid] = json;
}

bool FakeZfsRunner::HasDataset(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return datasets_.count(name) > 0;
}

std::vector<orch::SnapshotInfo> FakeZfsRunner::Snapshots(const std::string& dataset) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<orch::SnapshotInfo> result;
  for (const Snapshot& s : datasets_.at(dataset).snapshots) {
    result.push_back({dataset, s.name, s.guid, s.createtxg, s.holds.size()});
  }
  return result;
}

std::vector<std::string> FakeZfsRunner::BookmarkNames(const std::string& dataset) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> names;
  for (const Snapshot& b : datasets_.at(dataset).bookmarks) names.push_back(b.name);
  return names;
}

std::set<std::string> FakeZfsRunner::HoldTags(const std::string& snapshot) const {
  std::lock_guard<std::mutex> lock(mutex_);
  size_t at = snapshot.find('@');
  for (const Snapshot& s : datasets_.at(snapshot.substr(0, at)).snapshots) {
    if (s.name == snapshot.substr(at + 1)) return s.holds;
  }
  return {};
}

std::string FakeZfsRunner::ResumeToken(const std::string& dataset) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return datasets_.at(dataset).resume_token;
}

std::string FakeZfsRunner::Dump() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::ostringstream out;
  for (const auto& [name, d] : datasets_) {
    out << name << " " << orch::DatasetTypeName(d.type) << " origin=" << d.origin
        << " token=" << d.resume_token;
    for (const auto& [k, v] : d.local) out << " " << k << "=" << v;
    out << "\n";
    for (const Snapshot& s : d.snapshots) {
      out << "  @" << s.name << " " << s.guid << " " << s.createtxg;
      for (const std::string& tag : s.holds) out << " hold:" << tag;
      out << "\n";
    }
  }
  return out.str();
}

std::vector<std::vector<std::string>> FakeZfsRunner::Commands() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return log_;
}

Result<orch::CommandOutput> FakeZfsRunner::Run(const orch::Command& command) {
  std::lock_guard<std::mutex> lock(mutex_);
  log_.push_back(command.argv);
  Reply reply = Dispatch(command.argv);
  orch::CommandOutput output;
  output.exit_code = reply.code;
  output.out = reply.out;
  output.err = reply.err;
  return output;
}

FakeZfsRunner::Reply FakeZfsRunner::Usage(const std::string& bad_option) const {
  return {2, "", "invalid option '" + bad_option + "'\nusage:\n\t...\n"};
}

FakeZfsRunner::Reply FakeZfsRunner::Dispatch(const Args& argv) {
  if (argv.size() >= 3 && argv[0] == "vmadm" && argv[1] == "get") {
    auto it = vm_json_.find(argv[2]);
    if (it == vm_json_.end()) return {1, "", "vmadm: no such VM " + argv[2] + "\n"};
    return {0, it->second, ""};
  }
  if (argv.empty() || argv[0] != "zfs") return {127, "", "fake: not zfs\n"};
  if (argv.size() < 2) return {2, "", "missing command\n"};
  const std::string& verb = argv[1];
  Args args(argv.begin() + 2, argv.end());
  bool modern = flavor_ == Flavor::kOpenZfs;
  if (verb == "-?") return {0, modern ? RecordedOpenZfsUsage() : kLegacyUsage, ""};
  if (verb == "list") return List(args);
  if (verb == "get") return Get(args);
  if (verb == "snapshot" || verb == "snap") return SnapshotCommand(args);
  if (verb == "hold" || verb == "release" || verb == "holds") return HoldCommand(verb, args);
  if (verb == "destroy") return Destroy(args);
  if (verb == "bookmark" && modern) return BookmarkCommand(args);
  if (verb == "create") return Create(args);
  if (verb == "receive" || verb == "recv") return Receive(args);
  if (verb == "send") return Send(args);
  if (verb == "set" || verb == "inherit") {
    if (args.size() != 2) return {2, "", "usage: zfs " + verb + "\n"};
    std::string dataset = args[1];
    if (!datasets_.count(dataset)) {
      return {1, "", "cannot open '" + dataset + "': dataset does not exist\n"};
    }
    if (verb == "inherit") {
      datasets_[dataset].local.erase(args[0]);
    } else {
      size_t eq = args[0].find('=');
      if (eq == std::string::npos) return {2, "", "missing '=' for property argument\n"};
      datasets_[dataset].local[args[0].substr(0, eq)] = args[0].substr(eq + 1);
    }
    return {};
  }
  return {2, "", "unrecognized command '" + verb + "'\n"};
}

}  // namespace zsend::test
