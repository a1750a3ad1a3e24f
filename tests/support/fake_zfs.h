// FakeZfsRunner: an in-memory model of one host's `zfs` command, for unit tests.
//
// It implements CommandRunner and interprets the zfs command lines the orchestrator builds
// against an in-memory pool model (datasets, user properties with inheritance, snapshots with
// guid/createtxg, holds, receive resume tokens, clone origins). Two flavours answer the way
// the real programs do: kOpenZfs reproduces OpenZFS's -H/-p output, usage text, error
// messages, batched destroy, `holds -H`, resume tokens, held to recordings of real OpenZFS 2.1
// (tests/data/openzfs-golden, FakeZfsGolden.*); kLegacy answers like Debian's zfs-fuse (no
// `list -p`, no `get -t`, one snapshot per call, `holds` broken, no resume). Options the
// flavour lacks fail with zfs's "invalid option" usage error, so a command line built for the
// wrong dialect fails the test. Every argv is logged; `vmadm get` answers from SetVmJson().
//
// Thread-safety: Run() and the model functions lock one mutex (the --jobs tests call Run()
// from several threads).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "orchestrator/host/command_runner.h"
#include "orchestrator/zfs/zfs_types.h"

namespace zsend::test {

class FakeZfsRunner : public orchestrator::CommandRunner {
 public:
  enum class Flavor { kOpenZfs, kLegacy };
  explicit FakeZfsRunner(Flavor flavor, std::string host = "fake");

  // Model set-up (no command log entries).
  void AddDataset(const std::string& name,
                  orchestrator::DatasetType type = orchestrator::DatasetType::kFilesystem,
                  const std::string& origin = "");
  void SetLocalProperty(const std::string& dataset, const std::string& property,
                        const std::string& value);
  // A value that arrived by `zfs receive` (zfs get's source "received"; a local value wins).
  void SetReceivedProperty(const std::string& dataset, const std::string& property,
                           const std::string& value);
  // Adds a snapshot with a fresh guid (or the given one, to model a replica); returns it.
  orchestrator::SnapshotInfo AddSnapshot(const std::string& dataset, const std::string& name,
                                         uint64_t guid = 0);
  void SetResumeToken(const std::string& dataset, const std::string& token);
  // What `zfs send -nvt TOKEN` prints for a token (its contents, as OpenZFS encodes them).
  void RegisterResumeToken(const std::string& token, uint64_t fromguid, uint64_t toguid,
                           const std::string& toname);
  void SetVmJson(const std::string& uuid, const std::string& json);

  // Inspection.
  bool HasDataset(const std::string& name) const;
  std::vector<orchestrator::SnapshotInfo> Snapshots(const std::string& dataset) const;
  std::vector<std::string> BookmarkNames(const std::string& dataset) const;  // after '#'
  std::set<std::string> HoldTags(const std::string& snapshot) const;
  std::string ResumeToken(const std::string& dataset) const;
  // Every dataset, snapshot, property and hold as text: equal before and after = unchanged.
  std::string Dump() const;
  std::vector<std::vector<std::string>> Commands() const;

  Result<orchestrator::CommandOutput> Run(const orchestrator::Command& command) override;
  std::string HostLabel() const override { return host_; }

 private:
  struct Snapshot {
    std::string name;
    uint64_t guid = 0;
    uint64_t createtxg = 0;
    std::set<std::string> holds;
  };
  struct Dataset {
    orchestrator::DatasetType type = orchestrator::DatasetType::kFilesystem;
    std::string origin;
    uint64_t createtxg = 0;
    std::map<std::string, std::string> local;     // locally set properties
    std::map<std::string, std::string> received;  // received ones
    std::vector<Snapshot> snapshots;
    std::vector<Snapshot> bookmarks;  // OpenZFS flavor: `zfs bookmark`, listed by -t all
    std::string resume_token;
  };
  using Args = std::vector<std::string>;
  struct Reply {
    int code = 0;
    std::string out, err;
  };

  Reply Dispatch(const Args& argv);
  Reply List(const Args& args);
  Reply Get(const Args& args);
  Reply SnapshotCommand(const Args& args);
  Reply HoldCommand(const std::string& verb, const Args& args);
  Reply Destroy(const Args& args);
  Reply Create(const Args& args);
  Reply Receive(const Args& args);
  Reply Send(const Args& args);

  // The value and zfs get SOURCE column of a property on a dataset or snapshot.
  std::pair<std::string, std::string> Property(const std::string& name,
                                               const std::string& property) const;
  Snapshot* FindSnapshot(const std::string& full_name);
  // The bookmark "ds#name", or null.
  const Snapshot* FindBookmark(const std::string& full_name) const;
  Reply BookmarkCommand(const Args& args);
  std::vector<std::string> Names(const std::vector<std::string>& roots, bool recursive, int depth,
                                 const std::set<std::string>& types) const;
  Reply Usage(const std::string& bad_option) const;

  const Flavor flavor_;
  const std::string host_;
  mutable std::mutex mutex_;
  std::map<std::string, Dataset> datasets_;  // guarded by mutex_
  std::map<std::string, std::string> vm_json_;
  struct TokenContents {
    uint64_t fromguid = 0, toguid = 0;
    std::string toname;
  };
  std::map<std::string, TokenContents> tokens_;
  std::vector<Args> log_;
  uint64_t txg_ = 1;
  uint64_t next_guid_ = 0x1234567890abcdefULL;
};

}  // namespace zsend::test
