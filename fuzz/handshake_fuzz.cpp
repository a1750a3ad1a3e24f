// libFuzzer target: the responder's side of the session handshake reading hostile bytes (the
// preamble, the length-prefixed Noise message 1, anything after). The peer's bytes come from
// the fuzz input through a socketpair; the handshake must fail cleanly, never crash or hang.
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>

#include "engine/wire/session_handshake.h"
#include "transports/fd_channel.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace zsend;
  if (size > 60000) return 0;  // stays within one socket buffer: no writer thread needed
  static const noise::KeyPair kResponder = noise::KeyPair::Generate();
  static AuthorizedKeys authorized;
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) return 0;
  int big = 1 << 20;
  setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  setsockopt(fds[1], SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  if (size > 0 && write(fds[0], data, size) != static_cast<ssize_t>(size)) {
    close(fds[0]);
    close(fds[1]);
    return 0;
  }
  shutdown(fds[0], SHUT_WR);
  FdChannel channel(UniqueFd(fds[1]), "fuzz");
  SessionOptions options;
  options.initiator = false;
  options.we_send = false;
  options.anonymous = (size % 2) == 1;
  options.local_static = kResponder;
  options.authorized = &authorized;
  options.ciphers = AutoCiphers(true);
  options.timeout_seconds = 1;
  Result<Session> session = RunHandshake(channel, options);
  (void)session;
  close(fds[0]);
  return 0;
}
