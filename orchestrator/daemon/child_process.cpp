#include "orchestrator/daemon/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace zsend::orchestrator {
namespace {

int g_signal_pipe[2] = {-1, -1};
constexpr int kSignals[] = {SIGTERM, SIGINT, SIGHUP, SIGCHLD};

void OnSignal(int signo) {
  const int saved = errno;
  const unsigned char byte = static_cast<unsigned char>(signo);
  (void)!write(g_signal_pipe[1], &byte, 1);
  errno = saved;
}

}  // namespace

int InstallDaemonSignals() {
  if (g_signal_pipe[0] >= 0) return g_signal_pipe[0];
  if (pipe2(g_signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return -1;
  struct sigaction action {};
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  for (int signo : kSignals) sigaction(signo, &action, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return g_signal_pipe[0];
}

pid_t SpawnChild(const std::vector<std::string>& argv,
                 const std::vector<std::pair<std::string, std::string>>& env) {
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const pid_t pid = fork();
  if (pid != 0) return pid;
  // The child: its own process group (a hook's timeout kills the whole group), default signals.
  setpgid(0, 0);
  for (int signo : kSignals) signal(signo, SIG_DFL);
  signal(SIGPIPE, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  dup2(STDERR_FILENO, STDOUT_FILENO);
  for (const auto& [name, value] : env) setenv(name.c_str(), value.c_str(), 1);
  execvp(args[0], args.data());
  _exit(127);
}

std::pair<pid_t, int> ReapChild() {
  int status = 0;
  pid_t pid;
  do {
    pid = waitpid(-1, &status, WNOHANG);
  } while (pid < 0 && errno == EINTR);
  return {pid > 0 ? pid : 0, status};
}

}  // namespace zsend::orchestrator
