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

}  // namespace zsend::cli
