// Test support: small TCP helpers for tests that talk to real network peers (mbuffer).
//
// FreePort() asks the kernel for a port that is free now (bind to port 0, then close); a peer
// started right after can take it. WaitListening() watches /proc/net/tcp{,6} instead of
// connecting, because a probe connection would be taken as the peer's one input stream.
// Functions only; no shared state.
#pragma once

#include <string>

#include "tests/support/files.h"

namespace zsend::test {

// A TCP port with nobody bound to it right now (any address).
int FreePort();

// Waits up to `seconds` until some socket listens on `port`; true when one does.
bool WaitListening(int port, double seconds);

// Connects to 127.0.0.1:port from the local address `from` ("127.0.0.2" ...), retrying for up
// to `seconds` while the connection is refused. Returns the socket or -1.
int ConnectFrom(const std::string& from, int port, double seconds);

// Sends all of `data` on socket fd (no SIGPIPE); false on error.
bool SendAll(int fd, const std::string& data);

// A deterministic pseudo-random string of `size` bytes (incompressible enough for streams).
std::string PatternBytes(size_t size, unsigned seed);

}  // namespace zsend::test
