// RunInterrupt: SIGINT, SIGTERM and SIGHUP stop a `zsend` run in an orderly way.
//
// InstallRunInterruptHandlers() installs a handler that only records the signal and writes one
// byte to a self-pipe (no other work in the handler). The pipe is never drained: once a signal
// arrived, InterruptFd() stays readable, so every thread waiting on a child (LocalRunner,
// RunProcessChain, the engine transports) polls it beside its own descriptors and wakes at
// once, stops its process group, and returns a kCancelled status. The run then records its
// datasets as interrupted, removes its temporary files and keys, and only then releases its
// lock (tools/zsend/backup_command.cpp). A second signal changes nothing: the cleanup already
// runs with deadlines.
//
// Thread-safety: all functions may be called from any thread; install once, before threads.
#pragma once

#include <string>

#include "base/status.h"

namespace zsend::orchestrator {

void InstallRunInterruptHandlers();
// The descriptor that becomes readable when a signal arrived; -1 before installation.
int InterruptFd();
// The signal that interrupted the run, 0 when none did.
int InterruptSignal();
bool Interrupted();
// kCancelled "interrupted by SIGTERM: <what>".
Status InterruptedStatus(const std::string& what);

}  // namespace zsend::orchestrator
