// The mail options (--mail-to, --mail-from, --mail-on, --smtp-url, --smtp-user,
// --smtp-password-file, --smtp-ca-file, --sendmail) and sending with them. Passwords never come
// from the command line: --smtp-password-file or the ZSEND_SMTP_PASSWORD environment variable.
#pragma once

#include <string>
#include <vector>

#include "orchestrator/report/mail_message.h"

namespace CLI {
class App;
}

namespace zsend::cli {

struct MailOptions {
  std::vector<std::string> to;
  std::string from;
  std::string on = "failure";
  std::string smtp_url;
  std::string smtp_user;
  std::string smtp_password_file;
  std::string smtp_ca_file;  // CA bundle to verify the server's certificate (TLS)
  std::string sendmail;
};

void AddMailOptions(CLI::App& app, MailOptions* options);

// Renders and sends through SMTP (--smtp-url) or sendmail (--sendmail, default
// "/usr/sbin/sendmail" when neither is given).
Status SendMail(const MailOptions& options, const orchestrator::MailMessage& message);

// This machine's name, and "zsend@HOST".
std::string HostName();
std::string DefaultMailFrom();

}  // namespace zsend::cli
