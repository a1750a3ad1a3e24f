// The golden recordings (tests/data/openzfs-golden/) against the guest's real OpenZFS: the
// command lines of commands.txt, run on the pool of scenario.sh, must answer what recorded.txt
// says (numbers aside). The unit suite holds the fake zfs to the same recordings
// (tests/orchestrator/fake_zfs_golden_test.cpp), so fake and real cannot drift apart silently.
// ZSEND_RECORD_GOLDEN=1 rewrites recorded.txt from the guest instead
// (scripts/record-openzfs-golden.sh).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "tests/support/peers/openzfs_guest.h"
#include "tests/support/zfs_golden.h"

namespace zsend::test {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(OpenZfsGolden, RecordedAnswersAreWhatThisOpenZfsAnswers) {
  const std::string error = EnsureOpenZfsGuest();
  ZSEND_REQUIRE(error.empty(), "the OpenZFS guest: " + error);
  // The scenario's pool has a fixed name (it is in the recordings); the guest boots pristine.
  GuestShell("zpool destroy -f zgold 2>/dev/null; rm -f /var/tmp/zgold.img");
  RunResult made = GuestShell("sh -s", ReadFile(GoldenDir() + "/scenario.sh"));
  ASSERT_EQ(made.exit_code, 0) << made.out << made.err;

  std::string recording =
      "# What OpenZFS answered to commands.txt on the pool of scenario.sh.\n"
      "# Written by scripts/record-openzfs-golden.sh; do not edit by hand.\n";
  const std::vector<GoldenAnswer> golden = ReadGoldenAnswers();
  const std::vector<GoldenCommand> commands = ReadGoldenCommands();
  const bool record = std::getenv("ZSEND_RECORD_GOLDEN") != nullptr;
  if (!record) {
    ASSERT_EQ(golden.size(), commands.size()) << "recorded.txt is out of date";
  }
  for (size_t i = 0; i < commands.size(); ++i) {
    RunResult r = GuestShell(commands[i].line);
    const GoldenAnswer answer{commands[i].line, r.exit_code, r.out, r.err};
    recording += FormatGoldenAnswer(answer);
    if (record || commands[i].dialect) continue;  // the dialect is compared by the unit suite
    SCOPED_TRACE(commands[i].line);
    EXPECT_EQ(golden[i].line, commands[i].line);
    EXPECT_EQ(Normalize(FormatGoldenAnswer(answer)), Normalize(FormatGoldenAnswer(golden[i])));
  }
  GuestShell("zpool destroy -f zgold; rm -f /var/tmp/zgold.img");
  if (record) {
    std::ofstream(GoldenDir() + "/recorded.txt") << recording;
    std::cout << "rewrote " << GoldenDir() << "/recorded.txt\n";
  }
}

}  // namespace
}  // namespace zsend::test
