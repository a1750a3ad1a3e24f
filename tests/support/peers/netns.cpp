// NetnsPair: see netns.h. Every step is one `ip`/`tc` command; the first failing one stops the
// set-up and is reported. The veth pair is created directly inside the two namespaces, so its
// names never appear in (or collide in) the host namespace.
#include "tests/support/peers/netns.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <mutex>
#include <sstream>
#include <thread>

namespace zsend::test {
namespace {

std::atomic<int> pair_counter{0};
std::once_flag sweep_once;

std::string Join(const std::vector<std::string>& argv) {
  std::string s;
  for (const std::string& a : argv) s += (s.empty() ? "" : " ") + a;
  return s;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

// Burst: 4 ms of traffic at the rate (at least 32 KiB) so the token bucket never starves a
// sender between timer ticks; queue: 25 ms, enough that TCP does not lose packets at the cap.
std::vector<std::string> TbfArgs(const std::string& ns, double rate_mbit) {
  double bytes_per_second = rate_mbit * 1e6 / 8;
  long burst = std::max(32768L, static_cast<long>(bytes_per_second * 0.004));
  long bits = static_cast<long>(rate_mbit * 1e6);
  return {"tc",
          "-n",
          ns,
          "qdisc",
          "add",
          "dev",
          "veth0",
          "root",
          "tbf",
          "rate",
          std::to_string(bits) + "bit",
          "burst",
          std::to_string(burst),
          "latency",
          "25ms"};
}

}  // namespace

bool NetnsPair::Available() {
  return geteuid() == 0 && HaveProgram("ip") && Shell("ip netns list").exit_code == 0;
}

int NetnsPair::SweepStale() {
  int removed = 0;
  for (const std::string& line : Lines(Shell("ip netns list").out)) {
    std::string ns = line.substr(0, line.find(' '));  // "NAME (id: 3)"
    if (ns.rfind(kPrefix, 0) != 0) continue;
    long pid = std::strtol(ns.c_str() + std::string(kPrefix).size(), nullptr, 10);
    if (pid <= 0 || (kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)) {
      if (zsend::test::Run({"ip", "netns", "del", ns}).exit_code == 0) ++removed;
    }
  }
  return removed;
}

NetnsPair::NetnsPair(const NetnsPairOptions& options) {
  std::call_once(sweep_once, [] { SweepStale(); });
  int n = pair_counter.fetch_add(1);
  std::string base = std::string(kPrefix) + std::to_string(getpid()) + "-" + std::to_string(n);
  left_ = base + "-l";
  right_ = base + "-r";
  std::string subnet = "10.200." + std::to_string((getpid() + n) % 250 + 1) + ".";
  left_address_ = subnet + "1";
  right_address_ = subnet + "2";
  if (!Step({"ip", "netns", "add", left_})) return;
  created_.push_back(left_);
  if (!Step({"ip", "netns", "add", right_})) return;
  created_.push_back(right_);
  if (!Step({"ip", "link", "add", "veth0", "netns", left_, "type", "veth", "peer", "name", "veth0",
             "netns", right_})) {
    return;
  }
  for (const auto& [ns, addr] : {std::pair{left_, left_address_}, {right_, right_address_}}) {
    if (!Step({"ip", "-n", ns, "addr", "add", addr + "/24", "dev", "veth0"}) ||
        !Step({"ip", "-n", ns, "link", "set", "veth0", "up"}) ||
        !Step({"ip", "-n", ns, "link", "set", "lo", "up"})) {
      return;
    }
    if (options.rate_mbit > 0 && !Step(TbfArgs(ns, options.rate_mbit))) return;
  }
}

NetnsPair::~NetnsPair() {
  for (const std::string& ns : created_) Remove(ns);
}

bool NetnsPair::Step(const std::vector<std::string>& argv) {
  RunResult r = zsend::test::Run(argv);
  if (r.exit_code != 0) {
    error_ = "`" + Join(argv) + "` failed (" + std::to_string(r.exit_code) + "): " + r.err;
  }
  return r.exit_code == 0;
}

void NetnsPair::Remove(const std::string& ns) {
  // Processes left inside would keep the namespace (and its veth end) alive.
  for (const std::string& pid : Lines(zsend::test::Run({"ip", "netns", "pids", ns}).out)) {
    kill(static_cast<pid_t>(std::stol(pid)), SIGKILL);
  }
  RunResult r = zsend::test::Run({"ip", "netns", "del", ns});
  if (r.exit_code != 0)
    std::fprintf(stderr, "netns: cannot delete %s: %s", ns.c_str(), r.err.c_str());
}

std::vector<std::string> NetnsPair::ExecArgv(NetnsSide side,
                                             const std::vector<std::string>& argv) const {
  std::vector<std::string> out{"ip", "netns", "exec", name(side)};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

pid_t NetnsPair::Spawn(NetnsSide side, const std::vector<std::string>& argv,
                       const SpawnOptions& options) const {
  return zsend::test::Spawn(ExecArgv(side, argv), options);
}

RunResult NetnsPair::Run(NetnsSide side, const std::vector<std::string>& argv,
                         const std::string& input) const {
  return zsend::test::Run(ExecArgv(side, argv), input);
}

bool NetnsPair::RunIn(NetnsSide side, const std::function<void()>& fn) const {
  bool joined = false;
  std::thread worker([&] {
    int fd = open(("/run/netns/" + name(side)).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    joined = setns(fd, CLONE_NEWNET) == 0;
    close(fd);
    if (joined) fn();
  });
  worker.join();
  return joined;
}

}  // namespace zsend::test
