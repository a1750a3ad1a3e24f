// SshRunner: runs argv vectors on a remote host through one ssh control connection.
//
// The first Run() (or Connect()) starts a ControlMaster whose socket lives in a fresh private
// temporary directory (mode 0700); every later command reuses it, so a run authenticates once
// per host. Close() (also called by the destructor) stops the master with `ssh -O exit` and
// removes the directory. Should the process die first, the master exits by itself after 10
// idle minutes (ControlPersist=600). ssh always runs with BatchMode=yes: a missing key or an
// unknown host key fails at once with a one-line error instead of prompting a cron job; keep-
// alives and a connect timeout end a session with a host that stopped answering.
//
// The remote command is the argv quoted word by word for the far shell (ShellJoin), so names
// with spaces or quotes arrive as one argument each.
//
// Thread-safety: Run() may be called from several threads; starting the master is serialised
// by a mutex, and ssh itself multiplexes sessions over the control socket.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "orchestrator/host/command_runner.h"

namespace zsend::orchestrator {

struct SshOptions {
  std::string destination;               // [user@]host
  int port = 0;                          // 0: ssh's default
  std::string identity_file;             // -i FILE, empty for none
  std::vector<std::string> ssh_options;  // each becomes "-o OPT"
  std::string ssh_program = "ssh";
  // Keep-alives and the connect timeout (KeepAliveOptions): a far host that stops answering is
  // given up after alive_interval_seconds * alive_count_max (60 s); one that does not accept the
  // connection after connect_timeout_seconds. --ssh-option NAME=VALUE overrides each.
  int alive_interval_seconds = 15;
  int alive_count_max = 4;
  int connect_timeout_seconds = 30;
};

// ServerAliveInterval, ServerAliveCountMax and ConnectTimeout as ssh -o values.
std::vector<std::string> KeepAliveOptions(const SshOptions& options);

class SshRunner : public CommandRunner {
 public:
  // `local` runs the ssh program itself; it is not owned and must outlive this runner.
  SshRunner(SshOptions options, CommandRunner& local);
  ~SshRunner() override;
  SshRunner(const SshRunner&) = delete;
  SshRunner& operator=(const SshRunner&) = delete;

  // Starts the control master now; errors name the host and the fix.
  Status Connect();
  // Stops the master and removes its directory; safe to call twice.
  void Close();

  Result<CommandOutput> Run(const Command& command) override;
  std::string HostLabel() const override { return options_.destination; }
  // ssh over the control connection (started now if needed) running `argv` remotely.
  Result<std::vector<std::string>> StreamArgv(const std::vector<std::string>& argv) override;
  bool IsRemote() const override { return true; }
  const SshOptions& options() const { return options_; }

  // The ssh argv that runs `remote_argv` over the control socket at `control_path`.
  static std::vector<std::string> BuildArgv(const SshOptions& options,
                                            const std::string& control_path,
                                            const std::vector<std::string>& remote_argv);
  // The ssh argv that starts a master (-M -N -f) or stops it (-O exit).
  static std::vector<std::string> BuildMasterArgv(const SshOptions& options,
                                                  const std::string& control_path);
  static std::vector<std::string> BuildExitArgv(const SshOptions& options,
                                                const std::string& control_path);

  // Recognises ssh's own failures (exit 255) in its stderr: host key, authentication,
  // resolution, refused connections. Returns OK when the output is not an ssh failure.
  static Status ClassifySshFailure(const std::string& destination, const CommandOutput& output);

 private:
  SshOptions options_;
  CommandRunner& local_;
  std::mutex mutex_;
  std::string control_dir_;   // guarded by mutex_; empty until connected
  std::string control_path_;  // guarded by mutex_
  bool connected_ = false;    // guarded by mutex_
};

}  // namespace zsend::orchestrator
