// Every number that comes from a user or a peer is parsed with a range check: bad values are
// one-line usage errors naming the option (zsend-engine exit 2, zsend backup exit 255, as
// README.md and docs/zsend.md document), found before any key, socket, host or zfs is touched;
// no input makes a parser throw (the engine used to abort, exit 134, on a 23-digit port).
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "base/units.h"
#include "engine/codec/codec.h"
#include "orchestrator/retention/retention_rules.h"
#include "tests/support/subprocess.h"
#include "tests/support/transfer_fixture.h"
#include "transports/tcp.h"

namespace zsend {
namespace {

// Property: random texts built from the characters numbers are written with never make a
// parser throw; each answers a value or an InvalidArgument.
TEST(OptionValueParsers, NeverThrowOnAnyNumberLikeText) {
  static const std::string alphabet = "0123456789999999.:-+eE%kKMGTPbBsmhdwyiInNfF [ ]x";
  std::mt19937 random(16);
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    const size_t length = random() % 40;
    // Every other text is digits only: long runs overflow every integer type.
    const std::string& from = i % 2 == 0 ? alphabet : std::string("0123456789");
    for (size_t j = 0; j < length; ++j) text += from[random() % from.size()];
    SCOPED_TRACE("'" + text + "'");
    auto usage_or_ok = [](const Status& s) {
      return s.ok() || s.code() == StatusCode::kInvalidArgument;
    };
    EXPECT_NO_THROW({
      EXPECT_TRUE(usage_or_ok(ParseSize(text, "-m", {.allow_percent_of_ram = true}).status()));
      EXPECT_TRUE(usage_or_ok(ParseSeconds(text, "--timeout").status()));
      EXPECT_TRUE(usage_or_ok(ParsePercent(text, "-P").status()));
      EXPECT_TRUE(usage_or_ok(ParseHostPort(text, true).status()));
      EXPECT_TRUE(usage_or_ok(ParseHostPort("127.0.0.1:" + text, false).status()));
      EXPECT_TRUE(usage_or_ok(ParseCodecSpec("zstd:" + text).status()));
      EXPECT_TRUE(usage_or_ok(orchestrator::ParseRetentionSpec(text, "--keep").status()));
    });
  }
}

TEST(OptionValueParsers, PortsAreRangeChecked) {
  EXPECT_TRUE(ParseHostPort("127.0.0.1:65535", false).ok());
  for (const char* bad : {"127.0.0.1:65536", "127.0.0.1:99999999999999999999999", "127.0.0.1:-1",
                          "127.0.0.1:", "127.0.0.1:0x50", "[::1]:123456"}) {
    Result<HostPort> hp = ParseHostPort(bad, false);
    ASSERT_FALSE(hp.ok()) << bad;
    EXPECT_NE(hp.status().message().find("65535"), std::string::npos) << hp.status().message();
  }
}

struct BadValue {
  std::vector<std::string> args;
  std::string option;  // the message names it
};

void ExpectUsageError(const test::RunResult& r, const BadValue& c, int exit_code) {
  std::string joined;
  for (const std::string& a : c.args) joined += a + " ";
  EXPECT_EQ(r.exit_code, exit_code) << joined << "\n" << r.err;
  EXPECT_NE(r.err.find(c.option), std::string::npos) << joined << "\n" << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << joined << ": one line\n" << r.err;
  EXPECT_EQ(r.err.find("terminate"), std::string::npos) << r.err;
}

TEST(EngineOptionValues, EachBadValueIsAUsageErrorNamingItsOption) {
  test::TransferDir dir;
  const std::string pub = dir.Keygen("k");
  const std::string key = dir.Path("k");
  const std::vector<std::string> send = {"send", "--peer", pub, "--key", key, "-i", "/dev/null"};
  const std::vector<std::string> recv = {"recv", "--authorize", pub,        "--key",
                                         key,    "-o",          "/dev/null"};
  auto with = [](std::vector<std::string> base, std::vector<std::string> extra) {
    base.insert(base.end(), extra.begin(), extra.end());
    return base;
  };
  const std::vector<BadValue> cases = {
      {with(send, {"--connect", "127.0.0.1:99999999999999999999999"}), "--connect"},
      {with(send, {"--connect", "127.0.0.1:65536"}), "--connect"},
      {with(send, {"--connect", "127.0.0.1:-1"}), "--connect"},
      {with(send, {"--connect", "nowhere"}), "host:port"},
      {with(recv, {"--listen", "99999999999999999999"}), "--listen"},
      {with(recv, {"--listen", "127.0.0.1:x"}), "--listen"},
      {with(send, {"--connect", "127.0.0.1:9", "-m", "99999999999999999999999T"}), "--memory"},
      {with(send, {"--connect", "127.0.0.1:9", "-s", "nan"}), "--block-size"},
      {with(send, {"--connect", "127.0.0.1:9", "--timeout", "1e999"}), "--timeout"},
      {with(send, {"--connect", "127.0.0.1:9", "--timeout", "-5"}), "--timeout"},
      {with(send, {"--connect", "127.0.0.1:9", "-r", "1e999"}), "-r"},
      {with(send, {"--connect", "127.0.0.1:9", "--codec", "zstd:99999999999999999999"}),
       "zstd:99999999999999999999"},
      {with(send, {"--connect", "127.0.0.1:9", "--threads", "99999999999999999999"}), "--threads"},
      {with(send, {"--ssh", "host", "--ssh-port", "99999999999999999999"}), "--ssh-port"},
      {with(send, {"--ssh", "host", "--ssh-port", "0"}), "--ssh-port"},
      {with(send, {"--ssh", "-oProxyCommand=touch /tmp/x"}), "--ssh"},
      {{"bench", "--connect", "127.0.0.1:99999999999999999999", "--peer", pub}, "--connect"},
      {{"bench", "--listen", "1234567", "--announce"}, "--listen"},
      {{"buffer", "-P", "99999999999999999999", "-i", "/dev/null", "-o", "/dev/null"}, "-P"},
      {{"buffer", "--progress-fd", "57", "-i", "/dev/null", "-o", "/dev/null"}, "--progress-fd"},
      {with(send, {"--connect", "127.0.0.1:9", "--progress-fd", "57"}), "--progress-fd"},
  };
  for (const BadValue& c : cases) {
    std::vector<std::string> argv = {test::BinPath("zsend-engine")};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    ExpectUsageError(test::Run(argv), c, 2);
  }
}

// zsend backup checks every option value before it contacts a host or asks zfs: the target
// host below does not exist, so a late check would answer about ssh instead (and the local
// source about "nothing selected").
TEST(ZsendBackupOptionValues, EachBadValueIsFatalBeforeAnyHostOrZfs) {
  char pattern[] = "/tmp/zsend-options-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  const std::string state = pattern;
  unsetenv("ZSEND_SMTP_PASSWORD");
  const std::vector<BadValue> cases = {
      {{"--codec", "bogus"}, "--codec 'bogus'"},
      {{"--codec", "zstd:99"}, "--codec"},
      {{"--transport", "carrier"}, "--transport"},
      {{"--memory", "12Q"}, "--memory"},
      {{"--rate-limit", "-5"}, "--rate-limit"},
      {{"--jobs", "0"}, "--jobs"},
      {{"--progress", "--no-progress"}, "--no-progress"},
      {{"--jobs", "99999999999999999999"}, "--jobs"},
      {{"--strip-path", "-1"}, "--strip-path"},
      {{"--keep-source", "1x"}, "--keep-source"},
      {{"--keep-target", "99999999999d1w"}, "--keep-target"},
      {{"--mail-on", "sometimes"}, "--mail-on"},
      {{"--mail-to", "a@b", "--smtp-url", "http://x"}, "--smtp-url"},
      {{"--mail-to", "a@b", "--smtp-url", "smtp://x", "--smtp-user", "u"}, "--smtp-user"},
      {{"--mail-to", "a@b", "--smtp-url", "smtp://x", "--smtp-user", "u", "--smtp-password-file",
        state + "/none"},
       "--smtp-password-file"},
      {{"--ssh-port", "70000"}, "--ssh-port"},
      {{"--ssh-port", "-1"}, "--ssh-port"},
      {{"--set-properties", "foo"}, "--set-properties"},
      {{"--group", "a@b"}, "--group"},
      {{"--snapshot-name", "x/y"}, "--snapshot-name"},
      {{"--ssh-identity", state + "/none"}, "--ssh-identity"},
  };
  for (const bool remote : {true, false}) {
    for (const BadValue& c : cases) {
      std::vector<std::string> argv = {test::BinPath("zsend"), "backup", "x", "y",
                                       "--state-dir",          state};
      if (remote) argv.insert(argv.end(), {"--ssh-target", "zsend-option-check.invalid"});
      argv.insert(argv.end(), c.args.begin(), c.args.end());
      test::RunResult r = test::Run(argv);
      ExpectUsageError(r, c, 255);
      EXPECT_EQ(r.err.find("zsend-option-check.invalid"), std::string::npos) << r.err;
      EXPECT_EQ(r.err.find("nothing selected"), std::string::npos) << r.err;
    }
  }
  std::filesystem::remove_all(state);
}

}  // namespace
}  // namespace zsend
