// Spawn: the one way zsend and zsend-engine start a program.
//
// Every child gets the same hygiene, so no program we start can outlive us or inherit what it
// should not:
//   - fds 0, 1 and 2 as asked (-1 keeps ours), and 3 when asked; every other descriptor is
//     closed on exec;
//   - every signal back to its default disposition and an empty signal mask (we ignore SIGPIPE
//     and block signals in threads; a `zfs recv` must see both as a fresh process would);
//   - optionally its own process group (or a given one), so a pipeline is stopped as a whole
//     with KillGroup() and a terminal's Ctrl-C reaches only us (we then stop the groups);
//   - a parent-death signal (PR_SET_PDEATHSIG, SIGKILL by default): when the thread that
//     started it dies, also with SIGKILL, the kernel kills the child. getppid() is checked after
//     setting it, which closes the race with a parent that died before. Call Spawn from a
//     thread that outlives the child (every caller waits for its children in the same thread).
// An exec failure is reported to the caller (exec_errno) through a close-on-exec pipe, not by
// a child that exits 127 with nothing said.
//
// Depends on nothing but libc. Thread-safety: Spawn may be called from several threads at once
// (only async-signal-safe calls run between fork and exec).
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <string>
#include <vector>

namespace zsend::base {

struct SpawnOptions {
  int stdin_fd = -1;   // -1: inherit ours
  int stdout_fd = -1;  // -1: inherit ours
  int stderr_fd = -1;  // -1: inherit ours
  int fd3 = -1;        // >= 0: becomes the child's descriptor 3 (a progress pipe); -1: none
  // 0: a new process group led by the child; > 0: join that group; -1: stay in ours.
  pid_t process_group = 0;
  int parent_death_signal = SIGKILL;  // 0: none
};

struct SpawnResult {
  pid_t pid = -1;      // > 0 when the program runs
  int fork_errno = 0;  // fork or pipe failed
  int exec_errno = 0;  // the program could not be run (ENOENT, EACCES...): pid is already reaped
  bool ok() const { return pid > 0; }
};

// Starts argv[0] (looked up on PATH) with argv.
SpawnResult Spawn(const std::vector<std::string>& argv, const SpawnOptions& options);

// Sends `signal` to the process group `pgid` and SIGCONT after it, so a stopped member acts on
// it (a stopped process ignores SIGTERM until continued). No-op for pgid <= 0.
void KillGroup(pid_t pgid, int signal);

// "exit 1" style code of a waitpid status: 0..255, 128 + signal when killed, -1 otherwise.
int ExitCodeOf(int wait_status);

}  // namespace zsend::base

namespace zsend::base {

// Stops a child that has not ended: SIGTERM (and SIGCONT) to its group `pgid` (or to `pid`
// alone when pgid <= 0), up to `grace_ms` for it to end, then SIGKILL. Returns its wait status.
int StopAndReap(pid_t pid, pid_t pgid, int grace_ms);

}  // namespace zsend::base
