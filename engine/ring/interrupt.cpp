#include "engine/ring/interrupt.h"

#include <signal.h>

#include <csignal>
#include <cstring>
#include <mutex>

namespace zsend {
namespace {

thread_local volatile sig_atomic_t interrupted = 0;

int InterruptSignal() {
  return SIGRTMIN + 1;
}

void OnInterrupt(int) {
  interrupted = 1;
}

}  // namespace

void InstallInterruptHandler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction action;
    std::memset(&action, 0, sizeof action);
    action.sa_handler = OnInterrupt;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;  // no SA_RESTART: blocked calls return EINTR
    sigaction(InterruptSignal(), &action, nullptr);
  });
}

bool ThisThreadInterrupted() {
  return interrupted != 0;
}
void ClearThisThreadInterrupt() {
  interrupted = 0;
}

void Interrupt(pthread_t thread) {
  pthread_kill(thread, InterruptSignal());
}

}  // namespace zsend
