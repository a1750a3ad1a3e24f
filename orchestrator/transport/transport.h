// Transports: how one `zfs send` stream gets from the source host into `zfs recv` on the target.
//
//   pipe  zfs send | zsend-engine buffer | zfs recv, each end run through its host's runner
//         (ssh over the run's control connection when remote); the local engine buffers and
//         counts. Needs nothing but zfs (and sshd) on the far hosts.
//   tcp   zsend-engine recv --listen 0 --once --announce on the target, zsend-engine send
//         --connect on the source, a fresh key pair per transfer (encrypted, direct).
//   ssh   zsend-engine send --ssh TARGET: the engine protocol over ssh's stdio.
//   auto  tcp, then ssh when the direct connection fails, then pipe when a host has no
//         zsend-engine with send/recv; each fallback is recorded in StreamResult::fallback.
//   A tcp or auto push or pull with TransportOptions::session_roots goes through one engine
//   session for the whole run (session_mover.h) and falls back to the above per stream.
//
// A StreamMover is made once per run (MakeStreamMover) and shared by the --jobs workers: Move()
// is thread-safe (each call owns its processes and temporary files; probes are cached under a
// mutex). The runners are not owned and must outlive the mover.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <vector>

#include "base/status.h"
#include "orchestrator/host/command_runner.h"
#include "orchestrator/transport/transfer_progress.h"

namespace zsend::orchestrator {

enum class TransportKind { kAuto, kTcp, kSsh, kPipe };

// The default of --timeout: seconds without a byte moving before a transfer is given up.
inline constexpr double kDefaultTransferTimeoutSeconds = 300;
Result<TransportKind> ParseTransportKind(const std::string& text);
const char* TransportKindName(TransportKind kind);

// One stream to move: the argv of both ends, without any host wrapping.
struct StreamCommand {
  std::vector<std::string> send_argv;  // zfs send ... (run on the source)
  std::vector<std::string> recv_argv;  // zfs receive ... (run on the target)
  std::string label;                   // the dataset, for messages
  uint64_t expected_bytes = 0;         // the stream's estimated size, 0 unknown (progress)
};

struct StreamResult {
  Status status;               // OK, or why the stream failed (names the command)
  uint64_t bytes = 0;          // stream bytes moved
  uint64_t wire_bytes = 0;     // bytes on the network (engine frames; the stream for pipes)
  double seconds = 0;          // wall time of the transfer
  std::string transport;       // the transport that moved (or tried to move) it: pipe, tcp, ssh
  std::string fallback;        // "" or what was tried first and why it was left
  std::string failed_command;  // the command line that failed, "" when none did
  std::string failed_stderr;   // its stderr
  // A failed stream whose bytes may (partly) have reached the target. A transport falls back
  // to another only while this is false; after that the executor re-reads the target.
  bool data_moved = false;
  bool in_session = false;  // moved over the run's engine session (session_mover.h)
  bool refused = false;     // the session's serving engine refused the stream (nothing ran)
};

struct TransportOptions {
  TransportKind kind = TransportKind::kAuto;
  std::string local_engine = "zsend-engine";  // the engine program on this machine
  std::string remote_engine;                  // --remote-engine PATH ("" : zsend-engine)
  std::string memory = "256M";                // buffer size of the local engine
  std::string rate_limit;                     // bytes/s limit, "" for none
  std::string codec;                          // engine --codec, "" for its default
  // Not null: each transfer reports to it (transfer_progress.h). Not owned; thread-safe.
  TransferProgress* progress = nullptr;
  bool dry_run = false;                 // print the commands instead of running them
  std::ostream* dry_run_out = nullptr;  // where dry-run lines go (required in dry-run)
  std::string temp_dir;                 // private 0700 directory for stats and keys
  // A transfer in which no byte moved for this long fails (--timeout): the engines' --timeout
  // on both ends, the pipe transport's buffer watchdog (-W).
  double timeout_seconds = kDefaultTransferTimeoutSeconds;
  // Engine sessions (session_mover.h): used for tcp pushes and pulls when set; the datasets the
  // far serve may receive into (a push: the job's TARGET_PATH) or send from (a pull: the
  // planned source datasets' covering roots), and the connections it accepts (--jobs).
  std::vector<std::string> session_roots;
  int connections = 1;
};

class StreamMover {
 public:
  virtual ~StreamMover() = default;
  virtual StreamResult Move(const StreamCommand& command) = 0;
  // Engine sessions this mover started (each: one far process and --jobs connections).
  virtual int sessions_started() const { return 0; }
};

// The engine program on `host`: --remote-engine (default zsend-engine) on a remote host, the
// local engine here. Shared by the engine movers.
std::string EngineProgram(const CommandRunner& host, const TransportOptions& options);
// Seconds as the engine's --timeout takes them (whole, at least 1).
std::string EngineSeconds(double seconds);

// The mover for `options.kind` between the two hosts.
std::unique_ptr<StreamMover> MakeStreamMover(CommandRunner& source, CommandRunner& target,
                                             const TransportOptions& options);

// The pipe transport's stages (exposed for tests and dry-run lines): the source argv, the local
// engine buffer, the target argv, each already wrapped for its host.
Result<std::vector<std::vector<std::string>>> PipeStages(CommandRunner& source,
                                                         CommandRunner& target,
                                                         const StreamCommand& command,
                                                         const TransportOptions& options,
                                                         const std::string& stats_file);

}  // namespace zsend::orchestrator
