// Test support: a real OpenSSH server on 127.0.0.1, private to one test.
//
// SshdServer generates a host key and an authorized client key (ssh-keygen) into a fresh mkdtemp
// directory, writes its own sshd_config there (no PAM, keys only, PidFile and AuthorizedKeysFile
// inside the directory) and runs `sshd -D -e -f CONFIG` as a child on a free port. The
// constructor returns once the log says the server listens and the port answers with an SSH
// banner (retrying with a deadline; a port taken in between is retried with another one). It
// never reads or writes /etc/ssh or ~/.ssh; it only creates /run/sshd (sshd's privilege
// separation directory) when missing.
//
// Ownership: the object owns the directory and the sshd process tree. The destructor kills the
// listener and every process it started (per-connection sshd processes), reaps the listener and
// removes the directory. Not copyable, not movable.
//
// Thread-safety: construct and destroy on one thread; the const accessors may be used from any.
//
//   SshdServer sshd;
//   ASSERT_TRUE(sshd.ok()) << sshd.error();
//   RunResult r = Run(sshd.SshCommand("echo hello"));
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace zsend::test {

struct SshdOptions {
  // Extra sshd_config lines appended to the generated config, e.g. "SetEnv PATH=/x:/usr/bin".
  std::vector<std::string> extra_config;
};

class SshdServer {
 public:
  explicit SshdServer(const SshdOptions& options = {});
  ~SshdServer();
  SshdServer(const SshdServer&) = delete;
  SshdServer& operator=(const SshdServer&) = delete;

  // False when the server could not be started; error() then says why (with the sshd log tail).
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& dir() const { return dir_; }                 // the private temp dir
  const std::string& identity_file() const { return identity_; }  // authorized private key
  const std::string& known_hosts_file() const { return known_hosts_; }
  const std::string& log_file() const { return log_; }  // sshd's stderr
  const std::string& user() const { return user_; }     // the login user (ours)
  std::string host() const { return "127.0.0.1"; }
  std::string destination() const { return user_ + "@127.0.0.1"; }  // USER@HOST for ssh

  // `-o` option values (without "-o") that make ssh trust only this server's host key and never
  // prompt: UserKnownHostsFile, GlobalKnownHostsFile, StrictHostKeyChecking=yes, BatchMode=yes,
  // IdentitiesOnly=yes, ConnectTimeout. For programs taking `--ssh-option OPT`.
  std::vector<std::string> SshOptionValues() const;
  // Full ssh argument list before the destination: -p PORT -i KEY -o ... (the values above).
  std::vector<std::string> SshArgs() const;
  // {"ssh", SshArgs()..., destination(), remote_command}.
  std::vector<std::string> SshCommand(const std::string& remote_command) const;

  // Generates a new key pair in dir() that this server does NOT authorize; returns the private
  // key path, or "" on failure. For wrong-key tests.
  std::string MakeUnauthorizedKey(const std::string& name) const;

 private:
  bool Prepare(const SshdOptions& options);
  bool StartOnFreePort(const SshdOptions& options);
  bool WriteConfig(const SshdOptions& options);
  bool WriteKnownHosts();
  void Stop();

  std::string error_;
  std::string dir_, config_, identity_, known_hosts_, log_, host_key_, user_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace zsend::test
