#include "tests/support/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace zsend::test {

pid_t Spawn(const std::vector<std::string>& argv, const SpawnOptions& options) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  if (!options.argv0.empty()) args[0] = const_cast<char*>(options.argv0.c_str());
  args.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) {
    std::perror("fork");
    std::abort();
  }
  if (pid == 0) {
    int devnull = open("/dev/null", O_RDWR);
    dup2(options.stdin_fd >= 0 ? options.stdin_fd : devnull, 0);
    dup2(options.stdout_fd >= 0 ? options.stdout_fd : devnull, 1);
    dup2(options.stderr_fd >= 0 ? options.stderr_fd : devnull, 2);
    for (int fd = 3; fd < 1024; ++fd) close(fd);
    signal(SIGPIPE, SIG_DFL);
    for (const auto& [k, v] : options.env) setenv(k.c_str(), v.c_str(), 1);
    const char* file = argv[0].c_str();
    execvp(file, args.data());
    std::fprintf(stderr, "exec %s: %s\n", file, std::strerror(errno));
    _exit(127);
  }
  return pid;
}

RunResult Wait(pid_t pid) {
  RunResult r;
  int status = 0;
  rusage usage{};
  while (wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status))
    r.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status))
    r.exit_code = 128 + WTERMSIG(status);
  r.max_rss_kib = usage.ru_maxrss;
  return r;
}

RunResult Run(const std::vector<std::string>& argv, const std::string& input,
              const SpawnOptions& base) {
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
    std::abort();
  }
  SpawnOptions options = base;
  options.stdin_fd = in[0];
  options.stdout_fd = out[0 + 1];
  options.stderr_fd = err[1];
  auto start = std::chrono::steady_clock::now();
  pid_t pid = Spawn(argv, options);
  close(in[0]);
  close(out[1]);
  close(err[1]);
  std::thread writer([fd = in[1], &input] {
    signal(SIGPIPE, SIG_IGN);
    size_t off = 0;
    while (off < input.size()) {
      ssize_t n = write(fd, input.data() + off, input.size() - off);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    close(fd);
  });
  RunResult r;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open_fds = 2;
  char buf[65536];
  while (open_fds > 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      } else {
        (i == 0 ? r.out : r.err).append(buf, static_cast<size_t>(n));
      }
    }
  }
  writer.join();
  RunResult waited = Wait(pid);
  waited.out = std::move(r.out);
  waited.err = std::move(r.err);
  waited.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return waited;
}

RunResult Shell(const std::string& command) {
  return Run({"/bin/sh", "-c", command});
}

std::string BinPath(const std::string& name) {
  return std::string(ZSEND_BIN_DIR) + "/" + name;
}

std::string MbufferLinkPath() {
  return std::string(ZSEND_BUILD_DIR) + "/libexec/zsend/mbuffer";
}

bool InCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

bool HaveProgram(const std::string& program) {
  return Shell("command -v " + program + " >/dev/null 2>&1").exit_code == 0;
}

}  // namespace zsend::test
