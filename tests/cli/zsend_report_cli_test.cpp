// `zsend report`: the HTML report from the history written to a file, and mailed through a
// real SMTP server (aiosmtpd on loopback) or a stand-in sendmail, via the CLI's mail options;
// an unreachable server is a clear error that does not stop the file being written.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "orchestrator/report/history.h"
#include "tests/support/files.h"
#include "tests/support/subprocess.h"
#include "tests/support/zsend_cli.h"

namespace zsend::test {
namespace {

class ZsendReportCli : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/zsend-report-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    auto history = orchestrator::History::Open(dir_);
    ASSERT_TRUE(history.ok());
    const double now = static_cast<double>(time(nullptr));
    // Two days ago a success, an hour ago a failure, ten days ago one outside --since 7d.
    const std::vector<std::tuple<std::string, double, std::string>> rows = {
        {"tank/old", now - 10 * 86400, "ok"},
        {"tank/a", now - 2 * 86400, "ok"},
        {"tank/b", now - 3600, "failed"}};
    for (const auto& [dataset, when, result] : rows) {
      orchestrator::TransferRecord t;
      t.backup_name = "nightly";
      t.source_dataset = dataset;
      t.target_dataset = "backup/" + dataset;
      t.to_snapshot = dataset + "@nightly-1";
      t.kind = "incremental";
      t.started = when;
      t.ended = when + 3;
      t.seconds = 3;
      t.stream_bytes = 3 << 20;
      t.result = result;
      if (result == "failed") t.error = "cannot receive: <busy> & broken";
      ASSERT_TRUE((*history)->AddTransfer(t).ok());
    }
  }
  void TearDown() override {
    if (server_ > 0) {
      kill(server_, SIGTERM);
      Wait(server_);
    }
    std::filesystem::remove_all(dir_);
  }
  RunResult Report(std::vector<std::string> extra) {
    std::vector<std::string> argv = {BinPath("zsend"), "report", "nightly", "--since", "7d",
                                     "--state-dir",    dir_};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return test::Run(argv);
  }
  int StartSmtp() {
    int port = FreePort();
    SpawnOptions options;
    options.env["PYTHONPATH"] = SupportPath("");
    std::filesystem::create_directories(dir_ + "/mail");
    server_ = Spawn({SystemPython(), "-m", "aiosmtpd", "-n", "-l",
                     "127.0.0.1:" + std::to_string(port), "-c", "smtp_sink.Sink", dir_ + "/mail"},
                    options);
    return WaitForPort(port, 20) ? port : -1;
  }

  std::string dir_;
  pid_t server_ = -1;
};

TEST_F(ZsendReportCli, WritesTheHtmlReportOfTheLastSevenDays) {
  RunResult r = Report({"--html", dir_ + "/report.html"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string html = ReadFile(dir_ + "/report.html");
  EXPECT_NE(html.find("<h2>zsend report for nightly, last 7d</h2>"), std::string::npos) << html;
  EXPECT_NE(html.find("<p>2 transfers, 1 failed, since "), std::string::npos);
  EXPECT_NE(html.find("tank/a"), std::string::npos);
  EXPECT_EQ(html.find("tank/old"), std::string::npos);
  EXPECT_NE(html.find("cannot receive: &lt;busy&gt; &amp; broken"), std::string::npos);
}

TEST_F(ZsendReportCli, MailsTheReportThroughSmtp) {
  ZSEND_REQUIRE(PythonHas("aiosmtpd"), "python3-aiosmtpd");
  int port = StartSmtp();
  ASSERT_GT(port, 0);
  RunResult r = Report({"--mail-to", "ops@example.com", "--mail-from", "zsend@test", "--smtp-url",
                        "smtp://127.0.0.1:" + std::to_string(port)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (int i = 0; i < 200 && !std::filesystem::exists(dir_ + "/mail/1.json"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  RunResult dumped = test::Run({SystemPython(), SupportPath("mail_dump.py"), dir_ + "/mail/1.eml"});
  ASSERT_EQ(dumped.exit_code, 0) << dumped.err;
  EXPECT_NE(dumped.out.find("zsend report for nightly, last 7d: FAILED (1 failed)"),
            std::string::npos)
      << dumped.out;
  EXPECT_NE(dumped.out.find("\"content_type\": \"text/html\""), std::string::npos);
}

TEST_F(ZsendReportCli, UnreachableSmtpIsAClearErrorAndTheFileIsStillWritten) {
  int port = FreePort();
  RunResult r = Report({"--html", dir_ + "/report.html", "--mail-to", "ops@example.com",
                        "--smtp-url", "smtp://127.0.0.1:" + std::to_string(port)});
  EXPECT_EQ(r.exit_code, 255);
  EXPECT_NE(r.err.find("zsend report: sending mail through smtp://127.0.0.1:" +
                       std::to_string(port) + " failed: "),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/report.html"));
}

TEST_F(ZsendReportCli, MailsThroughAStandInSendmail) {
  const std::string script = dir_ + "/sendmail";
  std::ofstream(script) << "#!/bin/sh\necho \"$@\" > " << dir_ << "/args\ncat > " << dir_
                        << "/message\n";
  ASSERT_EQ(chmod(script.c_str(), 0755), 0);
  RunResult r = Report({"--mail-to", "ops@example.com", "--sendmail", script});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir_ + "/args"), "-oi -- ops@example.com\n");
  std::string message = ReadFile(dir_ + "/message");
  EXPECT_NE(message.find("Content-Type: multipart/alternative"), std::string::npos);
  EXPECT_NE(message.find("Subject: [zsend] "), std::string::npos);
}

}  // namespace
}  // namespace zsend::test
