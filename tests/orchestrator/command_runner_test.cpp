// LocalRunner (fork/exec without a shell), shell quoting, and the dry-run decorator.
#include "orchestrator/host/command_runner.h"

#include <gtest/gtest.h>

#include <sstream>

#include "tests/support/fake_zfs.h"

namespace zsend::orchestrator {
namespace {

TEST(LocalRunner, CapturesStdoutStderrAndExitCode) {
  LocalRunner runner;
  Result<CommandOutput> output =
      runner.Run({{"sh", "-c", "echo out; echo err >&2; exit 3"}, Effect::kReadOnly, ""});
  ASSERT_TRUE(output.ok()) << output.status().ToString();
  EXPECT_EQ(output->exit_code, 3);
  EXPECT_EQ(output->out, "out\n");
  EXPECT_EQ(output->err, "err\n");
  EXPECT_EQ(output->FirstErrorLine(), "err");
}

TEST(LocalRunner, PassesArgumentsWithoutAShell) {
  LocalRunner runner;
  Result<CommandOutput> output =
      runner.Run({{"printf", "%s|", "$HOME", "a b", "'q'", ";ls"}, Effect::kReadOnly, ""});
  ASSERT_TRUE(output.ok());
  EXPECT_EQ(output->out, "$HOME|a b|'q'|;ls|");
}

TEST(LocalRunner, FeedsInputAndReadsLargeOutput) {
  LocalRunner runner;
  std::string input(1 << 20, 'x');
  for (size_t i = 0; i < input.size(); i += 97) input[i] = '\n';
  Result<CommandOutput> output = runner.Run({{"cat"}, Effect::kReadOnly, input});
  ASSERT_TRUE(output.ok());
  EXPECT_EQ(output->exit_code, 0);
  EXPECT_EQ(output->out, input);
}

TEST(LocalRunner, CommandThatIgnoresItsInputDoesNotKillUs) {
  LocalRunner runner;
  Result<CommandOutput> output =
      runner.Run({{"sh", "-c", "exit 4"}, Effect::kReadOnly, std::string(4 << 20, 'x')});
  ASSERT_TRUE(output.ok());
  EXPECT_EQ(output->exit_code, 4);
}

TEST(LocalRunner, MissingProgramIsNotFound) {
  LocalRunner runner;
  Result<CommandOutput> output = runner.Run({{"zsend-no-such-program-xyz"}, Effect::kReadOnly, ""});
  ASSERT_FALSE(output.ok());
  EXPECT_EQ(output.status().code(), StatusCode::kNotFound);
  EXPECT_NE(output.status().message().find("zsend-no-such-program-xyz"), std::string::npos);
}

TEST(LocalRunner, DoesNotWaitForADaemonisedGrandchild) {
  LocalRunner runner;
  // The grandchild keeps stdout open for 30 s; the runner must return when the child exits.
  Result<CommandOutput> output =
      runner.Run({{"sh", "-c", "echo started; (sleep 30 &) ; exit 0"}, Effect::kReadOnly, ""});
  ASSERT_TRUE(output.ok());
  EXPECT_EQ(output->out, "started\n");
}

TEST(DryRunRunner, PrintsMutatingCommandsAndRunsReadOnlyOnes) {
  test::FakeZfsRunner fake(test::FakeZfsRunner::Flavor::kOpenZfs, "backup-host");
  fake.AddDataset("tank");
  fake.AddDataset("tank/fs");
  std::string before = fake.Dump();
  std::ostringstream printed;
  DryRunRunner dry(fake, printed);

  Result<CommandOutput> list =
      dry.Run({{"zfs", "list", "-H", "-o", "name"}, Effect::kReadOnly, ""});
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->out, "tank\ntank/fs\n");  // really ran
  Result<CommandOutput> snap = dry.Run({{"zfs", "snapshot", "tank/fs@a b"}, Effect::kMutates, ""});
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->exit_code, 0);
  EXPECT_EQ(printed.str(), "dry-run [backup-host]: zfs snapshot 'tank/fs@a b'\n");
  EXPECT_EQ(fake.Dump(), before);
  EXPECT_EQ(fake.Commands().size(), 1u);  // only the list reached the host
}

TEST(RunChecked, NamesTheCommandHostAndStderr) {
  test::FakeZfsRunner fake(test::FakeZfsRunner::Flavor::kOpenZfs, "src");
  Result<CommandOutput> output =
      RunChecked(fake, {{"zfs", "destroy", "nopool/x@y"}, Effect::kMutates, ""});
  ASSERT_FALSE(output.ok());
  EXPECT_EQ(output.status().message(),
            "zfs destroy nopool/x@y failed (exit 1) on src: cannot open 'nopool/x': dataset does "
            "not exist");
}

}  // namespace
}  // namespace zsend::orchestrator
