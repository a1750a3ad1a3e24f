// TransferJob: one run of `zsend-engine send` or `zsend-engine recv`.
//
// The command files fill the struct; RunTransferJob() loads keys, opens the link (listen,
// connect, ssh or stdio: OpenLink() of transports/link.h) with the handshake over it, starts
// the producer or consumer, runs the transfer, prints messages, progress and --json-stats,
// and returns the exit code.
#pragma once

#include <string>
#include <vector>

#include "engine/crypto/keys.h"
#include "engine/ring/fd_stream.h"
#include "engine/transfer/transfer_sender.h"
#include "engine/wire/session_handshake.h"

namespace zsend::tool {

struct TransferJob {
  bool send = true;
  std::string program;  // "zsend-engine send" / "zsend-engine recv"
  // Stream end: a file (-i/-o), a command (--exec), or stdin/stdout when both are empty.
  std::string file;
  std::string exec;
  // Link: exactly one of listen / connect / ssh_host / stdio (LinkSpecFor() in
  // transfer_link_open.h turns them into the LinkSpec that transports/link.h opens).
  std::string listen, connect, ssh_host;
  bool stdio = false;
  bool once = false;
  bool announce = false;
  // ssh stdio mode (send only)
  std::string ssh_port, remote_engine = "zsend-engine";
  std::vector<std::string> ssh_options, remote_args;
  // Keys
  std::string key_file, peer, authorized_keys_file;
  std::vector<std::string> authorize;
  std::string cipher = "auto";
  bool insecure_plaintext = false;
  std::string codec = "auto";
  // Sender: the dedup window it asks for; receiver: the most it will hold (0: no dedup).
  uint64_t dedup_window = 0;
  TransferOptions transfer;
  FdStreamOptions io;
  bool progress = false, quiet = false;
  std::string json_stats_path;
  int progress_fd = -1;  // --progress-fd: progress lines (engine_contract.h) there, -1 none
  // Sessions (session_job.h): `serve` serves the datasets below these roots (target roots:
  // it receives; source roots: it sends); `session` is the client that asks for streams.
  std::vector<std::string> roots;
  bool session_client = false;  // ssh runs `serve --stdio` on the far host, not send/recv
  int connections = 1;          // serve: connections to accept; session: connections to open
};

int RunTransferJob(const TransferJob& job);

// Shared with the session commands (session_job.cpp).
int ExitCodeFor(TransferFailure failure);
// The handshake's options for `job` with `keys` (unused when `anonymous`: ssh or stdio).
SessionOptions SessionOptionsFor(const TransferJob& job, const LoadedKeys& keys, bool anonymous,
                                 bool initiator);

}  // namespace zsend::tool
