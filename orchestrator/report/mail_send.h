// Sending mail: through SMTP with libcurl, or through a sendmail command.
//
// SMTP: `smtp://host[:port]` (STARTTLS is used when the server offers it) or
// `smtps://host[:port]` (TLS from the start). Credentials only travel over TLS: with a user,
// smtp:// requires STARTTLS (kFailedPrecondition, before AUTH, when the server offers none)
// and the server's certificate is verified. With a user, the password comes from
// --smtp-password-file (its first line) or else from the ZSEND_SMTP_PASSWORD environment
// variable: never from the command line, where `ps` would show it. Timeouts are bounded, so an
// unreachable server fails within `timeout_seconds` with a one-line error.
//
// sendmail: the command (split on spaces, no shell) gets "-oi -- RCPT..." appended and the
// message on stdin (the usual sendmail interface); a non-zero exit is an error with its
// stderr.
//
// A mail failure is returned as a Status for the caller to log and count; it never changes
// what the backup itself reports.
//
// Thread-safety: SendViaSmtp may be called from several threads (libcurl is initialised once).
#pragma once

#include <string>
#include <vector>

#include "orchestrator/host/command_runner.h"
#include "orchestrator/report/mail_message.h"

namespace zsend::orchestrator {

inline constexpr const char* kSmtpPasswordEnv = "ZSEND_SMTP_PASSWORD";

struct SmtpOptions {
  std::string url;            // smtp://host:port or smtps://host:port
  std::string user;           // empty: no authentication
  std::string password_file;  // first line is the password; empty: the environment variable
  long timeout_seconds = 30;
  std::string ca_file;  // extra CA bundle for TLS, empty for the system's
};

// The password for `options.user`, from the file or the environment; an error when a user is
// set and neither gives one.
Result<std::string> SmtpPassword(const SmtpOptions& options);

// "Name <a@b>" -> "a@b"; "a@b" -> "a@b".
std::string MailAddress(const std::string& text);

Status SendViaSmtp(const MailMessage& message, const std::string& mime, const SmtpOptions& options);

Status SendViaSendmail(CommandRunner& local, const std::string& command, const MailMessage& message,
                       const std::string& mime);

// Where a subcommand's mail goes and how it is sent (zsend's --mail-* and --smtp-* options).
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

// Renders and sends through SMTP (smtp_url) or sendmail (sendmail, default "/usr/sbin/sendmail"
// when neither is given).
Status SendMail(const MailOptions& options, const MailMessage& message);

// This machine's name, and "zsend@HOST".
std::string HostName();
std::string DefaultMailFrom();

}  // namespace zsend::orchestrator
