// The exit codes of zsend (documented in --help).
//
// backup: the number of datasets that failed (at most 254); 255 for a fatal error before any
// dataset was touched (bad arguments, unreachable host).
#pragma once

namespace zsend::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitFatal = 255,
};

inline constexpr int kMaxFailureCount = 254;

inline constexpr const char* kExitCodeHelp =
    "Exit codes:\n"
    "  backup: number of failed datasets (at most 254); 255 fatal error before any\n"
    "          dataset (bad arguments, unreachable host)\n";

}  // namespace zsend::cli
