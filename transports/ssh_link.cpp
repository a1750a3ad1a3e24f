#include "transports/ssh_link.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/shell_words.h"
#include "base/subprocess.h"
#include "transports/fd_channel.h"

namespace zsend {

void LinkProcess::End(bool stop) {
  if (pid_ <= 0) return;
  if (stop) kill(pid_, SIGTERM);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

std::vector<std::string> SshCommand(const SshSpec& spec) {
  std::vector<std::string> argv = {"ssh", "-e", "none", "-o", "BatchMode=yes"};
  if (!spec.port.empty()) argv.insert(argv.end(), {"-p", spec.port});
  for (const std::string& o : spec.options) argv.insert(argv.end(), {"-o", o});
  // "--": a host that looks like an option ("-oProxyCommand=...") stays a destination.
  argv.insert(argv.end(), {"--", spec.host});
  std::vector<std::string> remote = {spec.remote_engine, spec.remote_command, "--stdio"};
  remote.insert(remote.end(), spec.remote_args.begin(), spec.remote_args.end());
  argv.push_back(ShellJoin(remote));
  return argv;
}

Result<SshLink> StartSsh(const SshSpec& spec) {
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
  base::SpawnResult started = base::Spawn(SshCommand(spec), spawn);
  if (!started.ok()) {
    int rc = started.fork_errno != 0 ? started.fork_errno : started.exec_errno;
    return Unavailable(std::string("cannot run ssh: ") + std::strerror(rc));
  }
  SshLink link;
  link.ssh = std::make_unique<LinkProcess>(started.pid);
  link.channel =
      std::make_unique<FdChannel>(std::move(from_read), std::move(to_write), "ssh " + spec.host);
  return link;
}

}  // namespace zsend
