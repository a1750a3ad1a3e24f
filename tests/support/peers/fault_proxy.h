// Test support: an in-process TCP proxy that injects network faults between two real peers.
//
// FaultProxy listens on 127.0.0.1:0 and forwards every accepted connection to target host:port,
// both directions. Byte offsets below count from the start of one direction of one connection
// (each connection gets the same faults). Faults, all optional:
//   - flip:  XOR 0xFF into the byte at `flip_offset` of `flip_direction`;
//   - cut:   after `cut_after` bytes of `cut_direction` were forwarded, close both sides; with
//            `cut_with_reset` the closes send RST (SO_LINGER 0; data not yet delivered to the
//            peer may then be dropped by the kernel), otherwise FIN (a peer still sending at
//            that moment may see a reset on its next write);
//   - stall: after `stall_after` bytes of `stall_direction`, forward nothing more in either
//            direction (reads stop too, so the peers' buffers fill) until Release().
// A peer that resets is passed on as a reset to the other peer; an EOF as a half-close. When
// the target refuses, the client is reset.
//
// Ownership and threads: one accept thread plus one thread per connection, all owned by the
// proxy; the destructor stops them and closes every socket. All public members are thread-safe.
//
//   FaultProxy proxy("127.0.0.1", server_port, {.cut_after = 4096});
//   ASSERT_TRUE(proxy.ok()) << proxy.error();
//   ... connect the client to 127.0.0.1:proxy.port() ...
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace zsend::test {

enum class ProxyDirection { kClientToServer = 0, kServerToClient = 1 };

struct FaultPlan {
  std::optional<uint64_t> flip_offset = std::nullopt;
  ProxyDirection flip_direction = ProxyDirection::kClientToServer;
  std::optional<uint64_t> cut_after = std::nullopt;
  ProxyDirection cut_direction = ProxyDirection::kClientToServer;
  bool cut_with_reset = false;
  std::optional<uint64_t> stall_after = std::nullopt;
  ProxyDirection stall_direction = ProxyDirection::kClientToServer;
};

class FaultProxy {
 public:
  FaultProxy(std::string target_host, int target_port, FaultPlan plan = {});
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  int port() const { return port_; }  // where clients connect (127.0.0.1)

  // Bytes forwarded (written to the far peer) in one direction, summed over connections.
  uint64_t bytes(ProxyDirection direction) const;
  int connections_accepted() const { return accepted_.load(); }
  int cuts() const { return cuts_.load(); }  // connections cut by the plan

  // Waits until some connection reached the stall point; false on timeout.
  bool WaitStalled(std::chrono::milliseconds timeout);
  // Waits until bytes(direction) >= n; false on timeout.
  bool WaitForBytes(ProxyDirection direction, uint64_t n, std::chrono::milliseconds timeout);
  // Ends every stall for good: stalled connections go on, later ones never stall.
  void Release();

 private:
  struct Connection;
  void AcceptLoop();
  void Serve(Connection* c);
  void Wake();  // interrupts every poll() so threads re-check released_/stopping_

  const std::string target_host_;
  const int target_port_;
  const FaultPlan plan_;
  std::string error_;
  int port_ = 0;
  int listen_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> released_{false};
  std::atomic<int> accepted_{0};
  std::atomic<int> cuts_{0};
  std::atomic<uint64_t> bytes_[2] = {0, 0};

  mutable std::mutex mu_;
  std::condition_variable changed_;  // signalled when bytes_ or stalled_ change
  bool stalled_ = false;             // guarded by mu_
  std::vector<std::unique_ptr<Connection>> connections_;  // guarded by mu_
  int wake_fd_ = -1;                                      // eventfd; the accept thread polls it too
  std::thread accept_thread_;
};

}  // namespace zsend::test
