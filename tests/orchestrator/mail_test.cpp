// Mail: the message (subject, text and HTML parts, MIME headers) and its delivery through a
// real SMTP server on loopback (aiosmtpd with tests/support/smtp_sink.py), an unreachable
// server, and the sendmail path with a stand-in command.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "orchestrator/report/mail_message.h"
#include "orchestrator/report/mail_send.h"
#include "tests/support/peers/smtp_server.h"
#include "tests/support/subprocess.h"
#include "tests/support/zsend_cli.h"

namespace zsend::orchestrator {
namespace {

RunSummary Summary(bool with_failure) {
  RunSummary summary;
  summary.host = "backup1";
  summary.run.backup_name = "nightly";
  summary.run.command = "backup";
  summary.run.source_host = "local";
  summary.run.target_host = "root@nas";
  summary.run.started = 1704369600;
  summary.run.ended = 1704369600 + 95;
  for (const char* dataset : {"tank/a", "tank/b"}) {
    TransferRecord t;
    t.backup_name = "nightly";
    t.source_dataset = dataset;
    t.target_dataset = std::string("backup/") + dataset;
    t.to_snapshot = std::string(dataset) + "@nightly-20240104120000";
    t.kind = "incremental";
    t.stream_bytes = 5 * 1024 * 1024;
    t.seconds = 2;
    t.transport = "tcp";
    t.result = "ok";
    t.started = summary.run.started;
    summary.transfers.push_back(t);
  }
  if (with_failure) {
    summary.transfers[1].result = "failed";
    summary.transfers[1].error =
        "zfs recv backup/tank/b failed (exit 1) on root@nas:\n"
        "cannot receive incremental stream: destination backup/tank/b has been modified <x&y>\n";
    summary.run.result = "failed";
  }
  return summary;
}

TEST(MailMessage, SubjectSaysHostBackupResultAndCounts) {
  EXPECT_EQ(MailSubject(Summary(false)), "[zsend] backup1 nightly: OK (2 datasets)");
  EXPECT_EQ(MailSubject(Summary(true)), "[zsend] backup1 nightly: FAILED (1 of 2 datasets failed)");
}

TEST(MailMessage, TextBodyHasTheTableAndTheWholeStderr) {
  std::string text = MailTextBody(Summary(true));
  EXPECT_NE(text.find("tank/a -> backup/tank/a  ok  incremental"), std::string::npos) << text;
  EXPECT_NE(text.find("--- tank/b (failed) ---\nzfs recv backup/tank/b failed (exit 1) on "
                      "root@nas:\ncannot receive incremental stream"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("result: FAILED, 1 ok, 1 failed"), std::string::npos);
}

TEST(MailMessage, MailPolicyFollowsSmartcopysRule) {
  EXPECT_TRUE(ShouldSendMail(MailOn::kFailure, 1));
  EXPECT_FALSE(ShouldSendMail(MailOn::kFailure, 0));
  EXPECT_TRUE(ShouldSendMail(MailOn::kAlways, 0));
  EXPECT_FALSE(ShouldSendMail(MailOn::kNever, 3));
  EXPECT_FALSE(ParseMailOn("sometimes").ok());
  EXPECT_EQ(Rfc5322Date(1704369600), "Thu, 04 Jan 2024 12:00:00 +0000");
}

TEST(MailMessage, PasswordComesFromAFileOrTheEnvironmentNeverElse) {
  char pattern[] = "/tmp/zsend-pw-XXXXXX";
  int fd = mkstemp(pattern);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "s3cret\n", 7), 7);
  close(fd);
  SmtpOptions options;
  options.user = "backup";
  options.password_file = pattern;
  EXPECT_EQ(*SmtpPassword(options), "s3cret");
  unlink(pattern);
  options.password_file.clear();
  unsetenv(kSmtpPasswordEnv);
  Result<std::string> none = SmtpPassword(options);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find(kSmtpPasswordEnv), std::string::npos);
  setenv(kSmtpPasswordEnv, "from-env", 1);
  EXPECT_EQ(*SmtpPassword(options), "from-env");
  unsetenv(kSmtpPasswordEnv);
}

// A real SMTP server (aiosmtpd) on 127.0.0.1 storing what it receives.
class AiosmtpdMail : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string problem = server_.Start();
    ZSEND_REQUIRE(problem.empty(), problem);
    port_ = server_.port();
  }
  nlohmann::json Stored(int n) { return server_.Stored(n); }

  Status Send(const RunSummary& summary) {
    MailMessage message =
        BuildRunMail(summary, "zsend <zsend@backup1>", {"ops@example.com", "dev@example.com"});
    SmtpOptions options;
    options.url = "smtp://127.0.0.1:" + std::to_string(port_);
    options.timeout_seconds = 20;
    return SendViaSmtp(message, RenderMime(message, 1704369700, "backup1"), options);
  }

  test::SmtpServer server_;
  int port_ = 0;
};

TEST_F(AiosmtpdMail, FailureMailArrivesWithHeadersAndBothParts) {
  Status sent = Send(Summary(true));
  ASSERT_TRUE(sent.ok()) << sent.ToString();
  nlohmann::json m = Stored(1);
  ASSERT_FALSE(m.is_null());
  EXPECT_EQ(m["envelope"]["mail_from"], "zsend@backup1");
  EXPECT_EQ(m["envelope"]["rcpt_tos"], (nlohmann::json{"ops@example.com", "dev@example.com"}));
  EXPECT_EQ(m["subject"], "[zsend] backup1 nightly: FAILED (1 of 2 datasets failed)");
  EXPECT_EQ(m["from"], "zsend <zsend@backup1>");
  EXPECT_EQ(m["to"], "ops@example.com, dev@example.com");
  EXPECT_EQ(m["date"], "Thu, 04 Jan 2024 12:01:40 +0000");
  EXPECT_EQ(m["mime_version"], "1.0");
  EXPECT_EQ(m["content_type"], "multipart/alternative");
  EXPECT_TRUE(m["defects"].empty()) << m["defects"];
  std::string id = m["message_id"];
  EXPECT_EQ(id.front(), '<');
  EXPECT_NE(id.find("@backup1>"), std::string::npos);
  ASSERT_EQ(m["parts"].size(), 2u);
  EXPECT_EQ(m["parts"][0]["content_type"], "text/plain");
  EXPECT_EQ(m["parts"][0]["charset"], "utf-8");
  std::string text = m["parts"][0]["body"];
  EXPECT_NE(text.find("destination backup/tank/b has been modified <x&y>"), std::string::npos);
  EXPECT_NE(text.find("tank/a -> backup/tank/a  ok"), std::string::npos);
  EXPECT_EQ(m["parts"][1]["content_type"], "text/html");
  std::string html = m["parts"][1]["body"];
  EXPECT_NE(html.find("<table>"), std::string::npos);
  EXPECT_NE(html.find("<tr class=\"failed\">"), std::string::npos);
  EXPECT_NE(html.find("has been modified &lt;x&amp;y&gt;"), std::string::npos) << html;
}

TEST_F(AiosmtpdMail, SuccessMailArrivesToo) {
  ASSERT_TRUE(Send(Summary(false)).ok());
  ASSERT_TRUE(Send(Summary(true)).ok());
  nlohmann::json ok = Stored(1);
  ASSERT_FALSE(ok.is_null());
  EXPECT_EQ(ok["subject"], "[zsend] backup1 nightly: OK (2 datasets)");
  std::string html = ok["parts"][1]["body"];
  EXPECT_EQ(html.find("class=\"failed\""), std::string::npos);
  nlohmann::json failed = Stored(2);
  ASSERT_FALSE(failed.is_null());
  EXPECT_NE(failed["message_id"], ok["message_id"]);
}

// Credentials only travel over TLS: the real aiosmtpd offering AUTH in the clear and no
// STARTTLS (a careless server, or someone on the path stripping STARTTLS) never sees the
// password; with STARTTLS, or smtps://, the login arrives encrypted and the mail is stored.
class AiosmtpdAuth : public ::testing::Test {
 protected:
  Status Send() {
    MailMessage message = BuildRunMail(Summary(true), "zsend@backup1", {"ops@example.com"});
    SmtpOptions options;
    options.url = server_.Url();
    options.user = "backup";
    options.ca_file = server_.certificate();
    options.timeout_seconds = 20;
    setenv(kSmtpPasswordEnv, "s3cret", 1);
    Status sent = SendViaSmtp(message, RenderMime(message, 1704369700, "backup1"), options);
    unsetenv(kSmtpPasswordEnv);
    return sent;
  }
  test::SmtpServer server_;
};

TEST_F(AiosmtpdAuth, NoStartTlsMeansNoPasswordSent) {
  std::string problem = server_.StartWithAuth("plain");
  ZSEND_REQUIRE(problem.empty(), problem);
  Status sent = Send();
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(sent.code(), StatusCode::kFailedPrecondition) << sent.ToString();
  EXPECT_NE(sent.message().find("--smtp-user needs TLS"), std::string::npos) << sent.message();
  EXPECT_NE(sent.message().find("smtps://"), std::string::npos) << sent.message();
  EXPECT_EQ(sent.message().find('\n'), std::string::npos);
  EXPECT_TRUE(server_.Logins().empty()) << server_.Logins();
  EXPECT_EQ(server_.Count(), 0);
}

TEST_F(AiosmtpdAuth, StartTlsCarriesTheLogin) {
  std::string problem = server_.StartWithAuth("starttls");
  ZSEND_REQUIRE(problem.empty(), problem);
  Status sent = Send();
  ASSERT_TRUE(sent.ok()) << sent.ToString();
  nlohmann::json logins = server_.Logins();
  ASSERT_EQ(logins.size(), 1u) << logins;
  EXPECT_EQ(logins[0]["login"], "backup");
  EXPECT_EQ(logins[0]["password"], "s3cret");
  EXPECT_EQ(logins[0]["tls"], true);
  EXPECT_FALSE(server_.Stored(1).is_null());
}

TEST_F(AiosmtpdAuth, SmtpsCarriesTheLogin) {
  std::string problem = server_.StartWithAuth("smtps");
  ZSEND_REQUIRE(problem.empty(), problem);
  Status sent = Send();
  ASSERT_TRUE(sent.ok()) << sent.ToString();
  nlohmann::json logins = server_.Logins();
  ASSERT_EQ(logins.size(), 1u) << logins;
  EXPECT_EQ(logins[0]["tls"], true);
  EXPECT_FALSE(server_.Stored(1).is_null());
}

TEST(MailSmtpUnreachable, ClearErrorNamingTheServer) {
  int port = test::FreePort();  // nothing listens there
  MailMessage message = BuildRunMail(Summary(true), "zsend@backup1", {"ops@example.com"});
  SmtpOptions options;
  options.url = "smtp://127.0.0.1:" + std::to_string(port);
  options.timeout_seconds = 10;
  Status sent = SendViaSmtp(message, RenderMime(message, 1704369700, "backup1"), options);
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(sent.code(), StatusCode::kUnavailable);
  EXPECT_NE(sent.message().find("sending mail through " + options.url + " failed"),
            std::string::npos)
      << sent.message();
  EXPECT_EQ(sent.message().find('\n'), std::string::npos);
  options.url = "http://127.0.0.1:1";
  EXPECT_EQ(SendViaSmtp(message, "x", options).code(), StatusCode::kInvalidArgument);
}

TEST(MailSendmail, StandInCommandGetsTheRecipientsAndTheMessage) {
  char pattern[] = "/tmp/zsend-sendmail-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  const std::string dir = pattern;
  const std::string script = dir + "/sendmail";
  std::ofstream(script) << "#!/bin/sh\nprintf '%s\\n' \"$@\" > " << dir << "/args\ncat > " << dir
                        << "/message\n";
  ASSERT_EQ(chmod(script.c_str(), 0755), 0);
  MailMessage message = BuildRunMail(Summary(true), "zsend@backup1", {"Ops <ops@example.com>"});
  LocalRunner local;
  Status sent = SendViaSendmail(local, script, message, RenderMime(message, 1704369700, "b1"));
  ASSERT_TRUE(sent.ok()) << sent.ToString();
  std::ifstream args_file(dir + "/args");
  std::stringstream args;
  args << args_file.rdbuf();
  EXPECT_EQ(args.str(), "-oi\n--\nops@example.com\n");
  std::ifstream message_file(dir + "/message");
  std::stringstream stored;
  stored << message_file.rdbuf();
  EXPECT_NE(stored.str().find("Subject: [zsend] backup1 nightly: FAILED"), std::string::npos);
  EXPECT_EQ(stored.str().find('\r'), std::string::npos);  // LF line ends for sendmail
  // A failing sendmail is a clear error.
  std::ofstream(script) << "#!/bin/sh\necho 'sendmail: cannot connect to relay' >&2\nexit 75\n";
  Status failed = SendViaSendmail(local, script, message, "x");
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.message().find("exit 75"), std::string::npos) << failed.message();
  EXPECT_NE(failed.message().find("cannot connect to relay"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace zsend::orchestrator
