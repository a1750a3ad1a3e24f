#include "tools/engine/transfer_link_open.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstring>

#include "base/subprocess.h"

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
  // base::Spawn: clean signal state, no inherited descriptors, and a parent-death signal, so
  // ssh (and with it the far side, which sees its stdin close) never outlives this engine.
  base::SpawnOptions spawn;
  spawn.stdin_fd = to_read.get();
  spawn.stdout_fd = from_write.get();
  spawn.process_group = -1;
  base::SpawnResult started = base::Spawn(SshCommand(job), spawn);
  if (!started.ok()) {
    int rc = started.fork_errno != 0 ? started.fork_errno : started.exec_errno;
    return Unavailable(std::string("cannot run ssh: ") + std::strerror(rc));
  }
  *pid = started.pid;
  return std::make_unique<Channel>(std::move(from_read), std::move(to_write),
                                   "ssh " + job.ssh_host);
}

}  // namespace zsend::tool
