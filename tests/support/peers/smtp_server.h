// Test support: a real SMTP server on loopback (Debian's aiosmtpd with tests/support/
// smtp_sink.py storing every message), optionally with STARTTLS on a self-signed certificate
// made by the openssl CLI, and the messages it stored, parsed by Python's email package
// (tests/support/mail_dump.py) into JSON.
//
// Start() returns "" or why the server could not start (for ZSEND_REQUIRE / ASSERT); the
// destructor stops the server and removes its directory. Not thread-safe; one test thread.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <string>

namespace zsend::test {

class SmtpServer {
 public:
  SmtpServer() = default;
  ~SmtpServer();
  SmtpServer(const SmtpServer&) = delete;
  SmtpServer& operator=(const SmtpServer&) = delete;

  // Listens on 127.0.0.1:<free port>. With `starttls`, the server offers STARTTLS with a fresh
  // self-signed certificate for 127.0.0.1 and refuses mail until TLS is on (aiosmtpd's
  // default require_starttls).
  std::string Start(bool starttls = false);
  // A server that offers AUTH, accepts every login and records it (Logins()): `mode` "plain"
  // offers AUTH in the clear and no STARTTLS, "starttls" offers AUTH only after STARTTLS,
  // "smtps" speaks TLS from the first byte (Url() is then smtps://).
  std::string StartWithAuth(const std::string& mode);
  std::string Url() const {
    return (smtps_ ? "smtps://127.0.0.1:" : "smtp://127.0.0.1:") + std::to_string(port_);
  }
  // The logins offered so far: [{login, password, tls}].
  nlohmann::json Logins() const;
  int port() const { return port_; }
  // The certificate (PEM) the server presents, for --smtp-ca-file.
  const std::string& certificate() const { return certificate_; }

  // The n-th stored message (from 1), waiting up to `seconds` for it; null when none came.
  // Fields: from, to, subject, date, message_id, mime_version, content_type, defects,
  // parts[{content_type, charset, body}], envelope{mail_from, rcpt_tos}.
  nlohmann::json Stored(int n, double seconds = 5);
  // How many messages were stored so far.
  int Count() const;

 private:
  std::string Launch(const std::string& mode);

  std::string dir_;
  std::string certificate_;
  int port_ = 0;
  bool smtps_ = false;
  pid_t server_ = -1;
};

}  // namespace zsend::test
