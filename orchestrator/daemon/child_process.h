// Child processes of the daemon: started in their own process group with default signal
// handling, stdout joined to the daemon's stderr; reaped without blocking; signals to the child
// or its whole group. A self-pipe carries SIGTERM, SIGINT, SIGHUP and SIGCHLD to the loop.
//
// Thread-safety: call from the daemon's main thread.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

namespace zsend::orchestrator {

// Installs the daemon's handlers; returns the read end of the self-pipe (one byte per signal,
// the signal number), or -1 on failure.
int InstallDaemonSignals();

// fork + exec of argv (argv[0] looked up on PATH) with extra environment variables; -1 on failure.
pid_t SpawnChild(const std::vector<std::string>& argv,
                 const std::vector<std::pair<std::string, std::string>>& env);

// One ended child: pid and wait status; pid 0 when none has ended.
std::pair<pid_t, int> ReapChild();

}  // namespace zsend::orchestrator
