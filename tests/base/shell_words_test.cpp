// base/shell_words.h: quoting for a POSIX shell and splitting without one, over every byte.
#include "base/shell_words.h"

#include <gtest/gtest.h>

#include "tests/support/subprocess.h"

namespace zsend {
namespace {

using Words = std::vector<std::string>;

Words Split(const std::string& text) {
  Result<Words> words = ShellSplit(text);
  EXPECT_TRUE(words.ok()) << words.status().message();
  return words.ok() ? *words : Words{};
}

// Every single byte but NUL as a word, each byte between two others, and one word of all of them.
Words EveryByteWords() {
  Words words;
  std::string all;
  for (int b = 1; b <= 255; ++b) {
    const char c = static_cast<char>(b);
    words.push_back(std::string(1, c));
    words.push_back(std::string("a") + c + "b" + c + c);
    all += c;
  }
  words.push_back(all);
  words.push_back("");
  words.push_back("it's 'twice' \"and\" \\'");
  return words;
}

TEST(ShellWords, QuoteLeavesSafeWordsBareAndQuotesTheRest) {
  EXPECT_EQ(ShellQuote("pool/fs@zsend-20260101"), "pool/fs@zsend-20260101");
  EXPECT_EQ(ShellQuote("--timeout=5,a:b%c+d"), "--timeout=5,a:b%c+d");
  EXPECT_EQ(ShellQuote(""), "''");
  EXPECT_EQ(ShellQuote("a b"), "'a b'");
  EXPECT_EQ(ShellQuote("it's"), "'it'\\''s'");
  EXPECT_EQ(ShellQuote("$(rm -rf /)"), "'$(rm -rf /)'");
  EXPECT_EQ(ShellJoin({"zfs", "snapshot", "tank/fs@a b"}), "zfs snapshot 'tank/fs@a b'");
}

TEST(ShellWords, SplitsLikeAShell) {
  EXPECT_EQ(Split("zfs send -R pool/a@b"), (Words{"zfs", "send", "-R", "pool/a@b"}));
  EXPECT_EQ(Split("  a   b\tc \n "), (Words{"a", "b", "c"}));
  EXPECT_EQ(Split("sh -c 'head -c 1000 >/dev/null; exit 3'"),
            (Words{"sh", "-c", "head -c 1000 >/dev/null; exit 3"}));
  EXPECT_EQ(Split(R"(echo "a \"quoted\" \$word" x\ y '')"),
            (Words{"echo", R"(a "quoted" $word)", "x y", ""}));
  EXPECT_EQ(Split(R"(a"b"'c'd)"), (Words{"abcd"}));
  EXPECT_EQ(Split(R"("back\slash")"), (Words{R"(back\slash)"}));
  EXPECT_EQ(Split("line\\\ncontinued \"and\\\nhere\""), (Words{"linecontinued", "andhere"}));
  EXPECT_EQ(Split("no $expansion * ~ `x` | ;"),
            (Words{"no", "$expansion", "*", "~", "`x`", "|", ";"}));
}

TEST(ShellWords, SplitRejectsBrokenQuoting) {
  EXPECT_EQ(ShellSplit("echo 'open").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ShellSplit("echo \"open").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ShellSplit("echo trailing\\").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ShellSplit("   ").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ShellSplit("").status().code(), StatusCode::kInvalidArgument);
}

TEST(ShellWords, QuoteThenSplitRoundTripsEveryByte) {
  for (const std::string& word : EveryByteWords()) {
    Result<Words> back = ShellSplit(ShellQuote(word));
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(*back, Words{word}) << "quoted as " << ShellQuote(word);
  }
  const Words words = EveryByteWords();
  EXPECT_EQ(Split(ShellJoin(words)), words);
}

// The far side of ssh runs our command line through its login shell: a real sh must read back
// every word exactly (printf prints each one and a '|' after it).
TEST(ShellWords, ARealShellReadsEveryByteBack) {
  const Words words = EveryByteWords();
  Words argv = {"printf", "%s|"};
  argv.insert(argv.end(), words.begin(), words.end());
  test::RunResult r = test::Run({"sh", "-c", ShellJoin(argv)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string expected;
  for (const std::string& w : words) expected += w + "|";
  EXPECT_EQ(r.out, expected);
}

}  // namespace
}  // namespace zsend
