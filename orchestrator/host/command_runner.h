// CommandRunner: the operating system behind a small interface, for the orchestrator.
//
// Every command the orchestrator runs (zfs, zpool, vmadm, ssh) is an argv: no shell is ever
// involved locally, and a remote runner quotes the argv itself for the far shell. A Command
// says whether it changes anything (Effect), so a DryRunRunner can print mutating commands
// instead of running them while read-only queries still run. Tests substitute a fake runner
// (an in-memory zfs) without touching the code that builds commands.
//
// Runners are shared by the --jobs worker threads: Run() must be safe to call concurrently.
// LocalRunner has no state; DryRunRunner serialises its output with a mutex.
#pragma once

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <ctime>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <vector>

#include "base/shell_words.h"  // ShellJoin: how a Command is shown in messages
#include "base/status.h"

namespace zsend::orchestrator {

enum class Effect {
  kReadOnly,  // list, get, holds, usage probes: always run, even in --dry-run
  kMutates,   // snapshot, destroy, hold, set, create, recv...: printed in --dry-run
};

struct Command {
  std::vector<std::string> argv;
  Effect effect = Effect::kMutates;
  std::string input;  // written to the command's stdin (then closed)
  // Seconds the command may take before it is stopped (its process group: SIGTERM, then
  // SIGKILL) and fails with kDeadlineExceeded; 0: the runner's default (--command-timeout).
  double timeout_seconds = 0;
  // Cleanup (removing a key directory, `ssh -O exit`): runs also after SIGINT/SIGTERM, when
  // other commands are refused or stopped with kCancelled (run_interrupt.h).
  bool cleanup = false;
};

// The default deadline of one command (zfs list/get/snapshot/destroy, ssh): a far host or a zfs
// that does not answer in this time is given up on. --command-timeout changes it.
inline constexpr double kDefaultCommandTimeoutSeconds = 600;
// The deadline of a cleanup command.
inline constexpr double kCleanupTimeoutSeconds = 30;

struct CommandOutput {
  int exit_code = -1;  // 0..255, or 128 + signal number when killed
  std::string out;
  std::string err;

  bool ok() const { return exit_code == 0; }
  // The first non-empty line of stderr (or of stdout), for one-line error messages.
  std::string FirstErrorLine() const;
};

// Runs argv vectors on one host. A Result error means the command could not be run at all
// (no such program, the ssh connection failed); a command that ran and failed returns its
// CommandOutput with a non-zero exit_code.
class CommandRunner {
 public:
  virtual ~CommandRunner() = default;
  virtual Result<CommandOutput> Run(const Command& command) = 0;
  // "local" or "[user@]host": used in messages and dry-run lines.
  virtual std::string HostLabel() const = 0;
  // The local argv that runs `argv` on this host with its stdin and stdout connected to the
  // caller's, for streaming pipelines (zfs send | ... | zfs recv). The default says the runner
  // cannot stream (test fakes).
  virtual Result<std::vector<std::string>> StreamArgv(const std::vector<std::string>& argv);
  // True when this runner reaches another machine (ssh).
  virtual bool IsRemote() const { return false; }
  // The runner that really reaches the host: a wrapper (dry-run, debug) returns its inner
  // runner's, so callers can look for the SshRunner underneath.
  virtual CommandRunner& Unwrapped() { return *this; }
};

// Runs commands on this machine with base::Spawn (own process group, parent-death signal) and
// pipes; stdout and stderr are captured. Output written after the command exits (by a
// daemonised grandchild holding the pipes) is not waited for. A command that outlives its
// deadline is stopped (kDeadlineExceeded); after SIGINT/SIGTERM (run_interrupt.h) a running
// command is stopped and new ones are refused (kCancelled), cleanup commands excepted.
class LocalRunner : public CommandRunner {
 public:
  explicit LocalRunner(double timeout_seconds = kDefaultCommandTimeoutSeconds)
      : timeout_seconds_(timeout_seconds) {}
  Result<CommandOutput> Run(const Command& command) override;
  std::string HostLabel() const override { return "local"; }
  Result<std::vector<std::string>> StreamArgv(const std::vector<std::string>& argv) override {
    return argv;
  }
  double timeout_seconds() const { return timeout_seconds_; }

 private:
  double timeout_seconds_;
};

// A runner over another one that changes only Run(): the host label, streaming, remoteness
// and Unwrapped() are `inner`'s. Does not own `inner`.
class WrappingRunner : public CommandRunner {
 public:
  explicit WrappingRunner(CommandRunner& inner) : inner_(inner) {}
  std::string HostLabel() const override { return inner_.HostLabel(); }
  Result<std::vector<std::string>> StreamArgv(const std::vector<std::string>& argv) override {
    return inner_.StreamArgv(argv);
  }
  bool IsRemote() const override { return inner_.IsRemote(); }
  CommandRunner& Unwrapped() override { return inner_.Unwrapped(); }
  CommandRunner& inner() { return inner_; }

 protected:
  CommandRunner& inner_;
};

// Prints each mutating command as "dry-run [host]: argv..." on `out` and reports success
// without running it; read-only commands go to `inner`. Does not own `inner` or `out`.
class DryRunRunner : public WrappingRunner {
 public:
  DryRunRunner(CommandRunner& inner, std::ostream& out) : WrappingRunner(inner), out_(out) {}
  Result<CommandOutput> Run(const Command& command) override;

 private:
  std::mutex mutex_;
  std::ostream& out_;  // guarded by mutex_
};

// Prints every command as "debug [host]: argv..." on `out` before `inner` runs it (--debug).
// Does not own `inner` or `out`.
class DebugRunner : public WrappingRunner {
 public:
  DebugRunner(CommandRunner& inner, std::ostream& out) : WrappingRunner(inner), out_(out) {}
  Result<CommandOutput> Run(const Command& command) override;

 private:
  std::mutex mutex_;
  std::ostream& out_;  // guarded by mutex_
};

// Counts the commands run through it (--json and the history report them per host: the
// run's overhead, docs/orchestrator.md). `zfs` commands are counted apart; a dry run's printed
// commands count too (they would have run). Does not own `inner`. Thread-safe (atomics).
class CountingRunner : public WrappingRunner {
 public:
  explicit CountingRunner(CommandRunner& inner) : WrappingRunner(inner) {}
  Result<CommandOutput> Run(const Command& command) override;
  int commands() const { return commands_.load(); }
  int zfs_commands() const { return zfs_commands_.load(); }

 private:
  std::atomic<int> commands_{0};
  std::atomic<int> zfs_commands_{0};
};

// A one-line error for a command that ran and failed:
// "zfs snapshot pool/a@x failed (exit 1) on local: cannot create snapshot: ...".
Status CommandFailed(const CommandRunner& runner, const Command& command,
                     const CommandOutput& output);

// Runs the command and turns a non-zero exit into CommandFailed(); returns the output on success.
Result<CommandOutput> RunChecked(CommandRunner& runner, const Command& command);

// Blocks SIGPIPE in this thread while it writes a command's stdin: a command that exits
// without reading its input must not kill the orchestrator. A SIGPIPE raised meanwhile is
// consumed before the old mask returns.
class SigpipeBlock {
 public:
  SigpipeBlock() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~SigpipeBlock() {
    timespec zero{0, 0};
    while (sigtimedwait(&pipe_, nullptr, &zero) > 0) {
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  sigset_t pipe_, old_;
};

}  // namespace zsend::orchestrator
