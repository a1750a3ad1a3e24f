// BufferJob: one run of the buffer (zsend-engine buffer, or the mbuffer personality).
//
// The two command lines fill the same struct; RunBufferJob() opens the ends, runs the
// pipeline, prints progress, the summary and the digest, writes --json-stats, and returns the
// exit code (exit_codes.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "engine/codec/codec_stage.h"
#include "engine/ring/fd_stream.h"
#include "engine/ring/pipeline.h"

namespace zsend::tool {

// Where the stream comes from or goes to.
struct Endpoint {
  enum class Kind { kStdio, kFile, kTcpListen, kTcpConnect };
  Kind kind = Kind::kStdio;
  std::string path;  // file, or [host:]port / host:port for TCP
};

struct BufferJob {
  std::string program = "zsend-engine buffer";  // prefix of messages
  Endpoint input;
  Endpoint output;
  bool overwrite_output = true;  // mbuffer refuses to overwrite unless -f
  PipelineOptions pipeline;
  FdStreamOptions io;
  uint64_t expected_size = 0;  // --size, for the ETA
  enum class Progress { kAuto, kOn, kOff } progress = Progress::kAuto;
  bool summary = true;         // the final summary line on stderr
  bool summary_in_log = true;  // ... and in the log file (mbuffer -l; -Q turns it off)
  std::string json_stats_path;
  int progress_fd = -1;    // --progress-fd: progress lines (engine_contract.h) there, -1 none
  int address_family = 0;  // AF_INET, AF_INET6 or 0 for either
  int tcp_buffer = 0;      // SO_SNDBUF/SO_RCVBUF, 0 = kernel default
  std::string log_path;    // mbuffer -l: messages go here as well
  std::optional<CodecStageOptions> codec;  // --compress / --decompress
};

int RunBufferJob(const BufferJob& job);

}  // namespace zsend::tool
