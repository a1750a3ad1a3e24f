// Plain TCP endpoints: listen-and-accept once, or connect. The sockets carry mbuffer's raw
// stream (-I/-O) or, with the framing layer on top, zsend's own protocol.
//
// Addresses are "[host:]port" for listening and "host:port" for connecting; IPv6 literals go in
// brackets ("[::1]:9000"). Blocking calls; one thread.
#pragma once

#include <string>

#include "base/status.h"
#include "base/unique_fd.h"

namespace zsend {

struct TcpOptions {
  int family = 0;              // AF_INET, AF_INET6 or 0 (AF_UNSPEC)
  int buffer_bytes = 0;        // SO_SNDBUF / SO_RCVBUF; 0 leaves the kernel's autotuning alone
  double timeout_seconds = 0;  // connect/accept timeout, 0 = none
};

struct HostPort {
  std::string host;  // empty: any address (listen only)
  std::string port;
};

// Splits "host:port", "[v6]:port" or (when `port_only_ok`) "port".
Result<HostPort> ParseHostPort(const std::string& text, bool port_only_ok);

class TcpListener {
 public:
  // Binds and listens on `address` ("[host:]port"; port 0 picks a free port).
  static Result<TcpListener> Listen(const std::string& address, const TcpOptions& options);
  int port() const { return port_; }
  // Waits for one connection. When `allowed_host` is set, connections from other addresses
  // are refused (closed) and waiting goes on, as mbuffer -I host:port does. When `wake_fd`
  // (>= 0) becomes readable first, the wait ends early with kDeadlineExceeded as a timeout
  // does; the caller drains it.
  Result<UniqueFd> Accept(const std::string& allowed_host = "", int wake_fd = -1);

 private:
  UniqueFd fd_;
  int port_ = 0;
  TcpOptions options_;
};

// Connects to "host:port", trying each resolved address in turn.
Result<UniqueFd> TcpConnect(const std::string& address, const TcpOptions& options);

}  // namespace zsend
