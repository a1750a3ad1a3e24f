// OutputArena: one output slot per ring block, for stages that write a block's transformed
// bytes somewhere else than the block itself (compressed or decompressed data).
//
// Like the Ring, the arena reserves all slots with one mmap (MAP_NORESERVE) and pages are
// committed only when a slot is written. Slots are indexed by Block::index, and the ring hands
// the most recently freed block out first, so the slots in use follow the ring's peak fill:
// resident memory is bounded by (peak ring fill) x (slot bytes actually written).
//
// Thread-safety: Slot() is const and may be called from any thread; each slot belongs to the
// thread that holds its block.
#pragma once

#include <cstddef>
#include <memory>

#include "base/status.h"
#include "engine/ring/ring.h"

namespace zsend {

class OutputArena {
 public:
  static Result<std::unique_ptr<OutputArena>> Create(size_t slots, size_t slot_bytes);
  ~OutputArena();
  OutputArena(const OutputArena&) = delete;
  OutputArena& operator=(const OutputArena&) = delete;

  size_t slots() const { return slots_; }
  size_t slot_bytes() const { return slot_bytes_; }
  // nullptr when index is out of range.
  std::byte* Slot(size_t index) const;

 private:
  OutputArena(std::byte* base, size_t mapped, size_t slots, size_t slot_bytes)
      : base_(base), mapped_(mapped), slots_(slots), slot_bytes_(slot_bytes) {}
  std::byte* base_;
  size_t mapped_;
  size_t slots_;
  size_t slot_bytes_;
};

// The number of blocks Ring::Create() makes for these options (0 when it would fail), and the
// block size it rounds to.
size_t RingBlockCount(const RingOptions& options);
size_t RingBlockBytes(const RingOptions& options);

}  // namespace zsend
