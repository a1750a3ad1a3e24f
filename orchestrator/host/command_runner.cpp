#include "orchestrator/host/command_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>

#include "base/subprocess.h"
#include "base/unique_fd.h"
#include "orchestrator/run/run_interrupt.h"

namespace zsend::orchestrator {
namespace {

// Reads what is available from fd into out; returns false at EOF or on an error.
bool DrainAvailable(int fd, std::string& out) {
  char buffer[16384];
  for (;;) {
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n > 0) {
      out.append(buffer, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && errno == EAGAIN;
  }
}

}  // namespace

std::string CommandOutput::FirstErrorLine() const {
  for (const std::string* text : {&err, &out}) {
    size_t start = 0;
    while (start < text->size()) {
      size_t end = text->find('\n', start);
      if (end == std::string::npos) end = text->size();
      std::string line = text->substr(start, end - start);
      if (line.find_first_not_of(" \t\r") != std::string::npos) return line;
      start = end + 1;
    }
  }
  return "";
}

Result<CommandOutput> LocalRunner::Run(const Command& command) {
  if (command.argv.empty()) return InvalidArgument("LocalRunner: empty argv");
  if (!command.cleanup && Interrupted()) return InterruptedStatus(ShellJoin(command.argv));
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0) return ErrnoStatus("pipe", errno);
  UniqueFd in_read(in[0]), in_write(in[1]);
  if (pipe2(out, O_CLOEXEC) != 0) return ErrnoStatus("pipe", errno);
  UniqueFd out_read(out[0]), out_write(out[1]);
  if (pipe2(err, O_CLOEXEC) != 0) return ErrnoStatus("pipe", errno);
  UniqueFd err_read(err[0]), err_write(err[1]);

  base::SpawnOptions spawn;
  spawn.stdin_fd = in_read.get();
  spawn.stdout_fd = out_write.get();
  spawn.stderr_fd = err_write.get();
  base::SpawnResult started = base::Spawn(command.argv, spawn);
  if (started.fork_errno != 0) return ErrnoStatus("fork", started.fork_errno);
  if (started.exec_errno != 0) {
    return Status(StatusCode::kNotFound,
                  "cannot run " + command.argv[0] + ": " + std::strerror(started.exec_errno));
  }
  const pid_t pid = started.pid;
  in_read.reset();
  out_write.reset();
  err_write.reset();

  fcntl(out_read.get(), F_SETFL, O_NONBLOCK);
  fcntl(err_read.get(), F_SETFL, O_NONBLOCK);
  fcntl(in_write.get(), F_SETFL, O_NONBLOCK);
  if (command.input.empty()) in_write.reset();
  UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  const double limit = command.timeout_seconds > 0 ? command.timeout_seconds
                       : command.cleanup           ? kCleanupTimeoutSeconds
                                                   : timeout_seconds_;
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<int64_t>(limit * 1000));
  const int interrupt_fd = command.cleanup ? -1 : InterruptFd();

  CommandOutput result;
  SigpipeBlock no_sigpipe;
  size_t input_offset = 0;
  int wait_status = 0;
  bool exited = false;
  Status stopped;  // why the command was stopped before it ended
  while (!exited) {
    pollfd fds[5];
    int count = 0;
    if (out_read.valid()) fds[count++] = {out_read.get(), POLLIN, 0};
    if (err_read.valid()) fds[count++] = {err_read.get(), POLLIN, 0};
    if (in_write.valid()) fds[count++] = {in_write.get(), POLLOUT, 0};
    if (pidfd.valid()) fds[count++] = {pidfd.get(), POLLIN, 0};
    if (interrupt_fd >= 0) fds[count++] = {interrupt_fd, POLLIN, 0};
    // Wake up now and then for the deadline (and, without a pidfd, to check the child).
    int timeout = pidfd.valid() ? 1000 : 50;
    if (poll(fds, count, timeout) < 0 && errno != EINTR) break;
    if (out_read.valid() && !DrainAvailable(out_read.get(), result.out)) out_read.reset();
    if (err_read.valid() && !DrainAvailable(err_read.get(), result.err)) err_read.reset();
    while (in_write.valid() && input_offset < command.input.size()) {
      ssize_t n = write(in_write.get(), command.input.data() + input_offset,
                        command.input.size() - input_offset);
      if (n > 0) {
        input_offset += static_cast<size_t>(n);
      } else {
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
        in_write.reset();  // the command closed its stdin
      }
    }
    if (in_write.valid() && input_offset >= command.input.size()) in_write.reset();
    pid_t waited = waitpid(pid, &wait_status, WNOHANG);
    if (waited == pid) {
      exited = true;
      break;
    }
    if (interrupt_fd >= 0 && Interrupted()) {
      stopped = InterruptedStatus(ShellJoin(command.argv) + " stopped");
    } else if (std::chrono::steady_clock::now() >= deadline) {
      stopped = DeadlineExceeded(ShellJoin(command.argv) + " did not end within " +
                                 std::to_string(static_cast<int64_t>(limit)) +
                                 " s; stopped it (--command-timeout)");
    }
    if (!stopped.ok()) {
      wait_status = base::StopAndReap(pid, pid, 2000);
      exited = true;
    }
  }
  while (!exited && waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
  }
  // The child is gone; take whatever it wrote before exiting, then stop (a daemonised
  // grandchild, such as an ssh control master, may keep the pipes open forever).
  if (out_read.valid()) DrainAvailable(out_read.get(), result.out);
  if (err_read.valid()) DrainAvailable(err_read.get(), result.err);
  if (!stopped.ok()) return stopped;
  result.exit_code = base::ExitCodeOf(wait_status);
  return result;
}

Result<std::vector<std::string>> CommandRunner::StreamArgv(const std::vector<std::string>& argv) {
  return FailedPrecondition("the runner for " + HostLabel() + " cannot stream " +
                            (argv.empty() ? std::string("commands") : argv[0]));
}

Result<CommandOutput> DebugRunner::Run(const Command& command) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    out_ << "debug [" << inner_.HostLabel() << "]: " << ShellJoin(command.argv) << "\n";
  }
  return inner_.Run(command);
}

Result<CommandOutput> CountingRunner::Run(const Command& command) {
  ++commands_;
  if (!command.argv.empty() && command.argv[0] == "zfs") ++zfs_commands_;
  return inner_.Run(command);
}

Result<CommandOutput> DryRunRunner::Run(const Command& command) {
  if (command.effect == Effect::kReadOnly) return inner_.Run(command);
  std::lock_guard<std::mutex> lock(mutex_);
  out_ << "dry-run [" << inner_.HostLabel() << "]: " << ShellJoin(command.argv) << "\n";
  out_.flush();
  CommandOutput output;
  output.exit_code = 0;
  return output;
}

Status CommandFailed(const CommandRunner& runner, const Command& command,
                     const CommandOutput& output) {
  std::string line = output.FirstErrorLine();
  return Status(StatusCode::kAborted,
                ShellJoin(command.argv) + " failed (exit " + std::to_string(output.exit_code) +
                    ") on " + runner.HostLabel() + (line.empty() ? std::string() : ": " + line));
}

Result<CommandOutput> RunChecked(CommandRunner& runner, const Command& command) {
  Result<CommandOutput> output = runner.Run(command);
  if (!output.ok()) return output.status();
  if (!output->ok()) return CommandFailed(runner, command, *output);
  return output;
}

}  // namespace zsend::orchestrator
