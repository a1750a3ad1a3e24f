// ChildProcess: a producer (`zfs send ...`) or consumer (`zfs recv ...`) run by the engine.
//
// A command line given as text is split by ShellSplit (base/shell_words.h): like a POSIX shell
// splits words, but no shell runs (no globbing, no variables, no pipes). The child's stdout
// (producer) or stdin (consumer) is a pipe to us; its stderr is read by a thread that passes each
// line on to our stderr and keeps the last few KiB, so error messages can quote it. Kill() sends
// SIGTERM (used on abort: a `zfs recv` that sees SIGTERM aborts instead of committing). The
// destructor kills a child still running and reaps it.
//
// ChildSource and ChildSink adapt a child to the pipeline's ByteSource/ByteSink: the source
// reports the end of the stream only once the child has exited 0; the sink's Finish() closes
// the child's stdin and fails unless it exits 0.
//
// Thread-safety: Kill() and stderr_tail() may be called from any thread; the rest from one.
#pragma once

#include <sys/types.h>

#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "base/unique_fd.h"
#include "engine/ring/byte_stream.h"

namespace zsend {

class ChildProcess {
 public:
  enum class Pipe { kStdout, kStdin };
  // Starts argv[0] (looked up on PATH) with a pipe on `pipe`. A producer's stdin and a
  // consumer's stdout are /dev/null; stderr goes to the tail (and our stderr with `echo`).
  static Result<std::unique_ptr<ChildProcess>> Start(const std::vector<std::string>& argv,
                                                     Pipe pipe, bool echo_stderr);
  ~ChildProcess();

  int pipe_fd() const { return pipe_.get(); }
  void ClosePipe() { pipe_.reset(); }
  // SIGTERM once, if still running.
  void Kill();
  // Waits for the exit; returns 0..255 or 128 + signal. Idempotent.
  int Wait();
  bool waited() const { return waited_; }
  // The last lines the child wrote to stderr (at most 4 KiB), trailing newline removed.
  std::string stderr_tail() const;
  // "'zfs send pool@snap'" for messages.
  const std::string& display() const { return display_; }

 private:
  ChildProcess() = default;
  void DrainStderr(int fd, bool echo);

  pid_t pid_ = -1;
  UniqueFd pipe_;
  std::string display_;
  std::thread stderr_thread_;
  mutable std::mutex mu_;
  std::string tail_;  // guarded by mu_
  bool waited_ = false;
  bool killed_ = false;  // guarded by mu_
  int exit_code_ = -1;
};

// "exited with 1: <stderr tail>" / "was killed by signal 15".
std::string DescribeExit(int exit_code, const std::string& stderr_tail);

class ChildSource : public ByteSource {
 public:
  explicit ChildSource(std::unique_ptr<ChildProcess> child) : child_(std::move(child)) {}
  Result<size_t> Read(std::byte* buf, size_t len) override;
  std::string Describe() const override { return "producer " + child_->display(); }
  ChildProcess& child() { return *child_; }

 private:
  std::unique_ptr<ChildProcess> child_;
};

class ChildSink : public ByteSink {
 public:
  explicit ChildSink(std::unique_ptr<ChildProcess> child) : child_(std::move(child)) {}
  Status Write(const std::byte* buf, size_t len) override;
  Status Finish() override;
  std::string Describe() const override { return "consumer " + child_->display(); }
  ChildProcess& child() { return *child_; }

 private:
  std::unique_ptr<ChildProcess> child_;
};

}  // namespace zsend
