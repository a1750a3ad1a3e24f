#include "engine/ring/output_arena.h"

#include <sys/mman.h>
#include <unistd.h>

#include "base/units.h"

namespace zsend {
namespace {

size_t PageSize() {
  return static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

size_t RoundUpToPage(size_t bytes) {
  const size_t page = PageSize();
  return (bytes + page - 1) / page * page;
}

}  // namespace

size_t RingBlockBytes(const RingOptions& options) {
  return RoundUpToPage(options.block_size);
}

size_t RingBlockCount(const RingOptions& options) {
  const size_t block = RingBlockBytes(options);
  return block == 0 ? 0 : options.memory / block;
}

Result<std::unique_ptr<OutputArena>> OutputArena::Create(size_t slots, size_t slot_bytes) {
  slot_bytes = RoundUpToPage(slot_bytes);
  const size_t mapped = slots * slot_bytes;
  if (mapped == 0) return InvalidArgument("output arena of zero bytes");
  void* base = mmap(nullptr, mapped, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) {
    return Status(StatusCode::kResourceExhausted,
                  "cannot reserve " + FormatBytes(static_cast<double>(mapped)) +
                      " of address space for codec output; lower --memory");
  }
  return std::unique_ptr<OutputArena>(
      new OutputArena(static_cast<std::byte*>(base), mapped, slots, slot_bytes));
}

OutputArena::~OutputArena() {
  munmap(base_, mapped_);
}

std::byte* OutputArena::Slot(size_t index) const {
  return index < slots_ ? base_ + index * slot_bytes_ : nullptr;
}

}  // namespace zsend
