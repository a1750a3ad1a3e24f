#include "tools/zsend/mail_options.h"

#include <unistd.h>

#include <CLI/CLI.hpp>

#include "orchestrator/report/mail_send.h"
#include "tools/zsend/common_options.h"

namespace zsend::cli {

void AddMailOptions(CLI::App& app, MailOptions* options) {
  // One value per --mail-to, so positionals after it stay positionals.
  app.add_option("--mail-to", options->to, "mail the result to ADDR (repeatable)")
      ->allow_extra_args(false);
  app.add_option("--mail-from", options->from, "sender address (default zsend@HOST)");
  app.add_option("--mail-on", options->on, "failure (default), always or never")
      ->check(CLI::IsMember({"failure", "always", "never"}));
  app.add_option("--smtp-url", options->smtp_url,
                 "smtp://HOST[:PORT] (STARTTLS when offered) or smtps://HOST[:PORT]");
  app.add_option("--smtp-user", options->smtp_user, "SMTP user");
  app.add_option("--smtp-password-file", options->smtp_password_file,
                 "file holding the SMTP password (else $ZSEND_SMTP_PASSWORD)");
  app.add_option("--smtp-ca-file", options->smtp_ca_file,
                 "CA certificates (PEM) that verify the SMTP server, instead of the system's");
  app.add_option("--sendmail", options->sendmail,
                 "send through this sendmail command instead of SMTP");
}

std::string HostName() {
  char name[256] = {0};
  if (gethostname(name, sizeof name - 1) != 0) return "localhost";
  return name;
}

std::string DefaultMailFrom() {
  return "zsend@" + HostName();
}

Status SendMail(const MailOptions& options, const orchestrator::MailMessage& message) {
  const std::string mime = orchestrator::RenderMime(message, Now(), HostName());
  if (!options.smtp_url.empty()) {
    orchestrator::SmtpOptions smtp;
    smtp.url = options.smtp_url;
    smtp.user = options.smtp_user;
    smtp.password_file = options.smtp_password_file;
    smtp.ca_file = options.smtp_ca_file;
    return orchestrator::SendViaSmtp(message, mime, smtp);
  }
  orchestrator::LocalRunner local;
  return orchestrator::SendViaSendmail(
      local, options.sendmail.empty() ? "/usr/sbin/sendmail" : options.sendmail, message, mime);
}

}  // namespace zsend::cli
