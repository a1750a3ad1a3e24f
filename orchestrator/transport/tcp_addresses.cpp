#include "orchestrator/transport/tcp_addresses.h"

#include <sstream>

#include "orchestrator/host/ssh_runner.h"

namespace zsend::orchestrator {
namespace {

// Field `index` of $SSH_CONNECTION on a remote host (0: the ssh client's address, 2: the
// address the host was reached at), in the form --connect takes; "" when unknown.
std::string SshConnectionAddress(CommandRunner& host, size_t index) {
  Result<CommandOutput> env =
      host.Run({{"sh", "-c", "echo $SSH_CONNECTION"}, Effect::kReadOnly, ""});
  if (!env.ok() || !env->ok()) return "";
  std::istringstream fields(env->out);
  std::string field;
  for (size_t i = 0; i <= index; ++i) {
    if (!(fields >> field)) return "";
  }
  return field.find(':') == std::string::npos ? field : "[" + field + "]";
}

}  // namespace

std::string TcpAddresses::TargetHostForSource() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (address_.empty()) address_ = Find();
  return address_;
}

std::string TcpAddresses::ReceiverListenAddress() {
  (void)TargetHostForSource();  // sets bind_
  std::lock_guard<std::mutex> lock(mutex_);
  return bind_.empty() ? "0" : JoinHostPort(bind_, "0");
}

std::string TcpAddresses::Find() {
  if (target_.IsRemote()) {
    // From here, the target is where our ssh session arrived: the address ssh resolved,
    // also for a Host alias of ~/.ssh/config, which the engine could not resolve.
    if (!source_.IsRemote()) {
      std::string reached = SshConnectionAddress(target_, 2);
      if (!reached.empty()) {
        bind_ = reached;  // an address of the target's own: sshd accepted on it
        return reached;
      }
    }
    auto* ssh = dynamic_cast<SshRunner*>(&target_.Unwrapped());
    if (ssh) return HostOfDestination(ssh->options().destination);
    return HostOfDestination(target_.HostLabel());
  }
  if (!source_.IsRemote()) {
    bind_ = "127.0.0.1";
    return "127.0.0.1";
  }
  // The source reaches us at the address its ssh session came from.
  std::string client = SshConnectionAddress(source_, 0);
  return client.empty() ? "127.0.0.1" : client;
}

// A host already in brackets (SshConnectionAddress) keeps them: "[[::1]]:0" was refused by
// --listen (ssh to localhost arriving over ::1).
std::string JoinHostPort(const std::string& host, const std::string& port) {
  const bool bare_v6 = host.find(':') != std::string::npos && host.front() != '[';
  return bare_v6 ? "[" + host + "]:" + port : host + ":" + port;
}

std::string HostOfDestination(const std::string& destination) {
  size_t at = destination.rfind('@');
  return at == std::string::npos ? destination : destination.substr(at + 1);
}

}  // namespace zsend::orchestrator
