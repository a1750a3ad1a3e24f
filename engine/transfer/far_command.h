// FarCommand: the one command a serving engine runs for a session stream, checked before it runs.
//
// A serving `zsend-engine serve` receives, from an authenticated but not fully trusted peer, the
// argv of the `zfs receive` or `zfs send` it should run for one stream (carried in the OPEN frame,
// docs/protocol.md). Authentication says who the peer is, not what it may touch, so the argv is
// checked against a fixed grammar: only `zfs receive` (receive role) or `zfs send` (send role),
// only the options listed in far_command.cpp, and every dataset it names at or below one of the
// roots the server was started with. Nothing is ever passed to a shell; the checked argv is
// run as it is (ChildProcess::Start), so what is checked is exactly what runs.
//
// Pure functions, no state: thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "base/status.h"

namespace zsend {

// The words of one command, as the OPEN frame of a session stream carries them
// (docs/protocol.md): u16 count, then per word u16 length + bytes, big-endian.
inline constexpr size_t kMaxCommandWords = 64;
inline constexpr size_t kMaxCommandWordBytes = 4096;
// `words` must keep the limits above (the decoder refuses what breaks them).
std::string EncodeCommandWords(const std::vector<std::string>& words);
// kDataLoss naming the problem: truncated, trailing bytes, count 0 or > kMaxCommandWords,
// a word longer than kMaxCommandWordBytes, a word containing a NUL byte.
Result<std::vector<std::string>> DecodeCommandWords(const std::string& payload);

enum class FarRole { kReceive, kSend };  // what the serving side may run

// Checks `words` (argv, words[0] the program) against the fixed grammar for `role`, every
// dataset name at or below one of `roots`. Returns the argv to run (equal to words), or
// kPermissionDenied with one line naming the refused word and why, e.g.
// "refused: 'zfs receive' target 'tank/other' is not below the served root 'pool/backup'".
Result<std::vector<std::string>> CheckFarCommand(const std::vector<std::string>& words,
                                                 FarRole role,
                                                 const std::vector<std::string>& roots);

// True for a valid dataset name without '@'/'#' (used to check the roots given on the command
// line): components of [A-Za-z0-9_.:-] and space joined by single '/', not starting with '-',
// at most 255 bytes.
bool IsValidDatasetName(const std::string& name);

}  // namespace zsend
