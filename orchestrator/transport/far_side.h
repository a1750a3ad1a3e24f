// What the orchestrator reads from a far host's stdout, framed and validated: never "the first
// line", which a shell startup file that prints something would have supplied.
//
// The tcp transport makes a fresh sender key on the source with kKeygenScript, which prints
// two marker lines, "zsend-keydir DIR" and "zsend-pubkey KEY", after anything a startup file
// printed. DIR must be a directory mktemp made for us: an absolute path whose last component
// is "zsend-key." and ten letters or digits, with no "." or ".." component. Only such a path is
// ever removed (rm -rf) afterwards, by kSendRemovingKeyDir around the sender, and by zsend. The
// receiver's announce line is the engine's JSON contract:
// {"event":"listening","port":1..65535,"pubkey":"zsend1:..."}; anything else is an error,
// never an exception.
#pragma once

#include <string>

#include "base/status.h"
#include "orchestrator/host/command_runner.h"

namespace zsend::orchestrator {

// sh -c kKeygenScript sh ENGINE
inline constexpr const char* kKeygenScript =
    "umask 077; d=$(mktemp -d \"${TMPDIR:-/tmp}/zsend-key.XXXXXXXXXX\") && "
    "\"$1\" keygen -o \"$d/key\" >/dev/null && "
    "printf 'zsend-keydir %s\\nzsend-pubkey %s\\n' \"$d\" \"$(cat \"$d/key.pub\")\"";

// sh -c kSendRemovingKeyDir sh KEYDIR SENDER-ARGV...: runs the sender, then prints its
// --json-stats file (KEYDIR/stats.json) on stdout and removes KEYDIR, whether or not anyone
// still reads: a zsend killed mid-run leaves no key on the source host, since the sender ends
// when its link to the (then stopped) receiver goes. Exits with the sender's exit code.
inline constexpr const char* kSendRemovingKeyDir =
    "d=$1; shift; \"$@\"; s=$?; cat \"$d/stats.json\" 2>/dev/null; rm -rf -- \"$d\"; exit $s";

struct FarKey {
  std::string dir;  // passed IsOurKeyDir
  std::string pub;  // "zsend1:..."
};

// The last marker lines of `out`; an error naming what was missing or malformed.
Result<FarKey> ParseKeygenOutput(const std::string& out);

// True for a directory kKeygenScript made (see above).
bool IsOurKeyDir(const std::string& dir);

// Makes a fresh key on `host` with kKeygenScript and `engine`; errors name the host.
Result<FarKey> MakeKey(CommandRunner& host, const std::string& engine);

// Removes a key directory MakeKey made on `host` (nothing else: IsOurKeyDir), best effort.
void RemoveKeyDir(CommandRunner& host, const std::string& dir);

struct Announce {
  int port = 0;
  std::string pubkey;
};

Result<Announce> ParseAnnounce(const std::string& line);

}  // namespace zsend::orchestrator
