// Turning bench figures into settings: for a stream from a sending host to a receiving host over
// a link of known rate and round-trip time, the expected stream rate of each codec choice and
// the --codec, --threads, --memory and --block-size to use.
//
// Model (all rates in stream bytes/s): with ratio r = stream bytes / compressed bytes and T
// threads, the sender needs 1/compress + 1/(r*seal) seconds of CPU per stream byte, the
// receiver 1/decompress + 1/(r*open); the link carries link_rate*r stream bytes/s. The expected
// rate is the least of T/sender_cost, T/receiver_cost and link_rate*r; the pipe read rate bounds
// it too. Values only; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace zsend {

// What `zsend-engine bench` measured on one host (tools/engine/bench/stage_bench.h).
struct CodecFigure {
  std::string spec;            // "zstd:3"
  double ratio = 1;            // stream bytes / compressed bytes on the sample
  double compress_rate = 0;    // stream bytes/s, one thread
  double decompress_rate = 0;  // stream bytes/s, one thread
};

struct CpuFigures {
  int cores = 1;
  double pipe_read_rate = 0;  // bytes/s through a pipe (writer thread -> reader thread)
  double seal_aes_rate = 0;   // bytes/s sealing 1 MiB frames, one thread; 0 without AES-NI
  double seal_chacha_rate = 0;
  std::vector<CodecFigure> codecs;
  // The bulk cipher a session would pick here and its sealing rate.
  double SealRate() const;
};

struct CodecExpectation {
  std::string spec;
  double ratio = 1;
  double stream_rate = 0;  // expected stream bytes/s
  std::string limit;       // "link", "sender cpu", "receiver cpu", "pipe"
};

struct Advice {
  std::string codec;  // the best spec, e.g. "zstd:3"
  int threads = 1;
  uint64_t memory = 0;      // bytes
  uint64_t block_size = 0;  // bytes
  double expected_rate = 0;
  std::string limit;
  std::vector<CodecExpectation> choices;  // one per codec the sender measured
};

// Text forms of the CPU figures ("key value" lines), for the exchange and for tests.
std::string EncodeCpuFigures(const CpuFigures& cpu);
Result<CpuFigures> DecodeCpuFigures(const std::string& text);

// `link_rate` in bytes/s (wire bytes), `rtt` in seconds.
Advice Recommend(const CpuFigures& sender, const CpuFigures& receiver, double link_rate,
                 double rtt_seconds);

}  // namespace zsend
