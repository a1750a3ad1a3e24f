// Option values checked before any host or zfs is contacted, so a bad one is reported as
// itself ("--codec 'bogus': unknown codec ...") instead of surfacing later as something else
// ("nothing selected", a failed transfer, a mail that cannot be sent).
#pragma once

#include <string>

#include "base/status.h"
#include "tools/zsend/mail_options.h"

namespace zsend::cli {

// --codec (as zsend-engine would parse it) and --ssh-port (0: ssh's default).
Status CheckTransferValues(const std::string& codec, int ssh_port);

// --group and --snapshot-name (no character zfs never accepts in a snapshot name: '@', '/',
// '#', '%', control characters) and --ssh-identity (readable).
Status CheckNameValues(const std::string& group, const std::string& snapshot_name,
                       const std::string& ssh_identity);

// --mail-on, --smtp-url's scheme, and a password for --smtp-user when mail goes through SMTP.
Status CheckMailValues(const MailOptions& mail);

}  // namespace zsend::cli
