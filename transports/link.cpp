#include "transports/link.h"

#include <cstdio>
#include <thread>
#include <vector>

#include "base/engine_contract.h"
#include "transports/fd_channel.h"
#include "transports/listener_accept.h"
#include "transports/tcp.h"

namespace zsend {
namespace {

Result<Link> Handshake(std::unique_ptr<Channel> channel, bool initiator, const LinkHooks& hooks,
                       LinkFailure* failure) {
  Result<Session> session = hooks.handshake(*channel, initiator, 0);
  if (!session.ok()) {
    *failure = LinkFailure::kHandshake;
    return session.status();
  }
  return Link{std::move(channel), *session, nullptr};
}

Result<Link> OpenSsh(const SshSpec& spec, const LinkHooks& hooks, LinkFailure* failure) {
  Result<SshLink> ssh = StartSsh(spec);
  if (!ssh.ok()) return ssh.status();
  Result<Link> link = Handshake(std::move(ssh->channel), true, hooks, failure);
  if (link.ok()) {
    link->process = std::move(ssh->ssh);
    return link;
  }
  const StatusCode code = link.status().code();
  if (code == StatusCode::kPermissionDenied || code == StatusCode::kUnavailable) {
    // Over ssh a peer that vanished during the handshake is ssh failing (its own message is
    // above on stderr) or no zsend-engine on the far side, not a key problem.
    *failure = LinkFailure::kLink;
    return Unavailable("ssh " + spec.host + ": the far side closed before the handshake " +
                       "ended (ssh failed, or '" + spec.remote_engine + " " + spec.remote_command +
                       " --stdio' could not start there; see ssh's message above)");
  }
  return link.status();  // ssh->ssh ends ssh (SIGTERM, then wait) on the way out
}

Result<TcpListener> StartListener(const LinkSpec& spec, const LinkHooks& hooks) {
  // The accept timeout is the slice in which `stop` is polled (listener_accept.h).
  Result<TcpListener> listener = TcpListener::Listen(spec.address, TcpOptions{0, 0, 0.2});
  if (!listener.ok()) return listener.status();
  if (spec.announce) {
    PrintAnnounceLine(listener->port(), spec.announce_pubkey);
  } else if (!spec.quiet) {
    hooks.say("listening on port " + std::to_string(listener->port()));
  }
  return listener;
}

Result<Link> OpenListener(const LinkSpec& spec, const LinkHooks& hooks, LinkFailure* failure) {
  Result<TcpListener> listener = StartListener(spec, hooks);
  if (!listener.ok()) return listener.status();
  Result<AcceptedPeer> peer = AcceptAuthorized(
      *listener,
      [&](Channel& channel) { return hooks.handshake(channel, false, kHandshakeSeconds); },
      hooks.stop, hooks.say);
  if (!peer.ok()) {
    if (peer.status().code() == StatusCode::kCancelled) *failure = LinkFailure::kStopped;
    return peer.status();
  }
  return Link{std::move(peer->channel), peer->session, nullptr};
}

Result<Link> Open(const LinkSpec& spec, const LinkHooks& hooks, LinkFailure* failure) {
  switch (spec.kind) {
    case LinkKind::kConnect: {
      Result<UniqueFd> fd = TcpConnect(spec.address, TcpOptions{0, 0, spec.timeout_seconds});
      if (!fd.ok()) return fd.status();
      return Handshake(std::make_unique<FdChannel>(std::move(*fd), "tcp " + spec.address), true,
                       hooks, failure);
    }
    case LinkKind::kSsh:
      return OpenSsh(spec.ssh, hooks, failure);
    case LinkKind::kStdio:
      return Handshake(std::make_unique<FdChannel>(UniqueFd(0), UniqueFd(1), "stdio"), false, hooks,
                       failure);
    case LinkKind::kListen:
      return OpenListener(spec, hooks, failure);
  }
  return InvalidArgument("unknown link kind");
}

}  // namespace

void PrintAnnounceLine(int port, const std::string& pubkey) {
  std::printf("%s\n", engine_contract::FormatAnnounceLine(port, pubkey).c_str());
  std::fflush(stdout);
}

void Link::Close(bool failed) {
  channel.reset();
  if (process) process->End(failed);
}

Status ServeLinks(const LinkSpec& spec, const LinkHooks& hooks, int count,
                  const std::function<void(Link)>& serve) {
  Result<TcpListener> listener = StartListener(spec, hooks);
  if (!listener.ok()) return listener.status();
  std::vector<std::thread> served;
  Status status = AcceptAuthorizedPeers(
      *listener,
      [&](Channel& channel) { return hooks.handshake(channel, false, kHandshakeSeconds); },
      hooks.stop, hooks.say, count,
      [&](AcceptedPeer peer) {
        served.emplace_back([&serve, link = Link{std::move(peer.channel), peer.session,
                                                 nullptr}]() mutable { serve(std::move(link)); });
      });
  // No more peers: a client that tries again is refused at once instead of waiting out a
  // handshake nobody answers.
  listener = Unavailable("closed");
  for (std::thread& t : served) t.join();
  return status;
}

Result<Link> OpenLink(const LinkSpec& spec, const LinkHooks& hooks, LinkFailure* failure) {
  LinkFailure ignored;
  if (failure == nullptr) failure = &ignored;
  *failure = LinkFailure::kLink;
  Result<Link> link = Open(spec, hooks, failure);
  if (link.ok()) *failure = LinkFailure::kNone;
  return link;
}

}  // namespace zsend
