// The daemon's Unix socket, STATE_DIR/daemon.sock (mode 0600: only its owner, root on a real
// host, may read the table or start jobs). One request line per connection, one answer (JSON),
// then the daemon closes it:
//   "list"       -> {"jobs": [...]}  (job_table.h)
//   "run JOB"    -> {"ok": "JOB queued"} or {"error": "..."}
//
// Thread-safety: functions only; each call uses its own descriptors.
#pragma once

#include <string>

#include "base/status.h"

namespace zsend::orchestrator {

std::string DaemonSocketPath(const std::string& state_dir);

// Binds and listens (non-blocking, close-on-exec), replacing a stale socket file; mode 0600.
Result<int> ListenDaemonSocket(const std::string& state_dir);
// Reads one request line from an accepted connection (waits at most `seconds`).
Result<std::string> ReadRequest(int fd, double seconds);
void WriteAnswer(int fd, const std::string& answer);

// The client side: sends `request`, returns the answer. kUnavailable when no daemon listens.
Result<std::string> AskDaemon(const std::string& state_dir, const std::string& request);

}  // namespace zsend::orchestrator
