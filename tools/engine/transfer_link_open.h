// Opening the link of a transfer: listen and accept, connect, run ssh, or use our stdio.
#pragma once

#include <memory>
#include <string>

#include "engine/transfer/child_process.h"
#include "engine/wire/channel.h"
#include "tools/engine/transfer_job.h"
#include "transports/tcp.h"

namespace zsend::tool {

// The ssh command line for --ssh: ssh [-p N] [-o OPT]... HOST 'ENGINE' 'recv' '--stdio' ARGS...
std::vector<std::string> SshCommand(const TransferJob& job);

// Quotes a word for a POSIX shell (the far side of ssh runs our command through one).
std::string ShellQuote(const std::string& word);

// Starts ssh with pipes on both its stdin and stdout; the Channel reads its stdout.
Result<std::unique_ptr<Channel>> StartSsh(const TransferJob& job, pid_t* pid);

}  // namespace zsend::tool
