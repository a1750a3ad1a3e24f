// What zsend daemon's jobs add to `zsend backup`, on zfs-fuse pools: --tags/--keep-tags (the
// tags ride on the snapshots: zsend:tags, set by `zfs snapshot -o` on the source and copied to
// the target's received snapshots; rotation keeps what a tag keeps on both sides), per-dataset
// rotation settings by property (zsend:NAME:keep-source...), and the in-run hooks
// (--post-snapshot, --pre-send), whose failures do what docs/daemon.md says.
#include <fstream>
#include <sstream>

#include "tests/support/backup_fixture.h"
#include "tests/support/files.h"

namespace zsend::test {
namespace {

class ZfsFuseTagsAndHooks : public BackupFixture {
 protected:
  // One run with snapshot name N and extra arguments.
  RunResult Backup(const std::string& name, const std::vector<std::string>& extra) {
    std::vector<std::string> args = {
        job_,           dst_, "--dataset",   src_ + "/fs", "--snapshot-name", name,
        "--strip-path", "1",  "--transport", "pipe",       "--allow-empty"};
    args.insert(args.end(), extra.begin(), extra.end());
    return Zsend(args);
  }
  std::string Tags(const std::string& snapshot) {
    std::string value = Out("zfs get -H -o value zsend:tags " + snapshot);
    return value.substr(0, value.find('\n'));
  }
};

TEST_F(ZfsFuseTagsAndHooks, TagsRideOnTheSnapshotsAndRotateBothSidesByTag) {
  Sh("zfs create " + src_ + "/fs");
  WriteData(src_ + "/fs", "a.bin", 20000, 1);
  // Run 0 untagged; tagged by hand afterwards, so its copy on the target has no tags yet.
  ASSERT_EQ(Backup("0", {}).exit_code, 0);
  Sh("zfs set zsend:tags=monthly " + src_ + "/fs@" + job_ + "-0");
  const std::string keeps = "daily=2,weekly=1,monthly=1";
  // Runs 1..5: daily every time, weekly on 1 and 4.
  for (int run = 1; run <= 5; ++run) {
    RunResult r = Backup(std::to_string(run),
                         {"--keep-tags", keeps, "--tags", run % 3 == 1 ? "daily,weekly" : "daily"});
    ASSERT_EQ(r.exit_code, 0) << run << r.out << r.err;
    EXPECT_EQ(Tags(src_ + "/fs@" + job_ + "-" + std::to_string(run)),
              run % 3 == 1 ? "daily,weekly" : "daily");
  }
  // monthly keeps 0; daily keeps 5 and 4, weekly keeps 4; 1 (an older weekly), 2 and 3 are
  // gone on both sides.
  const std::vector<std::string> kept = {job_ + "-0", job_ + "-4", job_ + "-5"};
  EXPECT_EQ(SnapshotNames(src_ + "/fs"), kept);
  EXPECT_EQ(SnapshotNames(dst_ + "/fs"), kept);
  // The tags arrived with the stream (zfs send -p), and run 0's copy, received untagged, got
  // its tag from the source snapshot with the same guid at the rotation.
  EXPECT_EQ(Tags(dst_ + "/fs@" + job_ + "-4"), "daily,weekly");
  EXPECT_EQ(Tags(dst_ + "/fs@" + job_ + "-5"), "daily");
  EXPECT_EQ(Tags(dst_ + "/fs@" + job_ + "-0"), "monthly");

  // An untagged run (a manual one) is thinned by --keep-source/--keep-target among the
  // untagged; the tagged stay as their tags say.
  RunResult manual =
      Backup("6", {"--keep-source", "1", "--keep-target", "1", "--keep-tags", keeps});
  ASSERT_EQ(manual.exit_code, 0) << manual.out << manual.err;
  EXPECT_EQ(Tags(src_ + "/fs@" + job_ + "-6"), "-");
  const std::vector<std::string> now = {job_ + "-0", job_ + "-4", job_ + "-5", job_ + "-6"};
  EXPECT_EQ(SnapshotNames(src_ + "/fs"), now);
  EXPECT_EQ(SnapshotNames(dst_ + "/fs"), now);
  EXPECT_NE(manual.out.find(dst_ + "/fs@" + job_ + "-4: keep: one of the newest 2 tagged daily"),
            std::string::npos)
      << manual.out;

  // A run without --keep-tags never thins a tagged snapshot: only the untagged 6 goes.
  RunResult plain = Backup("8", {"--keep-source", "1", "--keep-target", "1"});
  ASSERT_EQ(plain.exit_code, 0) << plain.out << plain.err;
  const std::vector<std::string> after = {job_ + "-0", job_ + "-4", job_ + "-5", job_ + "-8"};
  EXPECT_EQ(SnapshotNames(src_ + "/fs"), after);
  EXPECT_EQ(SnapshotNames(dst_ + "/fs"), after);
  EXPECT_NE(plain.out.find("-4: keep: tagged daily,weekly (only --keep-tags rotates it)"),
            std::string::npos)
      << plain.out;

  RunResult bad = Backup("7", {"--tags", "daily weekly"});
  EXPECT_EQ(bad.exit_code, 255);
  EXPECT_NE(bad.err.find("--tags daily weekly: a tag is"), std::string::npos) << bad.err;
  RunResult bad_keep = Backup("7", {"--keep-tags", "daily"});
  EXPECT_EQ(bad_keep.exit_code, 255);
  EXPECT_NE(bad_keep.err.find("--keep-tags: bad 'daily'"), std::string::npos) << bad_keep.err;
}

TEST_F(ZfsFuseTagsAndHooks, AFailingPreSendSendsNothingAFailingPostSnapshotDoesNotStopTheRun) {
  Sh("zfs create " + src_ + "/fs");
  WriteData(src_ + "/fs", "a.bin", 20000, 2);
  const std::string post = state_dir_ + "/post", pre = state_dir_ + "/pre";
  RunResult failed = Backup(
      "1", {"--tags", "daily", "--post-snapshot",
            "echo \"$ZSEND_HOOK $ZSEND_JOB $ZSEND_SNAPSHOT $ZSEND_TAGS $ZSEND_DATASETS\" > " +
                post + "; exit 2",
            "--pre-send", "echo \"$ZSEND_HOOK\" > " + pre + "; echo not ready >&2; exit 4"});
  EXPECT_EQ(failed.exit_code, 255) << failed.out << failed.err;
  const std::string said = failed.out + failed.err;
  EXPECT_NE(said.find("post-snapshot hook failed (exit 2) (the run goes on)"), std::string::npos)
      << said;
  EXPECT_NE(said.find("pre-send hook failed (exit 4): not ready: nothing was sent"),
            std::string::npos)
      << said;
  EXPECT_EQ(ReadFile(post), "post-snapshot " + job_ + " " + job_ + "-1 daily " + src_ + "/fs\n");
  EXPECT_EQ(ReadFile(pre), "pre-send\n");
  EXPECT_EQ(SnapshotNames(src_ + "/fs"), std::vector<std::string>{job_ + "-1"});
  EXPECT_EQ(Out("zfs list -H -o name " + dst_ + "/fs 2>/dev/null"), "");  // nothing received

  // A hook past its deadline is stopped with its process group: nothing of it stays running.
  RunResult stuck = Backup("2", {"--pre-send", "sleep 347; true", "--hook-timeout", "1"});
  EXPECT_EQ(stuck.exit_code, 255);
  EXPECT_NE((stuck.out + stuck.err).find("pre-send hook timed out after 1s"), std::string::npos)
      << stuck.out << stuck.err;
  EXPECT_NE(Shell("pgrep -f '[s]leep 347'").exit_code, 0) << "the hook outlived its timeout";
  RunResult no_time = Backup("2", {"--pre-send", "true", "--hook-timeout", "0"});
  EXPECT_EQ(no_time.exit_code, 255);
  EXPECT_NE(no_time.err.find("--hook-timeout must be at least 1 second"), std::string::npos)
      << no_time.err;

  RunResult ok = Backup("3", {"--pre-send", "test \"$ZSEND_SNAPSHOT\" = " + job_ + "-3"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_EQ(Compare(src_ + "/fs", dst_ + "/fs"), "");
}

TEST_F(ZfsFuseTagsAndHooks, DatasetPropertiesOverrideTheJobsKeepForTheirSubtree) {
  for (const char* d : {"/fs", "/fs/child", "/other", "/broken"}) Sh("zfs create " + src_ + d);
  Sh("zfs set zsend:" + job_ + ":keep-source=1 " + src_ + "/fs");  // inherited by fs/child
  Sh("zfs set zsend:" + job_ + ":keep-target=2 " + src_ + "/fs/child");
  auto run = [&](const std::string& name) {
    return Zsend({job_,
                  dst_,
                  "--dataset",
                  src_ + "/fs",
                  "--dataset",
                  src_ + "/fs/child",
                  "--dataset",
                  src_ + "/other",
                  "--dataset",
                  src_ + "/broken",
                  "--snapshot-name",
                  name,
                  "--strip-path",
                  "1",
                  "--transport",
                  "pipe",
                  "--allow-empty",
                  "--keep-source",
                  "3",
                  "--keep-target",
                  "3"});
  };
  for (const char* name : {"1", "2", "3"}) ASSERT_EQ(run(name).exit_code, 0);
  Sh("zfs set zsend:" + job_ + ":keep-source=3x " + src_ + "/broken");
  RunResult fourth = run("4");
  EXPECT_EQ(fourth.exit_code, 1) << fourth.out << fourth.err;  // /broken's rotation failed
  const std::string j = job_ + "-";
  using Names = std::vector<std::string>;
  EXPECT_EQ(SnapshotNames(src_ + "/fs"), Names{j + "4"});
  EXPECT_EQ(SnapshotNames(src_ + "/fs/child"), Names{j + "4"});
  EXPECT_EQ(SnapshotNames(dst_ + "/fs"), (Names{j + "2", j + "3", j + "4"}));
  EXPECT_EQ(SnapshotNames(dst_ + "/fs/child"), (Names{j + "3", j + "4"}));
  EXPECT_EQ(SnapshotNames(src_ + "/other"), (Names{j + "2", j + "3", j + "4"}));
  // The bad value: that dataset's rotation fails with the property named, nothing destroyed.
  EXPECT_EQ(SnapshotNames(src_ + "/broken"), (Names{j + "1", j + "2", j + "3", j + "4"}));
  EXPECT_NE(fourth.out.find("error: zsend:" + job_ + ":keep-source on " + src_ + "/broken: "),
            std::string::npos)
      << fourth.out;
  EXPECT_NE(fourth.out.find("settings local " + src_ + "/fs/child: keep-source 1 (zsend:" + job_ +
                            ":keep-source)"),
            std::string::npos)
      << fourth.out;
  // zsend prune reads the same settings.
  Sh("zfs inherit zsend:" + job_ + ":keep-source " + src_ + "/broken");
  RunResult pruned = test::Run({BinPath("zsend"), "prune", job_, dst_, "--dataset",
                                src_ + "/broken", "--strip-path", "1", "--keep-source", "2",
                                "--keep-target", "3", "--state-dir", state_dir_});
  EXPECT_EQ(pruned.exit_code, 0) << pruned.out << pruned.err;
  EXPECT_EQ(SnapshotNames(src_ + "/broken"), (Names{j + "3", j + "4"}));
}

}  // namespace
}  // namespace zsend::test
