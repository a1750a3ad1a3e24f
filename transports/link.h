// Links: how the two engines of a session reach each other. A LinkSpec value says which link
// and with what; OpenLink() opens it, runs the session handshake over it (given by the caller,
// so transports/ need not know the session's options) and hands back a Channel
// (engine/wire/channel.h) with the agreed Session.
//
//   kConnect  TCP to "host:port"; we start the handshake.
//   kListen   TCP on "[host:]port": says (or, with `announce`, prints a JSON line on stdout)
//             which port, then accepts until one peer completes the handshake
//             (listener_accept.h: garbage, wrong keys and idle peers are logged and waited out).
//   kSsh      ssh to a host running the far engine with --stdio (ssh_link.h); we start.
//   kStdio    our own stdin and stdout (we are that far engine); the peer starts.
//
// A new kind of link is a new LinkKind, a file in transports/ that opens it, and one case in
// OpenLink(); the program that chooses it fills the LinkSpec (tools/engine/transfer_link_open.cpp).
//
// Thread-safety: OpenLink runs in the caller's thread (a listener's handshakes on threads of
// its own, joined before it returns).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "engine/wire/channel.h"
#include "engine/wire/session_handshake.h"
#include "transports/ssh_link.h"

namespace zsend {

enum class LinkKind { kConnect, kListen, kSsh, kStdio };

struct LinkSpec {
  LinkKind kind = LinkKind::kStdio;
  std::string address;          // kConnect: "host:port"; kListen: "[host:]port"
  SshSpec ssh;                  // kSsh
  double timeout_seconds = 0;   // kConnect: how long connecting may take (0: no limit)
  bool announce = false;        // kListen: print the listening line for a program to read
  std::string announce_pubkey;  // kListen with announce: our public key, in text form
  bool quiet = false;           // kListen: do not say the port on stderr
};

struct LinkHooks {
  // Runs the session handshake on a fresh channel: `initiator` when we speak first,
  // `max_seconds` caps its timeout (a listener's handshakes get kHandshakeSeconds), 0: none.
  std::function<Result<Session>(Channel& channel, bool initiator, double max_seconds)> handshake;
  std::function<bool()> stop;                   // polled while a listener waits
  std::function<void(const std::string&)> say;  // a line for stderr (the program prefixes it)
};

// Where OpenLink failed, so the program can tell a network failure from a refused handshake.
enum class LinkFailure {
  kNone,
  kLink,       // the link could not be opened or died before the handshake ended
  kHandshake,  // the handshake failed; its status says why (authentication, usage, ...)
  kStopped,    // `stop` said so while a listener waited
};

struct Link {
  std::unique_ptr<Channel> channel;
  Session session;
  std::unique_ptr<LinkProcess> process;  // the process carrying the link (ssh), or null

  // Closes the channel, then waits for the link's process to exit, after a SIGTERM when
  // `failed` (a failed transfer does not wait for ssh to notice).
  void Close(bool failed);
};

// The listening line of --announce on stdout, flushed:
// {"event":"listening","port":PORT,"pubkey":"zsend1:..."}.
void PrintAnnounceLine(int port, const std::string& pubkey);

// Opens the link `spec` names and runs the handshake over it. On failure `*failure` (when not
// null) says where; every resource opened so far is released.
Result<Link> OpenLink(const LinkSpec& spec, const LinkHooks& hooks, LinkFailure* failure);

// A session server's kListen (`zsend-engine serve`): listens once, then accepts `count`
// authorized peers one after another as OpenLink's listener does, handing each link to
// `serve` on a thread of its own while it waits for the next. Returns once every link it
// accepted has been served: OK after `count`, kCancelled when `stop` said so first, or the
// listener's error.
Status ServeLinks(const LinkSpec& spec, const LinkHooks& hooks, int count,
                  const std::function<void(Link)>& serve);

}  // namespace zsend
