// The ssh stdio link: `ssh HOST 'ENGINE' recv|send --stdio ARGS...`, the session running over
// ssh's stdin and stdout. ssh authenticates and encrypts, so the zsend handshake over it is
// anonymous (docs/protocol.md). ssh runs as our child (base/subprocess.h: clean signal state,
// no inherited descriptors, killed when we die); LinkProcess reaps it.
//
// Thread-safety: one thread per object.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "engine/wire/channel.h"

namespace zsend {

struct SshSpec {
  std::string host;                  // the destination; never starts with '-'
  std::string port;                  // ssh -p; empty: ssh's default
  std::vector<std::string> options;  // ssh -o, each
  std::string remote_engine = "zsend-engine";
  std::string remote_command;            // "recv" or "send": what the far engine runs
  std::vector<std::string> remote_args;  // the far side's options, after --stdio
};

// A child process that carries a link (ssh). The destructor ends it as End(true) would.
class LinkProcess {
 public:
  explicit LinkProcess(pid_t pid) : pid_(pid) {}
  LinkProcess(const LinkProcess&) = delete;
  LinkProcess& operator=(const LinkProcess&) = delete;
  ~LinkProcess() { End(true); }
  // Waits for the process to exit, after a SIGTERM when `stop`. Idempotent.
  void End(bool stop);

 private:
  pid_t pid_;
};

// The ssh command line: ssh -e none -o BatchMode=yes [-p N] [-o OPT]... -- HOST 'ENGINE CMD
// --stdio ARGS...' (the remote command quoted word by word for the far shell).
std::vector<std::string> SshCommand(const SshSpec& spec);

struct SshLink {
  std::unique_ptr<Channel> channel;  // reads ssh's stdout, writes its stdin
  std::unique_ptr<LinkProcess> ssh;
};

// Starts ssh with pipes on both its stdin and stdout. kUnavailable when ssh cannot run.
Result<SshLink> StartSsh(const SshSpec& spec);

}  // namespace zsend
