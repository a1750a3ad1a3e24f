// The mail options (--mail-to, --mail-from, --mail-on, --smtp-url, --smtp-user,
// --smtp-password-file, --smtp-ca-file, --sendmail) and sending with them. Passwords never come
// from the command line: --smtp-password-file or the ZSEND_SMTP_PASSWORD environment variable.
#pragma once

#include <string>
#include <vector>

#include "orchestrator/report/mail_send.h"

namespace CLI {
class App;
}

namespace zsend::cli {

// The options themselves and sending with them: orchestrator/report/mail_send.h.
using orchestrator::DefaultMailFrom;
using orchestrator::HostName;
using orchestrator::MailOptions;
using orchestrator::SendMail;

void AddMailOptions(CLI::App& app, MailOptions* options);

}  // namespace zsend::cli
