// SyslogTee: `--syslog` for the zsend subcommands. While a SyslogTee is alive, every line
// written to std::cout and std::cerr still goes there unchanged and is also handed, whole and
// without its newline, to a line sink: by default syslog(3) (openlog("zsend", LOG_PID,
// LOG_USER)), in tests any function. So the log gets exactly the lines the terminal or cron
// mail shows, in order.
//
// Priorities (SyslogPriority): stdout lines are LOG_INFO, except dataset lines that say
// FAILED or "error:" (LOG_ERR); stderr lines that are zsend's one-line errors ("zsend CMD: ...")
// are LOG_ERR, other stderr lines (progress notes, fallbacks) LOG_NOTICE.
//
// The tee replaces the streams' buffers and puts the old ones back in its destructor. A line
// still unfinished at destruction is flushed to the sink. Child processes writing to the same
// file descriptors are not seen (their output is theirs, not zsend's).
//
// Thread-safety: each stream's lines are assembled under a mutex, so threads writing whole
// lines through std::cout/std::cerr do not interleave within a line. Make and destroy it on
// the main thread.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <ostream>
#include <streambuf>
#include <string>

namespace zsend::orchestrator {

using LineSink = std::function<void(int priority, const std::string& line)>;

int SyslogPriority(bool from_stderr, const std::string& line);

// A sink writing to syslog(3) under the ident "zsend", facility LOG_USER.
LineSink SystemSyslogSink();

class SyslogTee {
 public:
  // Tees std::cout and std::cerr into `sink` (SystemSyslogSink() when empty).
  explicit SyslogTee(LineSink sink = {});
  // Tees the given streams (for tests).
  SyslogTee(std::ostream& out, std::ostream& err, LineSink sink);
  ~SyslogTee();
  SyslogTee(const SyslogTee&) = delete;
  SyslogTee& operator=(const SyslogTee&) = delete;

 private:
  class Buffer;
  std::ostream& out_;
  std::ostream& err_;
  std::unique_ptr<Buffer> out_buffer_;
  std::unique_ptr<Buffer> err_buffer_;
};

}  // namespace zsend::orchestrator
