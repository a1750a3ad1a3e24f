#include "tests/support/engine_cli.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "engine/ring/digest.h"

namespace zsend::test {

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "zsend-cli-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) std::abort();
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string DigestHex(const std::string& algorithm, const std::string& data) {
  Result<std::unique_ptr<Digest>> digest = Digest::Create(algorithm);
  if (!digest.ok()) return "no digest " + algorithm;
  (*digest)->Update(data.data(), data.size());
  return (*digest)->FinishHex();
}

PatternStream::PatternStream(uint64_t seed) : doubled_(2 * kPeriod) {
  uint64_t state = seed;
  for (size_t i = 0; i < kPeriod; ++i) {
    // splitmix64: cheap, well mixed, deterministic.
    state += 0x9e3779b97f4a7c15ull;
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    doubled_[i] = doubled_[i + kPeriod] = static_cast<std::byte>(z >> 56);
  }
}

void PatternStream::Fill(uint64_t offset, std::byte* out, size_t len) const {
  while (len > 0) {
    const size_t pos = static_cast<size_t>(offset % kPeriod);
    const size_t n = std::min(len, kPeriod);
    std::memcpy(out, doubled_.data() + pos, n);
    out += n;
    offset += n;
    len -= n;
  }
}

bool PatternStream::Matches(uint64_t offset, const std::byte* data, size_t len) const {
  while (len > 0) {
    const size_t pos = static_cast<size_t>(offset % kPeriod);
    const size_t n = std::min(len, kPeriod);
    if (std::memcmp(data, doubled_.data() + pos, n) != 0) return false;
    data += n;
    offset += n;
    len -= n;
  }
  return true;
}

std::string PatternStream::Prefix(size_t len) const {
  std::string s(len, '\0');
  Fill(0, reinterpret_cast<std::byte*>(s.data()), len);
  return s;
}

uint64_t FeedPattern(int fd, const PatternStream& pattern, uint64_t total, Digest* digest) {
  signal(SIGPIPE, SIG_IGN);
  constexpr size_t kChunk = 1 << 20;
  std::vector<std::byte> buf(kChunk);
  uint64_t sent = 0;
  while (sent < total) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, total - sent));
    pattern.Fill(sent, buf.data(), n);
    size_t off = 0;
    while (off < n) {
      ssize_t w = write(fd, buf.data() + off, n - off);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        close(fd);
        return sent + off;
      }
      if (digest != nullptr) digest->Update(buf.data() + off, static_cast<size_t>(w));
      off += static_cast<size_t>(w);
    }
    sent += n;
  }
  close(fd);
  return sent;
}

DrainResult DrainAndCheck(int fd, const PatternStream& pattern) {
  DrainResult r;
  std::vector<std::byte> buf(1 << 20);
  for (;;) {
    ssize_t n = read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (r.matched && !pattern.Matches(r.bytes, buf.data(), static_cast<size_t>(n))) {
      r.matched = false;
      r.first_mismatch = r.bytes;
    }
    r.bytes += static_cast<uint64_t>(n);
  }
  close(fd);
  return r;
}

RunResult WaitWithin(pid_t pid, double seconds, bool* timed_out) {
  *timed_out = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  RunResult r;
  int status = 0;
  rusage usage{};
  for (;;) {
    pid_t got = wait4(pid, &status, WNOHANG, &usage);
    if (got == pid) break;
    if (got < 0 && errno != EINTR) return r;
    if (std::chrono::steady_clock::now() > deadline && !*timed_out) {
      *timed_out = true;
      kill(pid, SIGKILL);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.exit_code = 128 + WTERMSIG(status);
  r.max_rss_kib = usage.ru_maxrss;
  return r;
}

bool CatchesSignal(pid_t pid, int signal_number) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("SigCgt:", 0) != 0) continue;
    const uint64_t mask = std::strtoull(line.c_str() + 7, nullptr, 16);
    return (mask >> (signal_number - 1)) & 1;
  }
  return false;
}

std::string EnginePath() {
  return BinPath("zsend-engine");
}

RunResult RunEngine(const std::vector<std::string>& args, const std::string& input) {
  std::vector<std::string> argv = {EnginePath()};
  argv.insert(argv.end(), args.begin(), args.end());
  return Run(argv, input);
}

EngineChild::EngineChild(const std::vector<std::string>& args, Pipes pipes,
                         const std::vector<std::string>& prefix)
    : stderr_path_(dir_.File("stderr")) {
  std::vector<std::string> argv = prefix;
  argv.push_back(EnginePath());
  argv.insert(argv.end(), args.begin(), args.end());
  SpawnOptions spawn;
  int in[2] = {-1, -1}, out[2] = {-1, -1};
  if ((pipes & kPipeIn) != 0 && pipe2(in, O_CLOEXEC) != 0) std::abort();
  if ((pipes & kPipeOut) != 0 && pipe2(out, O_CLOEXEC) != 0) std::abort();
  spawn.stdin_fd = in[0];
  spawn.stdout_fd = out[1];
  spawn.stderr_fd = open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  pid_ = Spawn(argv, spawn);
  close(spawn.stderr_fd);
  if (in[0] >= 0) close(in[0]);
  if (out[1] >= 0) close(out[1]);
  in_fd = in[1];
  out_fd = out[0];
}

EngineChild::~EngineChild() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

RunResult EngineChild::Wait(double seconds, bool* timed_out) {
  RunResult r = WaitWithin(pid_, seconds, timed_out);
  pid_ = -1;
  r.err = ReadFile(stderr_path_);
  return r;
}

}  // namespace zsend::test
