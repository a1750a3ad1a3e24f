// The tcp transport's receiver as a child process: started with pipes on all three standard
// streams, in its own process group; its stdout is read line by line while it runs (the announce
// line), its stderr kept for messages.
//
// Its stdin is a pipe this object holds. A receiver started through kStopOnStdinEof is stopped
// when that pipe closes (Abandon), also on a far host (ssh passes the EOF on): a receiver whose
// sender failed, and that would wait for a connection for ever, ends with its caller. The
// destructor abandons, waits kReceiverGraceMs, then stops and reaps a child still running.
// Waiting polls the run's interrupt (run_interrupt.h). One thread uses an object.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/unique_fd.h"
#include "orchestrator/host/process_chain.h"

namespace zsend::orchestrator {

// How long a receiver may take to end by itself once its sender failed, before it is stopped.
inline constexpr int kReceiverGraceMs = 2000;
// How long a far engine may take to print its announce line.
inline constexpr int kAnnounceTimeoutMs = 30000;

// sh -c kStopOnStdinEof sh RECEIVER-ARGV...: runs the receiver and stops it (SIGTERM) when this
// script's stdin reaches EOF. Exits with the receiver's exit code.
inline constexpr char kStopOnStdinEof[] =
    "exec 3<&0; \"$@\" 3<&- & r=$!; { read -r _ <&3; kill $r; } 2>/dev/null & w=$!; "
    "exec 3<&-; wait $r; s=$?; kill $w 2>/dev/null; exit $s";

class AnnouncingChild {
 public:
  AnnouncingChild() = default;
  AnnouncingChild(const AnnouncingChild&) = delete;
  AnnouncingChild& operator=(const AnnouncingChild&) = delete;
  ~AnnouncingChild();

  // `parent_death_signal` 0: the child outlives the thread that started it (a session's far
  // side, started by one --jobs worker and used by all).
  Status Start(const std::vector<std::string>& argv, int parent_death_signal = SIGKILL);
  // Lines of stdout after the first go to `on_line` (without the newline) while the child is
  // waited for (EndsWithin, Wait): the receiver's --progress-fd 1. Set before Start.
  void OnLaterLines(std::function<void(const std::string&)> on_line) {
    on_line_ = std::move(on_line);
  }
  // Closes the child's stdin: a receiver that has not ended yet is stopped.
  void Abandon() { in_.reset(); }
  // Stops the child's process group now (SIGTERM, SIGCONT, then SIGKILL) and reaps it.
  void Stop();
  // True when the child ended within `timeout_ms` (Wait then returns at once).
  bool EndsWithin(int timeout_ms);
  // The first line of stdout; "" when the child ended, `timeout_ms` passed or the run was
  // interrupted first.
  std::string FirstLine(int timeout_ms);
  // Waits for the child (stopping it when the run is interrupted); its exit code and stderr.
  StageResult Wait();

 private:
  void DrainErr();
  void DrainOut();  // after FirstLine: later lines to on_line_

  pid_t pid_ = -1;
  bool ended_ = false;  // reaped
  int status_ = 0;
  UniqueFd in_, out_, err_;
  std::string err_text_;
  bool first_line_read_ = false;
  std::string out_pending_;  // stdout after the first line, not yet a whole line
  std::function<void(const std::string&)> on_line_;
};

}  // namespace zsend::orchestrator
