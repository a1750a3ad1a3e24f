// The exit codes of zsend's runs, one definition for the orchestrator and the CLI
// (tools/zsend/exit_codes.h adds the help text; docs/zsend.md documents them).
//
// backup and prune: the number of datasets that failed (at most kMaxFailureCount); kExitFatal for
// a fatal error before any dataset was touched (bad arguments, unreachable host, another run of
// the same job holding its lock); backup: kExitInterruptedBase + the signal when
// SIGINT/SIGTERM/SIGHUP stopped it, after its processes were stopped, its temporary files and
// keys removed and its history written. verify (orchestrator/verify/verify_run.h): the number of
// datasets that differ or could not be verified (at most kMaxFailureCount), kExitFatal as above.
// restore: kExitRestoreFailed when its stream failed (nothing usable was left behind);
// kExitFatal when nothing was sent (bad arguments, no such revision, an existing destination, a
// host unreachable). list: 0, or kExitFatal.
#pragma once

namespace zsend::orchestrator {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFatal = 255;
inline constexpr int kMaxFailureCount = 254;
inline constexpr int kExitInterruptedBase = 128;
inline constexpr int kExitRestoreFailed = 1;

}  // namespace zsend::orchestrator
