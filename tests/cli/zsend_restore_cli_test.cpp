// `zsend restore` and `zsend list` as the real program, where no zfs is needed: bad input is
// one line naming the problem and the fix with exit 255 before any host is touched, the help
// lists the forms and the exit codes; and a restore row in the history shows in `history`, not
// in `status`.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "orchestrator/report/history.h"
#include "tests/support/subprocess.h"

namespace zsend::test {
namespace {

using orchestrator::History;

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

size_t Lines(const std::string& text) {
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

TEST(ZsendRestoreCli, BadDestinationsAndModesAreOneLineErrors) {
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  for (const Case& c : std::vector<Case>{
           {{"job", "backup", "tank/fs", "--to", "tank"}, "name a new dataset below a pool"},
           {{"job", "backup", "tank/fs", "--to", "nas:"}, "name a new dataset below a pool"},
           {{"job", "backup", "tank/fs"}, "give one of --to DEST, --browse or --cleanup"},
           {{"job", "backup", "tank/fs", "--to", "-", "--cleanup"}, "give one of --to DEST"},
           {{"job", "backup", "--to", "tank/new"}, "DATASET is required"},
           {{"job", "backup", "tank/fs", "--to", "tank/new", "--transport", "carrier-pigeon"},
            "carrier-pigeon"},
       }) {
    std::vector<std::string> argv = {BinPath("zsend"), "restore"};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    RunResult r = test::Run(argv);
    EXPECT_EQ(r.exit_code, 255) << c.says << ": " << r.err;
    EXPECT_TRUE(Contains(r.err, c.says)) << r.err;
    EXPECT_EQ(Lines(r.err), 1u) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
}

TEST(ZsendRestoreCli, HelpListsTheFormsAndExitCodes) {
  RunResult help = test::Run({BinPath("zsend"), "restore", "--help"});
  ASSERT_EQ(help.exit_code, 0) << help.err;
  for (const char* part : {"--to", "--browse", "--cleanup", "--force", "-r,--revision", "latest",
                           "restore:       0 restored; 1 the stream failed"}) {
    EXPECT_TRUE(Contains(help.out, part)) << part << "\n" << help.out;
  }
  RunResult list = test::Run({BinPath("zsend"), "list", "--help"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_TRUE(Contains(list.out, "--json")) << list.out;
}

TEST(ZsendRestoreCli, HistoryShowsARestoreThatStatusLeavesOut) {
  char pattern[] = "/tmp/zsend-restore-cli-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  const std::string dir = pattern;
  {
    auto history = History::Open(dir);
    ASSERT_TRUE(history.ok()) << history.status().ToString();
    orchestrator::RunRecord run;
    run.backup_name = "job";
    run.started = 1700000000;
    auto backup = (*history)->BeginRun(run);
    ASSERT_TRUE(backup.ok());
    orchestrator::TransferRecord t;
    t.run_id = *backup;
    t.backup_name = "job";
    t.source_dataset = "tank/fs";
    t.target_dataset = "backup/tank/fs";
    t.to_snapshot = "tank/fs@job-1";
    t.kind = "full";
    t.result = "ok";
    t.started = 1700000000;
    t.ended = 1700000010;
    ASSERT_TRUE((*history)->AddTransfer(t).ok());
    ASSERT_TRUE((*history)->EndRun(*backup, 1700000010, "ok", 1, 0, "").ok());
    run.command = "restore";
    run.started = 1700000100;
    auto restore = (*history)->BeginRun(run);
    ASSERT_TRUE(restore.ok());
    t.run_id = *restore;
    t.source_dataset = "backup/tank/fs";
    t.target_dataset = "tank/restored";
    t.to_snapshot = "backup/tank/fs@job-1";
    t.kind = "restore";
    t.started = 1700000100;
    t.ended = 1700000110;
    ASSERT_TRUE((*history)->AddTransfer(t).ok());
    ASSERT_TRUE((*history)->EndRun(*restore, 1700000110, "ok", 1, 0, "").ok());
  }
  RunResult runs = test::Run({BinPath("zsend"), "history", "job", "--state-dir", dir});
  ASSERT_EQ(runs.exit_code, 0) << runs.err;
  EXPECT_TRUE(Contains(runs.out, "restore")) << runs.out;
  RunResult transfers =
      test::Run({BinPath("zsend"), "history", "job", "--transfers", "--state-dir", dir});
  EXPECT_TRUE(Contains(transfers.out, "backup/tank/fs -> tank/restored  ok  restore"))
      << transfers.out;
  RunResult status = test::Run({BinPath("zsend"), "status", "job", "--state-dir", dir});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_TRUE(Contains(status.out, "tank/fs")) << status.out;
  EXPECT_FALSE(Contains(status.out, "restored")) << status.out;
  EXPECT_EQ(Lines(status.out), 2u) << "a header and the backed-up dataset only\n" << status.out;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace zsend::test
