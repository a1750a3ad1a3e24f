// Pipeline: moves one stream from a ByteSource through the Ring into a ByteSink.
//
//   source --reader thread--> Ring --(optional worker threads: BlockTransform)--> writer thread -->
//   sink
//
// The calling thread becomes the monitor: it reports progress, runs the watchdog, watches for a
// stop request and, when anything fails, aborts the ring and interrupts the stage threads until
// they have left any blocking system call. Run() returns only after every thread has ended.
//
// Failure attribution: the first failure wins and names its stage (input, output, transform,
// watchdog, stop), so the program can map it to an exit code. The sink's Finish() runs only when
// the whole stream arrived and nothing failed: a cut stream is never finished as if complete.
//
// Thread-safety: one Run() per Pipeline object.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/status.h"
#include "engine/ring/byte_stream.h"
#include "engine/ring/ring.h"

namespace zsend {

// Work done on each block between reader and writer (compression, sealing). Apply() is called
// concurrently from several worker threads, each with its own index in [0, workers).
class BlockTransform {
 public:
  virtual ~BlockTransform() = default;
  virtual Status Apply(Block& block, int worker) = 0;
};

// Work done by the writer thread on each block, in stream order, just before the block is
// written (resolving references to earlier blocks). May point block.out elsewhere.
class OrderedTransform {
 public:
  virtual ~OrderedTransform() = default;
  virtual Status Apply(Block& block) = 0;
};

// Decides where blocks end, for streams that must be cut at frame boundaries (the decoding
// side of a codec). Called from the reader thread only. Fill() reads from `source` (already
// metered: counted, digested and rate limited by the pipeline), sets block.size and
// block.out_flags, and returns true once the stream has ended (the block may still hold data).
class BlockReader {
 public:
  virtual ~BlockReader() = default;
  virtual Result<bool> Fill(ByteSource& source, Block& block) = 0;
};

struct PipelineProgress {
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  double elapsed_seconds = 0;
  double rate_in = 0;  // bytes/s over the last interval
  double rate_out = 0;
  double fill_percent = 0;
};

enum class PipelineStage { kNone, kInput, kTransform, kOutput, kWatchdog, kStopped };
const char* PipelineStageName(PipelineStage stage);

struct PipelineOptions {
  RingOptions ring;
  uint64_t read_rate = 0;       // bytes/s, 0 = unlimited (-r)
  uint64_t write_rate = 0;      // (-R)
  double watchdog_seconds = 0;  // 0 = off (-W)
  // Which stall trips the watchdog: any, or only one side's (the other side is a link with its
  // own idle timeout, so a slow link there is no stall).
  enum class WatchdogScope { kAny, kInput, kOutput };
  WatchdogScope watchdog_scope = WatchdogScope::kAny;
  std::string digest;  // "" or a Digest name; computed over the input stream
  BlockTransform* transform = nullptr;
  int workers = 0;                                // threads for `transform`
  OrderedTransform* ordered_transform = nullptr;  // run by the writer thread
  BlockReader* block_reader = nullptr;            // null: blocks are filled to capacity
  double progress_interval = 1.0;
  std::function<void(const PipelineProgress&)> on_progress;  // called from the monitor thread
  std::function<bool()> stop_requested;                      // polled by the monitor
};

struct PipelineResult {
  Status status;
  PipelineStage failed_stage = PipelineStage::kNone;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  double seconds = 0;
  RingStats ring;
  std::string digest_hex;  // empty unless options.digest was set and the stream completed
};

class Pipeline {
 public:
  explicit Pipeline(PipelineOptions options) : options_(std::move(options)) {}
  PipelineResult Run(ByteSource& source, ByteSink& sink);

 private:
  PipelineOptions options_;
};

}  // namespace zsend
