#include "base/subprocess.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace zsend::base {

SpawnResult Spawn(const std::vector<std::string>& argv, const SpawnOptions& options) {
  SpawnResult result;
  if (argv.empty()) {
    result.exec_errno = EINVAL;
    return result;
  }
  // Everything the child needs is made before fork: after it only async-signal-safe calls.
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) {
    result.fork_errno = errno;
    return result;
  }
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    result.fork_errno = errno;
    close(report[0]);
    close(report[1]);
    return result;
  }
  if (pid == 0) {
    if (options.parent_death_signal != 0) {
      prctl(PR_SET_PDEATHSIG, options.parent_death_signal);
      if (getppid() != parent) _exit(127);  // the parent died before the line above
    }
    if (options.process_group >= 0) setpgid(0, options.process_group);
    // dup2 onto itself would keep O_CLOEXEC: such an fd is first moved out of the way.
    const int fds[3] = {options.stdin_fd, options.stdout_fd, options.stderr_fd};
    for (int target = 0; target < 3; ++target) {
      if (fds[target] < 0) continue;
      if (fds[target] == target) {
        int flags = fcntl(target, F_GETFD);
        if (flags >= 0) fcntl(target, F_SETFD, flags & ~FD_CLOEXEC);
      } else {
        dup2(fds[target], target);
      }
    }
    if (options.fd3 >= 0) {
      if (options.fd3 == 3) {
        int flags = fcntl(3, F_GETFD);
        if (flags >= 0) fcntl(3, F_SETFD, flags & ~FD_CLOEXEC);
      } else {
        dup2(options.fd3, 3);
      }
    }
    struct sigaction default_action {};
    default_action.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; ++s) {
      if (s != SIGKILL && s != SIGSTOP) sigaction(s, &default_action, nullptr);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    syscall(SYS_close_range, options.fd3 >= 0 ? 4u : 3u, ~0u, CLOSE_RANGE_CLOEXEC);
    execvp(args[0], args.data());
    int e = errno;
    (void)!write(report[1], &e, sizeof e);
    _exit(127);
  }
  close(report[1]);
  // Also set here: whichever of parent and child runs first, the group exists before a later
  // member joins it or the caller signals it.
  if (options.process_group >= 0)
    setpgid(pid, options.process_group == 0 ? pid : options.process_group);
  int e = 0;
  ssize_t got;
  while ((got = read(report[0], &e, sizeof e)) < 0 && errno == EINTR) {
  }
  close(report[0]);
  if (got == static_cast<ssize_t>(sizeof e)) {
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    result.exec_errno = e;
    return result;
  }
  result.pid = pid;
  return result;
}

void KillGroup(pid_t pgid, int signal) {
  if (pgid <= 0) return;
  kill(-pgid, signal);
  if (signal != SIGKILL && signal != SIGCONT) kill(-pgid, SIGCONT);
}

int StopAndReap(pid_t pid, pid_t pgid, int grace_ms) {
  int status = 0;
  if (pgid > 0) {
    KillGroup(pgid, SIGTERM);
  } else {
    kill(pid, SIGTERM);
    kill(pid, SIGCONT);
  }
  for (int waited_ms = 0; waited_ms < grace_ms; waited_ms += 20) {
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid || (done < 0 && errno != EINTR)) return status;
    usleep(20000);
  }
  if (pgid > 0) {
    kill(-pgid, SIGKILL);
  } else {
    kill(pid, SIGKILL);
  }
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

int ExitCodeOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

}  // namespace zsend::base
