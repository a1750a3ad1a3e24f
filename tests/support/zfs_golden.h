// Test support: golden recordings of real OpenZFS (tests/data/openzfs-golden/).
//
// commands.txt lists zfs command lines; recorded.txt holds what OpenZFS 2.1 answered to each on
// the pool of scenario.sh (exit code, stdout, stderr). The `openzfs` suite re-runs them in the
// guest and compares (or, with ZSEND_RECORD_GOLDEN=1, rewrites recorded.txt); the unit suite runs
// them through the fake zfs and compares. Comparison is by Normalize(): numbers (guids, txgs,
// sizes, dates) may differ, every word and the shape of the output may not.
#pragma once

#include <string>
#include <vector>

namespace zsend::test {

struct GoldenCommand {
  std::string line;               // as written in commands.txt (after a `dialect ` marker)
  std::vector<std::string> argv;  // the line split at spaces
  bool dialect = false;           // compare the dialect read from the output, not its text
};

struct GoldenAnswer {
  std::string line;  // the command line it answers
  int exit_code = 0;
  std::string out, err;
};

std::string GoldenDir();  // tests/data/openzfs-golden in the source tree
std::vector<GoldenCommand> ReadGoldenCommands();
// recorded.txt as answers, in file order.
std::vector<GoldenAnswer> ReadGoldenAnswers();
// One answer in recorded.txt's format: "$ LINE", "rc N", then "| " stdout and "! " stderr lines.
std::string FormatGoldenAnswer(const GoldenAnswer& answer);
// What real OpenZFS printed for `zfs -?` (the fake zfs's usage text for OpenZFS).
const std::string& RecordedOpenZfsUsage();
// Every run of decimal digits, and 0x with its hex digits, becomes '#'; ctime's day and month
// names become "(date)".
std::string Normalize(const std::string& text);

}  // namespace zsend::test
