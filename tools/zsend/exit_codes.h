// The exit codes of zsend (documented in --help and docs/zsend.md).
//
// backup and prune: the number of datasets that failed (at most 254); 255 for a fatal error
// before any dataset was touched (bad arguments, unreachable host, another run of the same job
// holding its lock); backup: 128 + the signal when SIGINT/SIGTERM/SIGHUP stopped it. backup: a
// dataset whose transfer or rotation failed counts once; when the
// run's mail cannot be sent the code stays what the backup made it, but at least 1. check: the
// Nagios plugin codes (check.h). verify: the number of datasets that differ or could not be
// verified (at most 254), 255 fatal, 128 + the signal when stopped. restore: 0, 1 when its
// stream failed, 255 when nothing was sent. status, history, report, list, jobs: 0, or 255 on
// an error. daemon: 0 after SIGTERM/SIGINT, 255 when it cannot start.
#pragma once

#include "orchestrator/run/exit_codes.h"

namespace zsend::cli {

using orchestrator::kExitFatal;
using orchestrator::kExitInterruptedBase;
using orchestrator::kExitOk;
using orchestrator::kExitRestoreFailed;
using orchestrator::kMaxFailureCount;

inline constexpr const char* kExitCodeHelp =
    "Exit codes:\n"
    "  backup, prune: number of failed datasets (at most 254); 255 fatal error before any\n"
    "                 dataset (bad arguments, unreachable host, the job's lock is held);\n"
    "                 backup: at least 1 when its mail could not be sent; 130/143/129\n"
    "                 when stopped by SIGINT/SIGTERM/SIGHUP (history: interrupted)\n"
    "  verify:        number of datasets that differ or could not be verified (at most\n"
    "                 254); 255 fatal error before any dataset, 130/143/129 stopped (as\n"
    "                 backup)\n"
    "  check:         0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (Nagios plugin codes)\n"
    "  restore:       0 restored; 1 the stream failed (nothing usable left behind); 255\n"
    "                 nothing sent (bad arguments, no such revision, the destination\n"
    "                 exists, a host unreachable)\n"
    "  status, history, report, list: 0, or 255 on an error\n"
    "  daemon:        0 after SIGTERM/SIGINT; 255 when it cannot start (config, state, socket)\n"
    "  jobs:          0, or 255 when no daemon answers or it refuses the request\n";

}  // namespace zsend::cli
