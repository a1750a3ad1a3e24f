// ProgressBoard (orchestrator/report/progress_board.h): the lines it formats, the in-place
// redraw on a terminal, the throttle, and log lines printed above the block, on a fake clock.
#include "orchestrator/report/progress_board.h"

#include <gtest/gtest.h>

#include <sstream>

namespace zsend::orchestrator {
namespace {

size_t Count(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

TEST(ProgressBoardFormat, OneLinePerTransferAndATotal) {
  std::vector<std::string> lines =
      FormatProgressBlock({{"tank/a", 2 * 1048576, 2, 0}, {"tank/longer", 1048576, 1, 4 * 1048576}},
                          {1, 3, 5 * 1048576, 5});
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "tank/a       2.00 MiB  1.00 MiB/s  0:02");
  EXPECT_EQ(lines[1], "tank/longer  1.00 MiB  1.00 MiB/s  0:01  25%  ETA 0:03");
  EXPECT_EQ(lines[2], "total  1 of 3 datasets done  5.00 MiB  1.00 MiB/s  0:05");
}

TEST(ProgressBoardFormat, NoPercentWithoutASizeAndNoRateBeforeTime) {
  std::vector<std::string> lines = FormatProgressBlock({{"p/x", 0, 0, 0}}, {0, 0, 0, 0});
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].find('%'), std::string::npos) << lines[0];
  EXPECT_EQ(lines[1].find(" of "), std::string::npos) << lines[1];  // total not known
}

TEST(ProgressBoard, RedrawsInPlaceOnATerminalAtMostEveryInterval) {
  std::ostringstream out;
  double now = 100;
  ProgressBoard board(out, ProgressBoard::Mode::kTerminal, 80, [&now] { return now; });
  board.Expect(2);
  int a = board.Begin("tank/a", 0);  // first draw: 2 lines, nothing to clear
  EXPECT_EQ(Count(out.str(), "\x1b[1A"), 0u);
  EXPECT_EQ(Count(out.str(), "tank/a"), 1u);
  now += 0.1;
  board.Update(a, 1048576, 1);  // throttled
  EXPECT_EQ(Count(out.str(), "tank/a"), 1u);
  now += ProgressBoard::kTerminalInterval;
  board.Update(a, 2 * 1048576, 2);  // due: the 2 lines drawn before are cleared, then redrawn
  EXPECT_EQ(Count(out.str(), "\x1b[1A\x1b[2K"), 2u);
  EXPECT_EQ(Count(out.str(), "tank/a"), 2u);
  EXPECT_NE(out.str().find("2.00 MiB"), std::string::npos);
  now += 1;
  board.End(a);
  EXPECT_NE(out.str().find("total  1 of 2 datasets done"), std::string::npos) << out.str();
  board.Finish();  // clears the block (just the total line now)
  EXPECT_EQ(out.str().substr(out.str().size() - 8), "\x1b[1A\x1b[2K");
}

TEST(ProgressBoard, LogLinesGoAboveTheBlock) {
  std::ostringstream out;
  double now = 0;
  ProgressBoard board(out, ProgressBoard::Mode::kTerminal, 80, [&now] { return now; });
  board.Begin("tank/a", 0);
  const size_t before = out.str().size();
  board.Print("fallback: something");
  // Cleared (2 lines), the log line, then the block again.
  const std::string after = out.str().substr(before);
  EXPECT_EQ(after.rfind("\x1b[1A\x1b[2K\x1b[1A\x1b[2Kfallback: something\n\x1b[2Ktank/a", 0), 0u)
      << after;
}

// --syslog tees stderr's lines into syslog: the log lines go through it, the block does not.
TEST(ProgressBoard, LogLinesCanGoToAStreamOfTheirOwn) {
  std::ostringstream out, log;
  ProgressBoard board(out, ProgressBoard::Mode::kTerminal, 80, [] { return 0.0; });
  board.SetLogStream(&log);
  board.Begin("tank/a", 0);
  board.Print("fallback: something");
  EXPECT_EQ(log.str(), "fallback: something\n");
  EXPECT_EQ(out.str().find("fallback"), std::string::npos);
  EXPECT_EQ(Count(out.str(), "tank/a"), 2u);  // drawn, cleared, drawn again
}

TEST(ProgressBoard, PlainLinesHaveNoEscapesAndAreRare) {
  std::ostringstream out;
  double now = 0;
  ProgressBoard board(out, ProgressBoard::Mode::kLines, 80, [&now] { return now; });
  int a = board.Begin("tank/a", 0);
  for (int i = 1; i <= 20; ++i) {
    now += 0.5;
    board.Update(a, static_cast<uint64_t>(i) * 1000, now);
  }
  EXPECT_EQ(out.str().find('\x1b'), std::string::npos);
  // 10 s of updates: the first draw and one every kLinesInterval.
  EXPECT_EQ(Count(out.str(), "tank/a"), 3u) << out.str();
}

TEST(ProgressBoard, CutsLinesToTheTerminalWidth) {
  std::ostringstream out;
  ProgressBoard board(out, ProgressBoard::Mode::kTerminal, 30, [] { return 0.0; });
  board.Begin("tank/a-dataset-with-a-long-name", 0);
  std::istringstream lines(out.str());
  for (std::string line; std::getline(lines, line);) {
    EXPECT_LE(line.size(), 4u + 29u) << line;  // "\x1b[2K" + width - 1
  }
}

}  // namespace
}  // namespace zsend::orchestrator
