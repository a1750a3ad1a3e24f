// The contract between zsend-engine and the programs that start it (the orchestrator, scripts):
// its exit codes, the announce line of `--listen --announce`, the `--json-stats` fields others
// read, the wire protocol version, and the `zsend-engine version --json` document that reports
// the program version, the protocol version and the engine's capabilities.
//
// Both sides include this one header: the engine writes these names and codes, the orchestrator
// reads them, so neither compares bare numbers or searches help text. The orchestrator asks a
// host's engine `version --json` once per run and checks it with MissingCapabilities();
// an engine older than this contract has no `version` subcommand (it exits kExitUsage).
// Plain constants and value functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace zsend::engine_contract {

inline constexpr const char* kProgramName = "zsend-engine";
inline constexpr const char* kProgramVersion = "0.1.0";
// The version byte of the wire preamble (docs/protocol.md section 3). Two engines talk only
// when theirs are equal.
inline constexpr int kProtocolVersion = 1;

// The exit codes of zsend-engine, one table for every subcommand and the mbuffer personality
// (listed in its --help and in the README).
enum ExitCode : int {
  kExitOk = 0,
  kExitInternal = 1,        // a bug, or a failure with no better code
  kExitUsage = 2,           // bad option or value (also: an unknown subcommand)
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

// The announce line: one JSON object on stdout, {"event":"listening","port":N,"pubkey":"..."}.
inline constexpr const char* kAnnounceEvent = "event";
inline constexpr const char* kAnnounceListening = "listening";  // the value of kAnnounceEvent
inline constexpr const char* kAnnouncePort = "port";
inline constexpr const char* kAnnouncePubkey = "pubkey";
// The line without its newline.
std::string FormatAnnounceLine(int port, const std::string& pubkey);

// --json-stats fields the orchestrator reads.
inline constexpr const char* kStatsStreamBytes = "stream_bytes";  // send/recv: stream bytes
inline constexpr const char* kStatsWireBytes = "wire_bytes";      // send/recv: frame bytes
inline constexpr const char* kStatsBytesOut = "bytes_out";        // buffer: bytes written

// The progress lines of `--progress-fd N` (send, recv, buffer): while the stream moves, one JSON
// object per line on descriptor N, a few times a second and once at the end:
//   {"event":"progress","stream_bytes":N,"seconds":S}
// stream_bytes counts the zfs stream itself (read from the producer by a sender, written to the
// consumer by a receiver, written out by a buffer); seconds since the transfer started.
inline constexpr const char* kProgressEvent = "progress";  // the value of kAnnounceEvent
inline constexpr const char* kProgressSeconds = "seconds";
struct ProgressReport {
  uint64_t stream_bytes = 0;
  double seconds = 0;
};
// The line without its newline.
std::string FormatProgressLine(const ProgressReport& report);
// An error (never an exception) when `line` is not a progress line.
Result<ProgressReport> ParseProgressLine(const std::string& line);

// Capability names in the version document.
// commands
inline constexpr const char* kCommandBuffer = "buffer";
inline constexpr const char* kCommandSend = "send";
inline constexpr const char* kCommandRecv = "recv";
inline constexpr const char* kCommandKeygen = "keygen";
inline constexpr const char* kCommandBench = "bench";
inline constexpr const char* kCommandVersion = "version";
// Sessions: many streams over a few connections (docs/protocol.md 5.8).
inline constexpr const char* kCommandServe = "serve";
inline constexpr const char* kCommandSession = "session";
// links of send/recv
inline constexpr const char* kTransportTcp = "tcp";      // --connect / --listen
inline constexpr const char* kTransportSsh = "ssh";      // --ssh: runs the far half over ssh
inline constexpr const char* kTransportStdio = "stdio";  // --stdio: the far half of --ssh
// send/recv options the orchestrator relies on
inline constexpr const char* kFeatureConnect = "connect";
inline constexpr const char* kFeatureListen = "listen";
inline constexpr const char* kFeatureAnnounce = "announce";
inline constexpr const char* kFeatureAuthorize = "authorize";
inline constexpr const char* kFeatureJsonStats = "json-stats";
inline constexpr const char* kFeatureTimeout = "timeout";
inline constexpr const char* kFeatureRateLimit = "rate-limit";
inline constexpr const char* kFeatureProgressFd = "progress-fd";

// What `zsend-engine version --json` reports, as one line of JSON:
//   {"program":"zsend-engine","version":"0.1.0","protocol":1,
//    "commands":["buffer",...],"transports":["tcp",...],"codecs":["none",...],
//    "features":["connect",...]}
struct EngineVersion {
  std::string program;
  std::string version;
  int protocol = 0;
  std::vector<std::string> commands;
  std::vector<std::string> transports;
  std::vector<std::string> codecs;
  std::vector<std::string> features;
};

// The document of an engine built from this tree (`codecs` as given: the engine lists its own).
EngineVersion ThisEngine(std::vector<std::string> codecs);

std::string FormatEngineVersion(const EngineVersion& version);
// An error (never an exception) naming what is missing or malformed.
Result<EngineVersion> ParseEngineVersion(const std::string& text);

// The capabilities the orchestrator's tcp, ssh and auto transports need that `version` lacks,
// as "kind name" words ("command keygen", "transport stdio"); empty when it has them all.
std::vector<std::string> MissingCapabilities(const EngineVersion& version);

}  // namespace zsend::engine_contract
