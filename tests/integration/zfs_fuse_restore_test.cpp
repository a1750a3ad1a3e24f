// `zsend list` and `zsend restore` end to end on zfs-fuse pools (local, and with the backup
// host reached through the private sshd): two backups of a dataset whose files have their own
// modes and owners, then restores of the newest and of `-r 1` into new datasets, into a file
// (received again with zfs recv) and onto stdout, each compared with the source snapshot by
// contents, type, mode, owner and size; an existing destination refused; the history rows;
// --browse (a read-only clone on the backup host) and --cleanup.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/support/backup_fixture.h"

namespace zsend::test {
namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class ZfsFuseRestore : public BackupFixture {
 protected:
  void SetUp() override {
    BackupFixture::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    data_ = src_ + "/data";
    copy_ = dst_ + "/" + data_;
    Sh("zfs create " + data_);
    Sh("zfs set zsend:" + job_ + "=true " + data_);
    WriteData(data_, "a.bin", 60000, 71);
    const std::string mount = source_->Mountpoint(data_);
    Sh("mkdir " + mount + "/dir && chmod 0750 " + mount + "/dir && chmod 0640 " + mount +
       "/a.bin && chown 1234:2345 " + mount + "/a.bin && ln -s a.bin " + mount + "/link");
    RunResult one = Zsend({job_, dst_, "--snapshot-name", "one", "--transport", "pipe"});
    ASSERT_EQ(one.exit_code, 0) << one.out << one.err;
    // The tree as snapshot "one" has it, for `-r 1` later.
    std::string error;
    ASSERT_TRUE(CopyTree(mount, state_dir_ + "/one", &error)) << error;
    WriteData(data_, "a.bin", 30000, 72);
    WriteData(data_, "dir/b.bin", 20000, 73);
    RunResult two = Zsend({job_, dst_, "--snapshot-name", "two", "--transport", "pipe"});
    ASSERT_EQ(two.exit_code, 0) << two.out << two.err;
  }
  // `zsend SUBCOMMAND ARGS... --state-dir STATE`.
  RunResult Cli(const std::string& subcommand, std::vector<std::string> args) {
    args.insert(args.begin(), {BinPath("zsend"), subcommand});
    args.insert(args.end(), {"--state-dir", state_dir_});
    return test::Run(args);
  }
  std::string SourceMount() { return source_->Mountpoint(data_); }
  // zsend list after the two backups: both sides, the hold, the transfers, a DATASET filter.
  void CheckList() {
    RunResult table = Cli("list", {job_, dst_});
    ASSERT_EQ(table.exit_code, 0) << table.err;
    EXPECT_TRUE(Contains(table.out, data_ + " -> " + copy_)) << table.out;
    EXPECT_TRUE(Contains(table.out, job_ + "-one")) << table.out;
    RunResult json = Cli("list", {job_, dst_, copy_, "--json"});
    ASSERT_EQ(json.exit_code, 0) << json.err;
    nlohmann::json doc = nlohmann::json::parse(json.out);
    ASSERT_EQ(doc["datasets"].size(), 1u) << json.out;
    const nlohmann::json& revisions = doc["datasets"][0]["revisions"];
    ASSERT_EQ(revisions.size(), 2u) << json.out;
    EXPECT_EQ(revisions[0]["name"], job_ + "-one");
    EXPECT_EQ(revisions[1]["name"], job_ + "-two");
    for (const nlohmann::json& r : revisions) {
      EXPECT_TRUE(r["on_both"].get<bool>()) << r;
      EXPECT_FALSE(r["transfer"].is_null()) << r;
      EXPECT_GT(r["source"]["referenced"].get<uint64_t>(), 0u) << r;
    }
    // The newest common snapshot is held on the source, the older one no longer.
    EXPECT_TRUE(revisions[1]["source"]["held"].get<bool>()) << json.out;
    EXPECT_FALSE(revisions[0]["source"]["held"].get<bool>()) << json.out;
    RunResult unknown = Cli("list", {job_, dst_, src_ + "/nothing"});
    EXPECT_EQ(unknown.exit_code, 255);
    EXPECT_TRUE(Contains(unknown.err, "is not a dataset of this backup")) << unknown.err;
  }
  // Refusals (exit 255, nothing changed), then --force replacing only the named dataset.
  void CheckRefusalsAndForce() {
    const std::string before = Out("zfs list -H -t all -o name -r " + src_);
    RunResult existing = Cli("restore", {job_, dst_, data_, "--to", data_});
    EXPECT_EQ(existing.exit_code, 255) << existing.err;
    EXPECT_TRUE(Contains(existing.err, "the dataset exists")) << existing.err;
    EXPECT_TRUE(Contains(existing.err, "--force")) << existing.err;
    RunResult revision = Cli("restore", {job_, dst_, data_, "-r", "7", "--to", src_ + "/x"});
    EXPECT_EQ(revision.exit_code, 255) << revision.err;
    EXPECT_TRUE(Contains(revision.err, "only 2 snapshot(s)")) << revision.err;
    RunResult missing = Cli("restore", {job_, dst_, src_ + "/nothing", "--to", src_ + "/x"});
    EXPECT_EQ(missing.exit_code, 255) << missing.err;
    EXPECT_TRUE(Contains(missing.err, "does not exist")) << missing.err;
    RunResult to = Cli("restore", {job_, dst_, data_, "--to", src_});
    EXPECT_EQ(to.exit_code, 255) << to.err;
    EXPECT_TRUE(Contains(to.err, "name a new dataset below a pool")) << to.err;
    EXPECT_EQ(Out("zfs list -H -t all -o name -r " + src_), before);

    // --force replaces the named dataset (no children) and nothing else.
    Sh("zfs create " + src_ + "/scratch");
    RunResult forced =
        Cli("restore", {job_, dst_, data_, "-r", "1", "--to", src_ + "/scratch", "--force"});
    ASSERT_EQ(forced.exit_code, 0) << forced.err;
    EXPECT_EQ(CompareTrees(state_dir_ + "/one", source_->Mountpoint(src_ + "/scratch")), "");
  }
  std::string data_, copy_;
};

TEST_F(ZfsFuseRestore, ListThenNewestAndPreviousIntoNewDatasetsIdenticalToTheSourceSnapshots) {
  CheckList();
  RunResult newest = Cli("restore", {job_, dst_, data_, "--to", src_ + "/back/newest"});
  ASSERT_EQ(newest.exit_code, 0) << newest.out << newest.err;
  EXPECT_TRUE(Contains(newest.err, "restored " + copy_ + "@" + job_ + "-two")) << newest.err;
  EXPECT_EQ(CompareTrees(SourceMount(), source_->Mountpoint(src_ + "/back/newest")), "");

  RunResult previous =
      Cli("restore", {job_, dst_, data_, "-r", "1", "--to", src_ + "/back/previous"});
  ASSERT_EQ(previous.exit_code, 0) << previous.out << previous.err;
  const std::string restored = source_->Mountpoint(src_ + "/back/previous");
  EXPECT_EQ(CompareTrees(state_dir_ + "/one", restored), "");
  EXPECT_NE(CompareTrees(SourceMount(), restored), "") << "-r 1 restored the newest";
  EXPECT_EQ(SnapshotNames(src_ + "/back/previous"), std::vector<std::string>{job_ + "-one"});
  // A restore is writable (the backup's readonly=on stays behind) and not selected as a source.
  EXPECT_EQ(Shell("touch " + restored + "/new").exit_code, 0);
  EXPECT_EQ(Property(src_ + "/back/previous", "zsend:" + job_), "-");

  // The history shows two restore runs; status still shows the backup, not the restores.
  RunResult history = Cli("history", {job_});
  ASSERT_EQ(history.exit_code, 0) << history.err;
  EXPECT_TRUE(Contains(history.out, "restore")) << history.out;
  RunResult transfers = Cli("history", {job_, "--transfers"});
  EXPECT_TRUE(Contains(transfers.out, copy_ + " -> " + src_ + "/back/previous  ok  restore"))
      << transfers.out;
  RunResult status = Cli("status", {job_, "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_FALSE(Contains(status.out, "back/previous")) << status.out;
  EXPECT_TRUE(Contains(status.out, job_ + "-two")) << status.out;
}

TEST_F(ZfsFuseRestore, RefusalsThenToAFileAndStdoutThenZfsRecvIsIdentical) {
  CheckRefusalsAndForce();
  const std::string file = state_dir_ + "/stream.zfs";
  RunResult to_file = Cli("restore", {job_, dst_, copy_, "-r", job_ + "-one", "--to", file});
  ASSERT_EQ(to_file.exit_code, 0) << to_file.out << to_file.err;
  struct stat st {};
  ASSERT_EQ(stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_GT(st.st_size, 60000);
  for (const auto& entry : std::filesystem::directory_iterator(state_dir_)) {
    EXPECT_FALSE(Contains(entry.path().string(), "zsend-partial")) << entry.path();
  }
  Sh("zfs recv " + src_ + "/fromfile < " + file);
  EXPECT_EQ(CompareTrees(state_dir_ + "/one", source_->Mountpoint(src_ + "/fromfile")), "");

  // The same file again is refused, the file kept as it was.
  RunResult again = Cli("restore", {job_, dst_, data_, "--to", file});
  EXPECT_EQ(again.exit_code, 255) << again.err;
  EXPECT_TRUE(Contains(again.err, "the file exists")) << again.err;

  // Onto stdout (the group name `job_` is its newest snapshot).
  RunResult to_stdout = Cli("restore", {job_, dst_, data_, "-r", job_, "--to", "-"});
  ASSERT_EQ(to_stdout.exit_code, 0) << to_stdout.err;
  const std::string piped = state_dir_ + "/piped.zfs";
  std::ofstream(piped, std::ios::binary) << to_stdout.out;
  Sh("zfs recv " + src_ + "/fromstdout < " + piped);
  EXPECT_EQ(CompareTrees(SourceMount(), source_->Mountpoint(src_ + "/fromstdout")), "");
}

TEST_F(ZfsFuseRestore, BrowseClonesReadOnlyAndCleanupRemovesOnlyTheClones) {
  RunResult browse = Cli("restore", {job_, dst_, data_, "-r", "1", "--browse"});
  ASSERT_EQ(browse.exit_code, 0) << browse.out << browse.err;
  const std::string mountpoint = browse.out.substr(0, browse.out.find('\n'));
  ASSERT_FALSE(mountpoint.empty());
  ASSERT_EQ(mountpoint.front(), '/') << browse.out;
  EXPECT_EQ(CompareTrees(state_dir_ + "/one", mountpoint), "");
  EXPECT_NE(Shell("touch " + mountpoint + "/new 2>/dev/null").exit_code, 0) << "not read-only";
  RunResult again = Cli("restore", {job_, dst_, data_, "-r", "1", "--browse"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, browse.out);
  EXPECT_TRUE(Contains(again.err, "already cloned")) << again.err;
  // A new backup still lands in the copy while the clone is there.
  WriteData(data_, "c.bin", 10000, 74);
  RunResult three = Zsend({job_, dst_, "--snapshot-name", "three", "--transport", "pipe"});
  ASSERT_EQ(three.exit_code, 0) << three.out << three.err;

  RunResult cleanup = Cli("restore", {job_, dst_, "--cleanup"});
  ASSERT_EQ(cleanup.exit_code, 0) << cleanup.err;
  EXPECT_TRUE(Contains(cleanup.out, "destroyed " + dst_ + "/zsend-browse/" + job_ + "/"))
      << cleanup.out;
  EXPECT_EQ(Out("zfs list -H -o origin -r " + dst_ + " | grep -c @ || true"), "0\n");
  EXPECT_EQ(SnapshotNames(copy_),
            (std::vector<std::string>{job_ + "-one", job_ + "-two", job_ + "-three"}));
  RunResult usage = Cli("restore", {job_, dst_, data_, "--browse", "--to", src_ + "/x"});
  EXPECT_EQ(usage.exit_code, 255);
  EXPECT_TRUE(Contains(usage.err, "give one of --to DEST, --browse or --cleanup")) << usage.err;
}

// The backup host reached through the private sshd (the engine found with --remote-engine),
// restoring onto this machine; then from this machine onto HOST:POOL/NEW through the sshd.
TEST_F(ZfsFuseRestore, ThroughSshdFromTheBackupHost) {
  std::vector<std::string> ssh = StartSshd();
  ASSERT_FALSE(ssh.empty());
  std::vector<std::string> args = {job_,
                                   dst_,
                                   data_,
                                   "-r",
                                   "1",
                                   "--to",
                                   src_ + "/overssh",
                                   "--ssh-target",
                                   sshd_->destination(),
                                   "--remote-engine",
                                   BinPath("zsend-engine")};
  args.insert(args.end(), ssh.begin(), ssh.end());
  RunResult restored = Cli("restore", args);
  ASSERT_EQ(restored.exit_code, 0) << restored.out << restored.err;
  EXPECT_EQ(CompareTrees(state_dir_ + "/one", source_->Mountpoint(src_ + "/overssh")), "");
  // The engine's direct connection from the backup host, as `backup --transport auto` takes.
  EXPECT_TRUE(Contains(restored.err, ", tcp)")) << restored.err;
  // And the other way: the backup here, the destination HOST:POOL/NEW through ssh.
  std::vector<std::string> to_host = {job_,
                                      dst_,
                                      data_,
                                      "--to",
                                      sshd_->destination() + ":" + src_ + "/tohost",
                                      "--remote-engine",
                                      BinPath("zsend-engine")};
  to_host.insert(to_host.end(), ssh.begin(), ssh.end());
  RunResult pushed = Cli("restore", to_host);
  ASSERT_EQ(pushed.exit_code, 0) << pushed.out << pushed.err;
  EXPECT_EQ(CompareTrees(SourceMount(), source_->Mountpoint(src_ + "/tohost")), "");
  RunResult transfers = Cli("history", {job_, "--transfers"});
  EXPECT_TRUE(Contains(transfers.out, src_ + "/overssh  ok  restore")) << transfers.out;
  EXPECT_TRUE(Contains(transfers.out, src_ + "/tohost  ok  restore")) << transfers.out;
}

// -R: the whole tree with a clone inside it, the clone received as a clone of its origin; and a
// revision named by a tag (zsend:tags).
TEST_F(ZfsFuseRestore, TreeWithACloneAndARevisionByTag) {
  const std::string tree = src_ + "/tree";
  Sh("zfs create " + tree + " && zfs create " + tree + "/child");
  WriteData(tree, "t.bin", 30000, 81);
  WriteData(tree + "/child", "c.bin", 20000, 82);
  RunResult first = Zsend({job_, dst_, "--dataset", tree, "--dataset", tree + "/child",
                           "--snapshot-name", "t1", "--transport", "pipe", "--tags", "weekly"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  Sh("zfs clone " + tree + "@" + job_ + "-t1 " + tree + "/clone");
  WriteData(tree + "/clone", "k.bin", 10000, 83);
  RunResult second =
      Zsend({job_, dst_, "--dataset", tree, "--dataset", tree + "/child", "--dataset",
             tree + "/clone", "--snapshot-name", "t2", "--transport", "pipe", "--tags", "daily"});
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  const std::string copy = dst_ + "/" + tree;
  ASSERT_EQ(Property(copy + "/clone", "origin"), copy + "@" + job_ + "-t1");

  const std::string back = src_ + "/back/tree";
  RunResult restored = Cli("restore", {job_, dst_, tree, "-R", "--to", back});
  ASSERT_EQ(restored.exit_code, 0) << restored.out << restored.err;
  EXPECT_EQ(Property(back + "/clone", "origin"), back + "@" + job_ + "-t1");
  for (const std::string& d : {std::string(""), std::string("/child"), std::string("/clone")}) {
    EXPECT_EQ(CompareTrees(source_->Mountpoint(tree + d), source_->Mountpoint(back + d)), "") << d;
    EXPECT_EQ(Property(back + d, "readonly"), "off") << d;  // writable, like a single restore
  }
  RunResult again = Cli("restore", {job_, dst_, tree, "-R", "--to", back, "--force"});
  EXPECT_EQ(again.exit_code, 255);
  EXPECT_TRUE(Contains(again.err, "-R restores a whole tree into a new name only")) << again.err;
  RunResult browse = Cli("restore", {job_, dst_, tree, "-R", "--browse"});
  EXPECT_EQ(browse.exit_code, 255);
  EXPECT_TRUE(Contains(browse.err, "-R restores a tree with --to")) << browse.err;

  // zsend list shows each revision's tags (copied to the target by the rotation).
  RunResult listed = Cli("list", {job_, dst_, "--dataset", tree, "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  nlohmann::json doc = nlohmann::json::parse(listed.out);
  ASSERT_EQ(doc["datasets"][0]["revisions"].size(), 2u) << listed.out;
  EXPECT_EQ(doc["datasets"][0]["revisions"][0]["tags"], "weekly") << listed.out;
  EXPECT_EQ(doc["datasets"][0]["revisions"][1]["tags"], "daily") << listed.out;
  // -r weekly: the newest revision tagged weekly (t1), though t2 is newer.
  RunResult tagged = Cli("restore", {job_, dst_, tree, "-r", "weekly", "--to", src_ + "/back/w"});
  ASSERT_EQ(tagged.exit_code, 0) << tagged.out << tagged.err;
  EXPECT_EQ(SnapshotNames(src_ + "/back/w"), std::vector<std::string>{job_ + "-t1"});

  // Both again with the backup host behind the real sshd: the tag is read there, the -R
  // stream comes through the engine.
  std::vector<std::string> ssh = StartSshd();
  ASSERT_FALSE(ssh.empty());
  for (const auto& [extra, to] :
       {std::pair<std::vector<std::string>, std::string>{{"-R"}, src_ + "/viassh/tree"},
        {{"-r", "weekly"}, src_ + "/viassh/w"}}) {
    std::vector<std::string> args = {job_,
                                     dst_,
                                     tree,
                                     "--to",
                                     to,
                                     "--ssh-target",
                                     sshd_->destination(),
                                     "--remote-engine",
                                     BinPath("zsend-engine")};
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(), ssh.begin(), ssh.end());
    RunResult over_ssh = Cli("restore", args);
    ASSERT_EQ(over_ssh.exit_code, 0) << over_ssh.out << over_ssh.err;
  }
  EXPECT_EQ(Property(src_ + "/viassh/tree/clone", "origin"), src_ + "/viassh/tree@" + job_ + "-t1");
  EXPECT_EQ(CompareTrees(source_->Mountpoint(tree + "/clone"),
                         source_->Mountpoint(src_ + "/viassh/tree/clone")),
            "");
  EXPECT_EQ(SnapshotNames(src_ + "/viassh/w"), std::vector<std::string>{job_ + "-t1"});
}

}  // namespace
}  // namespace zsend::test
