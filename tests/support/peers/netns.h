// Test support: two network namespaces joined by a veth pair, optionally rate-limited with tbf.
//
// NetnsPair creates namespaces "zsend-t<PID>-<N>-l" and "-r" (PID = this test process), a veth
// pair with one end ("veth0") in each, addresses 10.200.X.1/24 (left) and 10.200.X.2/24 (right)
// with X chosen per pair, and `lo` up in both. With rate_mbit > 0 each veth end gets a root
// `tbf` qdisc at that rate (burst and queue sized so that a TCP stream measures the rate within a
// few percent: tbf counts Ethernet/IP/TCP headers, so TCP payload runs at about 93-95% of it).
// Needs root (ip netns); check Available() with ZSEND_REQUIRE first.
//
// Programs run inside with Spawn()/Run() (`ip netns exec NAME argv...`, same conventions as
// tests/support/subprocess.h). In-process code runs inside with RunIn(): the function runs on a
// helper thread that joined the namespace, and sockets it creates stay in that namespace, so a
// test can listen "on the right host" and connect "from the left host" without child processes.
// Threads started inside fn inherit the namespace, so an object such as FaultProxy built in fn
// (into a std::optional declared outside) keeps serving there after RunIn returns.
//
// Ownership: the object owns both namespaces. The destructor kills every process still inside
// them and deletes them, also when the test failed. The first pair made by a process sweeps
// namespaces with the prefix whose creating process no longer exists (crashed earlier runs).
//
// Thread-safety: construct and destroy on one thread; the const members may be used from any.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "tests/support/subprocess.h"

namespace zsend::test {

enum class NetnsSide { kLeft, kRight };

struct NetnsPairOptions {
  double rate_mbit = 0;  // tbf rate on each veth end in Mbit/s (10^6 bit/s); 0 = unlimited
};

class NetnsPair {
 public:
  explicit NetnsPair(const NetnsPairOptions& options = {});
  ~NetnsPair();
  NetnsPair(const NetnsPair&) = delete;
  NetnsPair& operator=(const NetnsPair&) = delete;

  // False when set-up failed; error() names the failing command and its stderr.
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  const std::string& name(NetnsSide side) const {
    return side == NetnsSide::kLeft ? left_ : right_;
  }
  const std::string& address(NetnsSide side) const {
    return side == NetnsSide::kLeft ? left_address_ : right_address_;
  }
  static std::string device() { return "veth0"; }

  // {"ip", "netns", "exec", name(side), argv...}.
  std::vector<std::string> ExecArgv(NetnsSide side, const std::vector<std::string>& argv) const;
  pid_t Spawn(NetnsSide side, const std::vector<std::string>& argv,
              const SpawnOptions& options = {}) const;
  RunResult Run(NetnsSide side, const std::vector<std::string>& argv,
                const std::string& input = "") const;
  // Runs fn on a thread inside the namespace and waits for it. False if joining it failed.
  bool RunIn(NetnsSide side, const std::function<void()>& fn) const;

  // True when this process may create network namespaces (root and a working `ip netns`).
  static bool Available();
  // Deletes "zsend-t<PID>-..." namespaces whose PID is not a live process; returns how many.
  static int SweepStale();
  static constexpr const char* kPrefix = "zsend-t";

 private:
  bool Step(const std::vector<std::string>& argv);
  void Remove(const std::string& ns);

  std::string error_;
  std::string left_, right_, left_address_, right_address_;
  std::vector<std::string> created_;
};

}  // namespace zsend::test
