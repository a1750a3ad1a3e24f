// Dedup: long-range duplicate elimination for network transfers (docs/protocol.md 5.2.1).
//
// Compression sees one block at a time, so it cannot notice that a block repeats data sent
// hundreds of megabytes earlier: the same library in two directories, a copied file, a VM image
// with repeated extents. The sender cuts each block into content-defined chunks (a gear rolling
// hash: 4 to 64 KiB, about 6 KiB on average), looks each chunk's XXH3-128 up in an index of the
// chunks sent in the last `window` bytes, and replaces a repeat by a reference, "copy LENGTH
// bytes from DISTANCE bytes before this block's start". The receiver keeps the last `window`
// bytes it wrote and resolves references in stream order. How chunks are cut is the sender's
// business; the wire only carries references, so the receiver never trusts a hash.
//
// Encoded form of one block (the frame's payload before compression, flag kFlagDedup):
//
//   count     u32 big-endian: number of references (at least 1)
//   refs      count x { at u32, length u32, distance u64 }, big-endian; the reference fills
//             output bytes [at, at + length) with the stream bytes that start `distance` bytes
//             before the block's first byte; `at` increases and references do not overlap
//   literals  the remaining output bytes, in order, filling the gaps between references
//
// A reference must lie wholly inside the window before the block: length <= distance <= window.
// The decoded block is at most the session's block size.
//
// Thread-safety: DedupIndex::Encode() may be called from many workers at once. DedupHistory is
// used by one thread, in stream order.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "base/status.h"

namespace zsend {

inline constexpr size_t kDedupRefSize = 16;
// The window a sender asks for unless told otherwise, and the largest one accepted.
inline constexpr uint64_t kDefaultDedupWindow = 128ull << 20;
inline constexpr uint64_t kMaxDedupWindow = 4ull << 30;

// The largest window, at most `cap`, that a receiver with `memory` bytes can hold beside a ring
// of four of the sender's blocks (`block_size`, framed and page-rounded) and the one-block
// expansion buffer; 0 when less than 1 MiB would be left.
uint64_t DedupWindowThatFits(uint64_t cap, uint64_t memory, uint64_t block_size);

class DedupIndex {
 public:
  explicit DedupIndex(uint64_t window);
  uint64_t window() const { return window_; }

  // Encodes payload[0, n), the block that starts at stream offset `start`, into out (capacity
  // at least n). Returns the encoded size, or 0 when nothing repeats (send the block as it is).
  // Adds the block's chunks to the index either way. Blocks may come in any order; a chunk is
  // only referenced from an earlier block still inside the window.
  size_t Encode(const std::byte* payload, size_t n, uint64_t start, std::byte* out);

  // Raw bytes replaced by references so far.
  uint64_t saved_bytes() const { return saved_.load(std::memory_order_relaxed); }

 private:
  struct Slot {
    uint64_t hash_lo = 0, hash_hi = 0;
    uint64_t offset = UINT64_MAX;  // stream offset of the chunk; UINT64_MAX: empty
    uint32_t length = 0;
  };
  const uint64_t window_;
  std::mutex mu_;
  std::vector<Slot> slots_;  // buckets of kWays slots, chosen by hash; guarded by mu_
  std::atomic<uint64_t> saved_{0};
};

class DedupHistory {
 public:
  DedupHistory(uint64_t window, size_t block_size);

  // Decodes an encoded block (see above) against the history. The result stays valid until the
  // next call. kDataLoss naming the fault for anything malformed or out of the window.
  Result<std::span<const std::byte>> Expand(const std::byte* in, size_t n);
  // Appends the next raw block of the stream (call for every block, in order).
  void Append(const std::byte* raw, size_t n);

 private:
  void CopyOut(uint64_t from, size_t n, std::byte* to) const;

  const uint64_t window_;
  // The last window_ bytes: stream offset s at s % window_. Not zeroed: only bytes already
  // appended are ever read, and the pages become resident as the stream fills them.
  std::unique_ptr<std::byte[]> ring_;
  uint64_t total_ = 0;          // stream bytes appended so far
  std::vector<std::byte> out_;  // block_size
};

}  // namespace zsend
