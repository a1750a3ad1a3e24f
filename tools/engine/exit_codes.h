// The exit codes of zsend-engine, one table for every subcommand and the mbuffer personality.
// Documented in --help (kExitCodeHelp) and in the README; tests check them.
#pragma once

#include "engine/ring/pipeline.h"

namespace zsend::tool {

enum ExitCode : int {
  kExitOk = 0,
  kExitInternal = 1,        // a bug, or a failure with no better code
  kExitUsage = 2,           // bad option or value
  kExitInput = 3,           // reading the input failed (missing file, read error)
  kExitOutput = 4,          // writing the output failed (broken pipe, disk full)
  kExitNetwork = 5,         // connect/listen failed or the network peer went away
  kExitTimeout = 6,         // the watchdog expired, or the peer sent nothing for --timeout
  kExitCorrupt = 7,         // --decompress: the compressed input is corrupt or truncated
  kExitAuthentication = 8,  // send/recv: wrong or unauthorized key, tampered handshake
  kExitIntegrity = 9,       // send/recv: tampered, truncated or reordered stream, digest mismatch
  kExitResources = 10,      // memory could not be reserved or locked
  kExitConsumer = 11,       // send/recv: the consumer (zfs recv) failed, here or on the far side
  kExitProducer = 12,       // send/recv: the producer (zfs send) failed, here or on the far side
  kExitInterrupted = 130,   // SIGINT (143 for SIGTERM: 128 + signal number)
};

inline constexpr const char* kExitCodeHelp =
    "Exit codes:\n"
    "  0    the whole stream was moved and the output accepted it\n"
    "  1    internal error\n"
    "  2    usage: bad option or value\n"
    "  3    input failed (missing file, read error)\n"
    "  4    output failed (broken pipe, disk full, write error)\n"
    "  5    network failed (connect/listen, peer went away)\n"
    "  6    timeout: no data moved for -W seconds, or the peer sent nothing for --timeout\n"
    "  7    compressed input is corrupt or truncated (--decompress)\n"
    "  8    authentication failed (wrong or unauthorized key)\n"
    "  9    integrity: the stream was tampered with, truncated or reordered\n"
    "  10   memory could not be reserved or locked\n"
    "  11   the consumer (e.g. zfs recv) failed, on this or the far side\n"
    "  12   the producer (e.g. zfs send) failed, on this or the far side\n"
    "  130  stopped by SIGINT, 143 by SIGTERM\n";

}  // namespace zsend::tool
