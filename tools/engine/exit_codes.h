// The exit codes of zsend-engine, one table for every subcommand and the mbuffer personality,
// as its --help lists them (kExitCodeHelp; also in the README); tests check them.
#pragma once

#include "base/engine_contract.h"
#include "engine/ring/pipeline.h"

namespace zsend::tool {

// The codes themselves are the engine contract's (base/engine_contract.h), shared with zsend.
using ExitCode = engine_contract::ExitCode;
using enum engine_contract::ExitCode;

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
