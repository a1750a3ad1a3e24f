// Test support for end-to-end tests of the zsend-engine program run as a real process.
//
// TempDir: a scratch directory removed with everything in it when the object dies.
// PatternStream: a deterministic byte stream of any length, generated and checked at memcpy
//   speed, that never needs to be stored: byte i is a function of i alone, with a period that is
//   no multiple of any block size, so lost, repeated or reordered blocks are caught.
// EngineChild: zsend-engine started with pipes the test holds on both ends (or files), stderr
//   captured in a file, and a deadline on the wait so a hanging program fails instead of hanging.
//
// Everything here is for one test thread, except that PatternStream is immutable after
// construction and EngineChild's fds may be used from helper threads the test starts.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/ring/digest.h"
#include "tests/support/files.h"
#include "tests/support/subprocess.h"

namespace zsend::test {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // path()/name
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Lowercase hex digests via the engine's Digest (OpenSSL): sha256, sha512, blake2b.
std::string DigestHex(const std::string& algorithm, const std::string& data);

class PatternStream {
 public:
  explicit PatternStream(uint64_t seed);
  // Copies bytes [offset, offset + len) of the stream into out.
  void Fill(uint64_t offset, std::byte* out, size_t len) const;
  // True when data equals bytes [offset, offset + len) of the stream.
  bool Matches(uint64_t offset, const std::byte* data, size_t len) const;
  // The first `len` bytes as a string (for small inputs).
  std::string Prefix(size_t len) const;

 private:
  static constexpr size_t kPeriod = 1000003;  // prime: never a multiple of a block size
  std::vector<std::byte> doubled_;            // two periods back to back
};

// Feeds `total` bytes of `pattern` into fd (then closes it) and returns the bytes written; stops
// early when the reader goes away. Updates `digest` (if any) with the bytes written.
uint64_t FeedPattern(int fd, const PatternStream& pattern, uint64_t total,
                     Digest* digest = nullptr);

// The result of draining and checking a stream.
struct DrainResult {
  uint64_t bytes = 0;
  bool matched = true;          // every byte equal to the pattern so far
  uint64_t first_mismatch = 0;  // offset of the first difference, when !matched
};
// Reads fd to its end, comparing against `pattern`; closes fd.
DrainResult DrainAndCheck(int fd, const PatternStream& pattern);

// Waits for pid at most `seconds`; past that the child is killed with SIGKILL and *timed_out set.
RunResult WaitWithin(pid_t pid, double seconds, bool* timed_out);

// True once pid has a handler installed for `signal` (SigCgt in /proc/PID/status).
bool CatchesSignal(pid_t pid, int signal);

// zsend-engine started asynchronously. With pipe_stdin/pipe_stdout the test holds the other
// ends (in_fd/out_fd, -1 otherwise; the test owns and closes them); stderr goes to a file.
class EngineChild {
 public:
  // Which standard streams are pipes the test holds.
  enum Pipes { kNoPipes = 0, kPipeIn = 1, kPipeOut = 2, kPipeBoth = 3 };
  // `prefix` runs first and execs the engine (prlimit ..., zsend-no-uring).
  EngineChild(const std::vector<std::string>& args, Pipes pipes,
              const std::vector<std::string>& prefix = {});
  ~EngineChild();  // kills a child that was never waited for
  EngineChild(const EngineChild&) = delete;
  EngineChild& operator=(const EngineChild&) = delete;

  pid_t pid() const { return pid_; }
  int in_fd = -1;
  int out_fd = -1;
  // Waits (killing the child after `seconds`); fills err from the stderr file.
  RunResult Wait(double seconds, bool* timed_out);

 private:
  TempDir dir_;
  std::string stderr_path_;
  pid_t pid_ = -1;
};

// "zsend-engine" in build/bin.
std::string EnginePath();
// Runs zsend-engine with `args` to completion, `input` on stdin, capturing output.
RunResult RunEngine(const std::vector<std::string>& args, const std::string& input = "");

}  // namespace zsend::test
