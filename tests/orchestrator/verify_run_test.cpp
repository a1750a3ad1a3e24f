// zsend verify's orchestration over fake hosts: the common snapshot (by guid, else by name), the
// snapshot directory when the dataset is mounted, the temporary clone otherwise and its removal
// on every path (a failed walk included), differences reported and recorded in the history.
#include "orchestrator/verify/verify_run.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "orchestrator/verify/snapshot_walk.h"
#include "tests/support/fake_zfs.h"

namespace zsend::orchestrator {
namespace {

using test::FakeZfsRunner;

// A fake host: zfs list/snapshots from FakeZfsRunner; `zfs get type,mountpoint,mounted`,
// mktemp, clone, umount, destroy, rmdir and `zsend digest-tree DIR` answered here.
class FakeHost : public FakeZfsRunner {
 public:
  explicit FakeHost(std::string label) : FakeZfsRunner(Flavor::kOpenZfs, std::move(label)) {}

  Result<CommandOutput> Run(const Command& command) override {
    const std::vector<std::string>& a = command.argv;
    log.push_back(ShellJoin(a));
    CommandOutput out;
    out.exit_code = 0;
    if (a.size() == 7 && a[0] == "zfs" && a[1] == "get" && a[5] == "type,mountpoint,mounted") {
      out.out = "filesystem\n" + mountpoint + "\n" + (mounted ? "yes" : "no") + "\n";
    } else if (a[0] == "sh") {
      out.out = "/tmp/zsend-verify.AAAAAAAAAA\n";
    } else if (a[0] == "zfs" && (a[1] == "clone" || a[1] == "umount" || a[1] == "destroy")) {
      if (a[1] == "clone") clones.insert(a.back());
      if (a[1] == "destroy") clones.erase(a.back());
      // How many mounts or unmounts of either host are under way at once (zfs-fuse wedges on
      // two simultaneous mounts): each takes a moment here, so overlapping ones are seen.
      const int now = ++mount_changes_now;
      for (int seen = max_mount_changes.load(); now > seen;) {
        if (max_mount_changes.compare_exchange_weak(seen, now)) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      --mount_changes_now;
    } else if (a[0] == "rmdir") {
    } else if (a.size() >= 3 && a[1] == "digest-tree") {
      auto found = trees.find(a[2]);
      if (found == trees.end()) {
        out.exit_code = 255;
        out.err = "zsend digest-tree: opening the tree " + a[2] + ": No such file or directory";
      } else {
        out.out = found->second;
      }
    } else {
      log.pop_back();
      return FakeZfsRunner::Run(command);
    }
    return out;
  }

  std::string mountpoint = "/data";
  bool mounted = true;
  std::map<std::string, std::string> trees;  // walk directory -> digest-tree output
  std::set<std::string> clones;              // clones that exist now
  std::vector<std::string> log;
  static inline std::atomic<int> mount_changes_now{0};
  static inline std::atomic<int> max_mount_changes{0};
};

std::string Tree(const std::vector<std::string>& entries) {
  std::string out = "motd of the far host\nzsend-digest-tree 1 100 0\n";
  for (const std::string& e : entries) out += e + "\n";
  return out + "end 0123456789abcdef0123456789abcdef " + std::to_string(entries.size()) + " 1 5\n";
}

const std::vector<std::string> kGood = {"d 0755 0 0 - - .",
                                        "f 0644 0 0 5 11111111111111111111111111111111 a.bin"};
const std::vector<std::string> kChanged = {"d 0755 0 0 - - .",
                                           "f 0644 0 0 5 22222222222222222222222222222222 a.bin"};

class VerifyRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    source_.AddDataset("pool/data");
    target_.AddDataset("backup/data");
    SnapshotInfo one = source_.AddSnapshot("pool/data", "job-1");
    SnapshotInfo two = source_.AddSnapshot("pool/data", "job-2");
    target_.AddSnapshot("backup/data", "job-1", one.guid);
    target_.AddSnapshot("backup/data", "job-2", two.guid);
    source_.AddSnapshot("pool/data", "job-3");  // not on the target yet
    ASSERT_TRUE(source_zfs_.Probe().ok());
    ASSERT_TRUE(target_zfs_.Probe().ok());
    char pattern[] = "/tmp/zsend-verify-state-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    state_ = pattern;
    options_.backup_name = "job";
  }
  void TearDown() override { std::filesystem::remove_all(state_); }

  FakeHost source_{"src"};
  FakeHost target_{"dst"};
  Zfs source_zfs_{source_};
  Zfs target_zfs_{target_};
  VerifyRunOptions options_;
  std::string state_;
};

TEST(NewestCommonSnapshot, ByGuidFirstElseByName) {
  std::vector<SnapshotInfo> source = {{"p/a", "s1", 1, 1, 0}, {"p/a", "s2", 2, 2, 0}};
  std::vector<SnapshotInfo> target = {{"b/a", "s1", 1, 1, 0}, {"b/a", "s2", 2, 2, 0}};
  EXPECT_EQ(NewestCommonSnapshot(source, target)->name, "s2");
  target = {{"b/a", "s1", 1, 1, 0}, {"b/a", "s2", 9, 2, 0}};
  EXPECT_EQ(NewestCommonSnapshot(source, target)->name, "s2");
  EXPECT_FALSE(NewestCommonSnapshot(source, target)->same_guid);
  target = {{"b/a", "x", 7, 1, 0}};
  EXPECT_FALSE(NewestCommonSnapshot(source, target).has_value());
}

TEST_F(VerifyRunTest, EqualTreesFromTheSnapshotDirectoryAndAClonePass) {
  source_.trees["/data/.zfs/snapshot/job-2"] = Tree(kGood);
  target_.mounted = false;  // received with -u: walked through a clone, left unmounted
  target_.trees["/tmp/zsend-verify.AAAAAAAAAA"] = Tree(kGood);
  std::ostringstream out;
  auto history = History::Open(state_);
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(RunVerify(source_zfs_, target_zfs_, {{"pool/data", "backup/data"}}, options_,
                      history->get(), out),
            0)
      << out.str();
  EXPECT_NE(out.str().find("verify pool/data -> backup/data @job-2: ok (2 entries"),
            std::string::npos)
      << out.str();
  EXPECT_TRUE(target_.clones.empty());
  bool cloned = false;
  for (const std::string& line : target_.log) {
    cloned = cloned || line.find(
                           "zfs clone -o readonly=on -o "
                           "mountpoint=/tmp/zsend-verify.AAAAAAAAAA backup/data@job-2 "
                           "backup/zsend-verify-") == 0;
    EXPECT_EQ(line.find("zfs mount"), std::string::npos) << line;
  }
  EXPECT_TRUE(cloned);
  for (const std::string& line : source_.log) EXPECT_EQ(line.find("clone"), std::string::npos);
  auto runs = (*history)->Runs("job", 0, 0);
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ((*runs)[0].command, "verify");
  EXPECT_EQ((*runs)[0].result, "ok");
  auto verifies = (*history)->Verifies("job", 0);
  ASSERT_TRUE(verifies.ok());
  ASSERT_EQ(verifies->size(), 1u);
  EXPECT_EQ((*verifies)[0].result, "ok");
  EXPECT_EQ((*verifies)[0].snapshot, "job-2");
  EXPECT_EQ((*verifies)[0].entries, 2u);
}

TEST_F(VerifyRunTest, TheTwoClonesAreMadeAndRemovedOneAtATime) {
  // Neither side mounted: both are walked through clones, at the same time, but no two clone,
  // unmount or destroy commands run at once (one machine's zfs-fuse would wedge).
  source_.mounted = false;
  target_.mounted = false;
  source_.trees["/tmp/zsend-verify.AAAAAAAAAA"] = Tree(kGood);
  target_.trees["/tmp/zsend-verify.AAAAAAAAAA"] = Tree(kGood);
  FakeHost::max_mount_changes = 0;
  std::ostringstream out;
  EXPECT_EQ(
      RunVerify(source_zfs_, target_zfs_, {{"pool/data", "backup/data"}}, options_, nullptr, out),
      0)
      << out.str();
  EXPECT_TRUE(source_.clones.empty());
  EXPECT_TRUE(target_.clones.empty());
  for (const FakeHost* host : {&source_, &target_}) {
    bool cloned = false;
    for (const std::string& line : host->log) cloned = cloned || line.rfind("zfs clone", 0) == 0;
    EXPECT_TRUE(cloned) << host->HostLabel();
  }
  EXPECT_EQ(FakeHost::max_mount_changes.load(), 1);
}

TEST_F(VerifyRunTest, ADifferingFileIsNamedCountedAndRecorded) {
  source_.trees["/data/.zfs/snapshot/job-2"] = Tree(kGood);
  target_.trees["/data/.zfs/snapshot/job-2"] = Tree(kChanged);
  std::ostringstream out;
  auto history = History::Open(state_);
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(RunVerify(source_zfs_, target_zfs_, {{"pool/data", "backup/data"}}, options_,
                      history->get(), out),
            1);
  EXPECT_NE(out.str().find("DIFFERS: 1 difference"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("  a.bin: contents differ\n"), std::string::npos) << out.str();
  auto runs = (*history)->Runs("job", 0, 0);
  ASSERT_TRUE(runs.ok() && runs->size() == 1u);
  EXPECT_EQ((*runs)[0].result, "failed");
  EXPECT_EQ((*runs)[0].error, "pool/data: a.bin: contents differ");
  auto verifies = (*history)->Verifies("job", 0);
  ASSERT_TRUE(verifies.ok() && verifies->size() == 1u);
  EXPECT_EQ((*verifies)[0].result, "differs");
  EXPECT_EQ((*verifies)[0].differences, 1u);
}

TEST_F(VerifyRunTest, AFailedWalkOnTheCloneStillRemovesTheClone) {
  source_.trees["/data/.zfs/snapshot/job-2"] = Tree(kGood);
  // No tree anywhere on the target: the snapshot directory fails, then the clone's walk.
  std::ostringstream out;
  EXPECT_EQ(
      RunVerify(source_zfs_, target_zfs_, {{"pool/data", "backup/data"}}, options_, nullptr, out),
      1);
  EXPECT_NE(out.str().find("error: target: "), std::string::npos) << out.str();
  EXPECT_TRUE(target_.clones.empty());
  bool destroyed = false, removed_dir = false;
  for (const std::string& line : target_.log) {
    destroyed = destroyed || line.rfind("zfs destroy backup/zsend-verify-", 0) == 0;
    removed_dir = removed_dir || line == "rmdir -- /tmp/zsend-verify.AAAAAAAAAA";
  }
  EXPECT_TRUE(destroyed);
  EXPECT_TRUE(removed_dir);
}

TEST_F(VerifyRunTest, NoCommonSnapshotFailsWithTheFix) {
  target_.AddDataset("backup/other");
  std::ostringstream out;
  EXPECT_EQ(
      RunVerify(source_zfs_, target_zfs_, {{"pool/data", "backup/other"}}, options_, nullptr, out),
      1);
  EXPECT_NE(out.str().find("no common snapshot"), std::string::npos) << out.str();
}

TEST_F(VerifyRunTest, SamplingIsPassedToBothWalks) {
  options_.digest.sample_percent = 10;
  options_.digest.seed = 20000;
  EXPECT_EQ(DigestTreeArgv("zsend", "/d", options_.digest),
            (std::vector<std::string>{"zsend", "digest-tree", "/d", "--sample", "10", "--seed",
                                      "20000"}));
}

}  // namespace
}  // namespace zsend::orchestrator
