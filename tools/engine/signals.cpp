#include "tools/engine/signals.h"

#include <signal.h>

#include <atomic>
#include <cstring>

namespace zsend::tool {
namespace {

std::atomic<int> stop_signal{0};

void OnStop(int sig) {
  stop_signal.store(sig);
}

}  // namespace

void InstallStopSignals() {
  struct sigaction action;
  std::memset(&action, 0, sizeof action);
  action.sa_handler = OnStop;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

int StopSignal() {
  return stop_signal.load();
}

}  // namespace zsend::tool
