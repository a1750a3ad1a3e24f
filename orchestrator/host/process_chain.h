// ProcessChain: runs a shell-less pipeline of local programs, `a | b | c`, for moving streams.
//
// Each stage is an argv run with fork/exec (a remote stage is an ssh argv from
// CommandRunner::StreamArgv). Stage i's stdout feeds stage i+1's stdin through a pipe; the first
// stage reads /dev/null, the last one's stdout is captured like every stage's stderr (up to
// 64 KiB each, the rest dropped), so a failing `zfs recv` can be reported with its own words.
// A stage may instead leave stderr on the caller's terminal, and may get a pipe as descriptor 3
// whose lines the caller sees as they come (the engine's --progress-fd 3).
//
// All stages run in one process group (base::Spawn: parent-death signal, clean signal state, no
// inherited descriptors). When a stage fails the others see EOF or EPIPE and end on their own;
// one that has not ended kChainGraceMs later (stopped, or waiting on a far host that hangs) is
// stopped with the group (SIGTERM, SIGCONT, then SIGKILL). After SIGINT/SIGTERM
// (run_interrupt.h) the group is stopped at once and the result is kCancelled.
//
// Thread-safety: RunProcessChain may run on several threads at once (each call owns its
// processes and pipes).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/status.h"

namespace zsend::orchestrator {

// How long the other stages may take to end once one failed.
inline constexpr int kChainGraceMs = 5000;

struct ChainStage {
  std::vector<std::string> argv;
  bool stderr_to_terminal = false;  // inherit the caller's stderr instead of capturing it
  // Not empty: the stage gets a pipe as its descriptor 3 (pass it `--progress-fd 3`), and each
  // line it writes there is given to this callback (without its newline), on the calling
  // thread, while the chain runs.
  std::function<void(const std::string&)> on_fd3_line = nullptr;
};

struct StageResult {
  int exit_code = -1;  // 0..255, 128 + signal, or 127 when the program could not be run
  std::string err;     // captured stderr (empty with stderr_to_terminal)
};

struct ChainResult {
  std::vector<StageResult> stages;
  std::string out;  // the last stage's stdout
  double seconds = 0;
  bool interrupted = false;  // stopped by SIGINT/SIGTERM (RunProcessChain then returns kCancelled)
  std::string stalled;       // "" or why the last stage was stopped (tail_seconds passed)
  // The first failed stage by position, or -1 when every stage exited 0.
  int FirstFailed() const;
};

// Runs the stages and waits for all of them; an error when the chain could not be started (no
// pipes, fork failed) or was interrupted (kCancelled; every stage is then stopped and reaped).
// `tail_seconds` > 0: once every stage but the last ended with 0 (the stream is all written),
// the last stage (a `zfs receive` committing it) gets that long to end; one that does not (stopped,
// hung on a far host) is stopped with the group, and ChainResult::stalled says so.
// `partner_ended`, polled while the chain runs: the other half of a transfer that runs outside the
// chain (the tcp receiver) has ended; the chain then gets kChainGraceMs to end on its own, as if
// one of its stages had failed, and is stopped after that (a SIGSTOPped sender never would end).
Result<ChainResult> RunProcessChain(const std::vector<ChainStage>& stages, double tail_seconds = 0,
                                    const std::function<bool()>& partner_ended = {});

}  // namespace zsend::orchestrator
