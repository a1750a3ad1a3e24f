// Waking a thread that is blocked in a system call.
//
// A stage thread blocked in read() or write() on a pipe cannot be woken by closing the fd. The
// engine instead sends the thread a real-time signal whose handler only sets a thread-local
// flag; the handler is installed without SA_RESTART, so the blocked call returns EINTR and the
// I/O loop sees ThisThreadInterrupted(). Interrupt() may arrive just before a blocking call
// starts, so callers repeat it until the thread has finished (see StageThread).
//
// The handler is installed once per process (the only process-wide state the engine touches).
#pragma once

#include <pthread.h>

namespace zsend {

// Installs the signal handler (idempotent, thread-safe).
void InstallInterruptHandler();
// True once Interrupt() reached the calling thread since its last ClearThisThreadInterrupt().
bool ThisThreadInterrupted();
void ClearThisThreadInterrupt();
// Sends the interrupt signal to `thread`.
void Interrupt(pthread_t thread);

}  // namespace zsend
