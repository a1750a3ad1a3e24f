// Test support: running the programs under test and real peers as child processes.
//
// Spawn() starts argv with the given fds as stdin/stdout/stderr (-1 = inherit /dev/null for
// stdin, a captured pipe for stdout/stderr when Run() is used). Results carry the exit code
// (128+signal when killed, like a shell), captured output and the child's peak RSS.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace zsend::test {

struct RunResult {
  int exit_code = -1;    // 0..255, or 128 + signal
  std::string out;       // captured stdout (Run only)
  std::string err;       // captured stderr
  long max_rss_kib = 0;  // peak resident set of the child (ru_maxrss)
  double seconds = 0;
};

struct SpawnOptions {
  int stdin_fd = -1;                       // -1: /dev/null
  int stdout_fd = -1;                      // -1: /dev/null
  int stderr_fd = -1;                      // -1: /dev/null
  std::map<std::string, std::string> env;  // added to the environment
  std::string argv0;  // run argv[0] from this path but with the given name (for "mbuffer")
};

// Starts argv[0] (looked up on PATH). Returns the pid; aborts the test process on failure.
pid_t Spawn(const std::vector<std::string>& argv, const SpawnOptions& options = {});

// Waits for pid; fills exit_code, max_rss_kib, seconds (since Spawn is unknown: 0).
RunResult Wait(pid_t pid);

// Runs argv to completion with `input` on stdin, capturing stdout and stderr.
RunResult Run(const std::vector<std::string>& argv, const std::string& input = "",
              const SpawnOptions& options = {});

// Runs "/bin/sh -c command", capturing output.
RunResult Shell(const std::string& command);

// Path of a program built by this tree (build/bin/NAME).
std::string BinPath(const std::string& name);
// Path of the mbuffer link in the build tree.
std::string MbufferLinkPath();

// True when CI=true: a missing prerequisite must fail the test, not skip it.
bool InCi();
// True when `program` is on PATH.
bool HaveProgram(const std::string& program);

}  // namespace zsend::test

// Skips the test when a prerequisite is missing, except in CI where it fails.
#define ZSEND_REQUIRE(condition, what)                                             \
  do {                                                                             \
    if (!(condition)) {                                                            \
      if (::zsend::test::InCi()) FAIL() << "missing prerequisite in CI: " << what; \
      GTEST_SKIP() << "missing prerequisite: " << what;                            \
    }                                                                              \
  } while (0)
