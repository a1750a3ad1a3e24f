// `zsend backup`'s mail after the run, on real zfs-fuse pools: failure and success mails
// received by a real SMTP server on loopback (aiosmtpd, tests/support/peers/smtp_server.h) with
// their headers and both parts checked, a run that fails before any dataset, STARTTLS against a
// self-signed certificate (--smtp-ca-file), an unreachable SMTP server (a clear error, the
// backup's own result still printed and recorded), and the sendmail path with a stand-in.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "orchestrator/report/history.h"
#include "tests/support/backup_fixture.h"
#include "tests/support/peers/net.h"
#include "tests/support/peers/smtp_server.h"

namespace zsend::test {
namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string ThisHost() {
  char name[256] = {0};
  gethostname(name, sizeof name - 1);
  return name;
}

class ZfsFuseBackupMail : public BackupFixture {
 protected:
  void SetUp() override {
    BackupFixture::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    Sh("zfs create " + src_ + "/data && zfs create " + src_ + "/other");
    Sh("zfs set zsend:" + job_ + "=true " + src_ + "/data " + src_ + "/other");
  }
  // A backup run with the mail options and --readonly (zfs-fuse: the copies stay unchanged).
  RunResult Backup(const std::string& name, std::vector<std::string> mail) {
    std::vector<std::string> args = {job_,   dst_,         "--snapshot-name", name, "--transport",
                                     "pipe", "--readonly", "--strip-path",    "1"};
    args.insert(args.end(), mail.begin(), mail.end());
    return Zsend(args);
  }
  std::vector<std::string> To(const std::string& url) {
    return {"--mail-to",   "ops@example.com",       "--mail-to",  "dev@example.com",
            "--mail-from", "zsend <zsend@backup1>", "--smtp-url", url};
  }
};

TEST_F(ZfsFuseBackupMail, FailureAndSuccessMailsArriveWithHeadersAndBothParts) {
  SmtpServer smtp;
  std::string problem = smtp.Start();
  ZSEND_REQUIRE(problem.empty(), problem);
  // A good run under the default policy (failure) sends nothing.
  RunResult quiet = Backup("1", To(smtp.Url()));
  ASSERT_EQ(quiet.exit_code, 0) << quiet.out << quiet.err;
  EXPECT_EQ(smtp.Count(), 0);
  EXPECT_FALSE(Contains(quiet.err, "mail:")) << quiet.err;

  // --mail-on always: the success mail.
  std::vector<std::string> always = To(smtp.Url());
  always.insert(always.end(), {"--mail-on", "always"});
  RunResult good = Backup("2", always);
  ASSERT_EQ(good.exit_code, 0) << good.out << good.err;
  EXPECT_TRUE(Contains(good.err, "mail: sent to ops@example.com, dev@example.com")) << good.err;
  nlohmann::json ok = smtp.Stored(1);
  ASSERT_FALSE(ok.is_null());
  EXPECT_EQ(ok["subject"], "[zsend] " + ThisHost() + " " + job_ + ": OK (2 datasets)");
  EXPECT_EQ(ok["envelope"]["mail_from"], "zsend@backup1");
  EXPECT_EQ(ok["envelope"]["rcpt_tos"], (nlohmann::json{"ops@example.com", "dev@example.com"}));
  EXPECT_EQ(ok["from"], "zsend <zsend@backup1>");
  EXPECT_EQ(ok["to"], "ops@example.com, dev@example.com");
  EXPECT_EQ(ok["content_type"], "multipart/alternative");
  EXPECT_EQ(ok["mime_version"], "1.0");
  EXPECT_TRUE(ok["defects"].empty()) << ok["defects"];
  EXPECT_TRUE(Contains(ok["message_id"].get<std::string>(), "@" + ThisHost() + ">"));
  ASSERT_EQ(ok["parts"].size(), 2u);
  EXPECT_EQ(ok["parts"][0]["content_type"], "text/plain");
  std::string text = ok["parts"][0]["body"];
  EXPECT_TRUE(Contains(
      text, src_ + "/data -> " + dst_ + "/data  ok  incremental  " + src_ + "/data@" + job_ + "-2"))
      << text;
  EXPECT_TRUE(Contains(text, "result: OK, 2 ok, 0 failed")) << text;
  EXPECT_EQ(ok["parts"][1]["content_type"], "text/html");
  std::string html = ok["parts"][1]["body"];
  EXPECT_TRUE(Contains(html, "<table>")) << html;
  EXPECT_FALSE(Contains(html, "class=\"failed\"")) << html;

  // A diverged target: the failure mail, with the failing command's whole stderr.
  Sh("zfs snapshot " + dst_ + "/other@local-change");
  RunResult bad = Backup("3", To(smtp.Url()));
  EXPECT_EQ(bad.exit_code, 1) << bad.out << bad.err;
  EXPECT_TRUE(Contains(bad.out, src_ + "/other -> " + dst_ + "/other: FAILED")) << bad.out;
  nlohmann::json failed = smtp.Stored(2);
  ASSERT_FALSE(failed.is_null());
  EXPECT_EQ(failed["subject"],
            "[zsend] " + ThisHost() + " " + job_ + ": FAILED (1 of 2 datasets failed)");
  EXPECT_NE(failed["message_id"], ok["message_id"]);
  text = failed["parts"][0]["body"];
  EXPECT_TRUE(Contains(text, "--- " + src_ + "/other (failed) ---")) << text;
  EXPECT_TRUE(Contains(text, "--rollback")) << text;
  EXPECT_TRUE(Contains(text, src_ + "/data -> " + dst_ + "/data  ok")) << text;
  html = failed["parts"][1]["body"];
  EXPECT_TRUE(Contains(html, "<tr class=\"failed\">")) << html;

  // A run that fails before any dataset mails its reason in the subject.
  RunResult fatal = Zsend({job_, dst_, "--dataset", src_ + "/missing", "--mail-to",
                           "ops@example.com", "--smtp-url", smtp.Url()});
  EXPECT_EQ(fatal.exit_code, 255) << fatal.out << fatal.err;
  nlohmann::json reason = smtp.Stored(3);
  ASSERT_FALSE(reason.is_null());
  std::string subject = reason["subject"];
  EXPECT_EQ(subject.rfind("[zsend] " + ThisHost() + " " + job_ + ": FAILED: ", 0), 0u) << subject;
  EXPECT_TRUE(Contains(subject, src_ + "/missing")) << subject;
}

TEST_F(ZfsFuseBackupMail, StartTlsWithTheServersCertificate) {
  SmtpServer smtp;
  std::string problem = smtp.Start(/*starttls=*/true);
  ZSEND_REQUIRE(problem.empty(), problem);
  std::vector<std::string> mail = To(smtp.Url());
  mail.insert(mail.end(), {"--mail-on", "always"});
  // The self-signed certificate is not trusted without --smtp-ca-file: no mail, exit 1.
  RunResult untrusted = Backup("1", mail);
  EXPECT_EQ(untrusted.exit_code, 1) << untrusted.out << untrusted.err;
  EXPECT_TRUE(Contains(
      untrusted.err, "zsend backup: mail not sent: sending mail through " + smtp.Url() + " failed"))
      << untrusted.err;
  EXPECT_EQ(smtp.Count(), 0);
  // With it, STARTTLS (the server refuses mail before TLS) carries the mail.
  mail.insert(mail.end(), {"--smtp-ca-file", smtp.certificate()});
  RunResult trusted = Backup("2", mail);
  ASSERT_EQ(trusted.exit_code, 0) << trusted.out << trusted.err;
  nlohmann::json m = smtp.Stored(1);
  ASSERT_FALSE(m.is_null());
  EXPECT_EQ(m["subject"], "[zsend] " + ThisHost() + " " + job_ + ": OK (2 datasets)");
}

TEST_F(ZfsFuseBackupMail, UnreachableSmtpServerIsAClearErrorAndTheBackupResultStands) {
  const std::string url = "smtp://127.0.0.1:" + std::to_string(FreePort());  // nobody listens
  std::vector<std::string> mail = To(url);
  mail.insert(mail.end(), {"--mail-on", "always"});
  RunResult r = Backup("1", mail);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;  // the backup was fine: at least 1 for the mail
  EXPECT_TRUE(
      Contains(r.err, "zsend backup: mail not sent: sending mail through " + url + " failed"))
      << r.err;
  EXPECT_TRUE(Contains(r.out, "backup " + job_ +
                                  ": 2 datasets, 2 transferred, 0 up to date, 0 "
                                  "failed"))
      << r.out;
  EXPECT_EQ(SnapshotNames(dst_ + "/data"), (std::vector<std::string>{job_ + "-1"}));
  auto history = orchestrator::History::Open(state_dir_);
  ASSERT_TRUE(history.ok());
  auto runs = (*history)->Runs(job_, 0, 0);
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ((*runs)[0].result, "ok");  // the backup's own result
  EXPECT_TRUE(Contains((*runs)[0].error, "mail not sent")) << (*runs)[0].error;
  // With failed datasets the exit code stays their count.
  Sh("zfs snapshot " + dst_ + "/data@local-change");
  Sh("zfs snapshot " + dst_ + "/other@local-change");
  RunResult both = Backup("2", mail);
  EXPECT_EQ(both.exit_code, 2) << both.out << both.err;
  EXPECT_TRUE(Contains(both.err, "mail not sent")) << both.err;
}

TEST_F(ZfsFuseBackupMail, SendmailStandInGetsTheRunMail) {
  const std::string script = state_dir_ + "/sendmail";
  std::ofstream(script) << "#!/bin/sh\nprintf '%s\\n' \"$@\" > " << state_dir_ << "/args\ncat > "
                        << state_dir_ << "/message\n";
  ASSERT_EQ(chmod(script.c_str(), 0755), 0);
  RunResult r = Backup(
      "1", {"--mail-to", "Ops <ops@example.com>", "--mail-on", "always", "--sendmail", script});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::stringstream args, message;
  args << std::ifstream(state_dir_ + "/args").rdbuf();
  message << std::ifstream(state_dir_ + "/message").rdbuf();
  EXPECT_EQ(args.str(), "-oi\n--\nops@example.com\n");
  EXPECT_TRUE(
      Contains(message.str(), "Subject: [zsend] " + ThisHost() + " " + job_ + ": OK (2 datasets)"))
      << message.str();
  EXPECT_TRUE(Contains(message.str(), "Content-Type: text/html; charset=utf-8"));
  // A failing sendmail: logged, exit 1, the backup's lines still printed.
  std::ofstream(script) << "#!/bin/sh\necho 'sendmail: cannot connect to relay' >&2\nexit 75\n";
  RunResult failed =
      Backup("2", {"--mail-to", "ops@example.com", "--mail-on", "always", "--sendmail", script});
  EXPECT_EQ(failed.exit_code, 1) << failed.out << failed.err;
  EXPECT_TRUE(Contains(failed.err, "exit 75")) << failed.err;
  EXPECT_TRUE(Contains(failed.err, "cannot connect to relay")) << failed.err;
  EXPECT_TRUE(Contains(failed.out, src_ + "/data -> " + dst_ + "/data: incremental")) << failed.out;
}

}  // namespace
}  // namespace zsend::test
