// Where the tcp transport's sender connects and its receiver listens, worked out once per run
// from the two hosts' runners (and, for ssh hosts, $SSH_CONNECTION on the far side):
//   push (local source, remote target): the address the run's ssh session reached on the
//     target, which is also an address of the target's own, so the receiver binds to it;
//   pull (remote source, local target): the address the source's ssh session came from;
//     the receiver listens on every interface;
//   both local: 127.0.0.1, bound to it;
//   remote to remote: the --ssh-target host as the source resolves it.
// Thread-safe: the answer is cached under a mutex.
#pragma once

#include <mutex>
#include <string>

#include "orchestrator/host/command_runner.h"

namespace zsend::orchestrator {

class TcpAddresses {
 public:
  // The runners are not owned and must outlive this object.
  TcpAddresses(CommandRunner& source, CommandRunner& target) : source_(source), target_(target) {}

  // The host the source connects to (without the port).
  std::string TargetHostForSource();
  // The receiver's --listen: the sender's address for the target with port 0 when it is known
  // to be the target's own (so the one-shot port is not offered on every interface), else "0".
  std::string ReceiverListenAddress();

 private:
  std::string Find();  // sets bind_

  CommandRunner& source_;
  CommandRunner& target_;
  std::mutex mutex_;
  std::string address_;  // guarded by mutex_; "" until found
  std::string bind_;     // guarded by mutex_; "" : all interfaces
};

// "[v6]:port" or "v4:port".
std::string JoinHostPort(const std::string& host, const std::string& port);

// The HOST of a [user@]host destination.
std::string HostOfDestination(const std::string& destination);

}  // namespace zsend::orchestrator
