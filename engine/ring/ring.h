// Ring: the engine's buffer, one reservation of memory split into equal blocks.
//
// The ring reserves `memory` bytes of address space with one mmap (MAP_NORESERVE) and commits
// pages only when data is written into them, so a 4 GiB ring moving 10 MiB costs about 10 MiB.
// Free blocks sit on a LIFO stack so the most recently used (already committed, cache-warm)
// block is reused first: resident memory follows the peak fill, not the ring size.
//
// Blocks move through three roles, each a separate thread or pool of threads:
//
//   producer:  AcquireFree() -> fill block->data -> Commit(block)
//   workers:   AcquireWork() -> transform       -> FinishWork(block)     (optional stage)
//   consumer:  AcquireNext() -> drain block     -> Release(block)
//
// Commit() stamps a sequence number; AcquireNext() hands blocks to the consumer strictly in that
// order, whatever order workers finish in. Without workers (`RingOptions::workers == false`) a
// committed block is at once ready for the consumer.
//
// Flow control, as mbuffer's -P/-p: the consumer waits, whenever the ring has run empty, until
// it is `start_write_percent` full again (or the input ended); the producer waits, whenever the
// ring has run full, until it has drained below `resume_read_percent`.
//
// CloseInput() marks the end of the stream: AcquireNext() returns nullptr once everything has
// been drained. Abort(status) stops every role at once: all Acquire*() calls return nullptr and
// status() reports the first abort reason.
//
// Thread-safety: every public method may be called from any thread; the state is guarded by one
// mutex (blocks are large, so the lock is taken a few thousand times per second at most).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "base/status.h"

namespace zsend {

struct RingOptions {
  uint64_t memory = 256ull << 20;    // total bytes, rounded down to whole blocks
  uint64_t block_size = 1ull << 20;  // rounded up to the page size
  bool lock = false;                 // mlock the whole reservation
  double start_write_percent = 0;    // -P
  double resume_read_percent = 100;  // -p
  bool workers = false;              // blocks pass through AcquireWork/FinishWork
};

struct Block {
  std::byte* data = nullptr;  // block_size bytes of ring memory
  size_t capacity = 0;
  size_t size = 0;        // bytes the producer filled
  uint64_t sequence = 0;  // stamped by Commit()
  // What the consumer writes; set by a worker (compressed form) or equal to data/size.
  const std::byte* out = nullptr;
  size_t out_size = 0;
  // Free for the worker stage to record how it transformed the block (codec, flags).
  uint32_t out_flags = 0;
  size_t index = 0;     // the block's fixed position in the ring, to key per-block side buffers
  uint64_t offset = 0;  // free for a BlockReader: where the block's data starts in its stream

 private:
  friend class Ring;
  enum class State { kFree, kFilling, kCommitted, kWorking, kReady, kDraining };
  State state_ = State::kFree;
};

struct RingStats {
  uint64_t blocks_total = 0;
  uint64_t peak_blocks_used = 0;
  double producer_wait_seconds = 0;  // time the producer waited for a free block (output slow)
  double consumer_wait_seconds = 0;  // time the consumer waited for data (input slow)
};

class Ring {
 public:
  // Reserves the memory. Fails with kResourceExhausted when mmap or mlock is refused, with a
  // message that names the limit and how to raise it.
  static Result<std::unique_ptr<Ring>> Create(const RingOptions& options);
  ~Ring();
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  size_t block_size() const { return block_size_; }
  size_t block_count() const { return blocks_.size(); }

  // Producer. Waits for a free block; nullptr after Abort() or CloseInput().
  Block* AcquireFree();
  // Hands a filled block on. A block with size 0 is simply returned to the free stack.
  void Commit(Block* block);
  // End of stream: no more Commit() calls follow.
  void CloseInput();

  // Workers (only when RingOptions::workers). Oldest committed block first; nullptr when the
  // input is closed and nothing is left to work on, or after Abort().
  Block* AcquireWork();
  void FinishWork(Block* block);

  // Consumer. The next block in sequence order once it is ready; nullptr at the end of the
  // stream or after Abort().
  Block* AcquireNext();
  void Release(Block* block);

  // Stops everyone. The first status wins; later calls are ignored.
  void Abort(const Status& status);
  bool aborted() const;
  Status status() const;

  // True while the consumer is blocked waiting for data: the producer then commits a partly
  // filled block at once instead of waiting to fill it, so slow streams keep flowing.
  bool consumer_starving() const;
  // True while the consumer is blocked in AcquireNext(), for lack of data or at the -P gate: a
  // stalled stream is then the input's fault, not the output's (the watchdog's message).
  bool consumer_waiting() const;

  // Blocks in use (filling, queued, being worked on or drained), for progress and fill %.
  size_t blocks_used() const;
  RingStats stats() const;

 private:
  Ring(std::byte* base, size_t mapped, size_t block_size, size_t count, const RingOptions& o);

  size_t UsedLocked() const { return blocks_.size() - free_.size(); }
  bool ConsumerGateOpenLocked() const;

  std::byte* const base_;
  const size_t mapped_bytes_;
  const size_t block_size_;
  const RingOptions options_;
  const size_t start_write_blocks_;  // consumer gate threshold
  const size_t resume_read_blocks_;  // producer gate threshold

  mutable std::mutex mu_;
  std::condition_variable free_cv_;   // producer waits here
  std::condition_variable work_cv_;   // workers wait here
  std::condition_variable ready_cv_;  // consumer waits here
  std::vector<Block> blocks_;         // guarded by mu_ (states)
  std::vector<Block*> free_;          // guarded by mu_, LIFO
  std::deque<Block*> in_order_;       // guarded by mu_, committed blocks by sequence
  std::deque<Block*> work_queue_;     // guarded by mu_, committed, awaiting a worker
  uint64_t next_sequence_ = 0;        // guarded by mu_
  bool input_closed_ = false;         // guarded by mu_
  bool producer_gate_open_ = true;    // guarded by mu_
  bool consumer_gate_open_ = true;    // guarded by mu_
  Status abort_status_;               // guarded by mu_
  bool aborted_ = false;              // guarded by mu_
  bool consumer_waiting_ = false;     // guarded by mu_
  RingStats stats_;                   // guarded by mu_
};

}  // namespace zsend
