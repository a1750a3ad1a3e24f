// The fake zfs and the Zfs layer held to real OpenZFS: tests/data/openzfs-golden/recorded.txt
// is what OpenZFS 2.1 answered to commands.txt on the pool of scenario.sh (the `openzfs` suite
// checks the recording against the guest, OpenZfsGolden.*). Here the fake, given the same
// pool, must answer the same (numbers aside), and the Zfs layer must read the real answers.
#include "tests/support/zfs_golden.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "orchestrator/zfs/host_state.h"
#include "orchestrator/zfs/zfs.h"
#include "tests/support/fake_zfs.h"

namespace zsend::orchestrator {
namespace {

using test::FakeZfsRunner;
using test::GoldenAnswer;

// scenario.sh, built in the fake.
void MakeScenario(FakeZfsRunner& fake) {
  auto run = [&](std::vector<std::string> argv) {
    Result<CommandOutput> out = fake.Run({argv, Effect::kMutates, ""});
    ASSERT_TRUE(out.ok() && out->exit_code == 0) << argv[1] << ": " << (out.ok() ? out->err : "");
  };
  fake.AddDataset("zgold");
  run({"zfs", "create", "zgold/a"});
  run({"zfs", "set", "zsend:job=true", "zgold/a"});
  run({"zfs", "create", "zgold/a/b"});
  run({"zfs", "create", "zgold/c"});
  run({"zfs", "snapshot", "zgold/a@s1"});
  run({"zfs", "snapshot", "-r", "zgold/a@s2"});
  run({"zfs", "hold", "keep", "zgold/a@s1"});
  fake.AddDataset("zgold/k", DatasetType::kFilesystem, "zgold/a@s1");  // zfs clone
  // zfs send -p zgold/a@s2 | zfs receive zgold/r
  fake.AddDataset("zgold/r");
  fake.SetReceivedProperty("zgold/r", "zsend:job", "true");
  fake.AddSnapshot("zgold/r", "s2", fake.Snapshots("zgold/a").back().guid);
}

TEST(FakeZfsGolden, AnswersLikeTheRecordedOpenZfs) {
  const std::vector<test::GoldenCommand> commands = test::ReadGoldenCommands();
  const std::vector<GoldenAnswer> golden = test::ReadGoldenAnswers();
  ASSERT_EQ(golden.size(), commands.size())
      << "recorded.txt is out of date: run scripts/record-openzfs-golden.sh";
  FakeZfsRunner fake(FakeZfsRunner::Flavor::kOpenZfs);
  MakeScenario(fake);
  for (size_t i = 0; i < commands.size(); ++i) {
    SCOPED_TRACE(commands[i].line);
    ASSERT_EQ(golden[i].line, commands[i].line) << "recorded.txt is out of date";
    Result<CommandOutput> out = fake.Run({commands[i].argv, Effect::kReadOnly, ""});
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    if (commands[i].dialect) {
      Result<ZfsDialect> real = DialectFromUsage(golden[i].out + golden[i].err);
      Result<ZfsDialect> faked = DialectFromUsage(out->out + out->err);
      ASSERT_TRUE(real.ok() && faked.ok());
      EXPECT_EQ(faked->family, real->family);
      EXPECT_EQ(ParseUsageFlags(out->out + out->err),
                ParseUsageFlags(golden[i].out + golden[i].err))
          << "the fake's usage text offers other flags than OpenZFS's";
      continue;
    }
    const GoldenAnswer faked{commands[i].line, out->exit_code, out->out, out->err};
    EXPECT_EQ(test::Normalize(test::FormatGoldenAnswer(faked)),
              test::Normalize(test::FormatGoldenAnswer(golden[i])));
  }
}

// Answers a command line with its recorded answer (the next unused one when it was run twice);
// a command line that was never recorded fails the test.
class ReplayRunner : public CommandRunner {
 public:
  ReplayRunner() : answers_(test::ReadGoldenAnswers()) {}
  Result<CommandOutput> Run(const Command& command) override {
    std::string line;
    for (const std::string& word : command.argv) line += (line.empty() ? "" : " ") + word;
    for (size_t i = 0; i < answers_.size(); ++i) {
      if (used_[i] || answers_[i].line != line) continue;
      used_[i] = true;
      CommandOutput out;
      out.exit_code = answers_[i].exit_code;
      out.out = answers_[i].out;
      out.err = answers_[i].err;
      return out;
    }
    ADD_FAILURE() << "the Zfs layer ran a command line not in the recordings: " << line
                  << " (add it to tests/data/openzfs-golden/commands.txt and re-record)";
    return Internal("not recorded: " + line);
  }
  std::string HostLabel() const override { return "recorded"; }

 private:
  std::vector<GoldenAnswer> answers_;
  std::vector<bool> used_ = std::vector<bool>(answers_.size(), false);
};

TEST(ZfsLayerGolden, ReadsWhatRealOpenZfsPrints) {
  ReplayRunner replay;
  Zfs zfs(replay);
  ASSERT_TRUE(zfs.Probe().ok());
  EXPECT_EQ(zfs.dialect().family, "openzfs");
  EXPECT_TRUE(zfs.dialect().list_parsable && zfs.dialect().holds_list &&
              zfs.dialect().recv_resumable && zfs.dialect().destroy_batched);

  Result<std::vector<DatasetInfo>> all = zfs.ListDatasets({"zgold"}, true);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 6u);
  EXPECT_EQ((*all)[4].name, "zgold/k");
  EXPECT_EQ((*all)[4].origin, "zgold/a@s1");
  EXPECT_FALSE((*all)[1].is_clone());

  Result<std::vector<DatasetInfo>> selected =
      zfs.ListDatasets({"zgold/a", "zgold/c"}, true, {"zsend:job"});
  ASSERT_TRUE(selected.ok()) << selected.status().ToString();
  ASSERT_EQ(selected->size(), 3u);
  EXPECT_EQ((*selected)[1].properties.at("zsend:job"), "true");
  EXPECT_EQ((*selected)[2].properties.at("zsend:job"), "-");

  Result<bool> exists = zfs.Exists("zgold/a");
  ASSERT_TRUE(exists.ok()) << exists.status().ToString();
  EXPECT_TRUE(*exists);
  Result<bool> missing = zfs.Exists("zgold/missing");
  ASSERT_TRUE(missing.ok()) << missing.status().ToString();
  EXPECT_FALSE(*missing);

  Result<std::vector<PropertyValue>> values = zfs.GetProperty("zsend:job", {"zgold"}, true);
  ASSERT_TRUE(values.ok()) << values.status().ToString();
  ASSERT_EQ(values->size(), 6u);
  EXPECT_EQ((*values)[1].source, PropertySource::kLocal);
  EXPECT_EQ((*values)[2].source, PropertySource::kInherited);
  EXPECT_EQ((*values)[2].inherited_from, "zgold/a");
  EXPECT_EQ((*values)[5].source, PropertySource::kReceived);
  EXPECT_EQ((*values)[0].source, PropertySource::kNone);

  Result<std::vector<SnapshotInfo>> snapshots = zfs.ListSnapshots("zgold/a");
  ASSERT_TRUE(snapshots.ok()) << snapshots.status().ToString();
  ASSERT_EQ(snapshots->size(), 2u);
  EXPECT_EQ((*snapshots)[0].name, "s1");
  EXPECT_EQ((*snapshots)[0].userrefs, 1u);
  EXPECT_NE((*snapshots)[0].guid, 0u);
  EXPECT_LT((*snapshots)[0].createtxg, (*snapshots)[1].createtxg);
  EXPECT_EQ(zfs.ListSnapshots("zgold/missing").status().code(), StatusCode::kNotFound);

  Result<std::vector<HoldInfo>> holds = zfs.Holds({"zgold/a@s1", "zgold/a@s2"});
  ASSERT_TRUE(holds.ok()) << holds.status().ToString();
  ASSERT_EQ(holds->size(), 1u);
  EXPECT_EQ((*holds)[0].snapshot, "zgold/a@s1");
  EXPECT_EQ((*holds)[0].tag, "keep");

  Result<std::string> token = zfs.ResumeToken("zgold/a");
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  EXPECT_EQ(*token, "");

  // Planning's one read per host (host_state.h).
  Result<HostState> state = ReadHostState(zfs, {"zgold/a", "zgold/k"}, true);
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  ASSERT_NE(state->Find("zgold/a"), nullptr);
  ASSERT_NE(state->Find("zgold/a/b"), nullptr);
  ASSERT_NE(state->Find("zgold/k"), nullptr);
  EXPECT_EQ(state->Find("zgold/c"), nullptr);
  ASSERT_EQ(state->Find("zgold/a")->snapshots.size(), 2u);
  EXPECT_EQ(state->Find("zgold/a")->snapshots[1].name, "s2");
  EXPECT_EQ(state->Find("zgold/a")->snapshots[0].guid, (*snapshots)[0].guid);
  EXPECT_EQ(state->Find("zgold/a")->snapshots[0].userrefs, 1u);
  EXPECT_EQ(state->Find("zgold/a/b")->snapshots.size(), 1u);
  EXPECT_EQ(state->Find("zgold/k")->origin, "zgold/a@s1");
  EXPECT_EQ(state->Find("zgold/a")->resume_token, "");
  EXPECT_FALSE(state->Find("zgold/a")->written.empty());
  EXPECT_EQ(ReadHostState(zfs, {"zgold/missing"}, false).status().code(), StatusCode::kNotFound);

  EXPECT_TRUE(zfs.Hold("t2", {"zgold/a@s2", "zgold/a/b@s2"}).ok());
  EXPECT_TRUE(zfs.Release("t2", {"zgold/a@s2", "zgold/a/b@s2"}).ok());
  Status again = zfs.Release("t2", {"zgold/a@s2"});
  EXPECT_FALSE(again.ok());
  EXPECT_NE(again.ToString().find("no such tag"), std::string::npos) << again.ToString();
  Status busy = zfs.DestroySnapshots("zgold/a", {"s1"});
  EXPECT_FALSE(busy.ok());
  EXPECT_NE(busy.ToString().find("dependent clones"), std::string::npos) << busy.ToString();
  EXPECT_TRUE(zfs.DestroySnapshots("zgold/a", {"s2", "s3"}).ok());
}

}  // namespace
}  // namespace zsend::orchestrator
