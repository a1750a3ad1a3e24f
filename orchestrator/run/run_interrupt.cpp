#include "orchestrator/run/run_interrupt.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <mutex>

namespace zsend::orchestrator {
namespace {

std::atomic<int> g_signal{0};
std::atomic<int> g_read_fd{-1};
std::atomic<int> g_write_fd{-1};

void OnSignal(int signal) {
  int expected = 0;
  g_signal.compare_exchange_strong(expected, signal);
  int saved = errno;
  int fd = g_write_fd.load();
  if (fd >= 0) {
    char byte = 1;
    (void)!write(fd, &byte, 1);
  }
  errno = saved;
}

}  // namespace

void InstallRunInterruptHandlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return;
    g_read_fd = fds[0];
    g_write_fd = fds[1];
    struct sigaction action {};
    action.sa_handler = OnSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaction(s, &action, nullptr);
  });
}

int InterruptFd() {
  return g_read_fd.load();
}

int InterruptSignal() {
  return g_signal.load();
}

bool Interrupted() {
  return g_signal.load() != 0;
}

Status InterruptedStatus(const std::string& what) {
  int signal = InterruptSignal();
  std::string name = signal == SIGINT    ? "SIGINT"
                     : signal == SIGTERM ? "SIGTERM"
                     : signal == SIGHUP  ? "SIGHUP"
                                         : "a signal";
  return Cancelled("interrupted by " + name + (what.empty() ? "" : ": " + what));
}

}  // namespace zsend::orchestrator
