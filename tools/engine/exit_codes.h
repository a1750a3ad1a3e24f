// The exit codes of zsend-engine, one table for every subcommand and the mbuffer personality.
// Documented in --help (kExitCodeHelp) and in the README; tests check them.
#pragma once

#include "engine/pipeline.h"

namespace zsend::tool {

enum ExitCode : int {
  kExitOk = 0,
  kExitInternal = 1,       // a bug, or a failure with no better code
  kExitUsage = 2,          // bad option or value
  kExitInput = 3,          // reading the input failed (missing file, read error)
  kExitOutput = 4,         // writing the output failed (broken pipe, disk full)
  kExitNetwork = 5,        // connect/listen failed or the network peer went away
  kExitTimeout = 6,        // the watchdog expired: no byte moved for -W seconds
  kExitCorrupt = 7,        // --decompress: the compressed input is corrupt or truncated
  kExitResources = 10,     // memory could not be reserved or locked
  kExitInterrupted = 130,  // SIGINT (143 for SIGTERM: 128 + signal number)
};

inline constexpr const char* kExitCodeHelp =
    "Exit codes:\n"
    "  0    the whole stream was moved and the output accepted it\n"
    "  1    internal error\n"
    "  2    usage: bad option or value\n"
    "  3    input failed (missing file, read error)\n"
    "  4    output failed (broken pipe, disk full, write error)\n"
    "  5    network failed (connect/listen, peer went away)\n"
    "  6    watchdog: no data moved for -W seconds\n"
    "  7    compressed input is corrupt or truncated (--decompress)\n"
    "  10   memory could not be reserved or locked\n"
    "  130  stopped by SIGINT, 143 by SIGTERM\n";

}  // namespace zsend::tool
