#include "tools/engine/transfer_link_open.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include <cstring>

extern char** environ;

namespace zsend::tool {

std::string ShellQuote(const std::string& word) {
  std::string out = "'";
  for (char c : word) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::vector<std::string> SshCommand(const TransferJob& job) {
  std::vector<std::string> argv = {"ssh", "-e", "none", "-o", "BatchMode=yes"};
  if (!job.ssh_port.empty()) argv.insert(argv.end(), {"-p", job.ssh_port});
  for (const std::string& o : job.ssh_options) argv.insert(argv.end(), {"-o", o});
  // "--": a host that looks like an option ("-oProxyCommand=...") stays a destination.
  argv.insert(argv.end(), {"--", job.ssh_host});
  std::string remote = ShellQuote(job.remote_engine) + (job.send ? " recv" : " send") + " --stdio";
  for (const std::string& a : job.remote_args) remote += " " + ShellQuote(a);
  argv.push_back(remote);
  return argv;
}

Result<std::unique_ptr<Channel>> StartSsh(const TransferJob& job, pid_t* pid) {
  int to_ssh[2], from_ssh[2];
  if (pipe2(to_ssh, O_CLOEXEC) != 0) return ErrnoStatus("pipe", errno);
  UniqueFd to_read(to_ssh[0]), to_write(to_ssh[1]);
  if (pipe2(from_ssh, O_CLOEXEC) != 0) return ErrnoStatus("pipe", errno);
  UniqueFd from_read(from_ssh[0]), from_write(from_ssh[1]);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, to_read.get(), 0);
  posix_spawn_file_actions_adddup2(&actions, from_write.get(), 1);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
  std::vector<std::string> argv = SshCommand(job);
  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  int rc = posix_spawnp(pid, "ssh", &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return Unavailable(std::string("cannot run ssh: ") + std::strerror(rc));
  return std::make_unique<Channel>(std::move(from_read), std::move(to_write),
                                   "ssh " + job.ssh_host);
}

}  // namespace zsend::tool
